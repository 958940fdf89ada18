/**
 * MusicXML's names shared by the reader (musicxml.ts) and the writer (musicxml_write.ts): note types,
 * pitch steps and modes. Pure data, no imports beyond NoteSequence's enums, so the writer stays
 * browser-safe (the reader needs fflate and saxes).
 */
import { KeyMode } from "../notesequence.js";

/** Whole-note fractions of the MusicXML note types. */
export const TYPE_WHOLE_NOTES: Record<string, number> = {
  maxima: 8,
  long: 4,
  breve: 2,
  whole: 1,
  half: 1 / 2,
  quarter: 1 / 4,
  eighth: 1 / 8,
  "16th": 1 / 16,
  "32nd": 1 / 32,
  "64th": 1 / 64,
  "128th": 1 / 128,
  "256th": 1 / 256,
  "512th": 1 / 512,
  "1024th": 1 / 1024,
};

export const STEP_PITCH_CLASS: Record<string, number> = { C: 0, D: 2, E: 4, F: 5, G: 7, A: 9, B: 11 };

/** Mode → (KeyMode, semitones from the major tonic of the key signature to this mode's tonic). */
export const MODES: Record<string, [number, number]> = {
  major: [KeyMode.MAJOR, 0],
  ionian: [KeyMode.MAJOR, 0],
  minor: [KeyMode.MINOR, 9],
  aeolian: [KeyMode.MINOR, 9],
  dorian: [KeyMode.DORIAN, 2],
  phrygian: [KeyMode.PHRYGIAN, 4],
  lydian: [KeyMode.LYDIAN, 5],
  mixolydian: [KeyMode.MIXOLYDIAN, 7],
  locrian: [KeyMode.LOCRIAN, 11],
};
