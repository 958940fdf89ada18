/**
 * Splitting and trimming of unquantized NoteSequences, as note_seq's `sequences_lib`
 * (`split_note_sequence_on_time_changes` is Magenta's TimeChangeSplitter, the first unit of the
 * Polyphony RNN dataset DAG). Pure functions; inputs are never modified.
 */
import {
  type ControlChange,
  cloneNoteSequence,
  type Note,
  type NoteSequence,
  TextAnnotationType,
} from "../notesequence.js";
import { DEFAULT_QUARTERS_PER_MINUTE, isQuantizedSequence, QuantizationStatusError } from "./quantize.js";

/** Control numbers whose latest value is carried into each piece: sustain, sostenuto, una corda. */
export const DEFAULT_SUBSEQUENCE_PRESERVE_CONTROL_NUMBERS: readonly number[] = [64, 66, 67];

/** Stable sort by time (Python's `sorted(key=...)` is stable, and so is Array.prototype.sort). */
function byTime<T extends { time: number }>(events: readonly T[]): T[] {
  return [...events].sort((a, b) => a.time - b.time);
}

/**
 * note_seq's `trim_note_sequence`: keeps the notes with startTime in [startTime, endTime) (in their
 * order, not shifted), clips their ends at endTime, and sets totalTime = min(totalTime, endTime).
 */
export function trimNoteSequence(ns: NoteSequence, startTime: number, endTime: number): NoteSequence {
  if (isQuantizedSequence(ns)) {
    throw new QuantizationStatusError("Can only trim notes and chords for unquantized NoteSequence.");
  }
  const out = cloneNoteSequence(ns);
  out.notes = out.notes
    .filter((n) => !(n.startTime < startTime || n.startTime >= endTime))
    .map((n) => ({ ...n, endTime: Math.min(n.endTime, endTime) }));
  out.totalTime = Math.min(ns.totalTime, endTime);
  return out;
}

/**
 * Distributes state events (time signatures, key signatures, tempos, chord symbols) into pieces: an
 * event inside a piece is shifted with it; the event in force when a piece starts is copied to its t=0;
 * an event exactly on a boundary belongs to the next piece. Same walk as note_seq.
 */
function distributeStateEvents<T extends { time: number }>(
  events: readonly T[],
  splitTimes: readonly number[],
  containers: T[][],
): void {
  const last = splitTimes.length - 1;
  let previous: T | undefined;
  let index = -1;
  for (const event of byTime(events)) {
    if (event.time <= splitTimes[0]) {
      previous = event;
      continue;
    }
    while (index < last && event.time > splitTimes[index + 1]) {
      index += 1;
      if (index === last) break;
      if (previous !== undefined) containers[index].push({ ...previous, time: 0.0 });
    }
    if (index === last) break;
    // Only inside the piece, not on the boundary with the next one.
    if (event.time < splitTimes[index + 1]) {
      containers[index].push({ ...event, time: event.time - splitTimes[index] });
    }
    previous = event;
  }
  while (index < last - 1) {
    index += 1;
    if (previous !== undefined) containers[index].push({ ...previous, time: 0.0 });
  }
}

/**
 * note_seq's `_extract_subsequences`: one piece per pair of consecutive split times, each shifted to
 * start at 0.
 * - notes are assigned by start time; their end is clipped at the piece's end; a piece's totalTime is
 *   the largest clipped note end (not the boundary);
 * - time signatures, key signatures, tempos and chord symbols: see distributeStateEvents;
 * - beat annotations are copied into the piece they fall in; other text annotations are dropped;
 * - control changes in `preserveControlNumbers` are carried (latest value per instrument and control
 *   number re-inserted at t=0 of each piece); other control changes and all pitch bends are dropped;
 * - subsequenceInfo = { startTimeOffset: piece start, endTimeOffset: totalTime - start - piece totalTime }.
 * Everything else (id, filename, metadata, ...) is copied to every piece.
 *
 * Throws QuantizationStatusError for a quantized sequence and RangeError (note_seq's ValueError) for
 * fewer than 2 split times, unsorted split times, or a piece starting at or past totalTime.
 */
export function extractSubsequences(
  ns: NoteSequence,
  splitTimes: readonly number[],
  preserveControlNumbers: readonly number[] = DEFAULT_SUBSEQUENCE_PRESERVE_CONTROL_NUMBERS,
): NoteSequence[] {
  if (isQuantizedSequence(ns)) {
    throw new QuantizationStatusError("Can only extract subsequences from unquantized NoteSequence.");
  }
  if (splitTimes.length < 2) throw new RangeError("Must provide at least a start and end time.");
  for (let i = 1; i < splitTimes.length; i++) {
    if (splitTimes[i - 1] > splitTimes[i]) throw new RangeError("Split times must be sorted.");
  }
  if (splitTimes.slice(0, -1).some((t) => t >= ns.totalTime)) {
    throw new RangeError("Cannot extract subsequence past end of sequence.");
  }

  const template = cloneNoteSequence(ns);
  template.totalTime = 0.0;
  template.notes = [];
  template.timeSignatures = [];
  template.keySignatures = [];
  template.tempos = [];
  template.textAnnotations = [];
  template.controlChanges = [];
  template.pitchBends = [];
  const pieces = Array.from({ length: splitTimes.length - 1 }, () => cloneNoteSequence(template));
  const last = splitTimes.length - 1;

  // Notes, by start time.
  let index = -1;
  const notes = [...ns.notes].sort((a, b) => a.startTime - b.startTime);
  for (const note of notes) {
    if (note.startTime < splitTimes[0]) continue;
    while (index < last && note.startTime >= splitTimes[index + 1]) index += 1;
    if (index === last) break;
    const piece = pieces[index];
    const copy: Note = {
      ...note,
      startTime: note.startTime - splitTimes[index],
      endTime: Math.min(note.endTime, splitTimes[index + 1]) - splitTimes[index],
    };
    piece.notes.push(copy);
    if (copy.endTime > piece.totalTime) piece.totalTime = copy.endTime;
  }

  // State events.
  distributeStateEvents(
    ns.timeSignatures,
    splitTimes,
    pieces.map((p) => p.timeSignatures),
  );
  distributeStateEvents(
    ns.keySignatures,
    splitTimes,
    pieces.map((p) => p.keySignatures),
  );
  distributeStateEvents(
    ns.tempos,
    splitTimes,
    pieces.map((p) => p.tempos),
  );
  distributeStateEvents(
    ns.textAnnotations.filter((a) => a.annotationType === TextAnnotationType.CHORD_SYMBOL),
    splitTimes,
    pieces.map((p) => p.textAnnotations),
  );

  // Stateless events (beats): only in the piece they fall in.
  index = -1;
  for (const beat of byTime(ns.textAnnotations.filter((a) => a.annotationType === TextAnnotationType.BEAT))) {
    if (beat.time < splitTimes[0]) continue;
    while (index < last && beat.time >= splitTimes[index + 1]) index += 1;
    if (index === last) break;
    pieces[index].textAnnotations.push({ ...beat, time: beat.time - splitTimes[index] });
  }

  // Pedal events: state kept per (instrument, control number), in first-seen order (a Python dict).
  const pedals = ns.controlChanges.filter((cc) => preserveControlNumbers.includes(cc.controlNumber));
  const previousPedals = new Map<string, ControlChange>();
  const carryPedals = (i: number) => {
    for (const cc of previousPedals.values()) pieces[i].controlChanges.push({ ...cc, time: 0.0 });
  };
  index = -1;
  for (const cc of byTime(pedals)) {
    const key = `${cc.instrument}:${cc.controlNumber}`;
    if (cc.time <= splitTimes[0]) {
      previousPedals.set(key, cc);
      continue;
    }
    while (index < last && cc.time > splitTimes[index + 1]) {
      index += 1;
      if (index === last) break;
      carryPedals(index);
    }
    if (index === last) break;
    if (cc.time < splitTimes[index + 1]) {
      pieces[index].controlChanges.push({ ...cc, time: cc.time - splitTimes[index] });
    }
    previousPedals.set(key, cc);
  }
  while (index < last - 1) {
    index += 1;
    carryPedals(index);
  }

  pieces.forEach((piece, i) => {
    const start = splitTimes[i];
    piece.subsequenceInfo = { startTimeOffset: start, endTimeOffset: ns.totalTime - start - piece.totalTime };
  });
  return pieces;
}

/** note_seq's `extract_subsequence`: the one piece [startTime, endTime) of extractSubsequences. */
export function extractSubsequence(
  ns: NoteSequence,
  startTime: number,
  endTime: number,
  preserveControlNumbers: readonly number[] = DEFAULT_SUBSEQUENCE_PRESERVE_CONTROL_NUMBERS,
): NoteSequence {
  return extractSubsequences(ns, [startTime, endTime], preserveControlNumbers)[0];
}

/** Notes sorted by start time, and a walker that reports whether a note sounds across a time. */
function crossingTracker(ns: NoteSequence): (time: number) => boolean {
  const notes = [...ns.notes].sort((a, b) => a.startTime - b.startTime);
  let next = 0;
  let crossing: Note[] = [];
  return (time: number) => {
    while (next < notes.length && notes[next].startTime < time) crossing.push(notes[next++]);
    crossing = crossing.filter((n) => n.endTime > time);
    return crossing.length > 0;
  };
}

/** Split at the given times (already chosen), ending with totalTime; no pieces if none is left. */
function finishSplit(ns: NoteSequence, validSplitTimes: number[]): NoteSequence[] {
  if (ns.totalTime > validSplitTimes[validSplitTimes.length - 1]) validSplitTimes.push(ns.totalTime);
  return validSplitTimes.length > 1 ? extractSubsequences(ns, validSplitTimes) : [];
}

/**
 * note_seq's `split_note_sequence`: split every `hopSizeSeconds` (numpy's `arange(hop, totalTime, hop)`,
 * computed the same way) or at the given list of times (sorted); with skipSplitsInsideNotes, split times
 * inside a sounding note are skipped. Pieces start at 0; see extractSubsequences.
 */
export function splitNoteSequence(
  ns: NoteSequence,
  hopSizeSeconds: number | readonly number[],
  skipSplitsInsideNotes = false,
): NoteSequence[] {
  let splitTimes: number[];
  if (typeof hopSizeSeconds === "number") {
    // numpy.arange for floats: length ceil((stop - start) / step), values start + i * delta where
    // delta = (start + step) - start (the second value is start + step itself).
    const start = hopSizeSeconds;
    const length = Math.max(0, Math.ceil((ns.totalTime - start) / hopSizeSeconds));
    const delta = start + hopSizeSeconds - start;
    splitTimes = Array.from({ length }, (_, i) => (i === 1 ? start + hopSizeSeconds : start + i * delta));
  } else {
    splitTimes = [...hopSizeSeconds].sort((a, b) => a - b);
  }
  const crosses = crossingTracker(ns);
  const valid = [0.0];
  for (const time of splitTimes) {
    const inside = crosses(time);
    if (!(skipSplitsInsideNotes && inside)) valid.push(time);
  }
  return finishSplit(ns, valid);
}

function splitOnChanges(ns: NoteSequence, skipSplitsInsideNotes: boolean, tempos: boolean): NoteSequence[] {
  type Change = { time: number; numerator: number; denominator: number } | { time: number; qpm: number };
  let numerator = 4;
  let denominator = 4;
  let qpm = DEFAULT_QUARTERS_PER_MINUTE;

  // Time signatures before tempos at equal times (stable sort of ts + tempos, as note_seq).
  const changes = byTime<Change>([...ns.timeSignatures, ...(tempos ? ns.tempos : [])]).filter(
    (c) => c.time < ns.totalTime,
  );
  const crosses = crossingTracker(ns);
  const valid = [0.0];
  for (const change of changes) {
    if ("qpm" in change) {
      if (change.qpm === qpm) continue;
    } else if (change.numerator === numerator && change.denominator === denominator) {
      continue;
    }
    const inside = crosses(change.time);
    if (change.time > valid[valid.length - 1] && !(skipSplitsInsideNotes && inside)) valid.push(change.time);
    // Even without a split here, the current value changes.
    if ("qpm" in change) qpm = change.qpm;
    else {
      numerator = change.numerator;
      denominator = change.denominator;
    }
  }
  return finishSplit(ns, valid);
}

/**
 * note_seq's `split_note_sequence_on_time_changes` (Magenta's TimeChangeSplitter): split at every time
 * signature or tempo event before totalTime that actually changes the value in force (starting from
 * 4/4 at 120 qpm), at most once per time; with skipSplitsInsideNotes, changes inside a sounding note do
 * not split. A sequence with totalTime 0 gives no pieces. Pieces start at 0; see extractSubsequences.
 */
export function splitNoteSequenceOnTimeChanges(
  ns: NoteSequence,
  skipSplitsInsideNotes = false,
): NoteSequence[] {
  return splitOnChanges(ns, skipSplitsInsideNotes, true);
}

/**
 * polyrnn: as splitNoteSequenceOnTimeChanges but only time signature changes split; each piece keeps
 * its tempo map. The companion of quantizeNoteSequenceOnBeats, which handles tempo changes itself but
 * still needs one time signature per piece.
 */
export function splitNoteSequenceOnTimeSignatureChanges(
  ns: NoteSequence,
  skipSplitsInsideNotes = false,
): NoteSequence[] {
  return splitOnChanges(ns, skipSplitsInsideNotes, false);
}
