/**
 * MIDI bytes → NoteSequence, with the semantics of Magenta's reader
 * (note_seq.midi_io.midi_to_note_sequence over pretty_midi 0.2.x over mido).
 *
 * Strict where the file is broken (truncated chunks, bad data bytes, over-long variable-length numbers,
 * undefined status bytes: every one is a MidiError with a one-line message), lenient where the MIDI
 * spec is (unknown chunk types are skipped, bytes after End of Track are ignored). Linear in the file
 * size: one pass over the bytes per track (track 0 twice), no per-tick arrays.
 */
import { MidiError } from "../errors.js";
import {
  type ControlChange,
  createNote,
  createNoteSequence,
  EncodingType,
  type InstrumentInfo,
  type KeySignature,
  type Note,
  type NoteSequence,
  Parser,
  type PitchBend,
  type Tempo,
  type TimeSignature,
} from "../notesequence.js";

/** pretty_midi refuses files whose largest tick + 1 exceeds this ("it is likely corrupt"). */
export const MAX_TICK = 1e7;

/**
 * The piecewise-linear tick → seconds map of pretty_midi (`_tick_scales` and `__tick_to_time`), kept as
 * segments instead of a per-tick array. `seconds(tick)` performs the same float64 operations as
 * pretty_midi's numpy code (`last_end_time + tick_scale * (tick - start_tick)`), so the times match bit
 * for bit.
 */
export class TempoMap {
  /** First tick of each segment (non-decreasing). */
  readonly ticks: number[] = [];
  /** Seconds per tick in each segment. */
  readonly scales: number[] = [];
  /** Seconds at the first tick of each segment. */
  readonly starts: number[] = [];

  constructor(
    readonly resolution: number,
    initialScale: number = 60 / (120 * resolution),
  ) {
    this.ticks.push(0);
    this.scales.push(initialScale);
    this.starts.push(0);
  }

  /** pretty_midi's `_load_tempo_changes` rule for one set_tempo event. */
  addTempo(tick: number, scale: number): void {
    if (tick === 0) {
      // A tempo at tick 0 replaces everything before it (including the default 120 qpm).
      this.ticks.length = 1;
      this.scales.length = 1;
      this.starts.length = 1;
      this.scales[0] = scale;
      return;
    }
    const last = this.scales.length - 1;
    if (scale === this.scales[last]) return; // repeated tempo: ignored
    this.starts.push(this.starts[last] + this.scales[last] * (tick - this.ticks[last]));
    this.ticks.push(tick);
    this.scales.push(scale);
  }

  /** Index of the segment that gives `tick` its time: the last one starting at or before it. */
  private segmentOfTick(tick: number): number {
    const t = this.ticks;
    let lo = 0;
    let hi = t.length - 1;
    if (t[hi] <= tick) return hi;
    while (lo < hi) {
      const mid = (lo + hi + 1) >>> 1;
      if (t[mid] <= tick) lo = mid;
      else hi = mid - 1;
    }
    return lo;
  }

  seconds(tick: number): number {
    const i = this.segmentOfTick(tick);
    return this.starts[i] + this.scales[i] * (tick - this.ticks[i]);
  }

  /** Quarter notes per minute of segment i (pretty_midi `get_tempo_changes`). */
  qpm(i: number): number {
    return 60 / (this.scales[i] * this.resolution);
  }

  /**
   * The tick whose time is nearest to `seconds` (ties go to the later tick, like pretty_midi's
   * `time_to_tick`); negative times give tick 0.
   */
  tick(seconds: number): number {
    if (!(seconds > 0)) return 0;
    const s = this.starts;
    let lo = 0;
    let hi = s.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >>> 1;
      if (s[mid] <= seconds) lo = mid;
      else hi = mid - 1;
    }
    const guess = Math.round(this.ticks[lo] + (seconds - s[lo]) / this.scales[lo]);
    let best = Math.max(0, guess - 1);
    let bestErr = Math.abs(this.seconds(best) - seconds);
    for (let k = best + 1; k <= guess + 1; k++) {
      const err = Math.abs(this.seconds(k) - seconds);
      if (err <= bestErr) {
        best = k;
        bestErr = err;
      }
    }
    return best;
  }
}

// ---------------------------------------------------------------------------------------------------
// Byte level

function fail(message: string): never {
  throw new MidiError(message);
}

function hex(b: number): string {
  return `0x${b.toString(16).toUpperCase().padStart(2, "0")}`;
}

/** Four bytes as 'ABCD' when printable, else as hex. */
function describeTag(bytes: Uint8Array, at: number): string {
  const slice = bytes.subarray(at, at + 4);
  if (slice.every((b) => b >= 0x20 && b <= 0x7e)) return `'${String.fromCharCode(...slice)}'`;
  return `bytes ${Array.from(slice, hex).join(" ")}`;
}

function isChunkTag(bytes: Uint8Array, at: number): boolean {
  for (let i = at; i < at + 4; i++) if (bytes[i] < 0x20 || bytes[i] > 0x7e) return false;
  return true;
}

function u32(b: Uint8Array, at: number): number {
  return b[at] * 0x1000000 + ((b[at + 1] << 16) | (b[at + 2] << 8) | b[at + 3]);
}

interface TrackChunk {
  /** Byte offset of the chunk header. */
  header: number;
  /** Data range [start, end). */
  start: number;
  end: number;
}

interface MidiLayout {
  format: number;
  resolution: number;
  tracks: TrackChunk[];
}

function readLayout(bytes: Uint8Array): MidiLayout {
  const n = bytes.length;
  if (n === 0) fail("empty file (0 bytes): not a MIDI file");
  if (n < 4) fail(`not a MIDI file (only ${n} bytes long)`);
  if (bytes[0] !== 0x4d || bytes[1] !== 0x54 || bytes[2] !== 0x68 || bytes[3] !== 0x64) {
    fail(`not a MIDI file (expected 'MThd', found ${describeTag(bytes, 0)})`);
  }
  if (n < 8) fail(`truncated: the file ends inside the 'MThd' header (${n} bytes)`);
  const headerLength = u32(bytes, 4);
  if (headerLength < 6) fail(`bad 'MThd' header: length ${headerLength}, expected at least 6`);
  if (8 + headerLength > n) {
    fail(`truncated: 'MThd' header declares ${headerLength} bytes but only ${n - 8} remain`);
  }
  const format = (bytes[8] << 8) | bytes[9];
  const ntracks = (bytes[10] << 8) | bytes[11];
  const division = (bytes[12] << 8) | bytes[13];
  if (format > 2) fail(`unsupported MIDI format ${format} (expected 0, 1 or 2)`);
  if (division & 0x8000) fail("SMPTE time division is not supported");
  if (division === 0) fail("bad header: 0 ticks per quarter note");
  if (ntracks === 0) fail("bad header: the file declares 0 tracks");

  const tracks: TrackChunk[] = [];
  let pos = 8 + headerLength;
  while (tracks.length < ntracks) {
    if (pos >= n) {
      fail(`truncated: the header declares ${ntracks} tracks but the file ends after ${tracks.length}`);
    }
    if (pos + 8 > n) fail(`truncated: incomplete chunk header at byte ${pos}`);
    if (!isChunkTag(bytes, pos)) {
      fail(`expected a chunk header at byte ${pos}, found ${describeTag(bytes, pos)}`);
    }
    const length = u32(bytes, pos + 4);
    const tag = String.fromCharCode(bytes[pos], bytes[pos + 1], bytes[pos + 2], bytes[pos + 3]);
    const remaining = n - pos - 8;
    if (length > remaining) {
      fail(`truncated: chunk '${tag}' at byte ${pos} declares ${length} bytes but only ${remaining} remain`);
    }
    if (tag === "MTrk") tracks.push({ header: pos, start: pos + 8, end: pos + 8 + length });
    // Any other chunk type is skipped, as the MIDI spec asks.
    pos += 8 + length;
  }
  return { format, resolution: division, tracks };
}

const EV_END = 0;
const EV_CHANNEL = 1;
const EV_META = 2;
const EV_OTHER = 3;

/** Data bytes after the status byte for 0x80..0xEF, indexed by status >> 4. */
const CHANNEL_DATA_LENGTH = [0, 0, 0, 0, 0, 0, 0, 0, 2, 2, 2, 2, 1, 1, 2, 0];

/**
 * Data bytes of the system common / real-time messages mido knows (-1 = undefined status byte, an
 * error in mido). F0, F7 (SysEx) and FF (meta) are handled separately.
 */
const SYSTEM_DATA_LENGTH: Record<number, number> = {
  241: 1,
  242: 2,
  243: 1,
  246: 0,
  248: 0,
  250: 0,
  251: 0,
  252: 0,
  254: 0,
};

/**
 * A cursor over the events of one MTrk chunk. `next()` reads one event into the public fields and
 * returns its kind; EV_END at End of Track or at the end of the chunk. Ticks are absolute.
 */
class TrackCursor {
  pos: number;
  tick = 0;
  status = 0;
  data1 = 0;
  data2 = 0;
  metaType = 0;
  dataStart = 0;
  dataLength = 0;
  /** Byte offset of the current event's status (or first data) byte. */
  at = 0;
  private running = -1;
  private readonly end: number;

  constructor(
    private readonly bytes: Uint8Array,
    private readonly chunk: TrackChunk,
  ) {
    this.pos = chunk.start;
    this.end = chunk.end;
  }

  private pastEnd(what: string): never {
    fail(
      `truncated: ${what} at byte ${this.at} runs past the end of the track chunk at byte ` +
        `${this.chunk.header} (which ends at byte ${this.end})`,
    );
  }

  private vlq(what: string): number {
    const b = this.bytes;
    let value = 0;
    for (let i = 0; i < 4; i++) {
      if (this.pos >= this.end) this.pastEnd(what);
      const byte = b[this.pos++];
      value = value * 128 + (byte & 0x7f);
      if (byte < 0x80) return value;
    }
    fail(`variable-length quantity longer than 4 bytes at byte ${this.pos - 4}`);
  }

  private dataByte(): number {
    if (this.pos >= this.end) this.pastEnd("event");
    const v = this.bytes[this.pos];
    if (v >= 0x80) {
      fail(`bad data byte ${hex(v)} at byte ${this.pos} (status ${hex(this.status)} expects 0..127)`);
    }
    this.pos++;
    return v;
  }

  next(): number {
    const b = this.bytes;
    if (this.pos >= this.end) return EV_END;
    this.at = this.pos;
    const delta = this.vlq("delta time");
    this.tick += delta;
    if (this.tick + 1 > MAX_TICK) {
      fail(
        `largest tick ${this.tick} is over ${MAX_TICK - 1} (at byte ${this.at}): the file is likely corrupt`,
      );
    }
    this.at = this.pos;
    if (this.pos >= this.end) this.pastEnd("event");
    let status = b[this.pos];
    if (status < 0x80) {
      if (this.running < 0) {
        fail(`running status at byte ${this.pos} without a previous channel status byte`);
      }
      status = this.running;
    } else {
      this.pos++;
    }
    this.status = status;

    if (status < 0xf0) {
      this.running = status;
      this.data1 = this.dataByte();
      this.data2 = CHANNEL_DATA_LENGTH[status >> 4] === 2 ? this.dataByte() : 0;
      return EV_CHANNEL;
    }
    if (status === 0xff) {
      // Meta events keep the running status (as in mido).
      if (this.pos >= this.end) this.pastEnd("meta event");
      this.metaType = b[this.pos++];
      this.dataLength = this.vlq("meta event");
      this.dataStart = this.pos;
      if (this.dataLength > this.end - this.pos) this.pastEnd("meta event");
      this.pos += this.dataLength;
      this.checkMeta();
      if (this.metaType === 0x2f) {
        // End of Track: whatever follows in the chunk is ignored.
        this.pos = this.end;
        return EV_END;
      }
      return EV_META;
    }
    this.running = -1;
    if (status === 0xf0 || status === 0xf7) {
      this.dataLength = this.vlq("SysEx event");
      this.dataStart = this.pos;
      if (this.dataLength > this.end - this.pos) this.pastEnd("SysEx event");
      this.pos += this.dataLength;
      // mido keeps SysEx data as a message whose bytes must be 0..127 (after stripping F0 … F7).
      let first = this.dataStart;
      let last = this.pos;
      if (last > first && b[first] === 0xf0) first++;
      if (last > first && b[last - 1] === 0xf7) last--;
      for (let i = first; i < last; i++) {
        if (b[i] >= 0x80) fail(`bad SysEx data byte ${hex(b[i])} at byte ${i}`);
      }
      return EV_OTHER;
    }
    const length = SYSTEM_DATA_LENGTH[status];
    if (length === undefined) fail(`undefined status byte ${hex(status)} at byte ${this.at}`);
    for (let i = 0; i < length; i++) this.dataByte();
    return EV_OTHER;
  }

  /** The checks mido's meta decoders make (short data raises there). */
  private checkMeta(): void {
    const t = this.metaType;
    const n = this.dataLength;
    const need = (min: number, name: string) => {
      if (n < min) fail(`${name} meta event at byte ${this.at} has ${n} data bytes, expected ${min}`);
    };
    switch (t) {
      case 0x00:
        if (n === 1) need(2, "sequence number");
        break;
      case 0x20:
        need(1, "channel prefix");
        break;
      case 0x51:
        need(3, "set tempo");
        break;
      case 0x54:
        need(5, "SMPTE offset");
        break;
      case 0x58:
        need(4, "time signature");
        break;
      case 0x59: {
        need(2, "key signature");
        const sf = this.signedByte(this.dataStart);
        const mi = this.bytes[this.dataStart + 1];
        if (sf < -7 || sf > 7 || (mi !== 0 && mi !== 1)) {
          fail(`bad key signature at byte ${this.at}: ${sf} sharps/flats, mode ${mi}`);
        }
        break;
      }
    }
  }

  signedByte(at: number): number {
    const v = this.bytes[at];
    return v >= 0x80 ? v - 256 : v;
  }

  byte(at: number): number {
    return this.bytes[at];
  }
}

// ---------------------------------------------------------------------------------------------------
// pretty_midi level

interface RawBend {
  time: number;
  bend: number;
}

interface RawControl {
  time: number;
  number: number;
  value: number;
}

interface Instrument {
  index: number;
  program: number;
  isDrum: boolean;
  name: string;
  notes: Note[];
  // Shared by reference with a straggler (and with other instruments of the same channel and track)
  // exactly as pretty_midi shares the Python lists.
  bends: RawBend[];
  controls: RawControl[];
}

interface Straggler {
  bends: RawBend[];
  controls: RawControl[];
}

/** Tonic pitch class of a key signature with `sf` sharps (negative: flats), major or minor. */
function keyPitchClass(sf: number, minor: boolean): number {
  return (((7 * sf + (minor ? 9 : 0)) % 12) + 12) % 12;
}

interface TimingEvent {
  tick: number;
  a: number;
  b: number;
}

/**
 * Tempo, time signature and key signature events of track 0 (pretty_midi reads them from there only).
 *
 * Track 0 is read in one pass with the tempo map growing as its events come: the time of a tick
 * depends only on the tempos at or before it, and a tempo that starts at tick t gives t the same float
 * value as the segment before it (starts[i] is computed with that very expression), so the times of
 * track 0's notes equal those computed with the finished map.
 */
class Timing {
  readonly tempo: TempoMap;
  readonly timeSigs: TimingEvent[] = [];
  readonly keySigs: TimingEvent[] = [];

  constructor(private readonly resolution: number) {
    this.tempo = new TempoMap(resolution);
  }

  add(c: TrackCursor): void {
    const d = c.dataStart;
    if (c.metaType === 0x51) {
      const us = (c.byte(d) << 16) | (c.byte(d + 1) << 8) | c.byte(d + 2);
      if (us === 0) fail(`tempo 0 (0 microseconds per quarter note) at byte ${c.at}`);
      const bpm = 6e7 / us;
      this.tempo.addTempo(c.tick, 60 / (bpm * this.resolution));
    } else if (c.metaType === 0x58) {
      const numerator = c.byte(d);
      const exponent = c.byte(d + 1);
      if (numerator === 0) fail(`time signature with numerator 0 at byte ${c.at}`);
      // note_seq stores the denominator as an int32.
      if (exponent > 30) fail(`time signature denominator 2^${exponent} at byte ${c.at} is too large`);
      this.timeSigs.push({ tick: c.tick, a: numerator, b: 2 ** exponent });
    } else if (c.metaType === 0x59) {
      const minor = c.byte(d + 1) === 1;
      this.keySigs.push({ tick: c.tick, a: keyPitchClass(c.signedByte(d), minor), b: minor ? 1 : 0 });
    }
  }
}

/** Options of `readMidi`. */
export interface ReadMidiOptions {
  /**
   * Told, in one line each, what the file holds that the NoteSequence leaves out (as Magenta does, but
   * silently): note-ons that never end.
   */
  onWarning?: (message: string) => void;
}

/**
 * Reads a Standard MIDI File. Throws MidiError (one line, no file name) when the bytes are not a MIDI
 * file this reader accepts.
 */
export function readMidi(bytes: Uint8Array, opts: ReadMidiOptions = {}): NoteSequence {
  const layout = readLayout(bytes);
  const resolution = layout.resolution;
  const timing = new Timing(resolution);
  const { tempo, timeSigs, keySigs } = timing;

  const instruments: Instrument[] = [];
  const instrumentMap = new Map<number, Instrument>();

  layout.tracks.forEach((chunk, track) => {
    const stragglers = new Map<number, Straggler>();
    // (channel, pitch) → open note-ons as [tick, velocity, tick, velocity, ...]; empty = none (pretty_midi
    // never keeps an empty list for a key).
    const openNotes: number[][] = [];
    const programs = new Uint8Array(16);
    let trackName = "";

    const instrumentKey = (program: number, channel: number) => channel * 128 + program;

    const noteInstrument = (program: number, channel: number): Instrument => {
      const key = instrumentKey(program, channel);
      let inst = instrumentMap.get(track * 2048 + key);
      if (inst) return inst;
      const straggler = stragglers.get(channel);
      inst = {
        index: instruments.length,
        program,
        isDrum: channel === 9,
        name: trackName,
        notes: [],
        bends: straggler ? straggler.bends : [],
        controls: straggler ? straggler.controls : [],
      };
      instruments.push(inst);
      instrumentMap.set(track * 2048 + key, inst);
      return inst;
    };

    // pretty_midi's __get_instrument(..., create_new=False): the instrument if it exists, else the
    // channel's straggler, created on first use.
    const eventTarget = (program: number, channel: number): Straggler => {
      const inst = instrumentMap.get(track * 2048 + instrumentKey(program, channel));
      if (inst) return inst;
      let straggler = stragglers.get(channel);
      if (!straggler) {
        straggler = { bends: [], controls: [] };
        stragglers.set(channel, straggler);
      }
      return straggler;
    };

    const c = new TrackCursor(bytes, chunk);
    for (let kind = c.next(); kind !== EV_END; kind = c.next()) {
      if (kind === EV_META) {
        if (track === 0) timing.add(c);
        if (c.metaType === 0x03) {
          let name = "";
          for (let i = c.dataStart; i < c.dataStart + c.dataLength; i++)
            name += String.fromCharCode(c.byte(i));
          trackName = name;
        }
        continue;
      }
      if (kind !== EV_CHANNEL) continue;
      const type = c.status & 0xf0;
      const channel = c.status & 0x0f;
      if (type === 0xc0) {
        programs[channel] = c.data1;
      } else if (type === 0x90 && c.data2 > 0) {
        const key = channel * 128 + c.data1;
        const open = openNotes[key];
        if (open) open.push(c.tick, c.data2);
        else openNotes[key] = [c.tick, c.data2];
      } else if (type === 0x80 || type === 0x90) {
        const open = openNotes[channel * 128 + c.data1];
        if (!open || open.length === 0) continue; // spurious note-off
        const endTick = c.tick;
        let kept = 0;
        let closed = 0;
        for (let i = 0; i < open.length; i += 2) {
          const startTick = open[i];
          if (startTick === endTick) {
            open[kept++] = startTick;
            open[kept++] = open[i + 1];
            continue;
          }
          const program = programs[channel];
          const inst = noteInstrument(program, channel);
          inst.notes.push(
            createNote({
              pitch: c.data1,
              velocity: open[i + 1],
              startTime: tempo.seconds(startTick),
              endTime: tempo.seconds(endTick),
              instrument: inst.index,
              program,
              isDrum: inst.isDrum,
            }),
          );
          closed++;
        }
        // A note-on at this very tick stays open only if something was closed (pretty_midi's rule).
        open.length = closed > 0 ? kept : 0;
      } else if (type === 0xe0) {
        const target = eventTarget(programs[channel], channel);
        target.bends.push({ time: tempo.seconds(c.tick), bend: (c.data1 | (c.data2 << 7)) - 8192 });
      } else if (type === 0xb0) {
        const target = eventTarget(programs[channel], channel);
        target.controls.push({ time: tempo.seconds(c.tick), number: c.data1, value: c.data2 });
      }
    }
    if (opts.onWarning) {
      // pretty_midi drops a note-on with no note-off; say so, naming the first one.
      let unended = 0;
      let first = "";
      openNotes.forEach((open, key) => {
        if (!open || open.length === 0) return;
        if (unended === 0) first = `pitch ${key % 128} on channel ${(key >> 7) + 1} at tick ${open[0]}`;
        unended += open.length / 2;
      });
      if (unended > 0) {
        opts.onWarning(
          `track ${track}: ${unended} note-on${unended === 1 ? "" : "s"} never end${unended === 1 ? "s" : ""} ` +
            `(first: ${first}); dropped, as Magenta does`,
        );
      }
    }
  });

  const timeSignatures: TimeSignature[] = timeSigs.map((e) => ({
    time: tempo.seconds(e.tick),
    numerator: e.a,
    denominator: e.b,
  }));
  const keySignatures: KeySignature[] = keySigs.map((e) => ({
    time: tempo.seconds(e.tick),
    key: e.a,
    mode: e.b,
  }));
  const tempos: Tempo[] = tempo.ticks.map((tick, i) => ({ time: tempo.seconds(tick), qpm: tempo.qpm(i) }));

  const notes: Note[] = [];
  const pitchBends: PitchBend[] = [];
  const controlChanges: ControlChange[] = [];
  const instrumentInfos: InstrumentInfo[] = [];
  let totalTime = 0;
  for (const inst of instruments) {
    const { index: instrument, program, isDrum } = inst;
    if (inst.name) instrumentInfos.push({ instrument, name: inst.name });
    for (const note of inst.notes) {
      notes.push(note);
      if (note.endTime > totalTime) totalTime = note.endTime;
    }
    for (const b of inst.bends) pitchBends.push({ time: b.time, bend: b.bend, instrument, program, isDrum });
    for (const cc of inst.controls) {
      controlChanges.push({
        time: cc.time,
        quantizedStep: 0,
        controlNumber: cc.number,
        controlValue: cc.value,
        instrument,
        program,
        isDrum,
      });
    }
  }

  return createNoteSequence({
    ticksPerQuarter: resolution,
    sourceInfo: { sourceType: 0, encodingType: EncodingType.MIDI, parser: Parser.PRETTY_MIDI },
    timeSignatures,
    keySignatures,
    tempos,
    notes,
    totalTime,
    pitchBends,
    controlChanges,
    instrumentInfos,
  });
}
