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

describe("training batches", () => {
  const set = ExampleSet.fromIds(Array.from({ length: 10 }, (_, i) => ({ labels: [3 + i, 1] })));
  const firstIds = (b: { inputs: Int32Array; labels: Int32Array; batchSize: number }) =>
    [...b.labels.subarray(0, b.batchSize)].map((l) => l - 3);

  it("permutes with a seed: same seed, same order; each epoch a full permutation", () => {
    const a = new TrainingBatches(set, 7);
    const b = new TrainingBatches(set, 7);
    const c = new TrainingBatches(set, 8);
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
    const a = new TrainingBatches(set, 3);
    for (let i = 0; i < 7; i++) a.nextBatch(3);
    const resumed = new TrainingBatches(set, 3, 21);
    expect(resumed.nextBatch(3)).toEqual(a.nextBatch(3));
  });

  it("batches larger than the set run over the epoch boundary", () => {
    const small = ExampleSet.fromIds([{ labels: [5, 1] }, { labels: [6, 1] }]);
    const b = new TrainingBatches(small, 1).nextBatch(5);
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
