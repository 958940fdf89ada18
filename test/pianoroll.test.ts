import { unzlibSync } from "fflate";
import { SaxesParser } from "saxes";
import { describe, expect, it } from "vitest";
import { createNote, createNoteSequence, type NoteSequence } from "../src/notesequence.js";
import {
  PIANO_ROLL_COLORS,
  pianoRollPng,
  pianoRollRgba,
  pianoRollSvg,
  pitchName,
} from "../src/render/pianoroll.js";
import { crc32, encodePng } from "../src/render/png.js";

/** Two primer notes before 2 s, two generated after; 120 qpm, 4/4 (beats every 0.5 s, bars every 2 s). */
function sequence(): NoteSequence {
  return createNoteSequence({
    tempos: [{ time: 0, qpm: 120 }],
    timeSignatures: [{ time: 0, numerator: 4, denominator: 4 }],
    notes: [
      createNote({ pitch: 60, velocity: 127, startTime: 0, endTime: 1 }),
      createNote({ pitch: 64, velocity: 40, startTime: 0.5, endTime: 1.5 }),
      createNote({ pitch: 67, velocity: 127, startTime: 2, endTime: 3 }),
      createNote({ pitch: 72, velocity: 90, startTime: 2.5, endTime: 3 }),
    ],
    totalTime: 3,
  });
}

interface SvgRect {
  cls: string;
  x: number;
  y: number;
  w: number;
  h: number;
  fill: string;
}

function noteRects(svg: string): SvgRect[] {
  return [
    ...svg.matchAll(
      /<rect class="(note [a-z]+)" x="(\d+)" y="(\d+)" width="(\d+)" height="(\d+)" fill="(#[0-9a-f]{6})"/g,
    ),
  ].map((m) => ({ cls: m[1], x: +m[2], y: +m[3], w: +m[4], h: +m[5], fill: m[6] }));
}

/** CRC-32 bit by bit, independent of the table-driven one under test. */
function slowCrc32(bytes: Uint8Array): number {
  let c = 0xffffffff;
  for (const byte of bytes) {
    c ^= byte;
    for (let k = 0; k < 8; k++) c = c & 1 ? (c >>> 1) ^ 0xedb88320 : c >>> 1;
  }
  return (c ^ 0xffffffff) >>> 0;
}

interface Chunk {
  type: string;
  body: Uint8Array;
  crc: number;
  crcInput: Uint8Array;
}

function chunks(png: Uint8Array): Chunk[] {
  const view = new DataView(png.buffer, png.byteOffset, png.byteLength);
  const out: Chunk[] = [];
  let off = 8;
  while (off < png.length) {
    const len = view.getUint32(off);
    const type = String.fromCharCode(...png.subarray(off + 4, off + 8));
    out.push({
      type,
      body: png.subarray(off + 8, off + 8 + len),
      crc: view.getUint32(off + 8 + len),
      crcInput: png.subarray(off + 4, off + 8 + len),
    });
    off += 12 + len;
  }
  expect(off).toBe(png.length);
  return out;
}

function hex(rgba: Uint8ClampedArray, i: number): string {
  return `#${[rgba[i], rgba[i + 1], rgba[i + 2]].map((v) => v.toString(16).padStart(2, "0")).join("")}`;
}

describe("pianoRollSvg", () => {
  it("draws one rectangle per note, primer and generated in two colours", () => {
    const svg = pianoRollSvg(sequence(), { splitTime: 2 });
    expect(svg.startsWith("<svg ")).toBe(true);
    expect(svg.trimEnd().endsWith("</svg>")).toBe(true);
    const rects = noteRects(svg);
    expect(rects).toHaveLength(4);
    expect(rects.map((r) => r.cls)).toEqual([
      "note primer",
      "note primer",
      "note generated",
      "note generated",
    ]);
    expect(rects.map((r) => r.fill)).toEqual([
      PIANO_ROLL_COLORS.primer,
      PIANO_ROLL_COLORS.primer,
      PIANO_ROLL_COLORS.generated,
      PIANO_ROLL_COLORS.generated,
    ]);
    // Velocity as opacity: 127 is opaque, 40 is faint.
    expect(svg).toMatch(/class="note primer"[^>]*fill="#1f77b4" fill-opacity="0\.52\d*"/);
    // Higher pitches higher up, later notes further right.
    expect(rects[3].y).toBeLessThan(rects[2].y);
    expect(rects[2].y).toBeLessThan(rects[1].y);
    expect(rects[1].y).toBeLessThan(rects[0].y);
    expect(rects[2].x).toBeGreaterThan(rects[1].x);
    // Legend with counts, a split line, a title.
    expect(svg).toContain(">primer (2)</text>");
    expect(svg).toContain(">generated (2)</text>");
    expect(svg.match(/class="split"/g)).toHaveLength(1);
    expect(svg).toContain("<title>Piano roll</title>");
  });

  it("colours every note alike without a split", () => {
    const svg = pianoRollSvg(sequence());
    const rects = noteRects(svg);
    expect(rects.map((r) => r.cls)).toEqual(Array(4).fill("note notes"));
    expect(new Set(rects.map((r) => r.fill))).toEqual(new Set([PIANO_ROLL_COLORS.notes]));
    expect(svg).toContain(">notes (4)</text>");
    expect(svg).not.toContain('class="split"');
  });

  it("draws beat and bar lines from the first tempo and time signature, and labels every C", () => {
    const svg = pianoRollSvg(sequence(), { width: 1000 });
    // 3 s at 120 qpm: beats at 0.5, 1, 1.5, 2.5 s; a bar line at 2 s (the one at 3 s is the frame).
    const xs = (cls: string) =>
      [...svg.matchAll(new RegExp(`class="${cls}" x1="([\\d.]+)"`, "g"))].map((m) => +m[1]);
    const beats = xs("beat");
    const bars = xs("bar");
    expect(beats).toHaveLength(4);
    expect(bars).toHaveLength(1);
    // Evenly spaced (to the pixel): the bar at 2 s comes after the third beat.
    const lines = [...beats.slice(0, 3), bars[0], beats[3]];
    const gaps = lines.slice(1).map((x, i) => x - lines[i]);
    for (const g of gaps) expect(Math.abs(g - gaps[0])).toBeLessThanOrEqual(1);
    // 3/4 at 60 qpm: a beat is 1 s, a bar 3 s.
    const waltz = pianoRollSvg({
      ...sequence(),
      tempos: [{ time: 0, qpm: 60 }],
      timeSignatures: [{ time: 0, numerator: 3, denominator: 4 }],
      totalTime: 7,
    });
    expect(waltz.match(/class="beat"/g)).toHaveLength(4); // 1, 2, 4, 5 s
    expect(waltz.match(/class="bar"/g)).toHaveLength(2); // 3, 6 s
    // Pitches 60…72 ± 2: the octave lines and labels of C4 and C5.
    expect(svg).toContain(">C4</text>");
    expect(svg).toContain(">C5</text>");
    expect(svg.match(/class="octave"/g)).toHaveLength(2);
    expect(svg).toContain('class="time-label"');
    expect(svg).toContain(">120 qpm, 4/4</text>");
  });

  it("names pitches, escapes the title, and draws an empty sequence", () => {
    expect([pitchName(60), pitchName(69), pitchName(21), pitchName(0), pitchName(127)]).toEqual([
      "C4",
      "A4",
      "A0",
      "C-1",
      "G9",
    ]);
    const svg = pianoRollSvg(sequence(), { title: `a <b> & "c"` });
    expect(svg).toContain("<title>a &#60;b&#62; &#38; &#34;c&#34;</title>");
    // Well-formed XML.
    const parser = new SaxesParser();
    const tags: string[] = [];
    parser.on("opentag", (t) => tags.push(t.name));
    parser.on("error", (e) => {
      throw e;
    });
    parser.write(svg).close();
    expect(tags[0]).toBe("svg");
    expect(tags.filter((t) => t === "rect").length).toBeGreaterThan(4);
    const empty = pianoRollSvg(createNoteSequence());
    expect(noteRects(empty)).toHaveLength(0);
    expect(empty).toContain(">notes (0)</text>");
    const { width, height, data } = pianoRollRgba(createNoteSequence());
    expect(data.length).toBe(width * height * 4);
  });

  it("has a sensible default size, and honours width and height", () => {
    const svg = pianoRollSvg(sequence());
    const [, w, h] = svg.match(/width="(\d+)" height="(\d+)"/) ?? [];
    expect(+w).toBe(1200);
    expect(+h).toBeGreaterThanOrEqual(300);
    expect(+h).toBeLessThanOrEqual(900);
    expect(pianoRollSvg(sequence(), { width: 640, height: 320 })).toContain('width="640" height="320"');
  });
});

describe("PNG", () => {
  it("computes the standard CRC-32", () => {
    expect(crc32(new TextEncoder().encode("123456789"))).toBe(0xcbf43926);
    expect(crc32(new Uint8Array(0))).toBe(0);
  });

  it("encodes the raster: signature, IHDR, chunk CRCs, IDAT inflating to the pixels", () => {
    const ns = sequence();
    const opts = { width: 640, height: 320, splitTime: 2 };
    const raster = pianoRollRgba(ns, opts);
    expect(raster.width).toBe(640);
    expect(raster.height).toBe(320);
    const png = pianoRollPng(ns, opts);
    expect([...png.subarray(0, 8)]).toEqual([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
    const list = chunks(png);
    expect(list.map((c) => c.type)).toEqual(["IHDR", "IDAT", "IEND"]);
    for (const c of list) expect(c.crc).toBe(slowCrc32(c.crcInput));
    const ihdr = new DataView(list[0].body.buffer, list[0].body.byteOffset, 13);
    expect([ihdr.getUint32(0), ihdr.getUint32(4)]).toEqual([640, 320]);
    expect([...list[0].body.subarray(8)]).toEqual([8, 6, 0, 0, 0]);
    expect(list[2].body.length).toBe(0);

    const raw = unzlibSync(list[1].body);
    const stride = 640 * 4;
    expect(raw.length).toBe((stride + 1) * 320);
    // Undo each row's filter as a PNG decoder does (PNG specification, section 9).
    const pixels = new Uint8Array(stride * 320);
    const types = new Set<number>();
    for (let y = 0; y < 320; y++) {
      const type = raw[y * (stride + 1)];
      expect(type, `row ${y}: filter type`).toBeLessThan(5);
      types.add(type);
      for (let i = 0; i < stride; i++) {
        const x = raw[y * (stride + 1) + 1 + i];
        const a = i >= 4 ? pixels[y * stride + i - 4] : 0;
        const b = y > 0 ? pixels[(y - 1) * stride + i] : 0;
        const c = y > 0 && i >= 4 ? pixels[(y - 1) * stride + i - 4] : 0;
        const p = a + b - c;
        const [pa, pb, pc] = [Math.abs(p - a), Math.abs(p - b), Math.abs(p - c)];
        const paeth = pa <= pb && pa <= pc ? a : pb <= pc ? b : c;
        const predicted = [0, a, b, (a + b) >> 1, paeth][type];
        pixels[y * stride + i] = (x + predicted) & 0xff;
      }
    }
    expect(Buffer.from(pixels).equals(Buffer.from(raster.data))).toBe(true);
    // A flat raster deflates to almost nothing; the piano roll uses more than one filter.
    expect(types.size).toBeGreaterThan(1);
    const flat = encodePng({ width: 640, height: 320, data: new Uint8Array(stride * 320).fill(200) });
    expect(flat.length).toBeLessThan(2000); // deflate's own limit is about 1,032 : 1
  });

  it("paints the notes where the SVG puts them, in their colours", () => {
    const ns = sequence();
    const opts = { width: 800, height: 400, splitTime: 2 };
    const svg = pianoRollSvg(ns, opts);
    const rects = noteRects(svg);
    const { width, data } = pianoRollRgba(ns, opts);
    const centre = (r: SvgRect) => ((r.y + (r.h >> 1)) * width + r.x + (r.w >> 1)) * 4;
    // Velocity 127: exactly the note colour. C4 (60) and G4 (67) are on white-key lanes.
    expect(hex(data, centre(rects[0]))).toBe(PIANO_ROLL_COLORS.primer);
    expect(hex(data, centre(rects[2]))).toBe(PIANO_ROLL_COLORS.generated);
    // Velocity 40: the primer colour, faded towards the white background.
    const faint = centre(rects[1]);
    expect(data[faint]).toBeGreaterThan(0x1f);
    expect(data[faint + 2]).toBeGreaterThan(0xb4);
    expect(data[faint + 2]).toBeGreaterThan(data[faint]);
    // Every pixel of a note (but where the dashed split line crosses it), and none just outside it, has
    // the note's colour.
    const r = rects[2];
    const splitX = Math.floor(Number(svg.match(/class="split" x1="([\d.]+)"/)?.[1]));
    for (let y = r.y; y < r.y + r.h; y++)
      for (let x = r.x; x < r.x + r.w; x++)
        if (x !== splitX) expect(hex(data, (y * width + x) * 4)).toBe(PIANO_ROLL_COLORS.generated);
    expect(hex(data, (r.y * width + r.x + r.w) * 4)).not.toBe(PIANO_ROLL_COLORS.generated);
    // Opaque everywhere.
    for (let i = 3; i < data.length; i += 4) if (data[i] !== 255) throw new Error(`alpha ${data[i]} at ${i}`);
  });

  it("rejects a raster of the wrong size", () => {
    expect(() => encodePng({ width: 2, height: 2, data: new Uint8Array(15) })).toThrow(/expected 16/);
    expect(() => encodePng({ width: 0, height: 2, data: new Uint8Array(0) })).toThrow(RangeError);
  });
});
