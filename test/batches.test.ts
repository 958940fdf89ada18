import { describe, expect, it } from "vitest";
import {
  DatasetError,
  EvalBatches,
  ExampleSet,
  evalBatchCount,
  mixSeed,
  permutation,
  TrainingBatches,
} from "../src/dataset/batches.js";
import { encodeSequenceExample } from "../src/dataset/sequence_example.js";

const EXAMPLES = [
  { labels: [10, 2, 1] }, // length 3
  { labels: [20, 21, 2, 30, 2, 1] }, // length 6
  { labels: [1] }, // length 1
];

describe("ExampleSet", () => {
  it("derives inputs from labels: START, then the labels shifted by one", () => {
    const set = ExampleSet.fromIds(EXAMPLES);
    expect(set.count).toBe(3);
    expect(set.tokens).toBe(10);
    expect([...set.inputs(1)]).toEqual([0, 20, 21, 2, 30, 2]);
    expect([...set.labels(1)]).toEqual([20, 21, 2, 30, 2, 1]);
    expect([...set.inputs(2)]).toEqual([0]);
  });

  it("makes time-major batches padded with -1 to the longest sequence", () => {
    const set = ExampleSet.fromIds(EXAMPLES);
    const b = set.makeBatch([0, 1, 2]);
    expect(b.batchSize).toBe(3);
    expect(b.length).toBe(6);
    expect([...b.lengths]).toEqual([3, 6, 1]);
    // Row t holds (example 0, example 1, example 2) at step t.
    // biome-ignore format: one row per time step
    expect([...b.inputs]).toEqual([
      0, 0, 0,
      10, 20, -1,
      2, 21, -1,
      -1, 2, -1,
      -1, 30, -1,
      -1, 2, -1,
    ]);
    // biome-ignore format: one row per time step
    expect([...b.labels]).toEqual([
      10, 20, 1,
      2, 21, -1,
      1, 2, -1,
      -1, 30, -1,
      -1, 2, -1,
      -1, 1, -1,
    ]);
    // Only as long as the longest member: no truncation and no extra padding.
    expect(set.makeBatch([0, 2]).length).toBe(3);
  });

  it("loads records with and without one-hot inputs, and checks that inputs agree with labels", async () => {
    const records = [
      encodeSequenceExample({ labels: [10, 2, 1] }),
      encodeSequenceExample({ labels: [20, 2, 1], inputs: [0, 20, 2] }),
    ];
    const set = await ExampleSet.fromRecords(records, "train.tfrecord");
    expect(set.count).toBe(2);
    expect(set.report).toEqual({ skippedEmpty: 0, withInputs: 1 });
    expect([...set.inputs(1)]).toEqual([0, 20, 2]);
    const bad = [encodeSequenceExample({ labels: [20, 2, 1], inputs: [0, 21, 2] })];
    await expect(ExampleSet.fromRecords(bad, "x.tfrecord")).rejects.toThrow(
      /x\.tfrecord: record 0: inputs\[1\] = 21 but labels\[0\] = 20/,
    );
    await expect(ExampleSet.fromRecords([new Uint8Array([0xff, 0xff])], "y.tfrecord")).rejects.toThrow(
      /y\.tfrecord: record 0: /,
    );
  });

  it("skips empty records and says so", () => {
    const set = ExampleSet.fromIds([{ labels: [] }, { labels: [1] }]);
    expect(set.count).toBe(1);
    expect(set.report.skippedEmpty).toBe(1);
  });
});

describe("training batches (random, Magenta's)", () => {
  const set = ExampleSet.fromIds(Array.from({ length: 10 }, (_, i) => ({ labels: [3 + i, 1] })));
  const firstIds = (b: { inputs: Int32Array; labels: Int32Array; batchSize: number }) =>
    [...b.labels.subarray(0, b.batchSize)].map((l) => l - 3);

  it("permutes with a seed: same seed, same order; each epoch a full permutation", () => {
    const a = new TrainingBatches(set, 7, 0, "random");
    const b = new TrainingBatches(set, 7, 0, "random");
    const c = new TrainingBatches(set, 8, 0, "random");
    const seqA = [0, 1, 2, 3, 4].flatMap(() => firstIds(a.nextBatch(4)));
    const seqB = [0, 1, 2, 3, 4].flatMap(() => firstIds(b.nextBatch(4)));
    expect(seqA).toEqual(seqB);
    expect(seqA).not.toEqual([0, 1, 2, 3, 4].flatMap(() => firstIds(c.nextBatch(4))));
    // 20 examples = two epochs, each a permutation of 0..9, different from each other.
    expect([...seqA.slice(0, 10)].sort((x, y) => x - y)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    expect([...seqA.slice(10, 20)].sort((x, y) => x - y)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    expect(seqA.slice(0, 10)).not.toEqual(seqA.slice(10, 20));
  });

  it("resumes exactly from a position (step · batch size)", () => {
    const a = new TrainingBatches(set, 3, 0, "random");
    for (let i = 0; i < 7; i++) a.nextBatch(3);
    const resumed = new TrainingBatches(set, 3, 21, "random");
    expect(resumed.nextBatch(3)).toEqual(a.nextBatch(3));
  });

  it("batches larger than the set run over the epoch boundary", () => {
    const small = ExampleSet.fromIds([{ labels: [5, 1] }, { labels: [6, 1] }]);
    const b = new TrainingBatches(small, 1, 0, "random").nextBatch(5);
    expect(b.batchSize).toBe(5);
    expect(b.labels.subarray(0, 5).every((l) => l === 5 || l === 6)).toBe(true);
  });

  it("permutation and mixSeed are deterministic", () => {
    expect([...permutation(5, 1)]).toEqual([...permutation(5, 1)]);
    expect([...permutation(100, 1)].sort((x, y) => x - y)).toEqual(Array.from({ length: 100 }, (_, i) => i));
    expect(mixSeed(1, 2)).toBe(mixSeed(1, 2));
    expect(mixSeed(1, 2)).not.toBe(mixSeed(2, 1));
    expect(mixSeed(1, 2 ** 32)).not.toBe(mixSeed(1, 0));
  });
});

describe("training batches by length", () => {
  // 640 examples of lengths 1…40 in a scrambled order: 10 batches of 64 per epoch, one pool.
  const lengths = Array.from({ length: 640 }, (_, i) => 1 + ((i * 17) % 40));
  const set = ExampleSet.fromIds(
    lengths.map((n, i) => ({ labels: Array.from({ length: n }, (_, t) => 3 + ((i + t) % 200)) })),
  );
  const idsOf = (b: { labels: Int32Array; lengths: Int32Array; batchSize: number }) =>
    Array.from(b.lengths, (_, c) => `${b.lengths[c]}:${b.labels[c]}`);

  it("hands out every example once per epoch, in batches of nearly one length", () => {
    const tb = new TrainingBatches(set, 4, 0, "length");
    const random = new TrainingBatches(set, 4, 0, "random");
    const seen: string[] = [];
    let real = 0;
    let positions = 0;
    let randomPositions = 0;
    for (let i = 0; i < 10; i++) {
      const b = tb.nextBatch(64);
      seen.push(...idsOf(b));
      real += b.lengths.reduce((a, n) => a + n, 0);
      positions += b.length * 64;
      randomPositions += random.nextBatch(64).length * 64;
      expect(Math.max(...b.lengths) - Math.min(...b.lengths)).toBeLessThanOrEqual(4);
    }
    const all = Array.from({ length: 640 }, (_, i) => idsOf(set.makeBatch([i]))[0]);
    expect(seen.sort()).toEqual(all.sort());
    // 13,120 events (16 each of lengths 1…40): nearly all of the batches are real events, against about half in random batches.
    expect(real).toBe(13_120);
    expect(real / positions).toBeGreaterThan(0.9); // each batch spans 4 lengths: 93 %
    expect(real / randomPositions).toBeLessThan(0.6);
  });

  it("shuffles the batches of a pool with the seed, and resumes exactly from step · batch size", () => {
    const a = new TrainingBatches(set, 9, 0, "length");
    const b = new TrainingBatches(set, 10, 0, "length");
    const firstA = Array.from({ length: 10 }, () => a.nextBatch(64).lengths[0]);
    const firstB = Array.from({ length: 10 }, () => b.nextBatch(64).lengths[0]);
    expect(firstA).not.toEqual(firstB);
    expect([...firstA].sort((x, y) => x - y)).not.toEqual(firstA); // not shortest first
    const c = new TrainingBatches(set, 9, 0, "length");
    for (let i = 0; i < 13; i++) c.nextBatch(64);
    expect(new TrainingBatches(set, 9, 13 * 64, "length").nextBatch(64)).toEqual(c.nextBatch(64));
  });

  it("makes pools no larger than the set, so a small set's batches do not repeat a track", () => {
    const small = ExampleSet.fromIds(
      Array.from({ length: 100 }, (_, i) => ({ labels: [3 + (i % 200), 1 + (i % 5)] })),
    );
    const b = new TrainingBatches(small, 2, 0, "length").nextBatch(32);
    const distinct = new Set(idsOf(b).map((x, c) => `${x}:${b.labels[b.batchSize + c]}`));
    expect(distinct.size).toBe(32);
  });
});

describe("eval batches", () => {
  it("counts (num_eval_examples or count) // batch_size and refuses 0 as Magenta does", () => {
    expect(evalBatchCount(10, 4)).toBe(2);
    expect(evalBatchCount(10, 4, 13)).toBe(3);
    expect(() => evalBatchCount(3, 4)).toThrow(DatasetError);
    expect(() => evalBatchCount(3, 4)).toThrow(/3 eval example\(s\) with batch_size 4 makes 0 batches/);
    expect(() => evalBatchCount(0, 4)).toThrow(/makes 0 batches/);
  });

  it("goes through the file in order, the same batches for every checkpoint", () => {
    const set = ExampleSet.fromIds(Array.from({ length: 5 }, (_, i) => ({ labels: [3 + i, 1] })));
    const ev = new EvalBatches(set, 2);
    expect(ev.numBatches).toBe(2);
    const pass = () => [...ev.batches()].map((b) => [...b.labels.subarray(0, 2)]);
    expect(pass()).toEqual([
      [3, 4],
      [5, 6],
    ]);
    expect(pass()).toEqual(pass());
    // More eval examples than the file holds: wraps around.
    expect([...new EvalBatches(set, 2, 8).batches()].map((b) => [...b.labels.subarray(0, 2)])).toEqual([
      [3, 4],
      [5, 6],
      [7, 3],
      [4, 5],
    ]);
  });
});
