import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { TFRecordError } from "../src/errors.js";
import { crc32c, maskedCrc32c } from "../src/io/crc32c.js";
import { decodeTFRecords, encodeTFRecords, frameRecord, readTFRecordStream } from "../src/io/tfrecord.js";

const FIXTURE = fileURLToPath(new URL("./fixtures/notesequence/sequences.tfrecord", import.meta.url));
const ascii = (s: string) => new TextEncoder().encode(s);

/** Plain bitwise CRC-32C, the textbook definition, to check the table-driven one against. */
function crc32cBitwise(data: Uint8Array): number {
  let crc = 0xffffffff;
  for (const byte of data) {
    crc ^= byte;
    for (let k = 0; k < 8; k++) crc = crc & 1 ? (crc >>> 1) ^ 0x82f63b78 : crc >>> 1;
  }
  return (crc ^ 0xffffffff) >>> 0;
}

/** The masking formula of spec §3.4, in BigInt arithmetic so no JS bit-op subtleties are shared. */
function maskByFormula(crc: number): number {
  const c = BigInt(crc);
  const rotated = ((c >> 15n) | (c << 17n)) & 0xffffffffn;
  return Number((rotated + 0xa282ead8n) % 2n ** 32n);
}

async function* chunksOf(bytes: Uint8Array, size: number): AsyncGenerator<Uint8Array> {
  for (let i = 0; i < bytes.length; i += size) yield bytes.slice(i, i + size);
}

async function collect(it: AsyncIterable<Uint8Array>): Promise<Uint8Array[]> {
  const out: Uint8Array[] = [];
  for await (const r of it) out.push(r);
  return out;
}

/** Runs `f` and returns the TFRecordError it throws (failing if it throws anything else or nothing). */
async function tfError(f: () => unknown): Promise<TFRecordError> {
  try {
    await f();
  } catch (e) {
    expect(e).toBeInstanceOf(TFRecordError);
    return e as TFRecordError;
  }
  throw new Error("expected a TFRecordError, nothing was thrown");
}

/** Three records of different sizes (one empty) and their framed offsets. */
function sampleFile(): { file: Uint8Array; records: Uint8Array[]; offsets: number[] } {
  const records = [
    ascii("first record"),
    new Uint8Array(0),
    Uint8Array.from({ length: 300 }, (_, i) => i & 0xff),
  ];
  const offsets: number[] = [];
  let pos = 0;
  for (const r of records) {
    offsets.push(pos);
    pos += 12 + r.length + 4;
  }
  return { file: encodeTFRecords(records), records, offsets };
}

describe("crc32c", () => {
  it('gives the check value 0xE3069283 for "123456789"', () => {
    expect(crc32c(ascii("123456789"))).toBe(0xe3069283);
    expect(crc32c(new Uint8Array(0))).toBe(0);
  });

  it("matches the RFC 3720 (iSCSI) test vectors", () => {
    expect(crc32c(new Uint8Array(32))).toBe(0x8a9136aa);
    expect(crc32c(new Uint8Array(32).fill(0xff))).toBe(0x62a8ab43);
    expect(crc32c(Uint8Array.from({ length: 32 }, (_, i) => i))).toBe(0x46dd794e);
    expect(crc32c(Uint8Array.from({ length: 32 }, (_, i) => 31 - i))).toBe(0x113fdb5c);
  });

  it("agrees with a bitwise implementation on any bytes, at any byte offset", () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 200 }), fc.nat(7), (bytes, skip) => {
        const view = bytes.subarray(Math.min(skip, bytes.length));
        expect(crc32c(view)).toBe(crc32cBitwise(view));
      }),
    );
  });

  it("chains: crc32c(b, crc32c(a)) === crc32c(a ++ b)", () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 64 }), fc.uint8Array({ maxLength: 64 }), (a, b) => {
        const ab = new Uint8Array(a.length + b.length);
        ab.set(a);
        ab.set(b, a.length);
        expect(crc32c(b, crc32c(a))).toBe(crc32c(ab));
      }),
    );
  });

  it("masks by the spec formula ((crc >> 15) | (crc << 17)) + 0xa282ead8 mod 2^32", () => {
    expect(maskedCrc32c(ascii("123456789"))).toBe(maskByFormula(0xe3069283));
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 40 }), (bytes) => {
        expect(maskedCrc32c(bytes)).toBe(maskByFormula(crc32cBitwise(bytes)));
      }),
    );
  });
});

describe("TFRecord framing", () => {
  it("frames as length · masked crc(length) · data · masked crc(data), little-endian", () => {
    const data = ascii("hello");
    const framed = frameRecord(data);
    expect(framed.length).toBe(12 + 5 + 4);
    const view = new DataView(framed.buffer, framed.byteOffset, framed.byteLength);
    expect(view.getBigUint64(0, true)).toBe(5n);
    expect(view.getUint32(8, true)).toBe(maskByFormula(crc32cBitwise(framed.subarray(0, 8))));
    expect(framed.subarray(12, 17)).toEqual(data);
    expect(view.getUint32(17, true)).toBe(maskByFormula(crc32cBitwise(data)));
  });

  it("re-frames the Python-written fixture to the same bytes", () => {
    const file = new Uint8Array(readFileSync(FIXTURE));
    const records = [...decodeTFRecords(file)];
    expect(records.length).toBe(4);
    expect(encodeTFRecords(records)).toEqual(file);
  });

  it("round-trips any list of records, whole and streamed in random chunk sizes", async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.uint8Array({ maxLength: 100 }), { maxLength: 8 }),
        fc.integer({ min: 1, max: 64 }),
        async (records, chunk) => {
          const file = encodeTFRecords(records);
          expect([...decodeTFRecords(file)]).toEqual(records);
          expect(await collect(readTFRecordStream(chunksOf(file, chunk)))).toEqual(records);
        },
      ),
    );
  });

  it("reads an empty file as no records", async () => {
    expect([...decodeTFRecords(new Uint8Array(0))]).toEqual([]);
    expect(await collect(readTFRecordStream(chunksOf(new Uint8Array(0), 1)))).toEqual([]);
  });
});

describe("readTFRecordStream", () => {
  const fixture = new Uint8Array(readFileSync(FIXTURE));
  const expected = [...decodeTFRecords(fixture)];

  for (const size of [1, 7, fixture.length, fixture.length + 1000]) {
    it(`gives the same records as decodeTFRecords when fed ${size}-byte chunks`, async () => {
      expect(await collect(readTFRecordStream(chunksOf(fixture, size)))).toEqual(expected);
    });
  }

  it("reads a large record fed 1 byte at a time in linear time", { timeout: 5000 }, async () => {
    // 256 KiB in 262,160 one-byte chunks (this took ~25 s when the chunk queue shift()ed per part).
    const payload = new Uint8Array(1 << 18).fill(0x5a);
    const framed = frameRecord(payload);
    async function* bytes(): AsyncGenerator<Uint8Array> {
      for (let i = 0; i < framed.length; i++) yield framed.subarray(i, i + 1);
    }
    const records = await collect(readTFRecordStream(bytes()));
    expect(records.length).toBe(1);
    expect(Buffer.compare(records[0], payload)).toBe(0);
  });

  it("skips empty chunks", async () => {
    async function* withEmpties(): AsyncGenerator<Uint8Array> {
      for await (const c of chunksOf(fixture, 100)) {
        yield new Uint8Array(0);
        yield c;
      }
      yield new Uint8Array(0);
    }
    expect(await collect(readTFRecordStream(withEmpties()))).toEqual(expected);
  });

  it("reads a stream much larger than any chunk in bounded memory", async () => {
    // 200 records of 1 MiB each (~200 MB), cut into 64 KiB + 3 byte chunks made on the fly, so that
    // chunk and record boundaries never line up. The reader must not read ahead: when it yields a
    // record, the source has produced at most that record plus one chunk beyond what was yielded.
    const payload = new Uint8Array(1 << 20);
    for (let i = 0; i < payload.length; i++) payload[i] = (i * 2654435761) >>> 24;
    const framed = frameRecord(payload);
    const count = 200;
    const chunk = (1 << 16) + 3;
    const total = framed.length * count;
    let produced = 0;
    async function* source(): AsyncGenerator<Uint8Array> {
      while (produced < total) {
        const n = Math.min(chunk, total - produced);
        const out = new Uint8Array(n);
        let filled = 0;
        while (filled < n) {
          const at = (produced + filled) % framed.length;
          const k = Math.min(n - filled, framed.length - at);
          out.set(framed.subarray(at, at + k), filled);
          filled += k;
        }
        produced += n;
        yield out;
      }
    }
    const before = process.memoryUsage().arrayBuffers;
    let peak = 0;
    let records = 0;
    let consumed = 0;
    for await (const r of readTFRecordStream(source())) {
      records++;
      consumed += framed.length;
      expect(r.length).toBe(payload.length);
      expect(produced - consumed).toBeLessThanOrEqual(chunk);
      if (records % 10 === 0) expect(Buffer.compare(r, payload)).toBe(0); // (toEqual is slow on 1 MiB)
      peak = Math.max(peak, process.memoryUsage().arrayBuffers - before);
    }
    expect(records).toBe(count);
    expect(produced).toBe(total);
    // Loose sanity bound only (GC timing varies; ~40 MB is typical): nowhere near the whole stream is held.
    expect(peak).toBeLessThan(total / 2);
  });
});

describe("corrupt TFRecord files", () => {
  const { file, offsets } = sampleFile();
  type Reader = (bytes: Uint8Array) => Promise<Uint8Array[]>;
  const readers: [string, Reader][] = [
    ["decodeTFRecords", async (b) => [...decodeTFRecords(b)]],
    ["readTFRecordStream (1-byte chunks)", (b) => collect(readTFRecordStream(chunksOf(b, 1)))],
    ["readTFRecordStream (7-byte chunks)", (b) => collect(readTFRecordStream(chunksOf(b, 7)))],
    ["readTFRecordStream (whole file)", (b) => collect(readTFRecordStream(chunksOf(b, b.length || 1)))],
  ];

  for (const [name, read] of readers) {
    describe(name, () => {
      it("rejects a bad length checksum, naming the record's byte offset", async () => {
        for (const [i, at] of offsets.entries()) {
          const bad = file.slice();
          bad[at + 8] ^= 0x01; // the length CRC itself
          const e = await tfError(() => read(bad));
          expect(e.message).toMatch(/length checksum/);
          expect(e.message).toContain(`at byte ${at}`);
          // A flipped length byte is caught by the same check (before the length is trusted).
          const bad2 = file.slice();
          bad2[at + (i % 8)] ^= 0x40;
          expect((await tfError(() => read(bad2))).message).toContain(`at byte ${at}`);
        }
      });

      it("rejects a bad data checksum, naming the record's byte offset", async () => {
        const bad = file.slice();
        bad[offsets[2] + 12 + 150] ^= 0x80; // a payload byte of the third record
        const e = await tfError(() => read(bad));
        expect(e.message).toMatch(/data checksum/);
        expect(e.message).toContain(`at byte ${offsets[2]}`);
        const bad2 = file.slice();
        bad2[offsets[1] + 12] ^= 0x01; // the footer of the empty second record
        expect((await tfError(() => read(bad2))).message).toContain(`at byte ${offsets[1]}`);
      });

      it("rejects a truncated header", async () => {
        for (const cut of [1, 8, 11]) {
          const e = await tfError(() => read(file.subarray(0, offsets[2] + cut)));
          expect(e.message).toMatch(/truncated record header/);
          expect(e.message).toContain(`at byte ${offsets[2]}`);
        }
      });

      it("rejects truncated data and a truncated footer", async () => {
        for (const cut of [12, 13, 12 + 299, 12 + 300, 12 + 303]) {
          const e = await tfError(() => read(file.subarray(0, offsets[2] + cut)));
          expect(e.message).toMatch(/truncated record/);
          expect(e.message).toContain(`at byte ${offsets[2]}`);
        }
      });

      it("refuses an absurd declared length without allocating it", async () => {
        const bad = new Uint8Array(16);
        const view = new DataView(bad.buffer);
        view.setBigUint64(0, 1n << 40n, true);
        view.setUint32(8, maskedCrc32c(bad.subarray(0, 8)), true);
        expect((await tfError(() => read(bad))).message).toContain("at byte 0");
      });

      it("only ever throws TFRecordError on random corruption", async () => {
        await fc.assert(
          fc.asyncProperty(
            fc.array(fc.tuple(fc.nat(file.length - 1), fc.integer({ min: 1, max: 255 })), {
              minLength: 1,
              maxLength: 3,
            }),
            fc.nat(file.length),
            async (flips, cut) => {
              const bad = file.slice(0, Math.max(cut, 1));
              for (const [at, x] of flips) if (at < bad.length) bad[at] ^= x;
              try {
                await read(bad);
              } catch (e) {
                expect(e).toBeInstanceOf(TFRecordError);
              }
            },
          ),
          { numRuns: 50 },
        );
      });
    });
  }
});
