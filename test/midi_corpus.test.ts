/**
 * Every MIDI file of ../shared/data (seed, piano-midi.de, bach-chorales-midi, nottingham-midi: ~1,830
 * files) reads without error, and MIDI → NoteSequence → MIDI → NoteSequence keeps every note on its tick.
 */
import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { readMidi, TempoMap, writeMidi } from "../src/io/midi.js";
import type { NoteSequence } from "../src/notesequence.js";

const testDir = dirname(fileURLToPath(import.meta.url));
const dataDir = resolve(testDir, "../../shared/data");
const haveData = existsSync(dataDir);

function midiFiles(dir: string, out: string[] = []): string[] {
  for (const name of readdirSync(dir).sort()) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) midiFiles(path, out);
    else if (/\.midi?$/i.test(name)) out.push(path);
  }
  return out;
}

/** seconds → tick through the tempo map of a sequence read from MIDI. */
function tickMap(ns: NoteSequence): (seconds: number) => number {
  const tpq = ns.ticksPerQuarter;
  const map = new TempoMap(tpq, 60 / (ns.tempos[0].qpm * tpq));
  for (const t of ns.tempos.slice(1)) map.addTempo(map.tick(t.time), 60 / (t.qpm * tpq));
  return (seconds) => map.tick(seconds);
}

/** Everything the round trip must keep, as sorted strings (order within an instrument may change). */
function noteKeys(ns: NoteSequence, tick: (s: number) => number): string[] {
  return ns.notes
    .map((n) =>
      [n.instrument, tick(n.startTime), tick(n.endTime), n.pitch, n.velocity, n.program, n.isDrum].join(","),
    )
    .sort();
}

function eventKeys(ns: NoteSequence, tick: (s: number) => number): string[] {
  return [
    ...ns.pitchBends.map((b) => `b,${b.instrument},${tick(b.time)},${b.bend},${b.program},${b.isDrum}`),
    ...ns.controlChanges.map(
      (c) =>
        `c,${c.instrument},${tick(c.time)},${c.controlNumber},${c.controlValue},${c.program},${c.isDrum}`,
    ),
  ].sort();
}

const suite = haveData ? describe : describe.skip;

suite(haveData ? "MIDI corpus in ../shared/data" : "../shared/data not found: corpus tests skipped", () => {
  const files = haveData ? midiFiles(dataDir) : [];

  it("finds the corpus", () => {
    expect(files.length).toBeGreaterThan(1800);
  });

  it("reads every file, and the round trip through writeMidi keeps every note on its tick", () => {
    const failures: string[] = [];
    let notes = 0;
    let bytes = 0;
    let readMs = 0;
    const t0 = performance.now();
    for (const path of files) {
      const name = relative(dataDir, path);
      const data = new Uint8Array(readFileSync(path));
      bytes += data.length;
      let ns: NoteSequence;
      try {
        const r0 = performance.now();
        ns = readMidi(data);
        readMs += performance.now() - r0;
      } catch (e) {
        failures.push(`${name}: ${(e as Error).message}`);
        continue;
      }
      notes += ns.notes.length;
      const back = readMidi(writeMidi(ns));
      const tick = tickMap(ns);
      const problems: string[] = [];
      if (back.ticksPerQuarter !== ns.ticksPerQuarter) problems.push("ticksPerQuarter");
      if (noteKeys(back, tick).join(";") !== noteKeys(ns, tick).join(";")) problems.push("notes");
      if (eventKeys(back, tick).join(";") !== eventKeys(ns, tick).join(";")) problems.push("bends/controls");
      const sameTempos =
        back.tempos.length === ns.tempos.length &&
        back.tempos.every((t, i) => t.qpm === ns.tempos[i].qpm && tick(t.time) === tick(ns.tempos[i].time));
      if (!sameTempos) problems.push("tempos");
      // pretty_midi's writer adds a 4/4 at time 0 when there is no time signature there.
      const expectedTs = ns.timeSignatures.some((t) => t.time <= 0)
        ? ns.timeSignatures
        : [{ time: 0, numerator: 4, denominator: 4 }, ...ns.timeSignatures];
      const ts = (list: NoteSequence["timeSignatures"]) =>
        list.map((t) => `${tick(t.time)},${t.numerator}/${t.denominator}`).join(";");
      if (ts(back.timeSignatures) !== ts(expectedTs)) problems.push("time signatures");
      const ks = (s: NoteSequence) =>
        s.keySignatures.map((k) => `${tick(k.time)},${k.key},${k.mode}`).join(";");
      if (ks(back) !== ks(ns)) problems.push("key signatures");
      if (JSON.stringify(back.instrumentInfos) !== JSON.stringify(ns.instrumentInfos)) problems.push("names");
      if (problems.length > 0) failures.push(`${name}: round trip changed ${problems.join(", ")}`);
    }
    const seconds = (performance.now() - t0) / 1000;
    console.log(
      `MIDI corpus: ${files.length} files, ${(bytes / 1e6).toFixed(1)} MB, ${notes} notes; ` +
        `read in ${(readMs / 1000).toFixed(2)} s, read + write + read in ${seconds.toFixed(1)} s`,
    );
    expect(failures).toEqual([]);
    expect(notes).toBeGreaterThan(1_000_000);
  });

  it("gives pretty_midi's times bit for bit (values computed with numpy for liz_donjuan.mid)", () => {
    const path = join(dataDir, "piano-midi.de/liszt/liz_donjuan.mid");
    if (!existsSync(path)) return;
    const ns = readMidi(new Uint8Array(readFileSync(path)));
    // 6,096 tempo changes, so any difference in the float arithmetic would show by the end.
    expect(ns.tempos).toHaveLength(6096);
    expect(ns.tempos[1]).toEqual({ time: 1.0134102291666665, qpm: 50.200005187333865 });
    expect(ns.tempos[6095]).toEqual({ time: 1009.7057557562451, qpm: 102.98997049337345 });
    expect(ns.notes[1000].startTime).toBe(176.16561074791673);
    expect(ns.notes[1000].endTime).toBe(176.25281770625008);
    expect(ns.totalTime).toBe(1010.5796272562451);
    expect(ns.notes).toHaveLength(17225);
    expect(ns.instrumentInfos.map((i) => i.name)).toEqual([
      "Piano right",
      "Piano left",
      "Piano left2",
      "Pedal",
    ]);
  });
});
