/**
 * Piano-roll pictures of a NoteSequence, as SVG text (`pianoRollSvg`) or as an RGBA raster drawn directly
 * (`pianoRollRgba`, with `pianoRollPng` to encode it). Pure: runs in Node and in browsers.
 *
 * Time runs left to right in seconds, with beat and bar lines from the first tempo and time signature;
 * pitch runs bottom to top over the notes' range plus a margin, with a line and a label at every C
 * (C4 = MIDI 60, middle C). One rectangle per note, its opacity from the velocity. Notes that start
 * before `splitTime` are the primer and the rest are generated, in two colours; without `splitTime`
 * every note is drawn in one colour. Both renderers draw the same scene: a list of pixel-aligned
 * rectangles, axis-aligned lines and text, so the PNG is the SVG's picture (with a 5×7 bitmap font that
 * writes text in capitals).
 */

import { escapeXml } from "../io/xml_escape.js";
import type { Note, NoteSequence } from "../notesequence.js";
import { encodePng, type RgbaImage } from "./png.js";

/** Options of `pianoRollSvg` and `pianoRollPng`. */
export interface PianoRollOptions {
  /** Picture width in pixels (default 1200). */
  width?: number;
  /** Picture height in pixels (default: from the pitch range, about 10 px a semitone, 320 to 800 px). */
  height?: number;
  /** Seconds: notes starting before it are the primer, the rest generated. Default: one colour for all. */
  splitTime?: number;
  /** Title at the top left (default: the sequence's filename, else "Piano roll"). */
  title?: string;
  /** Semitones shown below the lowest and above the highest note (default 2). */
  pitchMargin?: number;
}

export type NoteRole = "primer" | "generated" | "notes";

/** The colours of the three kinds of notes, and of the picture's parts. */
export const PIANO_ROLL_COLORS = {
  primer: "#1f77b4",
  generated: "#e6550d",
  notes: "#5b4fb0",
  background: "#ffffff",
  blackKeyRow: "#f1f2f6",
  beat: "#e3e3e8",
  bar: "#a9abb5",
  octave: "#8a8f9c",
  split: "#303030",
  frame: "#505050",
  text: "#202020",
  mutedText: "#606060",
} as const;

type Shape =
  | {
      kind: "rect";
      x: number;
      y: number;
      w: number;
      h: number;
      fill: string;
      opacity?: number;
      cls?: string;
      tip?: string;
    }
  | {
      /** A horizontal or vertical line one pixel wide, covering pixels [x1, x2] × [y1, y2]. */
      kind: "line";
      x1: number;
      y1: number;
      x2: number;
      y2: number;
      stroke: string;
      dash?: boolean;
      cls: string;
    }
  | {
      kind: "text";
      x: number;
      /** Baseline. */
      y: number;
      text: string;
      size: number;
      fill: string;
      anchor: "start" | "middle" | "end";
      bold?: boolean;
      cls: string;
    };

interface Scene {
  width: number;
  height: number;
  shapes: Shape[];
}

const NOTE_NAMES = ["C", "C#", "D", "D#", "E", "F", "F#", "G", "G#", "A", "A#", "B"];
const BLACK_KEYS = new Set([1, 3, 6, 8, 10]);

/** "C4" for 60: scientific pitch notation, as Magenta and most DAWs name MIDI notes. */
export function pitchName(pitch: number): string {
  return `${NOTE_NAMES[pitch % 12]}${Math.floor(pitch / 12) - 1}`;
}

/** Which colour a note gets: primer if it starts before `splitTime`, generated otherwise. */
export function noteRole(note: Note, splitTime: number | undefined): NoteRole {
  if (splitTime === undefined) return "notes";
  return note.startTime < splitTime - 1e-6 ? "primer" : "generated";
}

function firstBy<T extends { time: number }>(list: T[]): T | undefined {
  let best: T | undefined;
  for (const x of list) if (!best || x.time < best.time) best = x;
  return best;
}

/** Text size → bitmap-font scale (the raster's glyphs are 5×7 pixels, 6 apart, times the scale). */
function fontScale(size: number): number {
  return size >= 14 ? 2 : 1;
}

function textWidth(text: string, size: number): number {
  const s = fontScale(size);
  return text.length === 0 ? 0 : [...text].length * 6 * s - s;
}

function formatSeconds(t: number): string {
  const r = Math.round(t * 1000) / 1000;
  return `${r}s`;
}

const TIME_STEPS = [0.1, 0.25, 0.5, 1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 1200, 1800, 3600];

function buildScene(ns: NoteSequence, opts: PianoRollOptions): Scene {
  const C = PIANO_ROLL_COLORS;
  const notes = ns.notes.filter(
    (n) => Number.isFinite(n.startTime) && Number.isFinite(n.endTime) && n.pitch >= 0 && n.pitch <= 127,
  );
  const split =
    opts.splitTime !== undefined && Number.isFinite(opts.splitTime) ? Math.max(0, opts.splitTime) : undefined;

  // Pitch range: the notes ± a margin, at least an octave tall, inside 0…127.
  const margin = Math.max(0, Math.floor(opts.pitchMargin ?? 2));
  let lo = 60;
  let hi = 72;
  if (notes.length > 0) {
    lo = 127;
    hi = 0;
    for (const n of notes) {
      lo = Math.min(lo, n.pitch);
      hi = Math.max(hi, n.pitch);
    }
    lo = Math.max(0, lo - margin);
    hi = Math.min(127, hi + margin);
  }
  for (let grow = 0; hi - lo < 12; grow++) {
    if ((grow % 2 === 0 && hi < 127) || lo === 0) hi++;
    else lo--;
  }
  const rows = hi - lo + 1;

  // Time range: 0 to the end of the last note (or the sequence's total time, or the split).
  let end = Math.max(0, Number.isFinite(ns.totalTime) ? ns.totalTime : 0);
  for (const n of notes) end = Math.max(end, n.endTime);
  if (split !== undefined) end = Math.max(end, split);
  if (!(end > 0)) end = 1;

  const width = Math.max(200, Math.round(opts.width ?? 1200));
  const padLeft = 44;
  const padRight = 16;
  const padTop = 40;
  const padBottom = 30;
  const height = Math.max(
    120,
    Math.round(opts.height ?? padTop + padBottom + Math.min(800, Math.max(320, rows * 10))),
  );
  const plotX = padLeft;
  const plotY = padTop;
  const plotW = width - padLeft - padRight;
  const plotH = height - padTop - padBottom;
  const sx = plotW / end;
  const rowH = plotH / rows;
  const xOf = (t: number) => Math.round(plotX + t * sx);
  /** Top pixel row of pitch p's lane. */
  const yOf = (p: number) => Math.round(plotY + (hi - p) * rowH);

  const shapes: Shape[] = [];
  shapes.push({ kind: "rect", x: 0, y: 0, w: width, h: height, fill: C.background, cls: "background" });

  // Lanes of the black keys, lightly shaded.
  for (let p = lo; p <= hi; p++) {
    if (!BLACK_KEYS.has(p % 12)) continue;
    const y0 = yOf(p);
    const y1 = yOf(p - 1);
    if (y1 > y0)
      shapes.push({ kind: "rect", x: plotX, y: y0, w: plotW, h: y1 - y0, fill: C.blackKeyRow, cls: "lane" });
  }

  // Beat and bar lines from the first tempo and time signature.
  const tempo = firstBy(ns.tempos);
  const qpm = tempo && tempo.qpm > 0 && Number.isFinite(tempo.qpm) ? tempo.qpm : 120;
  const ts = firstBy(ns.timeSignatures);
  const numerator = ts && ts.numerator > 0 ? ts.numerator : 4;
  const denominator = ts && ts.denominator > 0 ? ts.denominator : 4;
  const beatSec = (60 / qpm) * (4 / denominator);
  const barSec = beatSec * numerator;
  const plotBottom = plotY + plotH - 1;
  const beatsVisible = beatSec * sx >= 5;
  let barEvery = 1;
  while (barSec * barEvery * sx < 5) barEvery *= 2;
  const maxBeats = Math.floor(end / beatSec + 1e-9);
  if (maxBeats <= 100_000) {
    for (let i = 1; i <= maxBeats; i++) {
      const isBar = i % numerator === 0;
      const x = xOf(i * beatSec);
      if (x >= plotX + plotW) break;
      if (isBar && (i / numerator) % barEvery === 0) {
        shapes.push({ kind: "line", x1: x, y1: plotY, x2: x, y2: plotBottom, stroke: C.bar, cls: "bar" });
      } else if (!isBar && beatsVisible) {
        shapes.push({ kind: "line", x1: x, y1: plotY, x2: x, y2: plotBottom, stroke: C.beat, cls: "beat" });
      }
    }
  }

  // A line under every C, labelled at the left.
  for (let p = lo; p <= hi; p++) {
    if (p % 12 !== 0) continue;
    const yBottom = yOf(p - 1) - 1;
    if (p > lo)
      shapes.push({
        kind: "line",
        x1: plotX,
        y1: yBottom,
        x2: plotX + plotW - 1,
        y2: yBottom,
        stroke: C.octave,
        cls: "octave",
      });
    const yMid = (yOf(p) + yOf(p - 1)) / 2;
    shapes.push({
      kind: "text",
      x: plotX - 5,
      y: Math.round(yMid + 3.5),
      text: pitchName(p),
      size: 10,
      fill: C.mutedText,
      anchor: "end",
      cls: "pitch-label",
    });
  }

  // Notes: one rectangle each, velocity as opacity.
  const counts: Record<NoteRole, number> = { primer: 0, generated: 0, notes: 0 };
  const sorted = [...notes].sort((a, b) => a.startTime - b.startTime || a.pitch - b.pitch);
  for (const n of sorted) {
    const role = noteRole(n, split);
    counts[role]++;
    const x0 = xOf(Math.max(0, n.startTime));
    const x1 = xOf(Math.max(n.startTime, n.endTime));
    const span = x1 - x0;
    const w = Math.max(1, span >= 4 ? span - 1 : span);
    const y0 = yOf(n.pitch);
    const y1 = yOf(n.pitch - 1);
    const h = Math.max(1, y1 - y0 >= 4 ? y1 - y0 - 1 : y1 - y0);
    const velocity = Math.min(127, Math.max(0, n.velocity));
    shapes.push({
      kind: "rect",
      x: x0,
      y: y0,
      w,
      h,
      fill: C[role],
      opacity: Math.round((0.3 + (0.7 * velocity) / 127) * 1000) / 1000,
      cls: `note ${role}`,
      tip: `${pitchName(n.pitch)} (${n.pitch}) v${n.velocity} ${n.startTime.toFixed(3)}–${n.endTime.toFixed(3)} s`,
    });
  }

  // The end of the primer.
  if (split !== undefined) {
    const x = Math.min(xOf(split), plotX + plotW - 1);
    shapes.push({
      kind: "line",
      x1: x,
      y1: plotY,
      x2: x,
      y2: plotBottom,
      stroke: C.split,
      dash: true,
      cls: "split",
    });
  }

  // Frame.
  const right = plotX + plotW - 1;
  shapes.push({ kind: "line", x1: plotX, y1: plotY, x2: right, y2: plotY, stroke: C.frame, cls: "frame" });
  shapes.push({
    kind: "line",
    x1: plotX,
    y1: plotBottom,
    x2: right,
    y2: plotBottom,
    stroke: C.frame,
    cls: "frame",
  });
  shapes.push({
    kind: "line",
    x1: plotX,
    y1: plotY,
    x2: plotX,
    y2: plotBottom,
    stroke: C.frame,
    cls: "frame",
  });
  shapes.push({
    kind: "line",
    x1: right,
    y1: plotY,
    x2: right,
    y2: plotBottom,
    stroke: C.frame,
    cls: "frame",
  });

  // Time axis: ticks and labels in seconds, about 60 px apart or more.
  const step = TIME_STEPS.find((s) => s * sx >= 60) ?? Math.ceil(end / 10);
  for (let i = 0; i * step <= end + 1e-9; i++) {
    const t = i * step;
    const x = Math.min(xOf(t), right);
    shapes.push({
      kind: "line",
      x1: x,
      y1: plotBottom + 1,
      x2: x,
      y2: plotBottom + 4,
      stroke: C.frame,
      cls: "tick",
    });
    shapes.push({
      kind: "text",
      x,
      y: plotBottom + 16,
      text: formatSeconds(t),
      size: 10,
      fill: C.mutedText,
      anchor: i === 0 ? "start" : x + textWidth(formatSeconds(t), 10) / 2 > width - 2 ? "end" : "middle",
      cls: "time-label",
    });
  }
  // Legend at the top right, title at the top left (shortened if they would overlap).
  const legend: { role: NoteRole; label: string }[] =
    split === undefined
      ? [{ role: "notes", label: `notes (${counts.notes})` }]
      : [
          { role: "primer", label: `primer (${counts.primer})` },
          { role: "generated", label: `generated (${counts.generated})` },
        ];
  let lx = right;
  const baseline = 24;
  for (let i = legend.length - 1; i >= 0; i--) {
    const { role, label } = legend[i];
    const tw = textWidth(label, 11);
    shapes.push({
      kind: "text",
      x: lx,
      y: baseline,
      text: label,
      size: 11,
      fill: C.text,
      anchor: "end",
      cls: "legend",
    });
    lx -= tw + 4 + 10;
    shapes.push({
      kind: "rect",
      x: lx,
      y: baseline - 9,
      w: 10,
      h: 10,
      fill: C[role],
      cls: `legend-swatch ${role}`,
    });
    lx -= 16;
  }
  // Title, then the tempo and metre the grid was drawn with.
  const meter = `${Math.round(qpm * 100) / 100} qpm, ${numerator}/${denominator}`;
  const meterWidth = textWidth(meter, 11);
  let title = opts.title ?? (ns.filename || "Piano roll");
  const room = lx - padLeft - 8 - meterWidth - 14;
  if (textWidth(title, 16) > room) {
    const chars = [...title];
    while (chars.length > 1 && textWidth(`${chars.join("")}...`, 16) > room) chars.pop();
    title = `${chars.join("")}...`;
  }
  shapes.push({
    kind: "text",
    x: padLeft,
    y: baseline + 1,
    text: title,
    size: 16,
    fill: C.text,
    anchor: "start",
    bold: true,
    cls: "title",
  });
  if (padLeft + textWidth(title, 16) + 14 + meterWidth < lx) {
    shapes.push({
      kind: "text",
      x: padLeft + textWidth(title, 16) + 14,
      y: baseline,
      text: meter,
      size: 11,
      fill: C.mutedText,
      anchor: "start",
      cls: "meter",
    });
  }

  return { width, height, shapes };
}

/** The piano roll as an SVG document. */
export function pianoRollSvg(ns: NoteSequence, opts: PianoRollOptions = {}): string {
  const scene = buildScene(ns, opts);
  const out: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${scene.width}" height="${scene.height}" ` +
      `viewBox="0 0 ${scene.width} ${scene.height}" font-family="Helvetica, Arial, sans-serif">`,
  ];
  const title = scene.shapes.find((s) => s.kind === "text" && s.cls === "title");
  if (title?.kind === "text") out.push(`<title>${escapeXml(title.text)}</title>`);
  for (const s of scene.shapes) {
    switch (s.kind) {
      case "rect": {
        const opacity = s.opacity !== undefined && s.opacity < 1 ? ` fill-opacity="${s.opacity}"` : "";
        const attrs = `${s.cls ? ` class="${s.cls}"` : ""} x="${s.x}" y="${s.y}" width="${s.w}" height="${s.h}" fill="${s.fill}"${opacity}`;
        out.push(s.tip ? `<rect${attrs}><title>${escapeXml(s.tip)}</title></rect>` : `<rect${attrs}/>`);
        break;
      }
      case "line": {
        const dash = s.dash ? ` stroke-dasharray="4 3"` : "";
        const horizontal = s.y1 === s.y2;
        // Pixel centres, so that a 1-px line covers exactly the pixels the raster paints.
        const x1 = horizontal ? s.x1 : s.x1 + 0.5;
        const x2 = horizontal ? s.x2 + 1 : s.x2 + 0.5;
        const y1 = horizontal ? s.y1 + 0.5 : s.y1;
        const y2 = horizontal ? s.y2 + 0.5 : s.y2 + 1;
        out.push(
          `<line class="${s.cls}" x1="${x1}" y1="${y1}" x2="${x2}" y2="${y2}" stroke="${s.stroke}" stroke-width="1"${dash}/>`,
        );
        break;
      }
      case "text": {
        const anchor = s.anchor === "start" ? "" : ` text-anchor="${s.anchor}"`;
        const weight = s.bold ? ` font-weight="bold"` : "";
        out.push(
          `<text class="${s.cls}" x="${s.x}" y="${s.y}" font-size="${s.size}" fill="${s.fill}"${anchor}${weight}>${escapeXml(s.text)}</text>`,
        );
        break;
      }
    }
  }
  out.push("</svg>", "");
  return out.join("\n");
}

// ---------------------------------------------------------------------------------------------------
// Raster

/** 5×7 glyphs, rows top to bottom, "#" = ink. Lower case is drawn as upper case. */
const GLYPHS: Record<string, string> = {
  A: ".###. #...# #...# ##### #...# #...# #...#",
  B: "####. #...# #...# ####. #...# #...# ####.",
  C: ".###. #...# #.... #.... #.... #...# .###.",
  D: "####. #...# #...# #...# #...# #...# ####.",
  E: "##### #.... #.... ####. #.... #.... #####",
  F: "##### #.... #.... ####. #.... #.... #....",
  G: ".###. #...# #.... #.### #...# #...# .###.",
  H: "#...# #...# #...# ##### #...# #...# #...#",
  I: ".###. ..#.. ..#.. ..#.. ..#.. ..#.. .###.",
  J: "..### ...#. ...#. ...#. ...#. #..#. .##..",
  K: "#...# #..#. #.#.. ##... #.#.. #..#. #...#",
  L: "#.... #.... #.... #.... #.... #.... #####",
  M: "#...# ##.## #.#.# #.#.# #...# #...# #...#",
  N: "#...# #...# ##..# #.#.# #..## #...# #...#",
  O: ".###. #...# #...# #...# #...# #...# .###.",
  P: "####. #...# #...# ####. #.... #.... #....",
  Q: ".###. #...# #...# #...# #.#.# #..#. .##.#",
  R: "####. #...# #...# ####. #.#.. #..#. #...#",
  S: ".#### #.... #.... .###. ....# ....# ####.",
  T: "##### ..#.. ..#.. ..#.. ..#.. ..#.. ..#..",
  U: "#...# #...# #...# #...# #...# #...# .###.",
  V: "#...# #...# #...# #...# #...# .#.#. ..#..",
  W: "#...# #...# #...# #.#.# #.#.# #.#.# .#.#.",
  X: "#...# #...# .#.#. ..#.. .#.#. #...# #...#",
  Y: "#...# #...# .#.#. ..#.. ..#.. ..#.. ..#..",
  Z: "##### ....# ...#. ..#.. .#... #.... #####",
  "0": ".###. #...# #..## #.#.# ##..# #...# .###.",
  "1": "..#.. .##.. ..#.. ..#.. ..#.. ..#.. .###.",
  "2": ".###. #...# ....# ...#. ..#.. .#... #####",
  "3": "##### ...#. ..#.. ...#. ....# #...# .###.",
  "4": "...#. ..##. .#.#. #..#. ##### ...#. ...#.",
  "5": "##### #.... ####. ....# ....# #...# .###.",
  "6": "..##. .#... #.... ####. #...# #...# .###.",
  "7": "##### ....# ...#. ..#.. .#... .#... .#...",
  "8": ".###. #...# #...# .###. #...# #...# .###.",
  "9": ".###. #...# #...# .#### ....# ...#. .##..",
  " ": "..... ..... ..... ..... ..... ..... .....",
  ".": "..... ..... ..... ..... ..... .##.. .##..",
  ",": "..... ..... ..... ..... .##.. ..#.. .#...",
  "-": "..... ..... ..... ##### ..... ..... .....",
  "–": "..... ..... ..... ##### ..... ..... .....",
  _: "..... ..... ..... ..... ..... ..... #####",
  "(": "...#. ..#.. .#... .#... .#... ..#.. ...#.",
  ")": ".#... ..#.. ...#. ...#. ...#. ..#.. .#...",
  "[": ".###. .#... .#... .#... .#... .#... .###.",
  "]": ".###. ...#. ...#. ...#. ...#. ...#. .###.",
  ":": "..... .##.. .##.. ..... .##.. .##.. .....",
  "/": "..... ....# ...#. ..#.. .#... #.... .....",
  "=": "..... ..... ##### ..... ##### ..... .....",
  "+": "..... ..#.. ..#.. ##### ..#.. ..#.. .....",
  "#": ".#.#. .#.#. ##### .#.#. ##### .#.#. .#.#.",
  "?": ".###. #...# ....# ...#. ..#.. ..... ..#..",
  "!": "..#.. ..#.. ..#.. ..#.. ..#.. ..... ..#..",
  "'": "..#.. ..#.. .#... ..... ..... ..... .....",
  "%": "##... ##..# ...#. ..#.. .#... #..## ...##",
  "×": "..... #...# .#.#. ..#.. .#.#. #...# .....",
};

const GLYPH_BITS = new Map<string, Uint8Array>();
for (const [ch, rows] of Object.entries(GLYPHS)) {
  GLYPH_BITS.set(
    ch,
    Uint8Array.from(rows.replace(/ /g, ""), (c) => (c === "#" ? 1 : 0)),
  );
}

function parseColor(hex: string): [number, number, number] {
  const v = Number.parseInt(hex.slice(1), 16);
  return [(v >> 16) & 255, (v >> 8) & 255, v & 255];
}

class Raster {
  readonly data: Uint8ClampedArray;
  constructor(
    readonly width: number,
    readonly height: number,
  ) {
    this.data = new Uint8ClampedArray(width * height * 4);
  }

  fillRect(x: number, y: number, w: number, h: number, color: string, alpha = 1): void {
    const [r, g, b] = parseColor(color);
    const x0 = Math.max(0, Math.floor(x));
    const y0 = Math.max(0, Math.floor(y));
    const x1 = Math.min(this.width, Math.floor(x + w));
    const y1 = Math.min(this.height, Math.floor(y + h));
    const d = this.data;
    const a = Math.min(1, Math.max(0, alpha));
    for (let yy = y0; yy < y1; yy++) {
      let i = (yy * this.width + x0) * 4;
      for (let xx = x0; xx < x1; xx++, i += 4) {
        if (a >= 1) {
          d[i] = r;
          d[i + 1] = g;
          d[i + 2] = b;
        } else {
          d[i] = d[i] + (r - d[i]) * a;
          d[i + 1] = d[i + 1] + (g - d[i + 1]) * a;
          d[i + 2] = d[i + 2] + (b - d[i + 2]) * a;
        }
        d[i + 3] = 255;
      }
    }
  }

  line(s: Extract<Shape, { kind: "line" }>): void {
    if (s.y1 === s.y2) {
      for (let x = s.x1; x <= s.x2; x++)
        if (!s.dash || (x - s.x1) % 7 < 4) this.fillRect(x, s.y1, 1, 1, s.stroke);
    } else {
      for (let y = s.y1; y <= s.y2; y++)
        if (!s.dash || (y - s.y1) % 7 < 4) this.fillRect(s.x1, y, 1, 1, s.stroke);
    }
  }

  text(s: Extract<Shape, { kind: "text" }>): void {
    const scale = fontScale(s.size);
    const w = textWidth(s.text, s.size);
    let x = s.anchor === "start" ? s.x : s.anchor === "end" ? s.x - w : Math.round(s.x - w / 2);
    const top = s.y - 7 * scale;
    for (const ch of s.text) {
      const bits = GLYPH_BITS.get(ch) ?? GLYPH_BITS.get(ch.toUpperCase()) ?? GLYPH_BITS.get("?");
      if (bits) {
        for (let r = 0; r < 7; r++)
          for (let c = 0; c < 5; c++) {
            if (!bits[r * 5 + c]) continue;
            // Bold: each ink pixel is also drawn one pixel to the right.
            const ww = s.bold ? scale + 1 : scale;
            this.fillRect(x + c * scale, top + r * scale, ww, scale, s.fill);
          }
      }
      x += 6 * scale;
    }
  }
}

/** The piano roll as an RGBA raster: the same picture as `pianoRollSvg`, drawn pixel by pixel. */
export function pianoRollRgba(
  ns: NoteSequence,
  opts: PianoRollOptions = {},
): { width: number; height: number; data: Uint8ClampedArray } {
  const scene = buildScene(ns, opts);
  const raster = new Raster(scene.width, scene.height);
  for (const s of scene.shapes) {
    if (s.kind === "rect") raster.fillRect(s.x, s.y, s.w, s.h, s.fill, s.opacity ?? 1);
    else if (s.kind === "line") raster.line(s);
    else raster.text(s);
  }
  return { width: raster.width, height: raster.height, data: raster.data };
}

/** The piano roll as PNG bytes. */
export function pianoRollPng(ns: NoteSequence, opts: PianoRollOptions = {}): Uint8Array {
  return encodePng(pianoRollRgba(ns, opts) satisfies RgbaImage);
}
