/**
 * The README's frame-NLL table is what the shipped benchmark models score: for every
 * models/bench-<name>.safetensors, `polyrnn eval --frames` on the valid split reproduces the number that
 * scripts/results.sh wrote to docs/results/frames_<name>.json, and the README's row shows it.
 */
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { HAS_SHARED_DATA, ROOT, runCli, SHARED_DATA } from "./helpers/cli.js";

const README_NAMES: Record<string, string> = {
  jsb_chorales: "JSB Chorales",
  nottingham: "Nottingham",
  musedata: "MuseData",
  piano_midi_de: "Piano-midi.de",
};

const benches = readdirSync(join(ROOT, "models"))
  .filter((f) => /^bench-.+\.safetensors$/.test(f))
  .map((f) => f.slice("bench-".length, -".safetensors".length));

describe("shipped benchmark models", () => {
  it("are each one of the four benchmarks, with a recorded result", () => {
    expect(benches.length).toBeGreaterThan(0);
    for (const b of benches) {
      expect(Object.keys(README_NAMES)).toContain(b);
      expect(existsSync(join(ROOT, `docs/results/frames_${b}.json`))).toBe(true);
    }
  });

  const suite = HAS_SHARED_DATA ? describe : describe.skip;
  if (!HAS_SHARED_DATA) console.warn("../shared/data not found: benchmark results not re-measured");
  suite.each(benches)("%s", (b) => {
    it("scores on the valid split what docs/results and the README say", () => {
      const r = runCli("polyrnn", [
        "eval",
        `--bundle_file=models/bench-${b}.safetensors`,
        `--frames=${join(SHARED_DATA, `benchmarks/bl2012_${b}.json`)}`,
        "--split=valid",
        "--json",
      ]);
      expect(r.status, r.stderr).toBe(0);
      const measured = JSON.parse(r.stdout);
      const recorded = JSON.parse(readFileSync(join(ROOT, `docs/results/frames_${b}.json`), "utf8"));
      expect(measured.split).toBe("valid");
      expect(measured.frames).toBe(recorded.frames);
      expect(measured.nll_per_frame).toBeCloseTo(recorded.nll_per_frame, 6);
      expect(measured.end_nll_per_sequence).toBeCloseTo(recorded.end_nll_per_sequence, 6);

      const row = readFileSync(join(ROOT, "README.md"), "utf8")
        .split("\n")
        .find((line) => line.startsWith(`| ${README_NAMES[b]} `));
      expect(row, `README row for ${README_NAMES[b]}`).toBeDefined();
      const cells = (row as string).split("|").map((c) => c.trim());
      expect(cells[2].replace(/\*/g, "")).toBe(measured.nll_per_frame.toFixed(2));
    }, 180_000);
  });
});
