/**
 * The one training core: a checkpoint written before steps per quarter were recorded resumes and goes on
 * as an uninterrupted run does; steps per quarter are recorded in bundles and checkpoints; the loop's
 * callbacks come when their policy says; the hparams table drives every format.
 */
import { copyFileSync, mkdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { ExampleSet } from "../src/dataset/batches.js";
import { loadCheckpoint } from "../src/io/checkpoint_files.js";
import { readTFRecordFile } from "../src/io/fs.js";
import { decodeSafetensors, encodeSafetensors } from "../src/io/safetensors.js";
import { createReferenceKernels } from "../src/kernels/reference.js";
import { BundleError, encodeBundle, INT8_SCALE_SUFFIX, loadBundle } from "../src/model/bundle.js";
import {
  DEFAULT_HPARAMS,
  formatHParams,
  HPARAM_NAMES,
  hparamsToJson,
  parseHParams,
  sameHParams,
} from "../src/model/hparams.js";
import { decodeCheckpoint } from "../src/train/checkpoint_format.js";
import { trainLoop } from "../src/train/loop.js";
import { DivergedError, Trainer } from "../src/train/step.js";
import { ROOT, runCli, tempDir } from "./helpers/cli.js";

const FIXTURES = join(ROOT, "test/fixtures/train");
const DATASET = join(FIXTURES, "training_poly_tracks.tfrecord");
const OLD_CHECKPOINT = join(FIXTURES, "model.ckpt-3.safetensors");
/** The fixture checkpoint's run (see test/fixtures/train/README.md). */
const OLD_HPARAMS = "--hparams=batch_size=2,rnn_layer_sizes=[4]";
const OLD_SEED = 5;

function train(runDir: string, ...args: string[]) {
  return runCli("polyrnn", [
    "train",
    `--run_dir=${runDir}`,
    `--sequence_example_file=${DATASET}`,
    "--kernels=reference",
    "--summary_frequency=1",
    ...args,
  ]);
}

function tensors(path: string): Map<string, Float32Array> {
  return new Map(decodeSafetensors(readFileSync(path)).tensors.map((t) => [t.name, t.data]));
}

function losses(runDir: string): Map<number, number> {
  const lines = readFileSync(join(runDir, "train/metrics.jsonl"), "utf8").trim().split("\n");
  return new Map(lines.map((l) => JSON.parse(l)).map((j) => [j.step, j.loss]));
}

describe("a checkpoint written before steps per quarter were recorded", () => {
  it("loads with 4 steps per quarter, its hparams, seed and Adam state", async () => {
    expect(decodeSafetensors(readFileSync(OLD_CHECKPOINT)).metadata.steps_per_quarter).toBeUndefined();
    const ckpt = await loadCheckpoint(OLD_CHECKPOINT);
    expect(ckpt).toMatchObject({ step: 3, stepsPerQuarter: 4, seed: OLD_SEED });
    expect(ckpt.hparams?.rnnLayerSizes).toEqual([4]);
    expect(ckpt.optimizer?.tensors.length).toBe(8);
    const asBundle = loadBundle(readFileSync(OLD_CHECKPOINT));
    expect(asBundle).toMatchObject({ step: 3, stepsPerQuarter: 4 });
  });

  it("resumes with polyrnn train and goes on exactly as an uninterrupted run of today's code", () => {
    const resumed = tempDir();
    mkdirSync(join(resumed, "train"));
    copyFileSync(OLD_CHECKPOINT, join(resumed, "train/model.ckpt-3.safetensors"));
    const r = train(resumed, "--num_training_steps=6");
    expect(r.status, r.stderr).toBe(0);
    expect(r.stderr).toContain("at step 3.");
    expect(r.stderr).toContain(`seed ${OLD_SEED},`);
    const saved = decodeSafetensors(readFileSync(join(resumed, "train/model.ckpt-6.safetensors"))).metadata;
    expect(saved).toMatchObject({ step: "6", steps_per_quarter: "4", seed: String(OLD_SEED) });

    // From scratch, every step saved: step 3 is the fixture (written by the code before this one) and
    // steps 4-6 are the resumed run's, bit for bit.
    const straight = tempDir();
    const s = train(
      straight,
      OLD_HPARAMS,
      `--seed=${OLD_SEED}`,
      "--num_training_steps=6",
      "--checkpoint_secs=0",
      "--num_checkpoints=0",
    );
    expect(s.status, s.stderr).toBe(0);
    const old = tensors(OLD_CHECKPOINT);
    const now = tensors(join(straight, "train/model.ckpt-3.safetensors"));
    expect([...now.keys()].sort()).toEqual([...old.keys()].sort());
    for (const [name, data] of old) {
      const mine = now.get(name) as Float32Array;
      for (let i = 0; i < data.length; i++) {
        expect(Math.abs(mine[i] - data[i]), name).toBeLessThanOrEqual(1e-6 * (1 + Math.abs(data[i])));
      }
    }
    const a = tensors(join(resumed, "train/model.ckpt-6.safetensors"));
    const b = tensors(join(straight, "train/model.ckpt-6.safetensors"));
    expect([...a.keys()].sort()).toEqual([...b.keys()].sort());
    for (const [name, data] of a) expect(data, name).toEqual(b.get(name));
    const resumedLosses = losses(resumed);
    const straightLosses = losses(straight);
    expect([...resumedLosses.keys()]).toEqual([4, 5, 6]);
    for (const step of [4, 5, 6]) expect(resumedLosses.get(step)).toBe(straightLosses.get(step));
  });
});

describe("steps per quarter", () => {
  const hparams = parseHParams("batch_size=2,rnn_layer_sizes=[4]");
  let weights: ReturnType<typeof loadBundle>["weights"];
  beforeAll(() => {
    weights = loadBundle(readFileSync(OLD_CHECKPOINT)).weights;
  });

  it("are recorded in bundles (default 4) and read back; a bad value is refused", () => {
    const four = encodeBundle({ weights, hparams, step: 3, description: "" });
    expect(decodeSafetensors(four).metadata.steps_per_quarter).toBe("4");
    expect(loadBundle(four).stepsPerQuarter).toBe(4);
    const three = encodeBundle({ weights, hparams, step: 3, description: "", stepsPerQuarter: 3 });
    expect(loadBundle(three).stepsPerQuarter).toBe(3);

    const { tensors, metadata } = decodeSafetensors(four);
    for (const bad of ["0", "x", "2.5", "1000"]) {
      const bytes = encodeSafetensors(tensors, { ...metadata, steps_per_quarter: bad });
      expect(() => loadBundle(bytes), bad).toThrow(BundleError);
      expect(() => loadBundle(bytes), bad).toThrow(/steps_per_quarter .* is not a whole number from 1 to/);
    }
    // A bundle written before they were recorded reads as 4.
    const { steps_per_quarter: _, ...old } = metadata;
    expect(loadBundle(encodeSafetensors(tensors, old)).stepsPerQuarter).toBe(4);
  });

  it("an int8 bundle without a matrix's scales, or with scales of the wrong shape, is refused by name", () => {
    const q = encodeBundle({ weights, hparams, step: 3, description: "", dtype: "int8" });
    const { tensors, metadata } = decodeSafetensors(q);
    const kernel = tensors.find((t) => t.dtype === "I8") as (typeof tensors)[number];
    const scaleName = kernel.name + INT8_SCALE_SUFFIX;
    const without = tensors.filter((t) => t.name !== scaleName);
    const cols = kernel.shape[kernel.shape.length - 1];
    const message = `int8 tensor ${kernel.name} needs a float tensor ${scaleName} of shape [${cols}] beside it`;
    expect(() => loadBundle(encodeSafetensors(without, metadata))).toThrow(message);
    const short = [...without, { name: scaleName, shape: [cols - 1], data: new Float32Array(cols - 1) }];
    expect(() => loadBundle(encodeSafetensors(short, metadata))).toThrow(message);
    // Read back, the weights are the integers times their column's scale.
    const back = loadBundle(q).weights.find((w) => w.name === kernel.name) as (typeof weights)[number];
    const scale = tensors.find((t) => t.name === scaleName)?.data as Float32Array;
    expect(back.data).toEqual(Float32Array.from(kernel.data, (v, i) => v * scale[i % cols]));
  });

  it("are recorded in checkpoints, carried into bundles, and a resume at another grid is refused", async () => {
    const examples = await ExampleSet.fromRecords(readTFRecordFile(DATASET), DATASET);
    const kernels = createReferenceKernels();
    const t = new Trainer(kernels, hparams, examples, 1, { stepsPerQuarter: 3 });
    t.step();
    const bytes = t.checkpoint();
    expect(decodeCheckpoint(bytes)).toMatchObject({ step: 1, stepsPerQuarter: 3, seed: 1 });
    expect(loadBundle(t.bundle("x")).stepsPerQuarter).toBe(3);
    t.dispose();
    const resumed = new Trainer(kernels, hparams, examples, 1, { checkpoint: bytes });
    expect(resumed.stepsPerQuarter).toBe(3);
    resumed.dispose();
    expect(
      () => new Trainer(kernels, hparams, examples, 1, { checkpoint: bytes, stepsPerQuarter: 4 }),
    ).toThrow(/trained on music at 3 steps per quarter note, this run has 4/);
  });
});

describe("trainLoop", () => {
  const hparams = parseHParams("batch_size=2,rnn_layer_sizes=[4]");
  let examples: ExampleSet;
  beforeAll(async () => {
    examples = await ExampleSet.fromRecords(readTFRecordFile(DATASET), DATASET);
  });

  it("calls back each step, summaries, evaluations and checkpoints when their policy says", async () => {
    const t = new Trainer(createReferenceKernels(), hparams, examples, 1);
    const events: string[] = [];
    const r = await trainLoop(t, {
      numSteps: 7,
      onStep: (m) => {
        events.push(`step ${m.step}`);
      },
      summaryEverySteps: 3,
      onSummary: (m, rate) => {
        expect(rate).toBeGreaterThan(0);
        events.push(`summary ${m.step}`);
      },
      evalEverySteps: 4,
      onEval: (step) => {
        events.push(`eval ${step}`);
      },
      saveAtStart: true,
      saveEverySteps: 5,
      save: (snapshot) => {
        events.push(`save ${snapshot.step}`);
        return `ckpt-${snapshot.step}`;
      },
    });
    expect(r).toMatchObject({ step: 7, stopped: "steps", lastCheckpoint: "ckpt-7" });
    expect(r.last?.step).toBe(7);
    expect(events.filter((e) => !e.startsWith("step "))).toEqual([
      "save 0",
      "summary 3",
      "summary 4", // before the evaluation at 4
      "eval 4",
      "save 5",
      "summary 6",
      "summary 7", // the last step
      "save 7",
    ]);
    expect(events.filter((e) => e.startsWith("step ")).length).toBe(7);
    t.dispose();
  });

  it("stops on the signal and saves; skips the start save of a resumed step", async () => {
    const t = new Trainer(createReferenceKernels(), hparams, examples, 1);
    const stop = new AbortController();
    const saved: number[] = [];
    const r = await trainLoop(t, {
      numSteps: Number.POSITIVE_INFINITY,
      signal: stop.signal,
      onStep: (m) => {
        if (m.step === 2) stop.abort();
      },
      saveAtStart: true,
      savedAs: "resumed.ckpt",
      save: (s) => {
        saved.push(s.step);
        return undefined;
      },
    });
    expect(r).toMatchObject({ step: 2, stopped: "aborted", lastCheckpoint: "resumed.ckpt" });
    expect(saved).toEqual([2]);
    t.dispose();
  });

  it("stops on a diverged loss, naming the last good checkpoint, and refuses to save non-finite weights", async () => {
    const hot = parseHParams("batch_size=2,rnn_layer_sizes=[4],learning_rate=1e38");
    const t = new Trainer(createReferenceKernels(), hot, examples, 1);
    const run = trainLoop(t, {
      numSteps: 50,
      saveAtStart: true,
      save: (s) => `ckpt-${s.step}`,
      divergedHint: "try something",
    });
    await expect(run).rejects.toThrow(DivergedError);
    await expect(run).rejects.toThrow(
      /^loss is NaN at step \d+: training diverged \(try something\)\. Stopped; the last good checkpoint is ckpt-0\.$/,
    );
    t.dispose();

    const inf = new Trainer(createReferenceKernels(), { ...hot, learningRate: 1e40 }, examples, 1);
    await expect(
      trainLoop(inf, { numSteps: 5, saveAtStart: true, saveEverySteps: 1, save: (s) => `ckpt-${s.step}` }),
    ).rejects.toThrow(
      /weights became NaN or infinite at step 1 .*not saving\. Last good checkpoint: ckpt-0\./,
    );
    inf.dispose();
  });
});

describe("the hparams table", () => {
  it("names, formats and stores every field once", () => {
    expect(HPARAM_NAMES).toBe("batch_size, rnn_layer_sizes, dropout_keep_prob, clip_norm, learning_rate");
    const names = HPARAM_NAMES.split(", ");
    expect(
      formatHParams(DEFAULT_HPARAMS)
        .split(",")
        .filter((p) => p.includes("=")),
    ).toHaveLength(names.length);
    expect(Object.keys(JSON.parse(hparamsToJson(DEFAULT_HPARAMS)))).toEqual(names);
    expect(Object.keys(DEFAULT_HPARAMS)).toHaveLength(names.length);
    expect(Object.isFrozen(DEFAULT_HPARAMS) && Object.isFrozen(DEFAULT_HPARAMS.rnnLayerSizes)).toBe(true);
  });

  it("sameHParams compares every field, the layer sizes element by element", () => {
    expect(sameHParams(DEFAULT_HPARAMS, parseHParams(formatHParams(DEFAULT_HPARAMS)))).toBe(true);
    expect(sameHParams(DEFAULT_HPARAMS, { ...DEFAULT_HPARAMS, learningRate: 0.0003 })).toBe(false);
    expect(sameHParams(DEFAULT_HPARAMS, { ...DEFAULT_HPARAMS, rnnLayerSizes: [256, 256, 128] })).toBe(false);
    expect(
      sameHParams(DEFAULT_HPARAMS, { ...DEFAULT_HPARAMS, rnnLayerSizes: [...DEFAULT_HPARAMS.rnnLayerSizes] }),
    ).toBe(true);
  });
});
