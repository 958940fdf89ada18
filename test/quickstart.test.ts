// The README's first command (`npm start`) on a fresh clone: generation with the shipped model and no model flag.
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { expect, it } from "vitest";
import { readMidi } from "../src/io/midi.js";
import { loadBundle } from "../src/model/bundle.js";
import { ROOT, runCli, tempDir } from "./helpers/cli.js";

it("the shipped model loads and `polyrnn generate` uses it when no model is given", () => {
  const bundle = loadBundle(readFileSync(join(ROOT, "models/schubert.safetensors")));
  expect(bundle.hparams.rnnLayerSizes).toEqual([64, 64]);
  const pkg = JSON.parse(readFileSync(join(ROOT, "package.json"), "utf8"));
  expect(pkg.scripts.start).toMatch(/^node dist\/cli\/polyrnn\.js generate /);
  expect(pkg.files).toContain("models");
  const out = tempDir();
  const r = runCli("polyrnn", [
    "generate",
    "--primer_midi=examples/midi/seed1.mid",
    "--num_outputs=2",
    "--num_steps=64",
    "--seed=1",
    `--output_dir=${out}`,
  ]);
  expect(r.status, r.stderr).toBe(0);
  expect(r.stderr).toContain("models/schubert.safetensors");
  const files = readdirSync(out);
  expect(files).toHaveLength(2);
  for (const f of files) {
    const ns = readMidi(readFileSync(join(out, f)));
    // seed1's 12 notes come first (condition_on_primer=false copies the primer), then new music.
    expect(ns.notes.length).toBeGreaterThan(12);
    expect(Math.max(...ns.notes.map((n) => n.endTime))).toBeLessThanOrEqual(8.0 + 1e-6);
  }
});
