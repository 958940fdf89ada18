/**
 * NoteSequence wire compatibility with Google's protobuf library. The fixture in
 * test/fixtures/notesequence/ was written by scripts/make_notesequence_fixture.py (Python protobuf,
 * SerializeToString, its own TFRecord framing); see that script to regenerate it.
 */
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { ProtobufError } from "../src/errors.js";
import { decodeNoteSequence, encodeNoteSequence } from "../src/io/notesequence_proto.js";
import { ProtoWriter, WireType } from "../src/io/protobuf.js";
import { decodeTFRecords, frameRecord } from "../src/io/tfrecord.js";
import {
  createNote,
  createNoteSequence,
  type Note,
  type NoteSequence,
  type Section,
  type SectionGroup,
} from "../src/notesequence.js";

const DIR = fileURLToPath(new URL("./fixtures/notesequence/", import.meta.url));
const fileBytes = new Uint8Array(readFileSync(`${DIR}sequences.tfrecord`));
const fixtureRecords = [...decodeTFRecords(fileBytes)];
const fixtureJson = JSON.parse(readFileSync(`${DIR}sequences.json`, "utf-8")) as {
  name: string;
  byteLength: number;
  sequence: Obj;
}[];

// --- expected values from the protobuf JSON mapping (MessageToDict) ---------------------------------

type Obj = Record<string, unknown>;
type Convert = (v: unknown) => unknown;

/**
 * One message from its JSON form: fields absent from the JSON take `defaults`; number fields accept
 * numbers and int64 decimal strings; `children` converts sub-message fields. A JSON key that the
 * TypeScript type does not have fails the test, so no fixture field goes unchecked.
 */
function message<T extends object>(json: unknown, defaults: T, children: Record<string, Convert> = {}): T {
  const out: Obj = { ...(defaults as Obj) };
  for (const [key, value] of Object.entries(json as Obj)) {
    if (key in children) {
      out[key] = children[key](value);
      continue;
    }
    if (!(key in defaults)) throw new Error(`fixture JSON has a field the TypeScript type lacks: ${key}`);
    const d = (defaults as Obj)[key];
    if (typeof d === "number") {
      expect(typeof value === "number" || typeof value === "string").toBe(true);
      out[key] = Number(value);
    } else {
      expect(typeof value).toBe(typeof d);
      out[key] = value;
    }
  }
  return out as T;
}

const list =
  (f: Convert): Convert =>
  (v) =>
    (v as unknown[]).map(f);

const noteFromJson = (j: unknown): Note => message(j, createNote());

function sectionGroupFromJson(j: unknown): SectionGroup {
  return message<SectionGroup>(j, { sections: [], numTimes: 0 }, { sections: list(sectionFromJson) });
}

function sectionFromJson(j: unknown): Section {
  const o = j as Obj;
  const s: Section = {};
  for (const key of Object.keys(o)) expect(["sectionId", "sectionGroup"]).toContain(key);
  if ("sectionId" in o) s.sectionId = Number(o.sectionId);
  if ("sectionGroup" in o) s.sectionGroup = sectionGroupFromJson(o.sectionGroup);
  return s;
}

function noteSequenceFromJson(j: Obj): NoteSequence {
  return message(j, createNoteSequence(), {
    timeSignatures: list((v) => message(v, { time: 0, numerator: 0, denominator: 0 })),
    keySignatures: list((v) => message(v, { time: 0, key: 0, mode: 0 })),
    tempos: list((v) => message(v, { time: 0, qpm: 0 })),
    notes: list(noteFromJson),
    pitchBends: list((v) => message(v, { time: 0, bend: 0, instrument: 0, program: 0, isDrum: false })),
    controlChanges: list((v) =>
      message(v, {
        time: 0,
        quantizedStep: 0,
        controlNumber: 0,
        controlValue: 0,
        instrument: 0,
        program: 0,
        isDrum: false,
      }),
    ),
    partInfos: list((v) => message(v, { part: 0, name: "" })),
    sourceInfo: (v) => message(v, { sourceType: 0, encodingType: 0, parser: 0 }),
    textAnnotations: list((v) => message(v, { time: 0, quantizedStep: 0, text: "", annotationType: 0 })),
    sectionAnnotations: list((v) => message(v, { time: 0, sectionId: 0 })),
    sectionGroups: list(sectionGroupFromJson),
    quantizationInfo: (v) => message(v, { stepsPerQuarter: 0, stepsPerSecond: 0 }),
    subsequenceInfo: (v) => message(v, { startTimeOffset: 0, endTimeOffset: 0 }),
    sequenceMetadata: (v) =>
      message(v, { title: "", artist: "", genre: [] as string[], composers: [] as string[] }),
    instrumentInfos: list((v) => message(v, { instrument: 0, name: "" })),
  });
}

/** Every "path.to.field" that has a value in some JSON object (arrays are looked through). */
function jsonPaths(v: unknown, prefix: string, out: Set<string>): Set<string> {
  if (Array.isArray(v)) {
    for (const x of v) jsonPaths(x, prefix, out);
  } else if (v !== null && typeof v === "object") {
    for (const [k, x] of Object.entries(v)) {
      const path = prefix ? `${prefix}.${k}` : k;
      out.add(path);
      jsonPaths(x, path, out);
    }
  }
  return out;
}

// --- helpers ----------------------------------------------------------------------------------------

function expectProtobufErrorOrValue(bytes: Uint8Array): void {
  try {
    decodeNoteSequence(bytes);
  } catch (e) {
    if (!(e instanceof ProtobufError)) throw new Error(`threw ${String(e)} instead of a ProtobufError`);
  }
}

function protobufError(bytes: Uint8Array): ProtobufError {
  try {
    decodeNoteSequence(bytes);
  } catch (e) {
    expect(e).toBeInstanceOf(ProtobufError);
    return e as ProtobufError;
  }
  throw new Error("expected a ProtobufError, the bytes decoded");
}

const concat = (...parts: Uint8Array[]): Uint8Array => {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let pos = 0;
  for (const p of parts) {
    out.set(p, pos);
    pos += p.length;
  }
  return out;
};

const varintBytes = (n: number): number[] => {
  const out: number[] = [];
  for (; n >= 0x80; n = Math.floor(n / 128)) out.push((n % 128) | 0x80);
  out.push(n);
  return out;
};

const bytesOf = (write: (w: ProtoWriter) => void): Uint8Array => {
  const w = new ProtoWriter();
  write(w);
  return w.finish();
};

// --- the Python-written fixture ---------------------------------------------------------------------

describe("NoteSequence fixture written by Python protobuf", () => {
  it("has one JSON entry per TFRecord record, of the recorded sizes", () => {
    expect(fixtureRecords.length).toBe(fixtureJson.length);
    expect(fixtureJson.map((e) => e.name)).toEqual(["full", "empty", "quantized", "edge"]);
    fixtureRecords.forEach((r, i) => {
      expect(r.length).toBe(fixtureJson[i].byteLength);
    });
  });

  it("exercises every field of every message type", () => {
    const seen = new Set<string>();
    for (const e of fixtureJson) jsonPaths(e.sequence, "", seen);
    const want = new Set<string>();
    const sample = createNoteSequence({
      notes: [createNote()],
      timeSignatures: [{ time: 0, numerator: 0, denominator: 0 }],
      keySignatures: [{ time: 0, key: 0, mode: 0 }],
      tempos: [{ time: 0, qpm: 0 }],
      pitchBends: [{ time: 0, bend: 0, instrument: 0, program: 0, isDrum: false }],
      controlChanges: [
        {
          time: 0,
          quantizedStep: 0,
          controlNumber: 0,
          controlValue: 0,
          instrument: 0,
          program: 0,
          isDrum: false,
        },
      ],
      partInfos: [{ part: 0, name: "" }],
      sourceInfo: { sourceType: 0, encodingType: 0, parser: 0 },
      textAnnotations: [{ time: 0, quantizedStep: 0, text: "", annotationType: 0 }],
      sectionAnnotations: [{ time: 0, sectionId: 0 }],
      sectionGroups: [
        { sections: [{ sectionId: 0 }, { sectionGroup: { sections: [], numTimes: 0 } }], numTimes: 0 },
      ],
      quantizationInfo: { stepsPerQuarter: 0, stepsPerSecond: 0 },
      subsequenceInfo: { startTimeOffset: 0, endTimeOffset: 0 },
      sequenceMetadata: { title: "", artist: "", genre: [], composers: [] },
      instrumentInfos: [{ instrument: 0, name: "" }],
    });
    jsonPaths(sample, "", want);
    // Nested section groups: one level is enough to name each field.
    for (const p of [...want]) if (p.startsWith("sectionGroups.sections.sectionGroup.")) want.delete(p);
    for (const p of [...seen]) if (p.startsWith("sectionGroups.sections.sectionGroup.")) seen.delete(p);
    expect([...want].filter((p) => !seen.has(p))).toEqual([]);
  });

  fixtureJson.forEach((entry, i) => {
    it(`decodes "${entry.name}" to exactly the values Python wrote`, () => {
      const decoded = decodeNoteSequence(fixtureRecords[i]);
      const expected = noteSequenceFromJson(entry.sequence);
      // toEqual compares numbers with Object.is, so -0.0 vs 0.0 is checked too.
      expect(decoded).toEqual(expected);
    });

    it(`re-encodes "${entry.name}" to the identical bytes`, () => {
      const record = fixtureRecords[i];
      const again = encodeNoteSequence(decodeNoteSequence(record));
      expect(Buffer.from(again).toString("hex")).toBe(Buffer.from(record).toString("hex"));
    });
  });

  it("re-encodes and re-frames the whole file to the identical bytes", () => {
    const parts = fixtureRecords.map((r) => frameRecord(encodeNoteSequence(decodeNoteSequence(r))));
    expect(Buffer.compare(concat(...parts), fileBytes)).toBe(0);
  });

  it("encodes the expected values (built from JSON, not decoded) to the identical bytes", () => {
    fixtureJson.forEach((entry, i) => {
      expect(
        Buffer.compare(encodeNoteSequence(noteSequenceFromJson(entry.sequence)), fixtureRecords[i]),
      ).toBe(0);
    });
  });

  it("keeps values that need care: -0.0, negative int32/int64, 2^53-1, non-ASCII", () => {
    const edge = decodeNoteSequence(fixtureRecords[3]);
    expect(Object.is(edge.notes[0].startTime, -0)).toBe(true);
    expect(Object.is(edge.timeSignatures[0].time, -0)).toBe(true);
    expect(Object.is(edge.subsequenceInfo?.startTimeOffset, -0)).toBe(true);
    expect(edge.notes[0].pitch).toBe(-1);
    expect(edge.notes[0].quantizedStartStep).toBe(-1);
    expect(edge.referenceNumber).toBe(-5);
    expect(edge.fingering).toBe(-(2 ** 31));
    expect(edge.totalQuantizedSteps).toBe(Number.MAX_SAFE_INTEGER);
    expect(edge.controlChanges[0].quantizedStep).toBe(-Number.MAX_SAFE_INTEGER);
    expect(edge.tempos[0].time).toBe(5e-324);
    expect(edge.quantizationInfo).toEqual({ stepsPerQuarter: 0, stepsPerSecond: 100 });
    const full = decodeNoteSequence(fixtureRecords[0]);
    expect(full.pitchBends.map((b) => b.bend)).toEqual([-8192, 8191, -1]);
    expect(full.filename).toBe("chorales/Bach — «Aus meines Herzens Grunde» 🎹.mid");
    expect(full.quantizationInfo).toEqual({ stepsPerQuarter: 4, stepsPerSecond: 0 });
    expect(decodeNoteSequence(fixtureRecords[1])).toEqual(createNoteSequence());
  });
});

// --- round trips of our own ---------------------------------------------------------------------------

const int32 = fc.integer({ min: -(2 ** 31), max: 2 ** 31 - 1 });
const int64 = fc.maxSafeInteger();
const double = fc.double(); // includes -0, ±Infinity, NaN and subnormals
const text = fc.string({ unit: "binary", maxLength: 12 }); // any code points, no lone surrogates
const few = { maxLength: 3 };

const { group: sectionGroupArb } = fc.letrec<{ group: SectionGroup; section: Section }>((tie) => ({
  group: fc.record({ sections: fc.array(tie("section"), few), numTimes: int32 }),
  section: fc.oneof(
    { maxDepth: 3, depthIdentifier: "sections" },
    fc.record({ sectionId: int64 }),
    fc.record({ sectionGroup: tie("group") }),
  ),
}));

const noteArb: fc.Arbitrary<Note> = fc.record({
  pitch: int32,
  velocity: int32,
  startTime: double,
  endTime: double,
  quantizedStartStep: int64,
  quantizedEndStep: int64,
  numerator: int32,
  denominator: int32,
  instrument: int32,
  program: int32,
  isDrum: fc.boolean(),
  part: int32,
  pitchName: int32,
  voice: int32,
});

const optional = <T>(arb: fc.Arbitrary<T>) => fc.option(arb, { nil: undefined });

const noteSequenceArb: fc.Arbitrary<NoteSequence> = fc.record({
  id: text,
  filename: text,
  referenceNumber: int64,
  collectionName: text,
  ticksPerQuarter: int32,
  timeSignatures: fc.array(fc.record({ time: double, numerator: int32, denominator: int32 }), few),
  keySignatures: fc.array(fc.record({ time: double, key: int32, mode: int32 }), few),
  tempos: fc.array(fc.record({ time: double, qpm: double }), few),
  notes: fc.array(noteArb, { maxLength: 5 }),
  totalTime: double,
  totalQuantizedSteps: int64,
  pitchBends: fc.array(
    fc.record({ time: double, bend: int32, instrument: int32, program: int32, isDrum: fc.boolean() }),
    few,
  ),
  controlChanges: fc.array(
    fc.record({
      time: double,
      quantizedStep: int64,
      controlNumber: int32,
      controlValue: int32,
      instrument: int32,
      program: int32,
      isDrum: fc.boolean(),
    }),
    few,
  ),
  partInfos: fc.array(fc.record({ part: int32, name: text }), few),
  sourceInfo: optional(fc.record({ sourceType: int32, encodingType: int32, parser: int32 })),
  textAnnotations: fc.array(
    fc.record({ time: double, quantizedStep: int64, text, annotationType: int32 }),
    few,
  ),
  sectionAnnotations: fc.array(fc.record({ time: double, sectionId: int64 }), few),
  sectionGroups: fc.array(sectionGroupArb, { maxLength: 2 }),
  // A oneof: at most one member is non-zero.
  quantizationInfo: optional(
    fc.oneof(
      fc.record({ stepsPerQuarter: int32, stepsPerSecond: fc.constant(0) }),
      fc.record({ stepsPerQuarter: fc.constant(0), stepsPerSecond: int32 }),
    ),
  ),
  subsequenceInfo: optional(fc.record({ startTimeOffset: double, endTimeOffset: double })),
  sequenceMetadata: optional(
    fc.record({ title: text, artist: text, genre: fc.array(text, few), composers: fc.array(text, few) }),
  ),
  instrumentInfos: fc.array(fc.record({ instrument: int32, name: text }), few),
  fingering: int32,
});

describe("NoteSequence round trips", () => {
  it("decode(encode(ns)) equals ns for random sequences", () => {
    fc.assert(
      fc.property(noteSequenceArb, (ns) => {
        const bytes = encodeNoteSequence(ns);
        const back = decodeNoteSequence(bytes);
        expect(back).toEqual(ns);
        // Encoding is deterministic: the decoded copy gives the same bytes again.
        expect(Buffer.compare(encodeNoteSequence(back), bytes)).toBe(0);
      }),
      { numRuns: 300 },
    );
  });

  it("decodes from a view into a larger buffer (non-zero byteOffset)", () => {
    fc.assert(
      fc.property(noteSequenceArb, fc.uint8Array({ minLength: 1, maxLength: 9 }), (ns, pad) => {
        const bytes = encodeNoteSequence(ns);
        const padded = concat(pad, bytes, pad);
        expect(decodeNoteSequence(padded.subarray(pad.length, pad.length + bytes.length))).toEqual(ns);
      }),
      { numRuns: 50 },
    );
  });

  it("encodes the empty sequence as zero bytes", () => {
    expect(encodeNoteSequence(createNoteSequence()).length).toBe(0);
    expect(decodeNoteSequence(new Uint8Array(0))).toEqual(createNoteSequence());
  });
});

// --- unknown fields -----------------------------------------------------------------------------------

describe("unknown fields", () => {
  /** One unknown field of each wire type, with the given field numbers (unused by the message). */
  const unknowns = (fields: [number, number, number, number]) =>
    bytesOf((w) => {
      w.tag(fields[0], WireType.VARINT);
      w.varint(-1); // a 10-byte varint
      w.tag(fields[1], WireType.FIXED64);
      w.double(Math.PI);
      w.tag(fields[2], WireType.LEN);
      w.bytes(Uint8Array.from([0x08, 0x96, 0x01, 0xff])); // not even a valid message inside
      w.tag(fields[3], WireType.FIXED32);
      w.float(1.5);
      w.tag(536870911, WireType.VARINT); // the largest field number
      w.varint(0);
    });

  it("are skipped at the top level (including the unused number 22) and in every sub-message", () => {
    const full = decodeNoteSequence(fixtureRecords[0]);
    const known = encodeNoteSequence(full);
    // Put unknown fields before, between and after known ones; inside sub-messages too.
    const withUnknown = concat(
      unknowns([22, 25, 26, 1000]),
      known,
      unknowns([100, 101, 102, 103]),
      bytesOf((w) => {
        w.message(8, (m) => {
          m.int(1, 61);
          m.bytesField(15, unknowns([30, 31, 32, 33]));
          m.tag(16, WireType.VARINT);
          m.varint(7);
          m.int(2, 90);
        });
        w.message(15, (m) => {
          m.tag(3, WireType.VARINT);
          m.varint(9);
          m.int(1, 4);
        });
        w.message(19, (m) => {
          m.string(1, "t");
          m.tag(5, WireType.FIXED32);
          m.float(2);
        });
        w.message(21, (m) => {
          m.message(1, (s) => {
            s.tag(3, WireType.LEN);
            s.bytes(new Uint8Array(3));
            s.tag(1, WireType.VARINT);
            s.varint(5);
          });
          m.tag(9, WireType.FIXED64);
          m.double(0);
        });
      }),
    );
    const decoded = decodeNoteSequence(withUnknown);
    const expected = structuredClone(full);
    expected.notes.push(createNote({ pitch: 61, velocity: 90 }));
    expected.quantizationInfo = { stepsPerQuarter: 4, stepsPerSecond: 0 };
    expected.sequenceMetadata = { title: "t", artist: "", genre: [], composers: [] };
    expected.sectionGroups.push({ sections: [{ sectionId: 5 }], numTimes: 0 });
    expect(decoded).toEqual(expected);
    // Re-encoding drops the unknown fields.
    expect(Buffer.compare(encodeNoteSequence(decoded), encodeNoteSequence(expected))).toBe(0);
  });

  it("a scalar field that appears twice keeps the last value (proto3 merge)", () => {
    const bytes = bytesOf((w) => {
      w.string(1, "first");
      w.int(4, 96);
      w.string(1, "second");
      w.int(4, 480);
    });
    const ns = decodeNoteSequence(bytes);
    expect(ns.id).toBe("second");
    expect(ns.ticksPerQuarter).toBe(480);
  });
});

// --- corrupt input ------------------------------------------------------------------------------------

describe("corrupt NoteSequence bytes", () => {
  it("throws ProtobufError for each kind of damage", () => {
    const cases: [string, Uint8Array][] = [
      ["truncated varint", Uint8Array.from([0x20, 0x80])],
      ["varint longer than 10 bytes", Uint8Array.from([0x20, ...new Array(10).fill(0xff), 0x01])],
      ["length past the end", Uint8Array.from([0x0a, 0x05, 0x61, 0x62])],
      ["truncated double", Uint8Array.from([0x49, 0x00, 0x00, 0x00])],
      ["field number 0", Uint8Array.from([0x00, 0x01])],
      ["wire type 6", Uint8Array.from([0x0e, 0x00])],
      ["wire type 7", Uint8Array.from([0x0f, 0x00])],
      ["start-group (wire type 3)", Uint8Array.from([0x1b, 0x1c])],
      ["tag beyond 32 bits", Uint8Array.from([0x80, 0x80, 0x80, 0x80, 0x80, 0x01, 0x00])],
      ["known field, wrong wire type (notes as varint)", Uint8Array.from([0x40, 0x01])],
      ["known field, wrong wire type (id as fixed32)", Uint8Array.from([0x0d, 0, 0, 0, 0])],
      ["invalid UTF-8 in a string", Uint8Array.from([0x0a, 0x02, 0xc3, 0x28])],
      ["truncated sub-message", Uint8Array.from([0x42, 0x03, 0x08, 0x3c, 0x10])],
      [
        "sub-message field past the sub-message",
        Uint8Array.from([0x42, 0x02, 0x19, 0x00, 0, 0, 0, 0, 0, 0, 0]),
      ],
    ];
    for (const [what, bytes] of cases) {
      const e = protobufError(bytes);
      expect(e.message, what).toMatch(/^invalid protobuf: /);
    }
  });

  it("every truncation of every fixture record decodes or throws ProtobufError", () => {
    for (const record of fixtureRecords) {
      for (let cut = 0; cut < record.length; cut++) expectProtobufErrorOrValue(record.subarray(0, cut));
    }
  });

  it("a truncated record that ends mid-field throws", () => {
    const record = fixtureRecords[0];
    // The record starts with field 1 (id), a string: any cut inside it is an error.
    expect(record[0]).toBe(0x0a);
    for (let cut = 1; cut < 2 + record[1]; cut++) protobufError(record.subarray(0, cut));
  });

  it("refuses section groups nested deeper than protobuf's recursion limit without overflowing the stack", () => {
    // Built inside out as a list of prefixes (copying the whole buffer per level would be quadratic).
    const nested = (levels: number): Uint8Array => {
      const parts: number[][] = [[0x10, 0x01]]; // innermost SectionGroup { num_times: 1 }
      let length = 2;
      for (let i = 0; i < levels; i++) {
        // Section { section_group (2) = … } inside SectionGroup { sections (1) = … }
        for (const tag of [0x12, 0x0a]) {
          const prefix = [tag, ...varintBytes(length)];
          parts.push(prefix);
          length += prefix.length;
        }
      }
      parts.push([0xaa, 0x01, ...varintBytes(length)]); // NoteSequence.section_groups (21)
      return Uint8Array.from(parts.reverse().flat());
    };
    const bytes = nested(100_000);
    expect(protobufError(bytes).message).toMatch(/nest/);
    expect(protobufError(nested(50)).message).toMatch(/nest/); // the innermost group is 101 messages deep
    expect(decodeNoteSequence(nested(49)).sectionGroups.length).toBe(1); // 99 deep
    // Shallow nesting is fine.
    let ok: SectionGroup = { sections: [{ sectionId: 1 }], numTimes: 2 };
    for (let depth = 0; depth < 40; depth++) ok = { sections: [{ sectionGroup: ok }], numTimes: 0 };
    const ns = createNoteSequence({ sectionGroups: [ok] });
    expect(decodeNoteSequence(encodeNoteSequence(ns))).toEqual(ns);
  });

  it("random bytes decode or throw ProtobufError, never anything else", () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 200 }), (bytes) => expectProtobufErrorOrValue(bytes)),
      { numRuns: 2000 },
    );
  });

  it("mutated fixture records decode or throw ProtobufError, never anything else", () => {
    const mutation = fc.oneof(
      fc.record({ kind: fc.constant("flip" as const), at: fc.nat(), xor: fc.integer({ min: 1, max: 255 }) }),
      fc.record({
        kind: fc.constant("insert" as const),
        at: fc.nat(),
        byte: fc.integer({ min: 0, max: 255 }),
      }),
      fc.record({
        kind: fc.constant("delete" as const),
        at: fc.nat(),
        count: fc.integer({ min: 1, max: 4 }),
      }),
      fc.record({ kind: fc.constant("truncate" as const), at: fc.nat() }),
    );
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: fixtureRecords.length - 1 }),
        fc.array(mutation, { minLength: 1, maxLength: 4 }),
        (which, mutations) => {
          let bytes = Array.from(fixtureRecords[which]);
          for (const m of mutations) {
            const at = bytes.length === 0 ? 0 : m.at % bytes.length;
            if (m.kind === "flip" && bytes.length > 0) bytes[at] ^= m.xor;
            else if (m.kind === "insert") bytes.splice(at, 0, m.byte);
            else if (m.kind === "delete") bytes.splice(at, m.count);
            else if (m.kind === "truncate") bytes = bytes.slice(0, at);
          }
          expectProtobufErrorOrValue(Uint8Array.from(bytes));
        },
      ),
      { numRuns: 2000 },
    );
  });
});
