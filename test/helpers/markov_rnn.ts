/**
 * A tiny "model" whose probabilities are known: the next-event distribution depends only on the last fed
 * event, through a fixed table. The state is that last event. For testing the generator's logic.
 */
import type { EventRnn, RnnState } from "../../src/generate/rnn.js";
import { logSoftmax } from "../../src/generate/rnn.js";

export const CLASSES = 259;

export interface MarkovRnn extends EventRnn {
  /** log p(next | last) at temperature 1. */
  logProb(last: number, next: number, temperature?: number): number;
  calls: number;
}

/** table(last) → logits over 259 classes. */
export function markovRnn(table: (last: number) => Float32Array): MarkovRnn {
  const cache = new Map<string, Float32Array>();
  const rowFor = (last: number, temperature: number) => {
    const key = `${last}:${temperature}`;
    let row = cache.get(key);
    if (!row) {
      row = new Float32Array(CLASSES);
      logSoftmax(table(last), temperature, row);
      cache.set(key, row);
    }
    return row;
  };
  const rnn: MarkovRnn = {
    numClasses: CLASSES,
    calls: 0,
    zeroState: (): RnnState => -1,
    run(states, inputs, temperature) {
      rnn.calls++;
      const logProbs = inputs.map((ids) => {
        const out = new Float32Array(ids.length * CLASSES);
        for (const [r, id] of ids.entries()) out.set(rowFor(id, temperature), r * CLASSES);
        return out;
      });
      return { logProbs, states: inputs.map((ids, i) => (ids.length > 0 ? ids[ids.length - 1] : states[i])) };
    },
    logProb: (last, next, temperature = 1) => rowFor(last, temperature)[next],
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
