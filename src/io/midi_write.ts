/**
 * NoteSequence → type-1 MIDI bytes, in the shape of note_seq's note_sequence_to_pretty_midi +
 * pretty_midi's `write`: track 0 holds tempos, time and key signatures; then one track per
 * (instrument, program, isDrum) group.
 *
 * Where pretty_midi loses information we do not: tempos are written as round(6e7 / qpm) microseconds
 * (pretty_midi truncates, so 120 qpm can come back as 120.00024), every group gets its own track (note_seq
 * merges all groups of instrument 0 into one pretty_midi instrument, keeping only the last one's notes),
 * and the seconds → ticks map is the one the reader rebuilds from the written tempos, so that
 * readMidi(writeMidi(readMidi(f))) gives back every note on its original tick.
 */
import { MidiError } from "../errors.js";
import { KeyMode, type NoteSequence } from "../notesequence.js";
import { MAX_TICK, TempoMap } from "./midi_read.js";
import { type NoteSequenceLike, noteSequenceFromJson } from "./notesequence_json.js";

function fail(message: string): never {
  throw new MidiError(message);
}

/** Sharps (negative: flats) of each major and minor key by tonic pitch class (mido's key names). */
const MAJOR_SHARPS = [0, -5, 2, -3, 4, -1, 6, 1, -4, 3, -2, 5];
const MINOR_SHARPS = [-3, 4, -1, 6, 1, -4, 3, -2, 5, 0, -5, 2];

/** Order of events at the same tick (pretty_midi's `event_compare`). */
const ORDER_TEMPO = 1 << 16;
const ORDER_TIME_SIGNATURE = 2 << 16;
const ORDER_KEY_SIGNATURE = 3 << 16;
const ORDER_PROGRAM = 5 << 16;
const ORDER_PITCH_BEND = 6 << 16;
const ORDER_CONTROL = 7 << 16;
const ORDER_NOTE = 9 << 16;

interface Event {
  tick: number;
  order: number;
  bytes: number[];
}

function checkInt(value: number, lo: number, hi: number, what: string): number {
  if (!Number.isInteger(value) || value < lo || value > hi) {
    fail(`cannot write ${what} ${value} to MIDI (expected an integer in ${lo}..${hi})`);
  }
  return value;
}

function latin1(text: string): number[] {
  const out: number[] = [];
  for (const ch of text) {
    const code = ch.codePointAt(0) ?? 0x3f;
    out.push(code <= 0xff ? code : 0x3f);
  }
  return out;
}

function vlq(value: number, out: number[]): void {
  const groups = [value & 0x7f];
  for (let v = Math.floor(value / 128); v > 0; v = Math.floor(v / 128)) groups.push((v & 0x7f) | 0x80);
  for (let i = groups.length - 1; i >= 0; i--) out.push(groups[i]);
}

function meta(type: number, data: number[]): number[] {
  const out = [0xff, type];
  vlq(data.length, out);
  for (const b of data) out.push(b);
  return out;
}

function trackBytes(events: Event[]): number[] {
  events.sort((a, b) => a.tick - b.tick || a.order - b.order);
  const last = events.length > 0 ? events[events.length - 1].tick : 0;
  // pretty_midi ends every track one tick after its last event.
  events.push({ tick: last + 1, order: 0, bytes: [0xff, 0x2f, 0x00] });
  const out: number[] = [0x4d, 0x54, 0x72, 0x6b, 0, 0, 0, 0];
  let tick = 0;
  for (const e of events) {
    vlq(e.tick - tick, out);
    tick = e.tick;
    for (const b of e.bytes) out.push(b);
  }
  const length = out.length - 8;
  out[4] = (length >>> 24) & 0xff;
  out[5] = (length >>> 16) & 0xff;
  out[6] = (length >>> 8) & 0xff;
  out[7] = length & 0xff;
  return out;
}

/** Tempos a MIDI file can hold: round(6e7 / qpm) microseconds per quarter, from 1 to 2²⁴ − 1. */
export const MIDI_QPM_RANGE = Object.freeze({ min: 6e7 / 0xffffff, max: 1.2e8 });

/** Why `qpm` cannot be written to a MIDI file, or undefined when it can. */
export function midiTempoProblem(qpm: number): string | undefined {
  if (!Number.isFinite(qpm) || qpm <= 0) return `tempo ${qpm} qpm is not a tempo`;
  const us = Math.round(6e7 / qpm);
  if (us < 1 || us > 0xffffff) {
    return `tempo ${qpm} qpm is out of MIDI's range (${MIDI_QPM_RANGE.min.toFixed(2)} to ${MIDI_QPM_RANGE.max.toExponential()} qpm)`;
  }
  return undefined;
}

/** Microseconds per quarter note for a tempo, as written to the file. */
function microseconds(qpm: number): number {
  const problem = midiTempoProblem(qpm);
  if (problem) fail(`cannot write ${problem}`);
  return Math.round(6e7 / qpm);
}

/** The reader's tick scale for a written tempo (same float operations as the reader). */
function scaleOf(us: number, resolution: number): number {
  return 60 / ((6e7 / us) * resolution);
}

/**
 * Writes a NoteSequence (polyrnn's, or a Magenta.js one as it is) as a type-1 Standard MIDI File. Throws
 * MidiError on values MIDI cannot hold.
 */
export function writeMidi(input: NoteSequence | NoteSequenceLike): Uint8Array<ArrayBuffer> {
  const ns = noteSequenceFromJson(input);
  const resolution = checkInt(ns.ticksPerQuarter || 220, 1, 0x7fff, "ticks per quarter");

  // Tempo map: the tempo at time 0 (else 120 qpm) from tick 0, then the others in time order, each at
  // the tick the map built so far gives it.
  const tempos = ns.tempos
    .map((t, i) => ({ time: t.time, qpm: t.qpm, i }))
    .sort((a, b) => a.time - b.time || a.i - b.i);
  const timing: Event[] = [];
  const tempoMap = new TempoMap(resolution, scaleOf(500000, resolution));
  const toTick = (seconds: number, what: string): number => {
    if (Number.isNaN(seconds) || seconds === Number.POSITIVE_INFINITY) {
      fail(`cannot write ${what} at time ${seconds}`);
    }
    const tick = tempoMap.tick(seconds);
    // The last event of a track is followed by End of Track one tick later; the reader refuses ticks
    // of MAX_TICK and beyond.
    if (tick + 2 > MAX_TICK) fail(`cannot write ${what} at ${seconds} s: tick ${tick} is too large for MIDI`);
    return tick;
  };
  const tempoEvents: { tick: number; us: number }[] = [{ tick: 0, us: 500000 }];
  for (const t of tempos) {
    const us = microseconds(t.qpm);
    const tick = toTick(t.time, "a tempo");
    if (tick === 0) tempoEvents.length = 0; // a tempo at tick 0 replaces the ones before it
    tempoEvents.push({ tick, us });
    tempoMap.addTempo(tick, scaleOf(us, resolution));
  }

  for (const t of tempoEvents) {
    timing.push({
      tick: t.tick,
      order: ORDER_TEMPO,
      bytes: meta(0x51, [t.us >> 16, (t.us >> 8) & 0xff, t.us & 0xff]),
    });
  }
  if (!ns.timeSignatures.some((ts) => ts.time <= 0)) {
    timing.push({ tick: 0, order: ORDER_TIME_SIGNATURE, bytes: meta(0x58, [4, 2, 24, 8]) });
  }
  for (const ts of ns.timeSignatures) {
    const numerator = checkInt(ts.numerator, 1, 255, "time signature numerator");
    const exponent = Math.log2(ts.denominator);
    if (!Number.isInteger(exponent) || exponent < 0 || exponent > 30) {
      fail(`cannot write time signature denominator ${ts.denominator} to MIDI (must be a power of 2)`);
    }
    timing.push({
      tick: toTick(ts.time, "a time signature"),
      order: ORDER_TIME_SIGNATURE,
      bytes: meta(0x58, [numerator, exponent, 24, 8]),
    });
  }
  for (const ks of ns.keySignatures) {
    const key = checkInt(ks.key, 0, 11, "key signature key");
    const minor = ks.mode === KeyMode.MINOR;
    const sharps = minor ? MINOR_SHARPS[key] : MAJOR_SHARPS[key];
    timing.push({
      tick: toTick(ks.time, "a key signature"),
      order: ORDER_KEY_SIGNATURE,
      bytes: meta(0x59, [sharps & 0xff, minor ? 1 : 0]),
    });
  }

  // One track per (instrument, program, isDrum), in that sort order (note_seq's order).
  const groups = new Map<string, { instrument: number; program: number; isDrum: boolean; events: Event[] }>();
  const group = (instrument: number, program: number, isDrum: boolean) => {
    const key = `${instrument},${program},${isDrum}`;
    let g = groups.get(key);
    if (!g) {
      checkInt(instrument, 0, 0x7fffffff, "instrument");
      checkInt(program, 0, 127, "program");
      g = { instrument, program, isDrum, events: [] };
      groups.set(key, g);
    }
    return g;
  };
  for (const n of ns.notes) {
    const g = group(n.instrument, n.program, n.isDrum);
    const pitch = checkInt(n.pitch, 0, 127, "pitch");
    // Velocity 0 would be a note-off: write the quietest audible note instead of losing it.
    const velocity = Math.max(1, checkInt(n.velocity, 0, 127, "velocity"));
    const start = toTick(n.startTime, "a note");
    // A note must last at least one tick, or its note-off would come before its note-on.
    const end = Math.max(start + 1, toTick(n.endTime, "a note"));
    g.events.push({
      tick: start,
      order: ORDER_NOTE + pitch * 256 + velocity,
      bytes: [0x90, pitch, velocity],
    });
    g.events.push({ tick: end, order: ORDER_NOTE + pitch * 256, bytes: [0x90, pitch, 0] });
  }
  for (const b of ns.pitchBends) {
    const g = group(b.instrument, b.program, b.isDrum);
    const value = checkInt(b.bend, -8192, 8191, "pitch bend") + 8192;
    g.events.push({
      tick: toTick(b.time, "a pitch bend"),
      order: ORDER_PITCH_BEND + b.bend,
      bytes: [0xe0, value & 0x7f, value >> 7],
    });
  }
  for (const cc of ns.controlChanges) {
    const g = group(cc.instrument, cc.program, cc.isDrum);
    const number = checkInt(cc.controlNumber, 0, 127, "control number");
    const value = checkInt(cc.controlValue, 0, 127, "control value");
    g.events.push({
      tick: toTick(cc.time, "a control change"),
      order: ORDER_CONTROL + number * 256 + value,
      bytes: [0xb0, number, value],
    });
  }

  const names = new Map<number, string>();
  for (const info of ns.instrumentInfos) names.set(info.instrument, info.name);

  const sorted = [...groups.values()].sort(
    (a, b) => a.instrument - b.instrument || a.program - b.program || Number(a.isDrum) - Number(b.isDrum),
  );
  const channels = [0, 1, 2, 3, 4, 5, 6, 7, 8, 10, 11, 12, 13, 14, 15];
  const tracks: number[][] = [trackBytes(timing)];
  sorted.forEach((g, n) => {
    const channel = g.isDrum ? 9 : channels[n % channels.length];
    const events = g.events;
    for (const e of events) e.bytes[0] |= channel;
    const name = names.get(g.instrument);
    if (name) events.push({ tick: 0, order: 0, bytes: meta(0x03, latin1(name)) });
    events.push({ tick: 0, order: ORDER_PROGRAM, bytes: [0xc0 | channel, g.program] });
    tracks.push(trackBytes(events));
  });

  if (tracks.length > 0xffff) fail(`cannot write ${tracks.length} tracks to MIDI (at most 65535)`);
  let size = 14;
  for (const t of tracks) size += t.length;
  const out = new Uint8Array(size);
  out.set([0x4d, 0x54, 0x68, 0x64, 0, 0, 0, 6, 0, 1, tracks.length >> 8, tracks.length & 0xff]);
  out[12] = resolution >> 8;
  out[13] = resolution & 0xff;
  let pos = 14;
  for (const t of tracks) {
    out.set(t, pos);
    pos += t.length;
  }
  return out;
}
