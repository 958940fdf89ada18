/**
 * Minimal protobuf wire format (proto3): just what our messages need, no schema compiler.
 * Encoding writes fields in field-number order, like the reference implementations, so that the
 * same message gives the same bytes here and in Python/C++.
 */
import { ProtobufError } from "../errors.js";

export const WireType = { VARINT: 0, FIXED64: 1, LEN: 2, FIXED32: 5 } as const;

const textEncoder = new TextEncoder();
const textDecoder = new TextDecoder("utf-8", { fatal: true });

const SCRATCH = new DataView(new ArrayBuffer(8));
const WRITER_POOL: ProtoWriter[] = [];

export class ProtoWriter {
  private buf = new Uint8Array(256);
  private pos = 0;
  private readonly scratch = SCRATCH;

  private ensure(n: number): void {
    if (this.pos + n <= this.buf.length) return;
    let size = this.buf.length * 2;
    while (size < this.pos + n) size *= 2;
    const next = new Uint8Array(size);
    next.set(this.buf.subarray(0, this.pos));
    this.buf = next;
  }

  private byte(b: number): void {
    this.ensure(1);
    this.buf[this.pos++] = b;
  }

  /** Unsigned varint of a non-negative integer up to 2^53, or a bigint (two's complement 64-bit). */
  varint(value: number | bigint): void {
    if (typeof value === "number" && value >= 0 && value < 2 ** 31) {
      let v = value;
      while (v >= 0x80) {
        this.byte((v & 0x7f) | 0x80);
        v >>>= 7;
      }
      this.byte(v);
      return;
    }
    let v = BigInt.asUintN(64, BigInt(value));
    while (v >= 0x80n) {
      this.byte(Number(v & 0x7fn) | 0x80);
      v >>= 7n;
    }
    this.byte(Number(v));
  }

  tag(field: number, wireType: number): void {
    this.varint(field * 8 + wireType);
  }

  bytes(data: Uint8Array): void {
    this.varint(data.length);
    this.ensure(data.length);
    this.buf.set(data, this.pos);
    this.pos += data.length;
  }

  double(value: number): void {
    this.scratch.setFloat64(0, value, true);
    this.ensure(8);
    for (let i = 0; i < 8; i++) this.buf[this.pos++] = this.scratch.getUint8(i);
  }

  float(value: number): void {
    this.scratch.setFloat32(0, value, true);
    this.ensure(4);
    for (let i = 0; i < 4; i++) this.buf[this.pos++] = this.scratch.getUint8(i);
  }

  // Proto3 field helpers: a default value is not written.
  int(field: number, value: number): void {
    if (value !== 0) {
      this.tag(field, WireType.VARINT);
      this.varint(value);
    }
  }

  bool(field: number, value: boolean): void {
    if (value) {
      this.tag(field, WireType.VARINT);
      this.varint(1);
    }
  }

  doubleField(field: number, value: number): void {
    // -0.0 is not the default in proto3 (it is serialized), +0.0 is.
    if (value !== 0 || Object.is(value, -0)) {
      this.tag(field, WireType.FIXED64);
      this.double(value);
    }
  }

  string(field: number, value: string): void {
    if (value.length > 0) {
      this.tag(field, WireType.LEN);
      this.bytes(textEncoder.encode(value));
    }
  }

  bytesField(field: number, value: Uint8Array): void {
    this.tag(field, WireType.LEN);
    this.bytes(value);
  }

  /** A sub-message, always written (even when empty) since presence matters. */
  message(field: number, encode: (w: ProtoWriter) => void): void {
    // Sub-messages are encoded into pooled writers (one per nesting depth in use), so that a message with
    // thousands of small sub-messages (a SequenceExample's per-step features) allocates nothing per field.
    const sub = WRITER_POOL.pop() ?? new ProtoWriter();
    sub.pos = 0;
    try {
      encode(sub);
      this.tag(field, WireType.LEN);
      this.bytes(sub.buf.subarray(0, sub.pos));
    } finally {
      WRITER_POOL.push(sub);
    }
  }

  finish(): Uint8Array {
    return this.buf.slice(0, this.pos);
  }
}

export class ProtoReader {
  pos: number;
  private readonly view: DataView;

  constructor(
    readonly buf: Uint8Array,
    start = 0,
    readonly end = buf.length,
  ) {
    this.pos = start;
    this.view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  }

  done(): boolean {
    return this.pos >= this.end;
  }

  private fail(what: string): never {
    throw new ProtobufError(`invalid protobuf: ${what} at byte ${this.pos}`);
  }

  /**
   * A varint as its low and high 32 bits (both unsigned), exact for all 64 bits. Bits past the 64th
   * (in a 10th byte) are dropped, as protobuf does.
   */
  private varint64(): [lo: number, hi: number] {
    let lo = 0;
    let hi = 0;
    for (let i = 0; i < 10; i++) {
      if (this.pos >= this.end) this.fail("truncated varint");
      const b = this.buf[this.pos++];
      const bits = b & 0x7f;
      if (i < 4) {
        lo |= bits << (7 * i);
      } else if (i === 4) {
        lo |= bits << 28;
        hi |= bits >>> 4;
      } else {
        hi |= bits << (7 * i - 32);
      }
      if (b < 0x80) return [lo >>> 0, hi >>> 0];
    }
    this.fail("varint longer than 10 bytes");
  }

  /**
   * Varint as a signed 64-bit value in a JS number (int64 / uint64 < 2^63): exact when |value| < 2^53,
   * rounded beyond that. Negative int64 and int32 values arrive as 10-byte two's complement varints.
   */
  varint(): number {
    const [lo, hi] = this.varint64();
    return (hi | 0) * 4294967296 + lo;
  }

  /** int32 fields (and enums): protobuf keeps the low 32 bits of the varint, as a signed value. */
  int32(): number {
    return this.varint64()[0] | 0;
  }

  tag(): { field: number; wireType: number } {
    const start = this.pos;
    const [key, hi] = this.varint64();
    const field = key >>> 3;
    if (hi !== 0 || field === 0) {
      this.pos = start;
      this.fail(hi !== 0 ? "tag out of range" : "field number 0");
    }
    return { field, wireType: key & 7 };
  }

  double(): number {
    if (this.pos + 8 > this.end) this.fail("truncated double");
    const v = this.view.getFloat64(this.pos, true);
    this.pos += 8;
    return v;
  }

  float(): number {
    if (this.pos + 4 > this.end) this.fail("truncated float");
    const v = this.view.getFloat32(this.pos, true);
    this.pos += 4;
    return v;
  }

  /** Bounds of a length-delimited field's payload; advances past it. */
  lengthDelimited(): { start: number; end: number } {
    const len = this.varint();
    const start = this.pos;
    if (len < 0 || start + len > this.end) this.fail("length-delimited field past the end");
    this.pos = start + len;
    return { start, end: start + len };
  }

  bytes(): Uint8Array {
    const { start, end } = this.lengthDelimited();
    return this.buf.subarray(start, end);
  }

  string(): string {
    try {
      return textDecoder.decode(this.bytes());
    } catch (e) {
      if (e instanceof ProtobufError) throw e;
      this.fail("string field is not UTF-8");
    }
  }

  sub(): ProtoReader {
    const { start, end } = this.lengthDelimited();
    return new ProtoReader(this.buf, start, end);
  }

  skip(wireType: number): void {
    switch (wireType) {
      case WireType.VARINT:
        this.varint();
        return;
      case WireType.FIXED64:
        if (this.pos + 8 > this.end) this.fail("truncated fixed64");
        this.pos += 8;
        return;
      case WireType.LEN:
        this.lengthDelimited();
        return;
      case WireType.FIXED32:
        if (this.pos + 4 > this.end) this.fail("truncated fixed32");
        this.pos += 4;
        return;
      default:
        this.fail(`unsupported wire type ${wireType}`);
    }
  }

  /** Reads every field of this message with `onField`; it returns false for fields it does not know. */
  fields(onField: (field: number, wireType: number) => boolean): void {
    while (!this.done()) {
      const { field, wireType } = this.tag();
      if (!onField(field, wireType)) this.skip(wireType);
    }
  }

  /** Packed or unpacked repeated scalar (proto3 packs by default; both are legal on the wire). */
  repeated(wireType: number, readOne: () => number, out: number[]): void {
    if (wireType === WireType.LEN) {
      const { start, end } = this.lengthDelimited();
      const saved = this.pos;
      this.pos = start;
      while (this.pos < end) out.push(readOne());
      this.pos = saved;
    } else {
      out.push(readOne());
    }
  }
}

/** Wire type check used by decoders: a field that arrives with the wrong wire type is corrupt. */
export function expectWireType(field: number, got: number, want: number): void {
  if (got !== want) {
    throw new ProtobufError(`invalid protobuf: field ${field} has wire type ${got}, expected ${want}`);
  }
}
