/**
 * The primer flags of polyphony_rnn_generate (spec §5.1), in Magenta's precedence: --primer_pitches, then
 * --primer_melody, then --primer_midi, else an empty primer. Pure: the MIDI bytes are read by the caller.
 */
import { UsageError } from "../errors.js";
import { STEPS_PER_QUARTER } from "../events/codec.js";
import { readMidi } from "../io/midi.js";
import { createNote, createNoteSequence, type NoteSequence } from "../notesequence.js";
import { quantizeNoteSequenceOnBeats } from "../pipeline/quantize.js";
import { splitNoteSequenceOnTimeSignatureChanges } from "../pipeline/split.js";
import { DEFAULT_QPM } from "./polyphony.js";

const STANDARD_PPQ = 220;

/** A Python list literal of integers, as Magenta's flags take them: "[67, 64, 60]". */
export function parseIntList(flag: string, text: string): number[] {
  const m = /^\s*\[\s*(.*?)\s*,?\s*\]\s*$/s.exec(text);
  if (!m) throw new UsageError(`--${flag} takes a list like [60, 64, 67], got "${text}"`);
  if (m[1] === "") return [];
  return m[1].split(",").map((part) => {
    const t = part.trim();
    if (!/^[-+]?\d+$/.test(t)) throw new UsageError(`--${flag}: "${t}" is not a whole number`);
    return Number(t);
  });
}

/** --primer_pitches: a chord of one quarter note at `qpm`, velocity 100. */
export function primerFromPitches(pitches: number[], qpm: number): NoteSequence {
  for (const p of pitches) {
    if (p < 0 || p > 127) throw new UsageError(`--primer_pitches: ${p} is not a MIDI pitch (0..127)`);
  }
  const end = 60 / qpm;
  return createNoteSequence({
    tempos: [{ time: 0, qpm }],
    ticksPerQuarter: STANDARD_PPQ,
    notes: pitches.map((pitch) => createNote({ pitch, velocity: 100, startTime: 0, endTime: end })),
    totalTime: pitches.length > 0 ? end : 0,
  });
}

/**
 * --primer_melody: note_seq Melody events, one per 16th step: 0..127 note-on, -1 note-off, -2 no event
 * (hold). `Melody.to_sequence(qpm)`: a note lasts to the next onset or note-off, or the end of the list.
 */
export function primerFromMelody(events: number[], qpm: number): NoteSequence {
  const secondsPerStep = 60 / qpm / STEPS_PER_QUARTER;
  const ns = createNoteSequence({ tempos: [{ time: 0, qpm }], ticksPerQuarter: STANDARD_PPQ });
  let current: ReturnType<typeof createNote> | undefined;
  events.forEach((e, step) => {
    if (e >= 0 && e <= 127) {
      if (current) current.endTime = step * secondsPerStep;
      current = createNote({ pitch: e, velocity: 100, startTime: step * secondsPerStep });
      ns.notes.push(current);
    } else if (e === -1) {
      if (current) current.endTime = step * secondsPerStep;
      current = undefined;
    } else if (e !== -2) {
      throw new UsageError(`--primer_melody: ${e} is not a melody event (-2 hold, -1 off, 0..127 on)`);
    }
  });
  if (current) current.endTime = events.length * secondsPerStep;
  if (ns.notes.length > 0) ns.totalTime = ns.notes[ns.notes.length - 1].endTime;
  return ns;
}

export interface PrimerFlags {
  primerPitches?: string;
  primerMelody?: string;
  /** Bytes of --primer_midi and its path (for messages). */
  primerMidi?: { path: string; bytes: Uint8Array };
  qpm?: number;
}

/** A primer sequence and the flag it came from. */
export interface Primer {
  /** The primer's music (no notes for "none"). */
  sequence: NoteSequence;
  /** Which flag made it: "pitches", "melody", "midi" or "none". */
  source: "pitches" | "melody" | "midi" | "none";
}

export function primerFromFlags(flags: PrimerFlags): Primer {
  const qpm = flags.qpm ?? DEFAULT_QPM;
  if (!(qpm > 0)) throw new UsageError(`--qpm must be positive, got ${flags.qpm}`);
  if (flags.primerPitches) {
    return {
      sequence: primerFromPitches(parseIntList("primer_pitches", flags.primerPitches), qpm),
      source: "pitches",
    };
  }
  if (flags.primerMelody) {
    return {
      sequence: primerFromMelody(parseIntList("primer_melody", flags.primerMelody), qpm),
      source: "melody",
    };
  }
  if (flags.primerMidi) {
    const ns = readMidi(flags.primerMidi.bytes);
    // Magenta: the MIDI file's first tempo overrides --qpm.
    if (!(ns.tempos[0]?.qpm > 0)) ns.tempos = [{ time: 0, qpm }];
    return { sequence: ns, source: "midi" };
  }
  return {
    sequence: createNoteSequence({ tempos: [{ time: 0, qpm }], ticksPerQuarter: STANDARD_PPQ }),
    source: "none",
  };
}

export interface PrimerBars {
  /** One tempo, notes on the 16th grid, totalTime at the end of the last bar kept (or of the music). */
  sequence: NoteSequence;
  /** Bars kept, and bars in the music read (a part after a time-signature change is left out). */
  bars: number;
  totalBars: number;
  stepsPerBar: number;
  /** Tempo changes of the input: read on their beat grid and played at their mean tempo. */
  tempoChanges: number;
}

/**
 * A performance as a primer: its notes read on the beat grid of its tempo map (quantizeNoteSequenceOnBeats,
 * so rubato is no error), played at one tempo (the mean), and cut to its first `bars` bars (all when
 * undefined). Only the music before the first time-signature change is read.
 */
export function primerFirstBars(ns: NoteSequence, bars?: number): PrimerBars {
  const tempoChanges = new Set(ns.tempos.filter((t) => t.time > 0).map((t) => t.qpm)).size;
  const piece = ns.totalTime > 0 ? splitNoteSequenceOnTimeSignatureChanges(ns)[0] : ns;
  const q = quantizeNoteSequenceOnBeats(piece, STEPS_PER_QUARTER);
  const qpm = q.tempos[0]?.qpm || DEFAULT_QPM;
  const ts = q.timeSignatures[0] ?? { time: 0, numerator: 4, denominator: 4 };
  const stepsPerBar = Math.max(1, Math.round((ts.numerator * 4 * STEPS_PER_QUARTER) / ts.denominator));
  const totalSteps = q.totalQuantizedSteps;
  const totalBars = Math.ceil(totalSteps / stepsPerBar);
  const kept = Math.max(0, Math.min(bars ?? totalBars, totalBars));
  const endStep = Math.min(totalSteps, kept * stepsPerBar);
  const secondsPerStep = 60 / qpm / STEPS_PER_QUARTER;
  const sequence = createNoteSequence({
    tempos: [{ time: 0, qpm }],
    timeSignatures: [{ ...ts, time: 0 }],
    keySignatures: q.keySignatures.filter((k) => k.time === 0),
    ticksPerQuarter: ns.ticksPerQuarter || STANDARD_PPQ,
    notes: q.notes
      .filter((n) => n.quantizedStartStep < endStep)
      .map((n) =>
        createNote({
          pitch: n.pitch,
          velocity: n.velocity,
          program: n.program,
          instrument: n.instrument,
          isDrum: n.isDrum,
          startTime: n.quantizedStartStep * secondsPerStep,
          endTime: Math.min(n.quantizedEndStep, endStep) * secondsPerStep,
        }),
      ),
    totalTime: endStep * secondsPerStep,
  });
  return { sequence, bars: kept, totalBars, stepsPerBar, tempoChanges };
}
