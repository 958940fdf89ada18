/**
 * The 40 Bach chorales of ../shared/data/bach-chorales-musicxml against their MIDI counterparts in
 * ../shared/data/bach-chorales-midi (same file stem, case aside): every note has the same pitch, onset
 * and duration in quarter notes, except for the differences between the two encodings that this test
 * names and counts. Both files come from jsbchorales.net but were written separately (the MIDI files
 * double some voices, pad pickups to a full bar, shorten some final chords), so no converter could make
 * them agree everywhere.
 */
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { readMidi } from "../src/io/midi.js";
import { readMusicXml } from "../src/io/musicxml.js";
import type { NoteSequence } from "../src/notesequence.js";

const testDir = dirname(fileURLToPath(import.meta.url));
const dataDir = resolve(testDir, "../../shared/data");
const xmlDir = join(dataDir, "bach-chorales-musicxml");
const midiDir = join(dataDir, "bach-chorales-midi");
const haveData = existsSync(xmlDir) && existsSync(midiDir);

/** seconds → quarter notes through the sequence's tempo map (constant in all these files). */
function quarters(ns: NoteSequence): (seconds: number) => number {
  const tempos = ns.tempos.length > 0 ? ns.tempos : [{ time: 0, qpm: 120 }];
  return (t) => {
    let q = 0;
    for (let i = 0; i < tempos.length; i++) {
      const end = i + 1 < tempos.length ? tempos[i + 1].time : Number.POSITIVE_INFINITY;
      if (t <= end) return q + ((t - tempos[i].time) * tempos[i].qpm) / 60;
      q += ((end - tempos[i].time) * tempos[i].qpm) / 60;
    }
    return q;
  };
}

interface QNote {
  pitch: number;
  onset: number;
  duration: number;
  /** Part (MusicXML) or instrument (MIDI). */
  track: number;
}

/** Quarter-note values are compared after rounding to 1/960 of a quarter (far below any real value). */
const snap = (x: number) => Math.round(x * 960) / 960;

function qnotes(ns: NoteSequence, track: (n: NoteSequence["notes"][number]) => number): QNote[] {
  const q = quarters(ns);
  return ns.notes.map((n) => ({
    pitch: n.pitch,
    onset: snap(q(n.startTime)),
    duration: snap(q(n.endTime) - q(n.startTime)),
    track: track(n),
  }));
}

/** The differences this test allows, by name. Anything else is "unexplained" and must not happen. */
const PICKUP = "pickup padded to a full bar in the MIDI (files shifted as a whole)";
const X1 = "MusicXML notated in x/1 with note values 4x those of the MIDI's x/4 (notes rescaled)";
const DOUBLING = "note of a MIDI-only track (an instrument doubling a voice)";
const TIE_SPLIT = "held over a tie in the MusicXML, re-struck in the MIDI";
const XML_SPLIT = "re-struck in the MusicXML, held in the MIDI";
const XML_LONGER = "held longer in the MusicXML (the MIDI shortens it)";
const MIDI_LONGER = "held longer in the MIDI (the MusicXML shortens it)";
const XML_ONLY = "unexplained: MusicXML note not in the MIDI";
const MIDI_ONLY = "unexplained: MIDI note not in the MusicXML";

interface FileReport {
  stem: string;
  xmlNotes: number;
  midiNotes: number;
  exact: number;
  differences: Map<string, number>;
}

function compare(stem: string, xml: NoteSequence, midi: NoteSequence): FileReport {
  const xs = qnotes(xml, (n) => n.part);
  const ms = qnotes(midi, (n) => n.instrument);
  const report: FileReport = {
    stem,
    xmlNotes: xs.length,
    midiNotes: ms.length,
    exact: 0,
    differences: new Map(),
  };
  const count = (kind: string, n = 1) => {
    if (n > 0) report.differences.set(kind, (report.differences.get(kind) ?? 0) + n);
  };
  const debug = (what: string, n: QNote) => {
    if (process.env.DEBUG_CORPUS) console.log(stem, what, JSON.stringify(n));
  };

  // A pickup bar that the MIDI pads with rests: the MIDI is later by a constant.
  const shift = Math.min(...ms.map((n) => n.onset)) - Math.min(...xs.map((n) => n.onset));
  if (shift !== 0) count(PICKUP);
  const midiOnset = (m: QNote) => snap(m.onset - shift);

  // A section whose MusicXML time signature has denominator 1 where the MIDI's has 4 (BWV 27.6's
  // closing 3/1): the MusicXML note values are four times longer there.
  const toQ = quarters(xml);
  const xmlTs = xml.timeSignatures.map((t) => ({ at: toQ(t.time), den: t.denominator }));
  const midiDens = midi.timeSignatures.map((t) => t.denominator);
  const warp = (x: number): number => {
    let out = 0;
    let prev = 0;
    let factor = 1;
    for (let i = 0; i < xmlTs.length && xmlTs[i].at < x; i++) {
      out += (xmlTs[i].at - prev) * factor;
      prev = xmlTs[i].at;
      factor = xmlTs[i].den === 1 && midiDens[i] === 4 ? 1 / 4 : 1;
    }
    return out + (x - prev) * factor;
  };
  const warped = xs
    .map((n) => {
      const onset = snap(warp(n.onset));
      const duration = snap(warp(n.onset + n.duration) - warp(n.onset));
      if (duration !== n.duration) count(X1);
      return { ...n, onset, duration };
    })
    .sort((a, b) => a.onset - b.onset || a.track - b.track || a.pitch - b.pitch);

  // MIDI notes by (pitch, onset in MusicXML time).
  const pool = new Map<string, QNote[]>();
  const key = (pitch: number, onset: number) => `${pitch}@${snap(onset)}`;
  for (const m of ms) {
    const k = key(m.pitch, midiOnset(m));
    const list = pool.get(k);
    if (list) list.push(m);
    else pool.set(k, [m]);
  }
  // Which MIDI track plays each part: the one sharing most (pitch, onset) pairs with it.
  const pairs = new Map<string, number>();
  for (const x of warped)
    for (const m of pool.get(key(x.pitch, x.onset)) ?? []) {
      const k = `${x.track}/${m.track}`;
      pairs.set(k, (pairs.get(k) ?? 0) + 1);
    }
  const trackOf = new Map<number, number>();
  for (const part of new Set(warped.map((x) => x.track))) {
    let best = -1;
    let bestCount = 0;
    for (const m of new Set(ms.map((n) => n.track))) {
      const c = pairs.get(`${part}/${m}`) ?? 0;
      if (c > bestCount) [best, bestCount] = [m, c];
    }
    trackOf.set(part, best);
  }
  /** Takes a MIDI note at (pitch, onset) that satisfies `pred`, from the part's own track if it can. */
  const take = (x: { pitch: number; track: number }, onset: number, pred: (m: QNote) => boolean) => {
    const list = pool.get(key(x.pitch, onset));
    if (!list) return undefined;
    let i = list.findIndex((m) => m.track === trackOf.get(x.track) && pred(m));
    if (i < 0) i = list.findIndex(pred);
    return i >= 0 ? list.splice(i, 1)[0] : undefined;
  };

  const left: QNote[] = [];
  for (const x of warped) {
    if (take(x, x.onset, (m) => m.duration === x.duration)) report.exact++;
    else left.push(x);
  }
  // Longer in the MusicXML: the MIDI note is shorter, maybe followed by re-struck notes of the pitch.
  const left2: QNote[] = [];
  for (const x of left) {
    const m = take(x, x.onset, (c) => c.duration < x.duration);
    if (!m) {
      left2.push(x);
      continue;
    }
    const xEnd = snap(x.onset + x.duration);
    let end = snap(midiOnset(m) + m.duration);
    let split = false;
    for (let next = take(x, end, (c) => snap(midiOnset(c) + c.duration) <= xEnd); next; ) {
      end = snap(end + next.duration);
      split = true;
      next = take(x, end, (c) => snap(midiOnset(c) + c.duration) <= xEnd);
    }
    count(split && end === xEnd ? TIE_SPLIT : XML_LONGER);
  }
  // Longer in the MIDI: the MusicXML note is shorter, maybe followed by re-struck notes of the pitch.
  const used = new Set<QNote>();
  for (const x of left2) {
    if (used.has(x)) continue;
    const m = take(x, x.onset, (c) => c.duration > x.duration);
    if (!m) {
      count(XML_ONLY);
      debug("xml", x);
      continue;
    }
    const mEnd = snap(midiOnset(m) + m.duration);
    let end = snap(x.onset + x.duration);
    let split = false;
    for (;;) {
      const y = left2.find(
        (c) => !used.has(c) && c !== x && c.pitch === x.pitch && c.track === x.track && c.onset === end,
      );
      if (!y || snap(end + y.duration) > mEnd) break;
      used.add(y);
      end = snap(end + y.duration);
      split = true;
    }
    count(split && end === mEnd ? XML_SPLIT : MIDI_LONGER);
  }
  // Left-over MIDI notes: on a track that no part maps to, they belong to a doubling instrument.
  const mapped = new Set(trackOf.values());
  for (const list of pool.values()) {
    for (const m of list) {
      if (mapped.has(m.track)) {
        count(MIDI_ONLY);
        debug("midi", m);
      } else count(DOUBLING);
    }
  }
  return report;
}

const suite = haveData ? describe : describe.skip;

suite(
  haveData
    ? "MusicXML corpus: Bach chorales, MusicXML vs MIDI"
    : "../shared/data not found: corpus tests skipped",
  () => {
    const xmlFiles = haveData
      ? readdirSync(xmlDir)
          .filter((f) => f.endsWith(".xml"))
          .sort()
      : [];
    const midiByStem = new Map(
      (haveData ? readdirSync(midiDir) : [])
        .filter((f) => /\.mid$/i.test(f))
        .map((f) => [f.slice(0, -4).toLowerCase(), f] as const),
    );

    it("pairs the 40 MusicXML chorales with their MIDI files by stem", () => {
      expect(xmlFiles.length).toBe(40);
      for (const f of xmlFiles) expect(midiByStem.has(f.slice(0, -4).toLowerCase()), f).toBe(true);
    });

    it("gives the MIDI's notes (pitch, onset, duration in quarters) but for the named differences", () => {
      const reports = xmlFiles.map((f) => {
        const stem = f.slice(0, -4);
        const xml = readMusicXml(readFileSync(join(xmlDir, f)), f);
        const midi = readMidi(readFileSync(join(midiDir, midiByStem.get(stem.toLowerCase()) as string)));
        return compare(stem, xml, midi);
      });
      const totals = new Map<string, number>();
      const files = new Map<string, string[]>();
      for (const r of reports) {
        for (const [kind, n] of r.differences) {
          totals.set(kind, (totals.get(kind) ?? 0) + n);
          files.set(kind, [...(files.get(kind) ?? []), r.stem]);
        }
      }
      const xmlNotes = reports.reduce((s, r) => s + r.xmlNotes, 0);
      const midiNotes = reports.reduce((s, r) => s + r.midiNotes, 0);
      const exact = reports.reduce((s, r) => s + r.exact, 0);
      const table = [...totals].map(
        ([kind, n]) => `  ${String(n).padStart(4)}  ${kind}: ${files.get(kind)?.join(" ")}`,
      );
      console.log(
        `MusicXML vs MIDI: ${xmlNotes} MusicXML notes, ${midiNotes} MIDI notes, ${exact} identical ` +
          `(pitch, onset, duration) after the named shifts and rescaling; differences:\n${table.join("\n")}`,
      );

      expect(xmlNotes).toBe(13_003);
      expect(midiNotes).toBe(13_168);
      expect(exact).toBe(12_991);
      expect(totals.get(XML_ONLY) ?? 0).toBe(0);
      expect(totals.get(MIDI_ONLY) ?? 0).toBe(0);
      // Every named difference, how often it occurs, and where.
      expect(Object.fromEntries(totals)).toEqual({
        [PICKUP]: 26,
        [X1]: 70,
        [DOUBLING]: 165,
        [TIE_SPLIT]: 1,
        [XML_SPLIT]: 1,
        [XML_LONGER]: 4,
        [MIDI_LONGER]: 5,
      });
      expect(files.get(X1)).toEqual(["002706B_"]);
      expect(files.get(DOUBLING)).toEqual(["000106B_"]);
      expect(files.get(TIE_SPLIT)).toEqual(["000106B_"]);
      expect(files.get(XML_SPLIT)).toEqual(["002706B_"]);
      expect(files.get(XML_LONGER)).toEqual(["000606B_"]);
      expect(files.get(MIDI_LONGER)).toEqual(["002706B_"]);
      // 37 of the 40 files agree note for note once the pickup shift is taken out.
      expect(reports.filter((r) => r.differences.size === (r.differences.has(PICKUP) ? 1 : 0)).length).toBe(
        37,
      );
    });
  },
);
