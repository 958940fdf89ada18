import { type ChildProcess, spawn } from "node:child_process";
import { copyFileSync, existsSync, mkdirSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { decodeSafetensors } from "../src/io/safetensors.js";
import { decodeTFRecords } from "../src/io/tfrecord.js";
import { ensureBuilt, ROOT, runCli, tempDir } from "./helpers/cli.js";

const HPARAMS = "--hparams=batch_size=4,rnn_layer_sizes=[8]";
let dataset = "";

function train(runDir: string, ...args: string[]) {
  return runCli("polyrnn", [
    "train",
    `--run_dir=${runDir}`,
    `--sequence_example_file=${dataset}`,
    "--kernels=reference",
    ...args,
  ]);
}

function checkpoints(runDir: string): number[] {
  const dir = join(runDir, "train");
  if (!existsSync(dir)) return [];
  return readdirSync(dir)
    .map((n) => /^model\.ckpt-(\d+)\.safetensors$/.exec(n))
    .filter((m) => m !== null)
    .map((m) => Number(m[1]))
    .sort((a, b) => a - b);
}

function readCheckpoint(runDir: string, step: number) {
  return decodeSafetensors(readFileSync(join(runDir, "train", `model.ckpt-${step}.safetensors`)));
}

function tensorsOf(runDir: string, step: number): Record<string, Float32Array> {
  return Object.fromEntries(readCheckpoint(runDir, step).tensors.map((t) => [t.name, t.data]));
}

function leftovers(runDir: string): string[] {
  return readdirSync(join(runDir, "train")).filter((n) => n.includes(".tmp"));
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function spawnTrain(runDir: string, ...args: string[]): { child: ChildProcess; output: () => string } {
  ensureBuilt();
  const child = spawn(
    process.execPath,
    [
      join(ROOT, "dist/cli/polyrnn.js"),
      "train",
      `--run_dir=${runDir}`,
      `--sequence_example_file=${dataset}`,
      "--kernels=reference",
      ...args,
    ],
    { stdio: ["ignore", "pipe", "pipe"] },
  );
  let out = "";
  child.stdout?.on("data", (d) => {
    out += d;
  });
  child.stderr?.on("data", (d) => {
    out += d;
  });
  return { child, output: () => out };
}

async function waitFor(cond: () => boolean, ms = 30_000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error("timed out");
    await sleep(20);
  }
}

const exited = (child: ChildProcess) =>
  new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null)
      resolve({ code: child.exitCode, signal: child.signalCode });
    else child.on("exit", (code, signal) => resolve({ code, signal }));
  });

beforeAll(() => {
  const dir = tempDir();
  const notes = join(dir, "notes.tfrecord");
  let r = runCli("polyrnn", [
    "convert",
    `--input_dir=${join(ROOT, "examples/midi")}`,
    `--output_file=${notes}`,
  ]);
  expect(r.status, r.stderr).toBe(0);
  r = runCli("polyrnn", [
    "dataset",
    `--input=${notes}`,
    `--output_dir=${dir}`,
    "--eval_ratio=0",
    "--min_steps=1",
    "--log=ERROR",
  ]);
  expect(r.status, r.stderr).toBe(0);
  dataset = join(dir, "training_poly_tracks.tfrecord");
});

describe("polyrnn train / polyphony_rnn_train", () => {
  it("--help lists Magenta's flags and ours", () => {
    for (const r of [runCli("polyrnn", ["train", "--help"]), runCli("polyphony_rnn_train", ["--help"])]) {
      expect(r.status).toBe(0);
      for (const flag of [
        "run_dir",
        "sequence_example_file",
        "hparams",
        "num_training_steps",
        "summary_frequency",
        "num_checkpoints",
        "eval",
        "num_eval_examples",
        "log",
        "warm_start",
        "seed",
        "checkpoint_secs",
        "kernels",
        "threads",
      ]) {
        expect(r.stdout).toContain(`--${flag}`);
      }
      expect(r.stdout).toContain("/tmp/polyphony_rnn/logdir/run1");
    }
    expect(runCli("polyrnn", ["--help"]).stdout).toMatch(/train\s+SequenceExamples/);
  });

  it("refuses unknown hparams, listing the valid names, and other configs", () => {
    const r = train(tempDir(), "--hparams=batch_size=4,rnn_layers=[8]");
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/unknown name "rnn_layers".*batch_size, rnn_layer_sizes, dropout_keep_prob/);
    const c = train(tempDir(), "--config=attention_rnn");
    expect(c.status).toBe(2);
    expect(c.stderr).toContain('only "polyphony"');
    const m = runCli("polyrnn", ["train"]);
    expect(m.status).toBe(2);
    expect(m.stderr).toContain("--sequence_example_file is required");
  });

  it("names a missing or folder --sequence_example_file in one line", () => {
    const dir = tempDir();
    for (const [file, why] of [
      [join(dir, "nope.tfrecord"), "no such file"],
      [dir, "is a folder"],
    ]) {
      const r = runCli("polyrnn", [
        "train",
        `--run_dir=${join(dir, "run")}`,
        `--sequence_example_file=${file}`,
      ]);
      expect(r.status).toBe(1);
      expect(r.stderr.trim().split("\n").at(-1)).toBe(`error: cannot read ${file}: ${why}`);
    }
  });

  let trained = "";
  it("trains: checkpoints at the start and end, metrics.jsonl and TensorBoard events", () => {
    const run = tempDir();
    const r = train(run, HPARAMS, "--num_training_steps=6", "--summary_frequency=3", "--seed=1");
    expect(r.status, r.stderr).toBe(0);
    expect(r.stderr).toMatch(
      /Global Step: 3 - Loss: [\d.]+ - Perplexity: [\d.]+ - Accuracy: [\d.]+ - \d+ tokens\/s/,
    );
    expect(checkpoints(run)).toEqual([0, 6]);
    expect(leftovers(run)).toEqual([]);

    const ckpt = readCheckpoint(run, 6);
    expect(ckpt.metadata.step).toBe("6");
    expect(ckpt.metadata.format).toBe("polyrnn-checkpoint/1");
    // The hparams once, as JSON (the Magenta-syntax copy older files also hold is no longer written).
    expect(ckpt.metadata.hparams).toBeUndefined();
    expect(JSON.parse(ckpt.metadata.hparams_json)).toEqual({
      batch_size: 4,
      rnn_layer_sizes: [8],
      dropout_keep_prob: 0.5,
      clip_norm: 5,
      learning_rate: 0.001,
    });
    expect(ckpt.metadata.steps_per_quarter).toBe("4");
    expect(ckpt.metadata.seed).toBe("1");
    expect(ckpt.metadata.polyrnn_version).toMatch(/^\d+\.\d+\.\d+/);
    expect(Date.parse(ckpt.metadata.created)).not.toBeNaN();
    const names = ckpt.tensors.map((t) => t.name).sort();
    expect(names).toContain("rnn/multi_rnn_cell/cell_0/basic_lstm_cell/kernel");
    expect(names).toContain("rnn/multi_rnn_cell/cell_0/basic_lstm_cell/kernel/Adam");
    expect(names).toContain("fully_connected/weights/Adam_1");
    const kernel = ckpt.tensors.find((t) => t.name === "rnn/multi_rnn_cell/cell_0/basic_lstm_cell/kernel");
    expect(kernel?.shape).toEqual([259 + 8, 32]);

    const lines = readFileSync(join(run, "train/metrics.jsonl"), "utf8")
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l));
    expect(lines.map((l) => l.step)).toEqual([3, 6]);
    for (const tag of [
      "loss",
      "metrics/perplexity",
      "metrics/accuracy",
      "metrics/event_accuracy",
      "metrics/no_event_accuracy",
      "metrics/loss_per_step",
      "metrics/perplexity_per_step",
    ]) {
      expect(lines[1]).toHaveProperty([tag]);
    }
    expect(lines[1].loss).toBeGreaterThan(3);
    expect(lines[1].tokens_per_sec).toBeGreaterThan(0);

    const events = readdirSync(join(run, "train")).filter((n) => n.startsWith("events.out.tfevents."));
    expect(events.length).toBe(1);
    const records = [...decodeTFRecords(readFileSync(join(run, "train", events[0])))];
    expect(records.length).toBe(3); // file version + 2 summaries
    expect(new TextDecoder().decode(records[0])).toContain("brain.Event:2");
    expect(new TextDecoder().decode(records[2])).toContain("metrics/no_event_accuracy");
    trained = run;
  });

  it("--activation_mb=1 recomputes batches in chunks and trains the same weights as the default, to rounding", () => {
    const whole = tempDir();
    const chunked = tempDir();
    let r = train(whole, HPARAMS, "--num_training_steps=3", "--seed=1", "--activation_mb=64");
    expect(r.status, r.stderr).toBe(0);
    expect(r.stderr).toMatch(/, 64 MiB for activations\./);
    // 1 MiB holds about 400 positions of this model: the batches of 4 long tracks are cut into chunks.
    r = train(chunked, HPARAMS, "--num_training_steps=3", "--seed=1", "--activation_mb=1");
    expect(r.status, r.stderr).toBe(0);
    expect(r.stderr).toMatch(/, 1 MiB for activations\./);
    const a = tensorsOf(whole, 3);
    const b = tensorsOf(chunked, 3);
    for (const [name, t] of Object.entries(a)) {
      let worst = 0;
      for (let i = 0; i < t.length; i++) worst = Math.max(worst, Math.abs(t[i] - b[name][i]));
      expect(worst, name).toBeLessThan(1e-5);
    }
    r = train(tempDir(), HPARAMS, "--num_training_steps=0", "--activation_mb=-1");
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/--activation_mb is -\d+: it must be a whole number of 0 or more/);
  });

  it("resumes after kill -9 from the last checkpoint, exactly as an uninterrupted run", async () => {
    const run = tempDir();
    const args = [HPARAMS, "--seed=5", "--checkpoint_secs=0.05", "--num_checkpoints=3", "--log=WARN"];
    const { child } = spawnTrain(run, ...args, "--num_training_steps=100000");
    await waitFor(() => checkpoints(run).some((s) => s >= 2));
    child.kill("SIGKILL");
    await exited(child);
    const before = checkpoints(run);
    expect(before.length).toBeGreaterThan(0);
    expect(before.length).toBeLessThanOrEqual(3);
    const resumeStep = before.at(-1) as number;
    const target = resumeStep + 3;

    const r = train(run, ...args.slice(0, 2), "--checkpoint_secs=1000", `--num_training_steps=${target}`);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stderr).toContain(
      `Resuming from ${join(run, "train", `model.ckpt-${resumeStep}.safetensors`)} at step ${resumeStep}`,
    );
    expect(checkpoints(run).at(-1)).toBe(target);
    expect(leftovers(run)).toEqual([]);
    for (const step of checkpoints(run)) expect(() => readCheckpoint(run, step)).not.toThrow();

    // The same seed without the interruption lands on the same weights and Adam state, bit for bit.
    const straight = tempDir();
    const s = train(
      straight,
      HPARAMS,
      "--seed=5",
      "--checkpoint_secs=1000",
      `--num_training_steps=${target}`,
    );
    expect(s.status, s.stderr).toBe(0);
    const a = tensorsOf(run, target);
    const b = tensorsOf(straight, target);
    expect(Object.keys(a).sort()).toEqual(Object.keys(b).sort());
    for (const name of Object.keys(a)) expect(a[name], name).toEqual(b[name]);
  });

  it("refuses to resume with different hparams, naming both", () => {
    const r = train(trained, "--hparams=batch_size=4,rnn_layer_sizes=[16]", "--num_training_steps=8");
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/rnn_layer_sizes=\[8\].*but this run has --hparams=.*rnn_layer_sizes=\[16\]/);
    expect(r.stderr).toMatch(/only learning_rate, clip_norm, dropout_keep_prob may change/);
  });

  it("resumes at a new learning rate, dropout or clip norm, saying so; the new rate is the one used", () => {
    // Two copies of the run at step 6 go on for two steps: one as it was, one at ten times the rate.
    const same = tempDir();
    const faster = tempDir();
    for (const dir of [same, faster]) {
      mkdirSync(join(dir, "train"));
      copyFileSync(
        join(trained, "train/model.ckpt-6.safetensors"),
        join(dir, "train/model.ckpt-6.safetensors"),
      );
    }
    let r = train(same, HPARAMS, "--num_training_steps=8");
    expect(r.status, r.stderr).toBe(0);
    expect(r.stderr).not.toMatch(/Changed on resume/);
    r = train(faster, `${HPARAMS},learning_rate=0.01,dropout_keep_prob=0.8`, "--num_training_steps=8");
    expect(r.status, r.stderr).toBe(0);
    expect(r.stderr).toMatch(
      /Changed on resume: dropout_keep_prob=0\.5 → 0\.8, learning_rate=0\.001 → 0\.01\./,
    );
    expect(JSON.parse(readCheckpoint(faster, 8).metadata.hparams_json)).toMatchObject({
      learning_rate: 0.01,
      dropout_keep_prob: 0.8,
    });
    // Adam's steps are about the rate in size: the weights move several times further at 0.01.
    const moved = (dir: string) => {
      const [from, to] = [tensorsOf(dir, 6), tensorsOf(dir, 8)];
      let sum = 0;
      for (const name of Object.keys(from)) {
        if (!name.includes("kernel")) continue;
        for (let i = 0; i < from[name].length; i++) sum += Math.abs(to[name][i] - from[name][i]);
      }
      return sum;
    };
    expect(moved(faster)).toBeGreaterThan(4 * moved(same));
  });

  it("stops on a NaN loss with exit status 1, keeping only good checkpoints", () => {
    const run = tempDir();
    const r = train(
      run,
      "--hparams=batch_size=4,rnn_layer_sizes=[8],learning_rate=1e38",
      "--num_training_steps=20",
    );
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(
      /error: loss is NaN at step \d+: training diverged.*last good checkpoint is .*model\.ckpt-0/,
    );
    expect(checkpoints(run)).toEqual([0]);
    for (const t of readCheckpoint(run, 0).tensors) expect(t.data.every(Number.isFinite)).toBe(true);
    expect(leftovers(run)).toEqual([]);

    // A learning rate whose Adam step overflows float32 makes the weights infinite after one step: the
    // checkpoint due then (every step here) is refused instead of written.
    const inf = tempDir();
    const w = train(
      inf,
      "--hparams=batch_size=4,rnn_layer_sizes=[8],learning_rate=1e40",
      "--num_training_steps=20",
      "--checkpoint_secs=0",
    );
    expect(w.status).toBe(1);
    expect(w.stderr).toMatch(/error: weights became NaN or infinite at step 1 .*not saving.*model\.ckpt-0/);
    expect(checkpoints(inf)).toEqual([0]);
  });

  it("warm-starts from a checkpoint: its weights, fresh Adam, step 0; refuses other layer sizes", () => {
    const source = join(trained, "train/model.ckpt-6.safetensors");
    const run = tempDir();
    const r = train(run, HPARAMS, `--warm_start=${source}`, "--num_training_steps=2", "--seed=9");
    expect(r.status, r.stderr).toBe(0);
    expect(r.stderr).toContain("Warm start from");
    expect(checkpoints(run)).toEqual([0, 2]);
    const start = tensorsOf(run, 0);
    const src = tensorsOf(trained, 6);
    const kernel = "rnn/multi_rnn_cell/cell_0/basic_lstm_cell/kernel";
    expect(start[kernel]).toEqual(src[kernel]);
    expect(start[`${kernel}/Adam`].every((v) => v === 0)).toBe(true);

    // An int8 bundle (how the shipped Bach model is stored) warm-starts too: its weights read back as float32,
    // each within half a quantization step of the checkpoint's.
    const int8 = join(tempDir(), "int8.safetensors");
    const saved = runCli("polyrnn", [
      "generate",
      `--run_dir=${trained}`,
      "--save_generator_bundle",
      "--bundle_dtype=int8",
      `--bundle_file=${int8}`,
    ]);
    expect(saved.status, saved.stderr).toBe(0);
    const fromInt8 = tempDir();
    const q = train(fromInt8, HPARAMS, `--warm_start=${int8}`, "--num_training_steps=1", "--seed=9");
    expect(q.status, q.stderr).toBe(0);
    const qk = tensorsOf(fromInt8, 0)[kernel];
    const step = Math.max(...src[kernel].map(Math.abs)) / 127;
    expect(qk.length).toBe(src[kernel].length);
    for (let i = 0; i < qk.length; i++)
      expect(Math.abs(qk[i] - src[kernel][i])).toBeLessThanOrEqual(step / 2 + 1e-6);

    const bad = train(tempDir(), "--hparams=batch_size=4,rnn_layer_sizes=[16]", `--warm_start=${source}`);
    expect(bad.status).toBe(1);
    expect(bad.stderr).toMatch(
      /cannot warm start from .*model\.ckpt-6\.safetensors.*rnn_layer_sizes=\[8\].*shape/,
    );
  });

  it("--eval evaluates the newest checkpoint into <run_dir>/eval and stops after the timeout", () => {
    const r = runCli("polyphony_rnn_train", [
      "--eval",
      `--run_dir=${trained}`,
      `--sequence_example_file=${dataset}`,
      "--kernels=reference",
      "--eval_timeout_secs=0.2",
    ]);
    expect(r.status, r.stderr).toBe(0);
    // Every eval example once, in batches of 4, the last one partial (Magenta's pass of full batches
    // alone is --num_eval_examples=N).
    expect(r.stderr).toMatch(/Eval at step 6 \(12 batches\)/);
    const lines = readFileSync(join(trained, "eval/metrics.jsonl"), "utf8")
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l));
    expect(lines.length).toBe(1);
    expect(lines[0].step).toBe(6);
    expect(lines[0]["metrics/per_class_accuracy"]).toBeGreaterThanOrEqual(0);
    expect(readdirSync(join(trained, "eval")).some((n) => n.startsWith("events.out.tfevents."))).toBe(true);
    // One eval loop: polyrnn eval on the same checkpoint prints exactly the metrics train --eval wrote.
    const same = runCli("polyrnn", [
      "eval",
      `--bundle_file=${join(trained, "train/model.ckpt-6.safetensors")}`,
      `--sequence_example_file=${dataset}`,
      "--kernels=reference",
      "--json",
    ]);
    expect(same.status, same.stderr).toBe(0);
    const printed = JSON.parse(same.stdout).metrics as Record<string, number>;
    for (const [tag, value] of Object.entries(printed)) expect(value, tag).toBe(lines[0][tag]);

    const tooFew = runCli("polyrnn", [
      "train",
      "--eval",
      `--run_dir=${trained}`,
      `--sequence_example_file=${dataset}`,
      "--kernels=reference",
      "--num_eval_examples=3",
      "--eval_timeout_secs=0",
    ]);
    expect(tooFew.status).toBe(1);
    expect(tooFew.stderr).toMatch(/3 eval example\(s\) with batch_size 4 makes 0 batches/);
  });

  it("SIGINT saves a checkpoint and exits cleanly", async () => {
    const run = tempDir();
    const { child, output } = spawnTrain(run, HPARAMS, "--checkpoint_secs=1000");
    await waitFor(() => output().includes("Saved checkpoint"));
    await sleep(200);
    child.kill("SIGINT");
    const { code } = await exited(child);
    expect(code, output()).toBe(0);
    const steps = checkpoints(run);
    expect(steps.length).toBe(2);
    expect(steps[1]).toBeGreaterThan(0);
    expect(output()).toMatch(/Stopped at step \d+; saved/);
  });

  it("one stop request delivered twice at once (as `timeout` does) still saves a checkpoint", async () => {
    const run = tempDir();
    const { child, output } = spawnTrain(run, HPARAMS, "--checkpoint_secs=1000");
    await waitFor(() => output().includes("Saved checkpoint"));
    await sleep(200);
    // Two different signals back to back, so that the kernel cannot merge them into one delivery.
    child.kill("SIGTERM");
    child.kill("SIGINT");
    const { code } = await exited(child);
    // Not quit at once (130) but stopped after the step with a checkpoint; a second signal that lands after
    // the run has finished is ignored too (it used to end the exiting process by signal: code null).
    expect(code, output()).toBe(0);
    expect(checkpoints(run).length).toBe(2);
    expect(output()).toMatch(/SIG(TERM|INT): stopping after this step/); // either may be handled first
    expect(output()).toMatch(/Stopped at step \d+; saved/);
  });
});

describe("createKernels", () => {
  it("loads the reference kernels, and 'auto' falls back to them with a notice when WASM does not load", async () => {
    const { createKernels } = await import("../src/kernels/index.js");
    const ref = await createKernels("reference");
    expect(ref.name).toBe("reference");
    ref.dispose();
    const notices: string[] = [];
    const auto = await createKernels("auto", { notice: (m) => notices.push(m) });
    if (auto.name === "reference")
      expect(notices[0]).toMatch(/^note: using the TypeScript reference kernels/);
    else expect(notices).toEqual([]);
    auto.dispose();
    await expect(createKernels("nope" as "auto")).rejects.toThrow(/unknown kernels "nope"/);
  });
});

describe("CheckpointManager", () => {
  const weights = [{ name: "w", shape: [2], data: Float32Array.from([1, 2]) }];

  it("keeps the newest num_checkpoints plus one per hour, as TensorFlow's Saver", async () => {
    const { CheckpointManager } = await import("../src/io/checkpoint_files.js");
    const dir = tempDir();
    let now = 1000;
    const m = new CheckpointManager(dir, { keep: 2, clock: () => now });
    for (let step = 0; step <= 5; step++) {
      now = 1000 + step * 1000; // step 4 is the first one ≥ 1 hour after the start
      await m.save({ step, weights });
    }
    const names = readdirSync(dir).sort();
    expect(names).toEqual(["model.ckpt-4.safetensors", "model.ckpt-5.safetensors"]);
    now = 1000 + 4 * 1000 + 3600;
    await m.save({ step: 6, weights });
    await m.save({ step: 7, weights });
    await m.save({ step: 8, weights });
    // Step 6 was saved an hour after step 4 (the first preserved): kept for good.
    expect(readdirSync(dir).sort()).toEqual([
      "model.ckpt-4.safetensors",
      "model.ckpt-6.safetensors",
      "model.ckpt-7.safetensors",
      "model.ckpt-8.safetensors",
    ]);
  });

  it("keep 0 keeps all; loading names the file on errors; stale temp files are removed", async () => {
    const { CheckpointManager, loadCheckpoint, latestCheckpoint } = await import(
      "../src/io/checkpoint_files.js"
    );
    const { writeFileSync } = await import("node:fs");
    const dir = tempDir();
    const m = new CheckpointManager(dir, { keep: 0 });
    for (let step = 0; step < 12; step++) await m.save({ step, weights });
    expect(readdirSync(dir).length).toBe(12);
    expect((await latestCheckpoint(dir))?.step).toBe(11);
    const ck = await loadCheckpoint(join(dir, "model.ckpt-11.safetensors"));
    expect(ck.step).toBe(11);
    expect(ck.weights).toEqual(weights);

    const bad = join(dir, "model.ckpt-99.safetensors");
    writeFileSync(bad, new Uint8Array(3));
    await expect(loadCheckpoint(bad)).rejects.toThrow(`${bad}: truncated`);
    await expect(loadCheckpoint(join(dir, "nope.safetensors"))).rejects.toThrow(
      /cannot read .*nope\.safetensors: no such file$/,
    );
    await expect(loadCheckpoint(dir)).rejects.toThrow(`cannot read ${dir}: is a folder`);

    // A temp file of a process that no longer exists (pid 2^22 + 1 is above Linux's pid_max default).
    writeFileSync(join(dir, ".model.ckpt-3.safetensors.tmp-4194305-abcdef"), "x");
    writeFileSync(join(dir, `.model.ckpt-4.safetensors.tmp-${process.ppid}-abcdef`), "x");
    expect(await m.removeStaleTemps()).toEqual([".model.ckpt-3.safetensors.tmp-4194305-abcdef"]);
  });
});
