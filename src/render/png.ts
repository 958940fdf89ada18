/**
 * A minimal PNG encoder: 8-bit RGBA (colour type 6), no interlace, each row filtered with the PNG filter
 * (None, Sub, Up, Average or Paeth) whose output has the least sum of absolute values (the heuristic the PNG
 * specification suggests; flat areas then deflate to almost nothing), the image data deflated with fflate's
 * `zlibSync`. Pure (runs in Node and in browsers).
 */
import { zlibSync } from "fflate";

export interface RgbaImage {
  width: number;
  height: number;
  /** width × height × 4 bytes, rows top to bottom, each pixel R, G, B, A. */
  data: Uint8Array | Uint8ClampedArray;
}

const PNG_SIGNATURE = Uint8Array.of(0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a);

let crcTable: Uint32Array | undefined;

function table(): Uint32Array {
  if (crcTable) return crcTable;
  crcTable = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    crcTable[n] = c >>> 0;
  }
  return crcTable;
}

/** CRC-32 (ISO 3309 / ITU-T V.42, the one of PNG, zip and gzip) of `bytes`, continuing from `crc`. */
export function crc32(bytes: Uint8Array, crc = 0): number {
  const t = table();
  let c = ~crc >>> 0;
  for (let i = 0; i < bytes.length; i++) c = t[(c ^ bytes[i]) & 0xff] ^ (c >>> 8);
  return ~c >>> 0;
}

function chunk(type: string, body: Uint8Array): Uint8Array {
  const out = new Uint8Array(12 + body.length);
  const view = new DataView(out.buffer);
  view.setUint32(0, body.length);
  for (let i = 0; i < 4; i++) out[4 + i] = type.charCodeAt(i);
  out.set(body, 8);
  view.setUint32(8 + body.length, crc32(out.subarray(4, 8 + body.length)));
  return out;
}

/**
 * Writes `row` filtered with PNG filter `type` (0 None, 1 Sub, 2 Up, 3 Average, 4 Paeth; 4 bytes a pixel)
 * into `out`; returns the sum of the outputs read as signed bytes' magnitudes. `up`: the row above (none
 * for the first row: zeros).
 */
type Bytes = Uint8Array | Uint8ClampedArray;

function filterRow(type: number, row: Bytes, up: Bytes | undefined, out: Uint8Array): number {
  let cost = 0;
  for (let i = 0; i < row.length; i++) {
    const a = i >= 4 ? row[i - 4] : 0;
    const b = up ? up[i] : 0;
    const c = up && i >= 4 ? up[i - 4] : 0;
    let predicted = 0;
    if (type === 1) predicted = a;
    else if (type === 2) predicted = b;
    else if (type === 3) predicted = (a + b) >> 1;
    else if (type === 4) {
      const p = a + b - c;
      const pa = Math.abs(p - a);
      const pb = Math.abs(p - b);
      const pc = Math.abs(p - c);
      predicted = pa <= pb && pa <= pc ? a : pb <= pc ? b : c;
    }
    const v = (row[i] - predicted) & 0xff;
    out[i] = v;
    cost += v < 128 ? v : 256 - v;
  }
  return cost;
}

/** Encodes an RGBA raster as PNG bytes. */
export function encodePng(
  image: RgbaImage,
  options: { level?: 0 | 1 | 2 | 3 | 4 | 5 | 6 | 7 | 8 | 9 } = {},
): Uint8Array {
  const { width, height, data } = image;
  if (!Number.isInteger(width) || !Number.isInteger(height) || width < 1 || height < 1) {
    throw new RangeError(`PNG size must be positive whole numbers, got ${width}×${height}`);
  }
  if (width > 0x7fffffff || height > 0x7fffffff) throw new RangeError("PNG size too large");
  const stride = width * 4;
  if (data.length !== stride * height) {
    throw new RangeError(
      `RGBA data has ${data.length} bytes, expected ${stride * height} for ${width}×${height}`,
    );
  }

  const ihdr = new Uint8Array(13);
  const hv = new DataView(ihdr.buffer);
  hv.setUint32(0, width);
  hv.setUint32(4, height);
  ihdr[8] = 8; // bit depth
  ihdr[9] = 6; // colour type: RGBA
  ihdr[10] = 0; // compression: deflate
  ihdr[11] = 0; // filter method 0
  ihdr[12] = 0; // no interlace

  // Each scanline: a filter-type byte, then the row's pixels filtered.
  const raw = new Uint8Array((stride + 1) * height);
  const trial = new Uint8Array(stride);
  for (let y = 0; y < height; y++) {
    const row = data.subarray(y * stride, (y + 1) * stride);
    const up = y > 0 ? data.subarray((y - 1) * stride, y * stride) : undefined;
    const out = raw.subarray(y * (stride + 1) + 1, (y + 1) * (stride + 1));
    let best = Number.POSITIVE_INFINITY;
    for (let type = 0; type < 5; type++) {
      const cost = filterRow(type, row, up, trial);
      if (cost < best) {
        best = cost;
        raw[y * (stride + 1)] = type;
        out.set(trial);
      }
    }
  }
  const idat = zlibSync(raw, { level: options.level ?? 9 });

  const parts = [PNG_SIGNATURE, chunk("IHDR", ihdr), chunk("IDAT", idat), chunk("IEND", new Uint8Array(0))];
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let off = 0;
  for (const p of parts) {
    out.set(p, off);
    off += p.length;
  }
  return out;
}
