/**
 * Training extraction: quantized NoteSequence → PolyphonicSequences (Magenta's
 * `extract_polyphonic_sequences` / PolyphonicSequenceExtractor, spec §1.4), plus two opt-in polyrnn
 * extensions for the most common complaints (magenta#1602, #1917: multi-instrument files dropped;
 * magenta#1016: long files dropped whole).
 *
 * Statistic names are Magenta's without the `DAGPipeline_<unit>_` prefix (the caller adds it).
 */
import {
  fromQuantizedSequence,
  numSteps,
  type PolyphonicSequence,
  PolyphonicSequenceError,
} from "../events/codec.js";
import type { NoteSequence } from "../notesequence.js";

/**
 * Magenta's `statistics.Histogram`: `buckets` are inclusive lower bounds, sorted; `counts[0]` counts
 * values below `buckets[0]` (Magenta's implicit [-inf, b0) range), `counts[i + 1]` the range
 * [buckets[i], buckets[i + 1]) (the last one open to +inf). JSON-safe.
 */
export interface Histogram {
  /** Tells a histogram from a counter in {@link Statistics}. */
  kind: "histogram";
  /** The buckets' lower bounds, ascending. */
  buckets: number[];
  /** Counts per range, one more than `buckets` (see above). */
  counts: number[];
}

/** One pipeline statistic: a counter or a histogram. */
export type Statistic = number | Histogram;
/** The pipeline's statistics by Magenta's names. */
export type Statistics = Record<string, Statistic>;

export const TRACK_LENGTH_BUCKETS = [0, 1, 10, 20, 30, 40, 50, 100, 200, 500, 1000];

export function createHistogram(buckets: readonly number[]): Histogram {
  const sorted = [...new Set(buckets)].sort((a, b) => a - b);
  return { kind: "histogram", buckets: sorted, counts: new Array(sorted.length + 1).fill(0) };
}

export function incrementHistogram(h: Histogram, value: number, inc = 1): void {
  // bisect_right: the number of lower bounds ≤ value is the index into counts.
  let i = 0;
  while (i < h.buckets.length && h.buckets[i] <= value) i++;
  h.counts[i] += inc;
}

/** Adds `from` into `into` (counters add; histograms with the same buckets add bucket-wise). */
export function mergeStatistics(into: Statistics, from: Statistics): Statistics {
  for (const [name, stat] of Object.entries(from)) {
    const cur = into[name];
    if (cur === undefined) {
      into[name] = typeof stat === "number" ? stat : { ...stat, counts: [...stat.counts] };
    } else if (typeof cur === "number" && typeof stat === "number") {
      into[name] = cur + stat;
    } else if (
      typeof cur !== "number" &&
      typeof stat !== "number" &&
      cur.buckets.length === stat.buckets.length &&
      cur.buckets.every((b, i) => b === stat.buckets[i])
    ) {
      for (let i = 0; i < cur.counts.length; i++) cur.counts[i] += stat.counts[i];
    } else {
      throw new PolyphonicSequenceError(`cannot merge statistic ${name}: different kinds or buckets`);
    }
  }
  return into;
}

function pyNum(x: number): string {
  if (x === Number.POSITIVE_INFINITY) return "inf";
  if (x === Number.NEGATIVE_INFINITY) return "-inf";
  return String(x);
}

/**
 * Magenta's log format: `name: 3` for a counter; for a histogram `name:` then one line
 * `  [lower,upper): count` per non-empty bucket (lowest is -inf, highest upper is inf).
 */
export function formatStatistic(name: string, stat: Statistic): string {
  if (typeof stat === "number") return `${name}: ${stat}`;
  const bounds = [Number.NEGATIVE_INFINITY, ...stat.buckets, Number.POSITIVE_INFINITY];
  const lines = [`${name}:`];
  for (let i = 0; i < stat.counts.length; i++) {
    if (stat.counts[i]) lines.push(`  [${pyNum(bounds[i])},${pyNum(bounds[i + 1])}): ${stat.counts[i]}`);
  }
  return lines.join("\n");
}

export interface ExtractOptions {
  /** Shorter tracks (in STEP_ENDs) are discarded; 0 disables. */
  minSteps?: number;
  /** Longer tracks are discarded (or split, see `splitLongTracks`); Infinity disables. */
  maxSteps?: number;
  /** Start at this step (notes starting earlier are skipped); assumed to be a bar start. */
  startStep?: number;
  /**
   * polyrnn extension: keep a file whose notes use several programs as one merged stream instead of
   * discarding it (Magenta already merges all instruments of a one-program file). Drum notes are
   * merged too, as Magenta does for one-program files.
   */
  mergePrograms?: boolean;
  /**
   * polyrnn extension: a track longer than maxSteps is cut into consecutive windows of maxSteps steps
   * (the last one shorter), each re-derived from the quantized notes so that it is a well-formed
   * sequence of its own. A note sounding across a window start is re-struck as NEW_NOTE at the window
   * start (the window cannot refer to a note it never saw begin). Windows shorter than minSteps are
   * dropped. Only the piece's last window ends with END (none does when that one is dropped): the others
   * stop where the piece goes on, so they end with their last STEP_END. A model trained on windows that
   * all ended with END learns that music stops after maxSteps steps, and puts its probability on END past
   * that. Decode such a window with `toNoteSequence(setLength(w, numSteps(w)))`.
   */
  splitLongTracks?: boolean;
}

export interface ExtractResult {
  sequences: PolyphonicSequence[];
  stats: Statistics;
}

/** note_seq's steps_per_bar_in_quantized_sequence; the quantizer adds 4/4 when there is no time signature. */
function stepsPerBar(qns: NoteSequence): number {
  const ts = qns.timeSignatures[0];
  const numerator = ts ? ts.numerator : 4;
  const denominator = ts ? ts.denominator : 4;
  const spq = qns.quantizationInfo?.stepsPerQuarter ?? 0;
  return spq * (4.0 / denominator) * numerator;
}

/** The sequence of steps [from, to) only: notes clipped to the window, and re-struck at its start. */
function windowSequence(qns: NoteSequence, startStep: number, from: number, to: number): PolyphonicSequence {
  const notes = [];
  for (const n of qns.notes) {
    // Notes before startStep are skipped, as in the unsplit track.
    if (n.quantizedStartStep < startStep) continue;
    if (n.quantizedStartStep >= to || n.quantizedEndStep <= from) continue;
    notes.push({
      ...n,
      quantizedStartStep: Math.max(n.quantizedStartStep, from),
      quantizedEndStep: Math.min(n.quantizedEndStep, to),
    });
  }
  return fromQuantizedSequence({ ...qns, notes, totalQuantizedSteps: to }, from);
}

export function extractPolyphonicSequences(qns: NoteSequence, opts: ExtractOptions = {}): ExtractResult {
  const {
    minSteps = 80,
    maxSteps = 512,
    startStep = 0,
    mergePrograms = false,
    splitLongTracks = false,
  } = opts;
  if (!(maxSteps > 0) && splitLongTracks) {
    throw new PolyphonicSequenceError(`splitLongTracks needs maxSteps > 0, got ${maxSteps}`);
  }
  // Magenta reports every counter, zeros included, in this order.
  const histogram = createHistogram(TRACK_LENGTH_BUCKETS);
  const stats: Statistics = {
    polyphonic_tracks_discarded_too_short: 0,
    polyphonic_tracks_discarded_too_long: 0,
    polyphonic_tracks_discarded_more_than_1_program: 0,
    polyphonic_track_lengths_in_bars: histogram,
  };
  // The extension counters exist only when their option is on, so default logs read like Magenta's.
  if (mergePrograms) stats.polyphonic_tracks_merged_programs = 0;
  if (splitLongTracks) {
    stats.polyphonic_tracks_split = 0;
    stats.polyphonic_track_windows_discarded_too_short = 0;
  }
  const count = (name: string) => {
    stats[name] = (stats[name] as number) + 1;
  };

  const programs = new Set(qns.notes.map((n) => n.program));
  if (programs.size > 1) {
    if (!mergePrograms) {
      count("polyphonic_tracks_discarded_more_than_1_program");
      return { sequences: [], stats };
    }
    count("polyphonic_tracks_merged_programs");
  }

  const spb = stepsPerBar(qns);
  // The track's length is known from the quantized sequence (fromQuantizedSequence writes one STEP_END per
  // step from startStep to the end), so a track that is dropped is never built: the cost of a file stays
  // linear in its notes, not in its time span (one note an hour after another is 14,400 steps at 120 qpm).
  const n = Math.max(0, qns.totalQuantizedSteps - startStep);
  const sequences: PolyphonicSequence[] = [];
  if (n < minSteps) {
    count("polyphonic_tracks_discarded_too_short");
  } else if (n > maxSteps) {
    if (!splitLongTracks) {
      count("polyphonic_tracks_discarded_too_long");
    } else {
      count("polyphonic_tracks_split");
      const end = startStep + n;
      for (let from = startStep; from < end; from += maxSteps) {
        const to = Math.min(from + maxSteps, end);
        if (to - from < minSteps) {
          count("polyphonic_track_windows_discarded_too_short");
          continue;
        }
        const window = windowSequence(qns, startStep, from, to);
        sequences.push(to < end ? { ...window, events: window.events.slice(0, -1) } : window);
        incrementHistogram(histogram, Math.floor((to - from) / spb));
      }
    }
  } else {
    const seq = fromQuantizedSequence(qns, startStep);
    if (numSteps(seq) !== n) {
      throw new PolyphonicSequenceError(`internal: track has ${numSteps(seq)} steps, expected ${n}`);
    }
    sequences.push(seq);
    incrementHistogram(histogram, Math.floor(n / spb));
  }
  return { sequences, stats };
}
