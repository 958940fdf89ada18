/**
 * Quantization of NoteSequences onto a step grid, as note_seq's `sequences_lib.quantize_note_sequence`
 * (Magenta's `Quantizer` pipeline unit), plus polyrnn's `quantizeNoteSequenceOnBeats`
 * (`--quantize_on_beats`), which reads the grid off the tempo map instead of refusing tempo changes.
 *
 * Pure functions: the input is never modified, the result is a deep copy.
 */
import { PolyrnnError } from "../errors.js";
import { cloneNoteSequence, type NoteSequence, type TimeSignature } from "../notesequence.js";

/** note_seq's QUANTIZE_CUTOFF: events up to half a step late snap back, later ones snap forward. */
export const QUANTIZE_CUTOFF = 0.5;
/** note_seq's constants.DEFAULT_QUARTERS_PER_MINUTE: the tempo in force before any tempo event. */
export const DEFAULT_QUARTERS_PER_MINUTE = 120;

/** The sequence changes time signature (Magenta cannot quantize it relative to a single bar grid). */
export class MultipleTimeSignatureError extends PolyrnnError {
  override name = "MultipleTimeSignatureError";
}

/** The sequence changes tempo (only `quantizeNoteSequence`; the on-beats variant accepts tempo maps). */
export class MultipleTempoError extends PolyrnnError {
  override name = "MultipleTempoError";
}

/** Time signature with numerator 0 or a denominator that is not a power of two. */
export class BadTimeSignatureError extends PolyrnnError {
  override name = "BadTimeSignatureError";
}

/** A note, control change or text annotation quantizes to a negative step. */
export class NegativeTimeError extends PolyrnnError {
  override name = "NegativeTimeError";
}

/** A tempo whose qpm is not a finite positive number (only `quantizeNoteSequenceOnBeats` checks this). */
export class BadTempoError extends PolyrnnError {
  override name = "BadTempoError";
}

/** A function that needs an unquantized sequence got a quantized one (note_seq's QuantizationStatusError). */
export class QuantizationStatusError extends PolyrnnError {
  override name = "QuantizationStatusError";
}

/** note_seq's `is_quantized_sequence`: either resolution field is set. */
export function isQuantizedSequence(ns: NoteSequence): boolean {
  const q = ns.quantizationInfo;
  return q !== undefined && (q.stepsPerQuarter > 0 || q.stepsPerSecond > 0);
}

/**
 * Python's `int(x)` on a float: truncation toward zero, and an error (Python raises ValueError or
 * OverflowError) rather than a NaN/Infinity step. `-0` is returned as `0`, as Python has no negative zero int.
 */
function pythonInt(x: number): number {
  if (!Number.isFinite(x)) throw new RangeError(`cannot convert ${x} to an integer step`);
  const r = Math.trunc(x);
  return r === 0 ? 0 : r;
}

/**
 * note_seq's `quantize_to_step`: `int(seconds * stepsPerSecond + (1 - cutoff))`, with the same two
 * float operations in the same order (so boundary cases round as in Python).
 * cutoff 0.5 → round half up; cutoff 0 → floor + 1 for positive values (an exact 4.0 becomes 5: the
 * one-step gap after a primer); cutoff 1 → floor.
 */
export function quantizeToStep(
  unquantizedSeconds: number,
  stepsPerSecond: number,
  cutoff = QUANTIZE_CUTOFF,
): number {
  const unquantizedSteps = unquantizedSeconds * stepsPerSecond;
  return pythonInt(unquantizedSteps + (1 - cutoff));
}

/** note_seq's `steps_per_quarter_to_steps_per_second`: `spq * qpm / 60`. */
export function stepsPerQuarterToStepsPerSecond(stepsPerQuarter: number, qpm: number): number {
  return (stepsPerQuarter * qpm) / 60.0;
}

/** note_seq's `_is_power_of_2` for ints: positive with a single bit set (negatives never qualify). */
function isPowerOf2(x: number): boolean {
  if (!Number.isInteger(x) || x <= 0) return false;
  let v = x;
  while (v % 2 === 0) v /= 2;
  return v === 1;
}

function fmt(x: number, digits: number): string {
  return x.toFixed(digits);
}

/**
 * The time-signature rules of `quantize_note_sequence`, applied to `qns` in place: at most one distinct
 * time signature, which is moved to t=0; none → 4/4 at 0.
 *
 * Matches note_seq to the quirk: later time signatures (in time order) are compared with the FIRST ONE
 * IN THE LIST (not the earliest), and that first-in-list one is the one kept. For sequences whose time
 * signatures are stored in time order (every MIDI reader's output) the two are the same.
 */
function normalizeTimeSignature(qns: NoteSequence): void {
  if (qns.timeSignatures.length > 0) {
    const sorted = [...qns.timeSignatures].sort((a, b) => a.time - b.time);
    const earliest = sorted[0];
    // An implicit 4/4 holds at t=0, so a first time signature later than 0 that is not 4/4 is a change.
    if (earliest.time !== 0 && !(earliest.numerator === 4 && earliest.denominator === 4)) {
      throw new MultipleTimeSignatureError(
        `NoteSequence has an implicit change from initial 4/4 time signature to ` +
          `${earliest.numerator}/${earliest.denominator} at ${fmt(earliest.time, 2)} seconds.`,
      );
    }
    const first = qns.timeSignatures[0];
    for (const ts of sorted.slice(1)) {
      if (ts.numerator !== first.numerator || ts.denominator !== first.denominator) {
        throw new MultipleTimeSignatureError(
          `NoteSequence has at least one time signature change from ${earliest.numerator}/${earliest.denominator} ` +
            `to ${ts.numerator}/${ts.denominator} at ${fmt(ts.time, 2)} seconds.`,
        );
      }
    }
    qns.timeSignatures = [{ ...first, time: 0 }];
  } else {
    qns.timeSignatures = [{ time: 0, numerator: 4, denominator: 4 }];
  }

  const ts: TimeSignature = qns.timeSignatures[0];
  if (!isPowerOf2(ts.denominator)) {
    throw new BadTimeSignatureError(
      `Denominator is not a power of 2. Time signature: ${ts.numerator}/${ts.denominator}`,
    );
  }
  if (ts.numerator === 0) {
    throw new BadTimeSignatureError(`Numerator is 0. Time signature: ${ts.numerator}/${ts.denominator}`);
  }
}

/**
 * Fills quantizedStartStep/EndStep of every note (end == start → end + 1, so no note is shorter than
 * one step), raises totalQuantizedSteps to the last end step, and quantizes control changes and text
 * annotations. `toSteps` maps seconds to unquantized (float) steps; rounding is quantizeToStep's.
 */
function quantizeEvents(qns: NoteSequence, toSteps: (seconds: number) => number): void {
  const step = (seconds: number) => pythonInt(toSteps(seconds) + (1 - QUANTIZE_CUTOFF));
  qns.totalQuantizedSteps = step(qns.totalTime);
  for (const note of qns.notes) {
    note.quantizedStartStep = step(note.startTime);
    note.quantizedEndStep = step(note.endTime);
    if (note.quantizedEndStep === note.quantizedStartStep) note.quantizedEndStep += 1;
    if (note.quantizedStartStep < 0 || note.quantizedEndStep < 0) {
      throw new NegativeTimeError(
        `Got negative note time: start_step = ${note.quantizedStartStep}, end_step = ${note.quantizedEndStep}`,
      );
    }
    if (note.quantizedEndStep > qns.totalQuantizedSteps) qns.totalQuantizedSteps = note.quantizedEndStep;
  }
  for (const event of [...qns.controlChanges, ...qns.textAnnotations]) {
    event.quantizedStep = step(event.time);
    if (event.quantizedStep < 0)
      throw new NegativeTimeError(`Got negative event time: step = ${event.quantizedStep}`);
  }
}

/**
 * note_seq's `quantize_note_sequence`: a deep copy quantized relative to its (single) tempo.
 *
 * Throws MultipleTimeSignatureError / MultipleTempoError / BadTimeSignatureError (which Magenta's
 * Quantizer turns into dropped sequences and counters) and NegativeTimeError (which it does not catch).
 * Time signatures are checked before tempos. Later tempos/time signatures equal to the first are allowed
 * and removed; a first tempo later than t=0 is allowed only if it is 120 qpm (the implicit tempo), a first
 * time signature later than 0 only if it is 4/4.
 */
export function quantizeNoteSequence(ns: NoteSequence, stepsPerQuarter: number): NoteSequence {
  const qns = cloneNoteSequence(ns);
  qns.quantizationInfo = { stepsPerQuarter, stepsPerSecond: 0 };

  normalizeTimeSignature(qns);

  if (qns.tempos.length > 0) {
    const sorted = [...qns.tempos].sort((a, b) => a.time - b.time);
    const earliest = sorted[0];
    if (earliest.time !== 0 && earliest.qpm !== DEFAULT_QUARTERS_PER_MINUTE) {
      throw new MultipleTempoError(
        `NoteSequence has an implicit tempo change from initial ${fmt(DEFAULT_QUARTERS_PER_MINUTE, 1)} qpm to ` +
          `${fmt(earliest.qpm, 1)} qpm at ${fmt(earliest.time, 2)} seconds.`,
      );
    }
    // As with time signatures, note_seq compares with (and keeps) the first tempo in list order.
    const first = qns.tempos[0];
    for (const tempo of sorted.slice(1)) {
      if (tempo.qpm !== first.qpm) {
        throw new MultipleTempoError(
          `NoteSequence has at least one tempo change from ${fmt(earliest.qpm, 1)} qpm to ` +
            `${fmt(tempo.qpm, 1)} qpm at ${fmt(tempo.time, 2)} seconds.`,
        );
      }
    }
    qns.tempos = [{ ...first, time: 0 }];
  } else {
    qns.tempos = [{ time: 0, qpm: DEFAULT_QUARTERS_PER_MINUTE }];
  }

  const stepsPerSecond = stepsPerQuarterToStepsPerSecond(stepsPerQuarter, qns.tempos[0].qpm);
  quantizeEvents(qns, (seconds) => seconds * stepsPerSecond);
  return qns;
}

interface TempoSegment {
  /** Start of the segment in seconds. */
  time: number;
  /** Unquantized step position at `time`. */
  steps: number;
  stepsPerSecond: number;
  qpm: number;
}

/**
 * The piecewise-constant tempo map as segments of constant steps-per-second. The first segment starts
 * at t=0 with the tempo in force there (120 qpm unless a tempo event is at or before 0) and also
 * covers negative times. Events that do not change the tempo are skipped, so that a sequence with one
 * tempo (however many times it is restated) maps seconds to steps with exactly quantizeToStep's
 * arithmetic: `0 + (t - 0) * sps === t * sps`.
 */
function tempoSegments(ns: NoteSequence, stepsPerQuarter: number): TempoSegment[] {
  const sorted = [...ns.tempos].sort((a, b) => a.time - b.time);
  const segments: TempoSegment[] = [
    {
      time: 0,
      steps: 0,
      stepsPerSecond: stepsPerQuarterToStepsPerSecond(stepsPerQuarter, DEFAULT_QUARTERS_PER_MINUTE),
      qpm: DEFAULT_QUARTERS_PER_MINUTE,
    },
  ];
  for (const tempo of sorted) {
    if (!(Number.isFinite(tempo.qpm) && tempo.qpm > 0) || !Number.isFinite(tempo.time)) {
      throw new BadTempoError(`Tempo of ${tempo.qpm} qpm at ${tempo.time} seconds.`);
    }
    const sps = stepsPerQuarterToStepsPerSecond(stepsPerQuarter, tempo.qpm);
    const last = segments[segments.length - 1];
    if (tempo.time <= last.time) {
      // At (or, for the first segment, before) the start of the current segment: the later event wins.
      last.stepsPerSecond = sps;
      last.qpm = tempo.qpm;
    } else if (tempo.qpm !== last.qpm) {
      segments.push({
        time: tempo.time,
        steps: last.steps + (tempo.time - last.time) * last.stepsPerSecond,
        stepsPerSecond: sps,
        qpm: tempo.qpm,
      });
    }
  }
  return segments;
}

/** Unquantized step position of `seconds` on the tempo map (binary search for the segment). */
function stepsAt(segments: TempoSegment[], seconds: number): number {
  let lo = 0;
  let hi = segments.length - 1;
  while (lo < hi) {
    const mid = (lo + hi + 1) >> 1;
    if (segments[mid].time <= seconds) lo = mid;
    else hi = mid - 1;
  }
  const seg = segments[lo];
  return seg.steps + (seconds - seg.time) * seg.stepsPerSecond;
}

/** Time-weighted mean qpm over [0, totalTime]; the tempo at t=0 when totalTime is not positive. */
function meanQpm(segments: TempoSegment[], totalTime: number): number {
  if (!(totalTime > 0)) return segments[0].qpm;
  // Weights as fractions of totalTime, so that a single segment gives its qpm exactly.
  let mean = 0;
  for (let i = 0; i < segments.length && segments[i].time < totalTime; i++) {
    const end = i + 1 < segments.length ? Math.min(segments[i + 1].time, totalTime) : totalTime;
    mean += segments[i].qpm * ((end - segments[i].time) / totalTime);
  }
  return mean;
}

/**
 * polyrnn's `--quantize_on_beats`: quantize on the metrical grid recovered from the tempo map.
 *
 * Why: Magenta splits a sequence at every tempo change (TimeChangeSplitter) and then quantizes each
 * piece in seconds at its one tempo. Expressively performed MIDI, such as the piano-midi.de collection,
 * writes its rubato as a tempo change every one to four 16th notes, so Magenta's path fragments such
 * files into pieces far shorter than the extractor's minimum length and drops nearly all of them. Here
 * every time is converted to a position in quarter notes by integrating the tempo map (tempos sorted by
 * time, 120 qpm before the first), and the step is `quantizeToStep`'s rounding of `quarters * spq`
 * (computed per segment as `steps at segment start + (t - segment start) * spq * qpm / 60`, which for a
 * single-tempo sequence is bit-for-bit `quantizeNoteSequence`). Tempo changes never split or throw.
 *
 * The result:
 * - carries ONE tempo at t=0 (Magenta's quantized sequences have exactly one): the MEAN tempo over
 *   [0, totalTime], `60 * quarters(totalTime) / totalTime`, rounded to 3 decimals — the tempo at which
 *   the quantized steps play back in the original total duration (the tempo at the first note can be
 *   an arbitrary rubato value). With totalTime 0 it is the tempo in force at t=0.
 * - keeps every time in seconds as it was (startTime, endTime, totalTime, event times): only the
 *   quantized steps are new, so the seconds stay the performance's timing.
 * - keeps quantizeNoteSequence's time-signature rules and errors (a time signature change still breaks
 *   the bar grid) and NegativeTimeError; a tempo that is not a finite positive qpm is a BadTempoError.
 */
export function quantizeNoteSequenceOnBeats(ns: NoteSequence, stepsPerQuarter: number): NoteSequence {
  const qns = cloneNoteSequence(ns);
  qns.quantizationInfo = { stepsPerQuarter, stepsPerSecond: 0 };

  normalizeTimeSignature(qns);

  const segments = tempoSegments(qns, stepsPerQuarter);
  quantizeEvents(qns, (seconds) => stepsAt(segments, seconds));

  const qpm = Math.round(meanQpm(segments, qns.totalTime) * 1000) / 1000;
  qns.tempos = [{ time: 0, qpm }];
  return qns;
}
