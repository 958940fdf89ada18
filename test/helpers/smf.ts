/** Hand-made Standard MIDI Files, byte by byte, for hostile-input tests. */

/** A Standard MIDI File of one track at `division` ticks per quarter; `events` are [delta, ...bytes]. */
export function smf(division: number, events: number[][]): Uint8Array {
  const vlq = (n: number) => {
    const out = [n & 0x7f];
    for (let v = Math.floor(n / 128); v > 0; v = Math.floor(v / 128)) out.unshift((v & 0x7f) | 0x80);
    return out;
  };
  const body = events.flatMap(([delta, ...bytes]) => [...vlq(delta), ...bytes]);
  body.push(0, 0xff, 0x2f, 0);
  const header = [0x4d, 0x54, 0x68, 0x64, 0, 0, 0, 6, 0, 0, 0, 1, division >> 8, division & 0xff];
  const len = body.length;
  const track = [0x4d, 0x54, 0x72, 0x6b, len >>> 24, (len >> 16) & 0xff, (len >> 8) & 0xff, len & 0xff];
  return Uint8Array.from([...header, ...track, ...body]);
}

/** One quarter note of middle C at 96 ticks per quarter. */
export const ONE_NOTE = (): Uint8Array =>
  smf(96, [
    [0, 0x90, 60, 64],
    [96, 0x80, 60, 0],
  ]);

/** Legal and 45 bytes: division 1, a second note at tick 9,999,990 (≈ 5·10⁶ s at 120 qpm). */
export const FAR_APART = (): Uint8Array =>
  smf(1, [
    [0, 0x90, 60, 64],
    [1, 0x80, 60, 0],
    [9_999_989, 0x90, 62, 64],
    [1, 0x80, 62, 0],
  ]);
