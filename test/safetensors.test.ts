import { describe, expect, it } from "vitest";
import { decodeSafetensors, encodeSafetensors, SafetensorsError } from "../src/io/safetensors.js";

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
      file('{"x":{"dtype":"F16","shape":[1],"data_offsets":[0,2]}}', new Uint8Array(2)),
      /dtype "F16".*only F32/,
    );
    bad(file('{"x":{"dtype":"F32","shape":[3],"data_offsets":[0,8]}}', new Uint8Array(8)), /needs 12/);
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
