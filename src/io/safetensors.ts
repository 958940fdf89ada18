/**
 * The safetensors file format (https://github.com/huggingface/safetensors), pure bytes in and out:
 *
 *   u64 little-endian N · N bytes of JSON header · data
 *   header = { "__metadata__": { string: string }, "<name>": { "dtype": "F32", "shape": [..],
 *              "data_offsets": [begin, end] }, ... }   offsets relative to the start of the data
 *
 * Written as the reference (Rust) implementation writes it, so that the same tensors give the same
 * bytes there and here: `__metadata__` first, tensors sorted by name (all F32, so the reference's
 * "by dtype alignment, then name" is by name), data packed in that order with no gaps, the header
 * padded with spaces to a multiple of 8 bytes. Reading is as strict as the reference: the tensors
 * must cover the data exactly, without overlaps or gaps. Only F32 is accepted for now (all our
 * tensors are float32).
 */
import { PolyrnnError } from "../errors.js";

/** One float32 tensor of a safetensors file. */
export interface SafetensorsTensor {
  /** The tensor's name in the file. */
  name: string;
  /** Its dimensions, outermost first. */
  shape: number[];
  /** Its values, row-major (float32, the only dtype polyrnn reads and writes). */
  data: Float32Array;
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

/** Float32 tensors and string metadata as the bytes of a safetensors file. */
export function encodeSafetensors(
  tensors: readonly SafetensorsTensor[],
  metadata: Record<string, string> = {},
): Uint8Array {
  const sorted = [...tensors].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
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
  for (let i = 0; i < sorted.length; i++) {
    const t = sorted[i];
    if (t.name === METADATA_KEY) throw new SafetensorsError(`"${METADATA_KEY}" is not a tensor name`);
    if (i > 0 && sorted[i - 1].name === t.name) throw new SafetensorsError(`duplicate tensor "${t.name}"`);
    const shape = checkShape(t.name, t.shape);
    if (numel(shape) !== t.data.length) {
      throw new SafetensorsError(
        `tensor "${t.name}": shape [${shape.join(", ")}] holds ${numel(shape)} values, data has ${t.data.length}`,
      );
    }
    const bytes = 4 * t.data.length;
    fields.push(
      entry(t.name, JSON.stringify({ dtype: "F32", shape, data_offsets: [offset, offset + bytes] })),
    );
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
    if (LITTLE_ENDIAN) {
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
  shape: number[];
  begin: number;
  end: number;
}

function parseEntry(name: string, info: unknown, dataBytes: number): Entry {
  if (typeof info !== "object" || info === null || Array.isArray(info)) {
    throw new SafetensorsError(`tensor "${name}": header entry is not an object`);
  }
  const { dtype, shape, data_offsets: offsets } = info as Record<string, unknown>;
  if (dtype !== "F32") {
    throw new SafetensorsError(
      `tensor "${name}": dtype ${JSON.stringify(dtype)} is not supported (only F32 for now)`,
    );
  }
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
  if (end - begin !== 4 * numel(dims)) {
    throw new SafetensorsError(
      `tensor "${name}": data_offsets [${begin}, ${end}] hold ${end - begin} bytes, shape [${dims.join(", ")}] needs ${4 * numel(dims)}`,
    );
  }
  return { name, shape: dims, begin, end };
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

/** Reads a safetensors file (float32 tensors); throws SafetensorsError saying what is wrong. */
export function decodeSafetensors(bytes: Uint8Array): DecodedSafetensors {
  const { entries, metadata, dataStart } = readSafetensorsHeader(bytes);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const tensors = entries.map(({ name, shape, begin, end }) => {
    const data = new Float32Array((end - begin) / 4);
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
