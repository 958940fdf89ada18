/**
 * The Studio's in-page training path (src/train/session.ts, the library's training API), run in Node: MIDI bytes → dataset
 * (the pipeline of polyrnn dataset) → training steps (the step of polyrnn train) → a bundle that the
 * command line generates from. The browser test runs the same module in Chromium.
 */
import { readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { convertInputFiles, MAX_INPUT_BYTES } from "../src/io/convert_core.js";
import { readMidi } from "../src/io/midi.js";
import { createReferenceKernels } from "../src/kernels/reference.js";
import { loadBundle } from "../src/model/bundle.js";
import { formatHParams, parseHParams } from "../src/model/hparams.js";
import { DEFAULT_DATASET_OPTIONS, processNoteSequence } from "../src/pipeline/dataset.js";
import { PIANO_ROLL_COLORS } from "../src/render/pianoroll.js";
import { ROLL_COLORS } from "../src/studio/web/roll.js";
import { buildDataset, Trainer } from "../src/train/session.js";
import { tinyPieceMidi } from "./browser/fixtures.js";
import { runCli, tempDir } from "./helpers/cli.js";

const files = [0, 1, 2].map((k) => ({ name: `piece_${k}.mid`, bytes: tinyPieceMidi(k) }));

describe("studio training core", () => {
  it("converts MIDI like polyrnn convert and skips bad files with a reason", () => {
    const bad = { name: "broken.mid", bytes: new Uint8Array([0x4d, 0x54, 0x68, 0x64, 0, 0]) };
    const notMidi = { name: "notes.txt", bytes: new Uint8Array([1, 2, 3]) };
    const huge = { name: "huge.mid", bytes: new Uint8Array(MAX_INPUT_BYTES + 1) };
    const r = convertInputFiles([...files, bad, notMidi, huge], "my_midi");
    expect(r.sequences.map((s) => s.filename)).toEqual(["piece_0.mid", "piece_1.mid", "piece_2.mid"]);
    expect(r.sequences[0].collectionName).toBe("my_midi");
    // Magenta's id: /id/midi/<collection>/<sha1 of the file name> (sha1("piece_0.mid")).
    expect(r.sequences[0].id).toMatch(/^\/id\/midi\/my_midi\/[0-9a-f]{40}$/);
    expect(r.skipped.map((s) => s.name).sort()).toEqual(["broken.mid", "huge.mid", "notes.txt"]);
    for (const s of r.skipped) expect(s.reason.length).toBeGreaterThan(5);
  });

  it("builds the same tracks as the dataset pipeline", () => {
    const { sequences } = convertInputFiles(files, "c");
    const opts = { ...DEFAULT_DATASET_OPTIONS, evalRatio: 0 };
    const data = buildDataset(sequences, opts);
    const direct = sequences.flatMap((ns) => processNoteSequence(ns, "training", opts, {}).tracks);
    expect(data.training).toEqual(direct);
    expect(data.training.length).toBe(27); // 3 pieces × 9 transpositions, one track each
    expect(data.eval).toEqual([]);
    expect(data.stats.DAGPipeline_RandomPartition_training_poly_tracks_count).toBe(3);
  });

  it("trains (loss falls) and writes a bundle that polyrnn generate loads", () => {
    const { sequences } = convertInputFiles(files, "c");
    const data = buildDataset(sequences, { ...DEFAULT_DATASET_OPTIONS, evalRatio: 0 });
    const hparams = parseHParams(
      "batch_size=4,rnn_layer_sizes=[16],learning_rate=0.01,dropout_keep_prob=1.0",
    );
    const t = new Trainer(createReferenceKernels(), hparams, data.training, 7);
    try {
      const losses: number[] = [];
      for (let i = 0; i < 40; i++) losses.push(t.step().loss);
      expect(t.stepCount).toBe(40);
      const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
      expect(mean(losses.slice(-8))).toBeLessThan(mean(losses.slice(0, 8)) - 0.5);

      const bytes = t.bundle("studio test");
      const b = loadBundle(bytes);
      expect(b.step).toBe(40);
      expect(formatHParams(b.hparams)).toBe(formatHParams(hparams));
      expect(b.description).toBe("studio test");

      const dir = tempDir("polyrnn-studio-train-");
      writeFileSync(join(dir, "model.safetensors"), bytes);
      const r = runCli("polyrnn", [
        "generate",
        `--bundle_file=${join(dir, "model.safetensors")}`,
        `--output_dir=${join(dir, "out")}`,
        "--num_outputs=1",
        "--num_steps=64",
        "--seed=3",
        "--primer_pitches=[60,64,67]",
      ]);
      expect(r.stderr).toContain("Wrote 1 MIDI files");
      expect(r.status).toBe(0);
      const out = readdirSync(join(dir, "out"));
      expect(readMidi(readFileSync(join(dir, "out", out[0]))).totalTime).toBeCloseTo(8, 5);
    } finally {
      t.dispose();
    }
  });

  it("refuses an empty dataset with a message", () => {
    const hparams = parseHParams("batch_size=4,rnn_layer_sizes=[16]");
    expect(() => new Trainer(createReferenceKernels(), hparams, [], 1)).toThrow(/no training examples/);
  });

  it("draws primer and generated notes in the colours of polyrnn plot", () => {
    expect(ROLL_COLORS.primer).toBe(PIANO_ROLL_COLORS.primer);
    expect(ROLL_COLORS.generated).toBe(PIANO_ROLL_COLORS.generated);
  });
});
