// The README's first command (`npm start`) on a fresh clone: generation with the shipped model and no model flag.
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { expect, it } from "vitest";
import { readMidi } from "../src/io/midi.js";
import { loadBundle } from "../src/model/bundle.js";
import { ROOT, runCli, tempDir } from "./helpers/cli.js";

it("the shipped bach bundle (Magenta's default hparams) is what `polyrnn generate` uses with no model flag", () => {
  const bundle = loadBundle(readFileSync(join(ROOT, "models/bach.safetensors")));
  expect(bundle.hparams.rnnLayerSizes).toEqual([256, 256, 256]);
  expect(bundle.hparams.dropoutKeepProb).toBe(0.5);
  expect(bundle.hparams.batchSize).toBe(64);
  const schubert = loadBundle(readFileSync(join(ROOT, "models/schubert.safetensors")));
  expect(schubert.hparams.rnnLayerSizes).toEqual([64, 64]);
  const pkg = JSON.parse(readFileSync(join(ROOT, "package.json"), "utf8"));
  expect(pkg.scripts.start).toMatch(/^node dist\/cli\/polyrnn\.js generate /);
  // npm start passes no model flag: it runs on the default bundle.
  expect(pkg.scripts.start).not.toMatch(/--bundle_file|--run_dir/);
  expect(pkg.files).toContain("models");
  const out = tempDir();
  const r = runCli("polyrnn", [
    "generate",
    "--primer_midi=examples/midi/seed1.mid",
    "--condition_on_primer=true",
    "--inject_primer_during_generation=false",
    "--num_outputs=2",
    "--num_steps=64",
    "--seed=1",
    `--output_dir=${out}`,
  ]);
  expect(r.status, r.stderr).toBe(0);
  expect(r.stderr).toContain("models/bach.safetensors");
  const files = readdirSync(out);
  expect(files).toHaveLength(2);
  for (const f of files) {
    const ns = readMidi(readFileSync(join(out, f)));
    // seed1's 12 notes come first (the primer is part of the output), then new music.
    expect(ns.notes.length).toBeGreaterThan(12);
    expect(Math.max(...ns.notes.map((n) => n.endTime))).toBeLessThanOrEqual(8.0 + 1e-6);
  }
});

it("the README's quick start is exactly two set-up commands: one makes music, one runs the tests", () => {
  const readme = readFileSync(join(ROOT, "README.md"), "utf8");
  const section = readme.slice(readme.indexOf("## Quick start"));
  const block = /```sh\n([\s\S]*?)```/.exec(section);
  expect(block, "a ```sh block under ## Quick start").not.toBeNull();
  const commands = (block?.[1] ?? "")
    .split("\n")
    .map((line) => line.replace(/#.*$/, "").trim())
    .filter((line) => line !== "");
  expect(commands).toEqual(["npm ci && npm start", "npm test"]);
});
