import { describe, expect, it } from "vitest";
import {
  EventType,
  encodeIds,
  fromQuantizedSequence,
  numSteps,
  type PolyEvent,
  setLength,
  toNoteSequence,
} from "../src/events/codec.js";
import { createNote, createNoteSequence, type NoteSequence } from "../src/notesequence.js";
import {
  createHistogram,
  extractPolyphonicSequences,
  formatStatistic,
  type Histogram,
  incrementHistogram,
  mergeStatistics,
  TRACK_LENGTH_BUCKETS,
} from "../src/pipeline/extract.js";

/** Quantized NoteSequence from [pitch, startStep, endStep, program?]; total = last end unless given. */
function quantized(
  notes: [number, number, number, number?][],
  opts: { spq?: number; total?: number; timeSignature?: [number, number] } = {},
): NoteSequence {
  const [numerator, denominator] = opts.timeSignature ?? [4, 4];
  return createNoteSequence({
    quantizationInfo: { stepsPerQuarter: opts.spq ?? 1, stepsPerSecond: 0 },
    tempos: [{ time: 0, qpm: 60 }],
    timeSignatures: [{ time: 0, numerator, denominator }],
    totalQuantizedSteps: opts.total ?? Math.max(0, ...notes.map((n) => n[2])),
    notes: notes.map(([pitch, s, e, program = 0]) =>
      createNote({ pitch, velocity: 100, quantizedStartStep: s, quantizedEndStep: e, program }),
    ),
  });
}

/** Magenta's min/max_steps_discard=None. */
const NO_LIMITS = { minSteps: 0, maxSteps: Number.POSITIVE_INFINITY };

/** Histogram counts keyed by Magenta's bucket label, non-empty buckets only. */
function buckets(h: unknown): Record<string, number> {
  const hist = h as Histogram;
  const bounds = [Number.NEGATIVE_INFINITY, ...hist.buckets, Number.POSITIVE_INFINITY];
  const out: Record<string, number> = {};
  hist.counts.forEach((c, i) => {
    if (c) out[`[${bounds[i]},${bounds[i + 1]})`] = c;
  });
  return out;
}

describe("extractPolyphonicSequences (polyphony_lib_test.py)", () => {
  it("testExtractPolyphonicSequences", () => {
    let q = quantized([[60, 0, 4]]);
    expect(extractPolyphonicSequences(q, NO_LIMITS).sequences).toHaveLength(1);
    expect(extractPolyphonicSequences(q, { minSteps: 2, maxSteps: 5 }).sequences).toHaveLength(1);
    q = quantized([[60, 0, 1]]);
    expect(extractPolyphonicSequences(q, { minSteps: 3, maxSteps: 5 }).sequences).toHaveLength(0);
    q = quantized([[60, 0, 10]]);
    expect(extractPolyphonicSequences(q, { minSteps: 3, maxSteps: 5 }).sequences).toHaveLength(0);
  });

  it("testExtractPolyphonicMultiProgram", () => {
    const q = quantized([
      [60, 0, 4, 2],
      [64, 0, 3],
      [67, 1, 2],
    ]);
    const { sequences, stats } = extractPolyphonicSequences(q, NO_LIMITS);
    expect(sequences).toHaveLength(0);
    expect(stats.polyphonic_tracks_discarded_more_than_1_program).toBe(1);
  });

  it("testExtractNonZeroStart", () => {
    const q = quantized([[60, 0, 4]]);
    expect(extractPolyphonicSequences(q, { ...NO_LIMITS, startStep: 4, minSteps: 1 }).sequences).toHaveLength(
      0,
    );
    expect(extractPolyphonicSequences(q, { ...NO_LIMITS, startStep: 0, minSteps: 1 }).sequences).toHaveLength(
      1,
    );
  });

  it("returns the whole-sequence PolyphonicSequence, all instruments merged", () => {
    const q = quantized([
      [60, 0, 2],
      [48, 0, 4],
    ]);
    q.notes[1].instrument = 3;
    const [seq] = extractPolyphonicSequences(q, NO_LIMITS).sequences;
    expect(encodeIds(seq)).toEqual(encodeIds(fromQuantizedSequence(q)));
    expect(encodeIds(seq)).toEqual([0, 63, 51, 2, 191, 179, 2, 179, 2, 179, 2, 1]);
  });
});

describe("statistics: counters and the length histogram", () => {
  it("uses the dataset defaults min 80 / max 512 and Magenta's names, zeros included", () => {
    const { sequences, stats } = extractPolyphonicSequences(quantized([[60, 0, 4]], { spq: 4 }));
    expect(sequences).toHaveLength(0);
    expect(Object.keys(stats)).toEqual([
      "polyphonic_tracks_discarded_too_short",
      "polyphonic_tracks_discarded_too_long",
      "polyphonic_tracks_discarded_more_than_1_program",
      "polyphonic_track_lengths_in_bars",
    ]);
    expect(stats.polyphonic_tracks_discarded_too_short).toBe(1);
    expect(stats.polyphonic_tracks_discarded_too_long).toBe(0);
    expect((stats.polyphonic_track_lengths_in_bars as Histogram).buckets).toEqual(TRACK_LENGTH_BUCKETS);
    expect(buckets(stats.polyphonic_track_lengths_in_bars)).toEqual({});
  });

  it("counts by STEP_ENDs: 80 and 512 steps pass, 79 and 513 do not", () => {
    const at = (total: number) => extractPolyphonicSequences(quantized([[60, 0, 4]], { spq: 4, total }));
    expect(at(79).stats.polyphonic_tracks_discarded_too_short).toBe(1);
    expect(at(80).sequences).toHaveLength(1);
    expect(at(512).sequences).toHaveLength(1);
    expect(at(513).stats.polyphonic_tracks_discarded_too_long).toBe(1);
    expect(at(513).sequences).toHaveLength(0);
  });

  it("histogram value is num_steps // steps_per_bar of the time signature", () => {
    // 4/4 at 4 spq: 16 steps per bar; 100 steps → 6 bars → bucket [1,10).
    let { stats } = extractPolyphonicSequences(quantized([[60, 0, 4]], { spq: 4, total: 100 }));
    expect(buckets(stats.polyphonic_track_lengths_in_bars)).toEqual({ "[1,10)": 1 });
    // 3/4 at 4 spq: 12 steps per bar; 480 steps → 40 bars → bucket [40,50).
    ({ stats } = extractPolyphonicSequences(
      quantized([[60, 0, 4]], { spq: 4, total: 480, timeSignature: [3, 4] }),
    ));
    expect(buckets(stats.polyphonic_track_lengths_in_bars)).toEqual({ "[40,50)": 1 });
    // 6/8 at 4 spq: 12 steps per bar; 11 steps (no minimum) → 0 bars → bucket [0,1).
    ({ stats } = extractPolyphonicSequences(
      quantized([[60, 0, 4]], { spq: 4, total: 11, timeSignature: [6, 8] }),
      {
        minSteps: 0,
      },
    ));
    expect(buckets(stats.polyphonic_track_lengths_in_bars)).toEqual({ "[0,1)": 1 });
  });

  it("histogram buckets follow Magenta's bisect_right (lower bound inclusive; implicit -inf and +inf)", () => {
    const h = createHistogram([10, 0, 1, 1]);
    expect(h.buckets).toEqual([0, 1, 10]);
    for (const v of [-3, 0, 0.5, 1, 9.99, 10, 1e9]) incrementHistogram(h, v);
    expect(h.counts).toEqual([1, 2, 2, 2]);
    expect(formatStatistic("lengths", h)).toBe(
      "lengths:\n  [-inf,0): 1\n  [0,1): 2\n  [1,10): 2\n  [10,inf): 2",
    );
    expect(formatStatistic("count", 3)).toBe("count: 3");
  });

  it("mergeStatistics adds counters and histograms", () => {
    const a = extractPolyphonicSequences(quantized([[60, 0, 4]], { spq: 4, total: 100 })).stats;
    const b = extractPolyphonicSequences(quantized([[60, 0, 4]], { spq: 4, total: 10 })).stats;
    const c = extractPolyphonicSequences(quantized([[60, 0, 4]], { spq: 4, total: 200 })).stats;
    const total = mergeStatistics(mergeStatistics(mergeStatistics({}, a), b), c);
    expect(total.polyphonic_tracks_discarded_too_short).toBe(1);
    expect(buckets(total.polyphonic_track_lengths_in_bars)).toEqual({ "[1,10)": 1, "[10,20)": 1 });
    // the inputs are not changed
    expect(buckets(a.polyphonic_track_lengths_in_bars)).toEqual({ "[1,10)": 1 });
    expect(() => mergeStatistics({ x: 1 }, { x: createHistogram([0]) })).toThrow();
  });
});

describe("mergePrograms (polyrnn extension)", () => {
  const twoPrograms = quantized(
    [
      [60, 0, 4, 0],
      [48, 0, 8, 33],
    ],
    { total: 8 },
  );

  it("default: multi-program files are discarded, as Magenta does", () => {
    const { sequences, stats } = extractPolyphonicSequences(twoPrograms, NO_LIMITS);
    expect(sequences).toHaveLength(0);
    expect(stats.polyphonic_tracks_discarded_more_than_1_program).toBe(1);
    expect(stats.polyphonic_tracks_merged_programs).toBeUndefined();
  });

  it("merged: one stream with the notes of every program", () => {
    const { sequences, stats } = extractPolyphonicSequences(twoPrograms, {
      ...NO_LIMITS,
      mergePrograms: true,
    });
    expect(sequences).toHaveLength(1);
    expect(stats.polyphonic_tracks_discarded_more_than_1_program).toBe(0);
    expect(stats.polyphonic_tracks_merged_programs).toBe(1);
    const pitches = toNoteSequence(sequences[0]).notes.map((n) => n.pitch);
    expect(pitches.sort()).toEqual([48, 60]);
  });

  it("merged streams still obey the length limits", () => {
    const { sequences, stats } = extractPolyphonicSequences(twoPrograms, { mergePrograms: true });
    expect(sequences).toHaveLength(0);
    expect(stats.polyphonic_tracks_discarded_too_short).toBe(1);
  });
});

describe("splitLongTracks (polyrnn extension)", () => {
  // 200 steps; windows of 80: [0,80), [80,160), [160,200).
  // Pitch 60 sounds across the first window boundary, pitch 72 across the second.
  const long = quantized(
    [
      [60, 70, 90],
      [64, 0, 4],
      [72, 150, 170],
      [67, 195, 200],
    ],
    { total: 200 },
  );

  it("default: a too-long track is dropped whole", () => {
    const { sequences, stats } = extractPolyphonicSequences(long, { minSteps: 30, maxSteps: 80 });
    expect(sequences).toHaveLength(0);
    expect(stats.polyphonic_tracks_discarded_too_long).toBe(1);
    expect(stats.polyphonic_tracks_split).toBeUndefined();
  });

  it("cuts it into maxSteps windows, each a well-formed sequence", () => {
    const { sequences, stats } = extractPolyphonicSequences(long, {
      minSteps: 30,
      maxSteps: 80,
      splitLongTracks: true,
    });
    expect(sequences.map((s) => [s.startStep, numSteps(s)])).toEqual([
      [0, 80],
      [80, 80],
      [160, 40],
    ]);
    expect(stats.polyphonic_tracks_split).toBe(1);
    expect(stats.polyphonic_tracks_discarded_too_long).toBe(0);
    expect(stats.polyphonic_track_windows_discarded_too_short).toBe(0);
    // 4/4 at 1 step per quarter = 4 steps per bar: 80 steps → 20 bars, 40 steps → 10 bars.
    expect(buckets(stats.polyphonic_track_lengths_in_bars)).toEqual({ "[10,20)": 1, "[20,30)": 2 });
    for (const s of sequences) expect(s.events[0].type).toBe(EventType.START);
    // The piece goes on after the first two windows: they end with a STEP_END, not END (a model would
    // learn that music stops after 80 steps). The last window ends where the piece does.
    expect(sequences.map((s) => s.events.slice(-2).map((e) => e.type))).toEqual([
      [EventType.CONTINUED_NOTE, EventType.STEP_END],
      [EventType.CONTINUED_NOTE, EventType.STEP_END],
      [EventType.STEP_END, EventType.END],
    ]);
    // Nothing else is left out: with END put back, each window is the sequence of its own steps.
    for (const s of sequences.slice(0, 2)) {
      expect(s.events.filter((e) => e.type === EventType.END)).toHaveLength(0);
      expect(numSteps(setLength(s, numSteps(s)))).toBe(numSteps(s));
    }
  });

  it("a note sounding across a window start is re-struck as NEW_NOTE there", () => {
    const [first, second, third] = extractPolyphonicSequences(long, {
      minSteps: 30,
      maxSteps: 80,
      splitLongTracks: true,
    }).sequences;
    const NEW = (pitch: number): PolyEvent => ({ type: EventType.NEW_NOTE, pitch });
    const firstStep = (events: readonly PolyEvent[]) =>
      events.slice(
        1,
        events.findIndex((e) => e.type === EventType.STEP_END),
      );
    expect(firstStep(second.events)).toEqual([NEW(60)]);
    expect(firstStep(third.events)).toEqual([NEW(72)]);
    // Decoded with each window's startStep, the pieces line up with the original in absolute time.
    const notes = [first, second, third]
      .flatMap((s) => toNoteSequence(setLength(s, numSteps(s)), { qpm: 60 }).notes)
      .map((n) => [n.pitch, n.startTime, n.endTime])
      .sort((a, b) => a[1] - b[1] || a[0] - b[0]);
    expect(notes).toEqual([
      [64, 0, 4],
      [60, 70, 80],
      [60, 80, 90],
      [72, 150, 160],
      [72, 160, 170],
      [67, 195, 200],
    ]);
  });

  it("drops windows shorter than minSteps", () => {
    const { sequences, stats } = extractPolyphonicSequences(long, {
      minSteps: 50,
      maxSteps: 80,
      splitLongTracks: true,
    });
    expect(sequences.map((s) => s.startStep)).toEqual([0, 80]);
    expect(stats.polyphonic_track_windows_discarded_too_short).toBe(1);
    // The piece's end was in the dropped window, so no window kept has an END.
    expect(sequences.map((s) => s.events.at(-1)?.type)).toEqual([EventType.STEP_END, EventType.STEP_END]);
  });

  it("respects startStep: notes starting before it are skipped, not re-struck", () => {
    const q = quantized(
      [
        [60, 0, 30],
        [62, 10, 12],
      ],
      { total: 40 },
    );
    const { sequences } = extractPolyphonicSequences(q, {
      minSteps: 1,
      maxSteps: 15,
      startStep: 5,
      splitLongTracks: true,
    });
    expect(sequences.map((s) => [s.startStep, numSteps(s)])).toEqual([
      [5, 15],
      [20, 15],
      [35, 5],
    ]);
    const all = sequences.flatMap((s) =>
      toNoteSequence(setLength(s, numSteps(s)), { qpm: 60 }).notes.map((n) => n.pitch),
    );
    expect(all).toEqual([62]);
  });
});
