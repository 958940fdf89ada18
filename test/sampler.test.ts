/**
 * The one sampler (src/generate/sampler.ts): temperature, greedy and the draw applied to a model's logits,
 * with the WebAssembly kernels as the fast path of the reference kernels' definition.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { EventType, eventToId } from "../src/events/codec.js";
import { createLstmRnn } from "../src/generate/lstm_rnn.js";
import { generatePolyphony } from "../src/generate/polyphony.js";
import { primerFromMelody } from "../src/generate/primer.js";
import { createRng, type Rng } from "../src/generate/rng.js";
import { createSampler } from "../src/generate/sampler.js";
import { createReferenceKernels } from "../src/kernels/reference.js";
import type { Kernels } from "../src/kernels/types.js";
import { createWasmKernels } from "../src/kernels/wasm_node.js";
import { createPolyphonyModel } from "../src/model/lstm.js";

let wasm: Kernels;
beforeAll(async () => {
  wasm = await createWasmKernels({ threads: 1 });
});
afterAll(() => wasm?.dispose());

/** Samples `rows` rows of logits on kernels k: the classes picked, and the log-probabilities. */
function sampleOn(k: Kernels, logits: Float32Array, rows: number, temperature: number, rngs: Rng[]) {
  const classes = logits.length / rows;
  const sampler = createSampler({ temperature });
  const mark = k.mark();
  try {
    const at = k.alloc(logits.length);
    k.f32().set(logits, at);
    const draws = sampler.draws(rngs);
    sampler.logProbs(k, rows, classes, at);
    const picked = sampler.pick(k, rows, classes, at, draws);
    return { picked, logProbs: k.f32().slice(at, at + logits.length) };
  } finally {
    k.release(mark);
  }
}

/** A stream that returns the given uniforms in turn, and counts its draws. */
function fixedRng(us: number[]): Rng & { drawn: number } {
  const rng = {
    drawn: 0,
    next: () => us[rng.drawn++ % us.length],
  };
  return rng;
}

describe("the sampler", () => {
  it("draws class k when u falls in its share of the cumulative probability, on both kernels", () => {
    // p = 0.25, 0.5, 0.25 (logits ln p); u = draw / 2³².
    const logits = Float32Array.from([0.25, 0.5, 0.25], Math.log);
    for (const k of [createReferenceKernels(), wasm]) {
      const pick = (u: number) => sampleOn(k, logits, 1, 1, [fixedRng([u])]).picked[0];
      expect([0, 0.2, 0.26, 0.7, 0.76, 0.999].map(pick), k.name).toEqual([0, 0, 1, 1, 2, 2]);
    }
  });

  it("temperature 0 takes the first likeliest class and draws nothing; other temperatures divide the logits", () => {
    const logits = Float32Array.from([1, 3, -2, 3, 0.5]);
    for (const k of [createReferenceKernels(), wasm]) {
      const rng = fixedRng([0.9]);
      const greedy = sampleOn(k, logits, 1, 0, [rng]);
      expect(greedy.picked).toEqual([1]);
      expect(rng.drawn).toBe(0);
      // Scores stay log-likelihoods at temperature 0: log softmax of the logits as they are.
      const at1 = sampleOn(k, logits, 1, 1, [rng]);
      expect(Array.from(greedy.logProbs)).toEqual(Array.from(at1.logProbs));
      const t = 0.4;
      const hot = sampleOn(k, logits, 1, t, [rng]);
      const z = Array.from(logits, (x) => x / t);
      const logSum = Math.log(z.reduce((s, x) => s + Math.exp(x), 0));
      for (let j = 0; j < logits.length; j++) expect(hot.logProbs[j]).toBeCloseTo(z[j] - logSum, 5);
    }
  });

  it("refuses a negative temperature, naming the flag", () => {
    expect(() => createSampler({ temperature: -0.5 })).toThrow(
      "--temperature is -0.5: it must be a number of 0 or more",
    );
  });

  it("the WebAssembly sampler draws what the reference sampler draws, for the same seed", () => {
    const rows = 16;
    const classes = 259;
    const data = createRng(5);
    for (const temperature of [1, 0.6, 1.8, 0]) {
      const streams = [0, 1].map(() => Array.from({ length: rows }, (_, i) => createRng(77, i)));
      for (let step = 0; step < 60; step++) {
        const logits = Float32Array.from({ length: rows * classes }, () => (data.next() - 0.5) * 12);
        const ref = sampleOn(createReferenceKernels(), logits, rows, temperature, streams[0]);
        const fast = sampleOn(wasm, logits, rows, temperature, streams[1]);
        expect(fast.picked, `temperature ${temperature}, step ${step}`).toEqual(ref.picked);
      }
    }
  });

  it("generation on the WebAssembly kernels makes what the reference kernels make, for the same seed", () => {
    const hparams = {
      batchSize: 1,
      rnnLayerSizes: [24, 16],
      dropoutKeepProb: 1,
      clipNorm: 5,
      learningRate: 0,
    };
    const model = createPolyphonyModel(createReferenceKernels(), hparams, { seed: 11 });
    const weights = model.exportWeights();
    const bias = weights.find((t) => t.name === "fully_connected/biases");
    if (bias) bias.data[eventToId({ type: EventType.STEP_END, pitch: 0 })] += 3;
    const primer = primerFromMelody([60, -2, 64, -2, 67, -2, -1], 120);
    const base = {
      primer,
      numSteps: 40,
      numOutputs: 2,
      conditionOnPrimer: true,
      injectPrimerDuringGeneration: true,
      temperature: 1,
      beamSize: 1,
      branchFactor: 1,
      stepsPerIteration: 1,
      seed: 3,
      excludePrimer: false,
      wellFormed: false,
    };
    for (const opts of [
      base,
      { ...base, temperature: 0.7, injectPrimerDuringGeneration: false },
      { ...base, temperature: 0, beamSize: 2, branchFactor: 2 },
      { ...base, beamSize: 3, branchFactor: 2, stepsPerIteration: 2 },
      { ...base, wellFormed: true },
      { ...base, wellFormed: true, temperature: 0, beamSize: 2, branchFactor: 2 },
    ]) {
      const results = [createReferenceKernels(), wasm].map((k) => {
        const rnn = createLstmRnn(k, weights);
        try {
          return generatePolyphony(rnn, opts);
        } finally {
          rnn.dispose();
        }
      });
      expect(results[1].sequences, JSON.stringify({ ...opts, primer: undefined })).toEqual(
        results[0].sequences,
      );
      for (let i = 0; i < 2; i++) expect(results[1].scores[i]).toBeCloseTo(results[0].scores[i], 3);
    }
  });
});
