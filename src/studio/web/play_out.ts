/**
 * Where the Play tab's notes sound: the built-in synth, or a MIDI output (Web MIDI) instead; and the queue
 * that hands the model's notes to it a little ahead of the audio clock (a scheduled note starts exactly on
 * time), so that when the player cuts in, what has not started is dropped and what sounds is released.
 */
import type { Note } from "../../notesequence.js";
import type { Synth, Voice } from "./synth.js";

/** Starts a note at audio time `at` (the AudioContext's clock). */
export interface Sink {
  start(pitch: number, velocity: number, at: number): Voice;
}

export function synthSink(synth: Synth): Sink {
  return { start: (pitch, velocity, at) => synth.note(pitch, velocity, at) };
}

/**
 * A MIDI output: note-on and note-off on channel 1, timestamped (Web MIDI's `send` takes performance.now()
 * milliseconds; `audioToMs` converts the audio clock).
 */
export function midiSink(output: MIDIOutput, audioToMs: (audioTime: number) => number): Sink {
  return {
    start(pitch, velocity, at) {
      const on = audioToMs(at);
      output.send([0x90, pitch, Math.max(1, Math.min(127, Math.round(velocity)))], on);
      return {
        start: at,
        // Never before its note-on, or the device would hold the note for ever.
        stop: (t) => output.send([0x80, pitch, 0], Math.max(on + 1, audioToMs(t))),
      };
    },
  };
}

interface Active {
  note: Note;
  voice: Voice;
  /** Whether its release was handed to the sink (once, shortly before its end). */
  released: boolean;
}

/**
 * The model's notes waiting to sound, in take seconds. `run` starts those due before the horizon and
 * releases those ending before it; `stop` drops the rest and releases what sounds.
 */
export class NoteQueue {
  private waiting: Note[] = [];
  private active: Active[] = [];

  add(notes: readonly Note[]): void {
    this.waiting.push(...notes);
    this.waiting.sort((a, b) => a.startTime - b.startTime);
  }

  /** Notes not handed to the sink yet. */
  get pending(): readonly Note[] {
    return this.waiting;
  }

  get idle(): boolean {
    return this.waiting.length === 0 && this.active.length === 0;
  }

  /** Pitches sounding at take time `now`. */
  sounding(now: number): Set<number> {
    return new Set(
      this.active.filter((a) => a.note.startTime <= now && a.note.endTime > now).map((a) => a.note.pitch),
    );
  }

  /**
   * Starts the notes due before `horizon` with `start` (take time → a voice) and releases those ending
   * before it (`toAudio` converts take time); returns the notes it started.
   */
  run(horizon: number, start: (n: Note) => Voice, toAudio: (t: number) => number): Note[] {
    const started: Note[] = [];
    while (this.waiting.length > 0 && this.waiting[0].startTime < horizon) {
      const note = this.waiting.shift() as Note;
      this.active.push({ note, voice: start(note), released: false });
      started.push(note);
    }
    for (const a of this.active) {
      if (!a.released && a.note.endTime < horizon) {
        a.voice.stop(toAudio(a.note.endTime));
        a.released = true;
      }
    }
    this.active = this.active.filter((a) => !a.released || a.note.endTime > horizon - 1);
    return started;
  }

  /** Drops every waiting note and releases at audio time `at` those not released before it. */
  stop(at: number, toAudio: (t: number) => number): void {
    this.waiting = [];
    for (const a of this.active) if (!a.released || toAudio(a.note.endTime) > at) a.voice.stop(at);
    this.active = [];
  }
}
