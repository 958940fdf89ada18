/**
 * Binary codec for `tensorflow.magenta.NoteSequence`, wire-compatible with note_seq's music.proto
 * (field numbers below are music.proto's). Unknown fields are skipped on decode.
 */
import { ProtobufError } from "../errors.js";
import {
  type ControlChange,
  createNote,
  createNoteSequence,
  type KeySignature,
  type Note,
  type NoteSequence,
  type PitchBend,
  type Section,
  type SectionGroup,
  type TextAnnotation,
  type TimeSignature,
} from "../notesequence.js";
import { expectWireType, ProtoReader, ProtoWriter, WireType } from "./protobuf.js";

const { VARINT, FIXED64, LEN } = WireType;

function encodeNote(w: ProtoWriter, n: Note): void {
  w.int(1, n.pitch);
  w.int(2, n.velocity);
  w.doubleField(3, n.startTime);
  w.doubleField(4, n.endTime);
  w.int(5, n.numerator);
  w.int(6, n.denominator);
  w.int(7, n.instrument);
  w.int(8, n.program);
  w.bool(9, n.isDrum);
  w.int(10, n.part);
  w.int(11, n.pitchName);
  w.int(12, n.voice);
  w.int(13, n.quantizedStartStep);
  w.int(14, n.quantizedEndStep);
}

function encodeSectionGroup(w: ProtoWriter, g: SectionGroup): void {
  for (const s of g.sections) {
    w.message(1, (sw) => {
      if (s.sectionId !== undefined) {
        sw.tag(1, VARINT);
        sw.varint(s.sectionId);
      }
      if (s.sectionGroup !== undefined) {
        const group = s.sectionGroup;
        sw.message(2, (gw) => encodeSectionGroup(gw, group));
      }
    });
  }
  w.int(2, g.numTimes);
}

/** A NoteSequence as the bytes of a `tensorflow.magenta.NoteSequence` protobuf message (note_seq's field numbers). */
export function encodeNoteSequence(ns: NoteSequence): Uint8Array {
  const w = new ProtoWriter();
  w.string(1, ns.id);
  w.string(2, ns.filename);
  w.string(3, ns.collectionName);
  w.int(4, ns.ticksPerQuarter);
  for (const t of ns.timeSignatures) {
    w.message(5, (m) => {
      m.doubleField(1, t.time);
      m.int(2, t.numerator);
      m.int(3, t.denominator);
    });
  }
  for (const k of ns.keySignatures) {
    w.message(6, (m) => {
      m.doubleField(1, k.time);
      m.int(2, k.key);
      m.int(3, k.mode);
    });
  }
  for (const t of ns.tempos) {
    w.message(7, (m) => {
      m.doubleField(1, t.time);
      m.doubleField(2, t.qpm);
    });
  }
  for (const n of ns.notes) w.message(8, (m) => encodeNote(m, n));
  w.doubleField(9, ns.totalTime);
  for (const b of ns.pitchBends) {
    w.message(10, (m) => {
      m.doubleField(1, b.time);
      m.int(2, b.bend);
      m.int(3, b.instrument);
      m.int(4, b.program);
      m.bool(5, b.isDrum);
    });
  }
  for (const c of ns.controlChanges) {
    w.message(11, (m) => {
      m.doubleField(1, c.time);
      m.int(2, c.controlNumber);
      m.int(3, c.controlValue);
      m.int(4, c.instrument);
      m.int(5, c.program);
      m.bool(6, c.isDrum);
      m.int(7, c.quantizedStep);
    });
  }
  for (const p of ns.partInfos) {
    w.message(12, (m) => {
      m.int(1, p.part);
      m.string(2, p.name);
    });
  }
  const src = ns.sourceInfo;
  if (src) {
    w.message(13, (m) => {
      m.int(1, src.sourceType);
      m.int(2, src.encodingType);
      m.int(3, src.parser);
    });
  }
  for (const a of ns.textAnnotations) {
    w.message(14, (m) => {
      m.doubleField(1, a.time);
      m.string(2, a.text);
      m.int(3, a.annotationType);
      m.int(4, a.quantizedStep);
    });
  }
  const q = ns.quantizationInfo;
  if (q) {
    w.message(15, (m) => {
      // A oneof; our type cannot tell "set to 0" from "unset", so zero is written as unset.
      if (q.stepsPerQuarter !== 0) {
        m.tag(1, VARINT);
        m.varint(q.stepsPerQuarter);
      } else if (q.stepsPerSecond !== 0) {
        m.tag(2, VARINT);
        m.varint(q.stepsPerSecond);
      }
    });
  }
  w.int(16, ns.totalQuantizedSteps);
  const sub = ns.subsequenceInfo;
  if (sub) {
    w.message(17, (m) => {
      m.doubleField(1, sub.startTimeOffset);
      m.doubleField(2, sub.endTimeOffset);
    });
  }
  w.int(18, ns.referenceNumber);
  const meta = ns.sequenceMetadata;
  if (meta) {
    w.message(19, (m) => {
      m.string(1, meta.title);
      m.string(2, meta.artist);
      for (const g of meta.genre) {
        m.tag(3, LEN);
        m.bytes(new TextEncoder().encode(g));
      }
      for (const c of meta.composers) {
        m.tag(4, LEN);
        m.bytes(new TextEncoder().encode(c));
      }
    });
  }
  for (const s of ns.sectionAnnotations) {
    w.message(20, (m) => {
      m.doubleField(1, s.time);
      m.int(4, s.sectionId);
    });
  }
  for (const g of ns.sectionGroups) w.message(21, (m) => encodeSectionGroup(m, g));
  for (const i of ns.instrumentInfos) {
    w.message(23, (m) => {
      m.int(1, i.instrument);
      m.string(2, i.name);
    });
  }
  w.int(24, ns.fingering);
  return w.finish();
}

function decodeNote(r: ProtoReader): Note {
  const n = createNote();
  r.fields((f, wt) => {
    switch (f) {
      case 1:
        expectWireType(f, wt, VARINT);
        n.pitch = r.int32();
        return true;
      case 2:
        expectWireType(f, wt, VARINT);
        n.velocity = r.int32();
        return true;
      case 3:
        expectWireType(f, wt, FIXED64);
        n.startTime = r.double();
        return true;
      case 4:
        expectWireType(f, wt, FIXED64);
        n.endTime = r.double();
        return true;
      case 5:
        expectWireType(f, wt, VARINT);
        n.numerator = r.int32();
        return true;
      case 6:
        expectWireType(f, wt, VARINT);
        n.denominator = r.int32();
        return true;
      case 7:
        expectWireType(f, wt, VARINT);
        n.instrument = r.int32();
        return true;
      case 8:
        expectWireType(f, wt, VARINT);
        n.program = r.int32();
        return true;
      case 9:
        expectWireType(f, wt, VARINT);
        n.isDrum = r.varint() !== 0;
        return true;
      case 10:
        expectWireType(f, wt, VARINT);
        n.part = r.int32();
        return true;
      case 11:
        expectWireType(f, wt, VARINT);
        n.pitchName = r.int32();
        return true;
      case 12:
        expectWireType(f, wt, VARINT);
        n.voice = r.int32();
        return true;
      case 13:
        expectWireType(f, wt, VARINT);
        n.quantizedStartStep = r.varint();
        return true;
      case 14:
        expectWireType(f, wt, VARINT);
        n.quantizedEndStep = r.varint();
        return true;
      default:
        return false;
    }
  });
  return n;
}

/**
 * Decodes a flat message whose fields are all scalars, given a table field → [property, kind].
 * Keeps the small sub-messages (Tempo, TimeSignature, …) one line each.
 */
type Kind = "int32" | "int64" | "double" | "bool" | "string";
function decodeFlat<T extends object>(r: ProtoReader, init: T, table: Record<number, [keyof T, Kind]>): T {
  const out = init as Record<string, unknown>;
  r.fields((f, wt) => {
    const entry = table[f];
    if (!entry) return false;
    const [key, kind] = entry;
    switch (kind) {
      case "double":
        expectWireType(f, wt, FIXED64);
        out[key as string] = r.double();
        break;
      case "string":
        expectWireType(f, wt, LEN);
        out[key as string] = r.string();
        break;
      case "bool":
        expectWireType(f, wt, VARINT);
        out[key as string] = r.varint() !== 0;
        break;
      case "int32":
        expectWireType(f, wt, VARINT);
        out[key as string] = r.int32();
        break;
      case "int64":
        expectWireType(f, wt, VARINT);
        out[key as string] = r.varint();
        break;
    }
    return true;
  });
  return init;
}

/**
 * Protobuf's default recursion limit (C++ and Python): messages nested deeper are refused, which also
 * keeps crafted input from overflowing the stack. SectionGroup is the only recursive message here.
 */
const MAX_NESTING = 100;

/** `depth` is the group's message nesting level (a top-level section group is 1). */
function decodeSectionGroup(r: ProtoReader, depth: number): SectionGroup {
  if (depth > MAX_NESTING) {
    throw new ProtobufError(`invalid protobuf: section groups nest deeper than ${MAX_NESTING} messages`);
  }
  const g: SectionGroup = { sections: [], numTimes: 0 };
  r.fields((f, wt) => {
    if (f === 1) {
      expectWireType(f, wt, LEN);
      const sr = r.sub();
      const s: Section = {};
      sr.fields((sf, swt) => {
        if (sf === 1) {
          expectWireType(sf, swt, VARINT);
          s.sectionId = sr.varint();
          s.sectionGroup = undefined;
          return true;
        }
        if (sf === 2) {
          expectWireType(sf, swt, LEN);
          s.sectionGroup = decodeSectionGroup(sr.sub(), depth + 2); // Section, then its SectionGroup
          s.sectionId = undefined;
          return true;
        }
        return false;
      });
      g.sections.push(s);
      return true;
    }
    if (f === 2) {
      expectWireType(f, wt, VARINT);
      g.numTimes = r.int32();
      return true;
    }
    return false;
  });
  return g;
}

/** Reads the bytes of a `tensorflow.magenta.NoteSequence` protobuf message. */
export function decodeNoteSequence(bytes: Uint8Array): NoteSequence {
  const r = new ProtoReader(bytes);
  const ns = createNoteSequence();
  r.fields((f, wt) => {
    switch (f) {
      case 1:
        expectWireType(f, wt, LEN);
        ns.id = r.string();
        return true;
      case 2:
        expectWireType(f, wt, LEN);
        ns.filename = r.string();
        return true;
      case 3:
        expectWireType(f, wt, LEN);
        ns.collectionName = r.string();
        return true;
      case 4:
        expectWireType(f, wt, VARINT);
        ns.ticksPerQuarter = r.int32();
        return true;
      case 5:
        expectWireType(f, wt, LEN);
        ns.timeSignatures.push(
          decodeFlat<TimeSignature>(
            r.sub(),
            { time: 0, numerator: 0, denominator: 0 },
            { 1: ["time", "double"], 2: ["numerator", "int32"], 3: ["denominator", "int32"] },
          ),
        );
        return true;
      case 6:
        expectWireType(f, wt, LEN);
        ns.keySignatures.push(
          decodeFlat<KeySignature>(
            r.sub(),
            { time: 0, key: 0, mode: 0 },
            { 1: ["time", "double"], 2: ["key", "int32"], 3: ["mode", "int32"] },
          ),
        );
        return true;
      case 7:
        expectWireType(f, wt, LEN);
        ns.tempos.push(
          decodeFlat(r.sub(), { time: 0, qpm: 0 }, { 1: ["time", "double"], 2: ["qpm", "double"] }),
        );
        return true;
      case 8:
        expectWireType(f, wt, LEN);
        ns.notes.push(decodeNote(r.sub()));
        return true;
      case 9:
        expectWireType(f, wt, FIXED64);
        ns.totalTime = r.double();
        return true;
      case 10:
        expectWireType(f, wt, LEN);
        ns.pitchBends.push(
          decodeFlat<PitchBend>(
            r.sub(),
            { time: 0, bend: 0, instrument: 0, program: 0, isDrum: false },
            {
              1: ["time", "double"],
              2: ["bend", "int32"],
              3: ["instrument", "int32"],
              4: ["program", "int32"],
              5: ["isDrum", "bool"],
            },
          ),
        );
        return true;
      case 11:
        expectWireType(f, wt, LEN);
        ns.controlChanges.push(
          decodeFlat<ControlChange>(
            r.sub(),
            {
              time: 0,
              quantizedStep: 0,
              controlNumber: 0,
              controlValue: 0,
              instrument: 0,
              program: 0,
              isDrum: false,
            },
            {
              1: ["time", "double"],
              2: ["controlNumber", "int32"],
              3: ["controlValue", "int32"],
              4: ["instrument", "int32"],
              5: ["program", "int32"],
              6: ["isDrum", "bool"],
              7: ["quantizedStep", "int64"],
            },
          ),
        );
        return true;
      case 12:
        expectWireType(f, wt, LEN);
        ns.partInfos.push(
          decodeFlat(r.sub(), { part: 0, name: "" }, { 1: ["part", "int32"], 2: ["name", "string"] }),
        );
        return true;
      case 13:
        expectWireType(f, wt, LEN);
        ns.sourceInfo = decodeFlat(
          r.sub(),
          { sourceType: 0, encodingType: 0, parser: 0 },
          { 1: ["sourceType", "int32"], 2: ["encodingType", "int32"], 3: ["parser", "int32"] },
        );
        return true;
      case 14:
        expectWireType(f, wt, LEN);
        ns.textAnnotations.push(
          decodeFlat<TextAnnotation>(
            r.sub(),
            { time: 0, quantizedStep: 0, text: "", annotationType: 0 },
            {
              1: ["time", "double"],
              2: ["text", "string"],
              3: ["annotationType", "int32"],
              4: ["quantizedStep", "int64"],
            },
          ),
        );
        return true;
      case 15: {
        expectWireType(f, wt, LEN);
        // Oneof: the last member seen wins, and it clears the other.
        const q = { stepsPerQuarter: 0, stepsPerSecond: 0 };
        const qr = r.sub();
        qr.fields((qf, qwt) => {
          if (qf !== 1 && qf !== 2) return false;
          expectWireType(qf, qwt, VARINT);
          const v = qr.int32();
          q.stepsPerQuarter = qf === 1 ? v : 0;
          q.stepsPerSecond = qf === 2 ? v : 0;
          return true;
        });
        ns.quantizationInfo = q;
        return true;
      }
      case 16:
        expectWireType(f, wt, VARINT);
        ns.totalQuantizedSteps = r.varint();
        return true;
      case 17:
        expectWireType(f, wt, LEN);
        ns.subsequenceInfo = decodeFlat(
          r.sub(),
          { startTimeOffset: 0, endTimeOffset: 0 },
          { 1: ["startTimeOffset", "double"], 2: ["endTimeOffset", "double"] },
        );
        return true;
      case 18:
        expectWireType(f, wt, VARINT);
        ns.referenceNumber = r.varint();
        return true;
      case 19: {
        expectWireType(f, wt, LEN);
        const meta = { title: "", artist: "", genre: [] as string[], composers: [] as string[] };
        const mr = r.sub();
        mr.fields((mf, mwt) => {
          if (mf < 1 || mf > 4) return false;
          expectWireType(mf, mwt, LEN);
          const s = mr.string();
          if (mf === 1) meta.title = s;
          else if (mf === 2) meta.artist = s;
          else if (mf === 3) meta.genre.push(s);
          else meta.composers.push(s);
          return true;
        });
        ns.sequenceMetadata = meta;
        return true;
      }
      case 20:
        expectWireType(f, wt, LEN);
        ns.sectionAnnotations.push(
          decodeFlat(
            r.sub(),
            { time: 0, sectionId: 0 },
            { 1: ["time", "double"], 4: ["sectionId", "int64"] },
          ),
        );
        return true;
      case 21:
        expectWireType(f, wt, LEN);
        ns.sectionGroups.push(decodeSectionGroup(r.sub(), 1));
        return true;
      case 23:
        expectWireType(f, wt, LEN);
        ns.instrumentInfos.push(
          decodeFlat(
            r.sub(),
            { instrument: 0, name: "" },
            { 1: ["instrument", "int32"], 2: ["name", "string"] },
          ),
        );
        return true;
      case 24:
        expectWireType(f, wt, VARINT);
        ns.fingering = r.int32();
        return true;
      default:
        return false;
    }
  });
  return ns;
}
