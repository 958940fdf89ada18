/**
 * An offline synthesizer: NoteSequence → 16-bit PCM WAV, so generated music can be heard without a DAW or
 * any download. Pure (runs in Node and in browsers) and deterministic: the same sequence and options give
 * the same bytes on the same JavaScript engine.
 *
 * - Pitched notes: a simple piano-like voice, a few slightly inharmonic partials that each decay
 *   exponentially (the higher ones faster, low notes ringing longer), a short attack ramp, and a quick
 *   release when the key is let go. Velocity sets the loudness and the brightness.
 * - Drums (`isDrum`): short filtered noise bursts, darker and with a low thump for kicks, brighter and
 *   shorter for hi-hats, longer for cymbals.
 * - The mix goes through a soft-knee peak limiter (instant attack, slow release), so dense chords do not
 *   clip, then is rounded to 16 bits. The file lasts until the end of the last note plus `tail` seconds.
 *
 * Cost is linear in notes × sounding time: each partial is a recursive oscillator (a complex
 * multiplication per sample, no `Math.sin` in the loop).
 */
import { checkLimit, LIMITS } from "../limits.js";
import type { Note, NoteSequence } from "../notesequence.js";

/** Options of `renderSamples` and `renderWav`. */
export interface RenderOptions {
  /** Samples per second (default 44100). */
  sampleRate?: number;
  /** Seconds of sound after the end of the last note, for the release to ring out (default 1). */
  tail?: number;
  /** Loudness of one note at full velocity, before the limiter, 0…1 (default 0.3). */
  gain?: number;
}

/** Everything after the last note is `tail` seconds; before a note nothing sounds. */
export function renderLength(ns: NoteSequence, opts: RenderOptions = {}): number {
  const sampleRate = opts.sampleRate ?? 44100;
  const tail = opts.tail ?? 1;
  return Math.max(0, Math.round((sequenceEnd(ns) + Math.max(0, tail)) * sampleRate));
}

function sequenceEnd(ns: NoteSequence): number {
  let end = Number.isFinite(ns.totalTime) ? Math.max(0, ns.totalTime) : 0;
  for (const n of ns.notes) if (Number.isFinite(n.endTime)) end = Math.max(end, n.endTime);
  return end;
}

function checkOptions(opts: RenderOptions): Required<RenderOptions> {
  const sampleRate = opts.sampleRate ?? 44100;
  if (!Number.isInteger(sampleRate) || sampleRate < 1000 || sampleRate > 384000) {
    throw new RangeError(`sample rate must be a whole number from 1000 to 384000, got ${sampleRate}`);
  }
  const tail = opts.tail ?? 1;
  if (!(tail >= 0) || !Number.isFinite(tail)) throw new RangeError(`tail must be 0 or more, got ${tail}`);
  const gain = opts.gain ?? 0.3;
  if (!(gain >= 0) || !Number.isFinite(gain)) throw new RangeError(`gain must be 0 or more, got ${gain}`);
  return { sampleRate, tail, gain };
}

/** Below this a partial is inaudible in 16 bits (about −100 dBFS), and is stopped. */
const SILENCE = 1e-5;
const ATTACK_SECONDS = 0.004;
const RELEASE_TAU = 0.07;
/** Relative amplitudes of the partials of the piano voice. */
const PARTIALS = [1, 0.5, 0.28, 0.16, 0.09, 0.05];
/** Stiff-string inharmonicity: partial k sounds at k·f·√(1 + B·k²). */
const INHARMONICITY = 0.0002;

interface Overtone {
  amp: number;
  freq: number;
  /** Decay time constant while the key is down, seconds. */
  tau: number;
}

/** The oscillator constants of a partial: per-sample rotation-and-decay while held and once released. */
function oscillator(p: Overtone, sampleRate: number) {
  const w = (2 * Math.PI * p.freq) / sampleRate;
  const heldRate = 1 / (p.tau * sampleRate);
  const releasedRate = heldRate + 1 / (RELEASE_TAU * sampleRate);
  const rh = Math.exp(-heldRate);
  const rr = Math.exp(-releasedRate);
  return {
    heldA: rh * Math.cos(w),
    heldB: rh * Math.sin(w),
    relA: rr * Math.cos(w),
    relB: rr * Math.sin(w),
    heldRate,
    releasedRate,
  };
}

/** The sample where a partial struck at `start` and released at `release` falls below `SILENCE`. */
function partialEnd(p: Overtone, start: number, release: number, heldRate: number, releasedRate: number) {
  if (p.amp <= SILENCE) return start;
  const heldLength = Math.log(p.amp / SILENCE) / heldRate;
  if (start + heldLength <= release) return start + Math.ceil(heldLength);
  const atRelease = p.amp * Math.exp(-(release - start) * heldRate);
  return release + Math.ceil(Math.log(atRelease / SILENCE) / releasedRate);
}

/**
 * Adds two partials of a piano note to `out` from sample `start` (the second may have amplitude 0):
 * each a sinusoid decaying with its time constant while the key is down (until sample `release`) and
 * faster after, faded in over `attack` samples. Each is a recursive oscillator, a rotation-and-decay
 * of (re, im) per sample, with the output the imaginary part (so it starts at 0, without a click).
 * Two at a time because the two multiply chains then overlap in the CPU: about twice the speed of one.
 * The loops stop where both partials have fallen below `SILENCE`, computed up front.
 */
function addPartialPair(
  out: Float64Array,
  start: number,
  release: number,
  p: Overtone,
  q: Overtone,
  attack: number,
  sampleRate: number,
): void {
  const op = oscillator(p, sampleRate);
  const oq = oscillator(q, sampleRate);
  const end = Math.min(
    out.length,
    Math.max(
      partialEnd(p, start, release, op.heldRate, op.releasedRate),
      partialEnd(q, start, release, oq.heldRate, oq.releasedRate),
    ),
  );
  if (end <= start) return;
  let re1 = p.amp;
  let im1 = 0;
  let re2 = q.amp;
  let im2 = 0;
  let a1 = op.heldA;
  let b1 = op.heldB;
  let a2 = oq.heldA;
  let b2 = oq.heldB;
  const held = Math.min(release, end);
  const attackEnd = Math.min(start + attack, end);
  let i = start;
  for (; i < attackEnd; i++) {
    if (i === held) {
      a1 = op.relA;
      b1 = op.relB;
      a2 = oq.relA;
      b2 = oq.relB;
    }
    out[i] += ((im1 + im2) * (i - start)) / attack;
    const r1 = re1 * a1 - im1 * b1;
    im1 = re1 * b1 + im1 * a1;
    re1 = r1;
    const r2 = re2 * a2 - im2 * b2;
    im2 = re2 * b2 + im2 * a2;
    re2 = r2;
  }
  for (let segment = 0; segment < 2; segment++) {
    const segmentEnd = segment === 0 ? held : end;
    if (segment === 1 && i >= held) {
      a1 = op.relA;
      b1 = op.relB;
      a2 = oq.relA;
      b2 = oq.relB;
    }
    for (; i < segmentEnd; i++) {
      out[i] += im1 + im2;
      const r1 = re1 * a1 - im1 * b1;
      im1 = re1 * b1 + im1 * a1;
      re1 = r1;
      const r2 = re2 * a2 - im2 * b2;
      im2 = re2 * b2 + im2 * a2;
      re2 = r2;
    }
  }
}

function pianoNote(out: Float64Array, note: Note, sampleRate: number, gain: number): void {
  const velocity = Math.min(127, Math.max(0, note.velocity)) / 127;
  if (velocity === 0) return;
  const start = Math.max(0, Math.round(note.startTime * sampleRate));
  if (start >= out.length) return;
  // A note shorter than 30 ms is still struck for 30 ms.
  const release = Math.max(start + Math.round(0.03 * sampleRate), Math.round(note.endTime * sampleRate));
  const f0 = 440 * 2 ** ((note.pitch - 69) / 12);
  const amp = gain * velocity ** 1.5;
  const brightness = 0.45 + 0.55 * velocity;
  const tau1 = Math.min(6, Math.max(0.3, 2 * (261.63 / f0) ** 0.6));
  const attack = Math.max(1, Math.round(ATTACK_SECONDS * sampleRate));

  const partials: Overtone[] = [];
  for (let k = 1; k <= PARTIALS.length; k++) {
    const freq = k * f0 * Math.sqrt(1 + INHARMONICITY * k * k);
    if (freq >= 0.45 * sampleRate) break;
    partials.push({ amp: PARTIALS[k - 1] * brightness ** (k - 1), freq, tau: tau1 / (1 + 0.7 * (k - 1)) });
  }
  const total = partials.reduce((s, p) => s + p.amp, 0);
  for (const p of partials) p.amp *= amp / total;
  for (let k = 0; k < partials.length; k += 2) {
    const q = partials[k + 1] ?? { amp: 0, freq: 0, tau: 1 };
    addPartialPair(out, start, release, partials[k], q, attack, sampleRate);
  }
}

/** A deterministic 32-bit xorshift generator, uniform in [-1, 1). */
function noise(seed: number): () => number {
  let x = seed >>> 0 || 0x9e3779b9;
  return () => {
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    return x / 2 ** 31 - 1;
  };
}

interface DrumVoice {
  /** Noise decay time constant, seconds. */
  tau: number;
  /** One-pole low-pass coefficient on the noise (0 = no filtering, near 1 = dark). */
  lowpass: number;
  /** Subtract the low-passed noise instead (a high-pass), for hats and cymbals. */
  highpass: boolean;
  /** An optional pitched body: start and end frequency (Hz) and decay. */
  body?: { from: number; to: number; tau: number; level: number };
  level: number;
}

/** General MIDI percussion key → a rough voice. */
function drumVoice(pitch: number): DrumVoice {
  switch (pitch) {
    case 35:
    case 36: // bass drums
      return {
        tau: 0.02,
        lowpass: 0.9,
        highpass: false,
        body: { from: 120, to: 45, tau: 0.12, level: 1 },
        level: 0.5,
      };
    case 38:
    case 40: // snares
      return {
        tau: 0.07,
        lowpass: 0.3,
        highpass: false,
        body: { from: 220, to: 180, tau: 0.05, level: 0.5 },
        level: 0.8,
      };
    case 42:
    case 44: // closed and pedal hi-hats
      return { tau: 0.025, lowpass: 0.6, highpass: true, level: 0.6 };
    case 46: // open hi-hat
      return { tau: 0.12, lowpass: 0.6, highpass: true, level: 0.5 };
    case 49:
    case 51:
    case 52:
    case 53:
    case 55:
    case 57:
    case 59: // cymbals
      return { tau: 0.35, lowpass: 0.5, highpass: true, level: 0.4 };
    case 41:
    case 43:
    case 45:
    case 47:
    case 48:
    case 50: {
      // toms, higher for higher keys
      const f = 80 * 2 ** ((pitch - 41) / 12);
      return {
        tau: 0.03,
        lowpass: 0.7,
        highpass: false,
        body: { from: f * 1.5, to: f, tau: 0.15, level: 0.9 },
        level: 0.4,
      };
    }
    default:
      return { tau: 0.05, lowpass: 0.4, highpass: false, level: 0.6 };
  }
}

function drumNote(out: Float64Array, note: Note, index: number, sampleRate: number, gain: number): void {
  const velocity = Math.min(127, Math.max(0, note.velocity)) / 127;
  if (velocity === 0) return;
  const start = Math.max(0, Math.round(note.startTime * sampleRate));
  if (start >= out.length) return;
  const voice = drumVoice(note.pitch);
  const amp = gain * velocity ** 1.5 * 1.5;
  const longest = Math.max(voice.tau, voice.body?.tau ?? 0);
  const end = Math.min(out.length, start + Math.ceil(longest * Math.log(1 / SILENCE) * sampleRate));
  const rand = noise(Math.imul(start + 1, 0x85ebca6b) ^ Math.imul(note.pitch + 1, 0xc2b2ae35) ^ index);
  const decay = Math.exp(-1 / (voice.tau * sampleRate));
  const attack = Math.max(1, Math.round(0.001 * sampleRate));
  let env = amp * voice.level;
  let lp = 0;
  let phase = 0;
  const body = voice.body;
  const bodyDecay = body ? Math.exp(-1 / (body.tau * sampleRate)) : 0;
  let bodyEnv = body ? amp * body.level : 0;
  // The body's pitch glides from `from` to `to` with a 30 ms time constant.
  const glide = Math.exp(-1 / (0.03 * sampleRate));
  let freq = body ? body.from : 0;
  for (let i = start; i < end; i++) {
    const x = rand();
    lp = voice.lowpass * lp + (1 - voice.lowpass) * x;
    let s = (voice.highpass ? x - lp : lp) * env;
    env *= decay;
    if (body) {
      s += Math.sin(phase) * bodyEnv;
      phase += (2 * Math.PI * freq) / sampleRate;
      freq = body.to + (freq - body.to) * glide;
      bodyEnv *= bodyDecay;
    }
    const k = i - start;
    out[i] += k < attack ? (s * k) / attack : s;
  }
}

/**
 * The soft-knee peak limiter: an envelope that follows peaks at once and falls back over about 0.15 s;
 * below `knee` the gain is 1, above it the level is bent smoothly towards `ceiling`, which it never reaches.
 */
function limit(mix: Float64Array, sampleRate: number, knee = 0.5, ceiling = 0.95): void {
  const fall = Math.exp(-1 / (0.15 * sampleRate));
  const span = ceiling - knee;
  let env = 0;
  for (let i = 0; i < mix.length; i++) {
    const x = mix[i];
    const ax = x < 0 ? -x : x;
    env = ax > env ? ax : env * fall;
    if (env > knee) mix[i] = (x * (knee + span * Math.tanh((env - knee) / span))) / env;
  }
}

/** The mono mix, −1…1, of `renderLength` samples: for a Web Audio AudioBuffer, say. */
export function renderSamples(ns: NoteSequence, opts: RenderOptions = {}): Float32Array {
  const { sampleRate, gain, tail } = checkOptions(opts);
  const length = renderLength(ns, { sampleRate, tail });
  checkLimit("the audio's length in seconds", Math.ceil(length / sampleRate), LIMITS.renderSeconds);
  const mix = new Float64Array(length);
  ns.notes.forEach((note, index) => {
    if (!Number.isFinite(note.startTime) || !Number.isFinite(note.endTime)) return;
    if (note.isDrum) drumNote(mix, note, index, sampleRate, gain);
    else pianoNote(mix, note, sampleRate, gain);
  });
  limit(mix, sampleRate);
  return Float32Array.from(mix);
}

/** 16-bit PCM WAV bytes (RIFF, one `fmt ` and one `data` chunk) of samples in −1…1, one channel. */
export function encodeWav(samples: Float32Array | Float64Array, sampleRate: number): Uint8Array {
  const dataBytes = samples.length * 2;
  const out = new Uint8Array(44 + dataBytes);
  const view = new DataView(out.buffer);
  const ascii = (offset: number, text: string) => {
    for (let i = 0; i < text.length; i++) out[offset + i] = text.charCodeAt(i);
  };
  ascii(0, "RIFF");
  view.setUint32(4, 36 + dataBytes, true);
  ascii(8, "WAVE");
  ascii(12, "fmt ");
  view.setUint32(16, 16, true); // fmt chunk size
  view.setUint16(20, 1, true); // PCM
  view.setUint16(22, 1, true); // channels
  view.setUint32(24, sampleRate, true);
  view.setUint32(28, sampleRate * 2, true); // byte rate
  view.setUint16(32, 2, true); // block align
  view.setUint16(34, 16, true); // bits per sample
  ascii(36, "data");
  view.setUint32(40, dataBytes, true);
  for (let i = 0; i < samples.length; i++) {
    const s = Math.round(Math.min(1, Math.max(-1, samples[i])) * 32767);
    view.setInt16(44 + i * 2, s, true);
  }
  return out;
}

/** Renders a NoteSequence to a mono 16-bit WAV file's bytes. */
export function renderWav(ns: NoteSequence, opts: RenderOptions = {}): Uint8Array {
  const { sampleRate } = checkOptions(opts);
  return encodeWav(renderSamples(ns, opts), sampleRate);
}
