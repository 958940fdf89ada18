/**
 * Issue 19, class 3: nonsense that was accepted silently. Each must now be refused, or said, in one line.
 */
import { mkdirSync, symlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { CheckpointManager, loadCheckpoint, loadWeightsForWarmStart } from "../src/io/checkpoint_files.js";
import { listInputDir } from "../src/io/fs.js";
import { readMidi } from "../src/io/midi.js";
import { encodeSafetensors } from "../src/io/safetensors.js";
import type { NamedTensor } from "../src/model/api.js";
import { encodeBundle, loadBundle } from "../src/model/bundle.js";
import { hparamsToJson } from "../src/model/hparams.js";
import { runCli, tempDir } from "./helpers/cli.js";
import { ONE_NOTE, smf } from "./helpers/smf.js";
import { tinyWeights, writeTinyBundle } from "./helpers/tiny_model.js";

const h1 = { batchSize: 4, rnnLayerSizes: [8], dropoutKeepProb: 0.5, clipNorm: 5, learningRate: 0.001 };
const h2 = { ...h1, rnnLayerSizes: [8, 8] };
let dir: string;
const weightsOf = (h: typeof h1) => tinyWeights(h);
const cli = (...args: string[]) => runCli("polyrnn", args, undefined, 60_000);

beforeAll(() => {
  dir = tempDir();
});

/** A bundle's bytes with these weights and these (possibly lying) hparams, as a hand-made file would be. */
function bundleBytes(weights: NamedTensor[], hparams: typeof h1, step = "0"): Uint8Array {
  return encodeSafetensors(weights, {
    format: "polyrnn-bundle/1",
    generator_id: "polyphony",
    hparams_json: hparamsToJson(hparams),
    step,
  });
}

describe("nothing accepted silently (issue 19)", () => {
  it("a bundle whose hparams disagree with its tensors is refused by loadBundle, checkpoints and warm start alike", async () => {
    const cases: [string, NamedTensor[], typeof h1, RegExp][] = [
      [
        "sizes",
        weightsOf(h1),
        { ...h1, rnnLayerSizes: [16] },
        /has shape \[267,32\], but its hparams \(rnn_layer_sizes=\[16\]\) say \[275,64\]/,
      ],
      [
        "fewer layers",
        weightsOf(h2),
        h1,
        /holds tensor rnn\/multi_rnn_cell\/cell_1\/basic_lstm_cell\/(kernel|bias), which its hparams \(rnn_layer_sizes=\[8\]\) do not have/,
      ],
      [
        "missing layer",
        weightsOf(h2).filter((t) => !t.name.includes("cell_1")),
        h2,
        /has no tensor rnn\/multi_rnn_cell\/cell_1\/basic_lstm_cell\/kernel, which its hparams \(rnn_layer_sizes=\[8,8\]\) need/,
      ],
    ];
    for (const [name, weights, hparams, msg] of cases) {
      expect(() => loadBundle(bundleBytes(weights, hparams)), name).toThrow(msg);
      const path = join(dir, `${name.replace(/ /g, "_")}.safetensors`);
      writeFileSync(path, bundleBytes(weights, hparams));
      await expect(loadWeightsForWarmStart(path), name).rejects.toThrow(msg);
      const ckptDir = join(dir, `ckpt_${name.replace(/ /g, "_")}`);
      const saved = await new CheckpointManager(ckptDir, { keep: 0 }).save({
        step: 1,
        weights,
        metadata: { hparams_json: hparamsToJson(hparams) },
      });
      await expect(loadCheckpoint(saved), name).rejects.toThrow(msg);
      // And the commands say it in one line naming the file.
      const r = cli(
        "generate",
        `--bundle_file=${path}`,
        `--output_dir=${join(dir, "o")}`,
        "--kernels=reference",
      );
      expect(r.status, r.stderr).toBe(1);
      expect(r.stderr).toMatch(new RegExp(`^error: ${path}: .*${msg.source}`, "m"));
    }
  });

  it("a bundle step that is not a number is refused, not shown as 'step NaN'", () => {
    expect(() => loadBundle(bundleBytes(weightsOf(h1), h1, "abc"))).toThrow(
      /metadata step "abc" is not a step number/,
    );
    const ok = loadBundle(encodeBundle({ weights: weightsOf(h1), hparams: h1, step: 7, description: "" }));
    expect(ok.step).toBe(7);
  });

  it("--recursive enters a folder once through a symlink loop and reports broken links", async () => {
    const root = join(dir, "tree");
    mkdirSync(join(root, "a"), { recursive: true });
    writeFileSync(join(root, "a", "one.mid"), ONE_NOTE());
    symlinkSync("..", join(root, "a", "up"));
    symlinkSync("nowhere.mid", join(root, "broken.mid"));
    const listing = await listInputDir(root, true);
    expect(listing.files.map((f) => f.filename)).toEqual(["a/one.mid"]);
    expect(listing.skipped.map((s) => s.reason).sort()).toEqual([
      "broken symbolic link (to nowhere.mid)",
      expect.stringMatching(/^folder already listed \(a symbolic link to /),
    ]);
    const r = cli(
      "convert",
      `--input_dir=${root}`,
      `--output_file=${join(dir, "tree.tfrecord")}`,
      "--recursive",
    );
    expect(r.status, r.stderr).toBe(0);
    expect(r.stderr).toMatch(/Converted 1 files/);
    expect(r.stderr).toMatch(/broken\.mid: broken symbolic link/);
  });

  it("a note-on that never ends is reported by the MIDI reader and by convert", () => {
    const bytes = smf(96, [
      [0, 0x90, 60, 64],
      [0, 0x90, 64, 64],
      [96, 0x80, 64, 0],
    ]);
    const warnings: string[] = [];
    const ns = readMidi(bytes, { onWarning: (w) => warnings.push(w) });
    expect(ns.notes.map((n) => n.pitch)).toEqual([64]);
    expect(warnings).toEqual([
      "track 0: 1 note-on never ends (first: pitch 60 on channel 1 at tick 0); dropped, as Magenta does",
    ]);
    const input = join(dir, "unended");
    mkdirSync(input);
    writeFileSync(join(input, "u.mid"), bytes);
    const r = cli("convert", `--input_dir=${input}`, `--output_file=${join(dir, "u.tfrecord")}`, "--jobs=1");
    expect(r.status, r.stderr).toBe(0);
    expect(r.stderr).toMatch(/u\.mid: track 0: 1 note-on never ends/);
  });

  it("flags that make no sense are refused: min_steps > max_steps, an empty --run_dir, a seed past 2^53", () => {
    const data = join(dir, "empty.tfrecord");
    writeFileSync(data, "");
    const d = cli(
      "dataset",
      `--input=${data}`,
      `--output_dir=${join(dir, "ds")}`,
      "--min_steps=600",
      "--max_steps=100",
    );
    expect(d.status).toBe(2);
    expect(d.stderr).toMatch(/--min_steps=600 is more than --max_steps=100: no track could be kept/);
    const t = cli("train", "--run_dir=", `--sequence_example_file=${data}`);
    expect(t.status).toBe(2);
    expect(t.stderr).toMatch(/--run_dir is empty; give a value or leave the flag out/);
    const s = cli("generate", "--seed=99999999999999999999");
    expect(s.status).toBe(2);
    expect(s.stderr).toMatch(/--seed takes a whole number below 2\^53/);
  });

  it("eval on an empty dataset file names the file", () => {
    const data = join(dir, "nothing.tfrecord");
    writeFileSync(data, "");
    const bundle = join(dir, "ok.safetensors");
    writeTinyBundle(bundle);
    const r = cli(
      "eval",
      `--bundle_file=${bundle}`,
      `--sequence_example_file=${data}`,
      "--kernels=reference",
    );
    expect(r.status).toBe(1);
    expect(r.stderr.trim()).toMatch(
      new RegExp(`^error: ${data}: no examples to evaluate \\(an empty file`, "m"),
    );
  });
});
