/**
 * The on-screen piano keys of the Studio (the Generate tab's chord keyboard and the Play tab's keyboard):
 * one button per pitch, white and black keys, a name on every C.
 */

const NOTE_NAMES = ["C", "C♯", "D", "D♯", "E", "F", "F♯", "G", "G♯", "A", "A♯", "B"];
const BLACK = new Set([1, 3, 6, 8, 10]);

/** C4 is MIDI 60. */
export const noteName = (p: number) => `${NOTE_NAMES[p % 12]}${Math.floor(p / 12) - 1}`;

/** Fills `container` with keys for the pitches lo..hi-1 (data-pitch, aria-pressed="false") and returns them. */
export function pianoKeys(container: HTMLElement, lo: number, hi: number): HTMLButtonElement[] {
  const keys: HTMLButtonElement[] = [];
  for (let p = lo; p < hi; p++) {
    const key = document.createElement("button");
    key.type = "button";
    key.className = BLACK.has(p % 12) ? "key black" : "key white";
    key.title = `${noteName(p)} (MIDI ${p})`;
    if (p % 12 === 0) {
      const label = document.createElement("span");
      label.className = "key-name";
      label.textContent = noteName(p);
      key.append(label);
    }
    key.dataset.pitch = String(p);
    key.setAttribute("aria-pressed", "false");
    keys.push(key);
  }
  container.replaceChildren(...keys);
  return keys;
}
