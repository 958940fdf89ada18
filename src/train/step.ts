/**
 * The training step of Magenta's polyphony_rnn_train (spec §4.6), pure: one batch forward with dropout
 * and backward, a finite-loss check (Magenta's NanTensorHook), then per-tensor clipping and Adam in the
 * model. `trainStep` is the step on a given batch (the benchmark's); `Trainer` draws the batches of a run
 * from its examples and keeps the state a checkpoint records. `polyrnn train`, the library's `trainModel`,
 * the Studio's training worker and `bench:train` all run this step, through `trainLoop` (loop.ts) or
 * directly.
 *
 *   const t = new Trainer(kernels, parseHParams("batch_size=4,rnn_layer_sizes=[16]"), tracks, 1);
 *   for (let i = 0; i < 100; i++) console.log(t.step().loss);
 *   const bytes = t.bundle("my model");   // loads with loadBundle, or polyrnn generate --bundle_file
 *
 * Batch order and dropout masks are functions of (seed, step): batches come from `TrainingBatches` seeded
 * with mixSeed(seed, 1) and started at step × batch_size, step s's masks are seeded with
 * mixSeed(seed, s, 2). So a run resumed from a checkpoint continues exactly as the uninterrupted one.
 */
import { BATCHINGS, type Batching, ExampleSet, mixSeed, TrainingBatches } from "../dataset/batches.js";
import { PolyrnnError } from "../errors.js";
import { STEPS_PER_QUARTER } from "../events/codec.js";
import type { Kernels } from "../kernels/types.js";
import type { Batch, ForwardResult, NamedTensor, PolyphonyModel } from "../model/api.js";
import { encodeBundle } from "../model/bundle.js";
import type { HParams } from "../model/hparams.js";
import { createPolyphonyModel } from "../model/lstm.js";
import { trackToExample } from "../pipeline/dataset.js";
import { type Checkpoint, decodeCheckpoint, encodeCheckpoint, type SaveInput } from "./checkpoint_format.js";
import { type BatchMetrics, batchMetrics } from "./metrics.js";

/** Thrown when training cannot go on. */
export class TrainingError extends PolyrnnError {
  override name = "TrainingError";
}

/** A step's loss was NaN or infinite: the weights are left as they were before the step. */
export class DivergedError extends TrainingError {
  override name = "DivergedError";
  constructor(
    /** The step's loss: NaN, or ±Infinity. */
    readonly loss: number,
    /** The step that diverged (the model's step + 1). */
    readonly step: number,
    /** What to try, in the caller's words. */
    hint = "try a lower learning rate",
    /** The last checkpoint saved, when the caller saves them ("none" when none was). */
    lastCheckpoint?: string,
  ) {
    super(
      `loss is ${loss} at step ${step}: training diverged (${hint})` +
        (lastCheckpoint === undefined ? "" : `. Stopped; the last good checkpoint is ${lastCheckpoint}.`),
    );
  }
}

/**
 * How batches are drawn and computed: `random` (Magenta's random batches) or `length` (batches of tracks
 * of nearly one length), nothing computed past a track's end; `padded` is `random` computed through the
 * padding, as Magenta does.
 */
export type TrainBatching = Batching | "padded";
/** Every `TrainBatching`, for flag checks. */
export const TRAIN_BATCHINGS: readonly TrainBatching[] = [...BATCHINGS, "padded"];

/**
 * One optimisation step on `batch`: forward with dropout (masks seeded by the model's step) and backward,
 * then clipping and Adam. Throws DivergedError, without touching the weights, when the loss is not finite.
 */
export function trainStep(
  model: PolyphonyModel,
  batch: Batch,
  opts: { seed: number; padded?: boolean },
): ForwardResult {
  const r = model.forward(batch, {
    dropout: true,
    backward: true,
    seed: mixSeed(opts.seed, model.step, 2),
    padded: opts.padded,
  });
  if (!Number.isFinite(r.lossSum)) throw new DivergedError(r.lossSum, model.step + 1);
  model.applyGradients();
  return r;
}

/**
 * One training step's metrics, on its batch: Magenta's train metrics (metrics.ts; `steps` there is the
 * batch's STEP_END count) and the model's step after it.
 */
export interface StepMetrics extends BatchMetrics {
  /** The model's step after this one: 1 for the first step of a new run. */
  step: number;
}

/** Options of a `Trainer`. */
export interface TrainerOptions {
  /**
   * Resume a run (bytes of `Trainer.checkpoint()` or of a `polyrnn train` checkpoint file, or a decoded
   * checkpoint): its weights, Adam state and step, and the batch stream where it was.
   */
  checkpoint?: Uint8Array | Checkpoint;
  /** Start from these weights (a warm start) with fresh Adam state at step 0. */
  initialWeights?: NamedTensor[];
  /** Default `random`. */
  batching?: TrainBatching;
  /** Steps per quarter note of the training music, recorded in checkpoints and bundles (default: the checkpoint's, else 4). */
  stepsPerQuarter?: number;
  /**
   * Bytes of one batch's activations kept for the backward pass (default 256 MiB); a batch that needs more
   * is cut into chunks, and all but the last chunk's forward pass is computed twice. The results do not
   * depend on it beyond float rounding of the summed weight gradients.
   */
  activationBytes?: number;
}

/** A model in training over a set of examples: the step, and the state checkpoints and bundles record. */
export class Trainer {
  /**
   * The model in training, in the caller's kernels: its weights and step change with each `step()`
   * (evaluate it between steps; `dispose()` frees it).
   */
  readonly model: PolyphonyModel;
  /** Steps per quarter note of the training music (Magenta's 4), recorded in checkpoints and bundles. */
  readonly stepsPerQuarter: number;
  /** How batches are drawn and computed (`TrainerOptions.batching`, default `random`). */
  readonly batching: TrainBatching;
  private readonly batches: TrainingBatches;

  /**
   * `data`: event-id tracks (`buildDataset(…).training`, START …) or a loaded ExampleSet. Throws when
   * there is no example, or when the checkpoint does not fit the hparams.
   */
  constructor(
    kernels: Kernels,
    /** The model's and the run's hparams (layer sizes, batch size, dropout, clipping, learning rate). */
    readonly hparams: HParams,
    data: readonly number[][] | ExampleSet,
    /** The run's seed: batch order and dropout masks are functions of it and the step. */
    readonly seed: number,
    opts: TrainerOptions = {},
  ) {
    const examples =
      data instanceof ExampleSet
        ? data
        : ExampleSet.fromIds(
            data.map((ids) => trackToExample(ids, false)),
            "dropped files",
          );
    if (examples.count === 0) {
      throw new TrainingError(
        data instanceof ExampleSet
          ? "no training examples"
          : "no training examples: no track of the dropped files passed the dataset pipeline",
      );
    }
    const ckpt = opts.checkpoint instanceof Uint8Array ? decodeCheckpoint(opts.checkpoint) : opts.checkpoint;
    const spq = opts.stepsPerQuarter ?? ckpt?.stepsPerQuarter ?? STEPS_PER_QUARTER;
    if (ckpt && ckpt.stepsPerQuarter !== spq) {
      throw new TrainingError(
        `the checkpoint was trained on music at ${ckpt.stepsPerQuarter} steps per quarter note, this run has ${spq}`,
      );
    }
    this.stepsPerQuarter = spq;
    this.batching = opts.batching ?? "random";
    // The heap is grown once, for the largest batch the data can give, instead of batch by batch.
    this.model = createPolyphonyModel(kernels, hparams, {
      seed,
      maxLengths: examples.longestLengths(hparams.batchSize),
      activationBytes: opts.activationBytes,
    });
    try {
      if (ckpt) {
        this.model.importWeights(ckpt.weights);
        if (ckpt.optimizer && ckpt.optimizer.tensors.length > 0) this.model.importOptimizer(ckpt.optimizer);
      } else if (opts.initialWeights) {
        this.model.importWeights(opts.initialWeights);
      }
    } catch (e) {
      this.model.dispose();
      throw e;
    }
    this.batches = new TrainingBatches(
      examples,
      mixSeed(seed, 1),
      this.model.step * hparams.batchSize,
      this.batching === "padded" ? "random" : this.batching,
    );
  }

  /** The model's step: optimisation steps taken, those of the checkpoint it resumed from included. */
  get stepCount(): number {
    return this.model.step;
  }

  /** One optimisation step on the next batch; throws DivergedError when the loss is not finite. */
  step(): StepMetrics {
    const batch = this.batches.nextBatch(this.hparams.batchSize);
    const r = trainStep(this.model, batch, { seed: this.seed, padded: this.batching === "padded" });
    return { ...batchMetrics(batch.labels, r.preds, r.losses), step: this.model.step };
  }

  /** The current weights (copies), with Magenta's names and TensorFlow shapes. */
  weights(): NamedTensor[] {
    return this.model.exportWeights();
  }

  /** What a checkpoint of the current state holds: weights, Adam state, step, hparams, steps per quarter, seed. */
  snapshot(): SaveInput {
    return {
      step: this.model.step,
      weights: this.weights(),
      optimizer: this.model.exportOptimizer(),
      hparams: this.hparams,
      stepsPerQuarter: this.stepsPerQuarter,
      seed: this.seed,
    };
  }

  /** A training checkpoint's bytes: resume with `new Trainer(…, { checkpoint: bytes })`. */
  checkpoint(): Uint8Array {
    return encodeCheckpoint(this.snapshot());
  }

  /** The model as a generator bundle (src/model/bundle.ts), loadable by `polyrnn generate --bundle_file`. */
  bundle(description: string): Uint8Array {
    return encodeBundle({
      weights: this.weights(),
      hparams: this.hparams,
      step: this.model.step,
      stepsPerQuarter: this.stepsPerQuarter,
      description,
    });
  }

  /** Frees the model's memory in the kernels (which stay the caller's); the trainer cannot step afterwards. */
  dispose(): void {
    this.model.dispose();
  }
}
