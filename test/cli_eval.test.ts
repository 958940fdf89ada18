import { mkdirSync, readdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { ExampleSet } from "../src/dataset/batches.js";
import { evaluateDataset } from "../src/eval/dataset.js";
import { frameNll } from "../src/eval/frames.js";
import { CheckpointManager } from "../src/io/checkpoint_files.js";
import { readTFRecordFile } from "../src/io/fs.js";
import { createReferenceKernels } from "../src/kernels/reference.js";
import type { HParams, NamedTensor } from "../src/model/api.js";
import { encodeBundle } from "../src/model/bundle.js";
import { hparamsToJson } from "../src/model/hparams.js";
import { createPolyphonyModel } from "../src/model/lstm.js";
import { TAGS } from "../src/train/metrics.js";
import { ROOT, runCli, tempDir } from "./helpers/cli.js";

const hparams: HParams = {
  batchSize: 4,
  rnnLayerSizes: [8, 6],
  dropoutKeepProb: 0.5,
  clipNorm: 5,
  learningRate: 0.001,
};

const BENCH = {
  train: [
    [[60, 64, 67], [60, 64, 67], [62], []],
    [[48], [50], [52]],
  ],
  valid: [
    [[60, 64], [64], [], [62]],
    [[72, 76, 79], [72, 76], [71, 74, 77], [72], [], [], [55, 59, 62]],
    [],
    [[21, 108]],
  ],
};
const SATB = {
  train: [[[67, 64, 60, 48]]],
  valid: [
    [
      [67, 64, 60, 48],
      [67, 64, 60, 48],
      [69, 65, -1, 53],
    ],
  ],
};

let dir: string;
let bundle: string;
let runDir: string;
let weights: NamedTensor[];
let benchFile: string;
let satbFile: string;
let dataDir: string;

const evalCli = (...args: string[]) => runCli("polyrnn", ["eval", "--kernels=reference", ...args]);

function parseJson(stdout: string): Record<string, unknown> {
  const lines = stdout.trim().split("\n");
  expect(lines).toHaveLength(1);
  return JSON.parse(lines[0]);
}

beforeAll(async () => {
  dir = tempDir("polyrnn-eval-");
  weights = createPolyphonyModel(createReferenceKernels(), hparams, { seed: 11 }).exportWeights();
  bundle = join(dir, "tiny.safetensors");
  writeFileSync(bundle, encodeBundle({ weights, hparams, step: 42, description: "tiny eval model" }));
  runDir = join(dir, "run");
  await new CheckpointManager(join(runDir, "train"), { keep: 0, keepEveryHours: 0 }).save({
    step: 7,
    weights,
    metadata: { hparams_json: hparamsToJson(hparams) },
  });
  benchFile = join(dir, "bench.json");
  writeFileSync(benchFile, JSON.stringify(BENCH));
  satbFile = join(dir, "satb.json");
  writeFileSync(satbFile, JSON.stringify(SATB));

  const notes = join(dir, "notes.tfrecord");
  const conv = runCli("polyrnn", [
    "convert",
    `--input_dir=${join(ROOT, "examples/midi")}`,
    `--output_file=${notes}`,
  ]);
  expect(conv.status, conv.stderr).toBe(0);
  dataDir = join(dir, "data");
  const ds = runCli("polyrnn", [
    "dataset",
    `--input=${notes}`,
    `--output_dir=${dataDir}`,
    "--eval_ratio=0.5",
    "--seed=1",
    "--log=ERROR",
  ]);
  expect(ds.status, ds.stderr).toBe(0);
});

/** The frame NLL computed in this process, for comparison with the CLI's. */
function expectedFrames(sequences: number[][][]) {
  const model = createPolyphonyModel(createReferenceKernels(), hparams, { seed: 0 });
  model.importWeights(weights);
  return frameNll(model, sequences);
}

describe("polyrnn eval --frames", () => {
  it("prints the frame NLL table: nats/frame, frames, sequences, END apart, the uniform baseline", () => {
    const r = evalCli(`--bundle_file=${bundle}`, `--frames=${benchFile}`);
    expect(r.status, r.stderr).toBe(0);
    const want = expectedFrames(BENCH.valid);
    expect(r.stdout).toContain("Frame NLL of bench valid: 4 sequences, 12 frames");
    expect(r.stdout).toContain(`NLL per frame        ${want.nllPerFrame.toFixed(4)} nats`);
    expect(r.stdout).toMatch(/END, reported apart +\d+\.\d{4} nats per sequence/);
    expect(r.stdout).toContain("uniform random       61.00 nats per frame");
    expect(r.stdout).toContain("tiny eval model");
  });

  it("--json prints one object with the same numbers; --split and --batch_size", () => {
    const r = evalCli(`--bundle_file=${bundle}`, `--frames=${benchFile}`, "--json", "--batch_size=3");
    expect(r.status, r.stderr).toBe(0);
    const j = parseJson(r.stdout);
    const want = expectedFrames(BENCH.valid);
    expect(j.benchmark).toBe("bench");
    expect(j.split).toBe("valid");
    expect(j.sequences).toBe(4);
    expect(j.frames).toBe(12);
    expect(j.events).toBe(want.events);
    expect(j.nll_per_frame as number).toBeCloseTo(want.nllPerFrame, 4);
    expect(j.nll_sum as number).toBeCloseTo(want.nllSum, 3);
    expect(j.end_nll_sum as number).toBeCloseTo(want.endNll.sum, 4);
    expect(j.end_nll_per_sequence as number).toBeCloseTo(want.endNll.sum / 4, 4);
    expect(j.uniform_nll_per_frame as number).toBeCloseTo(88 * Math.LN2, 10);
    expect((j.model as Record<string, unknown>).step).toBe(42);
    expect((j.model as Record<string, unknown>).rnn_layer_sizes).toEqual([8, 6]);

    const t = evalCli(`--bundle_file=${bundle}`, `--frames=${benchFile}`, "--json", "--split=train");
    expect(t.status, t.stderr).toBe(0);
    const jt = parseJson(t.stdout);
    expect(jt.sequences).toBe(2);
    expect(jt.frames).toBe(7);
    expect(jt.nll_per_frame as number).toBeCloseTo(expectedFrames(BENCH.train).nllPerFrame, 4);
  });

  it("--run_dir uses the latest checkpoint; --satb scores four-voice steps", () => {
    const a = parseJson(evalCli(`--run_dir=${runDir}`, `--frames=${benchFile}`, "--json").stdout);
    const b = parseJson(evalCli(`--bundle_file=${bundle}`, `--frames=${benchFile}`, "--json").stdout);
    expect(a.nll_per_frame).toBe(b.nll_per_frame);
    expect((a.model as Record<string, unknown>).step).toBe(7);
    expect((a.model as Record<string, unknown>).kind).toBe("checkpoint");
    // One checkpoint file given as --bundle_file serves too.
    const ckpt = join(
      runDir,
      "train",
      readdirSync(join(runDir, "train")).find((f) => f.endsWith(".safetensors")) ?? "",
    );
    const c = parseJson(evalCli(`--bundle_file=${ckpt}`, `--frames=${benchFile}`, "--json").stdout);
    expect(c.nll_per_frame).toBe(a.nll_per_frame);
    expect((c.model as Record<string, unknown>).kind).toBe("checkpoint");
    expect((c.model as Record<string, unknown>).step).toBe(7);

    const s = evalCli(`--bundle_file=${bundle}`, `--frames=${satbFile}`, "--satb", "--json");
    expect(s.status, s.stderr).toBe(0);
    const js = parseJson(s.stdout);
    expect(js.satb).toBe(true);
    expect(js.sequences).toBe(1);
    expect(js.frames).toBe(3);
    // No unison in these steps: the same events as the frames [[67,64,60,48], [67,64,60,48], [69,65,53]].
    const want = expectedFrames([
      [
        [67, 64, 60, 48],
        [67, 64, 60, 48],
        [69, 65, 53],
      ],
    ]);
    expect(js.nll_per_frame as number).toBeCloseTo(want.nllPerFrame, 4);
  });
});

describe("polyrnn eval --sequence_example_file", () => {
  it("prints Magenta's eval metrics (dropout on by default)", () => {
    const file = join(dataDir, "eval_poly_tracks.tfrecord");
    const r = evalCli(`--bundle_file=${bundle}`, `--sequence_example_file=${file}`);
    expect(r.status, r.stderr).toBe(0);
    for (const tag of Object.values(TAGS)) expect(r.stdout).toMatch(new RegExp(`^  ${tag} +\\d`, "m"));
    expect(r.stdout).toContain("dropout on (seed 0)");
  });

  it("--json: the metrics of evaluateDataset, seeded; --nodropout differs", async () => {
    const file = join(dataDir, "eval_poly_tracks.tfrecord");
    const set = await ExampleSet.fromRecords(readTFRecordFile(file), file);
    const model = createPolyphonyModel(createReferenceKernels(), hparams, { seed: 0 });
    model.importWeights(weights);
    const losses: number[] = [];
    for (const dropout of [true, false]) {
      const args = [`--bundle_file=${bundle}`, `--sequence_example_file=${file}`, "--json", "--seed=3"];
      const r = evalCli(...args, dropout ? "--dropout" : "--nodropout");
      expect(r.status, r.stderr).toBe(0);
      const j = parseJson(r.stdout);
      const want = evaluateDataset(model, set, {
        dropout,
        seed: 3,
        step: (j.model as { step: number }).step,
      });
      expect(j.dropout).toBe(dropout);
      expect(j.examples).toBe(set.count);
      expect(j.tokens).toBe(set.tokens);
      expect(j.batch_size).toBe(4);
      const metrics = j.metrics as Record<string, number>;
      expect(Object.keys(metrics).sort()).toEqual(Object.values(TAGS).sort());
      for (const tag of Object.values(TAGS)) expect(metrics[tag], tag).toBeCloseTo(want.metrics[tag], 4);
      losses.push(metrics.loss);
    }
    expect(losses[0]).not.toBe(losses[1]);
    // Magenta's batch count: num_eval_examples // batch_size full batches.
    const m = evalCli(
      `--bundle_file=${bundle}`,
      `--sequence_example_file=${file}`,
      "--json",
      "--num_eval_examples=3",
      "--batch_size=2",
    );
    expect(m.status, m.stderr).toBe(0);
    expect(parseJson(m.stdout).batches).toBe(1);
  });
});

describe("polyrnn eval: errors", () => {
  it("names what is missing or wrong", () => {
    const noModel = evalCli(`--frames=${benchFile}`);
    expect(noModel.status).toBe(2);
    expect(noModel.stderr).toContain("no model given");

    const missing = evalCli(`--bundle_file=${join(dir, "nope.safetensors")}`, `--frames=${benchFile}`);
    expect(missing.status).toBe(1);
    expect(missing.stderr).toMatch(/cannot read .*nope\.safetensors: no such file/);

    // The same words for every file a command reads: a folder where a file belongs "is a folder".
    const folderBundle = evalCli(`--bundle_file=${dir}`, `--frames=${benchFile}`);
    expect(folderBundle.stderr).toContain(`error: cannot read ${dir}: is a folder`);
    const folderFrames = evalCli(`--bundle_file=${bundle}`, `--frames=${dir}`);
    expect(folderFrames.stderr).toContain(`error: cannot read ${dir}: is a folder`);

    const emptyRun = join(dir, "empty_run");
    mkdirSync(emptyRun, { recursive: true });
    const noCkpt = evalCli(`--run_dir=${emptyRun}`, `--frames=${benchFile}`);
    expect(noCkpt.status).toBe(1);
    expect(noCkpt.stderr).toContain("no checkpoint in");

    const notBundle = evalCli(`--bundle_file=${benchFile}`, `--frames=${benchFile}`);
    expect(notBundle.status).toBe(1);
    expect(notBundle.stderr).toContain("not a polyrnn bundle");

    const badJson = join(dir, "bad.json");
    writeFileSync(badJson, '{"valid": [[[60]]');
    const bad = evalCli(`--bundle_file=${bundle}`, `--frames=${badJson}`);
    expect(bad.status).toBe(1);
    expect(bad.stderr).toMatch(/bad\.json: not valid JSON/);

    const split = evalCli(`--bundle_file=${bundle}`, `--frames=${benchFile}`, "--split=test");
    expect(split.status).toBe(1);
    expect(split.stderr).toContain('no split "test"; its splits: train, valid');

    const badPitch = join(dir, "pitch.json");
    writeFileSync(badPitch, JSON.stringify({ valid: [[[60], [200]]] }));
    const pitch = evalCli(`--bundle_file=${bundle}`, `--frames=${badPitch}`);
    expect(pitch.status).toBe(1);
    expect(pitch.stderr).toContain("frame 1: 200 is not a MIDI pitch");

    const noData = evalCli(`--bundle_file=${bundle}`, `--frames=${join(dir, "none.json")}`);
    expect(noData.status).toBe(1);
    expect(noData.stderr).toContain("no such file");
  });

  it("refuses flags that do not go together", () => {
    const file = join(dataDir, "eval_poly_tracks.tfrecord");
    const cases: [string[], RegExp][] = [
      [[`--bundle_file=${bundle}`], /exactly one of --sequence_example_file, --frames or --music/],
      [
        [`--bundle_file=${bundle}`, `--frames=${benchFile}`, `--sequence_example_file=${file}`],
        /exactly one of/,
      ],
      [[`--bundle_file=${bundle}`, `--run_dir=${runDir}`, `--frames=${benchFile}`], /both/],
      [[`--bundle_file=${bundle}`, `--frames=${benchFile}`, "--nodropout"], /--dropout goes with/],
      [[`--bundle_file=${bundle}`, `--sequence_example_file=${file}`, "--split=train"], /--split goes with/],
      [[`--bundle_file=${bundle}`, `--frames=${benchFile}`, "--kernels=gpu"], /--kernels=gpu/],
      [[`--bundle_file=${bundle}`, `--frames=${benchFile}`, "--bogus"], /unknown flag --bogus/],
    ];
    for (const [args, re] of cases) {
      const r = evalCli(...args);
      expect(r.status, args.join(" ")).toBe(2);
      expect(r.stderr).toMatch(re);
    }
  });

  it("is listed in polyrnn --help and has its own --help", () => {
    expect(runCli("polyrnn", ["--help"]).stdout).toMatch(/^ {2}eval {7}/m);
    const h = runCli("polyrnn", ["eval", "--help"]);
    expect(h.status).toBe(0);
    for (const flag of [
      "--bundle_file",
      "--run_dir",
      "--frames",
      "--split",
      "--satb",
      "--json",
      "--dropout",
    ]) {
      expect(h.stdout).toContain(flag);
    }
  });
});
