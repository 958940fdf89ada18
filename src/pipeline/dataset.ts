/**
 * Magenta's polyphony_rnn_create_dataset DAG (spec §3.2) as plain functions, one input NoteSequence at a
 * time: partition → split on time changes → quantize → transpose → extract → encode. Statistics keep
 * Magenta's names (`DAGPipeline_<Unit>_<mode>_<stat>`). polyrnn's extensions are options that are off by
 * default, so the default output matches Magenta's.
 */
import { encodeIds, numSteps, STEPS_PER_QUARTER, toTrainingExample } from "../events/codec.js";
import { hashUnit } from "../io/sha1.js";
import type { NoteSequence } from "../notesequence.js";
import { extractPolyphonicSequences, mergeStatistics, type Statistics } from "./extract.js";
import {
  BadTimeSignatureError,
  MultipleTempoError,
  MultipleTimeSignatureError,
  quantizeNoteSequence,
  quantizeNoteSequenceOnBeats,
} from "./quantize.js";
import { splitNoteSequenceOnTimeChanges, splitNoteSequenceOnTimeSignatureChanges } from "./split.js";
import { thinOpenings } from "./thin.js";
import { transposeNoteSequence } from "./transpose.js";

export type Mode = "training" | "eval";

/** Options of the dataset pipeline (`polyrnn dataset`'s flags). */
export interface DatasetOptions {
  /** Share of the input sequences put in the eval set (each one by chance, as Magenta's RandomPartition). */
  evalRatio: number;
  /** Quantization steps per quarter note (Magenta: 4, sixteenth notes). */
  stepsPerQuarter: number;
  /** Shorter tracks (in steps) are dropped. */
  minSteps: number;
  /** Longer tracks (in steps) are dropped, or cut into windows with `splitLongTracks`. */
  maxSteps: number;
  /** Semitone shifts applied for augmentation, Magenta's range(-4, 5) by default. */
  transposeRange: number[];
  /** polyrnn extension: cut tracks longer than `maxSteps` into windows of `maxSteps` instead of dropping them. */
  splitLongTracks: boolean;
  /** polyrnn extension: keep a file with notes of several MIDI programs as one merged track instead of dropping it. */
  mergePrograms: boolean;
  /** Quantize on the tempo map's beat grid and split only at time-signature changes. */
  quantizeOnBeats: boolean;
  /** A reproducible eval split chosen by a hash of (seed, NoteSequence id); undefined = random, as Magenta. */
  seed?: number;
  /**
   * polyrnn extension: the share of training tracks that open with one or two voices for 8–32 steps
   * (thin.ts, chosen by a hash of seed, input id and track); 0 or absent leaves them as extracted.
   */
  thinOpenings?: number;
}

/** `polyrnn dataset`'s defaults, which are Magenta's. */
export const DEFAULT_DATASET_OPTIONS: DatasetOptions = {
  evalRatio: 0.1,
  stepsPerQuarter: STEPS_PER_QUARTER,
  minSteps: 80,
  maxSteps: 512,
  transposeRange: [-4, -3, -2, -1, 0, 1, 2, 3, 4],
  splitLongTracks: false,
  mergePrograms: false,
  quantizeOnBeats: false,
};

/** Magenta's RandomPartition: per input sequence, eval with probability evalRatio. */
export function choosePartition(
  ns: NoteSequence,
  evalRatio: number,
  seed?: number,
  random = Math.random,
): Mode {
  const r = seed === undefined ? random() : hashUnit(`${seed}:${ns.id}`);
  return r < evalRatio ? "eval" : "training";
}

export interface ProcessedSequence {
  mode: Mode;
  /** Event ids of every extracted track (START … END; a window cut before its piece's end has no END), in Magenta's processing order. */
  tracks: number[][];
  /** Notes of the input, and notes that reach the dataset in the untransposed tracks. */
  inputNotes: number;
  keptNotes: number;
  /** Steps of music in the untransposed tracks. */
  keptSteps: number;
  /** Tempo changes that split the input (Magenta's default mode only). */
  tempoSplits: number;
  /** Why pieces were dropped before extraction (quantizer errors), one line each. */
  warnings: string[];
}

/**
 * An input with an expressive tempo map (piano-midi.de writes rubato as a tempo change every few 16ths):
 * Magenta's default path splits it at each tempo change and loses most of its notes. `polyrnn dataset`
 * warns about such files and suggests --quantize_on_beats; the Studio switches to it for them.
 */
export function lostToTempoSplits(p: ProcessedSequence): boolean {
  return p.tempoSplits > 0 && p.inputNotes > 0 && p.keptNotes < p.inputNotes / 2;
}

/**
 * Statistics of one input's transposition and extraction units, without Magenta's `DAGPipeline_<Unit>_<mode>_`
 * prefixes; `addUnitStatistics` adds the prefixes once per input (not once per piece: a piano-midi.de
 * file splits into a thousand pieces).
 */
export interface UnitStatistics {
  transpositionsGenerated: number;
  skippedDueToRangeExceeded: number;
  extractor: Statistics;
}

export function createUnitStatistics(): UnitStatistics {
  return { transpositionsGenerated: 0, skippedDueToRangeExceeded: 0, extractor: {} };
}

export function addUnitStatistics(stats: Statistics, mode: Mode, unit: UnitStatistics): void {
  const transposition = `DAGPipeline_TranspositionPipeline_${mode}_`;
  count(stats, `${transposition}transpositions_generated`, unit.transpositionsGenerated);
  if (unit.skippedDueToRangeExceeded > 0) {
    count(stats, `${transposition}skipped_due_to_range_exceeded`, unit.skippedDueToRangeExceeded);
  }
  const prefixed: Statistics = {};
  for (const [k, v] of Object.entries(unit.extractor)) prefixed[`DAGPipeline_PolyExtractor_${mode}_${k}`] = v;
  mergeStatistics(stats, prefixed);
}

function count(stats: Statistics, name: string, n = 1): void {
  stats[name] = ((stats[name] as number | undefined) ?? 0) + n;
}

/**
 * Runs one input NoteSequence through the DAG for the given mode, adding Magenta's statistics to `stats`.
 */
export function processNoteSequence(
  ns: NoteSequence,
  mode: Mode,
  opts: DatasetOptions,
  stats: Statistics,
): ProcessedSequence {
  const out: ProcessedSequence = {
    mode,
    tracks: [],
    inputNotes: ns.notes.length,
    keptNotes: 0,
    keptSteps: 0,
    tempoSplits: 0,
    warnings: [],
  };
  const pieces = opts.quantizeOnBeats
    ? splitNoteSequenceOnTimeSignatureChanges(ns)
    : splitNoteSequenceOnTimeChanges(ns);
  if (!opts.quantizeOnBeats) {
    // Tempo events inside the music that change the tempo in force (from 120 qpm): each one splits.
    let qpm = 120;
    for (const t of [...ns.tempos].sort((a, b) => a.time - b.time)) {
      if (t.qpm === qpm) continue;
      if (t.time > 0 && t.time < ns.totalTime) out.tempoSplits++;
      qpm = t.qpm;
    }
  }
  const quantizer = `DAGPipeline_Quantizer_${mode}_`;
  const unit = createUnitStatistics();
  for (const piece of pieces) {
    let quantized: NoteSequence;
    try {
      quantized = opts.quantizeOnBeats
        ? quantizeNoteSequenceOnBeats(piece, opts.stepsPerQuarter)
        : quantizeNoteSequence(piece, opts.stepsPerQuarter);
    } catch (e) {
      if (e instanceof MultipleTimeSignatureError)
        count(stats, `${quantizer}sequences_discarded_because_multiple_time_signatures`);
      else if (e instanceof MultipleTempoError)
        count(stats, `${quantizer}sequences_discarded_because_multiple_tempos`);
      else if (e instanceof BadTimeSignatureError)
        count(stats, `${quantizer}sequences_discarded_because_bad_time_signature`);
      else throw e;
      out.warnings.push(`${ns.filename || ns.id}: ${(e as Error).message}`);
      continue;
    }
    processQuantized(quantized, opts, unit, out);
  }
  addThinOpenings(out, ns.id, opts, stats);
  addUnitStatistics(stats, mode, unit);
  count(stats, `DAGPipeline_RandomPartition_${mode}_poly_tracks_count`);
  return out;
}

/**
 * `--thin_openings`: gives a share of a training input's tracks a thin opening (thin.ts), counted as
 * `polyrnn_thin_openings_training`. Eval tracks stay as extracted. The extractor's statistics and the
 * notes and steps kept are those of the tracks before thinning.
 */
export function addThinOpenings(
  out: ProcessedSequence,
  key: string,
  opts: DatasetOptions,
  stats: Statistics,
): void {
  if (out.mode !== "training" || !opts.thinOpenings) return;
  const { thinned, failed } = thinOpenings(out.tracks, key, opts.thinOpenings, opts.seed);
  count(stats, "polyrnn_thin_openings_training", thinned);
  if (failed > 0) count(stats, "polyrnn_thin_openings_failed_training", failed);
}

/**
 * The stages after quantization (transpose → extract → encode), also the whole pipeline for data that
 * arrives quantized (benchmark frames).
 */
export function processQuantized(
  quantized: NoteSequence,
  opts: DatasetOptions,
  unit: UnitStatistics,
  out: ProcessedSequence,
): void {
  // Magenta's TranspositionPipeline: a shift that takes any non-drum note out of range is dropped.
  for (const amount of opts.transposeRange) {
    const transposed = transposeNoteSequence(quantized, amount);
    if (!transposed) {
      unit.skippedDueToRangeExceeded++;
      continue;
    }
    unit.transpositionsGenerated++;
    const extracted = extractPolyphonicSequences(transposed, {
      minSteps: opts.minSteps,
      maxSteps: opts.maxSteps,
      mergePrograms: opts.mergePrograms,
      splitLongTracks: opts.splitLongTracks,
    });
    mergeStatistics(unit.extractor, extracted.stats);
    for (const seq of extracted.sequences) {
      out.tracks.push(encodeIds(seq));
      if (amount === 0) {
        // Notes that start inside this track's steps (a window of a split track re-strikes notes held
        // across its start; those are counted in the window where they start).
        const from = seq.startStep;
        const to = from + numSteps(seq);
        out.keptNotes += quantized.notes.filter(
          (n) => n.quantizedStartStep >= from && n.quantizedStartStep < to,
        ).length;
        out.keptSteps += numSteps(seq);
      }
    }
  }
}

/** Training pairs for one track, as written to the dataset (labels, and optionally one-hot inputs). */
export function trackToExample(ids: number[], withInputs: boolean): { labels: number[]; inputs?: number[] } {
  const { inputs, labels } = toTrainingExample(ids);
  return withInputs ? { inputs, labels } : { labels };
}

export { mergeStatistics };
