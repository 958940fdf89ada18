/**
 * Issue 19, class 2: inputs that gave "internal error" and a stack trace. Each must be one line that
 * names the file or the limit, with exit status 1 (a bad file or a limit) or 2 (a bad flag).
 */
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { CheckpointManager } from "../src/io/checkpoint_files.js";
import { encodeSafetensors } from "../src/io/safetensors.js";
import { hparamsToJson } from "../src/model/hparams.js";
import { type RunResult, runCli, tempDir } from "./helpers/cli.js";
import { FAR_APART, ONE_NOTE } from "./helpers/smf.js";
import { tinyWeights, writeTinyBundle } from "./helpers/tiny_model.js";

const hparams = { batchSize: 4, rnnLayerSizes: [8], dropoutKeepProb: 0.5, clipNorm: 5, learningRate: 0.001 };
let dir: string;
let bundle: string;

/** One line on stderr (after any progress lines), the given status, no stack trace. */
function oneLineError(r: RunResult, status: number, pattern: RegExp): void {
  expect(r.signal, r.stderr).toBeNull();
  expect(r.stderr).not.toMatch(/internal error|^\s+at /m);
  expect(r.status, r.stderr).toBe(status);
  const last = r.stderr.trim().split("\n");
  const line = status === 2 ? last[last.length - 2] : last[last.length - 1];
  expect(line).toMatch(pattern);
}

const cli = (...args: string[]) => runCli("polyrnn", args, undefined, 60_000);

beforeAll(() => {
  dir = tempDir();
  const weights = tinyWeights(hparams);
  bundle = join(dir, "tiny.safetensors");
  writeTinyBundle(bundle, weights, hparams);
});

describe("no stack traces (issue 19: internal errors)", () => {
  it("--hparams with a model or batch that cannot fit is refused naming the limit", () => {
    const data = join(dir, "none.tfrecord");
    writeFileSync(data, "");
    for (const [hp, msg] of [
      ["rnn_layer_sizes=[100000]", /rnn_layer_sizes has a layer of 100,000 units, over the limit of 16,384/],
      [
        "rnn_layer_sizes=[8000,8000]",
        /rnn_layer_sizes has 778,424,259 weights, over the limit of 67,108,864/,
      ],
      ["batch_size=100000", /batch_size is 100,000, over the limit of 4,096/],
    ] as const) {
      const r = cli(
        "train",
        `--run_dir=${join(dir, "run")}`,
        `--sequence_example_file=${data}`,
        `--hparams=${hp}`,
      );
      oneLineError(r, 2, msg);
    }
  });

  it("eval and generate on a bundle whose stored hparams say [999999999,64] name the file and the limit", () => {
    const weights = tinyWeights(hparams);
    const lie = join(dir, "lie.safetensors");
    // Written by hand: encodeBundle would refuse nothing here, but the metadata lies.
    writeFileSync(
      lie,
      encodeSafetensors(weights, {
        format: "polyrnn-bundle/1",
        generator_id: "polyphony",
        hparams_json: hparamsToJson({ ...hparams, rnnLayerSizes: [999999999, 64] }),
        step: "0",
      }),
    );
    const data = join(dir, "one.tfrecord");
    writeFileSync(data, "");
    const e = cli("eval", `--bundle_file=${lie}`, `--sequence_example_file=${data}`, "--kernels=reference");
    oneLineError(e, 1, /^error: .*lie\.safetensors: .*999,999,999 units, over the limit of 16,384$/);
    const g = cli(
      "generate",
      `--bundle_file=${lie}`,
      `--output_dir=${join(dir, "g")}`,
      "--kernels=reference",
    );
    oneLineError(g, 1, /^error: .*lie\.safetensors: .*over the limit/);
  });

  it("generate's sizes past the limits are one line each: outputs, steps, tempo", () => {
    const gen = (...a: string[]) =>
      cli(
        "generate",
        `--bundle_file=${bundle}`,
        `--output_dir=${join(dir, "out")}`,
        "--kernels=reference",
        ...a,
      );
    oneLineError(
      gen("--num_outputs=1000000"),
      1,
      /^error: num_outputs × beam_size × branch_factor .* over the limit of 4,096$/,
    );
    oneLineError(
      gen("--num_steps=1000000000"),
      1,
      /^error: num_steps is 1,000,000,000, over the limit of 100,000$/,
    );
    oneLineError(gen("--qpm=1e308"), 1, /^error: the output's tempo 1e\+308 qpm is out of MIDI's range/);
    oneLineError(gen("--qpm=0.001"), 1, /^error: the output's tempo 0\.001 qpm is out of MIDI's range/);
    oneLineError(
      gen("--num_outputs=200", "--num_steps=99999"),
      1,
      /× num_steps is 19,999,800, over the limit/,
    );
  });

  it("--save_generator_bundle to a path under a file says it cannot write that path (EEXIST trace)", async () => {
    const run = join(dir, "run1");
    const weights = tinyWeights(hparams);
    await new CheckpointManager(join(run, "train"), { keep: 0 }).save({
      step: 3,
      weights,
      metadata: { hparams_json: hparamsToJson(hparams) },
    });
    writeFileSync(join(dir, "blocker"), "a file, not a folder");
    const target = join(dir, "blocker", "x.safetensors");
    const r = cli(
      "generate",
      "--save_generator_bundle",
      `--run_dir=${run}`,
      `--bundle_file=${target}`,
      "--bundle_description=x",
    );
    oneLineError(r, 1, new RegExp(`^error: cannot write ${target}: E[A-Z]+$`));
  });

  it("studio on a host name the system rejects is one line (found by the property test: EINVAL)", () => {
    const r = runCli("polyrnn", ["studio", "--port=0", `--host=${"x".repeat(300)}`], undefined, 20_000);
    oneLineError(r, 1, /^error: cannot listen on --host=x+ --port=0: E[A-Z]+$/);
  });

  it("an output name too long for the file system is one line (found by the property test: ENAMETOOLONG)", () => {
    const mid = join(dir, "short.mid");
    writeFileSync(mid, ONE_NOTE());
    const r = cli("render", mid, `--output=${join(dir, "x".repeat(300))}`);
    oneLineError(r, 1, /^error: cannot write .*xxx: ENAMETOOLONG$/);
  });

  it("render on a legal MIDI file whose note ends 5·10⁶ s in names the file and the 1-hour limit", () => {
    const far = join(dir, "far.mid");
    writeFileSync(far, FAR_APART());
    const r = cli("render", far, `--output=${join(dir, "far.wav")}`);
    oneLineError(
      r,
      1,
      /^error: .*far\.mid: the audio's length in seconds is 4,999,997, over the limit of 3,600$/,
    );
  });
});
