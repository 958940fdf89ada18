/**
 * MusicXML → NoteSequence, as note_seq's `musicxml_reader` does it for Magenta's
 * convert_dir_to_note_sequences, with our own mapping where note_seq is wrong or silent (the differences
 * are listed at `readMusicXml`). Reads partwise (and timewise) scores as `.xml`/`.musicxml` text in
 * UTF-8 or UTF-16, and compressed `.mxl` zip archives. Pure: no Node APIs, so it runs in a browser too.
 *
 * Time is counted in integer ticks of `ticksPerQuarter` = the least common multiple of every
 * <divisions> value of the score, so that every MusicXML duration is exact; ticks become seconds at
 * the end through the tempo map.
 */
import { unzipSync } from "fflate";
import { SaxesParser } from "saxes";
import { MusicXmlError } from "../errors.js";
import {
  createNote,
  createNoteSequence,
  EncodingType,
  type InstrumentInfo,
  type Note,
  type NoteSequence,
  Parser,
  type PartInfo,
  SourceType,
  type TextAnnotation,
  TextAnnotationType,
} from "../notesequence.js";
import { MODES, STEP_PITCH_CLASS, TYPE_WHOLE_NOTES } from "./musicxml_names.js";

// ---------------------------------------------------------------------------------------------------
// XML

/** One element of a parsed XML document: its direct text is the concatenation of its text nodes. */
export interface XmlElement {
  name: string;
  attrs: Record<string, string>;
  children: XmlElement[];
  text: string;
}

/** Parses an XML document (well-formedness checked) into a tree; throws MusicXmlError. */
export function parseXml(text: string, what = "XML"): XmlElement {
  const parser = new SaxesParser({ position: true });
  const top: XmlElement = { name: "#document", attrs: {}, children: [], text: "" };
  const stack: XmlElement[] = [top];
  parser.on("opentag", (tag) => {
    const el: XmlElement = {
      name: tag.name,
      attrs: tag.attributes as Record<string, string>,
      children: [],
      text: "",
    };
    stack[stack.length - 1].children.push(el);
    stack.push(el);
  });
  parser.on("closetag", () => {
    stack.pop();
  });
  const addText = (t: string) => {
    if (stack.length > 1) stack[stack.length - 1].text += t;
  };
  parser.on("text", addText);
  parser.on("cdata", addText);
  try {
    parser.write(text).close();
  } catch (e) {
    const msg = e instanceof Error ? e.message : String(e);
    const m = /^(?:.*?:)?(\d+):(\d+): (.*)$/s.exec(msg);
    throw new MusicXmlError(
      m ? `malformed ${what} at line ${m[1]}, column ${m[2]}: ${m[3]}` : `malformed ${what}: ${msg}`,
    );
  }
  const root = top.children[0];
  if (!root) throw new MusicXmlError(`malformed ${what}: no root element`);
  return root;
}

function child(el: XmlElement, name: string): XmlElement | undefined {
  return el.children.find((c) => c.name === name);
}

function childrenNamed(el: XmlElement, name: string): XmlElement[] {
  return el.children.filter((c) => c.name === name);
}

function childText(el: XmlElement, name: string): string | undefined {
  const c = child(el, name);
  return c ? c.text.trim() : undefined;
}

/** Decodes XML bytes: BOM or UTF-16 layout first, then the declared encoding, else UTF-8. */
export function decodeXmlBytes(bytes: Uint8Array): string {
  const b0 = bytes[0];
  const b1 = bytes[1];
  const decode = (label: string) => new TextDecoder(label).decode(bytes);
  if (b0 === 0xef && b1 === 0xbb && bytes[2] === 0xbf) return decode("utf-8");
  if ((b0 === 0xff && b1 === 0xfe) || (b0 === 0x3c && b1 === 0x00)) return decode("utf-16le");
  if ((b0 === 0xfe && b1 === 0xff) || (b0 === 0x00 && b1 === 0x3c)) return decode("utf-16be");
  let head = "";
  for (let i = 0; i < Math.min(bytes.length, 200); i++) head += String.fromCharCode(bytes[i]);
  const declared = /^\s*<\?xml[^>]*?encoding\s*=\s*["']([A-Za-z0-9._:-]+)["']/.exec(head)?.[1];
  if (declared && !/^utf-?16/i.test(declared)) {
    try {
      return decode(declared);
    } catch {
      // An encoding the platform does not know: read it as UTF-8.
    }
  }
  return decode("utf-8");
}

// ---------------------------------------------------------------------------------------------------
// .mxl (zip)

const MUSICXML_MEDIA_TYPES = new Set([
  "application/vnd.recordare.musicxml+xml",
  "application/vnd.recordare.musicxml",
]);

/** No score is this large; a larger entry is a damaged or hostile archive. */
const MAX_ENTRY_BYTES = 256 * 1024 * 1024;

function isZip(bytes: Uint8Array): boolean {
  return bytes.length >= 4 && bytes[0] === 0x50 && bytes[1] === 0x4b && bytes[2] < 0x09 && bytes[3] < 0x09;
}

/**
 * The score inside a compressed MusicXML archive: the rootfile that META-INF/container.xml names,
 * else the first .xml/.musicxml entry outside META-INF/.
 */
function scoreFromZip(bytes: Uint8Array): { name: string; data: Uint8Array } {
  const sizes = new Map<string, number>();
  const unzip = (wanted?: string) => {
    try {
      return unzipSync(bytes, {
        filter: (f) => {
          if (wanted === undefined) sizes.set(f.name, f.originalSize);
          return f.name === wanted;
        },
      });
    } catch (e) {
      throw new MusicXmlError(`not a readable zip archive (.mxl): ${e instanceof Error ? e.message : e}`);
    }
  };
  const extract = (name: string): Uint8Array => {
    if ((sizes.get(name) ?? 0) > MAX_ENTRY_BYTES)
      throw new MusicXmlError(`${name} in the zip archive is larger than ${MAX_ENTRY_BYTES} bytes`);
    const data = unzip(name)[name];
    if (!data) throw new MusicXmlError(`${name} could not be read from the zip archive`);
    return data;
  };
  unzip();
  let scoreName: string | undefined;
  if (sizes.has("META-INF/container.xml")) {
    const container = parseXml(
      decodeXmlBytes(extract("META-INF/container.xml")),
      "META-INF/container.xml in the zip archive",
    );
    for (const rootfiles of childrenNamed(container, "rootfiles")) {
      for (const rootfile of childrenNamed(rootfiles, "rootfile")) {
        const type = rootfile.attrs["media-type"];
        const path = rootfile.attrs["full-path"];
        if (path && (type === undefined || MUSICXML_MEDIA_TYPES.has(type))) {
          scoreName ??= path;
        }
      }
    }
    if (scoreName !== undefined && !sizes.has(scoreName)) {
      throw new MusicXmlError(
        `META-INF/container.xml names the score ${scoreName}, which is not in the zip archive`,
      );
    }
  }
  scoreName ??= [...sizes.keys()].find((n) => !n.startsWith("META-INF/") && /\.(xml|musicxml)$/i.test(n));
  if (scoreName === undefined) {
    throw new MusicXmlError(
      "the zip archive holds no MusicXML score (no rootfile in META-INF/container.xml and no .xml or .musicxml file)",
    );
  }
  return { name: scoreName, data: extract(scoreName) };
}

// ---------------------------------------------------------------------------------------------------
// Score model helpers

/** Velocities of dynamics marks (<dynamics><p/></dynamics>): note_seq's ABC table, extended. */
const DYNAMICS_VELOCITY: Record<string, number> = {
  pppppp: 15,
  ppppp: 20,
  pppp: 25,
  ppp: 30,
  pp: 45,
  p: 60,
  mp: 75,
  mf: 90,
  f: 105,
  ff: 120,
  fff: 127,
  ffff: 127,
  fffff: 127,
  ffffff: 127,
};

/** Chord-symbol kinds as lead-sheet suffixes (note_seq's table). */
const CHORD_KINDS: Record<string, string> = {
  major: "",
  minor: "m",
  augmented: "aug",
  diminished: "dim",
  dominant: "7",
  "major-seventh": "maj7",
  "minor-seventh": "m7",
  "diminished-seventh": "dim7",
  "augmented-seventh": "aug7",
  "half-diminished": "m7b5",
  "major-minor": "m(maj7)",
  "major-sixth": "6",
  "minor-sixth": "m6",
  "dominant-ninth": "9",
  "major-ninth": "maj9",
  "minor-ninth": "m9",
  "dominant-11th": "11",
  "major-11th": "maj11",
  "minor-11th": "m11",
  "dominant-13th": "13",
  "major-13th": "maj13",
  "minor-13th": "m13",
  "suspended-second": "sus2",
  "suspended-fourth": "sus",
  pedal: "ped",
  power: "5",
  none: "N.C.",
  "dominant-seventh": "7",
  "augmented-ninth": "aug9",
  "minor-major": "m(maj7)",
};

function mod(a: number, n: number): number {
  return ((a % n) + n) % n;
}

function gcd(a: number, b: number): number {
  while (b) [a, b] = [b, a % b];
  return Math.abs(a);
}

const MAX_TICKS_PER_QUARTER = 1 << 24;

/**
 * ticks_per_quarter: the LCM of every <divisions> value (and of the denominators of notes that have
 * no <duration>), so that every duration is a whole number of ticks.
 */
function resolutionOf(root: XmlElement): number {
  let lcm = 1;
  const include = (d: number) => {
    if (Number.isInteger(d) && d > 0) {
      const next = (lcm / gcd(lcm, d)) * d;
      if (next <= MAX_TICKS_PER_QUARTER) lcm = next;
    }
  };
  const walk = (el: XmlElement) => {
    for (const c of el.children) {
      if (c.name === "divisions") include(Number(c.text.trim()));
      else if (c.name === "note") {
        if (!child(c, "duration") && !child(c, "grace")) {
          const q = typedQuarters(c);
          if (q) include(q[1]);
        }
      } else walk(c);
    }
  };
  walk(root);
  return lcm;
}

/** A timewise score regrouped as partwise: part → its measures in order. */
function partsOf(root: XmlElement): XmlElement[] {
  if (root.name === "score-partwise") return childrenNamed(root, "part");
  // score-timewise: measure → part; regroup into part → measure.
  const parts = new Map<string, XmlElement>();
  for (const measure of childrenNamed(root, "measure")) {
    for (const p of childrenNamed(measure, "part")) {
      const id = p.attrs.id ?? "";
      let part = parts.get(id);
      if (!part) {
        part = { name: "part", attrs: { id }, children: [], text: "" };
        parts.set(id, part);
      }
      part.children.push({ name: "measure", attrs: measure.attrs, children: p.children, text: "" });
    }
  }
  return [...parts.values()];
}

interface InstrumentDef {
  /** NoteSequence instrument number (over the whole score). */
  instrument: number;
  /** 0-based MIDI program. */
  program: number;
  isDrum: boolean;
  /** 0-based MIDI key for unpitched notes, when <midi-unpitched> gives it. */
  unpitched?: number;
  name: string;
}

interface DeclaredInstrument {
  id: string;
  name: string;
  /** 0-based MIDI program. */
  program: number;
  /** 1-based MIDI channel as MusicXML writes it; 0 when not given. */
  channel: number;
  unpitched?: number;
}

interface ScorePartDef {
  name: string;
  /** score-instrument / midi-instrument ids in declaration order. */
  instruments: DeclaredInstrument[];
}

function readScoreParts(root: XmlElement): Map<string, ScorePartDef> {
  const defs = new Map<string, ScorePartDef>();
  const partList = child(root, "part-list");
  if (!partList) return defs;
  for (const sp of childrenNamed(partList, "score-part")) {
    const name = childText(sp, "part-name") ?? "";
    const instruments: DeclaredInstrument[] = [];
    const byId = new Map<string, DeclaredInstrument>();
    for (const si of childrenNamed(sp, "score-instrument")) {
      const inst: DeclaredInstrument = {
        id: si.attrs.id ?? "",
        name: childText(si, "instrument-name") ?? "",
        program: 0,
        channel: 0,
      };
      instruments.push(inst);
      byId.set(inst.id, inst);
    }
    for (const mi of childrenNamed(sp, "midi-instrument")) {
      const id = mi.attrs.id ?? "";
      let inst = byId.get(id);
      if (!inst) {
        inst = { id, name: "", program: 0, channel: 0 };
        instruments.push(inst);
        byId.set(id, inst);
      }
      const program = Number(childText(mi, "midi-program"));
      if (Number.isInteger(program) && program >= 1 && program <= 128) inst.program = program - 1;
      const channel = Number(childText(mi, "midi-channel"));
      if (Number.isInteger(channel)) inst.channel = channel;
      const unpitched = Number(childText(mi, "midi-unpitched"));
      if (Number.isInteger(unpitched) && unpitched >= 1 && unpitched <= 128) inst.unpitched = unpitched - 1;
    }
    defs.set(sp.attrs.id ?? "", { name, instruments });
  }
  return defs;
}

/** An event of one part, placed by its measure (index in the part) and its offset there, in ticks. */
interface Placed<T> {
  measure: number;
  offset: number;
  part: number;
  value: T;
}

interface TimedValue<T> {
  tick: number;
  part: number;
  value: T;
}

interface RawNote {
  measure: number;
  offset: number;
  duration: number;
  pitch: number;
  velocity: number;
  voice: number;
  part: number;
  inst: InstrumentDef;
  tieStart: boolean;
  tieStop: boolean;
}

/** How far one part's measure reaches: by its notes and rests, and by its cursor (<forward> included). */
interface MeasureExtent {
  content: number;
  cursor: number;
}

/**
 * Measure lengths of the whole score: partwise measures are simultaneous, so all parts start measure i
 * at the same time. A measure lasts as long as its longest part, where a part whose measure ends in
 * <forward> padding (Finale pads short pickup measures of resting parts so) counts by its notes and
 * rests only, unless every part ends so (hidden rests), when the padding counts.
 */
function measureLengths(extents: MeasureExtent[][]): number[] {
  const count = Math.max(0, ...extents.map((e) => e.length));
  const lengths: number[] = [];
  for (let i = 0; i < count; i++) {
    let content = 0;
    let cursor = 0;
    let someExact = false;
    for (const part of extents) {
      const e = part[i];
      if (!e) continue;
      content = Math.max(content, e.content);
      cursor = Math.max(cursor, e.cursor);
      if (e.content === e.cursor) someExact = true;
    }
    lengths.push(someExact ? content : cursor);
  }
  return lengths;
}

/** Keeps the first event at each tick (lowest part first), then drops those that change nothing. */
function mergeTimed<T>(events: TimedValue<T>[], same: (a: T, b: T) => boolean): TimedValue<T>[] {
  const sorted = [...events].sort((a, b) => a.tick - b.tick || a.part - b.part);
  const out: TimedValue<T>[] = [];
  for (const e of sorted) {
    const last = out[out.length - 1];
    if (last && last.tick === e.tick) continue;
    if (last && same(last.value, e.value)) continue;
    out.push(e);
  }
  return out;
}

function numberOr(text: string | undefined, fallback: number): number {
  if (text === undefined || text === "") return fallback;
  const v = Number(text);
  return Number.isFinite(v) ? v : fallback;
}

/** MusicXML <sound dynamics>: a percentage of the forte velocity 90. */
function velocityOfPercent(percent: number): number {
  return Math.max(1, Math.min(127, Math.round((percent * 90) / 100)));
}

interface MergedNote {
  raw: RawNote;
  start: number;
  end: number;
}

/** Merges tied notes (in each part's written order): a tie stop continues the open tie of its pitch. */
function mergeTies(raw: RawNote[], measureStart: number[]): MergedNote[] {
  const out: MergedNote[] = [];
  let part = -1;
  let open = new Map<number, MergedNote[]>();
  for (const n of raw) {
    if (n.part !== part) {
      part = n.part;
      open = new Map();
    }
    const start = measureStart[n.measure] + n.offset;
    const end = start + n.duration;
    let note: MergedNote | undefined;
    if (n.tieStop) {
      const candidates = open.get(n.pitch) ?? [];
      // The same voice first; any voice otherwise (ties may cross voices).
      const i = candidates.findIndex((c) => c.end === start && c.raw.voice === n.voice);
      const j = i >= 0 ? i : candidates.findIndex((c) => c.end === start);
      if (j >= 0) {
        note = candidates[j];
        candidates.splice(j, 1);
        note.end = end;
      }
    }
    if (!note) {
      note = { raw: n, start, end };
      out.push(note);
    }
    if (n.tieStart) {
      const list = open.get(n.pitch);
      if (list) list.push(note);
      else open.set(n.pitch, [note]);
    }
  }
  return out;
}

// ---------------------------------------------------------------------------------------------------
// Conversion

/**
 * Converts a parsed MusicXML document. Semantics (note_seq's reader, except where marked ≠):
 * - source_info SCORE_BASED / MUSIC_XML / MAGENTA_MUSIC_XML; tempo 120 qpm until the first tempo mark;
 *   velocity 64 until the first dynamics; voice 1 when a note gives none.
 * - ≠ ticks_per_quarter is the LCM of the <divisions> values (note_seq: always 220).
 * - ≠ measures are simultaneous in all parts (see `measureLengths`; note_seq runs each part on its own,
 *   so one part's padded measure shifts it against the others).
 * - parts → part_infos (part-name); each (part, score-instrument) is one instrument, named in
 *   instrument_infos; ≠ program is the 0-based MIDI program (MusicXML's midi-program is 1-based;
 *   note_seq copies it unchanged) and `instrument` is this index (note_seq: the MIDI channel).
 * - tempos from <sound tempo> and, where no <sound tempo> is given, <metronome> marks, in any part
 *   (≠ note_seq: first part only); time and key signatures from every part, one per time.
 * - ≠ key signatures keep their mode (minor, dorian, ...; note_seq reads every key as major) and the key
 *   is the tonic of that mode; transposing parts' keys are given at sounding pitch.
 * - notes: chords share the onset; <backup>/<forward> move the cursor; tuplets come out of the
 *   durations; ≠ tied notes are merged into one (note_seq keeps each written note); grace notes are
 *   dropped (≠ note_seq keeps them as zero-length notes at time 0), and so are cue notes, rests and
 *   zero-length notes; velocity from <sound dynamics> (≠ as a percentage of 90, the MusicXML
 *   definition), dynamics marks and the note's own dynamics attribute; ≠ <transpose> applies chromatic
 *   and octave-change (note_seq: chromatic only); ≠ an altered step crosses the octave correctly (Cb4 is
 *   59; note_seq gives 71); unpitched notes use <midi-unpitched> and are drums (note_seq refuses them).
 * - chord symbols (<harmony>) become CHORD_SYMBOL text annotations.
 * - total_time: the end of the last measure, at least the last note's end.
 * Repeats are not expanded (as note_seq).
 */
export function musicXmlToNoteSequence(root: XmlElement): NoteSequence {
  if (root.name !== "score-partwise" && root.name !== "score-timewise") {
    throw new MusicXmlError(
      root.name === "opus"
        ? "this is a MusicXML opus (a list of scores), not a score"
        : `the root element is <${root.name}>, not <score-partwise> or <score-timewise>: not a MusicXML score`,
    );
  }
  const tpq = resolutionOf(root);
  const scoreParts = readScoreParts(root);
  const parts = partsOf(root);

  const tempos: Placed<number>[] = [];
  const timeSigs: Placed<[number, number]>[] = [];
  const keySigs: Placed<[number, number]>[] = [];
  const chordSymbols: Placed<string>[] = [];
  const rawNotes: RawNote[] = [];
  const extents: MeasureExtent[][] = [];
  const partInfos: PartInfo[] = [];
  const instrumentInfos: InstrumentInfo[] = [];
  let divisions = 1;

  parts.forEach((part, partIndex) => {
    const partId = part.attrs.id ?? "";
    const def = scoreParts.get(partId) ?? { name: "", instruments: [] };
    partInfos.push({ part: partIndex, name: def.name });
    const declared: DeclaredInstrument[] =
      def.instruments.length > 0 ? def.instruments : [{ id: "", name: "", program: 0, channel: 0 }];
    const instruments = new Map<string, InstrumentDef>();
    for (const d of declared) {
      const inst: InstrumentDef = {
        instrument: instrumentInfos.length,
        program: d.program,
        isDrum: d.channel === 10,
        unpitched: d.unpitched,
        name: declared.length === 1 ? def.name || d.name : d.name || def.name,
      };
      instruments.set(d.id, inst);
      instrumentInfos.push({ instrument: inst.instrument, name: inst.name });
    }
    const firstInstrument = instruments.get(declared[0].id) as InstrumentDef;
    const partExtents: MeasureExtent[] = [];
    extents.push(partExtents);

    let velocity = 64;
    let transpose = 0;
    let lastWasGrace = false;
    const toTicks = (duration: number) => Math.round((duration * tpq) / divisions);

    childrenNamed(part, "measure").forEach((measure, measureIndex) => {
      const where = () =>
        `part ${partId || partIndex + 1}, measure ${measure.attrs.number ?? measureIndex + 1}`;
      /** Cursor, in ticks from the start of the measure. */
      let pos = 0;
      let lastOnset = 0;
      const extent: MeasureExtent = { content: 0, cursor: 0 };
      partExtents.push(extent);
      const place = <T>(list: Placed<T>[], value: T, offset = pos) =>
        list.push({ measure: measureIndex, offset, part: partIndex, value });

      const readSound = (sound: XmlElement): boolean => {
        const tempo = Number(sound.attrs.tempo);
        if (sound.attrs.tempo !== undefined && Number.isFinite(tempo) && tempo > 0) place(tempos, tempo);
        const dyn = Number(sound.attrs.dynamics);
        if (sound.attrs.dynamics !== undefined && Number.isFinite(dyn) && dyn >= 0) {
          velocity = velocityOfPercent(dyn);
          return true;
        }
        return false;
      };

      for (const el of measure.children) {
        switch (el.name) {
          case "attributes": {
            const divText = childText(el, "divisions");
            if (divText !== undefined) {
              const d = Number(divText);
              if (!(d > 0)) throw new MusicXmlError(`${where()}: bad <divisions> ${divText}`);
              divisions = d;
            }
            const tr = child(el, "transpose");
            if (tr) {
              transpose =
                Math.round(numberOr(childText(tr, "chromatic"), 0)) +
                12 * Math.round(numberOr(childText(tr, "octave-change"), 0));
            }
            for (const key of childrenNamed(el, "key")) {
              const fifthsText = childText(key, "fifths");
              if (fifthsText === undefined) continue; // a non-traditional key: no key signature
              const fifths = Number(fifthsText);
              if (!Number.isInteger(fifths))
                throw new MusicXmlError(`${where()}: bad key <fifths> ${fifthsText}`);
              const [mode, shift] = MODES[(childText(key, "mode") ?? "major").toLowerCase()] ?? MODES.major;
              place(keySigs, [mod(fifths * 7 + shift + transpose, 12), mode]);
            }
            for (const time of childrenNamed(el, "time")) {
              if (child(time, "senza-misura")) continue;
              place(timeSigs, timeSignatureOf(time, where));
            }
            break;
          }
          case "backup":
            pos = Math.max(0, pos - toTicks(numberOr(childText(el, "duration"), 0)));
            break;
          case "forward":
            pos += toTicks(numberOr(childText(el, "duration"), 0));
            break;
          case "sound":
            readSound(el);
            break;
          case "direction": {
            const sound = child(el, "sound");
            const soundTempo = sound?.attrs.tempo !== undefined;
            const soundVelocity = sound ? readSound(sound) : false;
            for (const dt of childrenNamed(el, "direction-type")) {
              const metronome = child(dt, "metronome");
              if (metronome && !soundTempo) {
                const qpm = metronomeQpm(metronome);
                if (qpm !== undefined) place(tempos, qpm);
              }
              const dynamics = child(dt, "dynamics");
              if (dynamics && !soundVelocity) {
                for (const mark of dynamics.children) velocity = DYNAMICS_VELOCITY[mark.name] ?? velocity;
              }
            }
            break;
          }
          case "harmony": {
            const figure = chordFigure(el);
            if (figure !== undefined)
              place(chordSymbols, figure, pos + toTicks(numberOr(childText(el, "offset"), 0)));
            break;
          }
          case "note": {
            const isChord = child(el, "chord") !== undefined;
            if (child(el, "grace")) {
              lastWasGrace = true;
              break;
            }
            if (isChord && lastWasGrace) break; // a chord note of a grace chord
            lastWasGrace = false;
            const durText = childText(el, "duration");
            let dur: number;
            if (durText !== undefined) {
              const d = Number(durText);
              if (!Number.isFinite(d) || d < 0)
                throw new MusicXmlError(`${where()}: bad note <duration> ${durText}`);
              dur = toTicks(d);
            } else {
              const q = typedQuarters(el);
              if (!q) throw new MusicXmlError(`${where()}: a note has neither <duration> nor a known <type>`);
              dur = Math.round((q[0] * tpq) / q[1]);
            }
            const start = isChord ? lastOnset : pos;
            if (!isChord) {
              lastOnset = pos;
              pos += dur;
            }
            extent.content = Math.max(extent.content, start + dur);
            if (child(el, "rest") || child(el, "cue") || dur === 0) break;

            const instRef = child(el, "instrument")?.attrs.id;
            const inst = (instRef !== undefined && instruments.get(instRef)) || firstInstrument;
            let noteInst = inst;
            let pitch: number;
            const p = child(el, "pitch");
            const unpitched = child(el, "unpitched");
            if (p) {
              pitch = pitchOf(p, "step", "octave", where) + transpose;
            } else if (unpitched) {
              if (!inst.isDrum) noteInst = { ...inst, isDrum: true };
              pitch =
                inst.unpitched ??
                (child(unpitched, "display-step")
                  ? pitchOf(unpitched, "display-step", "display-octave", where)
                  : 0);
            } else {
              throw new MusicXmlError(`${where()}: a note has no <pitch>, <unpitched> or <rest>`);
            }
            if (pitch < 0 || pitch > 127) {
              throw new MusicXmlError(`${where()}: pitch ${pitch} is outside the MIDI range 0..127`);
            }
            const noteDyn = Number(el.attrs.dynamics);
            const tieTypes = new Set<string>();
            for (const t of childrenNamed(el, "tie")) tieTypes.add(t.attrs.type ?? "");
            for (const n of childrenNamed(el, "notations"))
              for (const t of childrenNamed(n, "tied")) tieTypes.add(t.attrs.type ?? "");
            rawNotes.push({
              measure: measureIndex,
              offset: start,
              duration: dur,
              pitch,
              velocity:
                el.attrs.dynamics !== undefined && Number.isFinite(noteDyn)
                  ? velocityOfPercent(noteDyn)
                  : velocity,
              voice: Math.trunc(numberOr(childText(el, "voice"), 1)),
              part: partIndex,
              inst: noteInst,
              tieStart: tieTypes.has("start") || tieTypes.has("continue"),
              tieStop: tieTypes.has("stop") || tieTypes.has("continue"),
            });
            break;
          }
          default:
            break;
        }
        if (pos > extent.cursor) extent.cursor = pos;
      }
    });
  });

  // Absolute ticks: measure i starts where measure i - 1 ends, in every part.
  const lengths = measureLengths(extents);
  const measureStart = [0];
  for (const len of lengths) measureStart.push(measureStart[measureStart.length - 1] + len);
  const endTick = measureStart[measureStart.length - 1];
  const resolve = <T>(list: Placed<T>[]): TimedValue<T>[] =>
    list.map((e) => ({
      tick: Math.max(0, measureStart[e.measure] + e.offset),
      part: e.part,
      value: e.value,
    }));

  // Tempo map: 120 qpm until the first mark.
  const tempoMap = mergeTimed(resolve(tempos), (a, b) => a === b).map((t) => ({
    tick: t.tick,
    qpm: t.value,
  }));
  if (tempoMap.length === 0 || tempoMap[0].tick > 0) tempoMap.unshift({ tick: 0, qpm: 120 });
  const starts: number[] = [0];
  for (let i = 1; i < tempoMap.length; i++) {
    const prev = tempoMap[i - 1];
    starts.push(starts[i - 1] + ((tempoMap[i].tick - prev.tick) * 60) / (prev.qpm * tpq));
  }
  const seconds = (tick: number): number => {
    let i = tempoMap.length - 1;
    while (i > 0 && tempoMap[i].tick > tick) i--;
    return starts[i] + ((tick - tempoMap[i].tick) * 60) / (tempoMap[i].qpm * tpq);
  };

  let lastNoteEnd = 0;
  const notes: Note[] = mergeTies(rawNotes, measureStart).map(({ raw, start, end }) => {
    if (end > lastNoteEnd) lastNoteEnd = end;
    const g = gcd(end - start, 4 * tpq);
    return createNote({
      pitch: raw.pitch,
      velocity: raw.velocity,
      startTime: seconds(start),
      endTime: seconds(end),
      numerator: (end - start) / g,
      denominator: (4 * tpq) / g,
      instrument: raw.inst.instrument,
      program: raw.inst.program,
      isDrum: raw.inst.isDrum,
      part: raw.part,
      voice: raw.voice,
    });
  });

  const textAnnotations: TextAnnotation[] = resolve(chordSymbols)
    .sort((a, b) => a.tick - b.tick || a.part - b.part)
    .filter((c, i, all) => i === 0 || c.tick !== all[i - 1].tick || c.value !== all[i - 1].value)
    .map((c) => ({
      time: seconds(c.tick),
      quantizedStep: 0,
      text: c.value,
      annotationType: TextAnnotationType.CHORD_SYMBOL,
    }));

  return createNoteSequence({
    ticksPerQuarter: tpq,
    sourceInfo: {
      sourceType: SourceType.SCORE_BASED,
      encodingType: EncodingType.MUSIC_XML,
      parser: Parser.MAGENTA_MUSIC_XML,
    },
    tempos: tempoMap.map((t) => ({ time: seconds(t.tick), qpm: t.qpm })),
    timeSignatures: mergeTimed(resolve(timeSigs), (a, b) => a[0] === b[0] && a[1] === b[1]).map((t) => ({
      time: seconds(t.tick),
      numerator: t.value[0],
      denominator: t.value[1],
    })),
    keySignatures: mergeTimed(resolve(keySigs), (a, b) => a[0] === b[0] && a[1] === b[1]).map((k) => ({
      time: seconds(k.tick),
      key: k.value[0],
      mode: k.value[1],
    })),
    notes,
    partInfos,
    instrumentInfos,
    textAnnotations,
    totalTime: seconds(Math.max(endTick, lastNoteEnd)),
  });
}

/** A <time> element: composite (3+2/8) and alternating (2/4 + 3/8) meters give their sum. */
function timeSignatureOf(time: XmlElement, where: () => string): [number, number] {
  const beats = childrenNamed(time, "beats").map((b) => b.text.trim());
  const types = childrenNamed(time, "beat-type").map((b) => Number(b.text.trim()));
  if (beats.length === 0 || beats.length !== types.length) {
    throw new MusicXmlError(`${where()}: a <time> needs one <beat-type> per <beats>`);
  }
  const den = Math.max(...types);
  let num = 0;
  beats.forEach((b, i) => {
    const sum = b.split("+").reduce((s, x) => s + Number(x), 0);
    num += (sum * den) / types[i];
  });
  if (!Number.isInteger(num) || num <= 0 || !Number.isInteger(den) || den <= 0) {
    throw new MusicXmlError(
      `${where()}: cannot read the time signature ${beats.join("+")}/${types.join("+")}`,
    );
  }
  return [num, den];
}

/** A <metronome> mark's tempo in quarter notes per minute, when it has a beat unit and a number. */
function metronomeQpm(metronome: XmlElement): number | undefined {
  const unit = TYPE_WHOLE_NOTES[childText(metronome, "beat-unit") ?? ""];
  const rate = Number(/\d+(\.\d+)?/.exec(childText(metronome, "per-minute") ?? "")?.[0]);
  if (unit === undefined || !(rate > 0)) return undefined;
  const dots = childrenNamed(metronome, "beat-unit-dot").length;
  return rate * unit * 4 * (2 - 2 ** -dots);
}

function pitchOf(el: XmlElement, stepTag: string, octaveTag: string, where: () => string): number {
  const step = childText(el, stepTag) ?? "";
  const pc = STEP_PITCH_CLASS[step.toUpperCase()];
  if (pc === undefined) throw new MusicXmlError(`${where()}: cannot read the pitch step '${step}'`);
  const octaveText = childText(el, octaveTag);
  const octave = Number(octaveText);
  if (octaveText === undefined || !Number.isInteger(octave)) {
    throw new MusicXmlError(`${where()}: cannot read the octave '${octaveText ?? ""}'`);
  }
  // <alter> may be microtonal (0.5): round to the nearest semitone.
  const alter = Math.round(numberOr(el.name === "pitch" ? childText(el, "alter") : undefined, 0));
  return 12 * (octave + 1) + pc + alter;
}

/**
 * A note without <duration>: its length from <type>, dots and <time-modification>, in quarters, as
 * [numerator, denominator]; undefined when it has no known <type>.
 */
function typedQuarters(note: XmlElement): [number, number] | undefined {
  const whole = TYPE_WHOLE_NOTES[childText(note, "type") ?? ""];
  if (whole === undefined) return undefined;
  const dots = Math.min(childrenNamed(note, "dot").length, 8);
  // whole * 4 * (2 - 2^-dots) * normal / actual, in integers.
  let num = whole >= 1 ? whole * 4 : 4;
  let den = whole >= 1 ? 1 : 1 / whole;
  num *= 2 ** (dots + 1) - 1;
  den *= 2 ** dots;
  const tm = child(note, "time-modification");
  const actual = tm ? Number(childText(tm, "actual-notes")) : 1;
  const normal = tm ? Number(childText(tm, "normal-notes")) : 1;
  if (Number.isInteger(actual) && Number.isInteger(normal) && actual > 0 && normal > 0) {
    num *= normal;
    den *= actual;
  }
  const g = gcd(num, den);
  return [num / g, den / g];
}

function alterString(text: string | undefined): string {
  const a = Math.round(numberOr(text, 0));
  return a < 0 ? "b".repeat(-a) : "#".repeat(a);
}

/** A <harmony> element as a lead-sheet figure ("C#m7/G#"), or undefined when it has no root. */
function chordFigure(harmony: XmlElement): string | undefined {
  const kindEl = child(harmony, "kind");
  const kindName = kindEl?.text.trim() ?? "";
  if (kindName === "none") return "N.C.";
  const root = child(harmony, "root");
  if (!root) return undefined;
  const step = childText(root, "root-step");
  if (!step) return undefined;
  let figure = step + alterString(childText(root, "root-alter"));
  figure += CHORD_KINDS[kindName] ?? kindEl?.attrs.text ?? kindName;
  for (const degree of childrenNamed(harmony, "degree")) {
    const value = childText(degree, "degree-value") ?? "";
    const alter = alterString(childText(degree, "degree-alter"));
    const type = childText(degree, "degree-type");
    figure += `(${type === "subtract" ? `no${value}` : type === "add" && !alter ? `add${value}` : `${alter}${value}`})`;
  }
  const bass = child(harmony, "bass");
  const bassStep = bass ? childText(bass, "bass-step") : undefined;
  if (bass && bassStep) figure += `/${bassStep}${alterString(childText(bass, "bass-alter"))}`;
  return figure;
}

/**
 * Reads a MusicXML score: `.xml`/`.musicxml` text or a compressed `.mxl` zip (recognised by its bytes;
 * a name ending in .mxl that is not a zip is an error). Throws MusicXmlError with a one-line message.
 * See `musicXmlToNoteSequence` for the mapping and how it differs from note_seq.
 */
export function readMusicXml(bytes: Uint8Array, filename?: string): NoteSequence {
  if (bytes.length === 0) throw new MusicXmlError("the file is empty");
  let text: string;
  let what = "XML";
  if (isZip(bytes)) {
    const score = scoreFromZip(bytes);
    what = `XML in ${score.name} (in the zip archive)`;
    text = decodeXmlBytes(score.data);
  } else {
    if (filename?.toLowerCase().endsWith(".mxl")) {
      throw new MusicXmlError("a .mxl file must be a zip archive, and this one is not");
    }
    text = decodeXmlBytes(bytes);
  }
  return musicXmlToNoteSequence(parseXml(text, what));
}
