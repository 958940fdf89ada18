import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { decodeSequenceExample, encodeSequenceExample } from "../src/dataset/sequence_example.js";
import { ProtobufError } from "../src/errors.js";
import { encodeIds, fromQuantizedSequence, NUM_CLASSES, toTrainingExample } from "../src/events/codec.js";
import { createNote, createNoteSequence } from "../src/notesequence.js";

const ascii = (s: string) => [...new TextEncoder().encode(s)];
const bytes = (...parts: (number | number[] | Uint8Array)[]) =>
  new Uint8Array(parts.flatMap((p) => (typeof p === "number" ? [p] : [...p])));

/** 259 little-endian float32s, all 0.0 except 1.0 (00 00 80 3F) at `hot`. */
function oneHotFloats(hot: number): number[] {
  const out = new Array(4 * NUM_CLASSES).fill(0);
  out[4 * hot + 2] = 0x80;
  out[4 * hot + 3] = 0x3f;
  return out;
}

/** The error `f` throws, which must be a ProtobufError. */
function protobufError(f: () => unknown): ProtobufError {
  try {
    f();
  } catch (e) {
    expect(e).toBeInstanceOf(ProtobufError);
    return e as ProtobufError;
  }
  throw new Error("expected a ProtobufError, nothing was thrown");
}

describe("encodeSequenceExample: bytes assembled by hand from the proto rules", () => {
  it("labels only, 2 steps: [198, 2]", () => {
    // Int64List{value: [198]} = 0A 02 C6 01   (field 1, LEN; packed varint 198 = C6 01)
    // Feature{int64_list}      = 1A 04 <4>     (field 3, LEN)
    // FeatureList.feature[0]   = 0A 06 <6>     (field 1, LEN)                     → 8 bytes
    // Int64List{value: [2]}    = 0A 01 02; Feature = 1A 03 <3>; feature[1] = 0A 05 <5> → 7 bytes
    // FeatureList (15 bytes); map entry {key=1: "labels", value=2: FeatureList}:
    //   0A 06 "labels" 12 0F <15>                                                   → 25 bytes
    // FeatureLists.feature_list = 0A 19 <25> (27 bytes); SequenceExample.feature_lists = 12 1B <27>.
    const expected = bytes(
      [0x12, 0x1b],
      [0x0a, 0x19],
      [0x0a, 0x06, ...ascii("labels")],
      [0x12, 0x0f],
      [0x0a, 0x06, 0x1a, 0x04, 0x0a, 0x02, 0xc6, 0x01],
      [0x0a, 0x05, 0x1a, 0x03, 0x0a, 0x01, 0x02],
    );
    expect(expected.length).toBe(29);
    expect(encodeSequenceExample({ labels: [198, 2] })).toEqual(expected);
  });

  it("Magenta's form, 2 steps: inputs [0, 70] one-hot, labels [70, 2]; entries sorted by key", () => {
    // FloatList{value: 259 floats, packed} = 0A 8C 08 <1036>  (1036 = 0x40C → varint 8C 08)  → 1039
    // Feature{float_list = 2}             = 12 8F 08 <1039>  (1039 → 8F 08)                 → 1042
    // FeatureList.feature[i]              = 0A 92 08 <1042>  (1042 → 92 08)                 → 1045
    const inputFeature = (hot: number) => [
      0x0a,
      0x92,
      0x08,
      0x12,
      0x8f,
      0x08,
      0x0a,
      0x8c,
      0x08,
      ...oneHotFloats(hot),
    ];
    // inputs FeatureList = 2 × 1045 = 2090 bytes (0x82A → varint AA 10);
    // entry = 0A 06 "inputs" 12 AA 10 <2090> → 2101 bytes (0x835 → B5 10); in FeatureLists: 0A B5 10 <2101>.
    const inputsEntry = [
      0x0a,
      0xb5,
      0x10,
      0x0a,
      0x06,
      ...ascii("inputs"),
      0x12,
      0xaa,
      0x10,
      ...inputFeature(0),
      ...inputFeature(70),
    ];
    expect(inputsEntry.length).toBe(2104);
    // labels: Feature(70) = 1A 03 0A 01 46, Feature(2) = 1A 03 0A 01 02, each wrapped as 0A 05 <5> → 14 bytes;
    // entry = 0A 06 "labels" 12 0E <14> → 24 bytes; in FeatureLists: 0A 18 <24>.
    const labelsEntry = [
      [0x0a, 0x18, 0x0a, 0x06, ...ascii("labels"), 0x12, 0x0e],
      [0x0a, 0x05, 0x1a, 0x03, 0x0a, 0x01, 0x46],
      [0x0a, 0x05, 0x1a, 0x03, 0x0a, 0x01, 0x02],
    ].flat();
    expect(labelsEntry.length).toBe(26);
    // FeatureLists = 2104 + 26 = 2130 bytes (0x852 → D2 10); SequenceExample = 12 D2 10 <2130>.
    const expected = bytes([0x12, 0xd2, 0x10], inputsEntry, labelsEntry);
    expect(encodeSequenceExample({ inputs: [0, 70], labels: [70, 2] })).toEqual(expected);
    expect(decodeSequenceExample(expected)).toEqual({ inputs: [0, 70], labels: [70, 2] });
  });

  it("rejects ids outside the vocabulary and mismatched lengths", () => {
    expect(() => encodeSequenceExample({ labels: [259] })).toThrow(/not an event id/);
    expect(() => encodeSequenceExample({ labels: [1], inputs: [-1] })).toThrow(/not an event id/);
    expect(() => encodeSequenceExample({ labels: [1, 2], inputs: [0] })).toThrow(/differ in length/);
  });
});

describe("round trips", () => {
  const idsArb = fc.array(fc.integer({ min: 0, max: NUM_CLASSES - 1 }), { maxLength: 60 });

  it("labels only", () => {
    fc.assert(
      fc.property(idsArb, (labels) => {
        const decoded = decodeSequenceExample(encodeSequenceExample({ labels }));
        expect(decoded).toEqual({ labels });
        expect("inputs" in decoded).toBe(false);
      }),
    );
  });

  it("with one-hot inputs", () => {
    fc.assert(
      fc.property(idsArb, (ids) => {
        const ex = { inputs: ids, labels: [...ids].reverse() };
        expect(decodeSequenceExample(encodeSequenceExample(ex))).toEqual(ex);
      }),
      { numRuns: 50 },
    );
  });

  it("a real training example: the C-major chord", () => {
    const q = createNoteSequence({
      quantizationInfo: { stepsPerQuarter: 4, stepsPerSecond: 0 },
      totalQuantizedSteps: 4,
      notes: [60, 64, 67].map((pitch) => createNote({ pitch, quantizedStartStep: 0, quantizedEndStep: 4 })),
    });
    const ex = toTrainingExample(encodeIds(fromQuantizedSequence(q)));
    expect(ex.inputs[0]).toBe(0); // inputs start with START
    expect(ex.labels.at(-1)).toBe(1); // labels end with END
    expect(decodeSequenceExample(encodeSequenceExample(ex))).toEqual(ex);
  });
});

describe("decodeSequenceExample: other valid encodings", () => {
  // Wrap a FeatureList body as a one-entry SequenceExample.
  const lenPrefixed = (body: number[]) => {
    const len: number[] = [];
    let n = body.length;
    while (n >= 0x80) {
      len.push((n & 0x7f) | 0x80);
      n >>>= 7;
    }
    len.push(n);
    return [...len, ...body];
  };
  const entry = (key: string, featureList: number[]) => [
    0x0a,
    ...lenPrefixed([0x0a, ...lenPrefixed(ascii(key)), 0x12, ...lenPrefixed(featureList)]),
  ];
  const example = (...entries: number[][]) => bytes(0x12, lenPrefixed(entries.flat()));
  const feature = (body: number[]) => [0x0a, ...lenPrefixed(body)];

  it("unpacked int64 and float values", () => {
    // Int64List with an unpacked value: 08 C6 01 (field 1, VARINT).
    const labels = entry("labels", [
      ...feature([0x1a, 0x03, 0x08, 0xc6, 0x01]),
      ...feature([0x1a, 0x02, 0x08, 0x01]),
    ]);
    // FloatList with 259 unpacked values: 0D <float32> each; the one-hot at 5.
    const floats: number[] = [];
    for (let i = 0; i < NUM_CLASSES; i++) floats.push(0x0d, 0, 0, i === 5 ? 0x80 : 0, i === 5 ? 0x3f : 0);
    const inputs = entry("inputs", [
      ...feature([0x12, ...lenPrefixed(floats)]),
      ...feature([0x12, ...lenPrefixed(floats)]),
    ]);
    expect(decodeSequenceExample(example(labels, inputs))).toEqual({ labels: [198, 1], inputs: [5, 5] });
  });

  it("skips a context and unknown fields; reads entries in any order", () => {
    const labels = entry("labels", feature([0x1a, 0x03, 0x0a, 0x01, 0x07]));
    const context = [0x0a, 0x02, 0x0a, 0x00]; // Features{feature: {}} at field 1
    const unknown = [0x28, 0x05]; // field 5, varint
    const ex = bytes(context, unknown, 0x12, lenPrefixed([...labels, ...entry("extra", [])]));
    expect(decodeSequenceExample(ex)).toEqual({ labels: [7] });
  });

  it("an empty labels list is an empty example", () => {
    expect(decodeSequenceExample(encodeSequenceExample({ labels: [] }))).toEqual({ labels: [] });
    expect(decodeSequenceExample(example(entry("labels", [])))).toEqual({ labels: [] });
  });

  it("corrupt or foreign bytes → ProtobufError naming the problem", () => {
    const good = encodeSequenceExample({ inputs: [0, 3], labels: [3, 1] });
    const cases: [Uint8Array, RegExp][] = [
      [new Uint8Array(0), /no 'labels' feature list/],
      [good.subarray(0, good.length - 3), /not a SequenceExample: invalid protobuf/],
      [bytes(0x12, 0x05, 0x0a), /not a SequenceExample/],
      [bytes(0x10, 0x01), /feature_lists has wire type 0/],
      [example(entry("labels", feature([0x12, 0x04, 0x0a, 0x02, 0, 0]))), /labels step 0 is float_list/],
      [example(entry("labels", feature([0x1a, 0x04, 0x0a, 0x02, 0x01, 0x02]))), /labels step 0 has 2 values/],
      [example(entry("labels", feature([0x1a, 0x04, 0x0a, 0x02, 0x83, 0x02]))), /labels step 0 is 259/],
      [example(entry("labels", feature([0x1a, 0x02, 0x0a, 0x00]))), /has 0 values/],
      [example(entry("labels", feature([]))), /labels step 0 is empty/],
    ];
    for (const [b, re] of cases) expect(protobufError(() => decodeSequenceExample(b)).message).toMatch(re);
  });

  it("inputs that are not one-hot vectors of 259 are rejected", () => {
    const labels = entry("labels", feature([0x1a, 0x03, 0x0a, 0x01, 0x01]));
    const floatsFeature = (f: number[]) => feature([0x12, ...lenPrefixed([0x0a, ...lenPrefixed(f)])]);
    const twoHot = oneHotFloats(3);
    twoHot[4 * 9 + 2] = 0x80;
    twoHot[4 * 9 + 3] = 0x3f;
    const half = oneHotFloats(3);
    half[4 * 3 + 3] = 0x3f;
    half[4 * 3 + 2] = 0x00; // 0.5 = 00 00 00 3F
    const cases: [number[], RegExp][] = [
      [twoHot, /not one-hot \(2 ones\)/],
      [new Array(4 * NUM_CLASSES).fill(0), /not one-hot \(0 ones\)/],
      [half, /not one-hot \(value 0.5 at 3\)/],
      [oneHotFloats(3).slice(0, 4 * 258), /has 258 floats/],
      [oneHotFloats(3).slice(0, 4 * 259 - 1), /cut short/],
    ];
    for (const [floats, re] of cases) {
      const ex = example(entry("inputs", floatsFeature(floats)), labels);
      expect(protobufError(() => decodeSequenceExample(ex)).message).toMatch(re);
    }
    const mismatch = example(
      entry("inputs", [...floatsFeature(oneHotFloats(1)), ...floatsFeature(oneHotFloats(1))]),
      labels,
    );
    expect(protobufError(() => decodeSequenceExample(mismatch)).message).toMatch(/2 inputs but 1 labels/);
  });

  it("random bytes never throw anything but ProtobufError", () => {
    const good = encodeSequenceExample({ inputs: [0, 70, 198], labels: [70, 198, 1] });
    fc.assert(
      fc.property(
        fc.uint8Array({ maxLength: 64 }),
        fc.nat(),
        fc.integer({ min: 0, max: 255 }),
        (junk, at, b) => {
          for (const candidate of [junk, good.map((x, i) => (i === at % good.length ? b : x))]) {
            try {
              decodeSequenceExample(candidate);
            } catch (e) {
              expect(e).toBeInstanceOf(ProtobufError);
              expect((e as Error).message).toMatch(/^not a SequenceExample: /);
            }
          }
        },
      ),
    );
  });
});
