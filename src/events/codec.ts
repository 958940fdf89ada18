/**
 * Polyphony RNN's event vocabulary and the PolyphonicSequence: one stream of events per piece, START,
 * then for every quantized step the sounding notes (highest pitch first) and a STEP_END, then END.
 * Behaviour follows Magenta's polyphony_lib.py / polyphony_encoder_decoder.py (spec §1).
 *
 * Everything here is a pure function over plain data: sequences are never mutated, operations return
 * new ones. Runs in Node and in browsers.
 */
import { PolyrnnError } from "../errors.js";
import { cloneNoteSequence, createNote, createNoteSequence, type NoteSequence } from "../notesequence.js";

/** A malformed event or event sequence (Magenta raises ValueError in these cases). */
export class PolyphonicSequenceError extends PolyrnnError {
  override name = "PolyphonicSequenceError";
}

export const EventType = {
  START: 0,
  END: 1,
  STEP_END: 2,
  NEW_NOTE: 3,
  CONTINUED_NOTE: 4,
} as const;
export type EventType = (typeof EventType)[keyof typeof EventType];

/**
 * One event. Pitch-less events (START, END, STEP_END) carry pitch 0: Magenta uses None when it builds
 * a sequence and 0 when it decodes an index; using 0 throughout makes `idToEvent(eventToId(e))` equal e.
 */
export interface PolyEvent {
  type: EventType;
  pitch: number;
}

/** An event id, 0 … NUM_CLASSES-1 (the one-hot index of PolyphonyOneHotEncoding). */
export type EventId = number;

export const MIN_MIDI_PITCH = 0;
export const MAX_MIDI_PITCH = 127;
const PITCH_CLASSES = MAX_MIDI_PITCH + 1;
/** START, END, STEP_END come first; then NEW_NOTE 0…127, then CONTINUED_NOTE 0…127. */
const NUM_PITCHLESS = 3;
const NEW_NOTE_BASE = NUM_PITCHLESS;
const CONTINUED_NOTE_BASE = NUM_PITCHLESS + PITCH_CLASSES;

export const NUM_CLASSES = NUM_PITCHLESS + 2 * PITCH_CLASSES; // 259
/** STEP_END: the "no event" label of the event/no-event accuracy metrics. */
export const DEFAULT_EVENT_ID: EventId = 2;

/** Magenta's DEFAULT_QUARTERS_PER_MINUTE and STANDARD_PPQ. */
export const DEFAULT_QPM = 120;
export const STANDARD_PPQ = 220;

export const START: PolyEvent = Object.freeze({ type: EventType.START, pitch: 0 });
export const END: PolyEvent = Object.freeze({ type: EventType.END, pitch: 0 });
export const STEP_END: PolyEvent = Object.freeze({ type: EventType.STEP_END, pitch: 0 });
/** The ids of START, END and STEP_END. */
export const START_ID: EventId = eventToId(START);
export const END_ID: EventId = eventToId(END);
export const STEP_END_ID: EventId = eventToId(STEP_END);

function validPitch(p: number): boolean {
  return Number.isInteger(p) && p >= MIN_MIDI_PITCH && p <= MAX_MIDI_PITCH;
}

/** A NEW_NOTE or CONTINUED_NOTE event; throws on a pitch outside 0…127 (as PolyphonicEvent's constructor). */
export function noteEvent(
  type: typeof EventType.NEW_NOTE | typeof EventType.CONTINUED_NOTE,
  pitch: number,
): PolyEvent {
  if (!validPitch(pitch)) throw new PolyphonicSequenceError(`invalid pitch: ${pitch}`);
  return { type, pitch };
}

export function eventToId(e: PolyEvent): EventId {
  switch (e.type) {
    case EventType.START:
    case EventType.END:
    case EventType.STEP_END:
      return e.type;
    case EventType.NEW_NOTE:
    case EventType.CONTINUED_NOTE:
      if (!validPitch(e.pitch)) throw new PolyphonicSequenceError(`invalid pitch: ${e.pitch}`);
      return (e.type === EventType.NEW_NOTE ? NEW_NOTE_BASE : CONTINUED_NOTE_BASE) + e.pitch;
    default:
      throw new PolyphonicSequenceError(`unknown event type: ${(e as PolyEvent).type}`);
  }
}

export function idToEvent(id: EventId): PolyEvent {
  if (!Number.isInteger(id) || id < 0 || id >= NUM_CLASSES) {
    throw new PolyphonicSequenceError(`unknown event index: ${id}`);
  }
  if (id < NUM_PITCHLESS) return { type: id as EventType, pitch: 0 };
  if (id < CONTINUED_NOTE_BASE) return { type: EventType.NEW_NOTE, pitch: id - NEW_NOTE_BASE };
  return { type: EventType.CONTINUED_NOTE, pitch: id - CONTINUED_NOTE_BASE };
}

/** `event_to_num_steps`: 1 for STEP_END, else 0. */
export function eventToNumSteps(e: PolyEvent): number {
  return e.type === EventType.STEP_END ? 1 : 0;
}

/** Readable form, as Magenta's `__str__`: START, END, |||, (60, NEW), (60, CONTINUED). */
export function eventToString(e: PolyEvent): string {
  switch (e.type) {
    case EventType.START:
      return "START";
    case EventType.END:
      return "END";
    case EventType.STEP_END:
      return "|||";
    case EventType.NEW_NOTE:
      return `(${e.pitch}, NEW)`;
    default:
      return `(${e.pitch}, CONTINUED)`;
  }
}

/**
 * Magenta's polyphony config quantizes music to 4 steps per quarter note (a 16th note a step): the
 * dataset, the model and the generator share this grid. Bundles and checkpoints record it (files written
 * before they did are read as this).
 */
export const STEPS_PER_QUARTER = 4;

export interface PolyphonicSequence {
  readonly events: readonly PolyEvent[];
  readonly stepsPerQuarter: number;
  /** Offset of the first step relative to the source sequence (notes before it were skipped). */
  readonly startStep: number;
}

/** An empty sequence, `[START]` (Magenta's constructor without a quantized sequence). */
export function createPolyphonicSequence(
  stepsPerQuarter: number,
  startStep = 0,
  events: readonly PolyEvent[] = [START],
): PolyphonicSequence {
  return { events: [...events], stepsPerQuarter, startStep };
}

/** A sequence from event ids (e.g. a model's samples); the ids are taken as they are, START included. */
export function decodeIds(
  ids: readonly EventId[],
  stepsPerQuarter: number,
  startStep = 0,
): PolyphonicSequence {
  return { events: ids.map(idToEvent), stepsPerQuarter, startStep };
}

export function encodeIds(seq: PolyphonicSequence): EventId[] {
  return seq.events.map(eventToId);
}

/** Number of STEP_END events (an unfinished trailing step does not count). */
export function numSteps(seq: PolyphonicSequence): number {
  let n = 0;
  for (const e of seq.events) if (e.type === EventType.STEP_END) n++;
  return n;
}

export function endStep(seq: PolyphonicSequence): number {
  return seq.startStep + numSteps(seq);
}

/** The step of each event (Magenta's `steps` property): STEP_END belongs to the step it closes. */
export function eventSteps(seq: PolyphonicSequence): number[] {
  let step = seq.startStep;
  return seq.events.map((e) => {
    const s = step;
    if (e.type === EventType.STEP_END) step++;
    return s;
  });
}

export function sequenceToString(seq: PolyphonicSequence): string {
  return seq.events.map(eventToString).join("\n");
}

/**
 * `_from_quantized_sequence` (spec §1.2). Notes starting before `startStep` are skipped; every step
 * from `startStep` to `totalQuantizedSteps` is emitted, trailing silence included. Velocity, program,
 * instrument and isDrum are ignored.
 *
 * As in Magenta, a note whose end step comes before any matching active note (end ≤ start with no
 * other note of that pitch sounding) is an error: note_seq's quantizer never produces one, since it
 * stretches zero-length notes to one step.
 */
export function fromQuantizedSequence(qns: NoteSequence, startStep = 0): PolyphonicSequence {
  const spq = qns.quantizationInfo?.stepsPerQuarter ?? 0;
  if (!(spq > 0)) {
    throw new PolyphonicSequenceError(
      `NoteSequence ${qns.id} is not quantized or is quantized based on absolute timing`,
    );
  }
  const starts = new Map<number, number[]>();
  const ends = new Map<number, number[]>();
  const push = (m: Map<number, number[]>, k: number, p: number) => {
    const list = m.get(k);
    if (list) list.push(p);
    else m.set(k, [p]);
  };
  for (const note of qns.notes) {
    if (note.quantizedStartStep < startStep) continue;
    if (!validPitch(note.pitch)) throw new PolyphonicSequenceError(`invalid pitch: ${note.pitch}`);
    push(starts, note.quantizedStartStep, note.pitch);
    push(ends, note.quantizedEndStep, note.pitch);
  }

  const events: PolyEvent[] = [START];
  // A list, not a set: the same pitch may sound twice at once (overlapping same-pitch notes).
  const active: number[] = [];
  for (let step = startStep; step < qns.totalQuantizedSteps; step++) {
    const stepEvents: PolyEvent[] = [];
    for (const p of ends.get(step) ?? []) {
      const i = active.indexOf(p);
      if (i < 0) {
        throw new PolyphonicSequenceError(`note of pitch ${p} ends at step ${step} but is not sounding`);
      }
      active.splice(i, 1);
    }
    for (const p of active) stepEvents.push({ type: EventType.CONTINUED_NOTE, pitch: p });
    for (const p of starts.get(step) ?? []) {
      active.push(p);
      stepEvents.push({ type: EventType.NEW_NOTE, pitch: p });
    }
    // Stable sort (ES2019+), pitch descending: for an equal pitch CONTINUED stays before NEW.
    stepEvents.sort((a, b) => b.pitch - a.pitch);
    for (const e of stepEvents) events.push(e);
    events.push(STEP_END);
  }
  events.push(END);
  return { events, stepsPerQuarter: spq, startStep };
}

export interface ToNoteSequenceOptions {
  velocity?: number;
  instrument?: number;
  program?: number;
  qpm?: number;
  /** Copied, and the notes appended to it; its first tempo must equal `qpm`. */
  baseNoteSequence?: NoteSequence;
}

/**
 * `to_sequence` (spec §1.3). The sequence must end with STEP_END, END (call `setLength` first),
 * otherwise notes stay open and this throws. A note lasts until the first step boundary at which its
 * pitch is not continued; with duplicate open pitches the oldest closes first.
 */
export function toNoteSequence(seq: PolyphonicSequence, opts: ToNoteSequenceOptions = {}): NoteSequence {
  const { velocity = 100, instrument = 0, program = 0, qpm = DEFAULT_QPM, baseNoteSequence } = opts;
  const secondsPerStep = 60.0 / qpm / seq.stepsPerQuarter;
  const sequenceStartTime = seq.startStep * secondsPerStep;

  let ns: NoteSequence;
  if (baseNoteSequence) {
    ns = cloneNoteSequence(baseNoteSequence);
    const baseQpm = ns.tempos[0]?.qpm;
    if (baseQpm !== qpm) {
      throw new PolyphonicSequenceError(
        `supplied QPM (${qpm}) does not match QPM of base_note_sequence (${baseQpm ?? "none"})`,
      );
    }
  } else {
    ns = createNoteSequence({ tempos: [{ time: 0, qpm }], ticksPerQuarter: STANDARD_PPQ });
  }

  const events = seq.events;
  let step = 0;
  // Lists, not sets: one pitch may be open several times.
  let open: { pitch: number; start: number }[] = [];
  let toEnd: number[] = [];
  for (let i = 0; i < events.length; i++) {
    const e = events[i];
    switch (e.type) {
      case EventType.START:
        break; // Ignored wherever it is (Magenta logs one not at index 0).
      case EventType.NEW_NOTE:
        open.push({ pitch: e.pitch, start: step });
        break;
      case EventType.CONTINUED_NOTE: {
        const j = toEnd.indexOf(e.pitch);
        if (j >= 0) toEnd.splice(j, 1); // A pitch that was not open is ignored.
        break;
      }
      case EventType.END:
      case EventType.STEP_END: {
        if (e.type === EventType.END && i < events.length - 1) break; // END before the end: ignored.
        const stillOpen: { pitch: number; start: number }[] = [];
        for (const o of open) {
          const j = toEnd.indexOf(o.pitch);
          if (j < 0) {
            stillOpen.push(o);
            continue;
          }
          toEnd.splice(j, 1);
          ns.notes.push(
            createNote({
              pitch: o.pitch,
              velocity,
              instrument,
              program,
              startTime: o.start * secondsPerStep + sequenceStartTime,
              endTime: step * secondsPerStep + sequenceStartTime,
            }),
          );
        }
        open = stillOpen;
        step++;
        toEnd = open.map((o) => o.pitch);
        break;
      }
      default:
        throw new PolyphonicSequenceError(`unknown event type: ${(e as PolyEvent).type}`);
    }
  }
  if (open.length > 0) {
    throw new PolyphonicSequenceError(
      "sequence ended, but not all pitches were ended: it is likely missing a STEP_END before the end " +
        "(call setLength first)",
    );
  }
  ns.totalTime = secondsPerStep * (step - 1) + sequenceStartTime;
  return ns;
}

/** Removes every trailing END (call before priming generation with a sequence). */
export function trimTrailingEndEvents(seq: PolyphonicSequence): PolyphonicSequence {
  let n = seq.events.length;
  while (n > 0 && seq.events[n - 1].type === EventType.END) n--;
  return { ...seq, events: seq.events.slice(0, n) };
}

/**
 * `set_length(steps)` (spec §1.5): drops trailing ENDs, ALWAYS appends one STEP_END (closing a partial
 * step, or adding an empty one), pads with STEP_ENDs or trims whole trailing steps, then appends END.
 */
export function setLength(seq: PolyphonicSequence, steps: number): PolyphonicSequence {
  if (!Number.isInteger(steps) || steps < 0) throw new PolyphonicSequenceError(`invalid length: ${steps}`);
  let events = [...trimTrailingEndEvents(seq).events, STEP_END];
  let n = 0;
  for (const e of events) if (e.type === EventType.STEP_END) n++;
  if (n < steps) {
    for (; n < steps; n++) events.push(STEP_END);
  } else if (n > steps) {
    // Magenta's _trim_steps: walk back over STEP_ENDs; keep everything up to the `steps`-th one. If the
    // walk reaches index 0 without finding it, the sequence becomes [START].
    const toTrim = n - steps;
    let trimmed = 0;
    for (let i = events.length - 1; i >= 0; i--) {
      if (events[i].type === EventType.STEP_END) {
        if (trimmed === toTrim) {
          events = events.slice(0, i + 1);
          break;
        }
        trimmed++;
      } else if (i === 0) {
        events = [START];
        break;
      }
    }
  }
  events.push(END);
  return { ...seq, events };
}

/** Appends events (returns a new sequence). */
export function appendEvents(seq: PolyphonicSequence, ...more: PolyEvent[]): PolyphonicSequence {
  return { ...seq, events: [...seq.events, ...more] };
}

/**
 * OneHotEventSequenceEncoderDecoder.encode as ids: inputs are events 0 … n-2, labels events 1 … n-1
 * (the model predicts the next event). Inputs are one-hot encoded on disk (see dataset/sequence_example).
 */
export function toTrainingExample(ids: readonly EventId[]): { inputs: EventId[]; labels: EventId[] } {
  if (ids.length < 2) return { inputs: [], labels: [] };
  return { inputs: ids.slice(0, -1), labels: ids.slice(1) };
}
