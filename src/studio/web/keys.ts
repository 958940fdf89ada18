/**
 * The computer keyboard as a piano (the Play tab), laid out as in most music programs: the home row
 * A S D F G H J K L ; ' plays the white keys from C, the row above (W E, T Y U, O P) the black keys; Z and X
 * shift the octave; Space holds the notes like a sustain pedal. Keys are read by position (`KeyboardEvent.code`),
 * so the layout is the same on AZERTY or QWERTZ keyboards. Pure: the page turns key events into these actions.
 */

/** Semitones above the octave's C, by key position. */
export const KEY_SEMITONES: Readonly<Record<string, number>> = {
  KeyA: 0,
  KeyW: 1,
  KeyS: 2,
  KeyE: 3,
  KeyD: 4,
  KeyF: 5,
  KeyT: 6,
  KeyG: 7,
  KeyY: 8,
  KeyH: 9,
  KeyU: 10,
  KeyJ: 11,
  KeyK: 12,
  KeyO: 13,
  KeyL: 14,
  KeyP: 15,
  Semicolon: 16,
  Quote: 17,
};

export const OCTAVE_DOWN = "KeyZ";
export const OCTAVE_UP = "KeyX";
export const SUSTAIN = "Space";

/** The lowest and highest C the keys start from (C1 and C7). */
export const LOWEST_BASE = 24;
export const HIGHEST_BASE = 96;

/** The letter printed on the on-screen key `semitone` above the base C (US layout), if one plays it. */
export function keyLabel(semitone: number): string | undefined {
  const code = Object.keys(KEY_SEMITONES).find((c) => KEY_SEMITONES[c] === semitone);
  if (!code) return undefined;
  return code.startsWith("Key") ? code.slice(3) : code === "Semicolon" ? ";" : "'";
}

export type KeyAction =
  | { type: "on"; pitch: number }
  | { type: "off"; pitch: number }
  | { type: "octave"; base: number }
  | { type: "sustain"; down: boolean };

/** Key codes to piano actions; remembers which pitch each held key started (an octave shift between a key's
 *  press and release still releases the note it played). */
export class ComputerKeys {
  private held = new Map<string, number>();
  private sustainDown = false;

  /** `base` is the pitch of the A key (a C). */
  constructor(public base = 60) {}

  /** The action of a key press, or undefined for a key that is not a piano key (or repeats). */
  down(code: string): KeyAction | undefined {
    if (code === SUSTAIN) {
      if (this.sustainDown) return undefined;
      this.sustainDown = true;
      return { type: "sustain", down: true };
    }
    if (code === OCTAVE_DOWN || code === OCTAVE_UP) {
      const base = Math.min(HIGHEST_BASE, Math.max(LOWEST_BASE, this.base + (code === OCTAVE_UP ? 12 : -12)));
      if (base === this.base) return undefined;
      this.base = base;
      return { type: "octave", base };
    }
    const semitone = KEY_SEMITONES[code];
    if (semitone === undefined || this.held.has(code)) return undefined;
    const pitch = this.base + semitone;
    this.held.set(code, pitch);
    return { type: "on", pitch };
  }

  /** The action of a key release, or undefined. */
  up(code: string): KeyAction | undefined {
    if (code === SUSTAIN) {
      if (!this.sustainDown) return undefined;
      this.sustainDown = false;
      return { type: "sustain", down: false };
    }
    const pitch = this.held.get(code);
    if (pitch === undefined) return undefined;
    this.held.delete(code);
    return { type: "off", pitch };
  }

  /** Whether `code` is one of the keys this class reads. */
  handles(code: string): boolean {
    return code in KEY_SEMITONES || code === SUSTAIN || code === OCTAVE_DOWN || code === OCTAVE_UP;
  }

  /** Releases everything (the window lost the focus: no key-up will come). */
  releaseAll(): KeyAction[] {
    const out: KeyAction[] = [...this.held.values()].map((pitch) => ({ type: "off", pitch }) as const);
    this.held.clear();
    if (this.sustainDown) out.push({ type: "sustain", down: false });
    this.sustainDown = false;
    return out;
  }
}
