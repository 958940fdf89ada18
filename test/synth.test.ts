import { describe, expect, it } from "vitest";
import { createNote, createNoteSequence, type Note } from "../src/notesequence.js";
import { encodeWav, renderLength, renderSamples, renderWav } from "../src/render/synth.js";

function seq(notes: Partial<Note>[], totalTime?: number) {
  const list = notes.map((n) => createNote({ velocity: 100, ...n }));
  return createNoteSequence({
    notes: list,
    totalTime: totalTime ?? Math.max(0, ...list.map((n) => n.endTime)),
  });
}

function pcm(wav: Uint8Array): Int16Array {
  const view = new DataView(wav.buffer, wav.byteOffset, wav.byteLength);
  const n = view.getUint32(40, true) / 2;
  const out = new Int16Array(n);
  for (let i = 0; i < n; i++) out[i] = view.getInt16(44 + 2 * i, true);
  return out;
}

/** Power of `x` at frequency `f` (Goertzel). */
function power(x: ArrayLike<number>, f: number, sampleRate: number): number {
  const coeff = 2 * Math.cos((2 * Math.PI * f) / sampleRate);
  let s1 = 0;
  let s2 = 0;
  for (let i = 0; i < x.length; i++) {
    const s0 = x[i] + coeff * s1 - s2;
    s2 = s1;
    s1 = s0;
  }
  return s1 * s1 + s2 * s2 - coeff * s1 * s2;
}

describe("renderWav", () => {
  it("writes a 16-bit mono PCM WAV header", () => {
    const wav = renderWav(seq([{ pitch: 60, startTime: 0, endTime: 0.5 }]), { sampleRate: 44100 });
    const view = new DataView(wav.buffer, wav.byteOffset, wav.byteLength);
    const ascii = (o: number) => String.fromCharCode(...wav.subarray(o, o + 4));
    expect(ascii(0)).toBe("RIFF");
    expect(view.getUint32(4, true)).toBe(wav.length - 8);
    expect(ascii(8)).toBe("WAVE");
    expect(ascii(12)).toBe("fmt ");
    expect(view.getUint32(16, true)).toBe(16);
    expect(view.getUint16(20, true)).toBe(1); // PCM
    expect(view.getUint16(22, true)).toBe(1); // mono
    expect(view.getUint32(24, true)).toBe(44100);
    expect(view.getUint32(28, true)).toBe(88200); // byte rate
    expect(view.getUint16(32, true)).toBe(2); // block align
    expect(view.getUint16(34, true)).toBe(16); // bits
    expect(ascii(36)).toBe("data");
    expect(view.getUint32(40, true)).toBe(wav.length - 44);
  });

  it("lasts until the last note ends plus the tail, silent before the first note", () => {
    const sr = 22050;
    const ns = seq([{ pitch: 64, startTime: 1, endTime: 1.5 }]);
    const samples = pcm(renderWav(ns, { sampleRate: sr }));
    expect(samples.length).toBe(Math.round((1.5 + 1) * sr));
    expect(renderWav(ns, { sampleRate: sr, tail: 0.25 }).length).toBe(44 + 2 * Math.round(1.75 * sr));
    expect(renderLength(ns, { sampleRate: sr, tail: 2 })).toBe(Math.round(3.5 * sr));
    // Nothing before 1 s, sound right after it.
    expect(samples.subarray(0, sr).every((s) => s === 0)).toBe(true);
    expect(samples.subarray(sr, sr + sr / 10).some((s) => Math.abs(s) > 100)).toBe(true);
    // The release has faded by the end of the tail.
    expect(Math.max(...samples.subarray(samples.length - 100).map(Math.abs))).toBeLessThan(5);
    // totalTime counts too (a sequence can end after its last note).
    expect(renderLength(seq([{ pitch: 60, startTime: 0, endTime: 1 }], 4), { sampleRate: sr })).toBe(5 * sr);
    // An empty sequence is just the tail, silent.
    const empty = pcm(renderWav(createNoteSequence(), { sampleRate: sr }));
    expect(empty.length).toBe(sr);
    expect(empty.every((s) => s === 0)).toBe(true);
  });

  it("keeps the peak in range: audible for one note, limited (not clipped) for a loud cluster", () => {
    const one = pcm(renderWav(seq([{ pitch: 60, startTime: 0, endTime: 1 }]), { sampleRate: 22050 }));
    const peakOne = Math.max(...one.map(Math.abs));
    expect(peakOne).toBeGreaterThan(0.05 * 32767);
    expect(peakOne).toBeLessThan(0.6 * 32767);
    const quiet = pcm(
      renderWav(seq([{ pitch: 60, startTime: 0, endTime: 1, velocity: 30 }]), { sampleRate: 22050 }),
    );
    expect(Math.max(...quiet.map(Math.abs))).toBeLessThan(peakOne / 3);

    const cluster: Partial<Note>[] = [];
    for (let p = 36; p < 84; p++) cluster.push({ pitch: p, velocity: 127, startTime: 0, endTime: 1 });
    const loud = pcm(renderWav(seq(cluster), { sampleRate: 22050 }));
    const peak = Math.max(...loud.map(Math.abs));
    expect(peak).toBeGreaterThan(0.5 * 32767);
    expect(peak).toBeLessThanOrEqual(Math.round(0.95 * 32767));
  });

  it("sounds an A4 (MIDI 69) at 440 Hz", () => {
    const sr = 22050;
    const x = renderSamples(seq([{ pitch: 69, startTime: 0, endTime: 1 }]), { sampleRate: sr });
    const win = x.subarray(Math.round(0.1 * sr), Math.round(0.6 * sr));
    let best = 0;
    let bestPower = -1;
    for (let f = 50; f <= 4000; f += 2) {
      const p = power(win, f, sr);
      if (p > bestPower) {
        bestPower = p;
        best = f;
      }
    }
    expect(Math.abs(best - 440)).toBeLessThanOrEqual(2);
    // And an octave lower for A3.
    const y = renderSamples(seq([{ pitch: 57, startTime: 0, endTime: 1 }]), { sampleRate: sr });
    const wy = y.subarray(Math.round(0.1 * sr), Math.round(0.6 * sr));
    expect(power(wy, 220, sr)).toBeGreaterThan(power(wy, 440, sr));
    expect(power(wy, 220, sr)).toBeGreaterThan(100 * power(wy, 300, sr));
  });

  it("plays drums as short noise bursts", () => {
    const sr = 22050;
    const hat = pcm(
      renderWav(seq([{ pitch: 42, startTime: 0.5, endTime: 0.6, isDrum: true }]), { sampleRate: sr }),
    );
    expect(hat.subarray(0, sr / 2).every((s) => s === 0)).toBe(true);
    const burst = hat.subarray(sr / 2, sr / 2 + sr / 20);
    expect(Math.max(...burst.map(Math.abs))).toBeGreaterThan(300);
    // Noise: many sign changes, unlike a low tone.
    let crossings = 0;
    for (let i = 1; i < burst.length; i++) if (burst[i] > 0 !== burst[i - 1] > 0) crossings++;
    expect(crossings).toBeGreaterThan(burst.length / 10);
    // Short: silent 0.5 s after the hit.
    expect(hat.subarray(sr).every((s) => s === 0)).toBe(true);
    const kick = pcm(
      renderWav(seq([{ pitch: 36, startTime: 0, endTime: 0.1, isDrum: true }]), { sampleRate: sr }),
    );
    expect(Math.max(...kick.map(Math.abs))).toBeGreaterThan(1000);
  });

  it("is deterministic, and renders a minute of music quickly", () => {
    const notes: Partial<Note>[] = [];
    // One minute at 120 qpm: a 4-note chord every half second, a melody in eighths, a drum beat.
    for (let i = 0; i < 120; i++) {
      for (const p of [48, 55, 60, 64])
        notes.push({ pitch: p + (i % 5), startTime: i / 2, endTime: i / 2 + 0.5 });
      notes.push({ pitch: 72 + (i % 7), startTime: i / 2, endTime: i / 2 + 0.25 });
      notes.push({ pitch: 74 + (i % 5), startTime: i / 2 + 0.25, endTime: i / 2 + 0.5 });
      notes.push({ pitch: i % 2 ? 38 : 36, startTime: i / 2, endTime: i / 2 + 0.1, isDrum: true });
    }
    const ns = seq(notes);
    const t0 = performance.now();
    const a = renderWav(ns);
    const ms = performance.now() - t0;
    expect(a.length).toBe(44 + 2 * Math.round(61 * 44100));
    expect(ms).toBeLessThan(5000);
    const b = renderWav(ns);
    expect(Buffer.from(a).equals(Buffer.from(b))).toBe(true);
  });

  it("rejects bad options and clamps samples when encoding", () => {
    expect(() => renderWav(createNoteSequence(), { sampleRate: 0 })).toThrow(RangeError);
    expect(() => renderWav(createNoteSequence(), { tail: -1 })).toThrow(RangeError);
    const wav = encodeWav(Float32Array.of(2, -2, 0.5), 8000);
    expect([...pcm(wav)]).toEqual([32767, -32767, 16384]);
  });
});
