/**
 * What generation needs from a model: feed events, get the logits of the next event, carry state. Kept
 * abstract so that the generator's logic (beam search, injection) is tested with tiny models whose
 * probabilities are known, and runs unchanged on the LSTM. The model gives logits only: temperature and
 * the draw are the sampler's (sampler.ts).
 */
import type { EventId } from "../events/codec.js";
import type { Kernels } from "../kernels/types.js";

/** An RNN state for one sequence. Treated as immutable: `run` returns new states, so beams can share. */
export type RnnState = unknown;

/**
 * Called after each position p of a `run`: `logits` is the heap offset of inputs.length × numClasses
 * floats, row i the logits of sequence i's next event after inputs[i][p] (rows of sequences fed fewer than
 * p + 1 events mean nothing). The callback may overwrite the rows, and allocate in the heap if it releases
 * what it allocated before it returns.
 */
export type OnLogits = (position: number, logits: number) => void;

export interface EventRnn {
  readonly numClasses: number;
  /** The kernels whose heap holds the logits `run` hands out. */
  readonly kernels: Kernels;
  zeroState(): RnnState;
  /**
   * Feeds sequence i the events `inputs[i]` (one or more each; counts may differ between sequences),
   * starting from `states[i]`, all sequences one position at a time, calling `onLogits` after each
   * position. Returns each sequence's state after its last event.
   */
  run(states: readonly RnnState[], inputs: readonly (readonly EventId[])[], onLogits: OnLogits): RnnState[];
}
