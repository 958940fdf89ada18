import { describe, expect, it } from "vitest";
import { ProtobufError } from "../src/errors.js";
import { noteSequenceFromJson, noteSequenceToJson } from "../src/io/notesequence_json.js";
import { createNote, createNoteSequence } from "../src/notesequence.js";

describe("NoteSequence JSON (Magenta.js shape)", () => {
  const ns = createNoteSequence({
    id: "/id/midi/x/1",
    ticksPerQuarter: 220,
    tempos: [{ time: 0, qpm: 120 }],
    timeSignatures: [{ time: 0, numerator: 3, denominator: 4 }],
    keySignatures: [{ time: 0.5, key: 9, mode: 1 }],
    notes: [
      createNote({ pitch: 60, velocity: 100, startTime: 0, endTime: 0.5, quantizedEndStep: 4 }),
      createNote({ pitch: 36, velocity: 90, startTime: 0.25, endTime: 1, isDrum: true, instrument: 1 }),
    ],
    totalTime: 1,
    totalQuantizedSteps: 8,
    quantizationInfo: { stepsPerQuarter: 4, stepsPerSecond: 0 },
    sourceInfo: { sourceType: 0, encodingType: 3, parser: 2 },
  });

  it("writes camelCase with defaults omitted, like protobuf.js toObject", () => {
    const j = noteSequenceToJson(ns);
    expect(j.notes).toEqual([
      { pitch: 60, velocity: 100, endTime: 0.5, quantizedEndStep: 4 },
      { pitch: 36, velocity: 90, startTime: 0.25, endTime: 1, isDrum: true, instrument: 1 },
    ]);
    expect(j.quantizationInfo).toEqual({ stepsPerQuarter: 4 });
    expect(j.tempos).toEqual([{ qpm: 120 }]);
    expect("pitchBends" in j).toBe(false);
    expect(JSON.parse(JSON.stringify(j))).toEqual(j);
  });

  it("round-trips", () => {
    expect(noteSequenceFromJson(JSON.parse(JSON.stringify(noteSequenceToJson(ns))))).toEqual(ns);
  });

  it("reads protobuf.js toJSON output: int64 as strings, enums as names", () => {
    const read = noteSequenceFromJson({
      notes: [{ pitch: 64, quantizedStartStep: "2", quantizedEndStep: "6" }],
      totalQuantizedSteps: "6",
      keySignatures: [{ key: "E_FLAT", mode: "MINOR" }],
      sourceInfo: { encodingType: "MIDI", parser: "PRETTY_MIDI" },
      quantizationInfo: { stepsPerQuarter: 4 },
    });
    expect(read.notes[0].quantizedEndStep).toBe(6);
    expect(read.totalQuantizedSteps).toBe(6);
    expect(read.keySignatures[0]).toEqual({ time: 0, key: 3, mode: 1 });
    expect(read.sourceInfo).toEqual({ sourceType: 0, encodingType: 3, parser: 2 });
  });

  it("refuses what is not a NoteSequence, saying where", () => {
    expect(() => noteSequenceFromJson([])).toThrow(ProtobufError);
    expect(() => noteSequenceFromJson({ notes: [{ pitch: "high" }] })).toThrow(
      'notes[0].pitch should be a number, got "high"',
    );
    expect(() => noteSequenceFromJson({ notes: {} })).toThrow("notes should be a list");
  });
});
