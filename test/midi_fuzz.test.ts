import { readdirSync, readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { MidiError } from "../src/errors.js";
import { readMidi, writeMidi } from "../src/io/midi.js";
import type { NoteSequence } from "../src/notesequence.js";

const fixtures = join(dirname(fileURLToPath(import.meta.url)), "fixtures", "midi");

/** A hand-made file that exercises more of the format than the seeds: see `rich` below. */
function richFile(): Uint8Array {
  const track0 = [
    ...[0x00, 0xff, 0x03, 0x04, 0x4d, 0x61, 0x69, 0x6e], // track name
    ...[0x00, 0xff, 0x51, 0x03, 0x07, 0xa1, 0x20], // 120 qpm
    ...[0x00, 0xff, 0x58, 0x04, 0x03, 0x02, 0x18, 0x08], // 3/4
    ...[0x00, 0xff, 0x59, 0x02, 0xfd, 0x01], // C minor
    ...[0x83, 0x60, 0xff, 0x51, 0x03, 0x0f, 0x42, 0x40], // 60 qpm at tick 480
    ...[0x00, 0xf0, 0x03, 0x43, 0x10, 0xf7], // SysEx
    ...[0x00, 0xff, 0x2f, 0x00],
  ];
  const track1 = [
    ...[0x00, 0xb0, 0x40, 0x7f], // sustain (straggler)
    ...[0x00, 0xe0, 0x00, 0x40], // bend 0
    ...[0x00, 0x90, 0x3c, 0x50, 0x00, 0x40, 0x50], // running status
    ...[0x81, 0x70, 0x3c, 0x00, 0x00, 0x40, 0x00],
    ...[0x00, 0xc0, 0x28], // program 40
    ...[0x00, 0x99, 0x24, 0x64, 0x60, 0x89, 0x24, 0x00], // drums
    ...[0x00, 0x90, 0x43, 0x50, 0x60, 0x80, 0x43, 0x00],
    ...[0x00, 0xff, 0x2f, 0x00],
  ];
  const chunk = (data: number[]) => [
    0x4d,
    0x54,
    0x72,
    0x6b,
    0,
    0,
    data.length >> 8,
    data.length & 0xff,
    ...data,
  ];
  return Uint8Array.from([
    ...[0x4d, 0x54, 0x68, 0x64, 0, 0, 0, 6, 0, 1, 0, 2, 0x01, 0xe0],
    ...chunk(track0),
    ...chunk(track1),
  ]);
}

const seeds: Uint8Array[] = [
  ...readdirSync(fixtures)
    .filter((f) => /\.midi?$/i.test(f))
    .sort()
    .map((f) => new Uint8Array(readFileSync(join(fixtures, f)))),
  richFile(),
];

type Mutation =
  | { kind: "set"; at: number; value: number }
  | { kind: "flip"; at: number; bit: number }
  | { kind: "insert"; at: number; bytes: number[] }
  | { kind: "delete"; at: number; length: number }
  | { kind: "truncate"; at: number };

/**
 * Positions are fractions of the current length (in millionths), so that one mutation fits any file;
 * `noBias` keeps fast-check from favouring the first bytes (the header).
 */
const position = fc.noBias(fc.integer({ min: 0, max: 999_999 })).map((n) => n / 1e6);
const mutation: fc.Arbitrary<{ m: Mutation; p: number }> = fc.oneof(
  fc.record({ p: position, v: fc.integer({ min: 0, max: 255 }) }).map(({ p, v }) => ({
    p,
    m: { kind: "set", at: 0, value: v } as Mutation,
  })),
  fc.record({ p: position, bit: fc.integer({ min: 0, max: 7 }) }).map(({ p, bit }) => ({
    p,
    m: { kind: "flip", at: 0, bit } as Mutation,
  })),
  fc
    .record({
      p: position,
      bytes: fc.array(fc.integer({ min: 0, max: 255 }), { minLength: 1, maxLength: 8 }),
    })
    .map(({ p, bytes }) => ({ p, m: { kind: "insert", at: 0, bytes } as Mutation })),
  fc.record({ p: position, length: fc.integer({ min: 1, max: 16 }) }).map(({ p, length }) => ({
    p,
    m: { kind: "delete", at: 0, length } as Mutation,
  })),
  position.map((p) => ({ p, m: { kind: "truncate", at: 0 } as Mutation })),
);

function mutate(original: Uint8Array, mutations: { m: Mutation; p: number }[]): Uint8Array {
  let bytes = Array.from(original);
  for (const { m, p } of mutations) {
    if (bytes.length === 0) break;
    const at = Math.floor(p * bytes.length);
    switch (m.kind) {
      case "set":
        bytes[at] = m.value;
        break;
      case "flip":
        bytes[at] ^= 1 << m.bit;
        break;
      case "insert":
        bytes.splice(at, 0, ...m.bytes);
        break;
      case "delete":
        bytes.splice(at, m.length);
        break;
      case "truncate":
        bytes = bytes.slice(0, at);
        break;
    }
  }
  return Uint8Array.from(bytes);
}

/** Either a NoteSequence or a MidiError; anything else fails the property. */
function readOrMidiError(bytes: Uint8Array): NoteSequence | MidiError {
  try {
    return readMidi(bytes);
  } catch (e) {
    if (e instanceof MidiError) return e;
    throw e;
  }
}

describe("readMidi on mutated MIDI files", () => {
  it("the seeds themselves are readable", () => {
    for (const s of seeds) expect(readOrMidiError(s)).not.toBeInstanceOf(MidiError);
  });

  it("returns a sane NoteSequence or throws MidiError, quickly, and what it returns can be written", () => {
    let read = 0;
    let refused = 0;
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: seeds.length - 1 }),
        fc.array(mutation, { minLength: 1, maxLength: 4 }),
        (seedIndex, mutations) => {
          const bytes = mutate(seeds[seedIndex], mutations);
          const t0 = performance.now();
          const result = readOrMidiError(bytes);
          expect(performance.now() - t0).toBeLessThan(1000);
          if (result instanceof MidiError) {
            refused++;
            expect(result.message).not.toContain("\n");
            expect(result.message.length).toBeGreaterThan(0);
            return;
          }
          read++;
          for (const n of result.notes) {
            expect(n.pitch).toBeGreaterThanOrEqual(0);
            expect(n.pitch).toBeLessThanOrEqual(127);
            expect(Number.isFinite(n.startTime) && Number.isFinite(n.endTime)).toBe(true);
            expect(n.endTime).toBeGreaterThan(n.startTime);
          }
          expect(result.tempos.length).toBeGreaterThan(0);
          // Whatever the reader accepts, the writer writes (or refuses with a MidiError) and the reader
          // reads back with the same number of notes.
          let written: Uint8Array | undefined;
          try {
            written = writeMidi(result);
          } catch (e) {
            if (!(e instanceof MidiError)) throw e;
          }
          if (written) expect(readMidi(written).notes.length).toBe(result.notes.length);
        },
      ),
      { numRuns: 300, seed: 20240601 },
    );
    // Both outcomes occur: the property is not vacuous.
    console.log(`mutated MIDI files: ${read} read, ${refused} refused with MidiError`);
    expect(read).toBeGreaterThan(10);
    expect(refused).toBeGreaterThan(10);
  });
});
