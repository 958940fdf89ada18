/**
 * What generation needs from a model: feed events, get next-event distributions, carry state. Kept
 * abstract so that the generator's logic (sampling, beam search, injection) is tested with tiny models
 * whose probabilities are known, and runs unchanged on the LSTM.
 */
import type { EventId } from "../events/codec.js";

/** An RNN state for one sequence. Treated as immutable: `run` returns new states, so beams can share. */
export type RnnState = unknown;

export interface EventRnn {
  readonly numClasses: number;
  zeroState(): RnnState;
  /**
   * Feeds sequence i the events `inputs[i]` (one or more each; counts may differ between sequences),
   * starting from `states[i]`. Returns, for each sequence, the log-probabilities of the next event at every
   * fed position (a Float32Array of inputs[i].length × numClasses, row-major) with the logits divided by
   * `temperature` first (temperature 0 is treated as 1 here; the sampler then takes the argmax), and the
   * state after the last fed event.
   */
  run(
    states: readonly RnnState[],
    inputs: readonly (readonly EventId[])[],
    temperature: number,
  ): { logProbs: Float32Array[]; states: RnnState[] };
}

/** log(softmax(logits / temperature)) of one row, in place on `out` (numerically stable). */
export function logSoftmax(
  logits: ArrayLike<number>,
  temperature: number,
  out: Float32Array,
  offset = 0,
): void {
  const n = Math.min(out.length - offset, logits.length);
  const t = temperature > 0 ? temperature : 1;
  let max = Number.NEGATIVE_INFINITY;
  for (let i = 0; i < n; i++) max = Math.max(max, logits[i] / t);
  let sum = 0;
  for (let i = 0; i < n; i++) sum += Math.exp(logits[i] / t - max);
  const logSum = Math.log(sum) + max;
  for (let i = 0; i < n; i++) out[offset + i] = logits[i] / t - logSum;
}
