/**
 * TFRecord framing (spec §3.4): uint64 length · uint32 masked_crc32c(length) · data · uint32 masked_crc32c(data),
 * all little-endian, records concatenated. Pure functions over bytes and async iterables of chunks, so
 * the same code reads a file stream in Node and a fetch() body in a browser; memory stays at one record.
 */
import { TFRecordError } from "../errors.js";
import { maskedCrc32c } from "./crc32c.js";

const HEADER = 12;
const FOOTER = 4;
/** Larger records are refused: no NoteSequence or SequenceExample of ours comes near 1 GiB. */
export const MAX_RECORD_BYTES = 1 << 30;

/** One TFRecord: length, masked CRC-32C of the length, data, masked CRC-32C of the data. */
export function frameRecord(data: Uint8Array): Uint8Array {
  const out = new Uint8Array(HEADER + data.length + FOOTER);
  const view = new DataView(out.buffer);
  view.setBigUint64(0, BigInt(data.length), true);
  view.setUint32(8, maskedCrc32c(out.subarray(0, 8)), true);
  out.set(data, HEADER);
  view.setUint32(HEADER + data.length, maskedCrc32c(data), true);
  return out;
}

/** Records framed as one TFRecord file's bytes. */
export function encodeTFRecords(records: Iterable<Uint8Array>): Uint8Array {
  const framed = [...records].map(frameRecord);
  const out = new Uint8Array(framed.reduce((n, f) => n + f.length, 0));
  let pos = 0;
  for (const f of framed) {
    out.set(f, pos);
    pos += f.length;
  }
  return out;
}

/** Reads one record's header at `offset` and returns the payload length, checking the header CRC. */
function recordLength(header: Uint8Array, offset: number): number {
  const view = new DataView(header.buffer, header.byteOffset, HEADER);
  const length = view.getBigUint64(0, true);
  const crc = view.getUint32(8, true);
  if (maskedCrc32c(header.subarray(0, 8)) !== crc) {
    throw new TFRecordError(`not a TFRecord file, or corrupt: bad length checksum at byte ${offset}`);
  }
  if (length > BigInt(MAX_RECORD_BYTES)) {
    throw new TFRecordError(`record at byte ${offset} declares ${length} bytes (more than 1 GiB): corrupt`);
  }
  return Number(length);
}

function checkData(data: Uint8Array, crc: number, offset: number): void {
  if (maskedCrc32c(data) !== crc) {
    throw new TFRecordError(`bad data checksum in the record at byte ${offset}`);
  }
}

/** Decodes a whole TFRecord buffer. */
export function* decodeTFRecords(bytes: Uint8Array): Generator<Uint8Array> {
  let pos = 0;
  while (pos < bytes.length) {
    if (pos + HEADER > bytes.length) {
      throw new TFRecordError(`truncated record header at byte ${pos} (${bytes.length - pos} bytes left)`);
    }
    const len = recordLength(bytes.subarray(pos, pos + HEADER), pos);
    const end = pos + HEADER + len + FOOTER;
    if (end > bytes.length) {
      throw new TFRecordError(`truncated record at byte ${pos}: declares ${len} bytes, file ends first`);
    }
    const data = bytes.subarray(pos + HEADER, pos + HEADER + len);
    checkData(data, new DataView(bytes.buffer, bytes.byteOffset + end - FOOTER, 4).getUint32(0, true), pos);
    yield data;
    pos = end;
  }
}

/** A queue of byte chunks from which exact-length pieces can be taken without quadratic copying. */
class ChunkQueue {
  private parts: Uint8Array[] = [];
  private first = 0; // index in `parts` of the first part not wholly consumed
  private head = 0; // consumed bytes of parts[first]
  available = 0;

  push(chunk: Uint8Array): void {
    if (chunk.length === 0) return;
    this.parts.push(chunk);
    this.available += chunk.length;
  }

  take(n: number): Uint8Array {
    const out = new Uint8Array(n);
    let filled = 0;
    while (filled < n) {
      const part = this.parts[this.first];
      const k = Math.min(n - filled, part.length - this.head);
      out.set(part.subarray(this.head, this.head + k), filled);
      filled += k;
      this.head += k;
      if (this.head === part.length) {
        this.first++;
        this.head = 0;
      }
    }
    // Drop consumed parts once per take, not one shift() per part: with many small chunks per record
    // (1-byte chunks, say) shifting each was quadratic in the record size.
    if (this.first > 0) {
      this.parts.splice(0, this.first);
      this.first = 0;
    }
    this.available -= n;
    return out;
  }
}

/**
 * Streaming reader: takes chunks of any size (a Node read stream, a fetch body) and yields records as
 * they complete, holding at most one record plus one chunk in memory.
 */
export async function* readTFRecordStream(chunks: AsyncIterable<Uint8Array>): AsyncGenerator<Uint8Array> {
  const queue = new ChunkQueue();
  let offset = 0; // file offset of the next record
  let len = -1; // payload length of the record whose header has been read, or -1
  for await (const chunk of chunks) {
    queue.push(chunk);
    for (;;) {
      if (len < 0) {
        if (queue.available < HEADER) break;
        len = recordLength(queue.take(HEADER), offset);
      }
      if (queue.available < len + FOOTER) break;
      const data = queue.take(len);
      const crc = new DataView(queue.take(FOOTER).buffer).getUint32(0, true);
      checkData(data, crc, offset);
      yield data;
      offset += HEADER + len + FOOTER;
      len = -1;
    }
  }
  if (len >= 0)
    throw new TFRecordError(`truncated record at byte ${offset}: declares ${len} bytes, file ends first`);
  if (queue.available > 0) {
    throw new TFRecordError(`truncated record header at byte ${offset} (${queue.available} bytes left)`);
  }
}
