/**
 * Quantization: note_seq's sequences_lib_test.py cases (quantize_to_step, quantize_note_sequence and
 * its errors) with test data written here, plus polyrnn's quantizeNoteSequenceOnBeats.
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { PolyrnnError } from "../src/errors.js";
import {
  createNote,
  createNoteSequence,
  type NoteSequence,
  TextAnnotationType,
} from "../src/notesequence.js";
import {
  BadTempoError,
  BadTimeSignatureError,
  MultipleTempoError,
  MultipleTimeSignatureError,
  NegativeTimeError,
  quantizeNoteSequence,
  quantizeNoteSequenceOnBeats,
  quantizeToStep,
  stepsPerQuarterToStepsPerSecond,
} from "../src/pipeline/quantize.js";
import { splitNoteSequenceOnTimeChanges } from "../src/pipeline/split.js";

type NoteTuple = [pitch: number, velocity: number, start: number, end: number];

/** note_seq testing_lib.add_track_to_sequence. */
function addTrack(
  ns: NoteSequence,
  instrument: number,
  notes: NoteTuple[],
  isDrum = false,
  program = 0,
): void {
  for (const [pitch, velocity, startTime, endTime] of notes) {
    ns.notes.push(createNote({ pitch, velocity, startTime, endTime, instrument, isDrum, program }));
    if (endTime > ns.totalTime) ns.totalTime = endTime;
  }
}

/** note_seq testing_lib.add_quantized_steps_to_sequence. */
function addQuantizedSteps(ns: NoteSequence, steps: [number, number][]): void {
  expect(ns.notes.length).toBe(steps.length);
  ns.notes.forEach((note, i) => {
    note.quantizedStartStep = steps[i][0];
    note.quantizedEndStep = steps[i][1];
    if (steps[i][1] > ns.totalQuantizedSteps) ns.totalQuantizedSteps = steps[i][1];
  });
}

/** The sequences_lib_test setUp sequence: 4/4 and 60 qpm at t=0. */
function baseSequence(): NoteSequence {
  return createNoteSequence({
    timeSignatures: [{ time: 0, numerator: 4, denominator: 4 }],
    tempos: [{ time: 0, qpm: 60 }],
  });
}

const FIVE_NOTES: NoteTuple[] = [
  [12, 100, 0.01, 10.0],
  [11, 55, 0.22, 0.5],
  [40, 45, 2.5, 3.5],
  [55, 120, 4.0, 4.01],
  [52, 99, 4.75, 5.0],
];

function fiveNoteSequence(): NoteSequence {
  const ns = baseSequence();
  addTrack(ns, 0, FIVE_NOTES);
  return ns;
}

describe("quantizeToStep", () => {
  it("matches note_seq's testQuantizeToStep", () => {
    expect(quantizeToStep(8.0001, 4)).toBe(32);
    expect(quantizeToStep(8.4999, 4)).toBe(34);
    expect(quantizeToStep(8.4999, 4, 1.0)).toBe(33);
  });

  it("cutoff 0.5 rounds half up", () => {
    expect(quantizeToStep(0.0625, 8)).toBe(1); // 0.5 steps
    expect(quantizeToStep(0.06, 8)).toBe(0); // 0.48 steps
    expect(quantizeToStep(0.1875, 8)).toBe(2); // 1.5 steps
    expect(quantizeToStep(0.5, 8)).toBe(4);
  });

  it("cutoff 0 is floor + 1: an exact boundary 4.0 becomes 5", () => {
    expect(quantizeToStep(0.5, 8, 0)).toBe(5);
    expect(quantizeToStep(0.49, 8, 0)).toBe(4); // 3.92 steps
    expect(quantizeToStep(0, 8, 0)).toBe(1);
  });

  it("cutoff 1 is floor", () => {
    expect(quantizeToStep(0.5, 8, 1)).toBe(4);
    expect(quantizeToStep(0.12, 8, 1)).toBe(0); // 0.96 steps
    expect(quantizeToStep(0.1249, 8, 1)).toBe(0);
  });

  it("truncates toward zero like Python's int(), never returning -0", () => {
    expect(Object.is(quantizeToStep(-0.1, 8), 0)).toBe(true); // -0.8 + 0.5 = -0.3 → 0
    expect(quantizeToStep(-0.2, 8)).toBe(-1); // -1.6 + 0.5 = -1.1 → -1
  });

  it("does the same float additions as note_seq (x*sps + (1 - cutoff)), not Math.round", () => {
    // 0.49999999999999994 + 0.5 is exactly 1.0 in binary64, so Python's int(...) gives 1; Math.round gives 0.
    expect(quantizeToStep(0.49999999999999994, 1)).toBe(1);
    expect(Math.round(0.49999999999999994)).toBe(0);
  });

  it("throws on a non-finite step, where Python's int() raises", () => {
    expect(() => quantizeToStep(Number.NaN, 8)).toThrow(RangeError);
    expect(() => quantizeToStep(1, Number.POSITIVE_INFINITY)).toThrow(RangeError);
  });
});

describe("stepsPerQuarterToStepsPerSecond", () => {
  it("is spq * qpm / 60", () => {
    expect(stepsPerQuarterToStepsPerSecond(4, 60.0)).toBe(4.0);
    expect(stepsPerQuarterToStepsPerSecond(4, 120)).toBe(8);
  });
});

describe("quantizeNoteSequence (note_seq cases)", () => {
  it("testQuantizeNoteSequence: notes, chords and control changes", () => {
    const ns = fiveNoteSequence();
    ns.textAnnotations.push(
      { time: 0.22, quantizedStep: 0, text: "B7", annotationType: TextAnnotationType.CHORD_SYMBOL },
      { time: 4.0, quantizedStep: 0, text: "Em9", annotationType: TextAnnotationType.CHORD_SYMBOL },
    );
    for (const [time, controlValue] of [
      [2.0, 127],
      [4.0, 0],
    ]) {
      ns.controlChanges.push({
        time,
        quantizedStep: 0,
        controlNumber: 64,
        controlValue,
        instrument: 0,
        program: 0,
        isDrum: false,
      });
    }
    const before = structuredClone(ns);

    const expected = structuredClone(ns);
    expected.quantizationInfo = { stepsPerQuarter: 4, stepsPerSecond: 0 };
    addQuantizedSteps(expected, [
      [0, 40],
      [1, 2],
      [10, 14],
      [16, 17],
      [19, 20],
    ]);
    expected.textAnnotations[0].quantizedStep = 1;
    expected.textAnnotations[1].quantizedStep = 16;
    expected.controlChanges[0].quantizedStep = 8;
    expected.controlChanges[1].quantizedStep = 16;

    expect(quantizeNoteSequence(ns, 4)).toEqual(expected);
    expect(ns).toEqual(before); // deep copy; the input is untouched
  });

  it("testRounding", () => {
    const ns = baseSequence();
    addTrack(ns, 1, [
      [12, 100, 0.01, 0.24],
      [11, 100, 0.22, 0.55],
      [40, 100, 0.5, 0.75],
      [41, 100, 0.689, 1.18],
      [44, 100, 1.19, 1.69],
      [55, 100, 4.0, 4.01],
    ]);
    const expected = structuredClone(ns);
    expected.quantizationInfo = { stepsPerQuarter: 4, stepsPerSecond: 0 };
    addQuantizedSteps(expected, [
      [0, 1],
      [1, 2],
      [2, 3],
      [3, 5],
      [5, 7],
      [16, 17],
    ]);
    expect(quantizeNoteSequence(ns, 4)).toEqual(expected);
  });

  it("testMultiTrack", () => {
    const ns = baseSequence();
    addTrack(ns, 0, [
      [12, 100, 1.0, 4.0],
      [19, 100, 0.95, 3.0],
    ]);
    addTrack(ns, 3, [
      [12, 100, 1.0, 4.0],
      [19, 100, 2.0, 5.0],
    ]);
    addTrack(ns, 7, [
      [12, 100, 1.0, 5.0],
      [19, 100, 2.0, 4.0],
      [24, 100, 3.0, 3.5],
    ]);
    const q = quantizeNoteSequence(ns, 4);
    expect(q.notes.map((n) => [n.quantizedStartStep, n.quantizedEndStep])).toEqual([
      [4, 16],
      [4, 12],
      [4, 16],
      [8, 20],
      [4, 20],
      [8, 16],
      [12, 14],
    ]);
    expect(q.totalQuantizedSteps).toBe(20);
  });

  it("a note shorter than a step still lasts one step; totalQuantizedSteps grows to the last end", () => {
    const ns = baseSequence();
    addTrack(ns, 0, [[60, 100, 1.0, 1.01]]);
    ns.totalTime = 0.5; // shorter than the note: raised to its end step
    const q = quantizeNoteSequence(ns, 4);
    expect([q.notes[0].quantizedStartStep, q.notes[0].quantizedEndStep]).toEqual([4, 5]);
    expect(q.totalQuantizedSteps).toBe(5);
  });

  it("no time signature / tempo → 4/4 and 120 qpm at t=0", () => {
    const ns = createNoteSequence();
    addTrack(ns, 0, [[60, 100, 0.5, 1.0]]);
    const q = quantizeNoteSequence(ns, 4);
    expect(q.timeSignatures).toEqual([{ time: 0, numerator: 4, denominator: 4 }]);
    expect(q.tempos).toEqual([{ time: 0, qpm: 120 }]);
    expect([q.notes[0].quantizedStartStep, q.notes[0].quantizedEndStep]).toEqual([4, 8]);
    expect(q.quantizationInfo).toEqual({ stepsPerQuarter: 4, stepsPerSecond: 0 });
  });

  it("testQuantizeNoteSequence_TimeSignatureChange", () => {
    const ns = fiveNoteSequence();
    ns.timeSignatures = [];
    quantizeNoteSequence(ns, 4);
    ns.timeSignatures.push({ numerator: 4, denominator: 4, time: 0 });
    quantizeNoteSequence(ns, 4);
    // Multiple time signatures with no change: allowed, and only one (at 0) is kept.
    ns.timeSignatures.push({ numerator: 4, denominator: 4, time: 1 });
    expect(quantizeNoteSequence(ns, 4).timeSignatures).toEqual([{ numerator: 4, denominator: 4, time: 0 }]);
    ns.timeSignatures.push({ numerator: 2, denominator: 4, time: 2 });
    expect(() => quantizeNoteSequence(ns, 4)).toThrow(MultipleTimeSignatureError);
  });

  it("testQuantizeNoteSequence_ImplicitTimeSignatureChange", () => {
    const ns = fiveNoteSequence();
    ns.timeSignatures = [{ numerator: 2, denominator: 4, time: 2 }];
    expect(() => quantizeNoteSequence(ns, 4)).toThrow(MultipleTimeSignatureError);
    // 4/4 later than 0 is no change from the implicit 4/4: allowed, moved to 0.
    ns.timeSignatures = [{ numerator: 4, denominator: 4, time: 2 }];
    expect(quantizeNoteSequence(ns, 4).timeSignatures).toEqual([{ numerator: 4, denominator: 4, time: 0 }]);
  });

  it("testQuantizeNoteSequence_NoImplicitTimeSignatureChangeOutOfOrder", () => {
    const ns = fiveNoteSequence();
    ns.timeSignatures = [
      { numerator: 2, denominator: 4, time: 2 },
      { numerator: 2, denominator: 4, time: 0 },
    ];
    expect(quantizeNoteSequence(ns, 4).timeSignatures).toEqual([{ numerator: 2, denominator: 4, time: 0 }]);
  });

  it("mirrors note_seq's list-order quirk: later ones are compared with (and the kept one is) the first in the list", () => {
    const ns = fiveNoteSequence();
    // Earliest is 3/4 at 0, but the first in the list is 4/4 at 1; note_seq compares the later (in time)
    // ones with list[0] only, so this passes and keeps 4/4.
    ns.timeSignatures = [
      { numerator: 4, denominator: 4, time: 1 },
      { numerator: 3, denominator: 4, time: 0 },
    ];
    expect(quantizeNoteSequence(ns, 4).timeSignatures).toEqual([{ numerator: 4, denominator: 4, time: 0 }]);
  });

  it("BadTimeSignatureError for a non-power-of-2 denominator or a zero numerator", () => {
    const ns = fiveNoteSequence();
    for (const [numerator, denominator] of [
      [3, 3],
      [4, 0],
      [4, -4],
      [4, 12],
      [0, 4],
    ]) {
      ns.timeSignatures = [{ numerator, denominator, time: 0 }];
      expect(() => quantizeNoteSequence(ns, 4)).toThrow(BadTimeSignatureError);
    }
    for (const denominator of [1, 2, 8, 16, 32]) {
      ns.timeSignatures = [{ numerator: 3, denominator, time: 0 }];
      expect(() => quantizeNoteSequence(ns, 4)).not.toThrow();
    }
  });

  it("checks time signatures before tempos", () => {
    const ns = fiveNoteSequence();
    ns.timeSignatures.push({ numerator: 3, denominator: 4, time: 1 });
    ns.tempos.push({ qpm: 90, time: 1 });
    expect(() => quantizeNoteSequence(ns, 4)).toThrow(MultipleTimeSignatureError);
  });

  it("testFromNoteSequence_TempoChange", () => {
    const ns = fiveNoteSequence();
    ns.tempos = [];
    quantizeNoteSequence(ns, 4);
    ns.tempos.push({ qpm: 60, time: 0 });
    quantizeNoteSequence(ns, 4);
    ns.tempos.push({ qpm: 60, time: 1 });
    expect(quantizeNoteSequence(ns, 4).tempos).toEqual([{ qpm: 60, time: 0 }]);
    ns.tempos.push({ qpm: 120, time: 2 });
    expect(() => quantizeNoteSequence(ns, 4)).toThrow(MultipleTempoError);
  });

  it("testFromNoteSequence_ImplicitTempoChange, and the 120-qpm allowance", () => {
    const ns = fiveNoteSequence();
    ns.tempos = [{ qpm: 60, time: 2 }];
    expect(() => quantizeNoteSequence(ns, 4)).toThrow(MultipleTempoError);
    ns.tempos = [{ qpm: 120, time: 2 }];
    const q = quantizeNoteSequence(ns, 4);
    expect(q.tempos).toEqual([{ qpm: 120, time: 0 }]);
    expect(q.notes[0].quantizedEndStep).toBe(80); // 10 s at 8 steps/s
    ns.tempos.push({ qpm: 100, time: 3 });
    expect(() => quantizeNoteSequence(ns, 4)).toThrow(MultipleTempoError);
  });

  it("testFromNoteSequence_NoImplicitTempoChangeOutOfOrder", () => {
    const ns = fiveNoteSequence();
    ns.tempos = [
      { qpm: 60, time: 2 },
      { qpm: 60, time: 0 },
    ];
    expect(quantizeNoteSequence(ns, 4).tempos).toEqual([{ qpm: 60, time: 0 }]);
  });

  it("NegativeTimeError only when the truncated step is negative", () => {
    const ns = createNoteSequence();
    addTrack(ns, 0, [[60, 100, -0.1, 1.0]]); // -0.8 + 0.5 → int(-0.3) = 0: no error, as in Python
    expect(quantizeNoteSequence(ns, 4).notes[0].quantizedStartStep).toBe(0);
    ns.notes[0].startTime = -0.2;
    expect(() => quantizeNoteSequence(ns, 4)).toThrow(NegativeTimeError);
    const cc = createNoteSequence({
      controlChanges: [
        {
          time: -1,
          quantizedStep: 0,
          controlNumber: 64,
          controlValue: 0,
          instrument: 0,
          program: 0,
          isDrum: false,
        },
      ],
    });
    expect(() => quantizeNoteSequence(cc, 4)).toThrow(NegativeTimeError);
  });

  it("all errors are PolyrnnErrors with their own names", () => {
    const ns = fiveNoteSequence();
    ns.tempos.push({ qpm: 90, time: 1 });
    try {
      quantizeNoteSequence(ns, 4);
      expect.unreachable();
    } catch (e) {
      expect(e).toBeInstanceOf(PolyrnnError);
      expect((e as Error).name).toBe("MultipleTempoError");
      expect((e as Error).message).toBe(
        "NoteSequence has at least one tempo change from 60.0 qpm to 90.0 qpm at 1.00 seconds.",
      );
    }
  });
});

/** Deterministic PRNG (mulberry32) so that the jittery tempo map is the same on every run. */
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * An expressive performance in the style of piano-midi.de: notes on a regular 16th grid in score
 * time, rendered to seconds through a tempo map that changes every one to four 16ths.
 */
function jitteryPerformance(seed: number, sixteenths: number) {
  const rand = rng(seed);
  // Tempo changes at 16th positions (in quarters), each with a new qpm in [45, 160).
  const changes: { quarter: number; qpm: number }[] = [];
  for (let s = 0; s < sixteenths; s += 1 + Math.floor(rand() * 4)) {
    changes.push({ quarter: s / 4, qpm: Math.round((45 + rand() * 115) * 1000) / 1000 });
  }
  const secondsAtQuarter = (q: number): number => {
    let seconds = 0;
    for (let i = 0; i < changes.length && changes[i].quarter < q; i++) {
      const end = i + 1 < changes.length ? Math.min(changes[i + 1].quarter, q) : q;
      seconds += ((end - changes[i].quarter) * 60) / changes[i].qpm;
    }
    return seconds;
  };
  const ns = createNoteSequence({
    timeSignatures: [{ time: 0, numerator: 4, denominator: 4 }],
    tempos: changes.map((c) => ({ time: secondsAtQuarter(c.quarter), qpm: c.qpm })),
  });
  const grid: [number, number][] = [];
  for (let s = 0; s < sixteenths - 1; s += 1 + Math.floor(rand() * 2)) {
    const length = 1 + Math.floor(rand() * 8);
    const end = Math.min(s + length, sixteenths);
    const pitch = 48 + Math.floor(rand() * 36);
    ns.notes.push(
      createNote({
        pitch,
        velocity: 80,
        startTime: secondsAtQuarter(s / 4),
        endTime: secondsAtQuarter(end / 4),
      }),
    );
    grid.push([s, end]);
  }
  ns.totalTime = secondsAtQuarter(sixteenths / 4);
  return { ns, grid, changes, secondsAtQuarter };
}

describe("quantizeNoteSequenceOnBeats", () => {
  it("recovers the exact 16th grid from a tempo map that changes every one to four 16ths", () => {
    for (const seed of [1, 2, 3, 42]) {
      const { ns, grid, changes } = jitteryPerformance(seed, 256);
      expect(changes.length).toBeGreaterThan(60);
      const q = quantizeNoteSequenceOnBeats(ns, 4);
      expect(q.notes.map((n) => [n.quantizedStartStep, n.quantizedEndStep])).toEqual(grid);
      expect(q.totalQuantizedSteps).toBe(256);
      expect(q.tempos).toHaveLength(1);
      expect(q.tempos[0].time).toBe(0);
      // Seconds are the performance's, untouched.
      expect(q.notes.map((n) => [n.startTime, n.endTime])).toEqual(
        ns.notes.map((n) => [n.startTime, n.endTime]),
      );
      expect(q.totalTime).toBe(ns.totalTime);
    }
  });

  it("where Magenta's split-then-quantize path fragments the same performance", () => {
    const { ns } = jitteryPerformance(7, 256);
    expect(() => quantizeNoteSequence(ns, 4)).toThrow(MultipleTempoError);
    const pieces = splitNoteSequenceOnTimeChanges(ns);
    expect(pieces.length).toBeGreaterThan(60);
    const quantized = pieces.map((p) => quantizeNoteSequence(p, 4));
    // No piece is longer than four 16ths (plus rounding): far below the extractor's min_steps of 80.
    expect(Math.max(...quantized.map((p) => p.totalQuantizedSteps))).toBeLessThanOrEqual(5);
    // And every note crossing a tempo change is cut at it.
    const notesAfterSplit = quantized.reduce((sum, p) => sum + p.notes.length, 0);
    expect(notesAfterSplit).toBe(ns.notes.length);
    expect(
      quantized.flatMap((p) => p.notes).filter((n) => n.quantizedEndStep - n.quantizedStartStep > 4),
    ).toEqual([]);
    expect(
      quantizeNoteSequenceOnBeats(ns, 4).notes.some((n) => n.quantizedEndStep - n.quantizedStartStep > 4),
    ).toBe(true);
  });

  it("the single tempo is the mean tempo over [0, totalTime], rounded to 3 decimals", () => {
    const ns = createNoteSequence({
      tempos: [
        { time: 0, qpm: 60 },
        { time: 2, qpm: 120 },
      ],
    });
    addTrack(ns, 0, [
      [60, 100, 0, 2], // two quarters at 60
      [62, 100, 2, 4], // four quarters at 120
    ]);
    const q = quantizeNoteSequenceOnBeats(ns, 4);
    expect(q.tempos).toEqual([{ time: 0, qpm: 90 }]);
    expect(q.notes.map((n) => [n.quantizedStartStep, n.quantizedEndStep])).toEqual([
      [0, 8],
      [8, 24],
    ]);
    const odd = createNoteSequence({ tempos: [{ time: 0, qpm: 100 / 3 }], totalTime: 0 });
    expect(quantizeNoteSequenceOnBeats(odd, 4).tempos).toEqual([{ time: 0, qpm: 33.333 }]);
  });

  it("uses 120 qpm before the first tempo and sorts tempos by time", () => {
    const ns = createNoteSequence({
      tempos: [
        { time: 2, qpm: 30 }, // 0.5 quarter per second from t=2
        { time: 1, qpm: 60 }, // 1 quarter per second from t=1
      ],
    });
    addTrack(ns, 0, [[60, 100, 0.5, 4]]);
    // Quarters: t=0.5 → 1; t=4 → 2 (0..1 s at 120) + 1 (1..2 s at 60) + 1 (2..4 s at 30) = 4.
    const q = quantizeNoteSequenceOnBeats(ns, 4);
    expect([q.notes[0].quantizedStartStep, q.notes[0].quantizedEndStep]).toEqual([4, 16]);
  });

  it("is bit-for-bit quantizeNoteSequence when there is one tempo (property)", () => {
    fc.assert(
      fc.property(
        fc.array(
          fc.record({
            start: fc.double({ min: 0, max: 100, noNaN: true }),
            length: fc.double({ min: 0, max: 10, noNaN: true }),
          }),
          { maxLength: 20 },
        ),
        fc.constantFrom(40, 60, 72.5, 96, 120, 133.33, 200),
        fc.constantFrom(0, 0, 3.5),
        fc.integer({ min: 1, max: 3 }),
        fc.constantFrom(1, 2, 4, 12),
        (notes, qpm, tempoTime, restatements, spq) => {
          // A tempo later than 0 is only accepted by note_seq at 120 qpm.
          const time = qpm === 120 ? tempoTime : 0;
          const ns = createNoteSequence({
            tempos: Array.from({ length: restatements }, (_, i) => ({ time: time + i, qpm })),
          });
          for (const n of notes) {
            ns.notes.push(createNote({ pitch: 60, startTime: n.start, endTime: n.start + n.length }));
            ns.totalTime = Math.max(ns.totalTime, n.start + n.length);
          }
          const a = quantizeNoteSequence(ns, spq);
          const b = quantizeNoteSequenceOnBeats(ns, spq);
          expect(b.notes).toEqual(a.notes);
          expect(b.totalQuantizedSteps).toBe(a.totalQuantizedSteps);
          expect(b.tempos[0].qpm).toBeCloseTo(qpm, 3);
        },
      ),
      { numRuns: 300 },
    );
  });

  it("keeps the time-signature rules and errors", () => {
    const { ns } = jitteryPerformance(5, 64);
    const changed = structuredClone(ns);
    changed.timeSignatures.push({ time: 1.5, numerator: 3, denominator: 4 });
    expect(() => quantizeNoteSequenceOnBeats(changed, 4)).toThrow(MultipleTimeSignatureError);
    const implicit = structuredClone(ns);
    implicit.timeSignatures = [{ time: 1.5, numerator: 3, denominator: 4 }];
    expect(() => quantizeNoteSequenceOnBeats(implicit, 4)).toThrow(MultipleTimeSignatureError);
    const bad = structuredClone(ns);
    bad.timeSignatures = [{ time: 0, numerator: 3, denominator: 6 }];
    expect(() => quantizeNoteSequenceOnBeats(bad, 4)).toThrow(BadTimeSignatureError);
    const none = structuredClone(ns);
    none.timeSignatures = [];
    expect(quantizeNoteSequenceOnBeats(none, 4).timeSignatures).toEqual([
      { time: 0, numerator: 4, denominator: 4 },
    ]);
  });

  it("rejects a tempo that is not a finite positive qpm; negative times still throw NegativeTimeError", () => {
    for (const qpm of [0, -60, Number.POSITIVE_INFINITY, Number.NaN]) {
      const ns = createNoteSequence({ tempos: [{ time: 0, qpm }] });
      addTrack(ns, 0, [[60, 100, 0, 1]]);
      expect(() => quantizeNoteSequenceOnBeats(ns, 4)).toThrow(BadTempoError);
    }
    const ns = createNoteSequence({ tempos: [{ time: 0, qpm: 60 }] });
    addTrack(ns, 0, [[60, 100, -1, 1]]);
    expect(() => quantizeNoteSequenceOnBeats(ns, 4)).toThrow(NegativeTimeError);
  });

  it("quantizes control changes and text annotations on the same grid and leaves the input alone", () => {
    const { ns, secondsAtQuarter } = jitteryPerformance(11, 64);
    ns.controlChanges.push({
      time: secondsAtQuarter(2.25),
      quantizedStep: 0,
      controlNumber: 64,
      controlValue: 127,
      instrument: 0,
      program: 0,
      isDrum: false,
    });
    ns.textAnnotations.push({
      time: secondsAtQuarter(3),
      quantizedStep: 0,
      text: "C",
      annotationType: TextAnnotationType.CHORD_SYMBOL,
    });
    const before = structuredClone(ns);
    const q = quantizeNoteSequenceOnBeats(ns, 4);
    expect(q.controlChanges[0].quantizedStep).toBe(9);
    expect(q.textAnnotations[0].quantizedStep).toBe(12);
    expect(q.quantizationInfo).toEqual({ stepsPerQuarter: 4, stepsPerSecond: 0 });
    expect(ns).toEqual(before);
  });
});
