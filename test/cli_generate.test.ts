import { existsSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { readMidi, writeMidi } from "../src/io/midi.js";
import { encodeSafetensors, float16Bits, float16Value } from "../src/io/safetensors.js";
import { createReferenceKernels } from "../src/kernels/reference.js";
import { encodeBundle, loadBundle } from "../src/model/bundle.js";
import { createPolyphonyModel } from "../src/model/lstm.js";
import { createNote, createNoteSequence } from "../src/notesequence.js";
import { runCli, tempDir } from "./helpers/cli.js";

const hparams = { batchSize: 4, rnnLayerSizes: [8], dropoutKeepProb: 0.5, clipNorm: 5, learningRate: 0.001 };
let dir: string;
let bundle: string;

beforeAll(() => {
  dir = tempDir();
  const weights = createPolyphonyModel(createReferenceKernels(), hparams, { seed: 1 }).exportWeights();
  // An untrained model rarely ends a step; favour STEP_END so generation finishes in a few rounds.
  for (const t of weights) if (t.name === "fully_connected/biases") t.data[2] = 4;
  bundle = join(dir, "tiny.safetensors");
  writeFileSync(bundle, encodeBundle({ weights, hparams, step: 0, description: "tiny test model" }));
});

const gen = (out: string, ...args: string[]) =>
  runCli("polyphony_rnn_generate", [
    `--bundle_file=${bundle}`,
    `--output_dir=${out}`,
    "--kernels=reference",
    ...args,
  ]);

describe("polyphony_rnn_generate / polyrnn generate", () => {
  it("writes num_outputs MIDI files named <date>_<i>.mid; the same seed gives the same files", () => {
    const a = join(dir, "a");
    const b = join(dir, "b");
    const args = ["--num_outputs=10", "--num_steps=32", "--primer_pitches=[67,64,60]", "--seed=5"];
    const r = gen(a, ...args);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stderr).toContain("Wrote 10 MIDI files to");
    const rb = gen(b, ...args);
    expect(rb.status, rb.stderr).toBe(0);
    const files = readdirSync(a).sort();
    expect(files).toHaveLength(10);
    expect(files[0]).toMatch(/^\d{4}-\d\d-\d\d_\d{6}_01\.mid$/);
    expect(files[9]).toMatch(/_10\.mid$/);
    const filesB = readdirSync(b).sort();
    for (let i = 0; i < 10; i++) {
      const ns = readMidi(readFileSync(join(a, files[i])));
      expect(readFileSync(join(a, files[i])).equals(readFileSync(join(b, filesB[i])))).toBe(true);
      // The primer chord is there verbatim (condition_on_primer=false copies it), and nothing passes 4.0 s.
      const chord = ns.notes
        .filter((n) => n.startTime === 0 && Math.abs(n.endTime - 0.5) < 1e-6)
        .map((n) => n.pitch);
      expect(chord.sort()).toEqual([60, 64, 67]);
      expect(Math.max(...ns.notes.map((n) => n.endTime))).toBeLessThanOrEqual(4.0 + 1e-6);
      // The one-step gap after the primer: nothing starts in step 4 (0.5 s … 0.625 s).
      expect(ns.notes.some((n) => n.startTime >= 0.5 - 1e-6 && n.startTime < 0.625 - 1e-6)).toBe(false);
    }
  });

  it("--exclude_primer writes only the new music", () => {
    const out = join(dir, "ex");
    const r = gen(
      out,
      "--num_outputs=1",
      "--num_steps=32",
      "--primer_pitches=[67,64,60]",
      "--seed=5",
      "--exclude_primer",
      "--noinject_primer_during_generation",
    );
    expect(r.status, r.stderr).toBe(0);
    const [file] = readdirSync(out);
    const ns = readMidi(readFileSync(join(out, file)));
    expect(
      ns.notes.some(
        (n) => n.startTime === 0 && [60, 64, 67].includes(n.pitch) && Math.abs(n.endTime - 0.5) < 1e-6,
      ),
    ).toBe(false);
  });

  it("--save_generator_bundle writes a bundle from a run's checkpoint", () => {
    const run = join(dir, "run");
    const ds = join(dir, "ds");
    const notes = join(dir, "notes.tfrecord");
    expect(runCli("polyrnn", ["convert", "--input_dir=examples/midi", `--output_file=${notes}`]).status).toBe(
      0,
    );
    expect(
      runCli("polyrnn", [
        "dataset",
        `--input=${notes}`,
        `--output_dir=${ds}`,
        "--eval_ratio=0",
        "--min_steps=1",
      ]).status,
    ).toBe(0);
    const t = runCli("polyrnn", [
      "train",
      `--run_dir=${run}`,
      `--sequence_example_file=${join(ds, "training_poly_tracks.tfrecord")}`,
      "--hparams=batch_size=2,rnn_layer_sizes=[6]",
      "--num_training_steps=2",
      "--kernels=reference",
    ]);
    expect(t.status, t.stderr).toBe(0);
    const out = join(dir, "saved.safetensors");
    const r = runCli("polyrnn", [
      "generate",
      `--run_dir=${run}`,
      "--save_generator_bundle",
      `--bundle_file=${out}`,
      "--bundle_description=two steps",
    ]);
    expect(r.status, r.stderr).toBe(0);
    const b = loadBundle(readFileSync(out));
    expect(b.description).toBe("two steps");
    expect(b.step).toBe(2);
    expect(b.hparams.rnnLayerSizes).toEqual([6]);
    expect(b.weights.some((w) => w.name.endsWith("/Adam"))).toBe(false);
    expect(b.temperature).toBeUndefined();
    // --temperature with --save_generator_bundle is recorded as the bundle's.
    const r2 = runCli("polyrnn", [
      "generate",
      `--run_dir=${run}`,
      "--save_generator_bundle",
      `--bundle_file=${out}`,
      "--bundle_description=two steps",
      "--temperature=1.2",
    ]);
    expect(r2.status, r2.stderr).toBe(0);
    expect(r2.stderr).toContain("generates at temperature 1.2");
    expect(loadBundle(readFileSync(out)).temperature).toBe(1.2);
    // --bundle_dtype=float16: half the weight bytes, each weight the nearest float16 of the float32 one.
    const half = join(dir, "half.safetensors");
    const r3 = runCli("polyrnn", [
      "generate",
      `--run_dir=${run}`,
      "--save_generator_bundle",
      `--bundle_file=${half}`,
      "--bundle_description=two steps",
      "--bundle_dtype=float16",
    ]);
    expect(r3.status, r3.stderr).toBe(0);
    expect(r3.stderr).toContain("float16 weights");
    const full = loadBundle(readFileSync(out));
    const small = loadBundle(readFileSync(half));
    const weightBytes = (b: typeof full) => b.weights.reduce((n, w) => n + w.data.length, 0);
    expect(small.weights.map((w) => w.name)).toEqual(full.weights.map((w) => w.name));
    // Two bytes a weight fewer; the headers differ only in "F16" for "F32" and the space padding.
    expect(readFileSync(out).length - readFileSync(half).length).toBeGreaterThanOrEqual(
      2 * weightBytes(full) - 8,
    );
    // A float16 bundle read and written again is float32 unless float16 is asked for.
    const again = loadBundle(encodeBundle({ ...small, description: "two steps" }));
    expect(again.weights.map((w) => (w as { dtype?: string }).dtype)).toEqual(
      full.weights.map(() => undefined),
    );
    expect(again.weights.map((w) => w.data)).toEqual(small.weights.map((w) => w.data));
    for (const w of full.weights) {
      const h = small.weights.find((v) => v.name === w.name);
      expect(h?.data).toEqual(Float32Array.from(w.data, (x) => float16Value(float16Bits(x))));
    }
    // --bundle_dtype=int8: a byte a weight of every matrix, within half a step of its column's scale.
    const quarter = join(dir, "quarter.safetensors");
    const r4 = runCli("polyrnn", [
      "generate",
      `--run_dir=${run}`,
      "--save_generator_bundle",
      `--bundle_file=${quarter}`,
      "--bundle_description=two steps",
      "--bundle_dtype=int8",
    ]);
    expect(r4.status, r4.stderr).toBe(0);
    expect(r4.stderr).toContain("int8 weights");
    const q = loadBundle(readFileSync(quarter));
    expect(q.weights.map((w) => w.name).sort()).toEqual(full.weights.map((w) => w.name).sort());
    const matrixFloats = full.weights.reduce((n, w) => n + (w.shape.length >= 2 ? w.data.length : 0), 0);
    expect(readFileSync(out).length - readFileSync(quarter).length).toBeGreaterThanOrEqual(
      3 * matrixFloats - 4 * 2000,
    );
    for (const w of full.weights) {
      const v = q.weights.find((x) => x.name === w.name) as (typeof q.weights)[number];
      if (w.shape.length < 2) {
        expect(v.data).toEqual(w.data);
        continue;
      }
      const cols = w.shape[w.shape.length - 1];
      const colMax = new Float32Array(cols);
      w.data.forEach((x, i) => {
        colMax[i % cols] = Math.max(colMax[i % cols], Math.abs(x));
      });
      let worst = 0;
      w.data.forEach((x, i) => {
        worst = Math.max(worst, Math.abs(v.data[i] - x) / (colMax[i % cols] / 127));
      });
      expect(worst).toBeLessThanOrEqual(0.5 + 1e-3);
      expect(worst).toBeGreaterThan(0.1); // it did round
    }
    const played = runCli("polyrnn", [
      "generate",
      `--bundle_file=${quarter}`,
      `--output_dir=${join(dir, "from-int8")}`,
      "--num_outputs=1",
      "--num_steps=16",
    ]);
    expect(played.status, played.stderr).toBe(0);
    expect(readdirSync(join(dir, "from-int8")).filter((f) => f.endsWith(".mid"))).toHaveLength(1);
    // --average_checkpoints=N: the mean of the newest N checkpoints' weights, their steps recorded.
    const steps = readdirSync(join(run, "train"))
      .map((f) => /^model\.ckpt-(\d+)\.safetensors$/.exec(f)?.[1])
      .filter((x): x is string => x !== undefined)
      .map(Number)
      .sort((a, b) => a - b);
    expect(steps.length).toBeGreaterThanOrEqual(2);
    const lastTwo = steps.slice(-2);
    const mean = join(dir, "mean.safetensors");
    const r5 = runCli("polyrnn", [
      "generate",
      `--run_dir=${run}`,
      "--save_generator_bundle",
      `--bundle_file=${mean}`,
      "--bundle_description=mean",
      "--average_checkpoints=2",
    ]);
    expect(r5.status, r5.stderr).toBe(0);
    expect(r5.stderr).toContain(`the mean of steps ${lastTwo.join(", ")}`);
    const m = loadBundle(readFileSync(mean));
    expect(m.averagedSteps).toEqual(lastTwo);
    expect(m.step).toBe(lastTwo[1]);
    const [older, newer] = lastTwo.map(
      (st) => loadBundle(readFileSync(join(run, "train", `model.ckpt-${st}.safetensors`))).weights,
    );
    let moved = 0;
    for (const w of m.weights) {
      const a = older.find((x) => x.name === w.name)?.data as Float32Array;
      const b = newer.find((x) => x.name === w.name)?.data as Float32Array;
      w.data.forEach((v, i) => {
        expect(v).toBeCloseTo((a[i] + b[i]) / 2, 6);
        if (a[i] !== b[i]) moved++;
      });
    }
    expect(moved).toBeGreaterThan(0); // the two checkpoints differ, so the mean is neither
    expect(loadBundle(readFileSync(out)).averagedSteps).toBeUndefined();
    const alone = runCli("polyrnn", ["generate", `--run_dir=${run}`, "--average_checkpoints=2"]);
    expect(alone.status).toBe(2);
    expect(alone.stderr).toContain("--average_checkpoints applies to --save_generator_bundle only");
    const wrong = runCli("polyrnn", [
      "generate",
      `--run_dir=${run}`,
      "--save_generator_bundle",
      `--bundle_file=${half}`,
      "--bundle_dtype=bf16",
    ]);
    expect(wrong.status).toBe(2);
    expect(wrong.stderr).toContain("--bundle_dtype=bf16: expected float32, float16 or int8");
  });

  it("a bundle may record a temperature: generate uses it unless --temperature is given", async () => {
    const tiny = loadBundle(readFileSync(bundle));
    const hot = join(dir, "hot.safetensors");
    writeFileSync(hot, encodeBundle({ ...tiny, temperature: 1.5 }));
    expect(loadBundle(readFileSync(hot)).temperature).toBe(1.5);
    expect(tiny.temperature).toBeUndefined();
    expect(() => encodeBundle({ ...tiny, temperature: -1 })).toThrow(/temperature -1 is not a number ≥ 0/);
    for (const text of ["", "warm", "-0.5"]) {
      const bytes = encodeSafetensors(tiny.weights, { ...tiny.metadata, temperature: text });
      expect(() => loadBundle(bytes)).toThrow(
        `bundle temperature ${JSON.stringify(text)} is not a number ≥ 0`,
      );
    }
    const files = (out: string) => readdirSync(out).map((f) => readFileSync(join(out, f)).toString("hex"));
    const args = ["--num_outputs=2", "--num_steps=32", "--seed=3"];
    const run = (name: string, model: string, ...more: string[]) => {
      const out = join(dir, name);
      const r = runCli("polyrnn", [
        "generate",
        `--bundle_file=${model}`,
        `--output_dir=${out}`,
        "--kernels=reference",
        ...args,
        ...more,
      ]);
      expect(r.status, r.stderr).toBe(0);
      return { stderr: r.stderr, files: files(out) };
    };
    const byBundle = run("t-bundle", hot);
    expect(byBundle.stderr).toContain("Temperature 1.5, the bundle's (--temperature sets another).");
    expect(byBundle.files).toEqual(run("t-flag", bundle, "--temperature=1.5").files);
    const overridden = run("t-over", hot, "--temperature=1");
    expect(overridden.stderr).not.toContain("the bundle's");
    expect(overridden.files).toEqual(run("t-plain", bundle).files);
    expect(overridden.files).not.toEqual(byBundle.files);
    // The library: the same.
    const { generate } = await import("../src/generate/api.js");
    const kernels = createReferenceKernels();
    const music = (b: typeof tiny, t?: number) =>
      generate({ bundle: b, numSteps: 32, seed: 3, kernels, ...(t === undefined ? {} : { temperature: t }) });
    const hotBundle = loadBundle(readFileSync(hot));
    expect(await music(hotBundle)).toEqual(await music(tiny, 1.5));
    expect(await music(hotBundle, 1)).toEqual(await music(tiny));
  });

  it("bad input is one clear line, and no files are written", () => {
    const cases: [string[], number, RegExp][] = [
      [["--num_steps=2", "--primer_pitches=[60]"], 1, /primer .* is not shorter than the 2 steps requested/],
      [["--beam_size=0"], 2, /--beam_size is 0: it must be a whole number of 1 or more$/m],
      [["--temperature=-1"], 2, /--temperature is -1: it must be a number of 0 or more$/m],
      [["--num_outputs=0"], 2, /--num_outputs is 0: it must be a whole number of 1 or more$/m],
      [["--hparams=rnn_layer_sizes=[64,64]"], 2, /was trained with rnn_layer_sizes=\[8\]/],
      [["--primer_pitches=60,64"], 2, /--primer_pitches takes a list/],
      [[`--primer_midi=${join(dir, "nope.mid")}`], 1, /cannot read .*nope\.mid: no such file$/m],
      [[`--primer_midi=${dir}`], 1, /cannot read .*: is a folder$/m],
    ];
    for (const [args, status, message] of cases) {
      const out = join(tempDir(), "out");
      const r = gen(out, ...args);
      expect(r.status, r.stderr).toBe(status);
      expect(r.stderr).toMatch(message);
      expect(r.stderr).not.toContain("    at ");
      expect(existsSync(out) ? readdirSync(out) : []).toEqual([]);
    }
    const notBundle = join(dir, "not.safetensors");
    writeFileSync(notBundle, "garbage");
    const r = runCli("polyrnn", ["generate", `--bundle_file=${notBundle}`, `--output_dir=${join(dir, "x")}`]);
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/not\.safetensors: not a polyrnn bundle/);
    const both = runCli("polyrnn", ["generate", `--bundle_file=${bundle}`, "--run_dir=/tmp/x"]);
    expect(both.status).toBe(2);
    expect(both.stderr).toContain("Cannot specify both --bundle_file and --run_dir");
    const blocker = join(dir, "blocker");
    writeFileSync(blocker, "x");
    const r2 = gen(join(blocker, "out"), "--num_steps=8");
    expect(r2.status).toBe(1);
    expect(r2.stderr).toMatch(/cannot create .*blocker\/out/);
  });

  it("says what happens to a primer MIDI with several programs", () => {
    const primer = createNoteSequence({
      ticksPerQuarter: 220,
      tempos: [{ time: 0, qpm: 120 }],
      notes: [
        createNote({ pitch: 60, velocity: 90, startTime: 0, endTime: 0.5, program: 0 }),
        createNote({ pitch: 48, velocity: 90, startTime: 0, endTime: 0.5, program: 32, instrument: 1 }),
      ],
      totalTime: 0.5,
    });
    const file = join(dir, "two_programs.mid");
    writeFileSync(file, writeMidi(primer));
    const r = gen(join(dir, "tp"), `--primer_midi=${file}`, "--num_steps=16", "--num_outputs=1", "--seed=1");
    expect(r.status, r.stderr).toBe(0);
    expect(r.stderr).toMatch(
      /uses 2 programs; .*nothing is injected; the primer is still copied into the output/,
    );
  });
});
