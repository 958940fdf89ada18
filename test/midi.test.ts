import { readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { readMidi, TempoMap, writeMidi } from "../src/io/midi.js";
import { createNote, createNoteSequence, type Note, type NoteSequence } from "../src/notesequence.js";

const fixtures = join(dirname(fileURLToPath(import.meta.url)), "fixtures", "midi");

// ---- tiny SMF builder ----------------------------------------------------------------------------
function vlq(n: number): number[] {
  const out = [n & 0x7f];
  for (let v = Math.floor(n / 128); v > 0; v = Math.floor(v / 128)) out.unshift((v & 0x7f) | 0x80);
  return out;
}
/** One event: delta time then raw bytes. */
const ev = (delta: number, ...bytes: number[]) => [...vlq(delta), ...bytes];
const metaEv = (delta: number, type: number, data: number[]) =>
  ev(delta, 0xff, type, ...vlq(data.length), ...data);
const tempo = (delta: number, us: number) => metaEv(delta, 0x51, [us >> 16, (us >> 8) & 0xff, us & 0xff]);
const timeSig = (delta: number, num: number, denExp: number) => metaEv(delta, 0x58, [num, denExp, 24, 8]);
const keySig = (delta: number, sf: number, mi: number) => metaEv(delta, 0x59, [sf & 0xff, mi]);
const trackName = (delta: number, name: string) =>
  metaEv(
    delta,
    0x03,
    [...name].map((c) => c.charCodeAt(0)),
  );
const eot = (delta = 0) => metaEv(delta, 0x2f, []);
function chunk(tag: string, data: number[]): number[] {
  const n = data.length;
  return [
    ...[...tag].map((c) => c.charCodeAt(0)),
    n >>> 24,
    (n >> 16) & 0xff,
    (n >> 8) & 0xff,
    n & 0xff,
    ...data,
  ];
}
const track = (...events: number[][]) => chunk("MTrk", events.flat());
function smf(format: number, division: number, ...tracks: number[][]): Uint8Array {
  const ntracks = tracks.filter((t) => t[0] === 0x4d && t[1] === 0x54 && t[2] === 0x72).length;
  const header = chunk("MThd", [0, format, ntracks >> 8, ntracks & 0xff, division >> 8, division & 0xff]);
  return Uint8Array.from([...header, ...tracks.flat()]);
}

const round9 = (x: number) => Math.round(x * 1e9) / 1e9;

/** The note fields readMidi fills, for compact expectations. */
const brief = (n: Note) => ({
  pitch: n.pitch,
  velocity: n.velocity,
  startTime: n.startTime,
  endTime: n.endTime,
  instrument: n.instrument,
  program: n.program,
  isDrum: n.isDrum,
});

describe("readMidi on seed1.mid (the notebook's primer)", () => {
  const ns = readMidi(readFileSync(join(fixtures, "seed1.mid")));

  it("has the header values of the file", () => {
    expect(ns.ticksPerQuarter).toBe(1024);
    expect(ns.tempos).toEqual([{ time: 0, qpm: 120 }]);
    expect(ns.timeSignatures).toEqual([{ time: 0, numerator: 4, denominator: 4 }]);
    expect(ns.keySignatures).toEqual([]);
    expect(ns.sourceInfo).toEqual({ sourceType: 0, encodingType: 3, parser: 2 });
    expect(ns.instrumentInfos).toEqual([]); // the track name is empty
    // A pitch-bend reset before the first note: a pretty_midi "straggler" that joins instrument 0.
    expect(ns.pitchBends).toEqual([{ time: 0, bend: 0, instrument: 0, program: 0, isDrum: false }]);
    expect(ns.controlChanges).toEqual([]);
  });

  it("has exactly its 12 notes: eighth-note triplets from beat 2 (341 or 342 ticks of 1024 each)", () => {
    // At 120 qpm and 1024 ticks per quarter one tick is 1/2048 s; a triplet eighth is 341.33 ticks.
    const t = (tick: number) => tick / 2048;
    const rows: [number, number, number, number][] = [
      // pitch, velocity, start tick, end tick
      [69, 50, 1024, 1365],
      [71, 46, 1365, 1706],
      [72, 46, 1707, 2048],
      [71, 50, 2048, 2389],
      [72, 46, 2389, 2730],
      [74, 46, 2731, 3072],
      [64, 50, 3072, 3413],
      [66, 44, 3413, 3754],
      [76, 65, 3072, 4096], // a quarter note held over the triplets
      [68, 44, 3755, 4096],
      [69, 50, 4096, 4437],
      [66, 52, 4096, 4437],
    ];
    expect(ns.notes.map(brief)).toEqual(
      rows.map(([pitch, velocity, s, e]) => ({
        pitch,
        velocity,
        startTime: t(s),
        endTime: t(e),
        instrument: 0,
        program: 0,
        isDrum: false,
      })),
    );
    expect(ns.notes[0].startTime).toBe(0.5);
    expect(ns.notes[1].startTime).toBe(0.66650390625);
    expect(ns.totalTime).toBe(2.16650390625);
  });
});

describe("readMidi on hand-built files", () => {
  it("reads format 0 with running status and velocity-0 note-offs", () => {
    const bytes = smf(
      0,
      480,
      track(
        tempo(0, 500000),
        ev(0, 0x90, 60, 100),
        ev(0, 64, 90), // running status: note-on E4
        ev(480, 60, 0), // running status, velocity 0 = note-off
        ev(0, 64, 0),
        ev(240, 0x80, 67, 0), // spurious note-off: ignored
        ev(0, 0x90, 67, 70), // never closed: dropped
        eot(),
      ),
    );
    const ns = readMidi(bytes);
    expect(ns.ticksPerQuarter).toBe(480);
    expect(ns.notes.map(brief)).toEqual([
      { pitch: 60, velocity: 100, startTime: 0, endTime: 0.5, instrument: 0, program: 0, isDrum: false },
      { pitch: 64, velocity: 90, startTime: 0, endTime: 0.5, instrument: 0, program: 0, isDrum: false },
    ]);
    expect(ns.totalTime).toBe(0.5);
    expect(ns.timeSignatures).toEqual([]);
  });

  it("converts ticks to seconds across tempo changes, and reads time and key signatures", () => {
    const bytes = smf(
      1,
      480,
      track(
        tempo(0, 500000), // 120 qpm
        timeSig(0, 3, 2), // 3/4
        keySig(0, -3, 1), // C minor
        tempo(960, 1000000), // 60 qpm from tick 960 (1 s)
        keySig(0, 2, 0), // D major
        tempo(480, 1000000), // a repeated tempo is ignored
        timeSig(0, 6, 3), // 6/8 at tick 1440 = 2 s
        tempo(480, 250000), // 240 qpm from tick 1920 = 3 s
        eot(),
      ),
      track(
        ev(480, 0x90, 60, 80), // tick 480 = 0.5 s
        ev(960, 0x80, 60, 0), // tick 1440 = 1 s + 480 ticks at 60 qpm = 2 s
        ev(480, 0x90, 62, 80), // tick 1920 = 3 s
        ev(960, 0x90, 62, 0), // tick 2880 = 3 s + 960 ticks at 240 qpm = 3.5 s
        eot(),
      ),
    );
    const ns = readMidi(bytes);
    expect(ns.tempos).toEqual([
      { time: 0, qpm: 120 },
      { time: 1, qpm: 60 },
      { time: 3, qpm: 240 },
    ]);
    expect(ns.timeSignatures).toEqual([
      { time: 0, numerator: 3, denominator: 4 },
      { time: 2, numerator: 6, denominator: 8 },
    ]);
    expect(ns.keySignatures).toEqual([
      { time: 0, key: 0, mode: 1 },
      { time: 1, key: 2, mode: 0 },
    ]);
    expect(ns.notes.map((n) => [n.pitch, n.startTime, n.endTime])).toEqual([
      [60, 0.5, 2],
      [62, 3, 3.5],
    ]);
    expect(ns.totalTime).toBe(3.5);
  });

  it("takes tempos, time and key signatures from track 0 only", () => {
    const bytes = smf(
      1,
      96,
      track(timeSig(0, 2, 2), eot()),
      track(
        tempo(0, 1000000),
        timeSig(0, 5, 2),
        keySig(0, 1, 0),
        ev(0, 0x90, 60, 1),
        ev(96, 0x90, 60, 0),
        eot(),
      ),
    );
    const ns = readMidi(bytes);
    expect(ns.tempos).toEqual([{ time: 0, qpm: 120 }]);
    expect(ns.timeSignatures).toEqual([{ time: 0, numerator: 2, denominator: 4 }]);
    expect(ns.keySignatures).toEqual([]);
    expect(ns.notes[0].endTime).toBe(0.5);
  });

  it("maps every key signature to Magenta's key and mode", () => {
    const keys: [number, number, number][] = [];
    for (const mi of [0, 1]) for (let sf = -7; sf <= 7; sf++) keys.push([sf, mi, 0]);
    const bytes = smf(0, 96, track(...keys.map(([sf, mi]) => keySig(1, sf, mi)), eot()));
    const ns = readMidi(bytes);
    const names = ["C", "C#", "D", "Eb", "E", "F", "F#", "G", "Ab", "A", "Bb", "B"];
    const got = ns.keySignatures.map((k) => names[k.key] + (k.mode === 1 ? "m" : ""));
    // mido's names: Cb Gb Db Ab Eb Bb F C G D A E B F# C# / Abm Ebm Bbm Fm Cm Gm Dm Am Em Bm F#m C#m G#m D#m A#m
    expect(got).toEqual([
      ..."B F# C# Ab Eb Bb F C G D A E B F# C#".split(" "),
      ..."Abm Ebm Bbm Fm Cm Gm Dm Am Em Bm F#m C#m Abm Ebm Bbm".split(" "),
    ]);
  });

  it("splits instruments by program, channel and track; drums on channel 10; names from tracks", () => {
    const bytes = smf(
      1,
      100,
      track(tempo(0, 500000), eot()),
      track(
        trackName(0, "Piano"),
        ev(0, 0x90, 60, 64),
        ev(100, 0x80, 60, 64),
        ev(0, 0xc0, 40), // violin from here on channel 0
        ev(0, 0x90, 67, 64),
        ev(100, 0x80, 67, 0),
        ev(0, 0xc1, 40), // violin on channel 1 too: a separate instrument (different channel)
        ev(0, 0x91, 72, 30),
        ev(50, 0x81, 72, 0),
        eot(),
      ),
      track(trackName(0, "Drums"), ev(0, 0xc9, 5), ev(25, 0x99, 36, 127), ev(25, 0x89, 36, 0), eot()),
      track(ev(0, 0x90, 48, 10), ev(100, 0x80, 48, 0), eot()), // unnamed, program 0 again: new track = new instrument
    );
    const ns = readMidi(bytes);
    expect(ns.notes.map(brief)).toEqual([
      { pitch: 60, velocity: 64, startTime: 0, endTime: 0.5, instrument: 0, program: 0, isDrum: false },
      { pitch: 67, velocity: 64, startTime: 0.5, endTime: 1, instrument: 1, program: 40, isDrum: false },
      { pitch: 72, velocity: 30, startTime: 1, endTime: 1.25, instrument: 2, program: 40, isDrum: false },
      { pitch: 36, velocity: 127, startTime: 0.125, endTime: 0.25, instrument: 3, program: 5, isDrum: true },
      { pitch: 48, velocity: 10, startTime: 0, endTime: 0.5, instrument: 4, program: 0, isDrum: false },
    ]);
    expect(ns.instrumentInfos).toEqual([
      { instrument: 0, name: "Piano" },
      { instrument: 1, name: "Piano" },
      { instrument: 2, name: "Piano" },
      { instrument: 3, name: "Drums" },
    ]);
  });

  it("orders notes instrument by instrument, each in the order the notes were closed", () => {
    const bytes = smf(
      0,
      100,
      track(
        ev(0, 0x90, 60, 1),
        ev(0, 0x91, 50, 2), // channel 1: the second instrument, although its note starts first…
        ev(0, 0x90, 64, 3),
        ev(100, 0x90, 64, 0), // …channel 0's notes close first: E4 then C4
        ev(0, 0x90, 60, 0),
        ev(100, 0x81, 50, 0),
        eot(),
      ),
    );
    const ns = readMidi(bytes);
    expect(ns.notes.map((n) => [n.instrument, n.pitch])).toEqual([
      [0, 64],
      [0, 60],
      [1, 50],
    ]);
  });

  it("closes overlapping notes of one pitch like pretty_midi", () => {
    const bytes = smf(
      0,
      100,
      track(
        // Two note-ons, one note-off: both close on it.
        ev(0, 0x90, 60, 10),
        ev(50, 0x90, 60, 20),
        ev(50, 0x80, 60, 0),
        ev(50, 0x80, 60, 0), // spurious now
        // Re-struck note: the note-on at the note-off's tick stays open and is closed later.
        ev(0, 0x90, 62, 30),
        ev(100, 0x90, 62, 40),
        ev(0, 0x90, 62, 0),
        ev(100, 0x90, 62, 0),
        // Note-on and note-off at one tick with nothing older open: the note is dropped.
        ev(0, 0x90, 64, 50),
        ev(0, 0x90, 64, 0),
        ev(100, 0x90, 64, 0),
        eot(),
      ),
    );
    const ns = readMidi(bytes);
    expect(ns.notes.map((n) => [n.pitch, n.velocity, n.startTime, n.endTime])).toEqual([
      [60, 10, 0, 0.5],
      [60, 20, 0.25, 0.5],
      [62, 30, 0.75, 1.25],
      [62, 40, 1.25, 1.75],
    ]);
  });

  it("keeps pitch bends and control changes, including stragglers before the first note", () => {
    const bytes = smf(
      0,
      100,
      track(
        ev(0, 0xb0, 64, 127), // sustain on before any note: a straggler…
        ev(0, 0xe0, 0x64, 0x40), // bend +100
        ev(0, 0xb3, 7, 100), // channel 4 never plays: its straggler is dropped
        ev(50, 0x90, 60, 90),
        ev(50, 0xe0, 0x00, 0x00), // bend -8192, on the now existing instrument
        ev(0, 0xb0, 64, 0),
        ev(0, 0x80, 60, 0), // …joins the instrument created here
        eot(),
      ),
    );
    const ns = readMidi(bytes);
    expect(ns.notes).toHaveLength(1);
    const common = { instrument: 0, program: 0, isDrum: false };
    expect(ns.pitchBends).toEqual([
      { time: 0, bend: 100, ...common },
      { time: 0.5, bend: -8192, ...common },
    ]);
    expect(ns.controlChanges).toEqual([
      { time: 0, quantizedStep: 0, controlNumber: 64, controlValue: 127, ...common },
      { time: 0.5, quantizedStep: 0, controlNumber: 64, controlValue: 0, ...common },
    ]);
  });

  it("skips unknown chunks, SysEx, other meta events and bytes after End of Track", () => {
    const bytes = smf(
      1,
      100,
      chunk("XFIH", [1, 2, 3, 0xff, 0x90]),
      track(
        ev(0, 0xf0, 3, 0x43, 0x10, 0xf7), // SysEx
        metaEv(0, 0x01, [0x41, 0xe9]), // text
        metaEv(0, 0x7f, [0x00, 0xff]), // sequencer specific
        ev(0, 0x90, 60, 90),
        ev(0, 0xfe), // active sensing: a single-byte system message
        ev(100, 0x80, 60, 0),
        eot(),
        [0xde, 0xad, 0xbe, 0xef], // ignored
      ),
      chunk("XFKM", []),
    );
    const ns = readMidi(bytes);
    expect(ns.notes.map((n) => [n.pitch, n.startTime, n.endTime])).toEqual([[60, 0, 0.5]]);
  });

  it("decodes track names as latin-1", () => {
    const bytes = smf(
      0,
      100,
      track(metaEv(0, 0x03, [0x43, 0x6c, 0xe9]), ev(0, 0x90, 60, 1), ev(1, 0x80, 60, 1), eot()),
    );
    expect(readMidi(bytes).instrumentInfos).toEqual([{ instrument: 0, name: "Clé" }]);
  });

  it("reads a format-2 file and a track without End of Track", () => {
    const bytes = smf(
      2,
      100,
      track(ev(0, 0x90, 60, 1), ev(100, 0x80, 60, 1)),
      track(ev(0, 0x90, 61, 1), ev(50, 0x80, 61, 1)),
    );
    expect(readMidi(bytes).notes.map((n) => [n.instrument, n.pitch, n.endTime])).toEqual([
      [0, 60, 0.5],
      [1, 61, 0.25],
    ]);
  });

  it("parses 200,000 notes in well under a second", () => {
    // Built without spreading 400,000 little arrays, so that the garbage collector does not run
    // inside the timed part.
    const events: number[] = [];
    for (let i = 0; i < 200_000; i++) {
      const pitch = 36 + (i % 48);
      events.push(0, 0x90 | (i % 3), pitch, 64, 1, 0x80 | (i % 3), pitch, 0);
    }
    events.push(...eot());
    const header = [...smf(0, 480), 0x4d, 0x54, 0x72, 0x6b, 0, 0, 0, 0];
    const bytes = new Uint8Array(header.length + events.length);
    bytes.set(header);
    bytes.set(events, header.length);
    new DataView(bytes.buffer).setUint32(header.length - 4, events.length);
    bytes[11] = 1; // one track
    const t0 = performance.now();
    const ns = readMidi(bytes);
    const ms = performance.now() - t0;
    expect(ns.notes).toHaveLength(200_000);
    expect(ms).toBeLessThan(1000);
  });
});

describe("writeMidi", () => {
  it("round-trips seed1.mid note for note", () => {
    const ns = readMidi(readFileSync(join(fixtures, "seed1.mid")));
    const back = readMidi(writeMidi(ns));
    const key = (n: Note) => JSON.stringify(brief(n));
    expect(back.notes.map(key).sort()).toEqual(ns.notes.map(key).sort());
    expect(back.ticksPerQuarter).toBe(1024);
    expect(back.tempos).toEqual(ns.tempos);
    expect(back.timeSignatures).toEqual(ns.timeSignatures);
    expect(back.pitchBends).toEqual(ns.pitchBends);
  });

  it("writes a generated sequence: 220 ticks per quarter, 120 qpm, 4/4, program 0, instrument 0", () => {
    const ns = createNoteSequence({
      notes: [
        createNote({ pitch: 60, velocity: 100, startTime: 0, endTime: 0.5 }),
        createNote({ pitch: 64, velocity: 100, startTime: 0.25, endTime: 1 }),
      ],
      totalTime: 1,
    });
    const bytes = writeMidi(ns);
    // Header: type 1, two tracks (timing + one instrument), 220 ticks per quarter.
    expect(Array.from(bytes.subarray(0, 14))).toEqual([
      0x4d, 0x54, 0x68, 0x64, 0, 0, 0, 6, 0, 1, 0, 2, 0, 220,
    ]);
    const back = readMidi(bytes);
    expect(back.ticksPerQuarter).toBe(220);
    expect(back.tempos).toEqual([{ time: 0, qpm: 120 }]);
    expect(back.timeSignatures).toEqual([{ time: 0, numerator: 4, denominator: 4 }]);
    expect(back.notes.map(brief)).toEqual(ns.notes.map(brief));
  });

  it("keeps tempos, signatures, programs, drums, bends, controls and names", () => {
    const ns: NoteSequence = createNoteSequence({
      ticksPerQuarter: 480,
      tempos: [
        { time: 2, qpm: 80 },
        { time: 0, qpm: 100 },
      ],
      timeSignatures: [
        { time: 0, numerator: 3, denominator: 4 },
        { time: 1.8, numerator: 7, denominator: 8 },
      ],
      keySignatures: [
        { time: 0, key: 9, mode: 1 },
        { time: 1.8, key: 6, mode: 0 },
      ],
      notes: [
        createNote({ pitch: 60, velocity: 80, startTime: 0, endTime: 3, instrument: 0, program: 0 }),
        createNote({ pitch: 60, velocity: 81, startTime: 3, endTime: 4, instrument: 0, program: 0 }),
        createNote({
          pitch: 36,
          velocity: 90,
          startTime: 0.6,
          endTime: 0.9,
          instrument: 1,
          program: 0,
          isDrum: true,
        }),
        createNote({ pitch: 72, velocity: 70, startTime: 1.2, endTime: 2.4, instrument: 2, program: 41 }),
      ],
      pitchBends: [{ time: 0.3, bend: -200, instrument: 2, program: 41, isDrum: false }],
      controlChanges: [
        {
          time: 0,
          quantizedStep: 0,
          controlNumber: 64,
          controlValue: 127,
          instrument: 0,
          program: 0,
          isDrum: false,
        },
      ],
      instrumentInfos: [{ instrument: 2, name: "Viola" }],
    });
    const back = readMidi(writeMidi(ns));
    expect(back.tempos).toEqual([
      { time: 0, qpm: 100 },
      { time: 2, qpm: 80 },
    ]);
    expect(back.timeSignatures).toEqual(ns.timeSignatures);
    expect(back.keySignatures).toEqual(ns.keySignatures);
    const rounded = (n: Note) => ({
      ...brief(n),
      startTime: round9(n.startTime),
      endTime: round9(n.endTime),
    });
    expect(back.notes.map(rounded)).toEqual(ns.notes.map(brief));
    expect(back.pitchBends).toEqual(ns.pitchBends);
    expect(back.controlChanges).toEqual(ns.controlChanges);
    expect(back.instrumentInfos).toEqual(ns.instrumentInfos);
  });

  it("writes tempos as whole microseconds per quarter note", () => {
    const ns = createNoteSequence({ tempos: [{ time: 0, qpm: 90 }] });
    expect(readMidi(writeMidi(ns)).tempos).toEqual([{ time: 0, qpm: 6e7 / 666667 }]); // 89.99995 qpm
  });

  it("rounds times to the nearest tick of the sequence's tempo map", () => {
    const ns = createNoteSequence({
      ticksPerQuarter: 100,
      tempos: [{ time: 0, qpm: 60 }], // 10 ms per tick
      notes: [createNote({ pitch: 60, velocity: 1, startTime: 0.0149, endTime: 0.0151 })],
    });
    const back = readMidi(writeMidi(ns));
    expect(back.notes.map((n) => [n.startTime, n.endTime])).toEqual([[0.01, 0.02]]);
  });

  it("writes a zero-length or velocity-0 note as one tick at velocity 1 rather than dropping it", () => {
    const ns = createNoteSequence({
      ticksPerQuarter: 100,
      notes: [createNote({ pitch: 60, velocity: 0, startTime: 1, endTime: 1 })],
    });
    const back = readMidi(writeMidi(ns));
    expect(back.notes.map((n) => [n.velocity, n.startTime])).toEqual([[1, 1]]);
    expect(back.notes[0].endTime).toBeCloseTo(1.005, 12); // tick 201 of 5 ms
  });

  it("refuses values MIDI cannot hold", () => {
    const bad = (fields: Partial<NoteSequence>) => () => writeMidi(createNoteSequence(fields));
    expect(bad({ notes: [createNote({ pitch: 128, endTime: 1 })] })).toThrow(/pitch 128/);
    expect(bad({ tempos: [{ time: 0, qpm: 0 }] })).toThrow(/tempo 0/);
    expect(bad({ timeSignatures: [{ time: 0, numerator: 3, denominator: 3 }] })).toThrow(/power of 2/);
    expect(bad({ notes: [createNote({ pitch: 60, startTime: 1e9, endTime: 1e9 + 1 })] })).toThrow(
      /too large/,
    );
  });
});

describe("TempoMap", () => {
  it("maps seconds to the nearest tick and back", () => {
    const map = new TempoMap(480);
    map.addTempo(960, 60 / ((6e7 / 1e6) * 480));
    for (const tick of [0, 1, 479, 960, 961, 5000]) expect(map.tick(map.seconds(tick))).toBe(tick);
    expect(map.seconds(960)).toBe(1);
    expect(map.seconds(1440)).toBe(2);
    expect(map.tick(-1)).toBe(0);
  });
});
