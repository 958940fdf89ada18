/**
 * Every fed position's next-event log-probabilities from a model, as the sampler computes them (its
 * `logProbs` on the model's heap): for tests that compare a model's probabilities with another's.
 */
import type { EventId } from "../../src/events/codec.js";
import type { EventRnn, RnnState } from "../../src/generate/rnn.js";
import { createSampler } from "../../src/generate/sampler.js";

/** Per sequence, inputs[i].length × numClasses log-probabilities (row-major), and the states after. */
export function logProbsOf(
  rnn: EventRnn,
  states: readonly RnnState[],
  inputs: readonly (readonly EventId[])[],
  temperature = 1,
): { logProbs: Float32Array[]; states: RnnState[] } {
  const V = rnn.numClasses;
  const sampler = createSampler({ temperature });
  const logProbs = inputs.map((ids) => new Float32Array(ids.length * V));
  const after = rnn.run(states, inputs, (p, logits) => {
    sampler.logProbs(rnn.kernels, inputs.length, V, logits);
    const f = rnn.kernels.f32();
    inputs.forEach((ids, i) => {
      if (p < ids.length) logProbs[i].set(f.subarray(logits + i * V, logits + (i + 1) * V), p * V);
    });
  });
  return { logProbs, states: after };
}
