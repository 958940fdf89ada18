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

export interface TimeSignature {
  time: number;
  numerator: number;
  denominator: number;
}

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

export interface KeySignature {
  time: number;
  /** Pitch class of the tonic, 0 = C … 11 = B. */
  key: number;
  mode: number;
}

export interface Tempo {
  time: number;
  qpm: number;
}

export interface PitchBend {
  time: number;
  /** -8192 … 8191 */
  bend: number;
  instrument: number;
  program: number;
  isDrum: boolean;
}

export interface ControlChange {
  time: number;
  quantizedStep: number;
  controlNumber: number;
  controlValue: number;
  instrument: number;
  program: number;
  isDrum: boolean;
}

export interface PartInfo {
  part: number;
  name: string;
}

export interface InstrumentInfo {
  instrument: number;
  name: string;
}

export const SourceType = { UNKNOWN_SOURCE_TYPE: 0, SCORE_BASED: 1, PERFORMANCE_BASED: 2 } as const;
export const EncodingType = { UNKNOWN_ENCODING_TYPE: 0, MUSIC_XML: 1, ABC: 2, MIDI: 3, MUSICNET: 4 } as const;
export const Parser = {
  UNKNOWN_PARSER: 0,
  MUSIC21: 1,
  PRETTY_MIDI: 2,
  MAGENTA_MUSIC_XML: 3,
  MAGENTA_MUSICNET: 4,
  MAGENTA_ABC: 5,
  TONEJS_MIDI_CONVERT: 6,
} as const;

export interface SourceInfo {
  sourceType: number;
  encodingType: number;
  parser: number;
}

export const TextAnnotationType = { UNKNOWN: 0, CHORD_SYMBOL: 1, BEAT: 2 } as const;

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

export interface SubsequenceInfo {
  startTimeOffset: number;
  endTimeOffset: number;
}

export interface SectionAnnotation {
  time: number;
  sectionId: number;
}

/** Either a section id or a nested group (a proto3 oneof). */
export interface Section {
  sectionId?: number;
  sectionGroup?: SectionGroup;
}

export interface SectionGroup {
  sections: Section[];
  numTimes: number;
}

export interface SequenceMetadata {
  title: string;
  artist: string;
  genre: string[];
  composers: string[];
}

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
