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
  batchSize: number;
  /** Longest sequence in the batch (the padded length T). */
  length: number;
  inputs: Int32Array;
  labels: Int32Array;
  /** Real length of each sequence. */
  lengths: Int32Array;
}

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
  shape: number[];
  data: Float32Array;
}

/** Training state besides the weights: Adam moments (`<name>/Adam`, `<name>/Adam_1`, TF's slot names) and step. */
export interface OptimizerState {
  step: number;
  tensors: NamedTensor[];
}

export interface PolyphonyModel {
  readonly hparams: HParams;
  readonly kernels: Kernels;
  /**
   * Runs the batch (loss averaged over real positions, as Magenta's token-mean); with `backward`, leaves
   * the gradients in the model's gradient buffers.
   */
  forward(batch: Batch, opts: ForwardOptions): ForwardResult;
  /** Per-tensor clipping at clipNorm, then one Adam step (TensorFlow defaults); increments the step. */
  applyGradients(): void;
  readonly step: number;
  /** Weights with Magenta's names and TensorFlow shapes (spec §4.7): copies. */
  exportWeights(): NamedTensor[];
  /** Loads weights by name; throws PolyrnnError naming the first missing or mis-shaped tensor. */
  importWeights(tensors: NamedTensor[]): void;
  exportOptimizer(): OptimizerState;
  importOptimizer(state: OptimizerState): void;
  dispose(): void;
}
