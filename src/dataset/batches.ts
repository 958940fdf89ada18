/**
 * Training data in memory, and the padded batches the model eats (spec §4.5).
 *
 * A dataset file (`training_poly_tracks.tfrecord`) is loaded once into compact arrays: every label id
 * in one Uint16Array (2 bytes per event) plus per-example offsets and first input. Inputs are not
 * stored: in every Polyphony RNN example inputs[0] is START and inputs[t] = labels[t−1] (encode()
 * shifts one event sequence by one), which the loader checks when a record carries Magenta's one-hot
 * inputs.
 *
 * Batches are TIME-MAJOR (`Batch` in src/model/api.ts): padded with −1 to the longest sequence of the
 * batch, never truncated (Magenta's `dynamic_pad=True`). Training draws examples from an endless
 * stream of epochs, each a seeded permutation of the whole set; batches run across epoch boundaries,
 * like Magenta's queue. Example k of the stream is a pure function of (seed, k), so a run resumed at
 * step s continues exactly where it stopped (`position = s · batchSize`). Magenta shuffles through a
 * 500-slot RandomShuffleQueue (unseeded); a full permutation per epoch is the seeded equivalent.
 * Evaluation goes through the file in order.
 */
import { PolyrnnError } from "../errors.js";
import { NUM_CLASSES } from "../events/codec.js";
import type { Batch } from "../model/api.js";
import { decodeSequenceExample } from "./sequence_example.js";

const START_ID = 0;

/** Thrown when a dataset's records or examples cannot be used; the message names the source and record. */
export class DatasetError extends PolyrnnError {
  override name = "DatasetError";
}

/** A 32-bit hash of integers (murmur3's finalizer over a running mix): seeds from (seed, epoch, …). */
export function mixSeed(...values: number[]): number {
  let h = 0x9e3779b9;
  for (const v of values) {
    // Fold in the value as two 32-bit halves so steps past 2^32 still differ.
    for (const part of [v >>> 0, Math.floor(v / 2 ** 32) >>> 0]) {
      h = Math.imul(h ^ part, 0x85ebca6b);
      h ^= h >>> 13;
      h = Math.imul(h, 0xc2b2ae35);
      h ^= h >>> 16;
    }
  }
  return h >>> 0;
}

/** mulberry32: a small seeded generator of floats in [0, 1). */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** A seeded Fisher–Yates permutation of 0 … n−1. */
export function permutation(n: number, seed: number): Uint32Array {
  const p = new Uint32Array(n);
  for (let i = 0; i < n; i++) p[i] = i;
  const rand = seededRandom(seed);
  for (let i = n - 1; i > 0; i--) {
    const j = Math.floor(rand() * (i + 1));
    const t = p[i];
    p[i] = p[j];
    p[j] = t;
  }
  return p;
}

/**
 * One training example as event ids (0 … 258): what a dataset record of `polyrnn dataset` holds (Magenta's
 * SequenceExample), or `trackToExample` of a track.
 */
export interface ExampleIds {
  /** The events to predict: a track's events after START, to its END (or last STEP_END). Empty examples are skipped. */
  labels: readonly number[];
  /**
   * The events fed to the model, when the record carries them (Magenta's one-hot inputs, as ids): as many
   * as the labels, and the labels shifted by one (inputs[t] = labels[t−1]), which the loader checks.
   * Without them, the first input is START.
   */
  inputs?: readonly number[];
}

/** What loading an `ExampleSet` came across, besides the examples kept. */
export interface LoadReport {
  /** Records with no events, left out (Magenta would feed them as zero-length sequences). */
  skippedEmpty: number;
  /** Records that carried one-hot inputs (checked against the labels). */
  withInputs: number;
}

/** Every example of a dataset file, as label ids. */
export class ExampleSet {
  /** Use `fromRecords` or `fromIds`. */
  constructor(
    private readonly ids: Uint16Array,
    /** Example i's labels are ids[offsets[i] … offsets[i+1]). */
    private readonly offsets: Float64Array,
    private readonly first: Uint16Array,
    /** What the loader skipped and checked. */
    readonly report: LoadReport,
  ) {}

  /** The number of examples (records with no events are not counted). */
  get count(): number {
    return this.first.length;
  }

  /** Events predicted over the whole set (= Σ lengths). */
  get tokens(): number {
    return this.offsets[this.count];
  }

  /** The `k` longest examples' lengths, longest first (fewer when the set has fewer). */
  longestLengths(k: number): number[] {
    const all = Array.from({ length: this.count }, (_, i) => this.length(i));
    return all.sort((a, b) => b - a).slice(0, Math.max(0, k));
  }

  /** Events of example `i` (0 … count−1): its labels, the positions the model predicts. */
  length(i: number): number {
    return this.offsets[i + 1] - this.offsets[i];
  }

  /** The label ids of example `i` (0 … count−1): a view into the set, not a copy. */
  labels(i: number): Uint16Array {
    return this.ids.subarray(this.offsets[i], this.offsets[i + 1]);
  }

  /** Inputs of example i: its first input, then its labels shifted by one. */
  inputs(i: number): Uint16Array {
    const out = new Uint16Array(this.length(i));
    out[0] = this.first[i];
    out.set(this.ids.subarray(this.offsets[i], this.offsets[i + 1] - 1), 1);
    return out;
  }

  /** The padded, time-major batch of the given examples (in that order; repeats allowed). */
  makeBatch(indices: ArrayLike<number>): Batch {
    const batchSize = indices.length;
    const lengths = new Int32Array(batchSize);
    let length = 0;
    for (let b = 0; b < batchSize; b++) {
      lengths[b] = this.length(indices[b]);
      if (lengths[b] > length) length = lengths[b];
    }
    const inputs = new Int32Array(length * batchSize).fill(-1);
    const labels = new Int32Array(length * batchSize).fill(-1);
    for (let b = 0; b < batchSize; b++) {
      const i = indices[b];
      const base = this.offsets[i];
      const n = lengths[b];
      if (n === 0) continue;
      inputs[b] = this.first[i];
      for (let t = 0; t < n; t++) {
        const id = this.ids[base + t];
        labels[t * batchSize + b] = id;
        if (t + 1 < n) inputs[(t + 1) * batchSize + b] = id;
      }
    }
    return { batchSize, length, inputs, labels, lengths };
  }

  /** From ids in memory (tests, benchmarks); the same checks as the file loader. */
  static fromIds(examples: Iterable<ExampleIds>, source = "examples"): ExampleSet {
    const b = new Builder(source);
    for (const ex of examples) b.add(ex);
    return b.finish();
  }

  /**
   * Loads serialized SequenceExamples (e.g. `readTFRecordFile(path)`); errors name `source` and the
   * record number.
   */
  static async fromRecords(
    records: AsyncIterable<Uint8Array> | Iterable<Uint8Array>,
    source: string,
  ): Promise<ExampleSet> {
    const b = new Builder(source);
    for await (const record of records) {
      let ex: ExampleIds;
      try {
        ex = decodeSequenceExample(record);
      } catch (e) {
        if (e instanceof PolyrnnError) throw new DatasetError(`${source}: record ${b.records}: ${e.message}`);
        throw e;
      }
      b.add(ex);
    }
    return b.finish();
  }
}

class Builder {
  private ids = new Uint16Array(1 << 16);
  private used = 0;
  private offsets: number[] = [0];
  private first: number[] = [];
  records = 0;
  private report: LoadReport = { skippedEmpty: 0, withInputs: 0 };

  constructor(private readonly source: string) {}

  private fail(msg: string): never {
    throw new DatasetError(`${this.source}: record ${this.records}: ${msg}`);
  }

  add(ex: ExampleIds): void {
    const { labels, inputs } = ex;
    if (inputs && inputs.length !== labels.length) {
      this.fail(`${inputs.length} inputs but ${labels.length} labels`);
    }
    if (labels.length === 0) {
      this.report.skippedEmpty++;
      this.records++;
      return;
    }
    for (let t = 0; t < labels.length; t++) {
      const id = labels[t];
      if (!Number.isInteger(id) || id < 0 || id >= NUM_CLASSES)
        this.fail(`labels[${t}] = ${id} is not an event id`);
    }
    let first = START_ID;
    if (inputs) {
      this.report.withInputs++;
      first = inputs[0];
      if (!Number.isInteger(first) || first < 0 || first >= NUM_CLASSES) {
        this.fail(`inputs[0] = ${first} is not an event id`);
      }
      for (let t = 1; t < labels.length; t++) {
        if (inputs[t] !== labels[t - 1]) {
          this.fail(
            `inputs[${t}] = ${inputs[t]} but labels[${t - 1}] = ${labels[t - 1]}: inputs must be the labels shifted by one event`,
          );
        }
      }
    }
    if (this.used + labels.length > this.ids.length) {
      let size = this.ids.length * 2;
      while (size < this.used + labels.length) size *= 2;
      const grown = new Uint16Array(size);
      grown.set(this.ids.subarray(0, this.used));
      this.ids = grown;
    }
    for (let t = 0; t < labels.length; t++) this.ids[this.used + t] = labels[t];
    this.used += labels.length;
    this.offsets.push(this.used);
    this.first.push(first);
    this.records++;
  }

  finish(): ExampleSet {
    return new ExampleSet(
      this.ids.slice(0, this.used),
      Float64Array.from(this.offsets),
      Uint16Array.from(this.first),
      this.report,
    );
  }
}

/**
 * How training batches are drawn.
 * - `random`: Magenta's: consecutive examples of the shuffled stream, so a batch mixes short and long
 *   tracks (padded to its longest).
 * - `length`: the same stream, cut into pools of up to 64 batches; each pool is sorted by track length and
 *   cut into batches of neighbours, and the pool's batches come in a seeded random order. Every example
 *   is still seen once per epoch and each batch is still a token-mean, but a batch holds tracks of nearly
 *   one length, so almost nothing is padding and the model's packed rows stay full. What changes: which
 *   tracks share a batch (and so short tracks, whose batches have fewer tokens, weigh a little more per
 *   token), and the order within an epoch is shuffled per pool rather than per example.
 */
export type Batching = "random" | "length";
/** Every `Batching`. */
export const BATCHINGS: readonly Batching[] = ["random", "length"];
/** Batches per pool of the `length` batching (fewer when the set is smaller than this many batches). */
export const POOL_BATCHES = 64;

/**
 * The endless shuffled stream of training examples. `position` counts the examples handed out so
 * far; set it to resume (`step · batchSize`).
 */
export class TrainingBatches {
  position: number;
  private permEpoch = -1;
  private perm: Uint32Array = new Uint32Array(0);
  private pool = -1;
  private poolExamples: Uint32Array = new Uint32Array(0);
  private poolOrder: Uint32Array = new Uint32Array(0);

  constructor(
    readonly set: ExampleSet,
    readonly seed: number,
    position = 0,
    readonly batching: Batching = "random",
  ) {
    if (set.count === 0) throw new DatasetError("the training set has no examples");
    this.position = position;
  }

  /** Index (into the set) of example k of the stream. */
  exampleAt(k: number): number {
    const n = this.set.count;
    const epoch = Math.floor(k / n);
    if (epoch !== this.permEpoch) {
      this.perm = permutation(n, mixSeed(this.seed, epoch));
      this.permEpoch = epoch;
    }
    return this.perm[k - epoch * n];
  }

  nextBatch(batchSize: number): Batch {
    const indices = new Uint32Array(batchSize);
    if (this.batching === "length" && this.position % batchSize === 0) {
      const per = Math.max(1, Math.min(POOL_BATCHES, Math.floor(this.set.count / batchSize)));
      const size = per * batchSize;
      const pool = Math.floor(this.position / size);
      if (pool !== this.pool) {
        // The pool's examples, by length (ties in stream order), and its batches' order.
        const members = Array.from({ length: size }, (_, i) => this.exampleAt(pool * size + i));
        const sorted = Array.from(members.keys()).sort(
          (a, b) => this.set.length(members[a]) - this.set.length(members[b]) || a - b,
        );
        this.poolExamples = Uint32Array.from(sorted, (i) => members[i]);
        this.poolOrder = permutation(per, mixSeed(this.seed, pool, 7));
        this.pool = pool;
      }
      const q = this.poolOrder[(this.position - pool * size) / batchSize];
      indices.set(this.poolExamples.subarray(q * batchSize, (q + 1) * batchSize));
    } else {
      for (let b = 0; b < batchSize; b++) indices[b] = this.exampleAt(this.position + b);
    }
    this.position += batchSize;
    return this.set.makeBatch(indices);
  }
}

/**
 * Magenta's eval batch count: `(num_eval_examples or count) // batch_size`, an error when it is 0
 * ("num_batches must be positive").
 */
export function evalBatchCount(count: number, batchSize: number, numEvalExamples = 0): number {
  const examples = numEvalExamples > 0 ? numEvalExamples : count;
  const n = Math.floor(examples / batchSize);
  if (n <= 0) {
    throw new DatasetError(
      `no full eval batch: ${examples} eval example(s) with batch_size ${batchSize} makes ${n} batches ` +
        "(use a larger eval set, --num_eval_examples, or a smaller batch_size)",
    );
  }
  return n;
}

/**
 * The eval pass: examples in file order, wrapping around if `num_eval_examples` asks for more than
 * the file holds (Magenta's reader cycles through the file too).
 */
export class EvalBatches {
  private position = 0;
  readonly numBatches: number;

  constructor(
    readonly set: ExampleSet,
    readonly batchSize: number,
    numEvalExamples = 0,
  ) {
    this.numBatches = evalBatchCount(set.count, batchSize, numEvalExamples);
    if (set.count === 0) throw new DatasetError("the eval set has no examples");
  }

  *batches(): Generator<Batch> {
    for (let i = 0; i < this.numBatches; i++) {
      const indices = new Uint32Array(this.batchSize);
      for (let b = 0; b < this.batchSize; b++) indices[b] = (this.position + b) % this.set.count;
      this.position += this.batchSize;
      yield this.set.makeBatch(indices);
    }
    this.position = 0;
  }
}
