import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { PolyrnnError } from "../src/errors.js";
import {
  appendEvents,
  createPolyphonicSequence,
  DEFAULT_EVENT_ID,
  decodeIds,
  END,
  EventType,
  encodeIds,
  endStep,
  eventSteps,
  eventToId,
  eventToNumSteps,
  fromQuantizedSequence,
  idToEvent,
  NUM_CLASSES,
  numSteps,
  type PolyEvent,
  PolyphonicSequenceError,
  START,
  STEP_END,
  sequenceToString,
  setLength,
  toNoteSequence,
  toTrainingExample,
  trimTrailingEndEvents,
} from "../src/events/codec.js";
import { createNote, createNoteSequence, type Note, type NoteSequence } from "../src/notesequence.js";

const NEW = (pitch: number): PolyEvent => ({ type: EventType.NEW_NOTE, pitch });
const CONT = (pitch: number): PolyEvent => ({ type: EventType.CONTINUED_NOTE, pitch });

/** A quantized NoteSequence from [pitch, startStep, endStep, program?] (total = last end unless given). */
function quantized(
  notes: [number, number, number, number?][],
  opts: { spq?: number; total?: number } = {},
): NoteSequence {
  const total = opts.total ?? Math.max(0, ...notes.map((n) => n[2]));
  return createNoteSequence({
    quantizationInfo: { stepsPerQuarter: opts.spq ?? 1, stepsPerSecond: 0 },
    tempos: [{ time: 0, qpm: 60 }],
    timeSignatures: [{ time: 0, numerator: 4, denominator: 4 }],
    totalQuantizedSteps: total,
    notes: notes.map(([pitch, s, e, program = 0]) =>
      createNote({ pitch, velocity: 100, quantizedStartStep: s, quantizedEndStep: e, program }),
    ),
  });
}

/** The NoteSequence Magenta's tests compare against: qpm 60, ticks 220, notes (pitch, 100, start, end). */
function expectedSequence(notes: [number, number, number][], totalTime?: number): NoteSequence {
  return createNoteSequence({
    tempos: [{ time: 0, qpm: 60 }],
    ticksPerQuarter: 220,
    notes: notes.map(([pitch, startTime, endTime]) =>
      createNote({ pitch, velocity: 100, startTime, endTime }),
    ),
    totalTime: totalTime ?? Math.max(0, ...notes.map((n) => n[2])),
  });
}

const byStartPitch = (a: Note, b: Note) => a.startTime - b.startTime || a.pitch - b.pitch;
function sortNotes(ns: NoteSequence): NoteSequence {
  return { ...ns, notes: [...ns.notes].sort(byStartPitch) };
}

/** Magenta's `PolyphonicSequence(steps_per_quarter=1, start_step)` followed by `append`s. */
function built(events: PolyEvent[], startStep = 0): ReturnType<typeof createPolyphonicSequence> {
  return appendEvents(createPolyphonicSequence(1, startStep), ...events);
}

describe("vocabulary (polyphony_encoder_decoder_test.py)", () => {
  it("has 259 classes and STEP_END as the default label", () => {
    expect(NUM_CLASSES).toBe(259);
    expect(DEFAULT_EVENT_ID).toBe(2);
    expect(idToEvent(DEFAULT_EVENT_ID)).toEqual(STEP_END);
  });

  it("testEncodeDecode", () => {
    const cases: [PolyEvent, number][] = [
      [{ type: EventType.START, pitch: 0 }, 0],
      [{ type: EventType.STEP_END, pitch: 0 }, 2],
      [NEW(0), 3],
      [CONT(60), 191],
      [CONT(127), 258],
    ];
    for (const [event, index] of cases) {
      expect(eventToId(event)).toBe(index);
      expect(idToEvent(index)).toEqual(event);
    }
    expect(eventToId(END)).toBe(1);
    expect(eventToId(NEW(127))).toBe(130);
    expect(eventToId(CONT(0))).toBe(131);
  });

  it("testEventToNumSteps", () => {
    expect(eventToNumSteps(START)).toBe(0);
    expect(eventToNumSteps(END)).toBe(0);
    expect(eventToNumSteps(STEP_END)).toBe(1);
    expect(eventToNumSteps(NEW(60))).toBe(0);
    expect(eventToNumSteps(CONT(72))).toBe(0);
  });

  it("round-trips every id, and decodes pitch-less ids with pitch 0", () => {
    for (let id = 0; id < NUM_CLASSES; id++) {
      const e = idToEvent(id);
      expect(eventToId(e)).toBe(id);
      if (id < 3) expect(e.pitch).toBe(0);
    }
  });

  it("rejects bad ids and bad pitches", () => {
    for (const id of [-1, 259, 1.5, Number.NaN]) expect(() => idToEvent(id)).toThrow(PolyphonicSequenceError);
    expect(() => eventToId(NEW(128))).toThrow(PolyphonicSequenceError);
    expect(() => eventToId(CONT(-1))).toThrow(PolyphonicSequenceError);
    expect(() => eventToId({ type: 7 as EventType, pitch: 0 })).toThrow(PolyrnnError);
  });
});

describe("fromQuantizedSequence (spec §1.2)", () => {
  it("README example: C-major quarter chord at 4 steps per quarter", () => {
    const q = quantized(
      [
        [60, 0, 4],
        [64, 0, 4],
        [67, 0, 4],
      ],
      { spq: 4 },
    );
    const seq = fromQuantizedSequence(q);
    expect(seq.stepsPerQuarter).toBe(4);
    expect(encodeIds(seq)).toEqual([
      0, 70, 67, 63, 2, 198, 195, 191, 2, 198, 195, 191, 2, 198, 195, 191, 2, 1,
    ]);
  });

  it("testFromQuantizedNoteSequence", () => {
    const q = quantized([
      [60, 0, 4],
      [64, 0, 3],
      [67, 1, 2],
    ]);
    expect(fromQuantizedSequence(q).events).toEqual([
      START,
      NEW(64),
      NEW(60),
      STEP_END,
      NEW(67),
      CONT(64),
      CONT(60),
      STEP_END,
      CONT(64),
      CONT(60),
      STEP_END,
      CONT(60),
      STEP_END,
      END,
    ]);
  });

  it("a note re-struck at the step where the previous one ends gives only NEW_NOTE", () => {
    const q = quantized([
      [60, 0, 2],
      [60, 2, 3],
    ]);
    expect(fromQuantizedSequence(q).events).toEqual([
      START,
      NEW(60),
      STEP_END,
      CONT(60),
      STEP_END,
      NEW(60),
      STEP_END,
      END,
    ]);
  });

  it("overlapping same-pitch notes are kept as duplicates; CONTINUED precedes NEW at equal pitch", () => {
    const q = quantized([
      [60, 0, 3],
      [60, 1, 3],
      [62, 1, 2],
    ]);
    expect(fromQuantizedSequence(q).events).toEqual([
      START,
      NEW(60),
      STEP_END,
      NEW(62),
      CONT(60),
      NEW(60),
      STEP_END,
      CONT(60),
      CONT(60),
      STEP_END,
      END,
    ]);
  });

  it("encodes silence up to totalQuantizedSteps and skips notes before startStep", () => {
    const q = quantized(
      [
        [60, 0, 2],
        [62, 3, 4],
      ],
      { total: 6 },
    );
    expect(fromQuantizedSequence(q).events).toEqual([
      START,
      NEW(60),
      STEP_END,
      CONT(60),
      STEP_END,
      STEP_END,
      NEW(62),
      STEP_END,
      STEP_END,
      STEP_END,
      END,
    ]);
    const late = fromQuantizedSequence(q, 2);
    expect(late.startStep).toBe(2);
    expect(late.events).toEqual([START, STEP_END, NEW(62), STEP_END, STEP_END, STEP_END, END]);
    expect(numSteps(late)).toBe(4);
    expect(endStep(late)).toBe(6);
    expect(eventSteps(late)).toEqual([2, 2, 3, 3, 4, 5, 6]);
  });

  it("ignores velocity, instrument, program and drums", () => {
    const q = quantized([[36, 0, 1]]);
    q.notes[0] = { ...q.notes[0], velocity: 5, instrument: 9, isDrum: true };
    expect(encodeIds(fromQuantizedSequence(q))).toEqual([0, 39, 2, 1]);
  });

  it("rejects unquantized sequences and notes that end before they sound (Magenta's ValueError)", () => {
    expect(() => fromQuantizedSequence(createNoteSequence())).toThrow(PolyphonicSequenceError);
    expect(() => fromQuantizedSequence(quantized([[60, 1, 1]], { total: 3 }))).toThrow(/not sounding/);
    expect(() => fromQuantizedSequence(quantized([[128, 0, 1]]))).toThrow(/invalid pitch/);
  });
});

describe("toNoteSequence (spec §1.3, polyphony_lib_test.py)", () => {
  it("testToSequence", () => {
    const q = quantized([
      [60, 0, 4],
      [64, 0, 3],
      [67, 1, 2],
    ]);
    const ns = toNoteSequence(fromQuantizedSequence(q), { qpm: 60 });
    expect(sortNotes(ns)).toEqual(
      sortNotes(
        expectedSequence([
          [60, 0, 4],
          [64, 0, 3],
          [67, 1, 2],
        ]),
      ),
    );
  });

  it("testToSequenceWithContinuedNotesNotStarted", () => {
    const seq = built([NEW(60), NEW(64), STEP_END, CONT(60), CONT(64), CONT(67), STEP_END, END]);
    expect(sortNotes(toNoteSequence(seq, { qpm: 60 }))).toEqual(
      expectedSequence([
        [60, 0, 2],
        [64, 0, 2],
      ]),
    );
  });

  it("testToSequenceWithExtraEndEvents", () => {
    const seq = built([
      NEW(60),
      END,
      NEW(64),
      END,
      STEP_END,
      END,
      CONT(60),
      END,
      CONT(64),
      END,
      STEP_END,
      END,
    ]);
    expect(sortNotes(toNoteSequence(seq, { qpm: 60 }))).toEqual(
      expectedSequence([
        [60, 0, 2],
        [64, 0, 2],
      ]),
    );
  });

  it("testToSequenceWithUnfinishedSequence", () => {
    const seq = built([NEW(60), NEW(64)]);
    expect(() => toNoteSequence(seq, { qpm: 60 })).toThrow(PolyphonicSequenceError);
  });

  it("testToSequenceWithRepeatedNotes", () => {
    const seq = built([NEW(60), NEW(64), STEP_END, NEW(60), CONT(64), STEP_END, END]);
    expect(sortNotes(toNoteSequence(seq, { qpm: 60 }))).toEqual(
      sortNotes(
        expectedSequence([
          [60, 0, 1],
          [64, 0, 2],
          [60, 1, 2],
        ]),
      ),
    );
  });

  it("testToSequenceWithBaseNoteSequence", () => {
    const seq = built([NEW(60), NEW(64), STEP_END, CONT(60), CONT(64), STEP_END, END], 1);
    const base = expectedSequence([[60, 0, 1]]);
    const ns = toNoteSequence(seq, { qpm: 60, baseNoteSequence: base });
    expect(sortNotes(ns)).toEqual(
      sortNotes(
        expectedSequence([
          [60, 0, 1],
          [60, 1, 3],
          [64, 1, 3],
        ]),
      ),
    );
    expect(base.notes).toHaveLength(1); // the base is copied, not changed
    expect(() => toNoteSequence(seq, { qpm: 120, baseNoteSequence: base })).toThrow(/does not match/);
  });

  it("testToSequenceWithEmptySteps", () => {
    const seq = built([STEP_END, STEP_END, END]);
    expect(toNoteSequence(seq, { qpm: 60 })).toEqual(expectedSequence([], 2));
  });

  it("uses Magenta's defaults: velocity 100, program 0, qpm 120, 220 ticks per quarter", () => {
    const seq = fromQuantizedSequence(quantized([[60, 0, 4]], { spq: 4 }));
    const ns = toNoteSequence(seq);
    expect(ns.tempos).toEqual([{ time: 0, qpm: 120 }]);
    expect(ns.ticksPerQuarter).toBe(220);
    expect(ns.notes).toEqual([createNote({ pitch: 60, velocity: 100, startTime: 0, endTime: 0.5 })]);
    expect(ns.totalTime).toBe(0.5);
    const custom = toNoteSequence(seq, { velocity: 80, instrument: 2, program: 40 });
    expect(custom.notes[0]).toMatchObject({ velocity: 80, instrument: 2, program: 40 });
  });

  it("a sequence ending with STEP_END but no END counts the last step into total_time", () => {
    // total_time = (step - 1) steps: Magenta assumes a final END that would add one to the step counter,
    // so without it the last completed step is not counted.
    const seq = built([NEW(60), STEP_END, STEP_END]);
    const ns = toNoteSequence(seq, { qpm: 60 });
    expect(ns.notes.map((n) => [n.startTime, n.endTime])).toEqual([[0, 1]]);
    expect(ns.totalTime).toBe(1);
  });
});

describe("setLength, numSteps, trimTrailingEndEvents (spec §1.5)", () => {
  it("testSetLengthAddSteps", () => {
    let seq = setLength(createPolyphonicSequence(1), 5);
    expect(numSteps(seq)).toBe(5);
    expect(seq.events).toEqual([START, ...Array(5).fill(STEP_END), END]);
    seq = setLength(seq, 10);
    expect(numSteps(seq)).toBe(10);
    expect(seq.events).toEqual([START, ...Array(10).fill(STEP_END), END]);
  });

  it("testSetLengthAddStepsToSequenceWithoutEnd", () => {
    expect(setLength(built([STEP_END]), 2).events).toEqual([START, STEP_END, STEP_END, END]);
  });

  it("testSetLengthAddStepsToSequenceWithUnfinishedStep", () => {
    expect(setLength(built([NEW(60)]), 2).events).toEqual([START, NEW(60), STEP_END, STEP_END, END]);
  });

  it("always appends one STEP_END first: a complete sequence gains an empty step before padding/trimming", () => {
    // [START, NEW 60, STEP_END] has 1 step; set_length(1) appends STEP_END (2 steps) and trims back to 1.
    expect(setLength(built([NEW(60), STEP_END]), 1).events).toEqual([START, NEW(60), STEP_END, END]);
    expect(setLength(built([NEW(60), STEP_END, END]), 2).events).toEqual([
      START,
      NEW(60),
      STEP_END,
      STEP_END,
      END,
    ]);
  });

  it("testSetLengthRemoveSteps (down to 0 → [START, END])", () => {
    let seq = built([NEW(60), STEP_END, NEW(64), STEP_END, NEW(67), STEP_END, END]);
    seq = setLength(seq, 2);
    expect(seq.events).toEqual([START, NEW(60), STEP_END, NEW(64), STEP_END, END]);
    seq = setLength(seq, 1);
    expect(seq.events).toEqual([START, NEW(60), STEP_END, END]);
    seq = setLength(seq, 0);
    expect(seq.events).toEqual([START, END]);
  });

  it("testSetLengthRemoveStepsFromSequenceWithoutEnd", () => {
    expect(setLength(built([STEP_END, STEP_END]), 1).events).toEqual([START, STEP_END, END]);
  });

  it("testSetLengthRemoveStepsFromSequenceWithUnfinishedStep", () => {
    expect(setLength(built([STEP_END, NEW(60)]), 1).events).toEqual([START, STEP_END, END]);
  });

  it("does not modify its input", () => {
    const seq = built([NEW(60), STEP_END]);
    const before = [...seq.events];
    setLength(seq, 4);
    trimTrailingEndEvents(seq);
    expect(seq.events).toEqual(before);
  });

  it("testNumSteps and testNumStepsIncompleteStep", () => {
    const events = [START, NEW(60), NEW(64), STEP_END, CONT(60), CONT(64), STEP_END];
    expect(numSteps(built([...events, END]))).toBe(2);
    expect(numSteps(built([...events, NEW(72)]))).toBe(2);
  });

  it("testTrimTrailingEndEvents", () => {
    expect(trimTrailingEndEvents(built([NEW(60), STEP_END, END, END])).events).toEqual([
      START,
      NEW(60),
      STEP_END,
    ]);
  });

  it("set_length gives the requested number of steps for any sequence", () => {
    const eventArb = fc.integer({ min: 1, max: NUM_CLASSES - 1 }).map(idToEvent);
    fc.assert(
      fc.property(fc.array(eventArb, { maxLength: 40 }), fc.nat(30), (events, n) => {
        const seq = setLength(built(events), n);
        expect(numSteps(seq)).toBe(n);
        expect(seq.events[0]).toEqual(START);
        expect(seq.events.at(-1)).toEqual(END);
      }),
    );
  });
});

describe("ids and training examples", () => {
  it("decodeIds / encodeIds / sequenceToString", () => {
    const ids = [0, 70, 2, 198, 2, 1];
    const seq = decodeIds(ids, 4);
    expect(encodeIds(seq)).toEqual(ids);
    expect(sequenceToString(seq)).toBe("START\n(67, NEW)\n|||\n(67, CONTINUED)\n|||\nEND");
  });

  it("toTrainingExample shifts by one: inputs events[0..n-2], labels events[1..n-1]", () => {
    expect(toTrainingExample([0, 70, 2, 1])).toEqual({ inputs: [0, 70, 2], labels: [70, 2, 1] });
    expect(toTrainingExample([0])).toEqual({ inputs: [], labels: [] });
  });
});

describe("round trip quantized NoteSequence → events → NoteSequence (property)", () => {
  // Notes on a step grid with at most one program and no zero-length notes. Same-pitch notes never
  // overlap: Magenta's representation cannot tell two overlapping same-pitch notes apart from a
  // re-strike (the decoder closes the oldest first), so only non-overlapping ones round-trip exactly.
  // Touching same-pitch notes (one ends where the next starts) are allowed: that is a re-strike.
  const noteArb = fc.record({
    pitch: fc.integer({ min: 58, max: 66 }),
    start: fc.integer({ min: 0, max: 24 }),
    len: fc.integer({ min: 1, max: 8 }),
  });
  const scoreArb = fc
    .record({
      notes: fc.array(noteArb, { maxLength: 25 }),
      spq: fc.constantFrom(1, 2, 4),
      tail: fc.nat(4),
      program: fc.nat(127),
    })
    .map(({ notes, spq, tail, program }) => {
      const kept: { pitch: number; start: number; end: number }[] = [];
      for (const n of notes) {
        const end = n.start + n.len;
        const clash = kept.some((k) => k.pitch === n.pitch && n.start < k.end && k.start < end);
        if (!clash) kept.push({ pitch: n.pitch, start: n.start, end });
      }
      const q = quantized(
        kept.map((k) => [k.pitch, k.start, k.end, program]),
        { spq, total: Math.max(0, ...kept.map((k) => k.end)) + tail },
      );
      return { q, kept };
    });

  const key = (p: number, s: number, e: number) => `${p}:${s}:${e}`;

  it("gives back the same multiset of (pitch, start step, end step)", () => {
    fc.assert(
      fc.property(scoreArb, fc.nat(4), ({ q, kept }, startStep) => {
        const seq = fromQuantizedSequence(q, startStep);
        const ns = toNoteSequence(seq, { qpm: 60 });
        const sps = 1 / seq.stepsPerQuarter;
        const got = ns.notes.map((n) =>
          key(n.pitch, Math.round(n.startTime / sps), Math.round(n.endTime / sps)),
        );
        const want = kept.filter((k) => k.start >= startStep).map((k) => key(k.pitch, k.start, k.end));
        expect(got.sort()).toEqual(want.sort());
        expect(ns.totalTime).toBeCloseTo(Math.max(q.totalQuantizedSteps, startStep) * sps, 9);
        expect(numSteps(seq)).toBe(Math.max(0, q.totalQuantizedSteps - startStep));
      }),
      { numRuns: 300 },
    );
  });

  it("events survive id encoding, and each step lists pitches in descending order", () => {
    fc.assert(
      fc.property(scoreArb, ({ q }) => {
        const seq = fromQuantizedSequence(q);
        expect(decodeIds(encodeIds(seq), seq.stepsPerQuarter).events).toEqual(seq.events);
        let prev = Number.POSITIVE_INFINITY;
        for (const e of seq.events) {
          if (e.type === EventType.STEP_END) prev = Number.POSITIVE_INFINITY;
          else if (e.type === EventType.NEW_NOTE || e.type === EventType.CONTINUED_NOTE) {
            expect(e.pitch).toBeLessThanOrEqual(prev);
            prev = e.pitch;
          }
        }
      }),
    );
  });
});
