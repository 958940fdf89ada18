/**
 * Thin openings, a polyrnn extension of the dataset (`polyrnn dataset --thin_openings=F`): in a share F of
 * the training tracks, the first 8 to 32 steps keep only the highest note struck at each onset (and, in
 * half of them, also the lowest), so a line of one or two voices; a kept note still sounding at the next
 * onset overlaps it, so a step may hold a pitch or two more. The other voices come in at their next onset
 * after that. A model trained only on full four-voice textures keeps a thin primer (a melody, one or two
 * voices) thin; with these openings it learns how voices enter.
 */
import {
  decodeIds,
  END_ID,
  type EventId,
  encodeIds,
  fromQuantizedSequence,
  numSteps,
  toNoteSequence,
} from "../events/codec.js";
import { hashUnit } from "../io/sha1.js";
import { createNote, createNoteSequence } from "../notesequence.js";

/** The fewest and most steps a thin opening lasts. */
export const THIN_OPENING_STEPS = Object.freeze({ min: 8, max: 32 });

/** A note of a track, in steps from the track's start. */
interface StepNote {
  pitch: number;
  start: number;
  end: number;
}

/**
 * A track's events (START … STEP_END END as extracted; a window cut before its piece's end has no END)
 * thinned in its first `steps` steps: of the notes that start there, only the highest at each onset (and,
 * with `voices` 2, the lowest) are kept; they sound their full length. The rest of the track is unchanged;
 * with `steps` 0 the events come back as they were.
 */
export function thinOpening(ids: readonly EventId[], steps: number, voices: 1 | 2): EventId[] {
  // A window cut before its piece's end has no END (extract.ts): decoded with one, returned without.
  const cut = ids.at(-1) !== END_ID;
  const seq = decodeIds(cut ? [...ids, END_ID] : ids, 1);
  // One step per second (1 step a quarter at 60 qpm): the note times are the step numbers, exactly.
  const ns = toNoteSequence(seq, { qpm: 60 });
  const total = numSteps(seq);
  const notes: StepNote[] = ns.notes.map((n) => ({ pitch: n.pitch, start: n.startTime, end: n.endTime }));
  const byOnset = new Map<number, StepNote[]>();
  for (const n of notes) {
    if (n.start >= steps) continue;
    const group = byOnset.get(n.start);
    if (group) group.push(n);
    else byOnset.set(n.start, [n]);
  }
  const kept = new Set<StepNote>();
  for (const group of byOnset.values()) {
    group.sort((a, b) => b.pitch - a.pitch);
    kept.add(group[0]);
    if (voices === 2) kept.add(group[group.length - 1]);
  }
  const qns = createNoteSequence({
    quantizationInfo: { stepsPerQuarter: 1, stepsPerSecond: 0 },
    totalQuantizedSteps: total,
    notes: notes
      .filter((n) => n.start >= steps || kept.has(n))
      .map((n) => createNote({ pitch: n.pitch, quantizedStartStep: n.start, quantizedEndStep: n.end })),
  });
  const thinned = encodeIds(fromQuantizedSequence(qns));
  return cut ? thinned.slice(0, -1) : thinned;
}

/**
 * Gives a share `fraction` of one training input's tracks a thin opening, in place (the caller leaves
 * eval tracks alone). Which tracks, how long (8–32 steps) and how many voices (one or two, even odds) come
 * from a hash of (seed, key, track index), so a dataset is the same however its inputs are spread over
 * workers. A track that cannot be thinned (events the decoder refuses; the extractor writes none) stays
 * as it was and counts as failed.
 */
export function thinOpenings(
  tracks: EventId[][],
  key: string,
  fraction: number,
  seed = 0,
): { thinned: number; failed: number } {
  const counts = { thinned: 0, failed: 0 };
  if (!(fraction > 0)) return counts;
  tracks.forEach((ids, j) => {
    const at = `${seed}:${key}:${j}`;
    if (hashUnit(`${at}:0`) >= fraction) return;
    const span = THIN_OPENING_STEPS.max - THIN_OPENING_STEPS.min + 1;
    const steps = THIN_OPENING_STEPS.min + Math.floor(hashUnit(`${at}:1`) * span);
    try {
      tracks[j] = thinOpening(ids, steps, hashUnit(`${at}:2`) < 0.5 ? 1 : 2);
      counts.thinned++;
    } catch {
      counts.failed++;
    }
  });
  return counts;
}
