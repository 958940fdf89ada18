import { readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { MidiError } from "../src/errors.js";
import { readMidi } from "../src/io/midi.js";

const fixtures = join(dirname(fileURLToPath(import.meta.url)), "fixtures", "midi");
const seed1 = new Uint8Array(readFileSync(join(fixtures, "seed1.mid")));

// ---- tiny SMF builder ----------------------------------------------------------------------------
function vlq(n: number): number[] {
  const out = [n & 0x7f];
  for (let v = Math.floor(n / 128); v > 0; v = Math.floor(v / 128)) out.unshift((v & 0x7f) | 0x80);
  return out;
}
const ev = (delta: number, ...bytes: number[]) => [...vlq(delta), ...bytes];
const metaEv = (delta: number, type: number, data: number[]) =>
  ev(delta, 0xff, type, ...vlq(data.length), ...data);
const eot = () => metaEv(0, 0x2f, []);
function be32(n: number): number[] {
  return [n >>> 24, (n >> 16) & 0xff, (n >> 8) & 0xff, n & 0xff];
}
function chunk(tag: string, data: number[], declared = data.length): number[] {
  return [...[...tag].map((c) => c.charCodeAt(0)), ...be32(declared), ...data];
}
const header = (format = 1, ntracks = 1, division = 480) =>
  chunk("MThd", [0, format, ntracks >> 8, ntracks & 0xff, division >> 8, division & 0xff]);
const file = (...parts: number[][]) => Uint8Array.from(parts.flat());
/** A one-track file around some events (End of Track appended). */
const oneTrack = (...events: number[][]) => file(header(0, 1), chunk("MTrk", [...events.flat(), ...eot()]));

/** readMidi must throw a MidiError whose one-line message matches `pattern`. */
function expectMidiError(bytes: Uint8Array, pattern: RegExp): MidiError {
  let caught: unknown;
  try {
    readMidi(bytes);
  } catch (e) {
    caught = e;
  }
  expect(caught).toBeInstanceOf(MidiError);
  const err = caught as MidiError;
  expect(err.message).toMatch(pattern);
  expect(err.message).not.toContain("\n");
  return err;
}

describe("readMidi refuses broken files with a MidiError that names the problem", () => {
  it("a zero-byte file", () => {
    expectMidiError(new Uint8Array(0), /^empty file \(0 bytes\)/);
  });

  it("wrong magic", () => {
    expectMidiError(
      file([0x52, 0x49, 0x46, 0x46, 0, 0, 0, 4, 0x57, 0x41, 0x56, 0x45]),
      /expected 'MThd', found 'RIFF'/,
    );
    expectMidiError(file([0, 1, 2, 3, 4, 5, 6, 7]), /expected 'MThd', found bytes 0x00 0x01 0x02 0x03/);
  });

  it("a file too short to hold a header", () => {
    expectMidiError(file([0x4d, 0x54]), /not a MIDI file \(only 2 bytes long\)/);
    expectMidiError(seed1.subarray(0, 10), /truncated: .*'MThd'/);
  });

  it("a truncated file (cut inside its track)", () => {
    // seed1.mid: header (14 bytes) + one MTrk of 135 bytes at byte 14.
    expectMidiError(
      seed1.subarray(0, 100),
      /^truncated: chunk 'MTrk' at byte 14 declares 135 bytes but only 78 remain$/,
    );
  });

  it("a chunk length past the end of the file", () => {
    const bytes = file(header(1, 1), chunk("MTrk", new Array(120).fill(0), 5000));
    expectMidiError(bytes, /^truncated: chunk 'MTrk' at byte 14 declares 5000 bytes but only 120 remain$/);
  });

  it("fewer tracks than the header declares", () => {
    const bytes = file(header(1, 3), chunk("MTrk", eot()));
    expectMidiError(bytes, /truncated: the header declares 3 tracks but the file ends after 1/);
  });

  it("a variable-length quantity longer than 4 bytes", () => {
    expectMidiError(
      oneTrack([0xff, 0xff, 0xff, 0xff, 0x7f, 0x90, 60, 100]),
      /variable-length quantity longer than 4 bytes at byte 22/,
    );
  });

  it("running status before any status byte", () => {
    expectMidiError(
      oneTrack(ev(0, 60, 100)),
      /running status at byte 23 without a previous channel status byte/,
    );
  });

  it("running status after a SysEx (which cancels it)", () => {
    expectMidiError(oneTrack(ev(0, 0x90, 60, 100), ev(0, 0xf0, 1, 0xf7), ev(0, 60, 0)), /running status/);
  });

  it("SMPTE time division", () => {
    expectMidiError(
      file(header(1, 1, 0xe728), chunk("MTrk", eot())),
      /^SMPTE time division is not supported$/,
    );
  });

  it("a tempo of 0 microseconds per quarter note", () => {
    expectMidiError(oneTrack(metaEv(0, 0x51, [0, 0, 0])), /tempo 0/);
  });

  it("random bytes behind a valid header", () => {
    let seed = 12345;
    const random = () => {
      seed = (seed * 1103515245 + 12345) >>> 0;
      return seed >>> 24;
    };
    for (let trial = 0; trial < 50; trial++) {
      const junk = Array.from({ length: 200 + trial * 37 }, random);
      expectMidiError(file(header(1, 2), junk), /chunk|truncated/);
    }
  });

  it("random bytes inside a valid track chunk", () => {
    let seed = 99;
    const random = () => {
      seed = (seed * 1103515245 + 12345) >>> 0;
      return seed >>> 24;
    };
    let refused = 0;
    for (let trial = 0; trial < 200; trial++) {
      const junk = Array.from({ length: 64 }, random);
      try {
        readMidi(file(header(1, 1), chunk("MTrk", junk)));
      } catch (e) {
        expect(e).toBeInstanceOf(MidiError);
        refused++;
      }
    }
    expect(refused).toBeGreaterThan(150);
  });

  it("a data byte of 0x80 or more where a data byte is expected", () => {
    expectMidiError(oneTrack(ev(0, 0x90, 60, 0xc0)), /bad data byte 0xC0 at byte 25/);
  });

  it("an undefined status byte", () => {
    expectMidiError(oneTrack(ev(0, 0xf4)), /undefined status byte 0xF4/);
  });

  it("an event running past the end of its track chunk", () => {
    expectMidiError(file(header(0, 1), chunk("MTrk", [0, 0x90, 60])), /runs past the end of the track chunk/);
    expectMidiError(
      file(header(0, 1), chunk("MTrk", [0, 0xff, 0x01, 10, 65])),
      /meta event .* runs past the end/,
    );
  });

  it("a chunk header that is not one", () => {
    const bytes = file(header(1, 1), [0x00, 0xff, 0x10, 0x80, 0, 0, 0, 0]);
    expectMidiError(bytes, /expected a chunk header at byte 14, found bytes 0x00 0xFF 0x10 0x80/);
  });

  it("a bad header: short, unknown format, no tracks, 0 ticks per quarter", () => {
    expectMidiError(file(chunk("MThd", [0, 1, 0, 1])), /'MThd' header: length 4, expected at least 6/);
    expectMidiError(file(header(3, 1), chunk("MTrk", eot())), /unsupported MIDI format 3/);
    expectMidiError(file(header(1, 0)), /declares 0 tracks/);
    expectMidiError(file(header(1, 1, 0), chunk("MTrk", eot())), /0 ticks per quarter note/);
  });

  it("a bad key signature", () => {
    expectMidiError(
      oneTrack(metaEv(0, 0x59, [8, 0])),
      /bad key signature at byte 23: 8 sharps\/flats, mode 0/,
    );
    expectMidiError(oneTrack(metaEv(0, 0x59, [0, 2])), /bad key signature/);
  });

  it("a bad time signature", () => {
    expectMidiError(oneTrack(metaEv(0, 0x58, [0, 2, 24, 8])), /time signature with numerator 0/);
    expectMidiError(
      oneTrack(metaEv(0, 0x58, [4, 31, 24, 8])),
      /time signature denominator 2\^31 .* too large/,
    );
  });

  it("meta events too short for their type", () => {
    expectMidiError(
      oneTrack(metaEv(0, 0x51, [7, 0xa1])),
      /set tempo meta event at byte 23 has 2 data bytes, expected 3/,
    );
    expectMidiError(oneTrack(metaEv(0, 0x58, [4, 2])), /time signature meta event .* has 2 data bytes/);
  });

  it("SysEx data bytes of 0x80 or more", () => {
    expectMidiError(oneTrack(ev(0, 0xf0, 3, 0x43, 0x90, 0xf7)), /bad SysEx data byte 0x90/);
  });

  it("a tick beyond pretty_midi's limit of 10,000,000", () => {
    // Largest tick 9,999,999 is accepted; 10,000,000 is not.
    expect(readMidi(oneTrack(ev(9_999_999, 0x90, 60, 1))).notes).toEqual([]);
    expectMidiError(oneTrack(ev(10_000_000, 0x90, 60, 1)), /largest tick 10000000 is over 9999999/);
  });
});

describe("readMidi on 100 MB files", () => {
  const SIZE = 100 * 1024 * 1024;

  /** A ~100 MB file: a header and one MTrk chunk filled with `pattern` repeated. */
  function hugeFile(pattern: number[]): Uint8Array {
    const length = Math.floor((SIZE - 22) / pattern.length) * pattern.length;
    const bytes = new Uint8Array(22 + length);
    bytes.set([...header(0, 1), 0x4d, 0x54, 0x72, 0x6b, ...be32(length)]);
    bytes.set(pattern, 22);
    // Doubling copies fill the rest quickly.
    for (let filled = pattern.length; filled < length; filled *= 2) {
      bytes.copyWithin(22 + filled, 22, 22 + Math.min(filled, length - filled));
    }
    return bytes;
  }

  it("rejects long delta times early, at the largest-tick limit", () => {
    const bytes = hugeFile([0x7f, 0x90, 60, 64, 0x7f, 0x80, 60, 0]);
    const t0 = performance.now();
    expectMidiError(bytes, /largest tick \d+ is over 9999999/);
    expect(performance.now() - t0).toBeLessThan(1000);
  });

  it("parses 100 MB of meta events in one pass without building anything", () => {
    // Empty text meta events at delta 0, 4 bytes each: 26 million events.
    const bytes = hugeFile([0x00, 0xff, 0x01, 0x00]);
    const t0 = performance.now();
    const ns = readMidi(bytes);
    expect(ns.notes).toEqual([]);
    expect(performance.now() - t0).toBeLessThan(5000);
  });

  it("skips a 100 MB SysEx", () => {
    const head = [...header(0, 1), 0x4d, 0x54, 0x72, 0x6b, ...be32(SIZE - 22)];
    const bytes = new Uint8Array(SIZE);
    const length = SIZE - 22 - 2 - 4 - 4; // delta + F0 + 4-byte length + End of Track
    bytes.set([...head, 0x00, 0xf0, ...vlq(length)]);
    bytes.set([0x00, 0xff, 0x2f, 0x00], SIZE - 4);
    const t0 = performance.now();
    expect(readMidi(bytes).notes).toEqual([]);
    expect(performance.now() - t0).toBeLessThan(2000);
  });
});
