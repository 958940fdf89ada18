import { copyFileSync, existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { ROOT, runCli, tempDir } from "./helpers/cli.js";

const SEED = join(ROOT, "examples/midi/seed1.mid");
const PNG_SIGNATURE = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];

function seedCopy(): { dir: string; mid: string } {
  const dir = tempDir();
  const mid = join(dir, "seed1.mid");
  copyFileSync(SEED, mid);
  return { dir, mid };
}

function pngSize(png: Uint8Array): [number, number] {
  const view = new DataView(png.buffer, png.byteOffset, png.byteLength);
  return [view.getUint32(16), view.getUint32(20)];
}

/** The one line a failed command prints. */
function oneLine(stderr: string): string {
  const lines = stderr.trim().split("\n");
  expect(lines).toHaveLength(1);
  return lines[0];
}

describe("polyrnn plot", () => {
  it("writes FILE.svg and FILE.png next to the input, every note in one colour by default", () => {
    const { dir, mid } = seedCopy();
    const r = runCli("polyrnn", ["plot", mid]);
    expect(r.stderr).toContain("12 notes");
    expect(r.status).toBe(0);
    const svg = readFileSync(join(dir, "seed1.svg"), "utf8");
    expect(svg.match(/class="note notes"/g)).toHaveLength(12);
    expect(svg).not.toContain("note primer");
    expect(svg).toContain("<title>seed1.mid</title>");
    const png = readFileSync(join(dir, "seed1.png"));
    expect([...png.subarray(0, 8)]).toEqual(PNG_SIGNATURE);
    expect(pngSize(png)[0]).toBe(1200);
  });

  it("splits primer and generated notes at --split_step or --split_time", () => {
    const { dir, mid } = seedCopy();
    // seed1: 120 qpm, notes from 0.5 s in triplets; 8 steps = 2 quarters = 1 s.
    const out = join(dir, "roll.svg");
    const r = runCli("polyrnn", ["plot", mid, "--split_step=8", `--output=${out}`]);
    expect(r.status).toBe(0);
    expect(r.stderr).toContain("3 primer, 9 generated, split at 1 s");
    const svg = readFileSync(out, "utf8");
    expect(svg.match(/class="note primer"/g)).toHaveLength(3);
    expect(svg.match(/class="note generated"/g)).toHaveLength(9);
    expect(existsSync(join(dir, "seed1.png"))).toBe(false);

    const png = join(dir, "nested/roll.png");
    const t = runCli("polyrnn", [
      "plot",
      "--split_time",
      "1.5",
      "--width=600",
      "--height=300",
      mid,
      "--output",
      png,
    ]);
    expect(t.status).toBe(0);
    expect(t.stderr).toContain("split at 1.5 s");
    const bytes = readFileSync(png);
    expect([...bytes.subarray(0, 8)]).toEqual(PNG_SIGNATURE);
    expect(pngSize(bytes)).toEqual([600, 300]);
  });

  it("says in one line what is wrong with the input or the output", () => {
    const { dir, mid } = seedCopy();
    const missing = join(dir, "nope.mid");
    const r = runCli("polyrnn", ["plot", missing]);
    expect(r.status).toBe(1);
    expect(oneLine(r.stderr)).toBe(`error: cannot read ${missing}: no such file`);

    const text = join(dir, "notes.mid");
    writeFileSync(text, "this is not a MIDI file\n");
    const t = runCli("polyrnn", ["plot", text]);
    expect(t.status).toBe(1);
    expect(oneLine(t.stderr)).toMatch(
      new RegExp(`^error: ${text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}: .*MIDI`),
    );
    expect(existsSync(join(dir, "notes.svg"))).toBe(false);

    // A path under a file cannot be written (even by root).
    const w = runCli("polyrnn", ["plot", mid, `--output=${join(mid, "x.svg")}`]);
    expect(w.status).toBe(1);
    expect(oneLine(w.stderr)).toMatch(/^error: cannot write .*x\.svg: E[A-Z]+$/);
  });

  it("rejects bad flags with usage errors and documents its flags", () => {
    const { mid } = seedCopy();
    expect(runCli("polyrnn", ["plot"]).status).toBe(2);
    const both = runCli("polyrnn", ["plot", mid, "--split_time=1", "--split_step=4"]);
    expect(both.status).toBe(2);
    expect(both.stderr).toContain("not both");
    expect(runCli("polyrnn", ["plot", mid, "--output=x.jpg"]).status).toBe(2);
    const help = runCli("polyrnn", ["plot", "--help"]);
    expect(help.status).toBe(0);
    for (const flag of ["--output", "--split_time", "--split_step", "--width", "--height"])
      expect(help.stdout).toContain(flag);
    expect(runCli("polyrnn", ["--help"]).stdout).toMatch(/plot .*\n.*render /);
  });
});

describe("polyrnn render", () => {
  it("writes FILE.wav next to the input, or --output at --sample_rate", () => {
    const { dir, mid } = seedCopy();
    const r = runCli("polyrnn", ["render", mid]);
    expect(r.status).toBe(0);
    expect(r.stderr).toContain("12 notes");
    const wav = readFileSync(join(dir, "seed1.wav"));
    expect(wav.subarray(0, 4).toString("latin1")).toBe("RIFF");
    expect(wav.readUInt32LE(24)).toBe(44100);
    // seed1 ends at 2.1665 s; one second of tail.
    expect(wav.readUInt32LE(40)).toBe(2 * Math.round((2.16650390625 + 1) * 44100));

    const out = join(dir, "out/listen.wav");
    const s = runCli("polyrnn", ["render", mid, `--output=${out}`, "--sample_rate=22050"]);
    expect(s.status).toBe(0);
    const small = readFileSync(out);
    expect(small.readUInt32LE(24)).toBe(22050);
    expect(small.readUInt32LE(40)).toBe(2 * Math.round((2.16650390625 + 1) * 22050));
    // The first note starts at 0.5 s.
    const first = small.subarray(44, 44 + 2 * 11025);
    expect(first.every((b) => b === 0)).toBe(true);
    expect(small.subarray(44 + 2 * 11025).some((b) => b !== 0)).toBe(true);
    // Deterministic.
    runCli("polyrnn", ["render", mid, `--output=${join(dir, "again.wav")}`, "--sample_rate=22050"]);
    expect(readFileSync(join(dir, "again.wav")).equals(small)).toBe(true);
  });

  it("reports a missing or non-MIDI file in one line", () => {
    const { dir } = seedCopy();
    const missing = join(dir, "nope.mid");
    const r = runCli("polyrnn", ["render", missing]);
    expect(r.status).toBe(1);
    expect(oneLine(r.stderr)).toBe(`error: cannot read ${missing}: no such file`);
    const text = join(dir, "fake.mid");
    writeFileSync(text, "MThd but not really");
    const t = runCli("polyrnn", ["render", text]);
    expect(t.status).toBe(1);
    expect(oneLine(t.stderr)).toContain(`error: ${text}: `);
    expect(existsSync(join(dir, "fake.wav"))).toBe(false);
    const rate = runCli("polyrnn", ["render", text, "--sample_rate=10"]);
    expect(rate.status).toBe(2);
    expect(rate.stderr).toContain("--sample_rate is 10: it must be a whole number from 8000 to 192000");
  });
});
