/**
 * NoteSequence → MusicXML (partwise, version 4.0): a piano score that notation programs (MuseScore,
 * OpenSheetMusicDisplay) open, and that our reader (musicxml.ts) reads back to the same notes on the grid.
 *
 *   const xml = noteSequenceToMusicXml(ns, { title: "take 3" });
 *
 * Layout:
 * - the sequence is put on its step grid (an unquantized one with `quantizeNoteSequenceOnBeats` at
 *   4 steps per quarter: the 16th grid, tempo maps allowed); <divisions> is the steps per quarter;
 * - one part, "Piano", on two staves: treble and bass. A note from F4 up goes to the treble staff, from
 *   G3 down to the bass staff; a note in between goes by its place among three or more notes sounding at
 *   its onset (the lower half to the bass), so that a chorale's soprano and alto sit on the treble staff
 *   and its tenor and bass on the bass staff; otherwise it goes by middle C;
 * - on each staff, notes that start and end together are a chord, and chords go into two voices: a
 *   chord takes the first voice that is free at its onset (voice 1 for the upper staff, 5 for the lower;
 *   2 and 6 for a second line). Where both are busy it joins the one that frees first, and the overlap
 *   is written with ties, as is every note that crosses a bar line or a written-value boundary; a unison
 *   is two voices (a third copy of the same note is left out), and only a pitch already sounding in both
 *   voices opens a third voice (up to four a staff: 1-4 and 5-8; past that it merges with the held note);
 * - gaps are rests; an empty bar is a whole-bar rest; lengths are split into plain and dotted values
 *   aligned to the beat;
 * - the first time signature, key signature and tempo (as a metronome mark); velocities as each note's
 *   dynamics attribute (a percentage of forte, 90), so that they read back as they were.
 * Drum notes are left out (there is no percussion staff). Pure: no Node APIs, so it runs in a browser.
 */
import { MusicXmlError } from "../errors.js";
import { KeyMode, type Note, type NoteSequence } from "../notesequence.js";
import { isQuantizedSequence, quantizeNoteSequenceOnBeats } from "../pipeline/quantize.js";
import { MODES, STEP_PITCH_CLASS, TYPE_WHOLE_NOTES } from "./musicxml_names.js";
import { escapeXml } from "./xml_escape.js";

export interface MusicXmlWriteOptions {
  /** The work title (default: the sequence's filename or id, else "Untitled"). */
  title?: string;
  /** Grid for an unquantized sequence (default 4: 16th notes). Must be 1, 2, 4, 8, 16 or 32. */
  stepsPerQuarter?: number;
}

/** A written note value: its length in steps, MusicXML type and number of dots. */
interface NoteValue {
  steps: number;
  /** The undotted value's length in steps: where it may start in the bar. */
  align: number;
  type: string;
  dots: number;
}

/** One note on the grid. */
interface GridNote {
  pitch: number;
  start: number;
  end: number;
  velocity: number;
}

/** A run of notes in one voice: notes that may overlap (written with ties where they do). */
interface Voice {
  number: number;
  staff: number;
  notes: GridNote[];
  /** Step at which the voice's last chord ends. */
  free: number;
}

const GRID_SPQ = new Set([1, 2, 4, 8, 16, 32]);
/** Voices a staff at most: 1-4 on the treble staff, 5-8 on the bass staff. */
const MAX_VOICES = 4;

/** The sequence on its step grid, and the steps per quarter of that grid. */
function onGrid(ns: NoteSequence, stepsPerQuarter: number): { qns: NoteSequence; spq: number } {
  if (isQuantizedSequence(ns)) {
    const spq = ns.quantizationInfo?.stepsPerQuarter ?? 0;
    if (!GRID_SPQ.has(spq)) {
      throw new MusicXmlError(
        spq > 0
          ? `a sequence quantized at ${spq} steps per quarter cannot be written without tuplets (1, 2, 4, 8, 16 or 32 can)`
          : "a sequence quantized in steps per second has no beat grid to write as a score",
      );
    }
    return { qns: ns, spq };
  }
  if (!GRID_SPQ.has(stepsPerQuarter)) {
    throw new MusicXmlError(`stepsPerQuarter must be 1, 2, 4, 8, 16 or 32, got ${stepsPerQuarter}`);
  }
  return { qns: quantizeNoteSequenceOnBeats(ns, stepsPerQuarter), spq: stepsPerQuarter };
}

/** The note values that fit the grid, longest first (a breve down to one step; dotted where whole). */
function noteValues(spq: number): NoteValue[] {
  const values: NoteValue[] = [];
  for (const [type, whole] of Object.entries(TYPE_WHOLE_NOTES)) {
    const steps = whole * 4 * spq;
    if (whole > 2 || !Number.isInteger(steps) || steps < 1) continue;
    if (Number.isInteger(steps * 1.5)) values.push({ steps: steps * 1.5, align: steps, type, dots: 1 });
    values.push({ steps, align: steps, type, dots: 0 });
  }
  return values.sort((a, b) => b.steps - a.steps || a.dots - b.dots);
}

/**
 * Splits `length` steps starting `offset` steps into a bar into written values: each the longest that
 * fits and starts on a multiple of its undotted value (at most a beat).
 */
function splitLength(offset: number, length: number, values: NoteValue[], beat: number): NoteValue[] {
  const out: NoteValue[] = [];
  let pos = offset;
  let left = length;
  while (left > 0) {
    const v = values.find((c) => c.steps <= left && pos % Math.min(c.align, beat) === 0);
    if (!v) throw new MusicXmlError(`cannot write ${left} steps at step ${pos} of a bar`); // one step always fits
    out.push(v);
    pos += v.steps;
    left -= v.steps;
  }
  return out;
}

/** Pitch-class spellings (step, alter) for a key signature's number of fifths. */
function spellings(fifths: number): [string, number][] {
  const sharp = new Set(fifths > 0 ? [1, 3, 6, 8, 10] : fifths < 0 ? [] : [1, 6, 8]);
  const steps = Object.entries(STEP_PITCH_CLASS);
  return Array.from({ length: 12 }, (_, pc): [string, number] => {
    const natural = steps.find(([, p]) => p === pc);
    if (natural) return [natural[0], 0];
    if (sharp.has(pc)) return [(steps.find(([, p]) => p === pc - 1) as [string, number])[0], 1];
    return [(steps.find(([, p]) => p === pc + 1) as [string, number])[0], -1];
  });
}

/** The key signature (fifths, mode name) of a NoteSequence key (the tonic's pitch class) and mode. */
function keyOf(key: number, mode: number): { fifths: number; mode: string } {
  const entry = Object.entries(MODES).find(([, [m]]) => m === mode) ?? ["major", MODES.major];
  const [name, [, shift]] = entry;
  // The reader's key is (fifths * 7 + shift) mod 12, and 7 * 7 = 49 ≡ 1 (mod 12).
  let fifths = ((((key - shift) * 7) % 12) + 12) % 12;
  if (fifths > 6) fifths -= 12;
  return { fifths, mode: mode === KeyMode.NOT_SPECIFIED ? "major" : name };
}

/**
 * The staff of each note: 1 (treble) or 2 (bass). From F4 (65) up treble, from G3 (55) down bass; in
 * between, the lower half of the notes sounding at the note's onset go to the bass.
 */
function staffOf(notes: GridNote[]): number[] {
  return notes.map((n) => {
    if (n.pitch >= 65) return 1;
    if (n.pitch <= 55) return 2;
    const sounding = notes.filter((o) => o.start <= n.start && o.end > n.start).map((o) => o.pitch);
    if (sounding.length < 3) return n.pitch >= 60 ? 1 : 2;
    const below = sounding.filter((p) => p < n.pitch).length;
    return below < Math.floor(sounding.length / 2) ? 2 : 1;
  });
}

/** Chords (same start and end) of one staff, shared out over its two voices. */
function voicesOf(notes: GridNote[], staff: number): Voice[] {
  const first = staff === 1 ? 1 : 5;
  const voices: Voice[] = [
    { number: first, staff, notes: [], free: 0 },
    { number: first + 1, staff, notes: [], free: 0 },
  ];
  const chords = new Map<string, GridNote[]>();
  for (const n of notes) {
    // A unison (the same pitch twice, as when two chorale voices meet) is a second chord: a second voice.
    // More copies of one note than two are one note too many to write: they are left out.
    let copy = 0;
    while (chords.get(`${n.start}:${n.end}:${copy}`)?.some((c) => c.pitch === n.pitch)) copy++;
    if (copy > 1) continue;
    const key = `${n.start}:${n.end}:${copy}`;
    const chord = chords.get(key);
    if (chord) chord.push(n);
    else chords.set(key, [n]);
  }
  const ordered = [...chords.values()].sort(
    (a, b) =>
      a[0].start - b[0].start || Math.max(...b.map((n) => n.pitch)) - Math.max(...a.map((n) => n.pitch)),
  );
  for (const chord of ordered) {
    const { start, end } = chord[0];
    // A voice may hold overlapping chords (written with ties), but never the same pitch twice at once.
    const clashes = (v: Voice) =>
      v.notes.some((n) => n.start < end && n.end > start && chord.some((c) => c.pitch === n.pitch));
    let voice: Voice | undefined =
      voices.find((v) => v.free <= start) ??
      voices
        .filter((v) => !clashes(v))
        .reduce<Voice | undefined>((a, b) => (a && a.free <= b.free ? a : b), undefined);
    if (!voice && voices.length < MAX_VOICES) {
      voice = { number: first + voices.length, staff, notes: [], free: 0 };
      voices.push(voice);
    }
    if (!voice) {
      // Past four voices a staff (MusicXML's voices 1-4 and 5-8), a restruck pitch merges with the held one.
      voice = voices.reduce((a, b) => (b.free < a.free ? b : a), voices[0]);
      for (const c of chord) {
        const held = voice.notes.find((n) => n.pitch === c.pitch && n.start < c.end && n.end > c.start);
        if (held) {
          held.start = Math.min(held.start, c.start);
          held.end = Math.max(held.end, c.end);
        } else voice.notes.push(c);
      }
      voice.free = Math.max(voice.free, end);
      continue;
    }
    voice.notes.push(...chord);
    voice.free = Math.max(voice.free, chord[0].end);
  }
  return voices;
}

function pitchXml(pitch: number, spelled: [string, number][]): string {
  const [step, alter] = spelled[pitch % 12];
  // Octave of the written step: B#/Cb never occur (no spelling crosses C), so it is the sounding octave.
  const octave = Math.floor(pitch / 12) - 1;
  return `<pitch><step>${step}</step>${alter ? `<alter>${alter}</alter>` : ""}<octave>${octave}</octave></pitch>`;
}

function dynamicsOf(velocity: number): string {
  return String(Math.round(((velocity * 100) / 90) * 100) / 100);
}

/**
 * The MusicXML score of a NoteSequence (see the module comment for the layout). Throws MusicXmlError
 * for a grid that needs tuplets, and quantization's errors for a sequence that changes time signature.
 */
export function noteSequenceToMusicXml(ns: NoteSequence, opts: MusicXmlWriteOptions = {}): string {
  const { qns, spq } = onGrid(ns, opts.stepsPerQuarter ?? 4);
  const ts = qns.timeSignatures[0] ?? { numerator: 4, denominator: 4 };
  const barSteps = (ts.numerator * 4 * spq) / ts.denominator;
  if (!Number.isInteger(barSteps) || barSteps < 1) {
    throw new MusicXmlError(
      `a ${ts.numerator}/${ts.denominator} bar is not a whole number of steps at ${spq} steps per quarter`,
    );
  }
  // A beat for beaming and rests: a dotted quarter in compound meters (6/8, 9/8, 12/8), else the denominator.
  const compound = ts.denominator === 8 && ts.numerator % 3 === 0 && ts.numerator > 3;
  const beat = Math.max(1, compound ? (3 * spq) / 2 : (4 * spq) / ts.denominator);
  const values = noteValues(spq);
  const ks = qns.keySignatures[0];
  const key = ks ? keyOf(ks.key, ks.mode) : { fifths: 0, mode: "major" };
  const spelled = spellings(key.fifths);
  const qpm = qns.tempos[0]?.qpm ?? 120;

  const notes: GridNote[] = qns.notes
    .filter((n: Note) => !n.isDrum && n.pitch >= 0 && n.pitch <= 127)
    .map((n) => ({
      pitch: n.pitch,
      start: n.quantizedStartStep,
      end: Math.max(n.quantizedEndStep, n.quantizedStartStep + 1),
      velocity: n.velocity,
    }))
    .sort((a, b) => a.start - b.start || b.pitch - a.pitch);
  const staves = staffOf(notes);
  const voices = [1, 2].flatMap((staff) =>
    voicesOf(
      notes.filter((_, i) => staves[i] === staff),
      staff,
    ),
  );
  const lastStep = Math.max(qns.totalQuantizedSteps, ...notes.map((n) => n.end), 1);
  const bars = Math.ceil(lastStep / barSteps);

  const title =
    opts.title ?? (qns.filename || qns.id ? (qns.filename || qns.id).replace(/^.*[\\/]/, "") : "Untitled");
  const out: string[] = [
    '<?xml version="1.0" encoding="UTF-8" standalone="no"?>',
    '<!DOCTYPE score-partwise PUBLIC "-//Recordare//DTD MusicXML 4.0 Partwise//EN" "http://www.musicxml.org/dtds/partwise.dtd">',
    '<score-partwise version="4.0">',
    `  <work><work-title>${escapeXml(title)}</work-title></work>`,
    "  <identification><encoding><software>polyrnn</software></encoding></identification>",
    "  <part-list>",
    '    <score-part id="P1"><part-name>Piano</part-name>',
    '      <score-instrument id="P1-I1"><instrument-name>Piano</instrument-name></score-instrument>',
    '      <midi-instrument id="P1-I1"><midi-channel>1</midi-channel><midi-program>1</midi-program></midi-instrument>',
    "    </score-part>",
    "  </part-list>",
    '  <part id="P1">',
  ];

  for (let bar = 0; bar < bars; bar++) {
    const barStart = bar * barSteps;
    const barEnd = barStart + barSteps;
    out.push(`    <measure number="${bar + 1}">`);
    if (bar === 0) {
      out.push(
        `      <attributes><divisions>${spq}</divisions>` +
          `<key><fifths>${key.fifths}</fifths><mode>${key.mode}</mode></key>` +
          `<time><beats>${ts.numerator}</beats><beat-type>${ts.denominator}</beat-type></time>` +
          "<staves>2</staves>" +
          '<clef number="1"><sign>G</sign><line>2</line></clef>' +
          '<clef number="2"><sign>F</sign><line>4</line></clef></attributes>',
        '      <direction placement="above"><direction-type><metronome><beat-unit>quarter</beat-unit>' +
          `<per-minute>${Math.round(qpm * 100) / 100}</per-minute></metronome></direction-type>` +
          `<staff>1</staff><sound tempo="${Math.round(qpm * 1000) / 1000}"/></direction>`,
      );
    }
    const written = voices.filter(
      (v) => v.number % 4 === 1 || v.notes.some((n) => n.start < barEnd && n.end > barStart),
    );
    written.forEach((voice, i) => {
      if (i > 0) out.push(`      <backup><duration>${barSteps}</duration></backup>`);
      out.push(...barOfVoice(voice, barStart, barEnd, values, beat, spq, spelled));
    });
    out.push("    </measure>");
  }
  out.push("  </part>", "</score-partwise>", "");
  return out.join("\n");
}

/** One voice's notes and rests in one bar: chords between every onset and end, tied where they go on. */
function barOfVoice(
  voice: Voice,
  barStart: number,
  barEnd: number,
  values: NoteValue[],
  beat: number,
  quarter: number,
  spelled: [string, number][],
): string[] {
  const inBar = voice.notes.filter((n) => n.start < barEnd && n.end > barStart);
  const tail = `<voice>${voice.number}</voice>`;
  const staff = `<staff>${voice.staff}</staff>`;
  if (inBar.length === 0) {
    return [
      `      <note><rest measure="yes"/><duration>${barEnd - barStart}</duration>${tail}${staff}</note>`,
    ];
  }
  const cuts = new Set([barStart, barEnd]);
  for (const n of inBar) {
    if (n.start > barStart) cuts.add(n.start);
    if (n.end < barEnd) cuts.add(n.end);
  }
  const points = [...cuts].sort((a, b) => a - b);
  /** The written notes and rests, in order: where each starts, its value, the pitches sounding. */
  const events: { pos: number; value: NoteValue; sounding: GridNote[] }[] = [];
  for (let i = 0; i + 1 < points.length; i++) {
    const sounding = inBar
      .filter((n) => n.start <= points[i] && n.end >= points[i + 1])
      .filter((n, j, all) => all.findIndex((m) => m.pitch === n.pitch) === j)
      .sort((a, b) => a.pitch - b.pitch);
    let pos = points[i];
    for (const value of splitLength(points[i] - barStart, points[i + 1] - points[i], values, beat)) {
      events.push({ pos, value, sounding });
      pos += value.steps;
    }
  }
  // Beams: runs of two or more notes shorter than a quarter inside one beat.
  const beamable = (i: number) =>
    i >= 0 && i < events.length && events[i].sounding.length > 0 && events[i].value.steps < quarter;
  const beatOf = (i: number) => Math.floor((events[i].pos - barStart) / beat);
  const joins = (i: number, j: number) => beamable(i) && beamable(j) && beatOf(i) === beatOf(j);
  const out: string[] = [];
  events.forEach(({ pos, value: v, sounding }, e) => {
    const type = `<type>${v.type}</type>${"<dot/>".repeat(v.dots)}`;
    if (sounding.length === 0) {
      out.push(`      <note><rest/><duration>${v.steps}</duration>${tail}${type}${staff}</note>`);
      return;
    }
    const before = joins(e - 1, e);
    const after = joins(e, e + 1);
    const beam =
      before || after
        ? `<beam number="1">${before && after ? "continue" : before ? "end" : "begin"}</beam>`
        : "";
    sounding.forEach((n, k) => {
      const stop = n.start < pos;
      const start = n.end > pos + v.steps;
      const ties = `${stop ? '<tie type="stop"/>' : ""}${start ? '<tie type="start"/>' : ""}`;
      const tied = `${stop ? '<tied type="stop"/>' : ""}${start ? '<tied type="start"/>' : ""}`;
      out.push(
        `      <note dynamics="${dynamicsOf(n.velocity)}">${k > 0 ? "<chord/>" : ""}` +
          `${pitchXml(n.pitch, spelled)}<duration>${v.steps}</duration>${ties}${tail}${type}${staff}${beam}` +
          `${tied ? `<notations>${tied}</notations>` : ""}</note>`,
      );
    });
  });
  return out;
}
