/**
 * JSON codec in the shape Magenta.js uses for `INoteSequence` (protobuf.js objects): camelCase field
 * names, default values omitted, numbers for numbers. Reading is lenient in the ways Magenta.js output
 * varies: int64 fields may be numeric strings (protobuf.js `toJSON` writes longs as strings), enums
 * may be names ("MIDI", "PRETTY_MIDI", "MINOR") or numbers, and missing fields take their defaults.
 * It reads Magenta.js's objects as they are, too (`NoteSequence.create`/`fromObject` and plain
 * `INoteSequence` literals): protobuf.js `Long` int64 values, and null sub-messages.
 */
import { ProtobufError } from "../errors.js";
import {
  createNote,
  createNoteSequence,
  EncodingType,
  KeyMode,
  type NoteSequence,
  Parser,
  type Section,
  type SectionGroup,
  SourceType,
  TextAnnotationType,
} from "../notesequence.js";

type Json = Record<string, unknown>;

/** An int64 as Magenta.js may hold it: a number, a decimal string, or a protobuf.js `Long`. */
export type Int64Like =
  | number
  | string
  | {
      /** The low 32 bits (protobuf.js `Long`). */
      low: number;
      /** The high 32 bits. */
      high: number;
      /** Whether the value is unsigned. */
      unsigned?: boolean;
    };

/**
 * A NoteSequence as Magenta.js has them (`INoteSequence`: every field optional or null, int64 fields as
 * `Long`), or polyrnn's own. Functions that take one read it with `noteSequenceFromJson`.
 */
export interface NoteSequenceLike {
  /** As {@link NoteSequence.id}. */
  id?: string | null;
  /** As {@link NoteSequence.notes}: `INote` objects, with Magenta.js's field names. */
  notes?: readonly object[] | null;
  /** As {@link NoteSequence.tempos}. */
  tempos?: readonly object[] | null;
  /** As {@link NoteSequence.timeSignatures}. */
  timeSignatures?: readonly object[] | null;
  /** As {@link NoteSequence.keySignatures}. */
  keySignatures?: readonly object[] | null;
  /** As {@link NoteSequence.totalTime}. */
  totalTime?: number | null;
  /** As {@link NoteSequence.totalQuantizedSteps}. */
  totalQuantizedSteps?: Int64Like | null;
  /** As {@link NoteSequence.ticksPerQuarter}. */
  ticksPerQuarter?: number | null;
  /** As {@link NoteSequence.quantizationInfo}. */
  quantizationInfo?: object | null;
}

/** Drops default values (0, "", false, [], undefined) recursively, as protobuf.js toObject does. */
function compact(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(compact);
  if (value !== null && typeof value === "object") {
    const out: Json = {};
    for (const [k, v] of Object.entries(value)) {
      if (v === undefined || v === 0 || v === "" || v === false) continue;
      if (Array.isArray(v) && v.length === 0) continue;
      out[k] = compact(v);
    }
    return out;
  }
  return value;
}

/** A NoteSequence as Magenta.js's JSON object (`toJSON` shape): camelCase names, defaults left out. */
export function noteSequenceToJson(ns: NoteSequence): Record<string, unknown> {
  const out = compact(ns) as Json;
  // Sub-messages are kept even when all their fields are default, since their presence means something.
  if (ns.quantizationInfo) out.quantizationInfo = compact(ns.quantizationInfo);
  if (ns.sourceInfo) out.sourceInfo = compact(ns.sourceInfo);
  if (ns.subsequenceInfo) out.subsequenceInfo = compact(ns.subsequenceInfo);
  if (ns.sequenceMetadata) out.sequenceMetadata = compact(ns.sequenceMetadata);
  return out;
}

function fail(path: string, want: string, got: unknown): never {
  throw new ProtobufError(`not a NoteSequence JSON: ${path} should be ${want}, got ${JSON.stringify(got)}`);
}

function num(v: unknown, path: string): number {
  if (v === undefined || v === null) return 0;
  if (typeof v === "number" && Number.isFinite(v)) return v;
  if (typeof v === "object" && typeof (v as Json).low === "number" && typeof (v as Json).high === "number") {
    // protobuf.js Long: two 32-bit halves (the high one signed unless `unsigned`).
    const { low, high, unsigned } = v as { low: number; high: number; unsigned?: boolean };
    return (unsigned ? high >>> 0 : high | 0) * 2 ** 32 + (low >>> 0);
  }
  if (typeof v === "string" && v.trim() !== "" && Number.isFinite(Number(v))) return Number(v);
  return fail(path, "a number", v);
}

function str(v: unknown, path: string): string {
  if (v === undefined || v === null) return "";
  if (typeof v === "string") return v;
  return fail(path, "a string", v);
}

function bool(v: unknown, path: string): boolean {
  if (v === undefined || v === null) return false;
  if (typeof v === "boolean") return v;
  return fail(path, "true or false", v);
}

function enumValue(v: unknown, names: Record<string, number>, path: string): number {
  if (typeof v === "string" && v in names) return names[v];
  return num(v, path);
}

function list(v: unknown, path: string): Json[] {
  if (v === undefined || v === null) return [];
  if (!Array.isArray(v)) return fail(path, "a list", v);
  return v.map((item, i) => obj(item, `${path}[${i}]`));
}

function obj(v: unknown, path: string): Json {
  if (v !== null && typeof v === "object" && !Array.isArray(v)) return v as Json;
  return fail(path, "an object", v);
}

function sectionGroupFromJson(g: Json, path: string): SectionGroup {
  return {
    numTimes: num(g.numTimes, `${path}.numTimes`),
    sections: list(g.sections, `${path}.sections`).map((s, i): Section => {
      if (s.sectionGroup !== undefined && s.sectionGroup !== null) {
        return { sectionGroup: sectionGroupFromJson(obj(s.sectionGroup, `${path}.sections[${i}]`), path) };
      }
      return { sectionId: num(s.sectionId, `${path}.sections[${i}].sectionId`) };
    }),
  };
}

/**
 * Reads a NoteSequence from its JSON object (Magenta.js's `toJSON`/`toObject` shape), or from a
 * Magenta.js NoteSequence object as it is; always returns a new, complete polyrnn NoteSequence.
 */
export function noteSequenceFromJson(input: unknown): NoteSequence {
  const j = obj(input, "NoteSequence");
  const ns = createNoteSequence({
    id: str(j.id, "id"),
    filename: str(j.filename, "filename"),
    referenceNumber: num(j.referenceNumber, "referenceNumber"),
    collectionName: str(j.collectionName, "collectionName"),
    ticksPerQuarter: num(j.ticksPerQuarter, "ticksPerQuarter"),
    totalTime: num(j.totalTime, "totalTime"),
    totalQuantizedSteps: num(j.totalQuantizedSteps, "totalQuantizedSteps"),
    fingering: num(j.fingering, "fingering"),
  });
  ns.timeSignatures = list(j.timeSignatures, "timeSignatures").map((t, i) => ({
    time: num(t.time, `timeSignatures[${i}].time`),
    numerator: num(t.numerator, `timeSignatures[${i}].numerator`),
    denominator: num(t.denominator, `timeSignatures[${i}].denominator`),
  }));
  ns.keySignatures = list(j.keySignatures, "keySignatures").map((k, i) => ({
    time: num(k.time, `keySignatures[${i}].time`),
    key: enumValue(k.key, KEY_NAMES, `keySignatures[${i}].key`),
    mode: enumValue(k.mode, KeyMode, `keySignatures[${i}].mode`),
  }));
  ns.tempos = list(j.tempos, "tempos").map((t, i) => ({
    time: num(t.time, `tempos[${i}].time`),
    qpm: num(t.qpm, `tempos[${i}].qpm`),
  }));
  ns.notes = list(j.notes, "notes").map((n, i) => {
    const p = `notes[${i}]`;
    return createNote({
      pitch: num(n.pitch, `${p}.pitch`),
      velocity: num(n.velocity, `${p}.velocity`),
      startTime: num(n.startTime, `${p}.startTime`),
      endTime: num(n.endTime, `${p}.endTime`),
      quantizedStartStep: num(n.quantizedStartStep, `${p}.quantizedStartStep`),
      quantizedEndStep: num(n.quantizedEndStep, `${p}.quantizedEndStep`),
      numerator: num(n.numerator, `${p}.numerator`),
      denominator: num(n.denominator, `${p}.denominator`),
      instrument: num(n.instrument, `${p}.instrument`),
      program: num(n.program, `${p}.program`),
      isDrum: bool(n.isDrum, `${p}.isDrum`),
      part: num(n.part, `${p}.part`),
      pitchName: num(n.pitchName, `${p}.pitchName`),
      voice: num(n.voice, `${p}.voice`),
    });
  });
  ns.pitchBends = list(j.pitchBends, "pitchBends").map((b, i) => ({
    time: num(b.time, `pitchBends[${i}].time`),
    bend: num(b.bend, `pitchBends[${i}].bend`),
    instrument: num(b.instrument, `pitchBends[${i}].instrument`),
    program: num(b.program, `pitchBends[${i}].program`),
    isDrum: bool(b.isDrum, `pitchBends[${i}].isDrum`),
  }));
  ns.controlChanges = list(j.controlChanges, "controlChanges").map((c, i) => ({
    time: num(c.time, `controlChanges[${i}].time`),
    quantizedStep: num(c.quantizedStep, `controlChanges[${i}].quantizedStep`),
    controlNumber: num(c.controlNumber, `controlChanges[${i}].controlNumber`),
    controlValue: num(c.controlValue, `controlChanges[${i}].controlValue`),
    instrument: num(c.instrument, `controlChanges[${i}].instrument`),
    program: num(c.program, `controlChanges[${i}].program`),
    isDrum: bool(c.isDrum, `controlChanges[${i}].isDrum`),
  }));
  ns.partInfos = list(j.partInfos, "partInfos").map((p, i) => ({
    part: num(p.part, `partInfos[${i}].part`),
    name: str(p.name, `partInfos[${i}].name`),
  }));
  ns.instrumentInfos = list(j.instrumentInfos, "instrumentInfos").map((p, i) => ({
    instrument: num(p.instrument, `instrumentInfos[${i}].instrument`),
    name: str(p.name, `instrumentInfos[${i}].name`),
  }));
  ns.textAnnotations = list(j.textAnnotations, "textAnnotations").map((a, i) => ({
    time: num(a.time, `textAnnotations[${i}].time`),
    quantizedStep: num(a.quantizedStep, `textAnnotations[${i}].quantizedStep`),
    text: str(a.text, `textAnnotations[${i}].text`),
    annotationType: enumValue(a.annotationType, TextAnnotationType, `textAnnotations[${i}].annotationType`),
  }));
  ns.sectionAnnotations = list(j.sectionAnnotations, "sectionAnnotations").map((s, i) => ({
    time: num(s.time, `sectionAnnotations[${i}].time`),
    sectionId: num(s.sectionId, `sectionAnnotations[${i}].sectionId`),
  }));
  ns.sectionGroups = list(j.sectionGroups, "sectionGroups").map((g, i) =>
    sectionGroupFromJson(g, `sectionGroups[${i}]`),
  );
  if (j.sourceInfo !== undefined && j.sourceInfo !== null) {
    const s = obj(j.sourceInfo, "sourceInfo");
    ns.sourceInfo = {
      sourceType: enumValue(s.sourceType, SourceType, "sourceInfo.sourceType"),
      encodingType: enumValue(s.encodingType, EncodingType, "sourceInfo.encodingType"),
      parser: enumValue(s.parser, Parser, "sourceInfo.parser"),
    };
  }
  if (j.quantizationInfo !== undefined && j.quantizationInfo !== null) {
    const q = obj(j.quantizationInfo, "quantizationInfo");
    ns.quantizationInfo = {
      stepsPerQuarter: num(q.stepsPerQuarter, "quantizationInfo.stepsPerQuarter"),
      stepsPerSecond: num(q.stepsPerSecond, "quantizationInfo.stepsPerSecond"),
    };
  }
  if (j.subsequenceInfo !== undefined && j.subsequenceInfo !== null) {
    const s = obj(j.subsequenceInfo, "subsequenceInfo");
    ns.subsequenceInfo = {
      startTimeOffset: num(s.startTimeOffset, "subsequenceInfo.startTimeOffset"),
      endTimeOffset: num(s.endTimeOffset, "subsequenceInfo.endTimeOffset"),
    };
  }
  if (j.sequenceMetadata !== undefined && j.sequenceMetadata !== null) {
    const m = obj(j.sequenceMetadata, "sequenceMetadata");
    const strings = (v: unknown, p: string) =>
      v === undefined || v === null ? [] : (v as unknown[]).map((x) => str(x, p));
    ns.sequenceMetadata = {
      title: str(m.title, "sequenceMetadata.title"),
      artist: str(m.artist, "sequenceMetadata.artist"),
      genre: strings(m.genre, "sequenceMetadata.genre"),
      composers: strings(m.composers, "sequenceMetadata.composers"),
    };
  }
  return ns;
}

const KEY_NAMES: Record<string, number> = {
  C: 0,
  C_SHARP: 1,
  D_FLAT: 1,
  D: 2,
  D_SHARP: 3,
  E_FLAT: 3,
  E: 4,
  F: 5,
  F_SHARP: 6,
  G_FLAT: 6,
  G: 7,
  G_SHARP: 8,
  A_FLAT: 8,
  A: 9,
  A_SHARP: 10,
  B_FLAT: 10,
  B: 11,
};
