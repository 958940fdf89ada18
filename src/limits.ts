/**
 * The largest work polyrnn accepts, in one place: sizes are checked BEFORE anything is allocated or run,
 * and a request past a limit is refused with one line that names the limit (README, "Limits"). The
 * limits are far above every model and data set polyrnn ships or was measured with; they are there so
 * that a typo (`--num_steps=1000000000`) or a hostile file fails in a moment instead of exhausting memory.
 *
 *   checkModelSize([256, 256, 256], "--hparams");
 *   checkLimit("--num_steps", flags.num_steps, LIMITS.generateSteps);
 */
import { PolyrnnError } from "./errors.js";

/** A request past one of LIMITS. */
export class LimitError extends PolyrnnError {
  override name = "LimitError";
}

export const LIMITS = Object.freeze({
  /** Bytes of one input file read whole (MIDI, MusicXML, ABC, a primer, a file to plot or render). */
  inputFileBytes: 256 * 1024 * 1024,
  /** Bytes of a model file (bundle or checkpoint: weights and Adam's two moments at the largest model). */
  modelFileBytes: 1024 * 1024 * 1024,
  /** --threads of the WebAssembly kernels. */
  threads: 256,
  /** Units of one LSTM layer. */
  layerSize: 16384,
  /** LSTM layers. */
  layers: 16,
  /** Weights of a model, in floats (256 MiB; training keeps four copies: weights, gradients, Adam's two). */
  modelParameters: 64 * 1024 * 1024,
  /** Sequences in one training batch (--hparams batch_size). */
  batchSize: 4096,
  /** generate --num_steps: 16th-note steps of one output (100,000 = 3½ hours at 120 qpm). */
  generateSteps: 100_000,
  /** generate: sequences stepped together, num_outputs × beam_size × branch_factor. */
  generateSequences: 4096,
  /** generate: sequences stepped together × --num_steps, the size of what generation keeps in memory. */
  generateSequenceSteps: 10_000_000,
  /**
   * generate: RNN events sampled per output before giving up, per step asked for (a model that ends a
   * step once in 259 events, uniformly random, needs 259 on average).
   */
  eventsPerStep: 5000,
  /** Seconds of audio `render` writes (one hour). */
  renderSeconds: 3600,
});

const fmt = (n: number) => n.toLocaleString("en-US");

/** "is <value>, over the limit of <limit>" when value > limit, else undefined. */
export function overLimit(value: number, limit: number): string | undefined {
  return value > limit ? `is ${fmt(value)}, over the limit of ${fmt(limit)}` : undefined;
}

/** Refuses `value` above `limit`: "<what> is <value>, over the limit of <limit>; <hint>". */
export function checkLimit(what: string, value: number, limit: number, hint = ""): void {
  const problem = overLimit(value, limit);
  if (problem) throw new LimitError(`${what} ${problem}${hint ? `; ${hint}` : ""}`);
}

/** Weights of an LSTM with these layer sizes and the 259-class output layer (Magenta's shapes). */
export function modelParameters(layerSizes: readonly number[], classes = 259): number {
  let n = 0;
  let input = classes;
  for (const h of layerSizes) {
    n += (input + h) * 4 * h + 4 * h;
    input = h;
  }
  return n + input * classes + classes;
}

/** What is too large about a model with these layer sizes ("has 20 layers, over the limit of 16"), if anything. */
export function modelSizeProblem(layerSizes: readonly number[]): string | undefined {
  if (layerSizes.length > LIMITS.layers)
    return `has ${fmt(layerSizes.length)} layers, over the limit of ${fmt(LIMITS.layers)}`;
  const largest = Math.max(...layerSizes);
  if (largest > LIMITS.layerSize)
    return `has a layer of ${fmt(largest)} units, over the limit of ${fmt(LIMITS.layerSize)}`;
  const weights = modelParameters(layerSizes);
  if (weights > LIMITS.modelParameters)
    return `has ${fmt(weights)} weights, over the limit of ${fmt(LIMITS.modelParameters)}`;
  return undefined;
}

/**
 * The kernels could not hold `bytes` more (their memory is `capacityMiB` at most, or the system refused):
 * one line that says what to make smaller.
 */
export function kernelMemoryError(bytes: number, capacityMiB?: number): LimitError {
  const mib = Math.ceil(bytes / 2 ** 20);
  return new LimitError(
    `the model and its batches need ${fmt(mib)} MiB more memory than the kernels can hold` +
      `${capacityMiB === undefined ? "" : ` (limit ${fmt(capacityMiB)} MiB)`}; ` +
      "a smaller --hparams batch_size or rnn_layer_sizes (or shorter sequences) needs less",
  );
}
