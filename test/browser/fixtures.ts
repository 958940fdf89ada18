/** Small, deterministic MIDI pieces for the Studio's training tests (8 bars of chords and a melody). */
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { writeMidi } from "../../src/io/midi.js";
import { createNote, createNoteSequence, type Note } from "../../src/notesequence.js";

const PROGRESSION = [0, 5, 7, 0, 9, 5, 7, 0]; // I IV V I vi IV V I (roots above C)
const MAJOR = [0, 4, 7];
const MINOR = [0, 3, 7];

/**
 * Piece `k`: 8 bars at 120 qpm (32 beats = 128 steps), bass, half-note chords and a quarter-note melody.
 * With `rubato`, it is played as piano-midi.de's files are: a new tempo on every beat (between 96 and
 * 144 qpm), so a tempo change splits every bar four times.
 */
export function tinyPieceMidi(k: number, rubato = false): Uint8Array {
  const notes: Note[] = [];
  const beat = 0.5;
  const qpmAt = (b: number) => (rubato ? 96 + ((b * 7 + k * 3) % 9) * 6 : 120);
  // Seconds at a position in beats (the tempo map integrated beat by beat).
  const at = (beats: number) => {
    let t = 0;
    for (let b = 0; b < Math.ceil(beats); b++) t += (Math.min(1, beats - b) * 60) / qpmAt(b);
    return t;
  };
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
    tempos: rubato
      ? Array.from({ length: 32 }, (_, b) => ({ time: at(b), qpm: qpmAt(b) }))
      : [{ time: 0, qpm: 120 }],
    timeSignatures: [{ time: 0, numerator: 4, denominator: 4 }],
    notes: notes.map((n) => ({ ...n, startTime: at(n.startTime / beat), endTime: at(n.endTime / beat) })),
    totalTime: at(32),
  });
  return writeMidi(ns);
}

/** Writes pieces 0…n−1 as piece_<k>.mid (rubato_<k>.mid) into `dir`; returns their paths. */
export function writeTinyPieces(dir: string, n = 3, rubato = false): string[] {
  return Array.from({ length: n }, (_, k) => {
    const path = join(dir, `${rubato ? "rubato" : "piece"}_${k}.mid`);
    writeFileSync(path, tinyPieceMidi(k, rubato));
    return path;
  });
}
