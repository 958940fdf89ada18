/**
 * A tiny "model" whose probabilities are known: the logits of the next event depend only on the last fed
 * event, through a fixed table. The state is that last event. For testing the generator's logic; its
 * logits are handed out in a reference-kernels heap, as a model's are.
 */
import type { EventRnn, RnnState } from "../../src/generate/rnn.js";
import { createReferenceKernels } from "../../src/kernels/reference.js";

export const CLASSES = 259;

export interface MarkovRnn extends EventRnn {
  /** log p(next | last) at this temperature (default 1), in float64: log softmax(table(last) / t). */
  logProb(last: number, next: number, temperature?: number): number;
  calls: number;
}

/** table(last) → logits over 259 classes. */
export function markovRnn(table: (last: number) => Float32Array): MarkovRnn {
  const kernels = createReferenceKernels();
  const rnn: MarkovRnn = {
    numClasses: CLASSES,
    kernels,
    calls: 0,
    zeroState: (): RnnState => -1,
    run(states, inputs, onLogits) {
      rnn.calls++;
      const mark = kernels.mark();
      const logits = kernels.alloc(inputs.length * CLASSES);
      const longest = Math.max(...inputs.map((ids) => ids.length));
      for (let p = 0; p < longest; p++) {
        inputs.forEach((ids, r) => {
          if (p < ids.length) kernels.f32().set(table(ids[p]), logits + r * CLASSES);
        });
        onLogits(p, logits);
      }
      kernels.release(mark);
      return inputs.map((ids, i) => (ids.length > 0 ? ids[ids.length - 1] : states[i]));
    },
    logProb(last, next, temperature = 1) {
      const x = Array.from(table(last), (v) => v / temperature);
      const max = Math.max(...x);
      const logSum = max + Math.log(x.reduce((s, v) => s + Math.exp(v - max), 0));
      return x[next] - logSum;
    },
  };
  return rnn;
}

/**
 * A plausible polyphonic chain: after STEP_END usually a note or another STEP_END; after a note usually
 * STEP_END; pitches 60..72 only. Deterministic logits, different per last event.
 */
export function toyTable(last: number): Float32Array {
  const logits = new Float32Array(CLASSES).fill(-30);
  logits[2] = last === 2 ? 0.5 : 1.5; // STEP_END
  for (let p = 60; p <= 72; p++) {
    logits[3 + p] = -1 + ((p * 7 + last * 3) % 11) / 5; // NEW_NOTE p
    logits[131 + p] = last === 3 + p || last === 131 + p ? 1 : -4; // CONTINUED_NOTE p after p
  }
  return logits;
}
