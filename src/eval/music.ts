/**
 * Objective statistics of music, to set generated pieces beside the training data (`polyrnn eval --music`).
 *
 * Every piece is put on a 16th-note grid (4 steps per quarter, on its own beats, so that expressive
 * tempo maps and generated 120-qpm files compare alike); drums are left out. The statistics:
 * - pitch-class histogram: share of note onsets on each of the 12 pitch classes; two collections are
 *   compared by total-variation distance (half the L1 distance: 0 = same, 1 = disjoint);
 * - in-key share: each piece's key is estimated with the Krumhansl–Kessler profiles (24 keys,
 *   duration-weighted pitch classes); the share of its notes whose pitch class is in that key's scale
 *   (major: the diatonic scale; minor: natural minor plus the raised 6th and 7th);
 * - key-normalised histogram: the same shares by degree above each piece's tonic (estimated as below), so
 *   pieces in different keys compare; distance as above;
 * - polyphony: mean number of pitches sounding over the steps where at least one sounds (two voices in
 *   unison are one pitch), and the share of silent steps, both between the piece's first onset and its
 *   last release;
 * - note density: note onsets per quarter note (4 steps) over the same span;
 * - pitch: mean and standard deviation of the notes' pitches.
 * Collections are micro-averaged (every note, every step counts once), so long pieces weigh more.
 */
import { PolyrnnError } from "../errors.js";
import { STEPS_PER_QUARTER } from "../events/codec.js";
import type { NoteSequence } from "../notesequence.js";
import { quantizeNoteSequenceOnBeats } from "../pipeline/quantize.js";

/** Krumhansl–Kessler key profiles (tonic first). */
const MAJOR_PROFILE = [6.35, 2.23, 3.48, 2.33, 4.38, 4.09, 2.52, 5.19, 2.39, 3.66, 2.29, 2.88];
const MINOR_PROFILE = [6.33, 2.68, 3.52, 5.38, 2.6, 3.53, 2.54, 4.75, 3.98, 2.69, 3.34, 3.17];
const MAJOR_SCALE = [0, 2, 4, 5, 7, 9, 11];
const MINOR_SCALE = [0, 2, 3, 5, 7, 8, 9, 10, 11];
const PITCH_NAMES = ["C", "C#", "D", "Eb", "E", "F", "F#", "G", "Ab", "A", "Bb", "B"];

export interface StepNote {
  pitch: number;
  start: number;
  end: number;
}

export interface Key {
  tonic: number;
  mode: "major" | "minor";
}

export function keyName(key: Key): string {
  return `${PITCH_NAMES[key.tonic]} ${key.mode}`;
}

/** The non-drum notes of a piece on the 16th-note grid (every note at least one step long). */
export function stepNotes(ns: NoteSequence): StepNote[] {
  let q: NoteSequence;
  try {
    // Time signatures do not matter here; dropping them lets pieces with meter changes through.
    q = quantizeNoteSequenceOnBeats({ ...ns, timeSignatures: [] }, STEPS_PER_QUARTER);
  } catch (e) {
    throw new PolyrnnError(`cannot put the piece on a step grid: ${(e as Error).message}`);
  }
  return q.notes
    .filter((n) => !n.isDrum)
    .map((n) => ({
      pitch: n.pitch,
      start: n.quantizedStartStep,
      end: Math.max(n.quantizedEndStep, n.quantizedStartStep + 1),
    }));
}

function correlation(a: number[], b: number[]): number {
  const ma = a.reduce((s, x) => s + x, 0) / a.length;
  const mb = b.reduce((s, x) => s + x, 0) / b.length;
  let num = 0;
  let da = 0;
  let db = 0;
  for (let i = 0; i < a.length; i++) {
    num += (a[i] - ma) * (b[i] - mb);
    da += (a[i] - ma) ** 2;
    db += (b[i] - mb) ** 2;
  }
  return da === 0 || db === 0 ? 0 : num / Math.sqrt(da * db);
}

/** The best-correlating of the 24 Krumhansl–Kessler keys for duration-weighted pitch classes. */
export function estimateKey(notes: StepNote[]): Key {
  const weights = new Array<number>(12).fill(0);
  for (const n of notes) weights[n.pitch % 12] += n.end - n.start;
  let best: Key = { tonic: 0, mode: "major" };
  let bestR = -Infinity;
  for (const mode of ["major", "minor"] as const) {
    const profile = mode === "major" ? MAJOR_PROFILE : MINOR_PROFILE;
    for (let tonic = 0; tonic < 12; tonic++) {
      const rotated = weights.map((_, pc) => weights[(pc + tonic) % 12]);
      const r = correlation(rotated, profile);
      if (r > bestR) {
        bestR = r;
        best = { tonic, mode };
      }
    }
  }
  return best;
}

export function inKey(pitch: number, key: Key): boolean {
  const degree = (((pitch - key.tonic) % 12) + 12) % 12;
  return (key.mode === "major" ? MAJOR_SCALE : MINOR_SCALE).includes(degree);
}

/** Sums over one collection; {@link musicStats} turns them into the statistics. */
export interface MusicTally {
  pieces: number;
  notes: number;
  pitchClassCounts: number[];
  /** Onsets per degree above the piece's estimated tonic. */
  degreeCounts: number[];
  notesInKey: number;
  pitchSum: number;
  pitchSquareSum: number;
  /** Steps from each piece's first onset to its last release, summed. */
  steps: number;
  soundingSteps: number;
  /** Sum over steps of the distinct pitches sounding. */
  pitchSteps: number;
}

export function emptyTally(): MusicTally {
  return {
    pieces: 0,
    notes: 0,
    pitchClassCounts: new Array<number>(12).fill(0),
    degreeCounts: new Array<number>(12).fill(0),
    notesInKey: 0,
    pitchSum: 0,
    pitchSquareSum: 0,
    steps: 0,
    soundingSteps: 0,
    pitchSteps: 0,
  };
}

/** Adds one piece (its notes on the step grid) to a tally; a piece without notes counts as a piece only. */
export function addPiece(tally: MusicTally, notes: StepNote[]): void {
  tally.pieces++;
  if (notes.length === 0) return;
  const key = estimateKey(notes);
  const first = Math.min(...notes.map((n) => n.start));
  const length = Math.max(...notes.map((n) => n.end)) - first;
  // Per step, the pitches sounding (a bit per pitch: four 32-bit words).
  const sounding = new Uint32Array(length * 4);
  for (const n of notes) {
    tally.notes++;
    tally.pitchClassCounts[n.pitch % 12]++;
    tally.degreeCounts[(n.pitch - key.tonic + 12) % 12]++;
    if (inKey(n.pitch, key)) tally.notesInKey++;
    tally.pitchSum += n.pitch;
    tally.pitchSquareSum += n.pitch * n.pitch;
    for (let s = n.start; s < n.end; s++) sounding[(s - first) * 4 + (n.pitch >> 5)] |= 1 << (n.pitch & 31);
  }
  tally.steps += length;
  for (let s = 0; s < length; s++) {
    let pitches = 0;
    for (let w = 0; w < 4; w++) pitches += bitCount(sounding[s * 4 + w]);
    if (pitches > 0) tally.soundingSteps++;
    tally.pitchSteps += pitches;
  }
}

function bitCount(x: number): number {
  let v = x - ((x >>> 1) & 0x55555555);
  v = (v & 0x33333333) + ((v >>> 2) & 0x33333333);
  return (Math.imul((v + (v >>> 4)) & 0x0f0f0f0f, 0x01010101) >>> 24) & 0xff;
}

export interface MusicStats {
  pieces: number;
  notes: number;
  /** Shares of note onsets per pitch class, C first (sum 1; all 0 without notes). */
  pitchClassHistogram: number[];
  /** Shares of note onsets per degree above each piece's estimated tonic (0 = the tonic). */
  keyHistogram: number[];
  inKeyShare: number;
  /** Mean pitches sounding over the steps where any sounds. */
  polyphony: number;
  silentShare: number;
  /** Note onsets per quarter note. */
  notesPerQuarter: number;
  meanPitch: number;
  pitchStd: number;
}

export function musicStats(t: MusicTally): MusicStats {
  const n = t.notes;
  const meanPitch = n > 0 ? t.pitchSum / n : Number.NaN;
  return {
    pieces: t.pieces,
    notes: n,
    pitchClassHistogram: t.pitchClassCounts.map((c) => (n > 0 ? c / n : 0)),
    keyHistogram: t.degreeCounts.map((c) => (n > 0 ? c / n : 0)),
    inKeyShare: n > 0 ? t.notesInKey / n : Number.NaN,
    polyphony: t.soundingSteps > 0 ? t.pitchSteps / t.soundingSteps : Number.NaN,
    silentShare: t.steps > 0 ? 1 - t.soundingSteps / t.steps : Number.NaN,
    notesPerQuarter: t.steps > 0 ? (n / t.steps) * STEPS_PER_QUARTER : Number.NaN,
    meanPitch,
    pitchStd: n > 0 ? Math.sqrt(Math.max(0, t.pitchSquareSum / n - meanPitch * meanPitch)) : Number.NaN,
  };
}

/** Total-variation distance between two histograms (each summing to 1): 0 = identical, 1 = disjoint. */
export function histogramDistance(a: number[], b: number[]): number {
  if (a.length !== b.length) throw new PolyrnnError("histograms of different lengths");
  let d = 0;
  for (let i = 0; i < a.length; i++) d += Math.abs(a[i] - b[i]);
  return d / 2;
}
