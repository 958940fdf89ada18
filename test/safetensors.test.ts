import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import {
  decodeSafetensors,
  encodeSafetensors,
  float16Bits,
  float16Value,
  SafetensorsError,
} from "../src/io/safetensors.js";

const enc = new TextEncoder();

/** A file from its header text and data bytes, as the format defines it. */
function file(header: string, data: Uint8Array = new Uint8Array(0)): Uint8Array {
  const h = enc.encode(header);
  const out = new Uint8Array(8 + h.length + data.length);
  new DataView(out.buffer).setBigUint64(0, BigInt(h.length), true);
  out.set(h, 8);
  out.set(data, 8 + h.length);
  return out;
}

function f32bytes(...values: number[]): Uint8Array {
  return new Uint8Array(new Float32Array(values).buffer);
}

describe("safetensors", () => {
  it("writes the reference layout: metadata first, tensors by name, header space-padded to 8 bytes", () => {
    const bytes = encodeSafetensors(
      [
        { name: "b", shape: [2], data: new Float32Array([1, 2]) },
        { name: "a", shape: [1, 1], data: new Float32Array([3]) },
      ],
      { z: "1", k: "v" },
    );
    const json =
      '{"__metadata__":{"k":"v","z":"1"},' +
      '"a":{"dtype":"F32","shape":[1,1],"data_offsets":[0,4]},' +
      '"b":{"dtype":"F32","shape":[2],"data_offsets":[4,12]}}';
    const padded = json + " ".repeat((8 - (json.length % 8)) % 8);
    expect(padded.length % 8).toBe(0);
    const data = new Uint8Array([...f32bytes(3), ...f32bytes(1, 2)]);
    expect(bytes).toEqual(file(padded, data));
    // Little-endian u64 header length, then the data starts 8-byte aligned.
    expect(Number(new DataView(bytes.buffer).getBigUint64(0, true))).toBe(padded.length);
    expect((8 + padded.length) % 8).toBe(0);
  });

  it("round-trips tensors and metadata (including empty and scalar tensors)", () => {
    const tensors = [
      { name: "rnn/multi_rnn_cell/cell_0/basic_lstm_cell/kernel", shape: [3, 4], data: new Float32Array(12) },
      { name: "fully_connected/biases", shape: [5], data: Float32Array.from([0.5, -1, 1e-30, 3.4e38, -0]) },
      { name: "empty", shape: [0, 7], data: new Float32Array(0) },
      { name: "scalar", shape: [], data: Float32Array.from([42]) },
    ];
    tensors[0].data.forEach((_, i) => {
      tensors[0].data[i] = i / 7;
    });
    const out = decodeSafetensors(encodeSafetensors(tensors, { hparams: "batch_size=4", é: "ü" }));
    expect(out.metadata).toEqual({ hparams: "batch_size=4", é: "ü" });
    const byName = Object.fromEntries(out.tensors.map((t) => [t.name, t]));
    for (const t of tensors) {
      expect(byName[t.name].shape).toEqual(t.shape);
      expect(byName[t.name].data).toEqual(t.data);
    }
  });

  it("writes no __metadata__ when there is none, and is deterministic", () => {
    const t = [{ name: "x", shape: [1], data: Float32Array.from([1]) }];
    const a = encodeSafetensors(t);
    expect(new TextDecoder().decode(a.subarray(8, 8 + 8))).toBe('{"x":{"d');
    expect(encodeSafetensors(t)).toEqual(a);
    expect(decodeSafetensors(a).metadata).toEqual({});
  });

  it("decodes a file with data offsets out of name order", () => {
    const bytes = file(
      '{"a":{"dtype":"F32","shape":[1],"data_offsets":[4,8]},"b":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}}',
      f32bytes(1, 2),
    );
    const out = decodeSafetensors(bytes);
    expect(out.tensors.map((t) => [t.name, t.data[0]])).toEqual([
      ["b", 1],
      ["a", 2],
    ]);
  });

  it("refuses bad files with clear errors", () => {
    const bad = (bytes: Uint8Array, msg: RegExp) => {
      expect(() => decodeSafetensors(bytes)).toThrow(SafetensorsError);
      expect(() => decodeSafetensors(bytes)).toThrow(msg);
    };
    bad(new Uint8Array(5), /truncated: 5 bytes/);
    const good = encodeSafetensors([{ name: "x", shape: [2], data: Float32Array.from([1, 2]) }]);
    bad(good.subarray(0, 20), /truncated: header declares/);
    bad(good.subarray(0, good.length - 1), /tensor "x": data_offsets \[0, 8\] out of range/);
    bad(file("{not json"), /header is not valid JSON/);
    bad(file("[1]"), /not a JSON object/);
    bad(
      file('{"x":{"dtype":"BF16","shape":[1],"data_offsets":[0,2]}}', new Uint8Array(2)),
      /dtype "BF16".*only F32, F16 and I8/,
    );
    bad(file('{"x":{"dtype":"F32","shape":[3],"data_offsets":[0,8]}}', new Uint8Array(8)), /needs 12/);
    bad(file('{"x":{"dtype":"F16","shape":[3],"data_offsets":[0,8]}}', new Uint8Array(8)), /needs 6 as F16/);
    bad(
      file(
        '{"x":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"y":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}}',
        new Uint8Array(8),
      ),
      /overlaps/,
    );
    bad(
      file('{"x":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}}', new Uint8Array(8)),
      /unused bytes 0..4/,
    );
    bad(file('{"x":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}}', new Uint8Array(8)), /cover 4/);
    bad(file('{"__metadata__":{"a":1}}'), /__metadata__\["a"\] is not a string/);
    bad(file('{"x":{"dtype":"F32","shape":[-1],"data_offsets":[0,0]}}'), /not a list of sizes/);
    const huge = new Uint8Array(8);
    new DataView(huge.buffer).setBigUint64(0, 2n ** 40n, true);
    bad(huge, /over 100000000 bytes/);
  });

  it("refuses to write inconsistent tensors", () => {
    expect(() => encodeSafetensors([{ name: "x", shape: [3], data: new Float32Array(2) }])).toThrow(
      /shape \[3\] holds 3 values, data has 2/,
    );
    const t = { name: "x", shape: [1], data: new Float32Array(1) };
    expect(() => encodeSafetensors([t, t])).toThrow(/duplicate tensor "x"/);
  });
});

describe("safetensors float16", () => {
  it("stores F16 tensors in half the bytes, after the F32 ones (the reference's dtype order), and reads them back", () => {
    const bytes = encodeSafetensors([
      { name: "a", shape: [3], data: Float32Array.from([1, -2.5, 1 / 3]), dtype: "F16" },
      { name: "b", shape: [1], data: Float32Array.from([0.1]) },
    ]);
    const json =
      '{"b":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},' +
      '"a":{"dtype":"F16","shape":[3],"data_offsets":[4,10]}}';
    const padded = json + " ".repeat((8 - (json.length % 8)) % 8);
    // 1 = 0x3c00, -2.5 = 0xc100, 1/3 → 0x3555 (0.333251953125), little-endian.
    const data = new Uint8Array([...f32bytes(0.1), 0x00, 0x3c, 0x00, 0xc1, 0x55, 0x35]);
    expect(bytes).toEqual(file(padded, data));
    const back = decodeSafetensors(bytes).tensors;
    expect(back.map((t) => t.name)).toEqual(["b", "a"]);
    expect(back[1]).toEqual({
      name: "a",
      shape: [3],
      data: Float32Array.from([1, -2.5, 0.333251953125]),
      dtype: "F16",
    });
  });

  it("rounds to the nearest float16, ties to even, through subnormals and up to the largest finite value", () => {
    const cases: [number, number][] = [
      [0, 0x0000],
      [-0, 0x8000],
      [2 ** -24, 0x0001], // the smallest subnormal
      [2 ** -25, 0x0000], // half of it: a tie, to even (zero)
      [1.5 * 2 ** -24, 0x0002], // a tie between 1 and 2 units: to even (2)
      [2 ** -14, 0x0400], // the smallest normal
      [65504, 0x7bff], // the largest finite
      [65519, 0x7bff], // just under the halfway point to 65536
      [65520, 0x7c00], // the halfway point rounds to even: Infinity
      [1 + 2 ** -11, 0x3c00], // a tie between 1 and its successor: to even (1)
      [1 + 3 * 2 ** -11, 0x3c02], // a tie between odd and even successors: to even
      [Number.POSITIVE_INFINITY, 0x7c00],
      [Number.NEGATIVE_INFINITY, 0xfc00],
    ];
    for (const [x, bits] of cases) expect([x, float16Bits(x)]).toEqual([x, bits]);
    expect(Number.isNaN(float16Value(float16Bits(Number.NaN)))).toBe(true);
    // Every finite pattern reads back to itself; the positive ones are in increasing order.
    let previous = -1;
    for (let h = 0; h < 0x10000; h++) {
      const v = float16Value(h);
      if (Number.isNaN(v)) continue;
      expect(float16Bits(v)).toBe(h);
      if (h < 0x7c00) {
        expect(v).toBeGreaterThan(previous);
        previous = v;
      }
    }
  });

  it("stores I8 as one byte a value, after F32 and F16 as the reference orders them, and reads it back", () => {
    const bytes = encodeSafetensors([
      { name: "q", shape: [2, 2], data: Float32Array.from([-128, 127, 0, -1]), dtype: "I8" },
      { name: "h", shape: [1], data: Float32Array.from([0.5]), dtype: "F16" },
      { name: "f", shape: [1], data: Float32Array.from([2]) },
    ]);
    const header = new TextDecoder().decode(
      bytes.subarray(8, 8 + Number(new DataView(bytes.buffer).getBigUint64(0, true))),
    );
    expect(header.indexOf('"f"')).toBeLessThan(header.indexOf('"h"'));
    expect(header.indexOf('"h"')).toBeLessThan(header.indexOf('"q"'));
    expect(header).toContain('"q":{"dtype":"I8","shape":[2,2],"data_offsets":[6,10]}');
    expect(Array.from(bytes.subarray(bytes.length - 4)).map((b) => (b << 24) >> 24)).toEqual([
      -128, 127, 0, -1,
    ]);
    const q = decodeSafetensors(bytes).tensors.find((t) => t.name === "q");
    expect(q).toEqual({ name: "q", shape: [2, 2], data: Float32Array.from([-128, 127, 0, -1]), dtype: "I8" });
    for (const v of [0.5, 128, -129, Number.NaN]) {
      expect(() =>
        encodeSafetensors([{ name: "w", shape: [2], data: Float32Array.from([1, v]), dtype: "I8" }]),
      ).toThrow(/tensor "w": value .* at index 1 is not an integer from -128 to 127/);
    }
  });

  it("refuses a name twice even when the two tensors differ in dtype", () => {
    expect(() =>
      encodeSafetensors([
        { name: "x", shape: [1], data: Float32Array.from([1]) },
        { name: "x", shape: [1], data: Float32Array.from([1]), dtype: "F16" },
      ]),
    ).toThrow(/duplicate tensor "x"/);
  });

  it("refuses to store a finite value beyond ±65504 as F16, naming the tensor", () => {
    expect(() =>
      encodeSafetensors([{ name: "w", shape: [2], data: Float32Array.from([1, -70000]), dtype: "F16" }]),
    ).toThrow(/tensor "w": value -70000 at index 1 is beyond float16's ±65504/);
  });

  const PYTHON = "/usr/bin/python3";
  const numpy = existsSync(PYTHON) && spawnSync(PYTHON, ["-c", "import numpy"]).status === 0;
  it.skipIf(!numpy)("agrees with numpy's float16 on every pattern and on 200,000 float32 values", () => {
    const dir = mkdtempSync(join(tmpdir(), "f16-"));
    try {
      // Random bit patterns over the whole float32 range, and values near float16's own range.
      let seed = 12345;
      const next = () => {
        seed = (Math.imul(seed, 1664525) + 1013904223) >>> 0;
        return seed;
      };
      const xs = new Float32Array(200_000);
      const bits = new Uint32Array(xs.buffer);
      for (let i = 0; i < xs.length; i++) {
        if (i % 2 === 0) bits[i] = next();
        else xs[i] = (next() / 2 ** 32 - 0.5) * 2 ** ((next() % 44) - 28);
      }
      writeFileSync(join(dir, "x.f32"), new Uint8Array(xs.buffer));
      const script = [
        "import numpy as np, sys",
        "d = sys.argv[1]",
        "x = np.fromfile(d + '/x.f32', dtype='<f4')",
        "import warnings; warnings.simplefilter('ignore')",
        "x.astype('<f2').view('<u2').tofile(d + '/x.f16')",
        "np.arange(65536, dtype='<u2').view('<f2').astype('<f4').tofile(d + '/all.f32')",
      ].join("\n");
      const run = spawnSync(PYTHON, ["-c", script, dir], { encoding: "utf8" });
      expect(run.stderr).toBe("");
      const f16 = readFileSync(join(dir, "x.f16"));
      const theirs = new Uint16Array(f16.buffer, f16.byteOffset, f16.length / 2);
      const ours = Uint16Array.from(xs, (x) => float16Bits(x));
      const nan = (h: number) => (h & 0x7c00) === 0x7c00 && (h & 0x3ff) !== 0;
      let mismatches = 0;
      for (let i = 0; i < xs.length; i++) {
        if (nan(ours[i]) && nan(theirs[i])) continue;
        if (ours[i] !== theirs[i]) mismatches++;
      }
      expect(mismatches).toBe(0);
      const f32 = readFileSync(join(dir, "all.f32"));
      const all = new Float32Array(f32.buffer, f32.byteOffset, f32.length / 4);
      for (let h = 0; h < 0x10000; h++) {
        const v = float16Value(h);
        if (Number.isNaN(all[h])) expect(Number.isNaN(v)).toBe(true);
        else expect([h, v]).toEqual([h, all[h]]);
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
