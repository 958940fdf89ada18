/**
 * NoteSequence: the one in-memory music type of polyrnn, with Magenta's field names
 * (note_seq/protobuf/music.proto, package `tensorflow.magenta`). Field numbers live in
 * src/io/notesequence_proto.ts; this file only describes the shape.
 *
 * Proto3 semantics: every scalar has a default (0, "", false) and a default is the same as absent.
 * Optional sub-messages (sourceInfo, quantizationInfo, subsequenceInfo, sequenceMetadata) are
 * `undefined` when absent.
 *
 * Times are in seconds from the start of the sequence; the `quantized…Step` fields are set in a
 * quantized sequence only (see {@link QuantizationInfo}).
 *
 * @module
 */

/** A note (NoteSequence.Note): a pitch held from `startTime` to `endTime`. */
export interface Note {
  /** MIDI pitch, 0 … 127 (60 = middle C). */
  pitch: number;
  /** MIDI velocity, 1 … 127. */
  velocity: number;
  /** Onset, in seconds. */
  startTime: number;
  /** Release, in seconds (after `startTime`). */
  endTime: number;
  /** Onset, in steps of a quantized sequence. */
  quantizedStartStep: number;
  /** Release, in steps of a quantized sequence. */
  quantizedEndStep: number;
  /** Notated length as a fraction of a whole note (1/4: a quarter note), from a score; 0 if unknown. */
  numerator: number;
  /** Denominator of the notated length (see `numerator`). */
  denominator: number;
  /** Instrument index: the notes of one MIDI track, channel and program share one. */
  instrument: number;
  /** MIDI program (General MIDI instrument), 0 … 127. */
  program: number;
  /** Whether the note is a drum hit (MIDI channel 10). */
  isDrum: boolean;
  /** Part index in a score (MusicXML); 0 otherwise. */
  part: number;
  /** Spelling of the pitch in a score (the `PitchName` enum of music.proto: F sharp or G flat); 0 if unknown. */
  pitchName: number;
  /** Notated voice in a score; 0 otherwise. */
  voice: number;
}

/** A time signature change (NoteSequence.TimeSignature). */
export interface TimeSignature {
  /** When it takes effect, in seconds. */
  time: number;
  /** Beats per measure (3 in 3/4). */
  numerator: number;
  /** Beat unit (4 in 3/4). */
  denominator: number;
}

/**
 * Key modes (NoteSequence.KeySignature.Mode).
 *
 * @enum
 */
export const KeyMode = {
  /** Major (Ionian). */
  MAJOR: 0,
  /** Minor (Aeolian). */
  MINOR: 1,
  /** Mode not given. */
  NOT_SPECIFIED: 2,
  /** Mixolydian. */
  MIXOLYDIAN: 3,
  /** Dorian. */
  DORIAN: 4,
  /** Phrygian. */
  PHRYGIAN: 5,
  /** Lydian. */
  LYDIAN: 6,
  /** Locrian. */
  LOCRIAN: 7,
} as const;

/** A key signature change: `key` is the tonic's pitch class (0 = C). */
export interface KeySignature {
  /** When it takes effect, in seconds. */
  time: number;
  /** Pitch class of the tonic, 0 = C … 11 = B. */
  key: number;
  /** A {@link KeyMode} value. */
  mode: number;
}

/** A tempo change, in quarter notes per minute. */
export interface Tempo {
  /** When it takes effect, in seconds. */
  time: number;
  /** Quarter notes per minute. */
  qpm: number;
}

/** A MIDI pitch bend event. */
export interface PitchBend {
  /** When it happens, in seconds. */
  time: number;
  /** -8192 … 8191 */
  bend: number;
  /** Instrument index, as in {@link Note.instrument}. */
  instrument: number;
  /** MIDI program of the instrument. */
  program: number;
  /** Whether it is on the drum channel. */
  isDrum: boolean;
}

/** A MIDI control change event. */
export interface ControlChange {
  /** When it happens, in seconds. */
  time: number;
  /** When it happens, in steps of a quantized sequence. */
  quantizedStep: number;
  /** MIDI controller number, 0 … 127 (64: sustain pedal). */
  controlNumber: number;
  /** Controller value, 0 … 127. */
  controlValue: number;
  /** Instrument index, as in {@link Note.instrument}. */
  instrument: number;
  /** MIDI program of the instrument. */
  program: number;
  /** Whether it is on the drum channel. */
  isDrum: boolean;
}

/** A part's name (MusicXML). */
export interface PartInfo {
  /** Part index, as in {@link Note.part}. */
  part: number;
  /** The part's name in the score. */
  name: string;
}

/** An instrument's name (the MIDI track name). */
export interface InstrumentInfo {
  /** Instrument index, as in {@link Note.instrument}. */
  instrument: number;
  /** The MIDI track's name. */
  name: string;
}

/**
 * SourceInfo.SourceType values.
 *
 * @enum
 */
export const SourceType = {
  /** Not known. */
  UNKNOWN_SOURCE_TYPE: 0,
  /** A score: notated lengths, parts and voices (MusicXML, ABC). */
  SCORE_BASED: 1,
  /** A performance: played times and velocities (MIDI). */
  PERFORMANCE_BASED: 2,
} as const;
/**
 * SourceInfo.EncodingType values: the format the sequence was read from.
 *
 * @enum
 */
export const EncodingType = {
  /** Not known. */
  UNKNOWN_ENCODING_TYPE: 0,
  /** MusicXML (`.xml`, `.musicxml`, `.mxl`). */
  MUSIC_XML: 1,
  /** ABC notation. */
  ABC: 2,
  /** Standard MIDI file. */
  MIDI: 3,
  /** The MusicNet data set. */
  MUSICNET: 4,
} as const;
/**
 * SourceInfo.Parser values: the library that read the sequence.
 *
 * @enum
 */
export const Parser = {
  /** Not known. */
  UNKNOWN_PARSER: 0,
  /** music21 (Python). */
  MUSIC21: 1,
  /** pretty_midi (Python; Magenta's MIDI reader, whose output `readMidi` matches). */
  PRETTY_MIDI: 2,
  /** Magenta's MusicXML reader (matched by `readMusicXml`). */
  MAGENTA_MUSIC_XML: 3,
  /** Magenta's MusicNet reader. */
  MAGENTA_MUSICNET: 4,
  /** Magenta's ABC reader (matched by `readAbcTunebook`). */
  MAGENTA_ABC: 5,
  /** Tone.js's MIDI converter (Magenta.js). */
  TONEJS_MIDI_CONVERT: 6,
} as const;

/** Where a sequence came from: its kind, format and parser. */
export interface SourceInfo {
  /** A {@link SourceType} value: a score or a performance. */
  sourceType: number;
  /** An {@link EncodingType} value: the file format. */
  encodingType: number;
  /** A {@link Parser} value: the library that read it. */
  parser: number;
}

/**
 * TextAnnotation.AnnotationType values.
 *
 * @enum
 */
export const TextAnnotationType = {
  /** Any other text. */
  UNKNOWN: 0,
  /** A chord symbol, such as `"Cmaj7"`. */
  CHORD_SYMBOL: 1,
  /** A beat position. */
  BEAT: 2,
} as const;

/** A text annotation (a chord symbol, a beat). */
export interface TextAnnotation {
  /** When it applies, in seconds. */
  time: number;
  /** When it applies, in steps of a quantized sequence. */
  quantizedStep: number;
  /** The text (a chord symbol such as `"Cmaj7"`). */
  text: string;
  /** A {@link TextAnnotationType} value. */
  annotationType: number;
}

/** Exactly one of the two is non-zero in a quantized sequence (a proto3 oneof). */
export interface QuantizationInfo {
  /** Steps per quarter note (metrical quantization; polyrnn uses 4). */
  stepsPerQuarter: number;
  /** Steps per second (absolute quantization). */
  stepsPerSecond: number;
}

/** Where a subsequence was cut from its parent (seconds). */
export interface SubsequenceInfo {
  /** Seconds of the parent before this subsequence's start. */
  startTimeOffset: number;
  /** Seconds of the parent after this subsequence's end. */
  endTimeOffset: number;
}

/** The start of a section. */
export interface SectionAnnotation {
  /** When the section starts, in seconds. */
  time: number;
  /** The section's id, referred to by {@link Section.sectionId}. */
  sectionId: number;
}

/** Either a section id or a nested group (a proto3 oneof). */
export interface Section {
  /** A section, by its {@link SectionAnnotation.sectionId}. */
  sectionId?: number;
  /** A nested group of sections. */
  sectionGroup?: SectionGroup;
}

/** Sections played in order, `numTimes` times (repeats). */
export interface SectionGroup {
  /** The sections, in playing order. */
  sections: Section[];
  /** How many times the group is played. */
  numTimes: number;
}

/** Title, artist, genres and composers. */
export interface SequenceMetadata {
  /** Title of the piece. */
  title: string;
  /** Performer or arranger. */
  artist: string;
  /** Genres. */
  genre: string[];
  /** Composers. */
  composers: string[];
}

/** Magenta's NoteSequence (note_seq's `music.proto`), with camelCase field names as in Magenta.js. */
export interface NoteSequence {
  /** Unique id; `polyrnn convert` gives `/id/<kind>/<collection>/<SHA-1 of the file name>`. */
  id: string;
  /** Name of the file it was read from. */
  filename: string;
  /** Which piece of a file holding several it is (the `X:` number of an ABC tune). */
  referenceNumber: number;
  /** Name of the collection the file belongs to (`polyrnn convert` takes the input folder's name). */
  collectionName: string;
  /** MIDI resolution of the source file, in ticks per quarter note. */
  ticksPerQuarter: number;
  /** Time signature changes, in time order. */
  timeSignatures: TimeSignature[];
  /** Key signature changes, in time order. */
  keySignatures: KeySignature[];
  /** Tempo changes, in time order. */
  tempos: Tempo[];
  /** The notes. */
  notes: Note[];
  /** End of the last note, in seconds. */
  totalTime: number;
  /** Length in steps of a quantized sequence. */
  totalQuantizedSteps: number;
  /** MIDI pitch bends. */
  pitchBends: PitchBend[];
  /** MIDI control changes (pedals, volume, …). */
  controlChanges: ControlChange[];
  /** Names of the score's parts. */
  partInfos: PartInfo[];
  /** Where the sequence came from; `undefined` if unknown. */
  sourceInfo?: SourceInfo;
  /** Chord symbols and other text. */
  textAnnotations: TextAnnotation[];
  /** Section starts. */
  sectionAnnotations: SectionAnnotation[];
  /** Section order, with repeats. */
  sectionGroups: SectionGroup[];
  /** Set in a quantized sequence; `undefined` otherwise. */
  quantizationInfo?: QuantizationInfo;
  /** Set in a subsequence cut from a longer one; `undefined` otherwise. */
  subsequenceInfo?: SubsequenceInfo;
  /** Title, artist, genres and composers; `undefined` if none. */
  sequenceMetadata?: SequenceMetadata;
  /** Names of the instruments (MIDI track names). */
  instrumentInfos: InstrumentInfo[];
  /** Field 24 of music.proto, carried through as read (polyrnn does not use it). */
  fingering: number;
}

/** Default-valued parts, so that callers can write `createNote({ pitch: 60, ... })`. */
export function createNote(fields: Partial<Note> = {}): Note {
  return {
    pitch: 0,
    velocity: 0,
    startTime: 0,
    endTime: 0,
    quantizedStartStep: 0,
    quantizedEndStep: 0,
    numerator: 0,
    denominator: 0,
    instrument: 0,
    program: 0,
    isDrum: false,
    part: 0,
    pitchName: 0,
    voice: 0,
    ...fields,
  };
}

/** A NoteSequence with every field at its default, overridden by `fields`. */
export function createNoteSequence(fields: Partial<NoteSequence> = {}): NoteSequence {
  return {
    id: "",
    filename: "",
    referenceNumber: 0,
    collectionName: "",
    ticksPerQuarter: 0,
    timeSignatures: [],
    keySignatures: [],
    tempos: [],
    notes: [],
    totalTime: 0,
    totalQuantizedSteps: 0,
    pitchBends: [],
    controlChanges: [],
    partInfos: [],
    sourceInfo: undefined,
    textAnnotations: [],
    sectionAnnotations: [],
    sectionGroups: [],
    quantizationInfo: undefined,
    subsequenceInfo: undefined,
    sequenceMetadata: undefined,
    instrumentInfos: [],
    fingering: 0,
    ...fields,
  };
}

/**
 * Deep copy. Written out field by field because it is on the dataset pipeline's hot path (every split,
 * quantization and transposition copies), where structuredClone is several times slower.
 */
export function cloneNoteSequence(ns: NoteSequence): NoteSequence {
  const copyAll = <T extends object>(list: T[]): T[] => list.map((x) => ({ ...x }));
  return {
    ...ns,
    timeSignatures: copyAll(ns.timeSignatures),
    keySignatures: copyAll(ns.keySignatures),
    tempos: copyAll(ns.tempos),
    notes: copyAll(ns.notes),
    pitchBends: copyAll(ns.pitchBends),
    controlChanges: copyAll(ns.controlChanges),
    partInfos: copyAll(ns.partInfos),
    sourceInfo: ns.sourceInfo && { ...ns.sourceInfo },
    textAnnotations: copyAll(ns.textAnnotations),
    sectionAnnotations: copyAll(ns.sectionAnnotations),
    sectionGroups: structuredClone(ns.sectionGroups),
    quantizationInfo: ns.quantizationInfo && { ...ns.quantizationInfo },
    subsequenceInfo: ns.subsequenceInfo && { ...ns.subsequenceInfo },
    sequenceMetadata: ns.sequenceMetadata && {
      ...ns.sequenceMetadata,
      genre: [...ns.sequenceMetadata.genre],
      composers: [...ns.sequenceMetadata.composers],
    },
    instrumentInfos: copyAll(ns.instrumentInfos),
  };
}
