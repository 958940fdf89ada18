/**
 * Issue 19: every command's flags, driven with random and extreme values (fast-check), must end on their
 * own with status 0, 1 or 2 and no `internal error`, stack trace or Node abort. Bounded: 24 runs within
 * 45 s (POLYRNN_FUZZ_RUNS and POLYRNN_FUZZ_SECONDS raise both for a longer hunt).
 *
 * Each run starts in a fresh folder holding small, valid fixtures (a MIDI file, a bundle, NoteSequences,
 * SequenceExamples, a run with a checkpoint) and hostile ones (a FIFO, a link to /dev/zero, a file where
 * a folder should be). Values are relative paths only, so no run can write outside the test's folder.
 */
import { execFileSync } from "node:child_process";
import { copyFileSync, mkdirSync, mkdtempSync, symlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import fc from "fast-check";
import { beforeAll, describe, expect, it } from "vitest";
import type { FlagTable } from "../src/cli/args.js";
import { CONVERT_FLAGS } from "../src/cli/convert.js";
import { DATASET_FLAGS } from "../src/cli/dataset.js";
import { EVAL_FLAGS } from "../src/cli/eval.js";
import { GENERATE_FLAGS } from "../src/cli/generate.js";
import { PLOT_FLAGS } from "../src/cli/plot.js";
import { RENDER_FLAGS } from "../src/cli/render.js";
import { STUDIO_FLAGS } from "../src/cli/studio.js";
import { TRAIN_FLAGS } from "../src/cli/train.js";
import { CheckpointManager } from "../src/io/checkpoint_files.js";
import { hparamsToJson } from "../src/model/hparams.js";
import { runCli, tempDir } from "./helpers/cli.js";
import { smf } from "./helpers/smf.js";
import { tinyWeights, writeTinyBundle } from "./helpers/tiny_model.js";

const hparams = { batchSize: 2, rnnLayerSizes: [8], dropoutKeepProb: 0.5, clipNorm: 5, learningRate: 0.001 };

interface Command {
  flags: FlagTable;
  /** Valid, fast arguments; fuzzed flags come after them (the last value of a flag wins). */
  base: string[];
  /** Flags whose large valid values are long work or waiting by design (not hangs): not fuzzed. */
  exclude?: string[];
  /** A server: still running when the time is up means it started. */
  server?: boolean;
}

const COMMANDS: Record<string, Command> = {
  convert: { flags: CONVERT_FLAGS, base: ["--input_dir=midi", "--output_file=out.tfrecord", "--jobs=1"] },
  dataset: { flags: DATASET_FLAGS, base: ["--input=notes.tfrecord", "--output_dir=ds", "--min_steps=8"] },
  train: {
    flags: TRAIN_FLAGS,
    base: [
      "--run_dir=newrun",
      "--sequence_example_file=examples.tfrecord",
      "--num_training_steps=1",
      "--hparams=rnn_layer_sizes=[8],batch_size=2",
      // WebAssembly, not the reference: a fuzzed `--hparams=` puts back the default 3×256 model, whose one
      // step takes the reference kernels over the time limit on a busy machine (long work, not a hang).
      "--kernels=wasm",
      "--eval_timeout_secs=1",
    ],
    exclude: ["num_training_steps", "eval_timeout_secs", "num_eval_examples"],
  },
  generate: {
    flags: GENERATE_FLAGS,
    base: [
      "--bundle_file=tiny.safetensors",
      "--output_dir=gen",
      "--kernels=reference",
      "--num_steps=16",
      "--num_outputs=1",
    ],
  },
  eval: {
    flags: EVAL_FLAGS,
    base: [
      "--bundle_file=tiny.safetensors",
      "--sequence_example_file=examples.tfrecord",
      "--kernels=reference",
    ],
    exclude: ["num_eval_examples"],
  },
  plot: { flags: PLOT_FLAGS, base: ["in.mid", "--output=roll.svg"] },
  render: { flags: RENDER_FLAGS, base: ["in.mid", "--output=sound.wav"] },
  studio: { flags: STUDIO_FLAGS, base: ["--port=0"], server: true },
};

const INTS = [
  "-1",
  "0",
  "1",
  "2",
  "3",
  "2147483648",
  "9007199254740991",
  "9007199254740993",
  "1e3",
  "0x10",
  "abc",
  "",
];
const FLOATS = ["-1", "0", "-0", "0.5", "1", "2", "1e-300", "1e308", "-1e308", "NaN", "Infinity", "abc", ""];
const BOOLS = ["true", "false", "maybe", ""];
const STRINGS = [
  "",
  "x",
  "../x",
  "missing/deep/x",
  "blocker/x", // under a file
  "fifo.mid", // a FIFO
  "zero.mid", // a link to /dev/zero
  "broken.mid", // a link to nothing
  "in.mid",
  "tiny.safetensors",
  "notes.tfrecord",
  "examples.tfrecord",
  "run",
  "[]",
  "[999999999]",
  "[60,-2,62]",
  "-1",
  "𝄞",
  "rnn_layer_sizes=[100000]",
  "batch_size=0",
  "a,b",
  "x".repeat(300),
];

function valuesFor(type: string): fc.Arbitrary<string | undefined> {
  const bare = fc.constant(undefined); // `--flag` with no value
  if (type === "int") return fc.oneof(fc.constantFrom(...INTS), fc.integer({ min: -3, max: 4 }).map(String));
  if (type === "float") return fc.constantFrom(...FLOATS);
  if (type === "bool") return fc.oneof(fc.constantFrom(...BOOLS), bare);
  return fc.constantFrom(...STRINGS);
}

const invocation = fc.constantFrom(...Object.keys(COMMANDS)).chain((name) => {
  const cmd = COMMANDS[name];
  const names = Object.keys(cmd.flags).filter((f) => !cmd.exclude?.includes(f));
  const flag = fc
    .constantFrom(...names)
    .chain((f) => valuesFor(cmd.flags[f].type).map((v) => (v === undefined ? `--${f}` : `--${f}=${v}`)));
  return fc.record({ name: fc.constant(name), flags: fc.array(flag, { minLength: 1, maxLength: 3 }) });
});

let fixtures: string;

beforeAll(async () => {
  fixtures = tempDir("polyrnn-fuzz-fixtures-");
  const midi = smf(
    96,
    Array.from({ length: 48 }, (_, i) => [
      [0, 0x90, 60 + (i % 7), 64],
      [48, 0x80, 60 + (i % 7), 0],
    ]).flat(),
  );
  mkdirSync(join(fixtures, "midi"));
  writeFileSync(join(fixtures, "midi", "a.mid"), midi);
  writeFileSync(join(fixtures, "in.mid"), midi);
  const weights = tinyWeights(hparams);
  writeTinyBundle(join(fixtures, "tiny.safetensors"), weights, hparams);
  await new CheckpointManager(join(fixtures, "run", "train"), { keep: 0 }).save({
    step: 1,
    weights,
    metadata: { hparams_json: hparamsToJson(hparams) },
  });
  const convert = runCli(
    "polyrnn",
    ["convert", "--input_dir=midi", "--output_file=notes.tfrecord", "--jobs=1"],
    fixtures,
  );
  expect(convert.status, convert.stderr).toBe(0);
  const dataset = runCli(
    "polyrnn",
    ["dataset", "--input=notes.tfrecord", "--output_dir=ds", "--min_steps=8", "--eval_ratio=0"],
    fixtures,
  );
  expect(dataset.status, dataset.stderr).toBe(0);
  copyFileSync(join(fixtures, "ds", "training_poly_tracks.tfrecord"), join(fixtures, "examples.tfrecord"));
});

/** A fresh folder with the fixtures, the FIFO and the links. */
function workDir(): string {
  const d = mkdtempSync(join(fixtures, "..", "fuzz-"));
  execFileSync("cp", ["-r", `${fixtures}/.`, d]);
  execFileSync("mkfifo", [join(d, "fifo.mid")]);
  symlinkSync("/dev/zero", join(d, "zero.mid"));
  symlinkSync("nowhere", join(d, "broken.mid"));
  writeFileSync(join(d, "blocker"), "a file");
  return d;
}

const seconds = Number(process.env.POLYRNN_FUZZ_SECONDS ?? 45);

describe("every command's flags, random and extreme (issue 19 property)", () => {
  it(
    "never hangs, aborts, or prints an internal error or a stack trace",
    () => {
      const numRuns = Number(process.env.POLYRNN_FUZZ_RUNS ?? 24);
      fc.assert(
        fc.property(invocation, ({ name, flags }) => {
          const cmd = COMMANDS[name];
          const args = [name, ...cmd.base, ...flags];
          const r = runCli("polyrnn", args, workDir(), cmd.server ? 3_000 : 20_000);
          const what = `polyrnn ${args.join(" ")}\n${r.stderr.slice(-1500)}`;
          expect(`${r.stdout}\n${r.stderr}`, what).not.toMatch(
            /internal error|\n\s+at \S|FATAL ERROR|Fatal error/,
          );
          if (cmd.server && r.signal === "SIGKILL") return; // it started and kept serving
          expect(r.signal, what).toBeNull();
          expect([0, 1, 2], what).toContain(r.status);
        }),
        { numRuns, interruptAfterTimeLimit: seconds * 1000, markInterruptAsFailure: false },
      );
    },
    120_000 + seconds * 1000,
  );
});
