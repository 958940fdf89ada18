/**
 * Issue 19, class 1: hostile input that hung or aborted Node. Each case must end within seconds, with
 * one `error:` line (or success), never a timeout, a signal, or Node's fatal-error dump.
 */
import { execFileSync } from "node:child_process";
import { existsSync, mkdirSync, readdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { MAX_UNISON } from "../src/events/grammar.js";
import { generatePolyphony } from "../src/generate/polyphony.js";
import { primerFromFlags } from "../src/generate/primer.js";
import type { EventRnn } from "../src/generate/rnn.js";
import { LimitError } from "../src/limits.js";
import { type RunResult, runCli, tempDir } from "./helpers/cli.js";
import { markovRnn } from "./helpers/markov_rnn.js";
import { FAR_APART, ONE_NOTE } from "./helpers/smf.js";
import { tinyWeights, writeTinyBundle } from "./helpers/tiny_model.js";

const hparams = { batchSize: 4, rnnLayerSizes: [8], dropoutKeepProb: 0.5, clipNorm: 5, learningRate: 0.001 };
let dir: string;
let bundle: string;

/** Ends on its own, within the time given, with a one-line error or success: no hang, no abort. */
function expectBounded(r: RunResult, status: number): void {
  expect(r.signal, `killed by ${r.signal}; stderr: ${r.stderr.slice(-500)}`).toBeNull();
  expect(r.stderr).not.toMatch(/internal error|Fatal|^\s+at /m);
  expect(r.status, r.stderr).toBe(status);
}

/** Plain sampling from an empty primer. */
const sample = (rnn: EventRnn, numSteps: number, numOutputs: number, wellFormed = false) =>
  generatePolyphony(rnn, {
    primer: primerFromFlags({}).sequence,
    numSteps,
    numOutputs,
    conditionOnPrimer: false,
    injectPrimerDuringGeneration: false,
    temperature: 1,
    beamSize: 1,
    branchFactor: 1,
    stepsPerIteration: 1,
    seed: 1,
    excludePrimer: false,
    wellFormed,
  });

const polyrnn = (args: string[], timeoutMs: number) => runCli("polyrnn", args, undefined, timeoutMs);

beforeAll(() => {
  dir = tempDir();
  const weights = tinyWeights(hparams);
  bundle = join(dir, "tiny.safetensors");
  writeTinyBundle(bundle, weights, hparams);
});

describe("hostile input ends quickly (issue 19: hangs and aborts)", () => {
  it("a bundle with NaN weights is refused on load, naming the tensor (generate looped for ever)", () => {
    const weights = tinyWeights(hparams);
    weights[0].data[5] = Number.NaN;
    const nan = join(dir, "nan.safetensors");
    writeTinyBundle(nan, weights, hparams);
    const r = polyrnn(
      ["generate", `--bundle_file=${nan}`, `--output_dir=${join(dir, "nan-out")}`, "--kernels=reference"],
      30_000,
    );
    expectBounded(r, 1);
    expect(r.stderr).toMatch(
      /^error: .*nan\.safetensors: .*cell_0\/basic_lstm_cell\/kernel holds NaN or Inf/m,
    );
  });

  it("a model that never ends a step stops with one line after a bounded number of rounds", () => {
    // STEP_END (class 2) has probability 0: Magenta's loop (and ours before) asked for more for ever.
    const rnn = markovRnn(() => {
      const logits = new Float32Array(259).fill(0);
      logits[2] = Number.NEGATIVE_INFINITY;
      return logits;
    });
    const run = () => sample(rnn, 4, 1);
    expect(run).toThrow(/ended only 0 of \d+ steps in \d+ sampled events .*almost never samples a step end/);
  });

  it("with --well_formed (the default), a model that rarely ends a step still ends every step", () => {
    // STEP_END is e^-30 as likely as each note: Magenta's sampler piles up notes; the well-formed draw runs
    // out of pitches below the last one and must end the step.
    const rnn = markovRnn(() => {
      const logits = new Float32Array(259).fill(0);
      logits[2] = -30;
      return logits;
    });
    expect(() => sample(rnn, 4, 1)).toThrow(/almost never samples a step end/);
    const [ns] = sample(rnn, 4, 1, true).sequences;
    expect(ns.totalTime).toBeCloseTo(4 * 0.125, 6);
    // At most MAX_UNISON notes of one pitch start in a step.
    const starts = new Map<string, number>();
    for (const n of ns.notes) {
      const key = `${Math.round(n.startTime / 0.125)}:${n.pitch}`;
      starts.set(key, (starts.get(key) ?? 0) + 1);
    }
    expect(Math.max(...starts.values())).toBeLessThanOrEqual(MAX_UNISON);
    expect(ns.notes.length).toBeGreaterThan(4);
  });

  it("a model whose probabilities are NaN at run time stops with one line", () => {
    const rnn = markovRnn(() => new Float32Array(259).fill(Number.NaN));
    expect(() => sample(rnn, 8, 2)).toThrow(/probabilities are NaN/);
  });

  it("beam_size × branch_factor past the limit is refused before any work (Node aborted at 1.9 GB)", () => {
    const r = polyrnn(
      [
        "generate",
        `--bundle_file=${bundle}`,
        `--output_dir=${join(dir, "beam-out")}`,
        "--kernels=reference",
        "--beam_size=100000",
        "--branch_factor=100000",
      ],
      30_000,
    );
    expectBounded(r, 1);
    expect(r.stderr).toMatch(
      /^error: num_outputs × beam_size × branch_factor .* is 100,000,000,000, over the limit of 4,096$/m,
    );
    expect(existsSync(join(dir, "beam-out")) && readdirSync(join(dir, "beam-out")).length).toBeFalsy();
  });

  it("a legal MIDI file with notes 5·10⁶ s apart converts and builds a dataset in moments (97 s, 1.7 GB)", () => {
    const input = join(dir, "far");
    mkdirSync(input);
    // Division 1: a note at tick 0 and one at tick 9,999,990 (≈ 5·10⁶ s at 120 qpm).
    const far = FAR_APART();
    writeFileSync(join(input, "far.mid"), far);
    const notes = join(dir, "far.tfrecord");
    expectBounded(
      polyrnn(["convert", `--input_dir=${input}`, `--output_file=${notes}`, "--jobs=1"], 20_000),
      0,
    );
    const t0 = performance.now();
    const out = join(dir, "far-dataset");
    const r = polyrnn(["dataset", `--input=${notes}`, `--output_dir=${out}`], 20_000);
    expectBounded(r, 0);
    expect(performance.now() - t0).toBeLessThan(15_000);
    expect(r.stderr).toMatch(/polyphonic_tracks_discarded_too_long: [1-9]/);
    expect(readdirSync(out).filter((n) => n.includes(".tmp-"))).toEqual([]);
  });

  it("an ABC tune with a huge rest does not abort dataset (Node's 'invalid size error' at 1.6 GB)", () => {
    const input = join(dir, "abc");
    mkdirSync(input);
    writeFileSync(join(input, "rest.abc"), "X:1\nT:rest\nM:4/4\nL:1/8\nK:C\nC z99999999 D|\n");
    const notes = join(dir, "abc.tfrecord");
    expectBounded(
      polyrnn(["convert", `--input_dir=${input}`, `--output_file=${notes}`, "--jobs=1"], 20_000),
      0,
    );
    const out = join(dir, "abc-dataset");
    expectBounded(polyrnn(["dataset", `--input=${notes}`, `--output_dir=${out}`], 20_000), 0);
    expect(readdirSync(out).sort()).toEqual(["eval_poly_tracks.tfrecord", "training_poly_tracks.tfrecord"]);
  });

  it("a FIFO named x.mid in the input folder is skipped with a line, not read (convert hung)", () => {
    const input = join(dir, "fifo");
    mkdirSync(input);
    writeFileSync(join(input, "ok.mid"), ONE_NOTE());
    execFileSync("mkfifo", [join(input, "x.mid")]);
    const r = polyrnn(
      ["convert", `--input_dir=${input}`, `--output_file=${join(dir, "fifo.tfrecord")}`, "--jobs=1"],
      20_000,
    );
    expectBounded(r, 0);
    expect(r.stderr).toMatch(/x\.mid: not a regular file/);
    // The same holds for every command that reads one file: a primer, a file to plot or render, a
    // dataset to train on (found by the property test: train waited on the FIFO for ever).
    const t = polyrnn(
      ["train", `--run_dir=${join(dir, "fifo-run")}`, `--sequence_example_file=${join(input, "x.mid")}`],
      20_000,
    );
    expectBounded(t, 1);
    expect(t.stderr).toMatch(/x\.mid: not a regular file \(a pipe or device\)/);
    const p = polyrnn(["render", join(input, "x.mid")], 20_000);
    expectBounded(p, 1);
    expect(p.stderr).toMatch(/^error: cannot read .*x\.mid: not a regular file/m);
  });

  it("--threads past the limit is refused (a billion threads hung generate)", () => {
    const r = polyrnn(["generate", `--bundle_file=${bundle}`, "--threads=1000000000"], 20_000);
    expectBounded(r, 2);
    expect(r.stderr).toMatch(/--threads is 1,000,000,000, over the limit of 256/);
  });

  it("kernel memory that cannot be had is a LimitError saying what to make smaller", async () => {
    const { createWasmKernels } = await import("../src/kernels/wasm_node.js");
    const k = await createWasmKernels({ threads: 1, maxMemoryMiB: 64 });
    try {
      expect(() => k.alloc(64 * 2 ** 20)).toThrow(LimitError);
      expect(() => k.alloc(64 * 2 ** 20)).toThrow(/batch_size or rnn_layer_sizes/);
      expect(() => k.alloc(64 * 2 ** 20)).toThrow(/\(limit 64 MiB\)/);
    } finally {
      k.dispose();
    }
  });
});
