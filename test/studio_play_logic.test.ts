/**
 * The Play tab's logic without a browser: the computer keys as a piano, the take (sustain, cutting in, two
 * MIDI tracks), the primers cut on the 16th grid (read by the real generator), the queue that hands the
 * model's notes to the output, and Web MIDI messages.
 */
import { describe, expect, it } from "vitest";
import { generatePolyphony, generateStartStep, totalStepsFor } from "../src/generate/polyphony.js";
import { readMidi, writeMidi } from "../src/io/midi.js";
import { createNote, createNoteSequence, type Note } from "../src/notesequence.js";
import { quantizeNoteSequence } from "../src/pipeline/quantize.js";
import { ComputerKeys, keyLabel } from "../src/studio/web/keys.js";
import { parseMidi } from "../src/studio/web/play_midi.js";
import { midiSink, NoteQueue } from "../src/studio/web/play_out.js";
import {
  MODEL,
  PLAYER,
  phraseSince,
  placeAnswer,
  primerOnGrid,
  stepSeconds,
  Take,
} from "../src/studio/web/play_record.js";
import type { Voice } from "../src/studio/web/synth.js";
import { markovRnn, toyTable } from "./helpers/markov_rnn.js";

const note = (pitch: number, startTime: number, endTime: number, instrument = PLAYER): Note =>
  createNote({ pitch, velocity: 100, startTime, endTime, instrument });

describe("computer keys", () => {
  it("play the home row's white keys and the row above's black keys from C, by position", () => {
    const keys = new ComputerKeys(60);
    const pitches = ["KeyA", "KeyW", "KeyS", "KeyE", "KeyD", "KeyF", "KeyK", "Semicolon", "Quote"].map(
      (code) => (keys.down(code) as { pitch: number }).pitch,
    );
    expect(pitches).toEqual([60, 61, 62, 63, 64, 65, 72, 76, 77]);
    expect(keys.down("KeyQ")).toBeUndefined();
    expect(keys.handles("KeyQ")).toBe(false);
    expect([keyLabel(0), keyLabel(1), keyLabel(16), keyLabel(17), keyLabel(18)]).toEqual([
      "A",
      "W",
      ";",
      "'",
      undefined,
    ]);
  });

  it("shift octaves within C1..C7, release the pitch a key started, ignore repeats, and hold with Space", () => {
    const keys = new ComputerKeys(60);
    expect(keys.down("KeyA")).toEqual({ type: "on", pitch: 60 });
    expect(keys.down("KeyA")).toBeUndefined(); // held: a repeat
    expect(keys.down("KeyX")).toEqual({ type: "octave", base: 72 });
    expect(keys.up("KeyA")).toEqual({ type: "off", pitch: 60 });
    expect(keys.down("KeyA")).toEqual({ type: "on", pitch: 72 });
    for (let i = 0; i < 10; i++) keys.down("KeyX");
    expect(keys.base).toBe(96);
    for (let i = 0; i < 10; i++) keys.down("KeyZ");
    expect(keys.base).toBe(24);
    expect(keys.down("Space")).toEqual({ type: "sustain", down: true });
    expect(keys.down("Space")).toBeUndefined();
    expect(keys.releaseAll()).toEqual([
      { type: "off", pitch: 72 },
      { type: "sustain", down: false },
    ]);
    expect(keys.up("KeyA")).toBeUndefined();
  });
});

describe("the take", () => {
  it("holds notes with the pedal, ends a note struck again, and cuts the model where the player cuts in", () => {
    const take = new Take(120);
    take.noteOn(60, 90, 0);
    take.noteOff(60, 0.2);
    take.sustain(true, 0.3);
    take.noteOn(64, 80, 0.4);
    take.noteOff(64, 0.5); // the pedal holds it
    expect(take.sounding).toBe(true);
    take.noteOn(67, 70, 0.6);
    take.noteOn(67, 75, 0.8); // struck again: the first ends
    take.noteOff(67, 0.9);
    take.sustain(false, 1.5);
    expect(take.sounding).toBe(false);
    expect(take.lastPlayerEnd()).toBe(1.5);
    take.addModel([note(48, 2, 2.5, MODEL), note(50, 2.5, 3, MODEL), note(52, 3, 4, MODEL)]);
    take.cutModel(2.7);
    const ns = take.sequence(5);
    const mine = ns.notes
      .filter((n) => n.instrument === PLAYER)
      .map((n) => [n.pitch, n.startTime, n.endTime]);
    expect(mine).toEqual([
      [60, 0, 0.2],
      [64, 0.4, 1.5],
      [67, 0.6, 0.8],
      [67, 0.8, 1.5],
    ]);
    const model = ns.notes
      .filter((n) => n.instrument === MODEL)
      .map((n) => [n.pitch, n.startTime, n.endTime]);
    expect(model).toEqual([
      [48, 2, 2.5],
      [50, 2.5, 2.7],
    ]);
  });

  it("writes a MIDI file of two named tracks at its tempo; a held note ends at the time asked", () => {
    const take = new Take(100);
    take.noteOn(60, 90, 0);
    take.noteOff(60, 0.6);
    take.addModel([note(67, 1.2, 1.8, MODEL)]);
    take.noteOn(62, 80, 2);
    const back = readMidi(writeMidi(take.sequence(2.5)));
    expect(back.tempos[0].qpm).toBeCloseTo(100, 6);
    expect(back.instrumentInfos.map((i) => i.name)).toEqual(["player", "polyrnn"]);
    const byTrack = (name: string) => {
      const id = back.instrumentInfos.find((i) => i.name === name)?.instrument;
      return back.notes
        .filter((n) => n.instrument === id)
        .map((n) => [n.pitch, n.velocity, +n.endTime.toFixed(2)]);
    };
    expect(byTrack("player")).toEqual([
      [60, 90, 0.6],
      [62, 80, 2.5],
    ]);
    expect(byTrack("polyrnn")).toEqual([[67, 100, 1.8]]);
  });
});

describe("primers on the 16th grid", () => {
  it("round notes to steps and end so that the new music starts on the end step itself, at any tempo", () => {
    for (const qpm of [60, 97, 100, 120, 133, 240]) {
      const step = stepSeconds(qpm);
      const notes = [
        note(60, 0.9 * step, 2.2 * step),
        note(64, 3.1 * step, 3.2 * step),
        note(67, 5 * step, 9 * step),
      ];
      const primer = primerOnGrid(notes, qpm, 0, 8);
      expect(generateStartStep(primer), `at ${qpm} qpm`).toBe(8);
      const q = quantizeNoteSequence(primer, 4);
      expect(q.notes.map((n) => [n.pitch, n.quantizedStartStep, n.quantizedEndStep])).toEqual([
        [60, 1, 2],
        [64, 3, 4], // a short note lasts a step
        [67, 5, 8], // cut at the end step
      ]);
      // The generator takes it: the new music is the 16 steps asked for.
      const out = generatePolyphony(markovRnn(toyTable), {
        primer,
        numSteps: totalStepsFor(primer, 16),
        numOutputs: 1,
        conditionOnPrimer: true,
        injectPrimerDuringGeneration: false,
        wellFormed: true,
        temperature: 1,
        beamSize: 1,
        branchFactor: 1,
        stepsPerIteration: 1,
        seed: 3,
        excludePrimer: true,
      });
      expect(out.generateStartStep).toBe(8);
      expect(out.sequences[0].totalTime).toBeCloseTo(16 * step, 6);
    }
  });

  it("cut a phrase from the bar line before its first note, at most maxBars bars, only the player's notes since a time", () => {
    const step = stepSeconds(120);
    const notes = [
      note(50, 1 * step, 3 * step), // before `since`
      note(60, 20 * step, 22 * step),
      note(62, 22 * step, 26 * step),
      note(70, 23 * step, 24 * step, MODEL),
    ];
    const p = phraseSince(notes, 120, 10 * step, 8);
    expect(p?.fromStep).toBe(16);
    expect(p?.endStep).toBe(26);
    expect(p?.primer.notes.map((n) => [n.pitch, Math.round(n.startTime / step)])).toEqual([
      [60, 4],
      [62, 6],
    ]);
    expect(phraseSince(notes, 120, 30 * step, 8)).toBeUndefined();
    // A long phrase: its last two bars.
    const long = Array.from({ length: 20 }, (_, i) => note(60 + (i % 5), i * 4 * step, (i * 4 + 2) * step));
    const cut = phraseSince(long, 120, 0, 2);
    expect(cut?.endStep).toBe(78);
    expect(cut?.fromStep).toBe(48);
  });

  it("harmonise: the melody injected into the generator comes back on its steps from the phrase's bar line", () => {
    const qpm = 120;
    const step = stepSeconds(qpm);
    // A melody from the second bar: steps 18, 22, 26 (2, 6, 10 after its bar line), ending on step 28.
    const melody = [
      note(60, 18 * step, 20 * step),
      note(64, 22 * step, 24 * step),
      note(67, 26 * step, 28 * step),
    ];
    const p = phraseSince(melody, qpm, 0, 8);
    if (!p) throw new Error("no phrase");
    for (const condition of [true, false]) {
      const out = generatePolyphony(markovRnn(toyTable), {
        primer: p.primer,
        numSteps: totalStepsFor(p.primer, 16),
        numOutputs: 1,
        conditionOnPrimer: condition,
        injectPrimerDuringGeneration: true,
        wellFormed: true,
        temperature: 1,
        beamSize: 1,
        branchFactor: 1,
        stepsPerIteration: 1,
        seed: 5,
        excludePrimer: true,
      });
      const placed = placeAnswer(out.sequences[0], 32 * step, 16 * step);
      for (const [pitch, s] of [
        [60, 2],
        [64, 6],
        [67, 10],
      ]) {
        expect(
          placed.some((n) => n.pitch === pitch && Math.abs(n.startTime - (32 + s) * step) < 1e-6),
          `${pitch} on step ${s} (condition ${condition})`,
        ).toBe(true);
      }
      expect(placed.every((n) => n.instrument === MODEL && n.endTime <= 48 * step + 1e-9)).toBe(true);
    }
  });
});

describe("the model's notes to the output", () => {
  function recorder() {
    const log: string[] = [];
    const start = (n: Note): Voice => {
      log.push(`on ${n.pitch}@${n.startTime}`);
      return { start: n.startTime, stop: (at) => log.push(`off ${n.pitch}@${at}`) };
    };
    return { log, start };
  }

  it("start notes due before the horizon, release them before their end, and stop: dropping the rest", () => {
    const q = new NoteQueue();
    q.add([note(62, 1, 1.5, MODEL), note(60, 0, 2, MODEL), note(64, 3, 4, MODEL)]);
    const { log, start } = recorder();
    expect(q.run(0.1, start, (t) => t + 100).map((n) => n.pitch)).toEqual([60]);
    expect(q.run(1.6, start, (t) => t + 100).map((n) => n.pitch)).toEqual([62]);
    expect(q.sounding(1.2)).toEqual(new Set([60, 62]));
    expect(q.pending.map((n) => n.pitch)).toEqual([64]);
    q.stop(101.7, (t) => t + 100);
    expect(q.idle).toBe(true);
    expect(q.run(10, start, (t) => t)).toEqual([]);
    expect(log).toEqual(["on 60@0", "on 62@1", "off 62@101.5", "off 60@101.7"]);
  });

  it("to MIDI: note-on at its time, note-off never before it", () => {
    const sent: [number[], number][] = [];
    const out = { send: (data: number[], t: number) => sent.push([data, t]) } as unknown as MIDIOutput;
    const sink = midiSink(out, (audio) => audio * 1000);
    const v = sink.start(60, 200, 2);
    v.stop(1); // cut in before it started
    const w = sink.start(62, 64, 3);
    w.stop(3.5);
    expect(sent).toEqual([
      [[0x90, 60, 127], 2000],
      [[0x80, 60, 0], 2001],
      [[0x90, 62, 64], 3000],
      [[0x80, 62, 0], 3500],
    ]);
  });
});

describe("MIDI messages", () => {
  it("read note-on, note-off (also as velocity 0) and the sustain pedal on any channel; ignore the rest", () => {
    expect(parseMidi([0x93, 60, 99])).toEqual({ type: "on", pitch: 60, velocity: 99 });
    expect(parseMidi([0x93, 60, 0])).toEqual({ type: "off", pitch: 60 });
    expect(parseMidi([0x80, 61, 64])).toEqual({ type: "off", pitch: 61 });
    expect(parseMidi([0xb5, 64, 127])).toEqual({ type: "sustain", down: true });
    expect(parseMidi([0xb0, 64, 10])).toEqual({ type: "sustain", down: false });
    expect(parseMidi([0xb0, 7, 100])).toBeUndefined();
    expect(parseMidi([0xe0, 0, 64])).toBeUndefined();
    expect(parseMidi([0xf8])).toBeUndefined();
  });
});

it("placeAnswer keeps only what starts within the length, cut at it", () => {
  const music = createNoteSequence({
    notes: [note(60, 0, 0.5), note(62, 0.4, 3), note(64, 2, 2.5)],
    totalTime: 3,
  });
  expect(placeAnswer(music, 10, 2).map((n) => [n.pitch, n.startTime, n.endTime, n.instrument])).toEqual([
    [60, 10, 10.5, MODEL],
    [62, 10.4, 12, MODEL],
  ]);
});
