/**
 * The Play tab's take: the player's notes (the sustain pedal applied to their ends, as note_seq reads a
 * MIDI file's pedal) and the model's, in seconds from the start of the take, at one tempo in 4/4; and the
 * primers cut from it on the 16th grid for the generator. Pure: no DOM, no audio.
 */
import { STEPS_PER_QUARTER } from "../../events/codec.js";
import { createNote, createNoteSequence, type Note, type NoteSequence } from "../../notesequence.js";

/** The two tracks of a take (the `instrument` of its notes; the MIDI file names them). */
export const PLAYER = 0;
export const MODEL = 1;
export const STEPS_PER_BAR = 4 * STEPS_PER_QUARTER;
const TICKS_PER_QUARTER = 220;

export const stepSeconds = (qpm: number) => 60 / qpm / STEPS_PER_QUARTER;

/** A note that still sounds: its key is down, or the pedal holds it. */
interface Open {
  note: Note;
  keyDown: boolean;
}

export class Take {
  /** Finished notes of both tracks, in the order they ended (player) or started (model). */
  readonly notes: Note[] = [];
  private open = new Map<number, Open>();
  private pedal = false;
  /** Goes up with every change (the view redraws when it moved). */
  revision = 0;

  constructor(readonly qpm: number) {}

  /** Whether any of the player's notes sounds. */
  get sounding(): boolean {
    return this.open.size > 0;
  }

  isOpen(pitch: number): boolean {
    return this.open.has(pitch);
  }

  noteOn(pitch: number, velocity: number, t: number): void {
    this.end(pitch, t); // a key struck again ends the note it still sounds
    this.open.set(pitch, {
      note: createNote({ pitch, velocity, startTime: t, endTime: t, instrument: PLAYER }),
      keyDown: true,
    });
    this.revision++;
  }

  noteOff(pitch: number, t: number): void {
    const o = this.open.get(pitch);
    if (!o) return;
    if (this.pedal) o.keyDown = false;
    else this.end(pitch, t);
  }

  sustain(down: boolean, t: number): void {
    this.pedal = down;
    if (down) return;
    for (const [pitch, o] of [...this.open]) if (!o.keyDown) this.end(pitch, t);
  }

  private end(pitch: number, t: number): void {
    const o = this.open.get(pitch);
    if (!o) return;
    o.note.endTime = Math.max(t, o.note.startTime);
    this.notes.push(o.note);
    this.open.delete(pitch);
    this.revision++;
  }

  /** When the player's last finished note ended (0 before any). */
  lastPlayerEnd(): number {
    let end = 0;
    for (const n of this.notes) if (n.instrument === PLAYER) end = Math.max(end, n.endTime);
    return end;
  }

  /** When the player last started or held a note: `now` while one sounds. */
  lastPlayerActivity(now: number): number {
    return this.sounding ? now : this.lastPlayerEnd();
  }

  addModel(notes: readonly Note[]): void {
    for (const n of notes) this.notes.push({ ...n, instrument: MODEL });
    if (notes.length > 0) this.revision++;
  }

  /** The player cut in at `t`: the model's notes from then on are gone, those sounding end at `t`. */
  cutModel(t: number): void {
    for (let i = this.notes.length - 1; i >= 0; i--) {
      const n = this.notes[i];
      if (n.instrument !== MODEL) continue;
      if (n.startTime >= t) this.notes.splice(i, 1);
      else if (n.endTime > t) n.endTime = t;
    }
    this.revision++;
  }

  /** Every note, those still sounding ending at `now`, by start time. */
  notesAt(now: number): Note[] {
    const sounding = [...this.open.values()].map((o) => ({
      ...o.note,
      endTime: Math.max(now, o.note.startTime),
    }));
    return [...this.notes, ...sounding].sort((a, b) => a.startTime - b.startTime || a.pitch - b.pitch);
  }

  count(instrument: number): number {
    let n = 0;
    for (const note of this.notes) if (note.instrument === instrument) n++;
    return n + (instrument === PLAYER ? this.open.size : 0);
  }

  /** The take as a NoteSequence of two tracks, "player" and "polyrnn" (what the MIDI file holds). */
  sequence(now: number): NoteSequence {
    const notes = this.notesAt(now);
    return createNoteSequence({
      tempos: [{ time: 0, qpm: this.qpm }],
      timeSignatures: [{ time: 0, numerator: 4, denominator: 4 }],
      ticksPerQuarter: TICKS_PER_QUARTER,
      instrumentInfos: [
        { instrument: PLAYER, name: "player" },
        { instrument: MODEL, name: "polyrnn" },
      ],
      notes,
      totalTime: notes.reduce((t, n) => Math.max(t, n.endTime), 0),
    });
  }
}

/**
 * Steps fromStep..endStep of `notes` (both tracks alike) as a primer: each note rounded to the 16th grid
 * (at least one step long), shifted to start at fromStep, one track. It ends a quarter step before endStep,
 * so that the generator's rule (Magenta's: new music starts on the step after the primer's end, quantized
 * with cutoff 0, one step later when the primer ends on a step) starts the new music on endStep itself.
 */
export function primerOnGrid(
  notes: readonly Note[],
  qpm: number,
  fromStep: number,
  endStep: number,
): NoteSequence {
  const step = stepSeconds(qpm);
  const totalTime = (endStep - fromStep - 0.25) * step;
  const out: Note[] = [];
  for (const n of notes) {
    const s = Math.round(n.startTime / step);
    const e = Math.max(s + 1, Math.round(n.endTime / step));
    if (e <= fromStep || s >= endStep) continue;
    const start = Math.max(s, fromStep) - fromStep;
    const end = Math.min(e, endStep) - fromStep;
    out.push(
      createNote({
        pitch: n.pitch,
        velocity: n.velocity,
        startTime: start * step,
        endTime: Math.min(end * step, totalTime),
      }),
    );
  }
  return createNoteSequence({
    tempos: [{ time: 0, qpm }],
    timeSignatures: [{ time: 0, numerator: 4, denominator: 4 }],
    ticksPerQuarter: TICKS_PER_QUARTER,
    notes: out.sort((a, b) => a.startTime - b.startTime || a.pitch - b.pitch),
    totalTime,
  });
}

/** A phrase of the player's as a primer, with where it lies in the take (in steps). */
export interface Phrase {
  primer: NoteSequence;
  /** The bar line at or before its first note (at most maxBars bars before its end). */
  fromStep: number;
  /** The step its last note ends on: the model's music starts here. */
  endStep: number;
}

/** The player's notes that started at `since` seconds or later, as a phrase; undefined when there are none. */
export function phraseSince(
  notes: readonly Note[],
  qpm: number,
  since: number,
  maxBars: number,
): Phrase | undefined {
  const step = stepSeconds(qpm);
  const mine = notes.filter((n) => n.instrument === PLAYER && n.startTime >= since - 1e-9);
  if (mine.length === 0) return undefined;
  let first = Number.POSITIVE_INFINITY;
  let endStep = 0;
  for (const n of mine) {
    const s = Math.round(n.startTime / step);
    first = Math.min(first, s);
    endStep = Math.max(endStep, s + 1, Math.round(n.endTime / step));
  }
  const lastBar = Math.floor((endStep - 1) / STEPS_PER_BAR) * STEPS_PER_BAR;
  const fromStep = Math.max(
    Math.floor(first / STEPS_PER_BAR) * STEPS_PER_BAR,
    lastBar - (maxBars - 1) * STEPS_PER_BAR,
  );
  return { primer: primerOnGrid(mine, qpm, fromStep, endStep), fromStep, endStep };
}

/**
 * The model's music (the generator's new music, from 0, as the worker returns it with excludePrimer) placed
 * at `at` seconds of the take and cut at `length` seconds: notes of the model's track.
 */
export function placeAnswer(music: NoteSequence, at: number, length: number): Note[] {
  return music.notes
    .filter((n) => n.startTime < length - 1e-9)
    .map((n) =>
      createNote({
        pitch: n.pitch,
        velocity: n.velocity,
        startTime: at + n.startTime,
        endTime: at + Math.min(n.endTime, length),
        instrument: MODEL,
      }),
    )
    .sort((a, b) => a.startTime - b.startTime);
}
