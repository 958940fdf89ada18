import { readdirSync, readFileSync } from "node:fs";
import { hostname } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { openEventFile } from "../src/io/run_logs.js";
import {
  type ByteSink,
  encodeFileVersionEvent,
  encodeScalarEvent,
  encodeScalarsEvent,
  eventFileName,
  SummaryWriter,
} from "../src/io/tensorboard.js";
import { decodeTFRecords } from "../src/io/tfrecord.js";
import { tempDir } from "./helpers/cli.js";

const hex = (s: string) => Uint8Array.from(s.match(/[0-9a-f]{2}/g) ?? [], (b) => Number.parseInt(b, 16));
const ascii = (s: string) => Uint8Array.from(s, (c) => c.charCodeAt(0));
const cat = (...parts: Uint8Array[]) => Uint8Array.from(parts.flatMap((p) => [...p]));

// 1000.5 as a little-endian double: 0x408F440000000000.
const WALL = hex("0000000000448f40");

describe("TensorBoard events", () => {
  it("encodes one scalar as Event{wall_time, step, summary{value{tag, simple_value}}}", () => {
    const value = cat(hex("0a04"), ascii("loss"), hex("15"), hex("0000c03f")); // tag, simple_value 1.5f
    const summary = cat(hex("0a0b"), value); // Summary.value (11 bytes)
    const expected = cat(hex("09"), WALL, hex("100a"), hex("2a0d"), summary); // step 10, summary (13 bytes)
    expect(encodeScalarEvent("loss", 1.5, 10, 1000.5)).toEqual(expected);
  });

  it("writes simple_value 0 (a oneof member) but leaves out step 0 and wall_time 0", () => {
    expect(encodeScalarEvent("a", 0, 0, 0)).toEqual(
      cat(hex("2a0a"), hex("0a08"), hex("0a0161"), hex("1500000000")),
    );
  });

  it("encodes several scalars in one Summary and steps past 2^32", () => {
    const bytes = encodeScalarsEvent(
      [
        ["x", 1],
        ["y", 2],
      ],
      2 ** 33,
      0,
    );
    // step = 2^33: varint 80 80 80 80 20.
    expect(bytes.subarray(0, 6)).toEqual(hex("108080808020"));
    expect(bytes.subarray(6, 8)).toEqual(hex("2a14"));
  });

  it("encodes the file version event", () => {
    expect(encodeFileVersionEvent(1000.5)).toEqual(cat(hex("09"), WALL, hex("1a0d"), ascii("brain.Event:2")));
  });

  it("names files as TensorFlow does", () => {
    expect(eventFileName(1700000000.9, "host")).toBe("events.out.tfevents.1700000000.host");
  });

  it("SummaryWriter sends the file version first, then one record per call, framed", async () => {
    const chunks: Uint8Array[] = [];
    const sink: ByteSink = {
      append: async (b) => {
        chunks.push(b);
      },
      close: async () => {},
    };
    const w = new SummaryWriter(sink, () => 1000.5);
    await w.scalars({ loss: 1.5 }, 10);
    expect(chunks.length).toBe(2); // nothing buffered
    await w.scalars({ loss: 1.25, "metrics/accuracy": 0.5 }, 20);
    await w.close();
    const records = [...decodeTFRecords(cat(...chunks))];
    expect(records[0]).toEqual(encodeFileVersionEvent(1000.5));
    expect(records[1]).toEqual(encodeScalarEvent("loss", 1.5, 10, 1000.5));
    expect(records.length).toBe(3);
  });

  it("the event file on disk is a valid TFRecord file, readable while it is being written", async () => {
    const dir = join(tempDir(), "train");
    const w = await openEventFile(dir);
    await w.scalars({ loss: 2 }, 1);
    const [name] = readdirSync(dir);
    expect(name).toMatch(
      new RegExp(`^events\\.out\\.tfevents\\.\\d+\\.${hostname().replace(/\./g, "\\.")}$`),
    );
    expect([...decodeTFRecords(readFileSync(join(dir, name)))].length).toBe(2);
    await w.scalars({ loss: 1 }, 2);
    await w.close();
    const records = [...decodeTFRecords(readFileSync(join(dir, name)))];
    expect(records.length).toBe(3);
    expect(new Uint8Array(records[0].subarray(9))).toEqual(cat(hex("1a0d"), ascii("brain.Event:2")));
  });
});
