/**
 * The Studio's instrument: a small WebAudio piano-like synth, nothing to download. Each note is two
 * oscillators (triangle, and a quieter sine an octave up) through a low-pass filter that closes as the note
 * decays, with a fast attack and a piano-like exponential decay; all voices go through a compressor and a
 * short synthetic room reverb (an impulse response made of decaying noise). Notes are scheduled a little
 * ahead of the audio clock, so long pieces do not create thousands of nodes at once. The same voice plays
 * live notes (`note`: it sounds until released) and a metronome `click`, for the Play tab.
 */
import type { Note, NoteSequence } from "../../notesequence.js";

const LOOKAHEAD = 0.4; // seconds of notes scheduled ahead
const TICK_MS = 100;

function impulse(ctx: BaseAudioContext, seconds: number): AudioBuffer {
  const n = Math.floor(ctx.sampleRate * seconds);
  const buf = ctx.createBuffer(2, n, ctx.sampleRate);
  let seed = 12345;
  for (let ch = 0; ch < 2; ch++) {
    const d = buf.getChannelData(ch);
    for (let i = 0; i < n; i++) {
      seed = (seed * 1103515245 + 12345) >>> 0;
      d[i] = ((seed / 2 ** 32) * 2 - 1) * (1 - i / n) ** 3;
    }
  }
  return buf;
}

/** A note started with `Synth.note`: `stop(at)` releases it at audio time `at` (the last call counts). */
export interface Voice {
  /** Audio time it starts sounding. */
  readonly start: number;
  stop(at: number): void;
}

export class Synth {
  ctx: AudioContext | undefined;
  private master: GainNode | undefined;
  /** The compressor: the metronome goes here, around the reverb. */
  private dry: DynamicsCompressorNode | undefined;
  private voices = new Set<AudioScheduledSourceNode>();
  private timer: ReturnType<typeof setInterval> | undefined;
  private startAt = 0;
  private offset = 0;
  private duration = 0;
  private notes: Note[] = [];
  private next = 0;
  private onEnd: (() => void) | undefined;

  get playing(): boolean {
    return this.timer !== undefined;
  }

  /** The AudioContext's state ("running" while sound can play), or "none" before the first play. */
  get state(): string {
    return this.ctx?.state ?? "none";
  }

  private ensure(): AudioContext {
    if (this.ctx) return this.ctx;
    const ctx = new AudioContext({ latencyHint: "interactive" });
    const comp = ctx.createDynamicsCompressor();
    comp.threshold.value = -18;
    comp.ratio.value = 4;
    const master = ctx.createGain();
    master.gain.value = 0.5;
    const reverb = ctx.createConvolver();
    reverb.buffer = impulse(ctx, 1.6);
    const wet = ctx.createGain();
    wet.gain.value = 0.18;
    master.connect(comp);
    master.connect(reverb);
    reverb.connect(wet);
    wet.connect(comp);
    comp.connect(ctx.destination);
    this.ctx = ctx;
    this.master = master;
    this.dry = comp;
    return ctx;
  }

  /** The running AudioContext (call it from a user gesture's handler before the first live note). */
  async start(): Promise<AudioContext> {
    const ctx = this.ensure();
    if (ctx.state !== "running") await ctx.resume();
    return ctx;
  }

  /** Plays `ns` from `from` seconds; `onEnd` runs when it reaches the end (not on stop). */
  async play(ns: NoteSequence, from = 0, onEnd?: () => void): Promise<void> {
    this.stop();
    const ctx = this.ensure();
    if (ctx.state !== "running") await ctx.resume();
    this.notes = [...ns.notes].sort((a, b) => a.startTime - b.startTime);
    this.duration = Math.max(ns.totalTime, ...this.notes.map((n) => n.endTime), 0);
    this.offset = from;
    this.startAt = ctx.currentTime + 0.08;
    this.next = this.notes.findIndex((n) => n.startTime >= from);
    if (this.next < 0) this.next = this.notes.length;
    this.onEnd = onEnd;
    this.schedule();
    this.timer = setInterval(() => this.schedule(), TICK_MS);
  }

  /** Seconds into the piece, or -1 when stopped (where it starts until its first note can sound). */
  position(): number {
    if (!this.ctx || this.timer === undefined) return -1;
    return Math.max(this.offset, this.ctx.currentTime - this.startAt + this.offset);
  }

  stop(): void {
    if (this.timer !== undefined) clearInterval(this.timer);
    this.timer = undefined;
    const now = this.ctx?.currentTime ?? 0;
    for (const v of this.voices) {
      try {
        v.stop(now + 0.05);
      } catch {
        // already stopped
      }
    }
    this.voices.clear();
  }

  private schedule(): void {
    const pos = this.position();
    while (this.next < this.notes.length && this.notes[this.next].startTime < pos + LOOKAHEAD) {
      const n = this.notes[this.next++];
      if (!n.isDrum) this.voice(n, this.startAt + n.startTime - this.offset);
    }
    if (pos >= this.duration + 0.3) {
      const done = this.onEnd;
      this.stop();
      done?.();
    }
  }

  private voice(n: Note, when: number): void {
    const v = this.note(n.pitch, n.velocity, when, this.voices);
    v.stop(v.start + Math.max(0.05, n.endTime - n.startTime));
  }

  /**
   * Starts a note at audio time `when` (now, if that has passed) that sounds until its `stop`. Its
   * oscillators join `group` while they sound (the playback's voices, which `stop()` silences); live notes
   * have none: their owner stops them.
   */
  note(pitch: number, velocity: number, when: number, group?: Set<AudioScheduledSourceNode>): Voice {
    const ctx = this.ensure();
    const t0 = Math.max(when, ctx.currentTime);
    const freq = 440 * 2 ** ((pitch - 69) / 12);
    const vel = Math.max(0.05, velocity / 127);
    const peak = 0.22 * vel;
    // Higher notes decay faster, as on a piano.
    const decay = Math.max(0.4, 2.6 - (pitch - 36) * 0.03);
    const release = 0.25;

    const env = ctx.createGain();
    env.gain.setValueAtTime(0, t0);
    env.gain.linearRampToValueAtTime(peak, t0 + 0.006);
    env.gain.setTargetAtTime(peak * 0.25, t0 + 0.006, decay / 3);

    const filter = ctx.createBiquadFilter();
    filter.type = "lowpass";
    filter.Q.value = 0.7;
    filter.frequency.setValueAtTime(Math.min(12000, freq * (4 + 6 * vel)), t0);
    filter.frequency.setTargetAtTime(Math.min(8000, freq * 2.5), t0 + 0.01, decay / 2);

    const a = ctx.createOscillator();
    a.type = "triangle";
    a.frequency.value = freq;
    const b = ctx.createOscillator();
    b.type = "sine";
    b.frequency.value = freq * 2;
    b.detune.value = 3;
    const bGain = ctx.createGain();
    bGain.gain.value = 0.3;

    a.connect(filter);
    b.connect(bGain);
    bGain.connect(filter);
    filter.connect(env);
    env.connect(this.master as GainNode);
    for (const o of [a, b]) {
      o.start(t0);
      group?.add(o);
      o.onended = () => {
        group?.delete(o);
        o.disconnect();
      };
    }
    return {
      start: t0,
      stop(at: number) {
        if (at <= t0) {
          // Released before it starts: it never sounds.
          for (const o of [a, b]) o.stop(t0);
          return;
        }
        const end = Math.max(at, t0 + 0.01);
        env.gain.setTargetAtTime(0, end, release / 4);
        for (const o of [a, b]) {
          try {
            o.stop(end + release * 2);
          } catch {
            // already stopped
          }
        }
      },
    };
  }

  /** A metronome click at audio time `when`: a short blip, higher on the first beat of a bar. */
  click(when: number, accent: boolean): void {
    const ctx = this.ensure();
    const t0 = Math.max(when, ctx.currentTime);
    const osc = ctx.createOscillator();
    osc.type = "sine";
    osc.frequency.value = accent ? 1760 : 1320;
    const env = ctx.createGain();
    env.gain.setValueAtTime(0, t0);
    env.gain.linearRampToValueAtTime(accent ? 0.35 : 0.22, t0 + 0.002);
    env.gain.setTargetAtTime(0, t0 + 0.004, 0.012);
    osc.connect(env);
    env.connect(this.dry as DynamicsCompressorNode);
    osc.start(t0);
    osc.stop(t0 + 0.08);
    osc.onended = () => osc.disconnect();
  }
}
