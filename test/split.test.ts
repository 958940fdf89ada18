/**
 * Splitting: note_seq's sequences_lib_test.py cases for trim_note_sequence, extract_subsequence(s),
 * split_note_sequence and split_note_sequence_on_time_changes, with test data written here.
 */
import { describe, expect, it } from "vitest";
import {
  type ControlChange,
  createNote,
  createNoteSequence,
  type NoteSequence,
  type TextAnnotation,
  TextAnnotationType,
} from "../src/notesequence.js";
import { QuantizationStatusError, quantizeNoteSequence } from "../src/pipeline/quantize.js";
import {
  extractSubsequence,
  extractSubsequences,
  splitNoteSequence,
  splitNoteSequenceOnTimeChanges,
  splitNoteSequenceOnTimeSignatureChanges,
  trimNoteSequence,
} from "../src/pipeline/split.js";

type NoteTuple = [pitch: number, velocity: number, start: number, end: number];

function addTrack(ns: NoteSequence, instrument: number, notes: NoteTuple[]): void {
  for (const [pitch, velocity, startTime, endTime] of notes) {
    ns.notes.push(createNote({ pitch, velocity, startTime, endTime, instrument }));
    if (endTime > ns.totalTime) ns.totalTime = endTime;
  }
}

function chord(text: string, time: number): TextAnnotation {
  return { time, quantizedStep: 0, text, annotationType: TextAnnotationType.CHORD_SYMBOL };
}

function addChords(ns: NoteSequence, chords: [string, number][]): void {
  for (const [text, time] of chords) ns.textAnnotations.push(chord(text, time));
}

function addBeats(ns: NoteSequence, beats: number[]): void {
  for (const time of beats) {
    ns.textAnnotations.push({ time, quantizedStep: 0, text: "", annotationType: TextAnnotationType.BEAT });
  }
}

function cc(instrument: number, time: number, controlNumber: number, controlValue: number): ControlChange {
  return { time, quantizedStep: 0, controlNumber, controlValue, instrument, program: 0, isDrum: false };
}

function addControlChanges(ns: NoteSequence, instrument: number, changes: [number, number, number][]): void {
  for (const [time, number, value] of changes) ns.controlChanges.push(cc(instrument, time, number, value));
}

/** A sequence with the given time signatures and tempos ([time, num, den] / [time, qpm]). */
function withTime(ts: [number, number, number][], tempos: [number, number][]): NoteSequence {
  return createNoteSequence({
    timeSignatures: ts.map(([time, numerator, denominator]) => ({ time, numerator, denominator })),
    tempos: tempos.map(([time, qpm]) => ({ time, qpm })),
  });
}

/** The sequences_lib_test setUp sequence: 4/4 and 60 qpm at t=0. */
function baseSequence(): NoteSequence {
  return withTime([[0, 4, 4]], [[0, 60]]);
}

const FIVE_NOTES: NoteTuple[] = [
  [12, 100, 0.01, 10.0],
  [11, 55, 0.22, 0.5],
  [40, 45, 2.5, 3.5],
  [55, 120, 4.0, 4.01],
  [52, 99, 4.75, 5.0],
];

/** Rounds every number (as note_seq's assertProtoEquals compares floats loosely: 4.01 - 2 vs 2.01). */
function rounded<T>(value: T): T {
  if (typeof value === "number") return (Math.round(value * 1e9) / 1e9 + 0) as T;
  if (Array.isArray(value)) return value.map(rounded) as T;
  if (value !== null && typeof value === "object") {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, rounded(v)])) as T;
  }
  return value;
}

function expectSequences(actual: NoteSequence[], expected: NoteSequence[]): void {
  expect(actual).toHaveLength(expected.length);
  expect(rounded(actual)).toEqual(rounded(expected));
}

function offsets(ns: NoteSequence, startTimeOffset: number, endTimeOffset: number): NoteSequence {
  ns.subsequenceInfo = { startTimeOffset, endTimeOffset };
  return ns;
}

describe("trimNoteSequence", () => {
  it("testTrimNoteSequence", () => {
    const ns = baseSequence();
    addTrack(ns, 0, FIVE_NOTES);
    const expected = baseSequence();
    addTrack(expected, 0, [
      [40, 45, 2.5, 3.5],
      [55, 120, 4.0, 4.01],
    ]);
    expected.totalTime = 4.75;
    expect(trimNoteSequence(ns, 2.5, 4.75)).toEqual(expected);
  });

  it("clips note ends at the end time and keeps totalTime when it is earlier", () => {
    const ns = baseSequence();
    addTrack(ns, 0, FIVE_NOTES);
    const t = trimNoteSequence(ns, 0, 3);
    expect(t.notes.map((n) => [n.pitch, n.startTime, n.endTime])).toEqual([
      [12, 0.01, 3],
      [11, 0.22, 0.5],
      [40, 2.5, 3],
    ]);
    expect(t.totalTime).toBe(3);
    expect(trimNoteSequence(ns, 0, 20).totalTime).toBe(10);
  });

  it("refuses a quantized sequence", () => {
    const ns = baseSequence();
    addTrack(ns, 0, FIVE_NOTES);
    expect(() => trimNoteSequence(quantizeNoteSequence(ns, 4), 0, 1)).toThrow(QuantizationStatusError);
  });
});

describe("extractSubsequence(s)", () => {
  it("testExtractSubsequence: notes, chords and sustain pedal state", () => {
    const ns = baseSequence();
    addTrack(ns, 0, FIVE_NOTES);
    addChords(ns, [
      ["C", 1.5],
      ["G7", 3.0],
      ["F", 4.8],
    ]);
    addControlChanges(ns, 0, [
      [0.0, 64, 127],
      [2.0, 64, 0],
      [4.0, 64, 127],
      [5.0, 64, 0],
    ]);
    addControlChanges(ns, 1, [[2.0, 64, 127]]);
    const before = structuredClone(ns);

    const expected = baseSequence();
    addTrack(expected, 0, [
      [40, 45, 0.0, 1.0],
      [55, 120, 1.5, 1.51],
    ]);
    addChords(expected, [
      ["C", 0.0],
      ["G7", 0.5],
    ]);
    addControlChanges(expected, 0, [
      [0.0, 64, 0],
      [1.5, 64, 127],
    ]);
    addControlChanges(expected, 1, [[0.0, 64, 127]]);
    expected.totalTime = 1.51;
    offsets(expected, 2.5, 5.99);

    const sub = extractSubsequence(ns, 2.5, 4.75);
    sub.controlChanges.sort((a, b) => a.instrument - b.instrument || a.time - b.time);
    expectSequences([sub], [expected]);
    expect(ns).toEqual(before);
  });

  it("testExtractSubsequencePastEnd and the other argument errors", () => {
    const ns = baseSequence();
    addTrack(ns, 0, FIVE_NOTES);
    addChords(ns, [
      ["C", 1.5],
      ["G7", 3.0],
      ["F", 18.0],
    ]);
    expect(() => extractSubsequence(ns, 15.0, 16.0)).toThrow(RangeError);
    expect(() => extractSubsequences(ns, [1])).toThrow(RangeError);
    expect(() => extractSubsequences(ns, [2, 1])).toThrow(RangeError);
    expect(() => extractSubsequences(quantizeNoteSequence(ns, 4), [0, 1])).toThrow(QuantizationStatusError);
  });

  it("testExtractSubsequencePedalEvents: sustain, sostenuto and una corda carried per instrument", () => {
    const ns = baseSequence();
    addTrack(ns, 0, [[60, 80, 2.5, 5.0]]);
    addControlChanges(ns, 0, [
      [0.0, 64, 127],
      [2.0, 64, 0],
      [4.0, 64, 127],
      [5.0, 64, 0],
    ]);
    addControlChanges(ns, 1, [[2.0, 64, 127]]);
    addControlChanges(ns, 0, [
      [0.0, 66, 0],
      [2.0, 66, 127],
      [4.0, 66, 0],
      [5.0, 66, 127],
    ]);
    addControlChanges(ns, 0, [
      [0.0, 67, 10],
      [2.0, 67, 20],
      [4.0, 67, 30],
      [5.0, 67, 40],
    ]);
    // A control change that is not a pedal, and pitch bends: dropped.
    addControlChanges(ns, 0, [[3.0, 7, 100]]);
    ns.pitchBends.push({ time: 3.0, bend: 100, instrument: 0, program: 0, isDrum: false });

    const expected = baseSequence();
    addTrack(expected, 0, [[60, 80, 0, 2.25]]);
    addControlChanges(expected, 0, [
      [0.0, 64, 0],
      [1.5, 64, 127],
    ]);
    addControlChanges(expected, 1, [[0.0, 64, 127]]);
    addControlChanges(expected, 0, [
      [0.0, 66, 127],
      [1.5, 66, 0],
    ]);
    addControlChanges(expected, 0, [
      [0.0, 67, 20],
      [1.5, 67, 30],
    ]);
    const order = (a: ControlChange, b: ControlChange) =>
      a.instrument - b.instrument || a.controlNumber - b.controlNumber || a.time - b.time;
    expected.controlChanges.sort(order);
    expected.totalTime = 2.25;
    offsets(expected, 2.5, 0.25);

    const sub = extractSubsequence(ns, 2.5, 4.75);
    sub.controlChanges.sort(order);
    expectSequences([sub], [expected]);
  });

  it("carries pedal state in first-seen (instrument, control) order, like a Python dict", () => {
    const ns = baseSequence();
    addTrack(ns, 0, [[60, 80, 0, 5.0]]);
    addControlChanges(ns, 1, [[0.5, 64, 127]]);
    addControlChanges(ns, 0, [
      [1.0, 67, 5],
      [1.5, 64, 100],
      [1.7, 67, 6],
    ]);
    const pieces = extractSubsequences(ns, [0, 2, 4]);
    expect(
      pieces[1].controlChanges.map((c) => [c.instrument, c.controlNumber, c.controlValue, c.time]),
    ).toEqual([
      [1, 64, 127, 0],
      [0, 67, 6, 0],
      [0, 64, 100, 0],
    ]);
  });
});

describe("splitNoteSequence", () => {
  function sequenceWithChords(): NoteSequence {
    const ns = baseSequence();
    addTrack(ns, 0, [
      [12, 100, 0.01, 8.0],
      [11, 55, 0.22, 0.5],
      [40, 45, 2.5, 3.5],
      [55, 120, 4.0, 4.01],
      [52, 99, 4.75, 5.0],
    ]);
    addChords(ns, [
      ["C", 1.0],
      ["G7", 2.0],
      ["F", 4.0],
    ]);
    return ns;
  }

  it("testSplitNoteSequenceWithHopSize", () => {
    const e1 = baseSequence();
    addTrack(e1, 0, [
      [12, 100, 0.01, 3.0],
      [11, 55, 0.22, 0.5],
      [40, 45, 2.5, 3.0],
    ]);
    addChords(e1, [
      ["C", 1.0],
      ["G7", 2.0],
    ]);
    e1.totalTime = 3.0;
    offsets(e1, 0, 5.0);
    const e2 = baseSequence();
    addTrack(e2, 0, [
      [55, 120, 1.0, 1.01],
      [52, 99, 1.75, 2.0],
    ]);
    addChords(e2, [
      ["G7", 0.0],
      ["F", 1.0],
    ]);
    e2.totalTime = 2.0;
    offsets(e2, 3.0, 3.0);
    const e3 = baseSequence();
    addChords(e3, [["F", 0.0]]);
    e3.totalTime = 0.0;
    offsets(e3, 6.0, 2.0);
    expectSequences(splitNoteSequence(sequenceWithChords(), 3.0), [e1, e2, e3]);
  });

  it("testSplitNoteSequenceAtTimes", () => {
    const e1 = baseSequence();
    addTrack(e1, 0, [
      [12, 100, 0.01, 3.0],
      [11, 55, 0.22, 0.5],
      [40, 45, 2.5, 3.0],
    ]);
    addChords(e1, [
      ["C", 1.0],
      ["G7", 2.0],
    ]);
    e1.totalTime = 3.0;
    offsets(e1, 0, 5.0);
    const e2 = baseSequence();
    addChords(e2, [["G7", 0.0]]);
    e2.totalTime = 0.0;
    offsets(e2, 3.0, 5.0);
    const e3 = baseSequence();
    addTrack(e3, 0, [
      [55, 120, 0.0, 0.01],
      [52, 99, 0.75, 1.0],
    ]);
    addChords(e3, [["F", 0.0]]);
    e3.totalTime = 1.0;
    offsets(e3, 4.0, 3.0);
    expectSequences(splitNoteSequence(sequenceWithChords(), [4.0, 3.0]), [e1, e2, e3]);
  });

  it("testSplitNoteSequenceSkipSplitsInsideNotes", () => {
    const ns = baseSequence();
    addTrack(ns, 0, [
      [12, 100, 0.01, 3.0],
      [11, 55, 0.22, 0.5],
      [40, 45, 2.5, 3.5],
      [55, 120, 4.0, 4.01],
      [52, 99, 4.75, 5.0],
    ]);
    addChords(ns, [
      ["C", 0.0],
      ["G7", 3.0],
      ["F", 4.5],
    ]);
    const e1 = baseSequence();
    addTrack(e1, 0, [
      [12, 100, 0.01, 3.0],
      [11, 55, 0.22, 0.5],
      [40, 45, 2.5, 3.5],
    ]);
    addChords(e1, [
      ["C", 0.0],
      ["G7", 3.0],
    ]);
    e1.totalTime = 3.5;
    offsets(e1, 0, 1.5);
    const e2 = baseSequence();
    addTrack(e2, 0, [
      [55, 120, 0.0, 0.01],
      [52, 99, 0.75, 1.0],
    ]);
    addChords(e2, [
      ["G7", 0.0],
      ["F", 0.5],
    ]);
    e2.totalTime = 1.0;
    offsets(e2, 4.0, 0);
    expectSequences(splitNoteSequence(ns, 2.0, true), [e1, e2]);
  });

  it("testSplitNoteSequenceWithStatelessEvents: beats stay in their piece", () => {
    const ns = baseSequence();
    addTrack(ns, 0, [
      [12, 100, 0.01, 8.0],
      [11, 55, 0.22, 0.5],
      [40, 45, 2.5, 3.5],
      [55, 120, 4.0, 4.01],
      [52, 99, 4.75, 5.0],
    ]);
    addBeats(ns, [1.0, 2.0, 4.0]);
    const e1 = baseSequence();
    addTrack(e1, 0, [
      [12, 100, 0.01, 3.0],
      [11, 55, 0.22, 0.5],
      [40, 45, 2.5, 3.0],
    ]);
    addBeats(e1, [1.0, 2.0]);
    e1.totalTime = 3.0;
    offsets(e1, 0, 5.0);
    const e2 = baseSequence();
    e2.totalTime = 0.0;
    offsets(e2, 3.0, 5.0);
    const e3 = baseSequence();
    addTrack(e3, 0, [
      [55, 120, 0.0, 0.01],
      [52, 99, 0.75, 1.0],
    ]);
    addBeats(e3, [0.0]);
    e3.totalTime = 1.0;
    offsets(e3, 4.0, 3.0);
    expectSequences(splitNoteSequence(ns, [3.0, 4.0]), [e1, e2, e3]);
  });

  it("uses numpy.arange's split times (0.1 hop: 0.30000000000000004, …)", () => {
    const ns = createNoteSequence();
    addTrack(ns, 0, [[60, 100, 0, 0.55]]);
    const pieces = splitNoteSequence(ns, 0.1);
    expect(pieces.map((p) => p.subsequenceInfo?.startTimeOffset)).toEqual([
      0, 0.1, 0.2, 0.30000000000000004, 0.4, 0.5,
    ]);
  });
});

describe("splitNoteSequenceOnTimeChanges", () => {
  function fiveNotesWithChords(ns: NoteSequence, notes: NoteTuple[] = FIVE_NOTES): NoteSequence {
    addTrack(ns, 0, notes);
    addChords(ns, [
      ["C", 1.5],
      ["G7", 3.0],
      ["F", 4.8],
    ]);
    return ns;
  }

  it("testSplitNoteSequenceNoTimeChanges: one piece, the whole sequence", () => {
    const ns = fiveNotesWithChords(baseSequence());
    const expected = offsets(structuredClone(ns), 0, 0);
    expectSequences(splitNoteSequenceOnTimeChanges(ns), [expected]);
  });

  it("testSplitNoteSequenceDuplicateTimeChanges: a restated time signature does not split", () => {
    const ns = fiveNotesWithChords(
      withTime(
        [
          [0, 4, 4],
          [2.0, 4, 4],
        ],
        [[0, 60]],
      ),
    );
    const expected = offsets(structuredClone(ns), 0, 0);
    expectSequences(splitNoteSequenceOnTimeChanges(ns), [expected]);
  });

  it("testSplitNoteSequenceCoincidentTimeChanges: one split for two changes at the same time", () => {
    const ns = fiveNotesWithChords(
      withTime(
        [
          [0, 4, 4],
          [2.0, 3, 4],
        ],
        [
          [0, 60],
          [2.0, 80],
        ],
      ),
    );
    const e1 = withTime([[0, 4, 4]], [[0, 60]]);
    addTrack(e1, 0, [
      [12, 100, 0.01, 2.0],
      [11, 55, 0.22, 0.5],
    ]);
    addChords(e1, [["C", 1.5]]);
    e1.totalTime = 2.0;
    offsets(e1, 0, 8.0);
    const e2 = withTime([[0, 3, 4]], [[0, 80]]);
    addTrack(e2, 0, [
      [40, 45, 0.5, 1.5],
      [55, 120, 2.0, 2.01],
      [52, 99, 2.75, 3.0],
    ]);
    addChords(e2, [
      ["C", 0.0],
      ["G7", 1.0],
      ["F", 2.8],
    ]);
    e2.totalTime = 3.0;
    offsets(e2, 2.0, 5.0);
    expectSequences(splitNoteSequenceOnTimeChanges(ns), [e1, e2]);
  });

  it("testSplitNoteSequenceMultipleTimeChanges: notes cut at each change", () => {
    const ns = fiveNotesWithChords(
      withTime(
        [
          [0, 4, 4],
          [2.0, 3, 4],
        ],
        [
          [0, 60],
          [4.25, 80],
        ],
      ),
    );
    const e1 = withTime([[0, 4, 4]], [[0, 60]]);
    addTrack(e1, 0, [
      [12, 100, 0.01, 2.0],
      [11, 55, 0.22, 0.5],
    ]);
    addChords(e1, [["C", 1.5]]);
    e1.totalTime = 2.0;
    offsets(e1, 0, 8.0);
    const e2 = withTime([[0, 3, 4]], [[0, 60]]);
    addTrack(e2, 0, [
      [40, 45, 0.5, 1.5],
      [55, 120, 2.0, 2.01],
    ]);
    addChords(e2, [
      ["C", 0.0],
      ["G7", 1.0],
    ]);
    e2.totalTime = 2.01;
    offsets(e2, 2.0, 5.99);
    const e3 = withTime([[0, 3, 4]], [[0, 80]]);
    addTrack(e3, 0, [[52, 99, 0.5, 0.75]]);
    addChords(e3, [
      ["G7", 0.0],
      ["F", 0.55],
    ]);
    e3.totalTime = 0.75;
    offsets(e3, 4.25, 5.0);
    expectSequences(splitNoteSequenceOnTimeChanges(ns), [e1, e2, e3]);
  });

  it("testSplitNoteSequenceMultipleTimeChangesSkipSplitsInsideNotes", () => {
    const ns = fiveNotesWithChords(
      withTime(
        [
          [0, 4, 4],
          [2.0, 3, 4],
        ],
        [
          [0, 60],
          [4.25, 80],
        ],
      ),
      [
        [12, 100, 0.01, 3.0],
        [11, 55, 0.22, 0.5],
        [40, 45, 2.5, 3.5],
        [55, 120, 4.0, 4.01],
        [52, 99, 4.75, 5.0],
      ],
    );
    const e1 = withTime(
      [
        [0, 4, 4],
        [2.0, 3, 4],
      ],
      [[0, 60]],
    );
    addTrack(e1, 0, [
      [12, 100, 0.01, 3.0],
      [11, 55, 0.22, 0.5],
      [40, 45, 2.5, 3.5],
      [55, 120, 4.0, 4.01],
    ]);
    addChords(e1, [
      ["C", 1.5],
      ["G7", 3.0],
    ]);
    e1.totalTime = 4.01;
    offsets(e1, 0, 0.99);
    const e2 = withTime([[0, 3, 4]], [[0, 80]]);
    addTrack(e2, 0, [[52, 99, 0.5, 0.75]]);
    addChords(e2, [
      ["G7", 0.0],
      ["F", 0.55],
    ]);
    e2.totalTime = 0.75;
    offsets(e2, 4.25, 0);
    expectSequences(splitNoteSequenceOnTimeChanges(ns, true), [e1, e2]);
  });

  it("note_sequence_pipelines_test testTimeChangeSplitter: implicit 4/4 → 3/4 at 2 s splits", () => {
    const ns = withTime([[2.0, 3, 4]], [[0, 60]]);
    addTrack(ns, 0, FIVE_NOTES);
    const pieces = splitNoteSequenceOnTimeChanges(ns);
    expect(pieces.map((p) => p.subsequenceInfo?.startTimeOffset)).toEqual([0, 2]);
    // The first piece has no time signature at all (none was in force before 2 s).
    expect(pieces[0].timeSignatures).toEqual([]);
    expect(pieces[1].timeSignatures).toEqual([{ time: 0, numerator: 3, denominator: 4 }]);
    expect(pieces[0].tempos).toEqual([{ time: 0, qpm: 60 }]);
    expect(pieces[1].tempos).toEqual([{ time: 0, qpm: 60 }]);
  });

  it("every piece quantizes without a time-change error, and an explicit 120 qpm at 0 is no change", () => {
    const ns = withTime(
      [
        [0, 4, 4],
        [3, 3, 4],
        [6, 6, 8],
      ],
      [
        [0, 120],
        [1.5, 90],
        [4.5, 90],
        [7, 140],
      ],
    );
    addTrack(ns, 0, FIVE_NOTES);
    const pieces = splitNoteSequenceOnTimeChanges(ns);
    expect(pieces.map((p) => p.subsequenceInfo?.startTimeOffset)).toEqual([0, 1.5, 3, 6, 7]);
    for (const piece of pieces) expect(() => quantizeNoteSequence(piece, 4)).not.toThrow();
  });

  it("ignores changes at or after totalTime; totalTime 0 gives no pieces", () => {
    const ns = withTime(
      [[0, 4, 4]],
      [
        [0, 60],
        [10, 90],
        [12, 100],
      ],
    );
    addTrack(ns, 0, FIVE_NOTES); // totalTime 10
    expect(splitNoteSequenceOnTimeChanges(ns)).toHaveLength(1);
    expect(splitNoteSequenceOnTimeChanges(baseSequence())).toEqual([]);
  });

  it("keeps other fields and carries key signatures like the other state events", () => {
    const ns = fiveNotesWithChords(
      withTime(
        [[0, 4, 4]],
        [
          [0, 60],
          [3, 100],
        ],
      ),
    );
    ns.id = "/id/midi/x/1";
    ns.filename = "x.mid";
    ns.ticksPerQuarter = 480;
    ns.keySignatures = [
      { time: 0, key: 2, mode: 0 },
      { time: 4, key: 9, mode: 1 },
    ];
    const [a, b] = splitNoteSequenceOnTimeChanges(ns);
    for (const p of [a, b])
      expect([p.id, p.filename, p.ticksPerQuarter]).toEqual(["/id/midi/x/1", "x.mid", 480]);
    expect(a.keySignatures).toEqual([{ time: 0, key: 2, mode: 0 }]);
    expect(b.keySignatures).toEqual([
      { time: 0, key: 2, mode: 0 },
      { time: 1, key: 9, mode: 1 },
    ]);
  });
});

describe("splitNoteSequenceOnTimeSignatureChanges", () => {
  it("splits on time signatures only and keeps the tempo map in each piece", () => {
    const ns = withTime(
      [
        [0, 4, 4],
        [3, 3, 4],
      ],
      [
        [0, 60],
        [1, 90],
        [4, 100],
      ],
    );
    addTrack(ns, 0, FIVE_NOTES);
    const pieces = splitNoteSequenceOnTimeSignatureChanges(ns);
    expect(pieces.map((p) => p.subsequenceInfo?.startTimeOffset)).toEqual([0, 3]);
    expect(pieces[0].tempos).toEqual([
      { time: 0, qpm: 60 },
      { time: 1, qpm: 90 },
    ]);
    expect(pieces[1].tempos).toEqual([
      { time: 0, qpm: 90 },
      { time: 1, qpm: 100 },
    ]);
  });
});
