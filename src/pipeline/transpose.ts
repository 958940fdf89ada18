/**
 * Transposition for data augmentation, as Magenta's `TranspositionPipeline`
 * (magenta/pipelines/note_sequence_pipelines.py), which the Polyphony RNN dataset DAG runs with
 * range(-4, 5). Pure functions; the input is never modified.
 *
 * Unlike note_seq's `transpose_note_sequence` (which deletes out-of-range notes and also transposes key
 * signatures and chord symbols), the pipeline drops the whole transposition when a note leaves the
 * range and transposes only note pitches: key signatures, pitch names and chord symbols are left as
 * they were (Magenta only logs a warning about them; `transpositions` returns those warnings).
 */
import { cloneNoteSequence, type NoteSequence, TextAnnotationType } from "../notesequence.js";

export const MIN_MIDI_PITCH = 0;
export const MAX_MIDI_PITCH = 127;

/**
 * The sequence with every non-drum note shifted by `amount` semitones (drums keep their pitch), or
 * undefined if a shifted non-drum note falls outside [minPitch, maxPitch]. Amount 0 still checks the
 * range, as Magenta does.
 */
export function transposeNoteSequence(
  ns: NoteSequence,
  amount: number,
  minPitch = MIN_MIDI_PITCH,
  maxPitch = MAX_MIDI_PITCH,
): NoteSequence | undefined {
  // Check the range first: most dropped transpositions then cost no copy at all.
  for (const note of ns.notes) {
    if (note.isDrum) continue;
    const pitch = note.pitch + amount;
    if (pitch < minPitch || pitch > maxPitch) return undefined;
  }
  const out = cloneNoteSequence(ns);
  for (const note of out.notes) if (!note.isDrum) note.pitch += amount;
  return out;
}

export interface TranspositionStats {
  /** Magenta's `transpositions_generated`. */
  transpositionsGenerated: number;
  /** Magenta's `skipped_due_to_range_exceeded`: one per dropped transposition (not per note). */
  skippedDueToRangeExceeded: number;
}

export interface TranspositionResult {
  /** One sequence per amount that stayed in range, in the order of `range`. */
  outputs: NoteSequence[];
  stats: TranspositionStats;
  /** Magenta's log warnings: what this transposition leaves untransposed. */
  warnings: string[];
}

/** Magenta's TranspositionPipeline.transform: transposeNoteSequence for each amount of `range`, in order. */
export function transpositions(
  ns: NoteSequence,
  range: readonly number[],
  minPitch = MIN_MIDI_PITCH,
  maxPitch = MAX_MIDI_PITCH,
): TranspositionResult {
  const warnings: string[] = [];
  if (ns.keySignatures.length > 0) warnings.push("Key signatures ignored by TranspositionPipeline.");
  if (ns.notes.some((n) => n.pitchName !== 0)) warnings.push("Pitch names ignored by TranspositionPipeline.");
  if (ns.textAnnotations.some((a) => a.annotationType === TextAnnotationType.CHORD_SYMBOL)) {
    warnings.push("Chord symbols ignored by TranspositionPipeline.");
  }

  const outputs: NoteSequence[] = [];
  let skipped = 0;
  for (const amount of range) {
    const transposed = transposeNoteSequence(ns, amount, minPitch, maxPitch);
    if (transposed === undefined) skipped += 1;
    else outputs.push(transposed);
  }
  return {
    outputs,
    stats: { transpositionsGenerated: outputs.length, skippedDueToRangeExceeded: skipped },
    warnings,
  };
}
