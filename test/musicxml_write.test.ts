/**
 * MusicXML writer: generated pieces written as scores and read back with our reader give the same notes
 * on the 16th grid; the score's layout (bars, ties, chords, rests, staves, voices, key, tempo) checked on
 * small hand-made sequences; and Debian's MuseScore 3 renders the scores to PNG (`musescore3`,
 * headless with QT_QPA_PLATFORM=offscreen). Without MuseScore that test is skipped with a message,
 * except under CI=true, where it fails (.ci/run installs musescore3).
 */
import { spawnSync } from "node:child_process";
import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { MusicXmlError } from "../src/errors.js";
import { readMidi } from "../src/io/midi.js";
import { readMusicXml } from "../src/io/musicxml.js";
import { noteSequenceToMusicXml } from "../src/io/musicxml_write.js";
import { createNote, createNoteSequence, KeyMode, type NoteSequence } from "../src/notesequence.js";
import { quantizeNoteSequence } from "../src/pipeline/quantize.js";
import { ROOT, runCli, tempDir } from "./helpers/cli.js";

const MUSESCORE = ["musescore3", "mscore3"].find(
  (bin) => spawnSync("sh", ["-c", `command -v ${bin}`]).status === 0,
);
const IN_CI = /^(1|true)$/i.test(process.env.CI ?? "");
if (!MUSESCORE && !IN_CI) {
  console.warn("MuseScore render test skipped: no musescore3 (apt-get install musescore3)");
}

const enc = (s: string) => new TextEncoder().encode(s);

/** Notes as "pitch@start-end" on the 16th grid (4 steps per quarter), sorted. */
function gridNotes(ns: NoteSequence): string[] {
  return quantizeNoteSequence(ns, 4)
    .notes.map((n) => `${n.pitch}@${n.quantizedStartStep}-${n.quantizedEndStep}`)
    .sort();
}

/** A sequence at 120 qpm (a 16th lasts 0.125 s) from [pitch, start step, end step] triples. */
function steps(notes: [number, number, number][], extra: Partial<NoteSequence> = {}): NoteSequence {
  return createNoteSequence({
    tempos: [{ time: 0, qpm: 120 }],
    notes: notes.map(([pitch, s, e]) =>
      createNote({ pitch, velocity: 80, startTime: s * 0.125, endTime: e * 0.125 }),
    ),
    totalTime: Math.max(0, ...notes.map((n) => n[2])) * 0.125,
    ...extra,
  });
}

/** The <note> elements of the score's measure `n` (1-based), as text. */
function measureNotes(xml: string, n: number): string[] {
  const m = new RegExp(`<measure number="${n}">([\\s\\S]*?)</measure>`).exec(xml);
  if (!m) throw new Error(`no measure ${n}`);
  return m[1].match(/<note[ >][\s\S]*?<\/note>/g) ?? [];
}

const EXAMPLES = readdirSync(join(ROOT, "examples/midi")).filter((f) => f.endsWith(".mid"));

describe("noteSequenceToMusicXml", () => {
  it("a generated piece read back from its score has the same notes on the 16th grid (every shipped example too)", () => {
    const dir = tempDir();
    const g = runCli("polyrnn", [
      "generate",
      "--num_steps=256",
      "--seed=3",
      "--num_outputs=1",
      `--output_dir=${dir}`,
    ]);
    expect(g.status).toBe(0);
    const mid = readdirSync(dir).find((f) => f.endsWith(".mid")) as string;
    const r = runCli("polyrnn", ["render", join(dir, mid), "--musicxml"]);
    expect(r.status, r.stderr).toBe(0);
    const xmlPath = join(dir, mid.replace(/\.mid$/, ".musicxml"));
    expect(r.stderr).toContain(`Wrote ${xmlPath}`);
    const original = readMidi(readFileSync(join(dir, mid)));
    expect(original.notes.length).toBeGreaterThan(20);
    const back = readMusicXml(readFileSync(xmlPath));
    expect(gridNotes(back)).toEqual(gridNotes(original));
    expect(back.tempos[0].qpm).toBe(original.tempos[0]?.qpm ?? 120);
    // Velocities survive as the notes' dynamics.
    const vel = (ns: NoteSequence) =>
      quantizeNoteSequence(ns, 4)
        .notes.map((n) => n.velocity)
        .sort();
    expect(vel(back)).toEqual(vel(original));

    for (const f of EXAMPLES) {
      const ns = readMidi(readFileSync(join(ROOT, "examples/midi", f)));
      const again = readMusicXml(enc(noteSequenceToMusicXml(ns)));
      expect(gridNotes(again), f).toEqual(gridNotes(ns));
    }
  });

  it("ties a note across the bar line, keeps chords together and fills gaps with rests", () => {
    // 4/4: bar = 16 steps. C5 from step 12 to 20 crosses the bar line; E4+G4 chord at 0-4; silence 4-12.
    const ns = steps([
      [72, 12, 20],
      [64, 0, 4],
      [67, 0, 4],
    ]);
    const xml = noteSequenceToMusicXml(ns);
    const bar1 = measureNotes(xml, 1);
    const bar2 = measureNotes(xml, 2);
    // Bar 1, voice 1: the chord (a quarter: E4, then G4 as <chord/>), a half rest, the tied C5 quarter.
    expect(bar1[0]).toMatch(
      /<step>E<\/step><octave>4<\/octave>.*<duration>4<\/duration>.*<type>quarter<\/type>/,
    );
    expect(bar1[1]).toMatch(/<chord\/><pitch><step>G<\/step><octave>4/);
    expect(bar1[2]).toMatch(/<rest\/><duration>8<\/duration>.*<type>half<\/type>/);
    expect(bar1[3]).toMatch(/<step>C<\/step><octave>5<\/octave>.*<tie type="start"\/>/);
    expect(bar2[0]).toMatch(/<step>C<\/step><octave>5<\/octave>.*<tie type="stop"\/>.*<tied type="stop"\/>/);
    // The bass staff is empty: a whole-bar rest on staff 2 in both bars.
    for (const bar of [bar1, bar2]) {
      expect(
        bar.filter((n) => n.includes('<rest measure="yes"/>') && n.includes("<staff>2</staff>")),
      ).toHaveLength(1);
    }
    // Read back: one C5 of two quarters (the tie merged), the chord, nothing else.
    expect(gridNotes(readMusicXml(enc(xml)))).toEqual(["64@0-4", "67@0-4", "72@12-20"]);
  });

  it("splits a chorale into treble and bass staves by voice, not only by middle C", () => {
    // SATB chords; the tenor (E4 = 64, above middle C) belongs on the bass staff, the alto (C4 = 60) on
    // the treble staff where it is the second-highest of four.
    const ns = steps([
      [76, 0, 4],
      [60, 0, 4],
      [64, 0, 4],
      [48, 0, 4],
      [77, 4, 8],
      [62, 4, 8],
      [57, 4, 8],
      [50, 4, 8],
    ]);
    const xml = noteSequenceToMusicXml(ns);
    const staffOf = (step: string, octave: number) =>
      measureNotes(xml, 1)
        .filter((n) => n.includes(`<step>${step}</step><octave>${octave}</octave>`))
        .map((n) => /<staff>(\d)<\/staff>/.exec(n)?.[1]);
    expect(staffOf("E", 5)).toEqual(["1"]); // soprano
    expect(staffOf("E", 4)).toEqual(["1"]); // alto, second from the top
    expect(staffOf("C", 4)).toEqual(["2"]); // tenor, below the alto
    expect(staffOf("C", 3)).toEqual(["2"]); // bass
    expect(staffOf("A", 3)).toEqual(["2"]);
    expect(staffOf("D", 4)).toEqual(["1"]);
    expect(gridNotes(readMusicXml(enc(xml)))).toEqual(gridNotes(ns));
  });

  it("writes a held note against moving notes as a second voice, a unison as two, and a third only when needed", () => {
    // G5 held for a half note while E5, F5 move on the same staff (voices 1 and 2); G5 doubled in unison
    // for a quarter (it cannot share a voice with the held G5); G5 struck again while both sound: voice 3.
    const ns = steps([
      [79, 0, 8],
      [76, 0, 4],
      [77, 4, 8],
      [79, 0, 4],
      [79, 2, 3],
    ]);
    const xml = noteSequenceToMusicXml(ns);
    const voices = new Set(measureNotes(xml, 1).map((n) => /<voice>(\d)<\/voice>/.exec(n)?.[1]));
    expect(voices).toEqual(new Set(["1", "2", "3", "5"]));
    expect(xml).toContain("<backup><duration>16</duration></backup>");
    expect(gridNotes(readMusicXml(enc(xml)))).toEqual(gridNotes(ns));
  });

  it("writes the time signature, key (with its spelling) and tempo, and reads them back", () => {
    const ns = steps(
      [
        [70, 0, 6], // B♭4, a dotted quarter in 6/8
        [63, 6, 12], // E♭4
      ],
      {
        timeSignatures: [{ time: 0, numerator: 6, denominator: 8 }],
        keySignatures: [{ time: 0, key: 7, mode: KeyMode.MINOR }], // G minor: two flats
        tempos: [{ time: 0, qpm: 90 }],
      },
    );
    // At 90 qpm a 16th lasts 1/6 s.
    ns.notes.forEach((n, i) => {
      n.startTime = [0, 6][i] / 6;
      n.endTime = [6, 12][i] / 6;
    });
    ns.totalTime = 2;
    const xml = noteSequenceToMusicXml(ns, { title: "Tom & Jerry" });
    expect(xml).toContain("<work-title>Tom &#38; Jerry</work-title>");
    expect(xml).toContain("<key><fifths>-2</fifths><mode>minor</mode></key>");
    expect(xml).toContain("<time><beats>6</beats><beat-type>8</beat-type></time>");
    expect(xml).toContain("<step>B</step><alter>-1</alter><octave>4</octave>");
    expect(xml).toContain("<step>E</step><alter>-1</alter><octave>4</octave>");
    expect(measureNotes(xml, 1)[0]).toContain("<type>quarter</type><dot/>");
    const back = readMusicXml(enc(xml));
    expect(back.keySignatures).toEqual([{ time: 0, key: 7, mode: KeyMode.MINOR }]);
    expect(back.timeSignatures).toEqual([{ time: 0, numerator: 6, denominator: 8 }]);
    expect(back.tempos[0].qpm).toBe(90);
    expect(gridNotes(back)).toEqual(gridNotes(ns));
  });

  it("writes a note struck three times at once as a unison of two voices, and keeps to four voices a staff", () => {
    // C5 three times over [0, 4); G5 held over [0, 16) five times over, restruck at 4, 8 and 12.
    const ns = steps([
      [72, 0, 4],
      [72, 0, 4],
      [72, 0, 4],
      [79, 0, 16],
      [79, 1, 16],
      [79, 2, 16],
      [79, 3, 16],
      [79, 4, 16],
    ]);
    const xml = noteSequenceToMusicXml(ns);
    const voices = new Set(measureNotes(xml, 1).map((n) => /<voice>(\d)<\/voice>/.exec(n)?.[1]));
    expect(voices).toEqual(new Set(["1", "2", "3", "4", "5"]));
    const back = gridNotes(readMusicXml(enc(xml)));
    expect(back.filter((n) => n === "72@0-4")).toHaveLength(2);
    expect(back.filter((n) => n.startsWith("79@")).length).toBeLessThan(5);
    expect(new Set(back)).toContain("79@0-16");
  });

  it("refuses a grid that would need tuplets, naming it", () => {
    const q = quantizeNoteSequence(steps([[60, 0, 4]]), 3);
    expect(() => noteSequenceToMusicXml(q)).toThrow(MusicXmlError);
    expect(() => noteSequenceToMusicXml(q)).toThrow(/3 steps per quarter cannot be written without tuplets/);
  });
});

describe.skipIf(!MUSESCORE && !IN_CI)("MusicXML in MuseScore 3", () => {
  it("MuseScore renders the scores of a generated piece and every shipped example to PNG without errors", () => {
    if (!MUSESCORE)
      throw new Error("CI=true but there is no musescore3: .ci/run installs Debian's musescore3");
    const dir = tempDir();
    const g = runCli("polyrnn", [
      "generate",
      "--num_steps=512",
      "--seed=5",
      "--num_outputs=1",
      `--output_dir=${dir}`,
    ]);
    expect(g.status).toBe(0);
    const inputs = [
      join(dir, readdirSync(dir).find((f) => f.endsWith(".mid")) as string),
      ...EXAMPLES.map((f) => join(ROOT, "examples/midi", f)),
    ];
    const out = dir;
    for (const [i, input] of inputs.entries()) {
      const xmlPath = join(dir, `score${i}.musicxml`);
      expect(runCli("polyrnn", ["render", input, "--musicxml", `--output=${xmlPath}`]).status).toBe(0);
      const png = join(out, `score${i}.png`);
      const r = spawnSync(MUSESCORE, ["-o", png, xmlPath], {
        env: { ...process.env, QT_QPA_PLATFORM: "offscreen", XDG_RUNTIME_DIR: dir },
        encoding: "utf8",
        timeout: 120_000,
      });
      const log = `${r.stdout}\n${r.stderr}`;
      expect(r.status, log).toBe(0);
      expect(log).toContain("success");
      expect(log).not.toMatch(/error|warning/i);
      // MuseScore writes one PNG per page: score<i>-1.png, ...
      const pages = readdirSync(out).filter((f) => f.startsWith(`score${i}-`) && f.endsWith(".png"));
      expect(pages.length, input).toBeGreaterThan(0);
      expect(statSync(join(out, pages[0])).size).toBeGreaterThan(10_000);
      expect(existsSync(join(out, `score${i}-1.png`))).toBe(true);
    }
  }, 300_000);
});
