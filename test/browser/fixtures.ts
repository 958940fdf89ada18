/** Small, deterministic MIDI pieces for the Studio's training tests (8 bars of chords and a melody). */
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { writeMidi } from "../../src/io/midi.js";
import { createNote, createNoteSequence, type Note } from "../../src/notesequence.js";

const PROGRESSION = [0, 5, 7, 0, 9, 5, 7, 0]; // I IV V I vi IV V I (roots above C)
const MAJOR = [0, 4, 7];
const MINOR = [0, 3, 7];

/** Piece `k`: 8 bars at 120 qpm (32 beats = 128 steps), bass, half-note chords and a quarter-note melody. */
export function tinyPieceMidi(k: number): Uint8Array {
  const notes: Note[] = [];
  const beat = 0.5;
  const key = [0, 2, -3][k % 3];
  for (let bar = 0; bar < 8; bar++) {
    const root = 48 + key + PROGRESSION[(bar + k) % PROGRESSION.length];
    const triad = PROGRESSION[(bar + k) % PROGRESSION.length] === 9 ? MINOR : MAJOR;
    const t0 = bar * 4 * beat;
    notes.push(createNote({ pitch: root - 12, velocity: 80, startTime: t0, endTime: t0 + 4 * beat }));
    for (const half of [0, 2]) {
      for (const iv of triad) {
        notes.push(
          createNote({
            pitch: root + iv,
            velocity: 70,
            startTime: t0 + half * beat,
            endTime: t0 + (half + 2) * beat,
          }),
        );
      }
    }
    for (let q = 0; q < 4; q++) {
      const pitch = root + 12 + triad[(q + k) % 3];
      notes.push(createNote({ pitch, velocity: 90, startTime: t0 + q * beat, endTime: t0 + (q + 1) * beat }));
    }
  }
  const ns = createNoteSequence({
    ticksPerQuarter: 220,
    tempos: [{ time: 0, qpm: 120 }],
    timeSignatures: [{ time: 0, numerator: 4, denominator: 4 }],
    notes,
    totalTime: 16,
  });
  return writeMidi(ns);
}

/** Writes pieces 0…n−1 as piece_<k>.mid into `dir`; returns their paths. */
export function writeTinyPieces(dir: string, n = 3): string[] {
  return Array.from({ length: n }, (_, k) => {
    const path = join(dir, `piece_${k}.mid`);
    writeFileSync(path, tinyPieceMidi(k));
    return path;
  });
}
