/** Output for scripts: `polyrnn generate --json` (files, seed, log-likelihoods) and `--quiet` of convert and dataset. */
import { cpSync, existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { readMidi } from "../src/io/midi.js";
import { ROOT, runCli, tempDir } from "./helpers/cli.js";

describe("machine-readable and quiet output", () => {
  it("generate --json prints the files it wrote with their log-likelihoods and the seed", () => {
    const out = tempDir();
    const r = runCli("polyrnn", [
      "generate",
      `--bundle_file=${join(ROOT, "models/schubert.safetensors")}`,
      "--num_outputs=2",
      "--num_steps=32",
      "--seed=11",
      "--kernels=reference",
      `--output_dir=${out}`,
      "--json",
    ]);
    expect(r.status, r.stderr).toBe(0);
    const j = JSON.parse(r.stdout);
    expect(j.seed).toBe(11);
    expect(j.generateEndStep).toBe(32);
    expect(j.files).toHaveLength(2);
    for (const f of j.files) {
      expect(f.path.startsWith(out)).toBe(true);
      expect(readMidi(readFileSync(f.path)).tempos.length).toBeGreaterThan(0);
      expect(f.logLikelihood).toBeLessThan(0);
    }
    expect(r.stderr).toMatch(/Wrote 2 MIDI files/); // the log still goes to stderr
  });

  it("convert --quiet and dataset --quiet print no progress, warnings or summary, and still write", () => {
    const dir = tempDir();
    cpSync(join(ROOT, "examples/midi"), join(dir, "in"), { recursive: true });
    writeFileSync(join(dir, "in/broken.mid"), "MThd");
    const notes = join(dir, "notes.tfrecord");
    const loud = runCli("polyrnn", [
      "convert",
      `--input_dir=${dir}/in`,
      `--output_file=${notes}`,
      "--jobs=1",
    ]);
    expect(loud.stderr).toMatch(/Skipped 1 file/);
    const c = runCli("polyrnn", [
      "convert",
      `--input_dir=${dir}/in`,
      `--output_file=${notes}`,
      "--jobs=1",
      "--quiet",
    ]);
    expect(c.status).toBe(0);
    expect(c.stderr).toBe("");
    expect(existsSync(notes)).toBe(true);
    const d = runCli("polyrnn", ["dataset", `--input=${notes}`, `--output_dir=${dir}/data`, "--quiet"]);
    expect(d.status, d.stderr).toBe(0);
    expect(d.stderr).toBe("");
    expect(existsSync(join(dir, "data/training_poly_tracks.tfrecord"))).toBe(true);
  });
});
