/**
 * Transposition: Magenta's note_sequence_pipelines_test.py TranspositionPipeline cases with test data
 * written here, plus the Polyphony RNN dataset's range(-4, 5).
 */
import { describe, expect, it } from "vitest";
import {
  createNote,
  createNoteSequence,
  type NoteSequence,
  TextAnnotationType,
} from "../src/notesequence.js";
import { transposeNoteSequence, transpositions } from "../src/pipeline/transpose.js";

type NoteTuple = [pitch: number, velocity: number, start: number, end: number];

function addTrack(ns: NoteSequence, instrument: number, notes: NoteTuple[], isDrum = false): void {
  for (const [pitch, velocity, startTime, endTime] of notes) {
    ns.notes.push(createNote({ pitch, velocity, startTime, endTime, instrument, isDrum }));
    if (endTime > ns.totalTime) ns.totalTime = endTime;
  }
}

function baseSequence(): NoteSequence {
  return createNoteSequence({
    timeSignatures: [{ time: 0, numerator: 4, denominator: 4 }],
    tempos: [{ time: 0, qpm: 60 }],
  });
}

/** Python's range(start, stop). */
function range(start: number, stop: number): number[] {
  return Array.from({ length: stop - start }, (_, i) => start + i);
}

describe("transpositions (Magenta's TranspositionPipeline)", () => {
  it("testTranspositionPipeline: drums are not shifted", () => {
    const ns = baseSequence();
    addTrack(ns, 0, [[12, 100, 1.0, 4.0]]);
    addTrack(ns, 1, [[36, 100, 2.0, 2.01]], true);
    const { outputs, stats } = transpositions(ns, range(0, 2));
    expect(outputs).toHaveLength(2);
    expect(outputs.map((o) => o.notes.map((n) => n.pitch))).toEqual([
      [12, 36],
      [13, 36],
    ]);
    expect(stats).toEqual({ transpositionsGenerated: 2, skippedDueToRangeExceeded: 0 });
  });

  it("testTranspositionPipelineOutOfRangeNotes: even amount 0 is dropped when out of range", () => {
    const ns = baseSequence();
    addTrack(ns, 0, [
      [10, 100, 1.0, 2.0],
      [12, 100, 2.0, 4.0],
      [13, 100, 4.0, 5.0],
    ]);
    const { outputs, stats } = transpositions(ns, range(-1, 2), 0, 12);
    expect(outputs).toHaveLength(1);
    expect(outputs[0].notes.map((n) => n.pitch)).toEqual([9, 11, 12]);
    expect(stats).toEqual({ transpositionsGenerated: 1, skippedDueToRangeExceeded: 2 });
  });

  it("range(-4, 5) near the top of the MIDI range: outputs in range order, one skip per dropped amount", () => {
    const ns = baseSequence();
    addTrack(ns, 0, [
      [125, 100, 0, 1],
      [60, 100, 0, 1],
      [124, 100, 1, 2],
    ]);
    const { outputs, stats } = transpositions(ns, range(-4, 5));
    expect(outputs.map((o) => o.notes[0].pitch - 125)).toEqual([-4, -3, -2, -1, 0, 1, 2]);
    expect(stats).toEqual({ transpositionsGenerated: 7, skippedDueToRangeExceeded: 2 });
    const low = baseSequence();
    addTrack(low, 0, [[2, 100, 0, 1]]);
    expect(transpositions(low, range(-4, 5)).outputs.map((o) => o.notes[0].pitch)).toEqual([
      0, 1, 2, 3, 4, 5, 6,
    ]);
  });

  it("drum notes never cause a drop, whatever their pitch", () => {
    const ns = baseSequence();
    addTrack(ns, 9, [[127, 100, 0, 1]], true);
    addTrack(ns, 0, [[60, 100, 0, 1]]);
    const { outputs } = transpositions(ns, range(-4, 5));
    expect(outputs).toHaveLength(9);
    expect(outputs.every((o) => o.notes[0].pitch === 127)).toBe(true);
  });

  it("leaves key signatures, pitch names and chord symbols as they were, with Magenta's warnings", () => {
    const ns = baseSequence();
    ns.keySignatures.push({ time: 0, key: 4, mode: 0 });
    ns.textAnnotations.push({
      time: 1,
      quantizedStep: 0,
      text: "E7",
      annotationType: TextAnnotationType.CHORD_SYMBOL,
    });
    ns.notes.push(createNote({ pitch: 64, velocity: 90, startTime: 0, endTime: 1, pitchName: 5 }));
    ns.totalTime = 1;
    const { outputs, warnings } = transpositions(ns, [1]);
    expect(outputs[0].notes[0]).toMatchObject({ pitch: 65, pitchName: 5 });
    expect(outputs[0].keySignatures).toEqual([{ time: 0, key: 4, mode: 0 }]);
    expect(outputs[0].textAnnotations[0].text).toBe("E7");
    expect(warnings).toEqual([
      "Key signatures ignored by TranspositionPipeline.",
      "Pitch names ignored by TranspositionPipeline.",
      "Chord symbols ignored by TranspositionPipeline.",
    ]);
    expect(transpositions(baseSequence(), [0]).warnings).toEqual([]);
  });
});

describe("transposeNoteSequence", () => {
  it("returns a shifted deep copy and leaves the input alone", () => {
    const ns = baseSequence();
    addTrack(ns, 0, [
      [60, 100, 0, 1],
      [64, 100, 0, 1],
    ]);
    const before = structuredClone(ns);
    const t = transposeNoteSequence(ns, -3);
    expect(t?.notes.map((n) => n.pitch)).toEqual([57, 61]);
    expect({ ...t, notes: [] }).toEqual({ ...before, notes: [] });
    expect(ns).toEqual(before);
    expect(transposeNoteSequence(ns, 0)).toEqual(before);
    expect(transposeNoteSequence(ns, 0)).not.toBe(ns);
  });

  it("is undefined when any non-drum note leaves [minPitch, maxPitch] (bounds inclusive)", () => {
    const ns = baseSequence();
    addTrack(ns, 0, [
      [21, 100, 0, 1],
      [108, 100, 0, 1],
    ]);
    expect(transposeNoteSequence(ns, 0, 21, 108)).toBeDefined();
    expect(transposeNoteSequence(ns, 1, 21, 108)).toBeUndefined();
    expect(transposeNoteSequence(ns, -1, 21, 108)).toBeUndefined();
    expect(transposeNoteSequence(ns, 19)).toBeDefined();
    expect(transposeNoteSequence(ns, 20)).toBeUndefined();
    expect(transposeNoteSequence(ns, -21)).toBeDefined();
    expect(transposeNoteSequence(ns, -22)).toBeUndefined();
  });
});
