/**
 * NoteSequence: the one in-memory music type of polyrnn, with Magenta's field names
 * (note_seq/protobuf/music.proto, package `tensorflow.magenta`). Field numbers live in
 * src/io/notesequence_proto.ts; this file only describes the shape.
 *
 * Proto3 semantics: every scalar has a default (0, "", false) and a default is the same as absent.
 * Optional sub-messages (sourceInfo, quantizationInfo, subsequenceInfo, sequenceMetadata) are
 * `undefined` when absent.
 */

export interface Note {
  pitch: number;
  velocity: number;
  startTime: number;
  endTime: number;
  quantizedStartStep: number;
  quantizedEndStep: number;
  numerator: number;
  denominator: number;
  instrument: number;
  program: number;
  isDrum: boolean;
  part: number;
  pitchName: number;
  voice: number;
}

/** A time signature change (NoteSequence.TimeSignature). */
export interface TimeSignature {
  time: number;
  numerator: number;
  denominator: number;
}

/** Key modes (NoteSequence.KeySignature.Mode). */
export const KeyMode = {
  MAJOR: 0,
  MINOR: 1,
  NOT_SPECIFIED: 2,
  MIXOLYDIAN: 3,
  DORIAN: 4,
  PHRYGIAN: 5,
  LYDIAN: 6,
  LOCRIAN: 7,
} as const;

/** A key signature change: `key` is the tonic's pitch class (0 = C). */
export interface KeySignature {
  time: number;
  /** Pitch class of the tonic, 0 = C … 11 = B. */
  key: number;
  mode: number;
}

/** A tempo change, in quarter notes per minute. */
export interface Tempo {
  time: number;
  qpm: number;
}

/** A MIDI pitch bend event. */
export interface PitchBend {
  time: number;
  /** -8192 … 8191 */
  bend: number;
  instrument: number;
  program: number;
  isDrum: boolean;
}

/** A MIDI control change event. */
export interface ControlChange {
  time: number;
  quantizedStep: number;
  controlNumber: number;
  controlValue: number;
  instrument: number;
  program: number;
  isDrum: boolean;
}

/** A part's name (MusicXML). */
export interface PartInfo {
  part: number;
  name: string;
}

/** An instrument's name (the MIDI track name). */
export interface InstrumentInfo {
  instrument: number;
  name: string;
}

/** SourceInfo.SourceType values. */
export const SourceType = { UNKNOWN_SOURCE_TYPE: 0, SCORE_BASED: 1, PERFORMANCE_BASED: 2 } as const;
/** SourceInfo.EncodingType values: the format the sequence was read from. */
export const EncodingType = { UNKNOWN_ENCODING_TYPE: 0, MUSIC_XML: 1, ABC: 2, MIDI: 3, MUSICNET: 4 } as const;
/** SourceInfo.Parser values: the library that read the sequence. */
export const Parser = {
  UNKNOWN_PARSER: 0,
  MUSIC21: 1,
  PRETTY_MIDI: 2,
  MAGENTA_MUSIC_XML: 3,
  MAGENTA_MUSICNET: 4,
  MAGENTA_ABC: 5,
  TONEJS_MIDI_CONVERT: 6,
} as const;

/** Where a sequence came from: its kind, format and parser. */
export interface SourceInfo {
  sourceType: number;
  encodingType: number;
  parser: number;
}

/** TextAnnotation.AnnotationType values. */
export const TextAnnotationType = { UNKNOWN: 0, CHORD_SYMBOL: 1, BEAT: 2 } as const;

/** A text annotation (a chord symbol, a beat). */
export interface TextAnnotation {
  time: number;
  quantizedStep: number;
  text: string;
  annotationType: number;
}

/** Exactly one of the two is non-zero in a quantized sequence (a proto3 oneof). */
export interface QuantizationInfo {
  stepsPerQuarter: number;
  stepsPerSecond: number;
}

/** Where a subsequence was cut from its parent (seconds). */
export interface SubsequenceInfo {
  startTimeOffset: number;
  endTimeOffset: number;
}

/** The start of a section. */
export interface SectionAnnotation {
  time: number;
  sectionId: number;
}

/** Either a section id or a nested group (a proto3 oneof). */
export interface Section {
  sectionId?: number;
  sectionGroup?: SectionGroup;
}

/** Sections played in order, `numTimes` times (repeats). */
export interface SectionGroup {
  sections: Section[];
  numTimes: number;
}

/** Title, artist, genres and composers. */
export interface SequenceMetadata {
  title: string;
  artist: string;
  genre: string[];
  composers: string[];
}

/** Magenta's NoteSequence (note_seq's `music.proto`), with camelCase field names as in Magenta.js. */
export interface NoteSequence {
  id: string;
  filename: string;
  referenceNumber: number;
  collectionName: string;
  ticksPerQuarter: number;
  timeSignatures: TimeSignature[];
  keySignatures: KeySignature[];
  tempos: Tempo[];
  notes: Note[];
  totalTime: number;
  totalQuantizedSteps: number;
  pitchBends: PitchBend[];
  controlChanges: ControlChange[];
  partInfos: PartInfo[];
  sourceInfo?: SourceInfo;
  textAnnotations: TextAnnotation[];
  sectionAnnotations: SectionAnnotation[];
  sectionGroups: SectionGroup[];
  quantizationInfo?: QuantizationInfo;
  subsequenceInfo?: SubsequenceInfo;
  sequenceMetadata?: SequenceMetadata;
  instrumentInfos: InstrumentInfo[];
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
