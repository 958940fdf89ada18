/**
 * Contracts between the model (src/model/), the trainer (src/train/) and the generator (src/generate/).
 * Kept in one small file so each side can be built against it.
 */
import type { Kernels } from "../kernels/types.js";
import type { HParams } from "./hparams.js";

/** Magenta's polyphony hparams (spec §4.1): one table in hparams.ts defines them. */
export type { HParams };

/**
 * A padded batch, TIME-MAJOR: element (t, b) is at index t·batchSize + b. Padding positions hold -1 in
 * both `inputs` and `labels`. inputs[t] = event t, labels[t] = event t+1 (spec §1.1 encode()).
 */
export interface Batch {
  /** Sequences in the batch (B). */
  batchSize: number;
  /** Longest sequence in the batch (the padded length T). */
  length: number;
  /** T·B event ids (0 … 258) fed to the model, -1 at padding: event t of each sequence (START at t = 0). */
  inputs: Int32Array;
  /** T·B event ids (0 … 258) the model should predict, -1 at padding: event t+1 of each sequence. */
  labels: Int32Array;
  /** Real length of each sequence (B values, each ≤ `length`): its positions before the padding. */
  lengths: Int32Array;
}

/** How `PolyphonyModel.forward` runs a batch. */
export interface ForwardOptions {
  /** Apply output dropout (Magenta: on in training AND eval, off in generation). */
  dropout: boolean;
  /** Compute gradients into the gradient buffers (training). */
  backward: boolean;
  /** Seed of this batch's dropout masks (so a step can be replayed exactly). */
  seed: number;
  /**
   * Compute through the padding, every sequence to the batch's length, as Magenta does (default: false,
   * nothing is computed past a sequence's end). The results on real positions are the same; this exists
   * to measure what padding costs.
   */
  padded?: boolean;
}

/** Per-position results, time-major like the batch; padding positions have label -1. */
export interface ForwardResult {
  /** Σ cross-entropy over real positions. */
  lossSum: number;
  /** Number of real positions. */
  tokens: number;
  /** Per-position loss (0 at padding). A view or copy the caller may read until the next call. */
  losses: Float32Array;
  /** Per-position argmax class (-1 at padding). */
  preds: Int32Array;
}

/** A named float32 tensor (Magenta's variable names, TensorFlow shapes). */
export interface NamedTensor {
  /** Magenta's TensorFlow variable name, e.g. `rnn/multi_rnn_cell/cell_0/basic_lstm_cell/kernel`. */
  name: string;
  /** TensorFlow's shape, e.g. `[input + units, 4 × units]` for an LSTM kernel. */
  shape: number[];
  /** The values, row-major (the last dimension varies fastest); as many as the shape's product. */
  data: Float32Array;
}

/** Training state besides the weights: Adam moments (`<name>/Adam`, `<name>/Adam_1`, TF's slot names) and step. */
export interface OptimizerState {
  /** Adam steps taken (TensorFlow's global step): the model's step when it was exported. */
  step: number;
  /** Adam's first and second moments of each weight, shaped like it: `<name>/Adam` and `<name>/Adam_1`. */
  tensors: NamedTensor[];
}

/**
 * Magenta's polyphony LSTM (spec §4.2–§4.4) on a set of kernels: runs batches forward and backward and
 * takes optimisation steps. `Trainer.model` is one; `trainStep` runs one step of it.
 */
export interface PolyphonyModel {
  /** The hparams the model was built with (its layer sizes, dropout, clipping and learning rate). */
  readonly hparams: HParams;
  /** The kernels that hold the model's weights and run it; they stay the caller's after `dispose`. */
  readonly kernels: Kernels;
  /**
   * Runs the batch (loss averaged over real positions, as Magenta's token-mean); with `backward`, leaves
   * the gradients in the model's gradient buffers.
   */
  forward(batch: Batch, opts: ForwardOptions): ForwardResult;
  /** Per-tensor clipping at clipNorm, then one Adam step (TensorFlow defaults); increments the step. */
  applyGradients(): void;
  /** Optimisation steps taken so far (TensorFlow's global step; a checkpoint's step). */
  readonly step: number;
  /** Weights with Magenta's names and TensorFlow shapes (spec §4.7): copies. */
  exportWeights(): NamedTensor[];
  /** Loads weights by name; throws PolyrnnError naming the first missing or mis-shaped tensor. */
  importWeights(tensors: NamedTensor[]): void;
  /** The Adam moments of every weight and the step (copies), as a checkpoint records them. */
  exportOptimizer(): OptimizerState;
  /**
   * Loads Adam moments by name and sets the step (resuming a run); throws PolyrnnError naming the first
   * missing or mis-shaped tensor, or a step that is not a whole number ≥ 0.
   */
  importOptimizer(state: OptimizerState): void;
  /** Frees the model's memory in its kernels; the model cannot run afterwards (calling it twice is harmless). */
  dispose(): void;
}
