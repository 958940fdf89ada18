/**
 * Training in memory, without a file system, for Node and the browser (the library's training API, and
 * the Studio's): files' bytes → NoteSequences (convertFiles) → the dataset pipeline of `polyrnn dataset`
 * (buildDataset) → the training step of `polyrnn train` (Trainer, or trainModel's loop with progress,
 * stop and checkpoint callbacks) → bundle bytes. Pure: kernels and bytes in, metrics and bytes out.
 *
 *   const { sequences } = convertFiles(files, "my_midi");
 *   const data = buildDataset(sequences, { ...DEFAULT_DATASET_OPTIONS, evalRatio: 0 });
 *   const t = new Trainer(kernels, parseHParams("batch_size=4,rnn_layer_sizes=[16]"), data.training, 1);
 *   for (let i = 0; i < 100; i++) console.log(t.step().loss);
 *   const bytes = t.bundle("my model");   // loads with loadBundle, or polyrnn generate --bundle_file
 *
 * One step is exactly src/train/trainer.ts's: the same batch stream (TrainingBatches, seeded by
 * mixSeed(seed, 1)), the same dropout seeds (mixSeed(seed, step, 2)), clipping and Adam in the model.
 */
import { ExampleSet, mixSeed, TrainingBatches } from "../dataset/batches.js";
import { PolyrnnError } from "../errors.js";
import type { Kernels } from "../kernels/types.js";
import type { HParams, NamedTensor } from "../model/api.js";
import { encodeBundle } from "../model/bundle.js";
import { formatHParams, hparamsToJson } from "../model/hparams.js";
import { createPolyphonyModel, type LstmModel } from "../model/lstm.js";
import type { NoteSequence } from "../notesequence.js";
import {
  choosePartition,
  type DatasetOptions,
  processNoteSequence,
  trackToExample,
} from "../pipeline/dataset.js";
import type { Statistics } from "../pipeline/extract.js";
import { type Checkpoint, decodeCheckpoint, encodeCheckpoint, META } from "./checkpoint_format.js";
import { batchMetrics } from "./metrics.js";

/** The tracks of `buildDataset`, as event ids, with the pipeline's statistics. */
export interface TrainingDataset {
  /** Event ids of every training track (START … END). */
  training: number[][];
  eval: number[][];
  /** Magenta's statistics, as `polyrnn dataset` prints them. */
  stats: Statistics;
  warnings: string[];
  inputNotes: number;
  keptNotes: number;
}

/**
 * `polyrnn dataset` over NoteSequences in memory (processNoteSequence per input, Magenta's partition). */
export function buildDataset(sequences: readonly NoteSequence[], opts: DatasetOptions): TrainingDataset {
  const data: TrainingDataset = {
    training: [],
    eval: [],
    stats: {},
    warnings: [],
    inputNotes: 0,
    keptNotes: 0,
  };
  for (const ns of sequences) {
    const mode = opts.evalRatio > 0 ? choosePartition(ns, opts.evalRatio, opts.seed) : "training";
    const p = processNoteSequence(ns, mode, opts, data.stats);
    data.inputNotes += p.inputNotes;
    data.keptNotes += p.keptNotes;
    data.warnings.push(...p.warnings);
    (mode === "eval" ? data.eval : data.training).push(...p.tracks);
  }
  return data;
}

/** One training step's metrics (on its batch). */
export interface StepMetrics {
  step: number;
  loss: number;
  perplexity: number;
  accuracy: number;
  tokens: number;
}

/**
 * A model in training over in-memory tracks. `checkpoint` (bytes from `checkpoint()`, or a decoded
 * checkpoint) resumes a run: its weights, Adam state and step, and the batch stream where it was.
 */
export class Trainer {
  readonly model: LstmModel;
  private readonly batches: TrainingBatches;
  readonly examples: ExampleSet;

  constructor(
    kernels: Kernels,
    readonly hparams: HParams,
    tracks: readonly number[][],
    readonly seed: number,
    checkpoint?: Uint8Array | Checkpoint,
  ) {
    this.examples = ExampleSet.fromIds(
      tracks.map((ids) => trackToExample(ids, false)),
      "dropped files",
    );
    if (this.examples.count === 0) {
      throw new PolyrnnError(
        "no training examples: no track of the dropped files passed the dataset pipeline",
      );
    }
    let longest = 0;
    for (let i = 0; i < this.examples.count; i++) longest = Math.max(longest, this.examples.length(i));
    this.model = createPolyphonyModel(kernels, hparams, { seed, maxLength: longest });
    if (checkpoint) {
      const ckpt = checkpoint instanceof Uint8Array ? decodeCheckpoint(checkpoint) : checkpoint;
      this.model.importWeights(ckpt.weights);
      if (ckpt.optimizer && ckpt.optimizer.tensors.length > 0) this.model.importOptimizer(ckpt.optimizer);
    }
    this.batches = new TrainingBatches(this.examples, mixSeed(seed, 1), this.model.step * hparams.batchSize);
  }

  get stepCount(): number {
    return this.model.step;
  }

  /** One optimisation step; throws when the loss is not finite (the weights are left as they were). */
  step(): StepMetrics {
    const m = this.model;
    const batch = this.batches.nextBatch(this.hparams.batchSize);
    const r = m.forward(batch, { dropout: true, backward: true, seed: mixSeed(this.seed, m.step, 2) });
    if (!Number.isFinite(r.lossSum)) {
      throw new PolyrnnError(
        `loss is ${r.lossSum} at step ${m.step + 1}: training diverged (try a lower learning rate)`,
      );
    }
    m.applyGradients();
    const metrics = batchMetrics(batch.labels, r.preds, r.losses);
    return {
      step: m.step,
      loss: metrics.loss,
      perplexity: metrics.perplexity,
      accuracy: metrics.accuracy,
      tokens: r.tokens,
    };
  }

  weights(): NamedTensor[] {
    return this.model.exportWeights();
  }

  /** The model as a generator bundle (src/model/bundle.ts), loadable by `polyrnn generate --bundle_file`. */
  bundle(description: string): Uint8Array {
    return encodeBundle({
      weights: this.weights(),
      hparams: this.hparams,
      step: this.model.step,
      description,
    });
  }

  /** A training checkpoint's bytes (weights, Adam state, step, hparams, seed): resume with `new Trainer(…, bytes)`. */
  checkpoint(): Uint8Array {
    return encodeCheckpoint({
      step: this.model.step,
      weights: this.weights(),
      optimizer: this.model.exportOptimizer(),
      metadata: {
        [META.hparams]: formatHParams(this.hparams),
        [META.hparamsJson]: hparamsToJson(this.hparams),
        [META.seed]: String(this.seed),
      },
    });
  }

  dispose(): void {
    this.model.dispose();
  }
}

/** Options of `trainModel`. */
export interface TrainModelOptions {
  kernels: Kernels;
  hparams: HParams;
  /** Training tracks (`buildDataset(…).training`). */
  tracks: readonly number[][];
  /** Train until the model's step reaches this. */
  numSteps: number;
  /** Batch order and dropout (default 1). */
  seed?: number;
  /** Resume from a checkpoint (bytes of `Trainer.checkpoint()` or of a `polyrnn train` checkpoint file). */
  checkpoint?: Uint8Array;
  /** Called after each step. */
  onStep?: (metrics: StepMetrics) => void;
  /** Stops after the current step when aborted (the result says `stopped`). */
  signal?: AbortSignal;
  /** Calls `onCheckpoint` every this many steps and at the end (default: only at the end). */
  checkpointEverySteps?: number;
  /** Receives checkpoint bytes (awaited: training waits while it saves). */
  onCheckpoint?: (bytes: Uint8Array, step: number) => void | Promise<void>;
  /** Bundle description (default "trained with polyrnn"). */
  description?: string;
  /**
   * Awaited between steps (default: a zero-delay yield), so that a page or an event loop stays
   * responsive and an abort is seen.
   */
  yieldEvery?: () => Promise<void>;
}

/** What `trainModel` returns. */
export interface TrainModelResult {
  /** The model as bundle bytes (loadBundle). */
  bundle: Uint8Array;
  step: number;
  /** Whether the signal stopped training before numSteps. */
  stopped: boolean;
  /** The last step's metrics (undefined when no step ran). */
  last?: StepMetrics;
}

/**
 * The training loop of `polyrnn train`, in memory: steps until `numSteps` (or the signal), reporting
 * each step and handing out checkpoints; returns the bundle. The kernels stay the caller's.
 *
 *   const r = await trainModel({ kernels, hparams, tracks: data.training, numSteps: 200,
 *     onStep: (m) => console.log(m.step, m.loss), signal: controller.signal });
 *   const bundle = loadBundle(r.bundle);
 */
export async function trainModel(opts: TrainModelOptions): Promise<TrainModelResult> {
  const t = new Trainer(opts.kernels, opts.hparams, opts.tracks, opts.seed ?? 1, opts.checkpoint);
  const pause = opts.yieldEvery ?? (() => new Promise<void>((resolve) => setTimeout(resolve, 0)));
  let last: StepMetrics | undefined;
  let savedStep = -1;
  const save = async () => {
    if (opts.onCheckpoint && savedStep !== t.stepCount) {
      savedStep = t.stepCount;
      await opts.onCheckpoint(t.checkpoint(), t.stepCount);
    }
  };
  try {
    while (t.stepCount < opts.numSteps && !opts.signal?.aborted) {
      last = t.step();
      opts.onStep?.(last);
      const every = opts.checkpointEverySteps ?? 0;
      if (every > 0 && t.stepCount % every === 0) await save();
      await pause();
    }
    await save();
    return {
      bundle: t.bundle(opts.description ?? "trained with polyrnn"),
      step: t.stepCount,
      stopped: t.stepCount < opts.numSteps,
      ...(last ? { last } : {}),
    };
  } finally {
    t.dispose();
  }
}
