// `polyrnn eval --music`: the statistics on hand-worked pieces, and the command on the notebook's files.
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import {
  addPiece,
  emptyTally,
  estimateKey,
  histogramDistance,
  inKey,
  keyName,
  musicStats,
  type StepNote,
  stepNotes,
} from "../src/eval/music.js";
import { writeMidi } from "../src/io/midi.js";
import { createNote, createNoteSequence } from "../src/notesequence.js";
import { runCli, tempDir } from "./helpers/cli.js";

const notes = (list: [number, number, number][]): StepNote[] =>
  list.map(([pitch, start, end]) => ({ pitch, start, end }));

// One quarter note at 120 qpm = 0.5 s = 4 steps.
function piece(list: [number, number, number][]) {
  return createNoteSequence({
    tempos: [{ time: 0, qpm: 120 }],
    notes: list.map(([pitch, start, end]) =>
      createNote({ pitch, velocity: 80, startTime: start / 8, endTime: end / 8 }),
    ),
    totalTime: Math.max(...list.map((n) => n[2])) / 8,
  });
}

describe("music statistics", () => {
  it("puts seconds on the 16th-note grid and leaves drums out", () => {
    const ns = piece([
      [60, 0, 4],
      [64, 4, 8],
    ]);
    ns.notes.push(createNote({ pitch: 36, isDrum: true, startTime: 0, endTime: 0.5 }));
    expect(stepNotes(ns)).toEqual(
      notes([
        [60, 0, 4],
        [64, 4, 8],
      ]),
    );
  });

  it("finds the key of a scale and of a minor triad piece", () => {
    const cMajor = notes([0, 2, 4, 5, 7, 9, 11].map((d, i) => [60 + d, i * 4, i * 4 + 4]));
    // The tonic triad weighs most, as in real music.
    cMajor.push(
      ...notes([
        [60, 28, 44],
        [64, 28, 44],
        [67, 28, 44],
      ]),
    );
    expect(keyName(estimateKey(cMajor))).toBe("C major");
    const aMinor = notes([
      [57, 0, 16],
      [60, 0, 16],
      [64, 0, 16],
      [62, 16, 20],
      [59, 20, 24],
      [56, 24, 28],
      [57, 28, 44],
    ]);
    expect(keyName(estimateKey(aMinor))).toBe("A minor");
    expect(inKey(68, { tonic: 9, mode: "minor" })).toBe(true); // G#: raised 7th
    expect(inKey(70, { tonic: 9, mode: "minor" })).toBe(false); // Bb
    expect(inKey(61, { tonic: 0, mode: "major" })).toBe(false);
  });

  it("counts polyphony, silence, density and pitch classes by hand", () => {
    const t = emptyTally();
    // Steps 0-3: C+E+G (3 notes); steps 4-7: silent; steps 8-11: C# alone. 12 steps, 4 onsets.
    addPiece(
      t,
      notes([
        [60, 0, 4],
        [64, 0, 4],
        [67, 0, 4],
        [61, 8, 12],
      ]),
    );
    addPiece(t, []);
    const s = musicStats(t);
    expect(s.pieces).toBe(2);
    expect(s.notes).toBe(4);
    expect(s.polyphony).toBeCloseTo((4 * 3 + 4 * 1) / 8, 12);
    expect(s.silentShare).toBeCloseTo(4 / 12, 12);
    expect(s.notesPerQuarter).toBeCloseTo((4 / 12) * 4, 12);
    expect(s.pitchClassHistogram[0]).toBe(0.25);
    expect(s.pitchClassHistogram[1]).toBe(0.25);
    expect(s.meanPitch).toBe(63);
    expect(s.inKeyShare).toBe(0.75); // C major (by profile); C# is out of it
    expect(s.keyHistogram[0]).toBe(0.25); // C is the tonic, C# one degree above it
    expect(s.keyHistogram[1]).toBe(0.25);
  });

  it("counts pitches, not notes, in polyphony: voices in unison sound one pitch", () => {
    const t = emptyTally();
    // Steps 0-3: C twice (two voices) and E; steps 4-5: C alone.
    addPiece(
      t,
      notes([
        [60, 0, 4],
        [60, 0, 6],
        [64, 0, 4],
      ]),
    );
    const s = musicStats(t);
    expect(s.notes).toBe(3);
    expect(s.polyphony).toBeCloseTo((4 * 2 + 2 * 1) / 6, 12);
  });

  it("measures silence and density from the first onset, and degrees from each piece's own tonic", () => {
    const t = emptyTally();
    // Silent steps 0-7 before the first note (a generated piece without its primer): not counted.
    addPiece(
      t,
      notes([
        [62, 8, 12],
        [66, 8, 12],
        [69, 12, 16],
      ]),
    );
    const s = musicStats(t);
    expect(s.silentShare).toBe(0);
    expect(s.notesPerQuarter).toBeCloseTo((3 / 8) * 4, 12);
    // D major: D, F#, A are degrees 0, 4 and 7 above the tonic.
    const u = emptyTally();
    addPiece(
      u,
      notes([
        [60, 0, 4],
        [64, 0, 4],
        [67, 4, 8],
      ]),
    );
    expect(musicStats(u).keyHistogram).toEqual(s.keyHistogram);
    expect(s.keyHistogram[0] + s.keyHistogram[4] + s.keyHistogram[7]).toBeCloseTo(1, 12);
  });

  it("measures histogram distance as total variation", () => {
    const a = new Array(12).fill(0);
    const b = new Array(12).fill(0);
    a[0] = 1;
    b[7] = 1;
    expect(histogramDistance(a, b)).toBe(1);
    expect(histogramDistance(a, a)).toBe(0);
    b[7] = 0.5;
    b[0] = 0.5;
    expect(histogramDistance(a, b)).toBe(0.5);
  });
});

describe("polyrnn eval --music", () => {
  it("sets the notebook's Bach outputs beside its Schubert output, and as JSON", () => {
    const r = runCli("polyrnn", [
      "eval",
      "--music=examples/midi/startSchubert_contBach_10.mid,examples/midi/startSchubertShort_08.mid",
      "--reference=examples/midi/generated_schubert_2x64.mid",
    ]);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/pieces\s+2\s+1/);
    expect(r.stdout).toMatch(/notes\s+310\s+32/);
    expect(r.stdout).toContain("Pitch-class histogram distance");
    const j = runCli("polyrnn", ["eval", "--music=examples/midi", "--json"]);
    expect(j.status, j.stderr).toBe(0);
    const out = JSON.parse(j.stdout);
    expect(out.music.pieces).toBe(5);
    expect(out.reference).toBeNull();
    expect(out.music.pitch_class_histogram.reduce((x: number, y: number) => x + y, 0)).toBeCloseTo(1, 9);
  });

  it("reports a bad file and goes on; refuses model flags; names a missing path", () => {
    const dir = tempDir();
    writeFileSync(join(dir, "bad.mid"), "MThd garbage");
    writeFileSync(join(dir, "good.mid"), writeMidi(piece([[60, 0, 8]])));
    const r = runCli("polyrnn", ["eval", `--music=${dir}`]);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stderr).toMatch(/skipped .*bad\.mid: /);
    expect(r.stdout).toMatch(/pieces\s+1/);
    const u = runCli("polyrnn", ["eval", `--music=${dir}`, "--bundle_file=x.safetensors"]);
    expect(u.status).not.toBe(0);
    expect(u.stderr).toContain("--bundle_file does not go with --music");
    const m = runCli("polyrnn", ["eval", "--music=/nonexistent/dir"]);
    expect(m.status).toBe(1);
    expect(m.stderr).toContain("cannot read /nonexistent/dir: no such file or folder");
  });
});
