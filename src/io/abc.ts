/**
 * ABC tunebooks → NoteSequences (one per tune), for Magenta's convert_dir_to_note_sequences, after
 * note_seq's `abc_parser` where it has an answer and the ABC 2.1 standard where it has none. Pure: no
 * Node APIs, so it runs in a browser too.
 *
 * A tunebook is split into blank-line separated sections: the first, when it has no X: line, is the
 * file header (its fields apply to every tune); the others that start with X: are tunes; any other
 * section is free text and is ignored. A tune that cannot be read is reported (with its position, X:
 * number, title and the problem) and the others still convert.
 *
 * Mapping (note_seq's, except where marked ≠):
 * - source_info SCORE_BASED / ABC / MAGENTA_ABC, ticks_per_quarter 220, reference_number from X:,
 *   sequence_metadata title (T: lines joined by "; "), composers (C:) and artist (the first composer).
 * - L: unit note length; without one, 1/16 when the header meter is below 3/4, else 1/8 (free meter 1/8).
 * - M: meter (C = 4/4, C| = 2/2, none = free; ≠ composite 2+3/8 and (2+3)/8 read as 5/8).
 * - Q: tempo ("1/4=120", "3/8=40", "1/4 1/8=60", deprecated "C=120", "C2=60" and "120" in unit
 *   lengths; text alone is ignored); ≠ 120 qpm at time 0 when the tune has no Q: (note_seq: no tempo).
 * - K: key with modes (maj/ion, m/min/aeo, mix, dor, phr, lyd, loc), explicit accidentals (K:D =c ^g,
 *   K:D exp _b ^f), none, HP/Hp; clef= and other parameters are ignored. key = tonic, mode as written.
 * - Notes: C = 60, c = 72, ' and , octave marks; accidentals ^ ^^ _ __ = last to the end of the bar
 *   (≠ for the same letter in the same octave only, the engraving convention; note_seq applies them in
 *   every octave); lengths (2, 3/2, /, //, /4, 3/); rests z, x and Z/X whole bars; chords [CEG] (≠ note_seq
 *   refuses chords: each note keeps its length, the chord advances by its first note); ≠ ties (-) merge
 *   the tied notes (note_seq ignores ties); ≠ tuplets (p:q:r (note_seq refuses them); broken rhythm > >>
 *   >>> < << <<< (≠ applied to any two notes, rests or chords, as ABC players do; note_seq demands equal
 *   lengths); grace notes {..} dropped (≠ note_seq refuses them); dynamics decorations !p! !mf! ... set the
 *   velocity (note_seq's table; mf = 90 is the default); other decorations and slurs are ignored.
 * - ≠ Repeats are expanded in playing order: |: :| (::| plays three times), ::, and variant endings
 *   [1 |1 :|2 [1,3 [2-3 (note_seq writes section annotations and refuses variant endings); a :| without
 *   |: goes back to the last double bar or the start.
 * - Chord symbols ("Am7") become CHORD_SYMBOL text annotations; other annotations are ignored.
 * - ≠ total_time: the end of the music (trailing rests included; note_seq: the last note's end).
 * - ≠ Not supported, as a per-tune error: V: (multiple voices, as note_seq) and & overlays; ≠ P: parts
 *   are read as written (note_seq refuses them). ≠ An unknown information field letter is a per-tune
 *   error naming it (note_seq only logs it). ≠ A repeated X: number is a per-tune error for the later
 *   tune (note_seq fails the whole book), so that ids stay unique.
 */
import { PolyrnnError } from "../errors.js";
import {
  createNote,
  createNoteSequence,
  EncodingType,
  KeyMode,
  type Note,
  type NoteSequence,
  Parser,
  SourceType,
  TextAnnotationType,
} from "../notesequence.js";

/** A tune (or a whole tunebook) that cannot be read. */
export class AbcError extends PolyrnnError {
  /** Always `"AbcError"`. */
  override name = "AbcError";
}

/** What `readAbcTunebook` reads: one NoteSequence per tune, and the tunes that could not be read. */
export interface AbcTunebook {
  /** The tunes that could be read, in book order (`referenceNumber` is each one's `X:` number). */
  tunes: NoteSequence[];
  /** One per tune that could not be read. */
  errors: {
    /** The tune's 1-based position among the book's tunes. */
    index: number;
    /** What is wrong with it, in one line. */
    message: string;
  }[];
}

/** note_seq's constants.STANDARD_PPQ. */
const STANDARD_PPQ = 220;
const DEFAULT_VELOCITY = 90;
/** Repeats may not make a tune longer than this many items (a guard against pathological input). */
const MAX_PLAYED_ITEMS = 200_000;

// ---------------------------------------------------------------------------------------------------
// Fractions of a whole note

type Frac = readonly [number, number];

function gcd(a: number, b: number): number {
  a = Math.abs(a);
  b = Math.abs(b);
  while (b) [a, b] = [b, a % b];
  return a || 1;
}

function frac(n: number, d = 1): Frac {
  if (d < 0) [n, d] = [-n, -d];
  const g = gcd(n, d);
  return [n / g, d / g];
}

const ZERO = frac(0);
const add = (a: Frac, b: Frac) => frac(a[0] * b[1] + b[0] * a[1], a[1] * b[1]);
const mul = (a: Frac, b: Frac) => frac(a[0] * b[0], a[1] * b[1]);
const value = (a: Frac) => a[0] / a[1];
const same = (a: Frac, b: Frac) => a[0] === b[0] && a[1] === b[1];

// ---------------------------------------------------------------------------------------------------
// Keys

const LETTER_PITCH: Record<string, number> = { C: 0, D: 2, E: 4, F: 5, G: 7, A: 9, B: 11 };
const LETTER_FIFTHS: Record<string, number> = { F: -1, C: 0, G: 1, D: 2, A: 3, E: 4, B: 5 };
const SHARPS_ORDER = "FCGDAEB";
const FLATS_ORDER = "BEADGCF";

/** Mode → [KeyMode, fifths of its signature relative to the major key on the same tonic]. */
const MODES: Record<string, [number, number]> = {
  "": [KeyMode.MAJOR, 0],
  maj: [KeyMode.MAJOR, 0],
  ion: [KeyMode.MAJOR, 0],
  m: [KeyMode.MINOR, -3],
  min: [KeyMode.MINOR, -3],
  aeo: [KeyMode.MINOR, -3],
  mix: [KeyMode.MIXOLYDIAN, -1],
  dor: [KeyMode.DORIAN, -2],
  phr: [KeyMode.PHRYGIAN, -4],
  lyd: [KeyMode.LYDIAN, 1],
  loc: [KeyMode.LOCRIAN, -5],
};

interface Key {
  /** Semitones added to each letter by the key signature. */
  accidentals: Record<string, number>;
  /** Tonic pitch class and KeyMode, or undefined for K:none. */
  signature?: [number, number];
}

function signatureAccidentals(fifths: number): Record<string, number> {
  const acc: Record<string, number> = { C: 0, D: 0, E: 0, F: 0, G: 0, A: 0, B: 0 };
  for (let i = 0; i < Math.abs(fifths); i++) {
    if (fifths > 0) acc[SHARPS_ORDER[i]] = 1;
    else acc[FLATS_ORDER[i]] = -1;
  }
  return acc;
}

const ACCIDENTAL_VALUE: Record<string, number> = { "^^": 2, "^": 1, "=": 0, _: -1, __: -2 };

export function parseKey(text: string): Key {
  const s = text.trim();
  const fail = () => new AbcError(`cannot read the key K:${text}`);
  let rest: string;
  let key: Key;
  const tonic = /^([A-G])([#b]?)\s*([A-Za-z]*)/.exec(s);
  if (s === "" || /^[a-z-]+=/i.test(s) || /^(treble|bass|alto|tenor|perc)\b/i.test(s)) {
    // No tonic: C major, with whatever parameters follow.
    key = { accidentals: signatureAccidentals(0), signature: [0, KeyMode.MAJOR] };
    rest = s;
  } else if (/^none(\s|$)/i.test(s)) {
    key = { accidentals: signatureAccidentals(0) };
    rest = s.slice(4);
  } else if (/^H[Pp](\s|$)/.test(s)) {
    // Highland bagpipe: HP has no signature, Hp has F# C# and G natural.
    key = {
      accidentals: s[1] === "p" ? { ...signatureAccidentals(2), G: 0 } : signatureAccidentals(0),
      signature: [2, KeyMode.MIXOLYDIAN],
    };
    rest = s.slice(2);
  } else if (tonic) {
    const [, letter, acc, modeWord] = tonic;
    const modeKey = modeWord.toLowerCase() === "m" ? "m" : modeWord.slice(0, 3).toLowerCase();
    const mode = MODES[modeKey];
    // A word that is no mode (clef=bass, exp, ...) belongs to the parameters that follow.
    const modeUsed = mode !== undefined;
    const [keyMode, shift] = mode ?? MODES[""];
    const fifths = LETTER_FIFTHS[letter] + (acc === "#" ? 7 : acc === "b" ? -7 : 0) + shift;
    if (Math.abs(fifths) > 7) throw new AbcError(`the key K:${text} needs more than 7 sharps or flats`);
    key = {
      accidentals: signatureAccidentals(fifths),
      signature: [(LETTER_PITCH[letter] + (acc === "#" ? 1 : acc === "b" ? -1 : 0) + 12) % 12, keyMode],
    };
    rest = s.slice(modeUsed ? tonic[0].length : letter.length + acc.length);
  } else {
    throw fail();
  }
  // Parameters: explicit accidentals (^f _b =c), "exp", and name=value pairs (clef=, middle=, ...).
  for (const word of rest.trim().split(/\s+/).filter(Boolean)) {
    if (word.includes("=") && /^[a-z-]+=/i.test(word)) continue;
    if (word.toLowerCase() === "exp") {
      key.accidentals = signatureAccidentals(0);
      continue;
    }
    // Clef names without clef= (K:G bass) are allowed too.
    if (/^(treble|bass|alto|tenor|perc|none)\d*([+-]8)?$/i.test(word)) continue;
    const m = /^(\^\^|\^|=|__|_)([A-Ga-g])$/.exec(word);
    if (!m) throw fail();
    key.accidentals[m[2].toUpperCase()] = ACCIDENTAL_VALUE[m[1]];
  }
  return key;
}

// ---------------------------------------------------------------------------------------------------
// Tune body → items

interface NoteItem {
  t: "notes";
  notes: { pitch: number; duration: Frac; tie: boolean }[];
  /** How far the chord moves the time: its first note's length. */
  advance: Frac;
  velocity: number;
}
interface RestItem {
  t: "rest";
  advance: Frac;
}
interface BarItem {
  t: "bar";
  /** Colons before the bar line: a repeat end played `endRepeat + 1` times in all. */
  endRepeat: number;
  startRepeat: boolean;
  /** A double or thick bar line (||, |], [|): where repeats without |: go back to. */
  sectionEnd: boolean;
}
type Item =
  | NoteItem
  | RestItem
  | BarItem
  | { t: "ending"; passes: number[] }
  | { t: "tempo"; qpm: number }
  | { t: "meter"; num: number; den: number }
  | { t: "key"; key: number; mode: number }
  | { t: "chord-symbol"; text: string };

const DYNAMICS: Record<string, number> = {
  pppp: 30,
  ppp: 30,
  pp: 45,
  p: 60,
  mp: 75,
  mf: 90,
  f: 105,
  ff: 120,
  fff: 127,
  ffff: 127,
};

/** Information fields of ABC 2.1 (3.1), and the ones allowed inline in [..]. */
const KNOWN_FIELDS = new Set("ABCDFGHIKLMmNOPQRrSsTUVWwXZ+");
const INLINE_FIELDS = new Set("IKLMmNPQRrUVT");

function parseMeter(text: string): [number, number] | undefined {
  const s = text.trim();
  if (s === "" || s.toLowerCase() === "none") return undefined;
  if (s === "C") return [4, 4];
  if (s === "C|") return [2, 2];
  const m = /^\(?\s*(\d+(?:\s*\+\s*\d+)*)\s*\)?\s*\/\s*(\d+)$/.exec(s);
  if (!m) throw new AbcError(`cannot read the meter M:${text}`);
  const num = m[1].split("+").reduce((sum, x) => sum + Number(x), 0);
  const den = Number(m[2]);
  if (num <= 0 || den <= 0) throw new AbcError(`cannot read the meter M:${text}`);
  return [num, den];
}

function parseUnitLength(text: string): Frac {
  const m = /^\s*(\d+)\s*(?:\/\s*(\d+))?\s*$/.exec(text);
  if (!m || Number(m[1]) === 0 || (m[2] !== undefined && Number(m[2]) === 0)) {
    throw new AbcError(`cannot read the unit note length L:${text}`);
  }
  return frac(Number(m[1]), m[2] === undefined ? 1 : Number(m[2]));
}

/** A tempo: beats per minute, the beat given in whole notes or (deprecated syntax) in unit lengths. */
interface TempoSpec {
  beat?: Frac;
  units?: number;
  rate: number;
}

function parseTempo(text: string): TempoSpec | undefined {
  const s = text.replace(/"[^"]*"/g, " ").trim();
  if (s === "") return undefined; // text only ("Allegro")
  const fail = () => new AbcError(`cannot read the tempo Q:${text}`);
  let m = /^((?:\d+\s*\/\s*\d+\s*)+)=\s*(\d+(?:\.\d+)?)$/.exec(s);
  if (m) {
    let beat = ZERO;
    for (const [, n, d] of m[1].matchAll(/(\d+)\s*\/\s*(\d+)/g)) {
      if (!(Number(n) > 0 && Number(d) > 0)) throw fail();
      beat = add(beat, frac(Number(n), Number(d)));
    }
    if (!(Number(m[2]) > 0)) throw fail();
    return { beat, rate: Number(m[2]) };
  }
  m = /^(?:C(\d*)\s*=\s*)?(\d+(?:\.\d+)?)$/.exec(s);
  if (m && Number(m[2]) > 0) return { units: m[1] ? Number(m[1]) : 1, rate: Number(m[2]) };
  throw fail();
}

interface TuneState {
  unitLength: Frac | undefined;
  meter: [number, number] | undefined;
  key: Key;
  velocity: number;
}

/** Parses the music lines of one tune into items, in written order. */
class BodyParser {
  readonly items: Item[] = [];
  private barAccidentals = new Map<string, number>();
  private tuplet: { factor: Frac; left: number } | undefined;
  private broken: { factor: Frac; nextFactor: Frac } | undefined;
  private lastTimed: NoteItem | RestItem | undefined;
  private line = 0;

  constructor(
    private readonly state: TuneState,
    private readonly onField: (letter: string, content: string, inline: boolean) => void,
  ) {}

  private fail(message: string): never {
    throw new AbcError(`line ${this.line}: ${message}`);
  }

  get unit(): Frac {
    return this.state.unitLength ?? frac(1, 8);
  }

  /** A new key (K: in the body) resets the bar's accidentals, as a bar line does. */
  resetAccidentals(): void {
    this.barAccidentals.clear();
  }

  parseLine(text: string, line: number): void {
    this.line = line;
    let i = 0;
    while (i < text.length) i = this.step(text, i);
  }

  /** Reads the construct at text[i]; returns the index after it. */
  private step(text: string, i: number): number {
    const c = text[i];
    const rest = text.slice(i);
    if (/\s/.test(c) || c === "`" || c === "$" || c === "y" || c === "\\") return i + 1; // spacing, continuation
    if (c === '"') {
      const end = text.indexOf('"', i + 1);
      if (end < 0) this.fail("a chord symbol or annotation has no closing quote");
      const body = text.slice(i + 1, end);
      if (/^[A-G]/.test(body)) this.items.push({ t: "chord-symbol", text: body });
      return end + 1;
    }
    if (c === "!" || c === "+") {
      const end = text.indexOf(c, i + 1);
      if (end < 0) return i + 1; // a lone ! is an old line-break mark
      const name = text.slice(i + 1, end);
      if (DYNAMICS[name] !== undefined) this.state.velocity = DYNAMICS[name];
      return end + 1;
    }
    if (c === "{") {
      const end = text.indexOf("}", i + 1);
      if (end < 0) this.fail("grace notes { have no closing }");
      return end + 1; // grace notes are dropped
    }
    const inline = /^\[([A-Za-z]):([^\]]*)\]/.exec(rest);
    if (inline) {
      if (!INLINE_FIELDS.has(inline[1])) this.fail(`unknown inline field [${inline[1]}:]`);
      this.onField(inline[1], inline[2], true);
      return i + inline[0].length;
    }
    const ending = /^\[?(\d+(?:[,-]\d+)*)/.exec(rest);
    if (ending && (c === "[" || this.afterBar(text, i))) {
      this.items.push({ t: "ending", passes: endingPasses(ending[1]) });
      return i + ending[0].length;
    }
    if (c === "|" || c === ":" || (c === "[" && text[i + 1] === "|")) {
      const token = (/^(\[\|)?[|:\]]*/.exec(rest) as RegExpExecArray)[0];
      this.bar(token);
      return i + token.length;
    }
    if (c === "[") return this.chord(text, i);
    const tuplet = /^\((\d+)(?::(\d*))?(?::(\d*))?/.exec(rest);
    if (tuplet) {
      const [, p, q, r] = tuplet;
      this.startTuplet(Number(p), q ? Number(q) : undefined, r ? Number(r) : undefined);
      return i + tuplet[0].length;
    }
    if (c === "(" || c === ")") return i + 1; // slurs
    if (c === "-") {
      const last = this.items[this.items.length - 1];
      if (last?.t === "notes") for (const note of last.notes) note.tie = true;
      return i + 1;
    }
    const broken = /^(<+|>+)/.exec(rest);
    if (broken) {
      this.brokenRhythm(broken[1]);
      return i + broken[0].length;
    }
    const restNote = /^[zx](\d*(?:\/\d*)*)/.exec(rest);
    if (restNote) {
      this.timed({ t: "rest", advance: mul(this.unit, this.length(restNote[1])) });
      return i + restNote[0].length;
    }
    const barRest = /^[ZX](\d*)/.exec(rest);
    if (barRest) {
      const meter = this.state.meter;
      if (!meter) this.fail(`a whole-bar rest ${barRest[0]} needs a meter (M:)`);
      const bars = barRest[1] ? Number(barRest[1]) : 1;
      this.timed({ t: "rest", advance: frac(bars * meter[0], meter[1]) });
      return i + barRest[0].length;
    }
    if (/^(\^\^|\^|__|_|=)?[A-Ga-g]/.test(rest)) {
      const note = this.note(text, i);
      this.timed({
        t: "notes",
        notes: [{ pitch: note.pitch, duration: note.length, tie: false }],
        advance: note.length,
        velocity: this.state.velocity,
      });
      return note.end;
    }
    if (/[.~H-Wh-w]/.test(c)) return i + 1; // decoration symbols
    if (c === "&") this.fail("voice overlays (&) are not supported");
    this.fail(`unexpected character '${c}'`);
  }

  /** Whether position i directly follows a bar line (for |1 and :|2 endings). */
  private afterBar(text: string, i: number): boolean {
    return i > 0 && /[|:\]]/.test(text[i - 1]) && this.items[this.items.length - 1]?.t === "bar";
  }

  private bar(token: string): void {
    this.barAccidentals.clear();
    const body = token.replace(/^:+|:+$/g, "");
    const lead = /^:*/.exec(token)?.[0].length ?? 0;
    const trail = /:*$/.exec(token)?.[0].length ?? 0;
    let endRepeat: number;
    let startRepeat: boolean;
    if (body === "") {
      // Colons only: "::" ends one repeat and starts the next.
      if (token.length % 2 !== 0) this.fail(`cannot read the repeat sign ${token}`);
      endRepeat = token.length / 2;
      startRepeat = true;
    } else {
      endRepeat = lead;
      startRepeat = trail > 0;
    }
    this.items.push({
      t: "bar",
      endRepeat,
      startRepeat,
      sectionEnd: body.includes("||") || body.includes("|]") || body.includes("[|"),
    });
  }

  /** A note's length token (after the unit length): "", "2", "3/2", "/", "//", "/4", "3/". */
  private length(token: string): Frac {
    if (token === "") return frac(1);
    const m = /^(\d*)((?:\/\d*)*)$/.exec(token);
    if (!m) this.fail(`cannot read the note length ${token}`);
    let len = frac(m[1] ? Number(m[1]) : 1);
    for (const part of m[2].split("/").slice(1)) {
      if (part !== "" && Number(part) === 0) this.fail(`cannot read the note length ${token}`);
      len = mul(len, frac(1, part ? Number(part) : 2));
    }
    if (len[0] === 0) this.fail(`a note length of 0 (${token})`);
    return len;
  }

  /** One note at text[i]: its pitch and length (unit length applied, tuplets not yet). */
  private note(text: string, i: number): { pitch: number; length: Frac; end: number } {
    const m = /^(\^\^|\^|__|_|=)?([A-Ga-g])([',]*)(\d*(?:\/\d*)*)/.exec(text.slice(i)) as RegExpExecArray;
    const [, acc, letterWritten, octaveMarks, lengthToken] = m;
    const letter = letterWritten.toUpperCase();
    let octave = letterWritten === letter ? 4 : 5;
    for (const mark of octaveMarks) octave += mark === "'" ? 1 : -1;
    const place = `${letter}${octave}`;
    let alter: number;
    if (acc !== undefined) {
      alter = ACCIDENTAL_VALUE[acc];
      this.barAccidentals.set(place, alter);
    } else {
      alter = this.barAccidentals.get(place) ?? this.state.key.accidentals[letter];
    }
    const pitch = 12 * (octave + 1) + LETTER_PITCH[letter] + alter;
    if (pitch < 0 || pitch > 127) this.fail(`pitch ${pitch} (${m[0]}) is outside the MIDI range 0..127`);
    return { pitch, length: mul(this.unit, this.length(lengthToken)), end: i + m[0].length };
  }

  /** A chord [CEG]2 starting at text[i]; returns the index after it. */
  private chord(text: string, i: number): number {
    const notes: NoteItem["notes"] = [];
    let j = i + 1;
    while (j < text.length && text[j] !== "]") {
      const c = text[j];
      if (/^(\^\^|\^|__|_|=)?[A-Ga-g]/.test(text.slice(j))) {
        const note = this.note(text, j);
        notes.push({ pitch: note.pitch, duration: note.length, tie: false });
        j = note.end;
      } else if (c === "-") {
        if (notes.length > 0) notes[notes.length - 1].tie = true;
        j++;
      } else if (c === "!" || c === '"') {
        const end = text.indexOf(c, j + 1);
        if (end < 0) this.fail(`a chord has an unclosed ${c}`);
        const name = text.slice(j + 1, end);
        if (c === "!" && DYNAMICS[name] !== undefined) this.state.velocity = DYNAMICS[name];
        j = end + 1;
      } else if (c === " " || /[.~H-Wh-w()]/.test(c)) {
        j++;
      } else {
        this.fail(`unexpected character '${c}' in a chord`);
      }
    }
    if (j >= text.length) this.fail("a chord [ has no closing ]");
    if (notes.length === 0) this.fail("an empty chord []");
    const m = /^(\d*(?:\/\d*)*)/.exec(text.slice(j + 1)) as RegExpExecArray;
    const outer = this.length(m[1]);
    for (const note of notes) note.duration = mul(note.duration, outer);
    this.timed({ t: "notes", notes, advance: notes[0].duration, velocity: this.state.velocity });
    return j + 1 + m[0].length;
  }

  private startTuplet(p: number, q: number | undefined, r: number | undefined): void {
    if (p < 2 || p > 9 || q === 0) this.fail(`cannot read the tuplet (${p}${q === undefined ? "" : `:${q}`}`);
    const compound =
      this.state.meter !== undefined && this.state.meter[0] % 3 === 0 && this.state.meter[0] > 3;
    const defaultQ: Record<number, number> = { 2: 3, 3: 2, 4: 3, 6: 2, 8: 3 };
    const qq = q ?? defaultQ[p] ?? (compound ? 3 : 2);
    this.tuplet = { factor: frac(qq, p), left: r ?? p };
  }

  private brokenRhythm(token: string): void {
    if (!this.lastTimed || this.items[this.items.length - 1] !== this.lastTimed) {
      this.fail(`a broken rhythm ${token} must follow a note, chord or rest`);
    }
    if (this.broken) this.fail(`two broken rhythms in a row (${token})`);
    const dotted = frac(2 ** (token.length + 1) - 1, 2 ** token.length); // >: 3/2, >>: 7/4, >>>: 15/8
    const short = frac(1, 2 ** token.length); // 1/2, 1/4, 1/8
    const [first, second] = token[0] === ">" ? [dotted, short] : [short, dotted];
    scaleTimed(this.lastTimed, first);
    this.broken = { factor: first, nextFactor: second };
  }

  /** A note, chord or rest: tuplet and pending broken rhythm applied. */
  private timed(item: NoteItem | RestItem): void {
    if (this.tuplet) {
      scaleTimed(item, this.tuplet.factor);
      if (--this.tuplet.left <= 0) this.tuplet = undefined;
    }
    if (this.broken) {
      scaleTimed(item, this.broken.nextFactor);
      this.broken = undefined;
    }
    this.items.push(item);
    this.lastTimed = item;
  }

  finish(): void {
    if (this.broken) this.fail("a broken rhythm at the end of the tune has no second note");
  }
}

function scaleTimed(item: NoteItem | RestItem, factor: Frac): void {
  item.advance = mul(item.advance, factor);
  if (item.t === "notes") for (const note of item.notes) note.duration = mul(note.duration, factor);
}

/** "1", "1,3", "1-3" → [1], [1, 3], [1, 2, 3]. */
function endingPasses(text: string): number[] {
  const passes: number[] = [];
  for (const part of text.split(",")) {
    const [a, b] = part.split("-").map(Number);
    for (let k = a; k <= (b ?? a); k++) passes.push(k);
  }
  return passes;
}

// ---------------------------------------------------------------------------------------------------
// Repeats → playing order

/** The largest ending number from item i on, up to the end of the repeated section. */
function lastEndingAhead(items: Item[], i: number): number {
  let last = 0;
  for (let k = i + 1; k < items.length; k++) {
    const it = items[k];
    if (it.t === "ending") last = Math.max(last, ...it.passes);
    else if (it.t === "bar" && (it.sectionEnd || (it.startRepeat && it.endRepeat === 0))) break;
  }
  return last;
}

/** The items in playing order, repeats and variant endings expanded. Bars and endings are dropped. */
function playingOrder(items: Item[]): Item[] {
  const out: Item[] = [];
  let start = 0;
  let explicitStart = false;
  let pass = 1;
  let inEnding = false;
  let skipping = false;
  /** The largest ending number seen since the repeat began: that many passes in all. */
  let lastEnding = 0;
  const finishRepeat = (i: number) => {
    start = i + 1;
    explicitStart = false;
    pass = 1;
    inEnding = false;
    skipping = false;
    lastEnding = 0;
  };
  for (let i = 0; i < items.length; i++) {
    const it = items[i];
    if (it.t === "ending") {
      inEnding = true;
      lastEnding = Math.max(lastEnding, ...it.passes);
      skipping = !it.passes.includes(pass);
      continue;
    }
    if (it.t !== "bar") {
      if (!skipping) {
        out.push(it);
        if (out.length > MAX_PLAYED_ITEMS) throw new AbcError("the repeats make the tune too long");
      }
      continue;
    }
    if (it.endRepeat > 0) {
      if (skipping) {
        // The end of an ending this pass does not play: the next ending follows.
        skipping = false;
        inEnding = false;
      } else {
        const times = Math.max(
          it.endRepeat + 1,
          inEnding ? Math.max(lastEnding, lastEndingAhead(items, i)) : 0,
        );
        if (pass < times) {
          pass++;
          i = start - 1;
          inEnding = false;
          continue;
        }
        finishRepeat(i);
      }
      if (it.startRepeat) {
        finishRepeat(i);
        explicitStart = true;
      }
      continue;
    }
    if (it.startRepeat) {
      finishRepeat(i);
      explicitStart = true;
    } else if (it.sectionEnd) {
      if (pass > 1 || inEnding) finishRepeat(i);
      else if (!explicitStart) start = i + 1;
    }
  }
  return out;
}

// ---------------------------------------------------------------------------------------------------
// One tune

interface SourceLine {
  text: string;
  line: number;
}

function parseTune(lines: SourceLine[]): NoteSequence {
  const ns = createNoteSequence({
    ticksPerQuarter: STANDARD_PPQ,
    sourceInfo: {
      sourceType: SourceType.SCORE_BASED,
      encodingType: EncodingType.ABC,
      parser: Parser.MAGENTA_ABC,
    },
  });
  const metadata = { title: "", artist: "", genre: [] as string[], composers: [] as string[] };
  const state: TuneState = {
    unitLength: undefined,
    meter: undefined,
    key: { accidentals: signatureAccidentals(0), signature: [0, KeyMode.MAJOR] },
    velocity: DEFAULT_VELOCITY,
  };
  let inHeader = true;
  let headerTempo: TempoSpec | undefined;
  let headerMeter: [number, number] | undefined;
  let headerKey: Key | undefined;
  let lastField = "";
  let line = 0;
  const fail = (message: string): never => {
    throw new AbcError(`line ${line}: ${message}`);
  };
  const tempoItem = (tempo: TempoSpec): Item => {
    const beat = tempo.beat ?? mul(state.unitLength ?? frac(1, 8), frac(tempo.units ?? 1));
    return { t: "tempo", qpm: value(beat) * 4 * tempo.rate };
  };
  const keyItem = (key: Key): Item | undefined =>
    key.signature ? { t: "key", key: key.signature[0], mode: key.signature[1] } : undefined;

  const body = new BodyParser(state, (letter, content, inline) => field(letter, content, inline));

  const endHeader = () => {
    if (!inHeader) return;
    inHeader = false;
    if (!state.unitLength) {
      // ABC 2.1 3.1.7: 1/16 below a 3/4 meter, else 1/8 (free meter: 1/8).
      const m = headerMeter;
      state.unitLength = m && m[0] / m[1] < 0.75 ? frac(1, 16) : frac(1, 8);
    }
    if (headerMeter) body.items.push({ t: "meter", num: headerMeter[0], den: headerMeter[1] });
    const k = headerKey && keyItem(headerKey);
    if (k) body.items.push(k);
    body.items.push(tempoItem(headerTempo ?? { beat: frac(1, 4), rate: 120 }));
  };

  function field(letter: string, content: string, inline: boolean): void {
    const text = content.trim();
    if (letter === "+") {
      // A continuation of the previous field: only titles are worth continuing.
      if (lastField === "T" && inHeader) metadata.title = `${metadata.title} ${text}`.trim();
      return;
    }
    lastField = letter;
    switch (letter) {
      case "X":
        if (!/^\d+$/.test(text)) fail(`cannot read the reference number X:${content}`);
        ns.referenceNumber = Number(text);
        break;
      case "T":
        if (inHeader) metadata.title = metadata.title ? `${metadata.title}; ${text}` : text;
        break;
      case "C":
        metadata.composers.push(text);
        if (!metadata.artist) metadata.artist = text;
        break;
      case "L":
        state.unitLength = parseUnitLength(text);
        break;
      case "M": {
        const meter = parseMeter(text);
        state.meter = meter;
        if (inHeader) headerMeter = meter;
        else if (meter) body.items.push({ t: "meter", num: meter[0], den: meter[1] });
        break;
      }
      case "Q": {
        const tempo = parseTempo(text);
        if (!tempo) break;
        if (inHeader) headerTempo = tempo;
        else body.items.push(tempoItem(tempo));
        break;
      }
      case "K": {
        const key = parseKey(text);
        state.key = key;
        body.resetAccidentals();
        if (inHeader) {
          headerKey = key;
          if (!inline) endHeader(); // K: is the last field of the header
        } else {
          const k = keyItem(key);
          if (k) body.items.push(k);
        }
        break;
      }
      case "V":
        fail("multi-voice tunes (V:) are not supported");
        break;
      default:
        // Known fields that do not change the music: A B D F G H I m N O P R r S s U W w Z.
        break;
    }
  }

  for (const src of lines) {
    line = src.line;
    const text = src.text.replace(/%.*$/, "").trimEnd();
    if (text.trim() === "") continue;
    try {
      const f = /^([A-Za-z+]):(.*)$/.exec(text);
      if (f) {
        if (!KNOWN_FIELDS.has(f[1])) fail(`unknown information field '${f[1]}:'`);
        if (!inHeader && f[1] === "T") continue; // titles of parts: nowhere to put them (as note_seq)
        field(f[1], f[2], false);
        continue;
      }
      endHeader();
      body.parseLine(text, src.line);
    } catch (e) {
      // Every error names its line.
      if (e instanceof AbcError && !/^line \d+: /.test(e.message))
        throw new AbcError(`line ${line}: ${e.message}`);
      throw e;
    }
  }
  endHeader();
  body.finish();

  // Time, in whole notes, through the expanded items.
  const played = playingOrder(body.items);
  const tempos: { at: Frac; qpm: number }[] = [];
  const timeSigs: { at: Frac; num: number; den: number }[] = [];
  const keySigs: { at: Frac; key: number; mode: number }[] = [];
  const symbols: { at: Frac; text: string }[] = [];
  const notes: { pitch: number; start: Frac; end: Frac; velocity: number }[] = [];
  let now: Frac = ZERO;
  let openTies = new Map<number, (typeof notes)[number]>();
  for (const it of played) {
    switch (it.t) {
      case "tempo":
        if (tempos.length === 0 || tempos[tempos.length - 1].qpm !== it.qpm)
          tempos.push({ at: now, qpm: it.qpm });
        break;
      case "meter": {
        const last = timeSigs[timeSigs.length - 1];
        if (!last || last.num !== it.num || last.den !== it.den)
          timeSigs.push({ at: now, num: it.num, den: it.den });
        break;
      }
      case "key": {
        const last = keySigs[keySigs.length - 1];
        if (!last || last.key !== it.key || last.mode !== it.mode)
          keySigs.push({ at: now, key: it.key, mode: it.mode });
        break;
      }
      case "chord-symbol":
        symbols.push({ at: now, text: it.text });
        break;
      case "rest":
        now = add(now, it.advance);
        openTies = new Map();
        break;
      case "notes": {
        const ties = new Map<number, (typeof notes)[number]>();
        for (const n of it.notes) {
          const end = add(now, n.duration);
          const held = openTies.get(n.pitch);
          let note = held && same(held.end, now) ? held : undefined;
          if (note) note.end = end;
          else {
            note = { pitch: n.pitch, start: now, end, velocity: it.velocity };
            notes.push(note);
          }
          if (n.tie) ties.set(n.pitch, note);
        }
        openTies = ties;
        now = add(now, it.advance);
        break;
      }
      default:
        break;
    }
  }

  // Whole notes → seconds through the tempo map (the first tempo is at 0: the header's or 120).
  const starts = [0];
  for (let k = 1; k < tempos.length; k++) {
    starts.push(
      starts[k - 1] + ((value(tempos[k].at) - value(tempos[k - 1].at)) * 4 * 60) / tempos[k - 1].qpm,
    );
  }
  const seconds = (t: Frac): number => {
    let k = tempos.length - 1;
    while (k > 0 && value(tempos[k].at) > value(t)) k--;
    return starts[k] + ((value(t) - value(tempos[k].at)) * 4 * 60) / tempos[k].qpm;
  };

  ns.tempos = tempos.map((t) => ({ time: seconds(t.at), qpm: t.qpm }));
  ns.timeSignatures = timeSigs.map((t) => ({ time: seconds(t.at), numerator: t.num, denominator: t.den }));
  ns.keySignatures = keySigs.map((k) => ({ time: seconds(k.at), key: k.key, mode: k.mode }));
  ns.textAnnotations = symbols.map((s) => ({
    time: seconds(s.at),
    quantizedStep: 0,
    text: s.text,
    annotationType: TextAnnotationType.CHORD_SYMBOL,
  }));
  ns.notes = notes.map((n): Note => {
    const length = add(n.end, frac(-n.start[0], n.start[1]));
    return createNote({
      pitch: n.pitch,
      velocity: n.velocity,
      startTime: seconds(n.start),
      endTime: seconds(n.end),
      numerator: length[0],
      denominator: length[1],
    });
  });
  let end = now;
  for (const n of notes) if (value(n.end) > value(end)) end = n.end;
  ns.totalTime = seconds(end);
  if (metadata.title || metadata.composers.length > 0) ns.sequenceMetadata = metadata;
  return ns;
}

// ---------------------------------------------------------------------------------------------------
// Tunebook

/**
 * Parses an ABC tunebook. Tunes that cannot be read are left out and reported in `errors`; the
 * others are returned in book order, with `referenceNumber` from X: (the index Magenta puts in the
 * id: `<filename>_<X>`).
 */
export function readAbcTunebook(text: string): AbcTunebook {
  const sections: SourceLine[][] = [];
  let current: SourceLine[] = [];
  text.split(/\r\n|\r|\n/).forEach((raw, k) => {
    if (raw.trim() === "") {
      if (current.length > 0) sections.push(current);
      current = [];
    } else {
      current.push({ text: raw.replace(/^\uFEFF/, ""), line: k + 1 });
    }
  });
  if (current.length > 0) sections.push(current);

  const isTuneStart = (s: SourceLine[]) => s.some((l) => /^X:/.test(l.text.trim()));
  let header: SourceLine[] = [];
  if (sections.length > 0 && !isTuneStart(sections[0])) {
    // The file header: its fields (and only those) are prepended to every tune.
    header = (sections.shift() as SourceLine[]).filter((l) => /^[A-Za-z+]:/.test(l.text.trim()));
  }

  const book: AbcTunebook = { tunes: [], errors: [] };
  const seen = new Set<number>();
  let index = 0;
  for (const section of sections) {
    // A section must begin with X: (comments aside) to be a tune; the rest is free text.
    const first = section.find((l) => !/^\s*%/.test(l.text));
    if (!first || !/^X:/.test(first.text.trim())) continue;
    index++;
    const x = /^X:\s*(\S*)/.exec(first.text.trim())?.[1] ?? "";
    const title = section.map((l) => /^T:\s*(.*)$/.exec(l.text.trim())?.[1]).find((t) => t !== undefined);
    const name = `tune ${index} (X:${x}${title ? ` "${title.trim()}"` : ""})`;
    try {
      const ns = parseTune([...header, ...section]);
      if (seen.has(ns.referenceNumber)) {
        throw new AbcError(`the reference number X:${ns.referenceNumber} is used by an earlier tune`);
      }
      seen.add(ns.referenceNumber);
      book.tunes.push(ns);
    } catch (e) {
      if (!(e instanceof AbcError)) throw e;
      book.errors.push({ index, message: `${name}: ${e.message}` });
    }
  }
  return book;
}
