import { describe, expect, it } from "vitest";
import { createLstmRnn } from "../src/generate/lstm_rnn.js";
import { createReferenceKernels } from "../src/kernels/reference.js";
import { createWasmKernels } from "../src/kernels/wasm_node.js";
import { createPolyphonyModel, layerSizesOf } from "../src/model/lstm.js";
import { logProbsOf } from "./helpers/log_probs.js";

const hparams = {
  batchSize: 2,
  rnnLayerSizes: [6, 5],
  dropoutKeepProb: 0.5,
  clipNorm: 5,
  learningRate: 0.001,
};

describe("the generation stepper", () => {
  it("gives the training model's probabilities, whole-sequence, step by step and ragged", () => {
    const k = createReferenceKernels();
    const model = createPolyphonyModel(k, hparams, { seed: 3 });
    const seqA = [0, 63, 67, 2, 191, 2, 70, 2, 1];
    const seqB = [0, 60, 2, 2, 188, 2];
    // Time-major batch: inputs are events 0..n-2, labels events 1..n-1, -1 padding.
    const T = seqA.length - 1;
    const inputs = new Int32Array(2 * T).fill(-1);
    const labels = new Int32Array(2 * T).fill(-1);
    [seqA, seqB].forEach((s, b) => {
      for (let t = 0; t < s.length - 1; t++) {
        inputs[t * 2 + b] = s[t];
        labels[t * 2 + b] = s[t + 1];
      }
    });
    const result = model.forward(
      {
        batchSize: 2,
        length: T,
        inputs,
        labels,
        lengths: Int32Array.from([seqA.length - 1, seqB.length - 1]),
      },
      { dropout: false, backward: false, seed: 1 },
    );
    const modelLoss = (b: number, t: number) => result.losses[t * 2 + b];
    const losses = [
      [...Array(seqA.length - 1).keys()].map((t) => modelLoss(0, t)),
      [...Array(seqB.length - 1).keys()].map((t) => modelLoss(1, t)),
    ];

    const rnn = createLstmRnn(k, model.exportWeights());
    // Whole sequences at once, ragged lengths in one call.
    const whole = logProbsOf(rnn, [rnn.zeroState(), rnn.zeroState()], [seqA.slice(0, -1), seqB.slice(0, -1)]);
    [seqA, seqB].forEach((s, b) => {
      for (let t = 0; t < s.length - 1; t++)
        expect(-whole.logProbs[b][t * 259 + s[t + 1]]).toBeCloseTo(losses[b][t], 5);
    });
    // One event at a time, carrying the state.
    let state = rnn.zeroState();
    for (let t = 0; t < seqA.length - 1; t++) {
      const r = logProbsOf(rnn, [state], [[seqA[t]]]);
      expect(-r.logProbs[0][seqA[t + 1]]).toBeCloseTo(losses[0][t], 5);
      state = r.states[0];
    }
    // A sequence fed nothing in a call keeps its state.
    const half = logProbsOf(rnn, [rnn.zeroState(), rnn.zeroState()], [seqA.slice(0, 3), seqA.slice(0, 5)]);
    const rest = logProbsOf(rnn, half.states, [seqA.slice(3, 5), [seqA[5]]]);
    const expectedAt5 = -losses[0][5];
    expect(rest.logProbs[1][seqA[6]]).toBeCloseTo(expectedAt5, 5);
    expect(rest.logProbs[0][1 * 259 + seqA[5]]).toBeCloseTo(-losses[0][4], 5);
    expect(layerSizesOf(model.exportWeights())).toEqual([6, 5]);
  });

  it("temperature divides the logits", () => {
    const k = createReferenceKernels();
    const model = createPolyphonyModel(k, hparams, { seed: 4 });
    const rnn = createLstmRnn(k, model.exportWeights());
    const a = logProbsOf(rnn, [rnn.zeroState()], [[0]], 1).logProbs[0];
    const b = logProbsOf(rnn, [rnn.zeroState()], [[0]], 0.5).logProbs[0];
    // log softmax(z/T): differences between classes scale by 1/T.
    expect(b[70] - b[63]).toBeCloseTo(2 * (a[70] - a[63]), 4);
  });

  it("a batch of states from several calls, reordered and repeated, steps as each state alone", async () => {
    // Unequal layers, so that each layer's rows are placed with its own width.
    const weights = createPolyphonyModel(
      createReferenceKernels(),
      { ...hparams, rnnLayerSizes: [7, 4, 9] },
      { seed: 6 },
    ).exportWeights();
    for (const k of [createReferenceKernels(), await createWasmKernels({ threads: 1 })]) {
      const rnn = createLstmRnn(k, weights);
      const first = logProbsOf(
        rnn,
        [0, 1, 2, 3, 4].map(() => rnn.zeroState()),
        [[0, 60], [0, 64, 2], [0], [0, 70, 2, 191], [0, 2]],
      ).states;
      // The call before the batch leaves 4 rows in the heap (the batch gathers those from there), the
      // others come from the first call's snapshot; the batch has more rows than either call.
      const second = logProbsOf(
        rnn,
        [first[3], first[1], first[4], first[0]],
        [[62], [63], [64], [65]],
      ).states;
      const batch = [second[2], first[0], second[0], second[2], first[4], second[1], first[2]];
      const inputs = batch.map((_, r) => [60 + r, 2]);
      const together = logProbsOf(rnn, batch, inputs);
      batch.forEach((state, r) => {
        const alone = logProbsOf(rnn, [state], [inputs[r]]);
        const a = together.logProbs[r];
        for (let j = 0; j < a.length; j++) expect(a[j]).toBeCloseTo(alone.logProbs[0][j], 5);
        // … and the states after agree too.
        const next = logProbsOf(rnn, [together.states[r]], [[67]]).logProbs[0];
        const nextAlone = logProbsOf(rnn, alone.states, [[67]]).logProbs[0];
        for (let j = 0; j < next.length; j++) expect(next[j]).toBeCloseTo(nextAlone[j], 5);
      });
      rnn.dispose();
      k.dispose();
    }
  });

  it("refuses weights with a missing or mis-shaped tensor, naming it", () => {
    const k = createReferenceKernels();
    const weights = createPolyphonyModel(k, hparams, { seed: 4 }).exportWeights();
    expect(() =>
      createLstmRnn(
        k,
        weights.filter((t) => t.name !== "fully_connected/biases"),
      ),
    ).toThrow("the model has no tensor fully_connected/biases");
    const bad = weights.map((t) => (t.name === "fully_connected/biases" ? { ...t, shape: [258] } : t));
    expect(() => createLstmRnn(k, bad)).toThrow(/fully_connected\/biases has shape \[258\]/);
  });

  it("on the WebAssembly kernels: the reference's logits and states, resident or copied in", async () => {
    // 2×128: layer 1's kernel (256×512) is packed for gemmPacked, used from 3 rows on.
    const big = { ...hparams, rnnLayerSizes: [128, 128] };
    const weights = createPolyphonyModel(createReferenceKernels(), big, { seed: 5 }).exportWeights();
    const w = await createWasmKernels({ threads: 1 });
    try {
      const fast = createLstmRnn(w, weights);
      const slow = createLstmRnn(createReferenceKernels(), weights);
      const primers = [[0, 60, 2], [0, 64, 67, 2, 2], [0], [0, 70, 2, 191], [0, 2, 2, 2, 2, 2]];
      const expectClose = (x: Float32Array[], y: Float32Array[]) => {
        for (let i = 0; i < x.length; i++) {
          for (let j = 0; j < x[i].length; j++) expect(x[i][j]).toBeCloseTo(y[i][j], 4);
        }
      };
      const a = logProbsOf(
        fast,
        primers.map(() => fast.zeroState()),
        primers,
        0.9,
      );
      const b = logProbsOf(
        slow,
        primers.map(() => slow.zeroState()),
        primers,
        0.9,
      );
      expectClose(a.logProbs, b.logProbs);
      // One event per sequence over many steps, with the states permuted and revisited (so both the
      // resident and the copied-in paths run): the same distributions on both kernels, and stepping from
      // old states again gives the same.
      let [sa, sb] = [a.states, b.states];
      for (let step = 0; step < 12; step++) {
        const order = step % 3 === 2 ? [3, 1, 4, 0, 2] : [0, 1, 2, 3, 4];
        const inputs = order.map((i) => [60 + ((step * 7 + i) % 12)]);
        const x = logProbsOf(
          fast,
          order.map((i) => sa[i]),
          inputs,
        );
        const y = logProbsOf(
          slow,
          order.map((i) => sb[i]),
          inputs,
        );
        expectClose(x.logProbs, y.logProbs);
        const again = logProbsOf(
          fast,
          order.map((i) => sa[i]),
          inputs,
        );
        expect(again.logProbs).toEqual(x.logProbs);
        [sa, sb] = [x.states, y.states];
      }
      fast.dispose();
    } finally {
      w.dispose();
    }
  });
});
