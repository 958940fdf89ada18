/**
 * TensorBoard event files, scalars only: serialized `tensorflow.Event` protos framed as TFRecords.
 * Pure: the encoders return bytes, and `SummaryWriter` appends them to any byte sink (the trainer
 * gives it a file, see src/io/run_logs.ts).
 *
 * Wire layout (tensorflow/core/util/event.proto, core/framework/summary.proto):
 *   Event   { double wall_time = 1; int64 step = 2; oneof what { string file_version = 3; ...;
 *             Summary summary = 5; ... } }
 *   Summary { repeated Value value = 1; }
 *   Value   { string tag = 1; oneof value { float simple_value = 2; ... } }
 * Proto3 leaves wall_time and step out when 0; members of a oneof are written even when 0 or empty.
 */
import { ProtoWriter, WireType } from "./protobuf.js";
import { frameRecord } from "./tfrecord.js";

export const FILE_VERSION = "brain.Event:2";

function event(wallTime: number, step: number, what: (w: ProtoWriter) => void): Uint8Array {
  const w = new ProtoWriter();
  w.doubleField(1, wallTime);
  if (step !== 0) {
    w.tag(2, WireType.VARINT);
    w.varint(BigInt(Math.trunc(step)));
  }
  what(w);
  return w.finish();
}

/** The first record of every event file: `Event{wall_time, file_version: "brain.Event:2"}`. */
export function encodeFileVersionEvent(wallTime: number): Uint8Array {
  return event(wallTime, 0, (w) => {
    w.tag(3, WireType.LEN);
    w.bytes(new TextEncoder().encode(FILE_VERSION));
  });
}

/** One Event holding a Summary with one simple_value per tag, in the order given. */
export function encodeScalarsEvent(
  scalars: Iterable<readonly [string, number]>,
  step: number,
  wallTime: number,
): Uint8Array {
  return event(wallTime, step, (w) =>
    w.message(5, (summary) => {
      for (const [tag, value] of scalars) {
        summary.message(1, (v) => {
          v.string(1, tag);
          v.tag(2, WireType.FIXED32);
          v.float(value);
        });
      }
    }),
  );
}

export function encodeScalarEvent(tag: string, value: number, step: number, wallTime: number): Uint8Array {
  return encodeScalarsEvent([[tag, value]], step, wallTime);
}

/** TensorFlow's name: `events.out.tfevents.<unix seconds>.<hostname>`. */
export function eventFileName(wallTime: number, hostname: string): string {
  return `events.out.tfevents.${Math.floor(wallTime)}.${hostname}`;
}

/** Where the framed records go: a file opened for appending, in the trainer. */
export interface ByteSink {
  append(bytes: Uint8Array): Promise<void>;
  close(): Promise<void>;
}

/**
 * Writes the file-version record first, then one Event per `scalars` call. Each call reaches the
 * sink at once (no buffering), so TensorBoard sees progress while training runs.
 */
export class SummaryWriter {
  private started = false;

  constructor(
    private readonly sink: ByteSink,
    private readonly clock: () => number = () => Date.now() / 1000,
  ) {}

  /** Writes the file-version record (done by the first `scalars` call otherwise). */
  async start(): Promise<void> {
    if (this.started) return;
    this.started = true;
    await this.sink.append(frameRecord(encodeFileVersionEvent(this.clock())));
  }

  async scalars(values: Record<string, number>, step: number): Promise<void> {
    await this.start();
    await this.sink.append(frameRecord(encodeScalarsEvent(Object.entries(values), step, this.clock())));
  }

  async close(): Promise<void> {
    await this.start();
    await this.sink.close();
  }
}
