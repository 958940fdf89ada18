/**
 * The safetensors file format (https://github.com/huggingface/safetensors), pure bytes in and out:
 *
 *   u64 little-endian N · N bytes of JSON header · data
 *   header = { "__metadata__": { string: string }, "<name>": { "dtype": "F32", "shape": [..],
 *              "data_offsets": [begin, end] }, ... }   offsets relative to the start of the data
 *
 * Written as the reference (Rust) implementation writes it, so that the same tensors give the same
 * bytes there and here: `__metadata__` first, tensors sorted as the reference sorts them (by dtype, the
 * larger first: F32 before F16; then by name), data packed in that order with no gaps, the header
 * padded with spaces to a multiple of 8 bytes. Reading is as strict as the reference: the tensors
 * must cover the data exactly, without overlaps or gaps. Three dtypes: F32 (checkpoints, and bundles by
 * default), F16 (bundles written with `--bundle_dtype=float16`, half the bytes; rounded to nearest, ties
 * to even) and I8 (integers from −128 to 127: the weights of bundles written with `--bundle_dtype=int8`,
 * whose scales bundle.ts keeps beside them). In memory a tensor is always a Float32Array; the dtype is
 * only how it is stored.
 */
import { PolyrnnError } from "../errors.js";

/** How a tensor's values are stored in the file: float32, float16 (half the bytes) or int8 (integers). */
export type SafetensorsDtype = "F32" | "F16" | "I8";

/** One tensor of a safetensors file, held as float32 whatever its stored dtype. */
export interface SafetensorsTensor {
  /** The tensor's name in the file. */
  name: string;
  /** Its dimensions, outermost first. */
  shape: number[];
  /** Its values, row-major. */
  data: Float32Array;
  /** How it is (to be) stored; absent: F32. */
  dtype?: SafetensorsDtype;
}

const DTYPE_BYTES: Record<SafetensorsDtype, number> = { F32: 4, F16: 2, I8: 1 };
/** The reference orders tensors by dtype, larger first (its enum order: …, I8, …, F16, BF16, …, F32, …). */
const DTYPE_RANK: Record<SafetensorsDtype, number> = { F32: 2, F16: 1, I8: 0 };

const f32 = new Float32Array(1);
const u32 = new Uint32Array(f32.buffer);

/** The IEEE binary16 bits nearest to `x` rounded to float32 (ties to even); overflow gives ±Infinity, NaN stays NaN. */
export function float16Bits(x: number): number {
  f32[0] = x;
  const bits = u32[0];
  const sign = (bits >>> 16) & 0x8000;
  const exp = (bits >>> 23) & 0xff;
  const mant = bits & 0x7fffff;
  if (exp === 0xff) return sign | 0x7c00 | (mant ? 0x200 : 0);
  const e = exp - 127 + 15; // the binary16 exponent field, before rounding
  if (e >= 0x1f) return sign | 0x7c00;
  if (e <= 0) {
    // Subnormal (or zero): the value in units of 2^-24, rounded to nearest even.
    if (e < -10) return sign;
    const m = mant | 0x800000; // the implicit bit
    const shift = 14 - e; // 24-bit significand down to the 10-bit subnormal field
    const half = 1 << (shift - 1);
    const rest = m & ((1 << shift) - 1);
    let q = m >>> shift;
    if (rest > half || (rest === half && q & 1)) q++;
    return sign | q; // q may carry into the smallest normal: still the right bits
  }
  let h = (e << 10) | (mant >>> 13);
  const rest = mant & 0x1fff;
  if (rest > 0x1000 || (rest === 0x1000 && h & 1)) h++; // may carry up to Infinity: right too
  return sign | h;
}

/** The value of IEEE binary16 bits `h`. */
export function float16Value(h: number): number {
  const sign = h & 0x8000 ? -1 : 1;
  const exp = (h >>> 10) & 0x1f;
  const mant = h & 0x3ff;
  if (exp === 0) return sign * mant * 2 ** -24;
  if (exp === 0x1f) return mant ? Number.NaN : sign * Number.POSITIVE_INFINITY;
  return sign * (1 + mant / 1024) * 2 ** (exp - 15);
}

/** A decoded safetensors file: its tensors and its header's `__metadata__`. */
export interface DecodedSafetensors {
  /** In file order (by data offset). */
  tensors: SafetensorsTensor[];
  /** The header's `__metadata__` (string keys and values; empty if it has none). */
  metadata: Record<string, string>;
}

export class SafetensorsError extends PolyrnnError {
  override name = "SafetensorsError";
}

/** The reference implementation's limit on the header size (100 MB). */
export const MAX_HEADER_BYTES = 100_000_000;
const METADATA_KEY = "__metadata__";

const encoder = new TextEncoder();
/** Float32Array bytes are the file's bytes on a little-endian host (all current ones); else per value. */
const LITTLE_ENDIAN = new Uint8Array(new Float32Array([1]).buffer)[3] === 0x3f;
const decoder = new TextDecoder("utf-8", { fatal: true });

function numel(shape: readonly number[]): number {
  let n = 1;
  for (const d of shape) n *= d;
  return n;
}

function checkShape(name: string, shape: unknown): number[] {
  if (!Array.isArray(shape) || !shape.every((d) => Number.isSafeInteger(d) && d >= 0)) {
    throw new SafetensorsError(`tensor "${name}": shape ${JSON.stringify(shape)} is not a list of sizes`);
  }
  return shape as number[];
}

/**
 * Tensors and string metadata as the bytes of a safetensors file. A tensor stored as F16 must fit it:
 * a finite value beyond ±65504 is refused, naming the tensor; one stored as I8 must hold integers from
 * −128 to 127.
 */
export function encodeSafetensors(
  tensors: readonly SafetensorsTensor[],
  metadata: Record<string, string> = {},
): Uint8Array {
  const rank = (t: SafetensorsTensor) => DTYPE_RANK[t.dtype ?? "F32"];
  const sorted = [...tensors].sort(
    (a, b) => rank(b) - rank(a) || (a.name < b.name ? -1 : a.name > b.name ? 1 : 0),
  );
  // Header fields as JSON text, joined by hand: a JS object would move integer-like keys to the front.
  const fields: string[] = [];
  const entry = (key: string, valueJson: string) => `${JSON.stringify(key)}:${valueJson}`;
  const metaEntries = Object.entries(metadata);
  if (metaEntries.length > 0) {
    for (const [k, v] of metaEntries) {
      if (typeof v !== "string") throw new SafetensorsError(`metadata "${k}" is not a string`);
    }
    // Sorted keys: the reference keeps metadata in a hash map (no order); sorting makes ours repeatable.
    const sortedMeta = metaEntries.sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    fields.push(
      entry(METADATA_KEY, `{${sortedMeta.map(([k, v]) => entry(k, JSON.stringify(v))).join(",")}}`),
    );
  }
  let offset = 0;
  const names = new Set<string>();
  for (let i = 0; i < sorted.length; i++) {
    const t = sorted[i];
    if (t.name === METADATA_KEY) throw new SafetensorsError(`"${METADATA_KEY}" is not a tensor name`);
    if (names.has(t.name)) throw new SafetensorsError(`duplicate tensor "${t.name}"`);
    names.add(t.name);
    const shape = checkShape(t.name, t.shape);
    if (numel(shape) !== t.data.length) {
      throw new SafetensorsError(
        `tensor "${t.name}": shape [${shape.join(", ")}] holds ${numel(shape)} values, data has ${t.data.length}`,
      );
    }
    const dtype = t.dtype ?? "F32";
    if (!Object.hasOwn(DTYPE_BYTES, dtype))
      throw new SafetensorsError(`tensor "${t.name}": dtype ${dtype} is not F32, F16 or I8`);
    const bytes = DTYPE_BYTES[dtype] * t.data.length;
    fields.push(entry(t.name, JSON.stringify({ dtype, shape, data_offsets: [offset, offset + bytes] })));
    offset += bytes;
  }
  let json = `{${fields.join(",")}}`;
  // The reference pads the header with spaces so that the data starts 8-byte aligned.
  json += " ".repeat((8 - (encoder.encode(json).length % 8)) % 8);
  const headerBytes = encoder.encode(json);
  const out = new Uint8Array(8 + headerBytes.length + offset);
  const view = new DataView(out.buffer);
  view.setBigUint64(0, BigInt(headerBytes.length), true);
  out.set(headerBytes, 8);
  let pos = 8 + headerBytes.length;
  for (const t of sorted) {
    if (t.dtype === "F16") {
      for (let j = 0; j < t.data.length; j++, pos += 2) {
        const h = float16Bits(t.data[j]);
        if ((h & 0x7fff) === 0x7c00 && Number.isFinite(t.data[j])) {
          throw new SafetensorsError(
            `tensor "${t.name}": value ${t.data[j]} at index ${j} is beyond float16's ±65504`,
          );
        }
        view.setUint16(pos, h, true);
      }
    } else if (t.dtype === "I8") {
      for (let j = 0; j < t.data.length; j++, pos++) {
        const v = t.data[j];
        if (!Number.isInteger(v) || v < -128 || v > 127) {
          throw new SafetensorsError(
            `tensor "${t.name}": value ${v} at index ${j} is not an integer from -128 to 127 (I8)`,
          );
        }
        view.setInt8(pos, v);
      }
    } else if (LITTLE_ENDIAN) {
      out.set(new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength), pos);
      pos += t.data.byteLength;
    } else {
      for (let j = 0; j < t.data.length; j++, pos += 4) view.setFloat32(pos, t.data[j], true);
    }
  }
  return out;
}

interface Entry {
  name: string;
  dtype: SafetensorsDtype;
  shape: number[];
  begin: number;
  end: number;
}

function parseEntry(name: string, info: unknown, dataBytes: number): Entry {
  if (typeof info !== "object" || info === null || Array.isArray(info)) {
    throw new SafetensorsError(`tensor "${name}": header entry is not an object`);
  }
  const { dtype, shape, data_offsets: offsets } = info as Record<string, unknown>;
  if (dtype !== "F32" && dtype !== "F16" && dtype !== "I8") {
    throw new SafetensorsError(
      `tensor "${name}": dtype ${JSON.stringify(dtype)} is not supported (only F32, F16 and I8)`,
    );
  }
  const width = DTYPE_BYTES[dtype];
  const dims = checkShape(name, shape);
  if (
    !Array.isArray(offsets) ||
    offsets.length !== 2 ||
    !offsets.every((o) => Number.isSafeInteger(o) && o >= 0)
  ) {
    throw new SafetensorsError(
      `tensor "${name}": data_offsets ${JSON.stringify(offsets)} is not [begin, end]`,
    );
  }
  const [begin, end] = offsets as number[];
  if (end < begin || end > dataBytes) {
    throw new SafetensorsError(
      `tensor "${name}": data_offsets [${begin}, ${end}] out of range (data is ${dataBytes} bytes)`,
    );
  }
  if (end - begin !== width * numel(dims)) {
    throw new SafetensorsError(
      `tensor "${name}": data_offsets [${begin}, ${end}] hold ${end - begin} bytes, shape [${dims.join(", ")}] needs ${width * numel(dims)} as ${dtype}`,
    );
  }
  return { name, dtype, shape: dims, begin, end };
}

/** Parses the header only: tensor names, shapes and metadata without touching the data. */
export function readSafetensorsHeader(bytes: Uint8Array): {
  entries: Entry[];
  metadata: Record<string, string>;
  dataStart: number;
} {
  if (bytes.length < 8) {
    throw new SafetensorsError(`truncated: ${bytes.length} bytes, a safetensors file starts with 8`);
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const n = view.getBigUint64(0, true);
  if (n > BigInt(MAX_HEADER_BYTES)) {
    throw new SafetensorsError(
      `header length ${n} is over ${MAX_HEADER_BYTES} bytes: not a safetensors file`,
    );
  }
  const headerLen = Number(n);
  if (8 + headerLen > bytes.length) {
    throw new SafetensorsError(
      `truncated: header declares ${headerLen} bytes, only ${bytes.length - 8} follow the length`,
    );
  }
  let header: unknown;
  try {
    header = JSON.parse(decoder.decode(bytes.subarray(8, 8 + headerLen)));
  } catch (e) {
    throw new SafetensorsError(`header is not valid JSON: ${(e as Error).message}`);
  }
  if (typeof header !== "object" || header === null || Array.isArray(header)) {
    throw new SafetensorsError("header is not a JSON object");
  }
  const dataStart = 8 + headerLen;
  const dataBytes = bytes.length - dataStart;
  const metadata: Record<string, string> = {};
  const entries: Entry[] = [];
  for (const [name, info] of Object.entries(header as Record<string, unknown>)) {
    if (name === METADATA_KEY) {
      if (typeof info !== "object" || info === null || Array.isArray(info)) {
        throw new SafetensorsError(`${METADATA_KEY} is not an object`);
      }
      for (const [k, v] of Object.entries(info)) {
        if (typeof v !== "string") throw new SafetensorsError(`${METADATA_KEY}["${k}"] is not a string`);
        metadata[k] = v;
      }
      continue;
    }
    entries.push(parseEntry(name, info, dataBytes));
  }
  // As the reference: sorted by offset, each tensor starts where the previous one ended and the last
  // ends at the end of the file.
  entries.sort((a, b) => a.begin - b.begin || a.end - b.end);
  let pos = 0;
  for (let i = 0; i < entries.length; i++) {
    const e = entries[i];
    if (e.begin < pos) {
      throw new SafetensorsError(`tensor "${e.name}" overlaps tensor "${entries[i - 1].name}"`);
    }
    if (e.begin > pos)
      throw new SafetensorsError(`unused bytes ${pos}..${e.begin} before tensor "${e.name}"`);
    pos = e.end;
  }
  if (pos !== dataBytes) {
    throw new SafetensorsError(`data is ${dataBytes} bytes but the tensors cover ${pos}`);
  }
  return { entries, metadata, dataStart };
}

/** Reads a safetensors file (F32 or F16 tensors, as float32); throws SafetensorsError saying what is wrong. */
export function decodeSafetensors(bytes: Uint8Array): DecodedSafetensors {
  const { entries, metadata, dataStart } = readSafetensorsHeader(bytes);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const tensors = entries.map(({ name, dtype, shape, begin, end }): SafetensorsTensor => {
    const data = new Float32Array((end - begin) / DTYPE_BYTES[dtype]);
    if (dtype === "F16") {
      for (let j = 0, at = dataStart + begin; j < data.length; j++, at += 2)
        data[j] = float16Value(view.getUint16(at, true));
      return { name, shape, data, dtype };
    }
    if (dtype === "I8") {
      for (let j = 0, at = dataStart + begin; j < data.length; j++, at++) data[j] = view.getInt8(at);
      return { name, shape, data, dtype };
    }
    if (LITTLE_ENDIAN) {
      new Uint8Array(data.buffer).set(bytes.subarray(dataStart + begin, dataStart + end));
    } else {
      for (let j = 0, at = dataStart + begin; j < data.length; j++, at += 4)
        data[j] = view.getFloat32(at, true);
    }
    return { name, shape, data };
  });
  return { tensors, metadata };
}
