// The model's backward pass against finite differences, plus the model's and hparams' plumbing.
//
// Method. Finite differences of a float32 forward are noisy: the loss carries ~1e-7 relative rounding,
// so a central difference with step ε has an error of ~1e-7·loss/ε on top of the O(ε²) truncation error,
// and no ε makes both small for every element. So the differences are taken of a float64 forward written
// here from the formulas (BasicLSTMCell, per-step output dropout with the kernels' masks, linear layer,
// token-mean cross-entropy), with ε = 1e-5: truncation and rounding both stay below ~1e-9. That forward is
// first checked against the model's own (per-position losses within 2e-6), so its derivative is the
// derivative of what the model computes; the model's float32 gradients must then match it within
// 1e-4 relative plus 1e-5 of the tensor's largest entry (float32 backward rounding is ~1e-7 of that;
// the worst element measured uses < 1% of this tolerance).
// A small direct check perturbs the float32 model itself on its largest-gradient entries (ε = 1e-2, 2%).
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { PolyrnnError, UsageError } from "../src/errors.js";
import { createReferenceKernels, dropoutMask } from "../src/kernels/reference.js";
import type { Batch, HParams, NamedTensor } from "../src/model/api.js";
import {
  DEFAULT_HPARAMS,
  formatHParams,
  hparamsFromJson,
  hparamsToJson,
  parseHParams,
} from "../src/model/hparams.js";
import {
  cellName,
  chunkStarts,
  createPolyphonyModel,
  dropoutSeed,
  FORGET_BIAS,
  type LstmModel,
  packBatch,
} from "../src/model/lstm.js";

const V = 259;
const HP: HParams = {
  batchSize: 2,
  rnnLayerSizes: [3, 5],
  dropoutKeepProb: 0.5,
  clipNorm: 5,
  learningRate: 0.001,
};
const SEED = 20240607;

/** Time-major batch from per-sequence event lists: inputs = events[0..n−2], labels = events[1..]. */
function makeBatch(seqs: number[][], length?: number): Batch {
  const B = seqs.length;
  const T = length ?? Math.max(...seqs.map((s) => s.length - 1));
  const inputs = new Int32Array(T * B).fill(-1);
  const labels = new Int32Array(T * B).fill(-1);
  seqs.forEach((s, b) => {
    for (let t = 0; t < s.length - 1; t++) {
      inputs[t * B + b] = s[t];
      labels[t * B + b] = s[t + 1];
    }
  });
  return { batchSize: B, length: T, inputs, labels, lengths: Int32Array.from(seqs.map((s) => s.length - 1)) };
}

// Two sequences of 5 and 3 steps: the second is padded for two steps.
const BATCH = makeBatch([
  [0, 70, 2, 141, 72, 1],
  [0, 201, 2, 1],
]);
// The same two, shortest first: packing reorders the rows (longest first), and the dropout masks follow
// the packed rows.
const BATCH_SHORT_FIRST = makeBatch([
  [0, 201, 2, 1],
  [0, 70, 2, 141, 72, 1],
]);

type Weights = Map<string, Float64Array>;

/** |actual − expected| ≤ atol + rtol·|expected| everywhere. */
function expectAllClose(
  actual: ArrayLike<number>,
  expected: ArrayLike<number>,
  atol: number,
  rtol: number,
): void {
  expect(actual.length).toBe(expected.length);
  for (let i = 0; i < expected.length; i++) {
    const err = Math.abs(actual[i] - expected[i]);
    if (!(err <= atol + rtol * Math.abs(expected[i]))) expect.fail(`[${i}]: ${actual[i]} vs ${expected[i]}`);
  }
}
const sig = (x: number) => 1 / (1 + Math.exp(-x));

/** The model's forward in float64, written from the formulas; per-position losses (0 at padding). */
function forward64(w: Weights, sizes: number[], batch: Batch, keep: number, seed: number | null): number[] {
  const { batchSize: B, length: T } = batch;
  // Dropout element r·H + u of step t belongs to the sequence packed in row r (longest first).
  const rank = new Int32Array(B);
  packBatch(batch.lengths, T).order.forEach((column, r) => {
    rank[column] = r;
  });
  // x[t][b] is the layer input: an id for layer 0, a vector above.
  let below: Float64Array[][] = [];
  sizes.forEach((H, k) => {
    const In = k === 0 ? V : sizes[k - 1];
    const kernel = w.get(cellName(k, "kernel")) as Float64Array;
    const bias = w.get(cellName(k, "bias")) as Float64Array;
    const out: Float64Array[][] = [];
    let c: Float64Array[] = Array.from({ length: B }, () => new Float64Array(H));
    let h: Float64Array[] = Array.from({ length: B }, () => new Float64Array(H));
    for (let t = 0; t < T; t++) {
      const mask = seed === null ? null : dropoutMask(B * H, keep, dropoutSeed(seed, k, t));
      const row: Float64Array[] = [];
      const c2: Float64Array[] = [];
      const h2: Float64Array[] = [];
      for (let b = 0; b < B; b++) {
        const z = Float64Array.from(bias);
        if (k === 0) {
          const id = batch.inputs[t * B + b];
          if (id >= 0) for (let j = 0; j < 4 * H; j++) z[j] += kernel[id * 4 * H + j];
        } else {
          const x = below[t][b];
          for (let i = 0; i < In; i++) for (let j = 0; j < 4 * H; j++) z[j] += x[i] * kernel[i * 4 * H + j];
        }
        for (let u = 0; u < H; u++)
          for (let j = 0; j < 4 * H; j++) z[j] += h[b][u] * kernel[(In + u) * 4 * H + j];
        const cn = new Float64Array(H);
        const hn = new Float64Array(H);
        const y = new Float64Array(H);
        for (let u = 0; u < H; u++) {
          cn[u] = c[b][u] * sig(z[2 * H + u] + FORGET_BIAS) + sig(z[u]) * Math.tanh(z[H + u]);
          hn[u] = Math.tanh(cn[u]) * sig(z[3 * H + u]);
          y[u] = mask === null ? hn[u] : mask[rank[b] * H + u] ? hn[u] / keep : 0;
        }
        c2.push(cn);
        h2.push(hn);
        row.push(y);
      }
      c = c2;
      h = h2;
      out.push(row);
    }
    below = out;
  });
  const HL = sizes[sizes.length - 1];
  const W = w.get("fully_connected/weights") as Float64Array;
  const bias = w.get("fully_connected/biases") as Float64Array;
  const losses: number[] = [];
  for (let t = 0; t < T; t++) {
    for (let b = 0; b < B; b++) {
      const label = batch.labels[t * B + b];
      if (label < 0) {
        losses.push(0);
        continue;
      }
      const logits = Float64Array.from(bias);
      for (let u = 0; u < HL; u++) for (let j = 0; j < V; j++) logits[j] += below[t][b][u] * W[u * V + j];
      const max = Math.max(...logits);
      const lse = max + Math.log(logits.reduce((s, x) => s + Math.exp(x - max), 0));
      losses.push(lse - logits[label]);
    }
  }
  return losses;
}

const meanLoss = (losses: number[], batch: Batch) =>
  losses.reduce((a, b) => a + b, 0) / batch.labels.filter((l) => l >= 0).length;

const toF64 = (tensors: NamedTensor[]): Weights =>
  new Map(tensors.map((t) => [t.name, Float64Array.from(t.data)]));

function newModel(hp = HP, chunkSteps?: number): LstmModel {
  return createPolyphonyModel(createReferenceKernels(), hp, { seed: SEED, chunkSteps });
}

describe("model gradients vs finite differences", () => {
  const cases: [string, Batch, number | undefined][] = [
    ["one chunk", BATCH, undefined],
    ["chunks of 2 steps", BATCH, 2],
    ["chunks of 1 steps", BATCH, 1],
    ["shortest sequence first, chunks of 2 steps", BATCH_SHORT_FIRST, 2],
  ];
  for (const [title, batch, chunkSteps] of cases) {
    it(`every parameter element, dropout on, padding, ${title}`, () => {
      const model = newModel(HP, chunkSteps);
      const dropSeed = 77;
      const r = model.forward(batch, { dropout: true, backward: true, seed: dropSeed });
      const w = toF64(model.exportWeights());
      const grads = model.exportGradients();

      // The float64 forward is the model's forward.
      const losses64 = forward64(w, HP.rnnLayerSizes, batch, HP.dropoutKeepProb, dropSeed);
      expect(r.tokens).toBe(8);
      expectAllClose(r.losses, losses64, 2e-6, 2e-6);
      expect(Math.abs(r.lossSum / r.tokens - meanLoss(losses64, batch))).toBeLessThan(1e-6);

      const eps = 1e-5;
      let worst = 0;
      for (const g of grads) {
        const theta = w.get(g.name) as Float64Array;
        const numeric = new Float64Array(theta.length);
        for (let e = 0; e < theta.length; e++) {
          const x = theta[e];
          theta[e] = x + eps;
          const up = meanLoss(forward64(w, HP.rnnLayerSizes, batch, HP.dropoutKeepProb, dropSeed), batch);
          theta[e] = x - eps;
          const down = meanLoss(forward64(w, HP.rnnLayerSizes, batch, HP.dropoutKeepProb, dropSeed), batch);
          theta[e] = x;
          numeric[e] = (up - down) / (2 * eps);
        }
        const scale = Math.max(...numeric.map(Math.abs));
        expect(scale, g.name).toBeGreaterThan(0);
        for (let e = 0; e < theta.length; e++) {
          const err = Math.abs(g.data[e] - numeric[e]);
          const tol = 1e-5 * scale + 1e-4 * Math.abs(numeric[e]);
          worst = Math.max(worst, err / tol);
          if (err > tol) expect.fail(`${g.name}[${e}]: ${g.data[e]} vs ${numeric[e]}`);
        }
      }
      expect(worst).toBeLessThanOrEqual(1);
    });
  }

  it("without dropout, computes the plain stack (the generation-time forward)", () => {
    const model = newModel();
    const r = model.forward(BATCH, { dropout: false, backward: false, seed: 1 });
    const losses64 = forward64(toF64(model.exportWeights()), HP.rnnLayerSizes, BATCH, 1, null);
    expectAllClose(r.losses, losses64, 2e-6, 2e-6);
  });

  it("agrees with central differences of the float32 model itself on the largest gradients", () => {
    const model = newModel();
    const opts = { dropout: true, backward: false, seed: 5 };
    model.forward(BATCH, { ...opts, backward: true });
    const grads = model.exportGradients();
    const weights = model.exportWeights();
    const loss = () => {
      const r = model.forward(BATCH, opts);
      return r.lossSum / r.tokens;
    };
    const eps = 1e-2;
    for (const g of grads) {
      const order = Array.from(g.data.keys()).sort((a, b) => Math.abs(g.data[b]) - Math.abs(g.data[a]));
      const t = weights.find((x) => x.name === g.name) as NamedTensor;
      for (const e of order.slice(0, 3)) {
        const x = t.data[e];
        t.data[e] = x + eps;
        model.importWeights(weights);
        const up = loss();
        t.data[e] = x - eps;
        model.importWeights(weights);
        const down = loss();
        t.data[e] = x;
        model.importWeights(weights);
        const numeric = (up - down) / (2 * eps);
        expect(Math.abs(numeric - g.data[e]), `${g.name}[${e}]`).toBeLessThan(0.02 * Math.abs(g.data[e]));
      }
    }
  });
});

describe("model behaviour", () => {
  it("computes nothing past a sequence's end, and gives the padded computation's loss and gradients", () => {
    // Six sequences of unequal lengths, in no order; 3×(4, 6) layers as the wider stack of the issue.
    const hp = { ...HP, batchSize: 6, rnnLayerSizes: [4, 6, 5] };
    const seqs = [3, 9, 1, 6, 9, 4].map((n, b) =>
      Array.from({ length: n + 1 }, (_, t) => (t === 0 ? 0 : 1 + ((b * 37 + t * 53) % 258))),
    );
    const batch = makeBatch(seqs);
    for (const chunkSteps of [undefined, 2]) {
      for (const dropout of [true, false]) {
        const packed = newModel(hp, chunkSteps);
        const padded = newModel(hp, chunkSteps);
        const rp = packed.forward(batch, { dropout, backward: true, seed: 9 });
        const rd = padded.forward(batch, { dropout, backward: true, seed: 9, padded: true });
        expect(rp.tokens).toBe(32);
        expect(Math.abs(rp.lossSum - rd.lossSum)).toBeLessThan(1e-6 * rd.lossSum);
        expectAllClose(rp.losses, rd.losses, 1e-6, 1e-6);
        expect(Array.from(rp.preds)).toEqual(Array.from(rd.preds));
        const gp = packed.exportGradients();
        const gd = padded.exportGradients();
        for (const [i, g] of gd.entries()) expectAllClose(gp[i].data, g.data, 1e-6, 1e-6);
      }
    }
    // The packing: rows running at each step, longest first.
    const layout = packBatch(batch.lengths, 9);
    expect(Array.from(layout.order)).toEqual([1, 4, 3, 5, 0, 2]);
    expect(Array.from(layout.rows)).toEqual([6, 5, 5, 4, 3, 3, 2, 2, 2]);
    expect(layout.offsets[9]).toBe(32);
  });

  it("cut into chunks by its activation memory, gives one chunk's loss and gradients", () => {
    const hp = { ...HP, batchSize: 6, rnnLayerSizes: [4, 6, 5] };
    const seqs = [3, 9, 1, 6, 9, 4].map((n, b) =>
      Array.from({ length: n + 1 }, (_, t) => (t === 0 ? 0 : 1 + ((b * 41 + t * 29) % 258))),
    );
    const batch = makeBatch(seqs);
    // 4·(7·(4 + 6 + 5) + 2·259 + 7·6) = 2,660 bytes a position with dropout and backward: 9 positions a
    // chunk, so the last chunk (9) is larger than the first (6): buffers must be sized by the largest.
    const chunked = createPolyphonyModel(createReferenceKernels(), hp, {
      seed: SEED,
      activationBytes: 9 * 2660,
    });
    const whole = createPolyphonyModel(createReferenceKernels(), hp, { seed: SEED });
    const rc = chunked.forward(batch, { dropout: true, backward: true, seed: 5 });
    const rw = whole.forward(batch, { dropout: true, backward: true, seed: 5 });
    expect(Math.abs(rc.lossSum - rw.lossSum)).toBeLessThan(1e-6 * rw.lossSum);
    expectAllClose(rc.losses, rw.losses, 1e-6, 1e-6);
    const gc = chunked.exportGradients();
    for (const [i, g] of whole.exportGradients().entries()) expectAllClose(gc[i].data, g.data, 1e-6, 1e-6);
    // Rows per step 6 5 5 4 3 3 2 2 2, cut from the end at 9 positions: steps 5–8 (9), 3–4 (7), 2, 1, 0.
    const { offsets } = packBatch(batch.lengths, 9);
    expect(chunkStarts(offsets, 9, 9)).toEqual([0, 1, 2, 3, 5]);
    expect(chunkStarts(offsets, 9, 8)).toEqual([0, 1, 2, 3, 4, 6]);
  });

  it("grows its heap once for the largest batch of the given track lengths, less than for B × the longest", () => {
    const hp = { ...HP, batchSize: 4, rnnLayerSizes: [8] };
    const byLongest = createReferenceKernels();
    createPolyphonyModel(byLongest, hp, { seed: SEED, maxLength: 100 });
    const kernels = createReferenceKernels();
    const model = createPolyphonyModel(kernels, hp, { seed: SEED, maxLengths: [10, 100, 3, 10, 10, 2] });
    const grown = kernels.f32().length;
    expect(grown).toBeLessThan(byLongest.f32().length / 2);
    // The largest batch those tracks can make trains in that heap, without growing it.
    const seqs = [100, 10, 10, 10].map((n) => Array.from({ length: n + 1 }, (_, t) => (t * 7) % 259));
    model.forward(makeBatch(seqs), { dropout: true, backward: true, seed: 1 });
    expect(kernels.f32().length).toBe(grown);
  });

  it("cuts chunks from the end: each fits the budget, and the last cannot take another step", () => {
    fc.assert(
      fc.property(
        fc.array(fc.integer({ min: 1, max: 64 }), { minLength: 1, maxLength: 200 }),
        fc.integer({ min: 1, max: 500 }),
        (counts, budget) => {
          const rows = [...counts].sort((a, b) => b - a);
          const T = rows.length;
          const offsets = [0];
          for (const n of rows) offsets.push(offsets[offsets.length - 1] + n);
          const starts = chunkStarts(offsets, T, budget);
          expect(starts[0]).toBe(0);
          const ends = [...starts.slice(1), T];
          starts.forEach((t0, i) => {
            expect(ends[i]).toBeGreaterThan(t0);
            const size = offsets[ends[i]] - offsets[t0];
            // Over the budget only as a single step, and no chunk could have taken the step before it.
            if (size > budget) expect(ends[i] - t0).toBe(1);
            if (t0 > 0) expect(offsets[ends[i]] - offsets[t0 - 1]).toBeGreaterThan(budget);
          });
        },
      ),
    );
  });

  it("refuses a batch with events past a sequence's length (packing would drop them)", () => {
    const bad = makeBatch([
      [0, 70, 2, 141],
      [0, 201, 2, 1],
    ]);
    bad.lengths[1] = 2;
    expect(() => newModel().forward(bad, { dropout: false, backward: false, seed: 1 })).toThrow(
      /sequence 1 has events at step 2, past its length 2/,
    );
  });

  it("is unchanged by extra padding steps at the end", () => {
    const a = newModel();
    const b = newModel();
    const ra = a.forward(BATCH, { dropout: true, backward: true, seed: 3 });
    const padded = makeBatch(
      [
        [0, 70, 2, 141, 72, 1],
        [0, 201, 2, 1],
      ],
      8,
    );
    const rb = b.forward(padded, { dropout: true, backward: true, seed: 3 });
    expect(rb.tokens).toBe(ra.tokens);
    expect(rb.lossSum).toBeCloseTo(ra.lossSum, 5);
    const ga = a.exportGradients();
    const gb = b.exportGradients();
    for (const [i, g] of ga.entries()) expectAllClose(gb[i].data, g.data, 1e-7, 1e-6);
    expect(Array.from(rb.preds.subarray(0, BATCH.length * 2))).toEqual(Array.from(ra.preds));
    expect(Array.from(rb.preds.subarray(BATCH.length * 2))).toEqual(new Array((8 - 5) * 2).fill(-1));
  });

  it("gives the same results whatever the chunking, with and without dropout", () => {
    for (const dropout of [true, false]) {
      const one = newModel(HP);
      const chunked = newModel(HP, 2);
      const r1 = one.forward(BATCH, { dropout, backward: true, seed: 11 });
      const r2 = chunked.forward(BATCH, { dropout, backward: true, seed: 11 });
      expect(r2.lossSum).toBeCloseTo(r1.lossSum, 6);
      expect(Array.from(r2.losses)).toEqual(Array.from(r1.losses));
      const g1 = one.exportGradients();
      const g2 = chunked.exportGradients();
      for (const [i, g] of g1.entries()) expectAllClose(g2[i].data, g.data, 1e-7, 1e-5);
    }
  });

  it("initialises deterministically with Magenta's names, TF shapes, Glorot-uniform matrices and zero biases", () => {
    const w = newModel().exportWeights();
    expect(w.map((t) => [t.name, t.shape])).toEqual([
      ["rnn/multi_rnn_cell/cell_0/basic_lstm_cell/kernel", [262, 12]],
      ["rnn/multi_rnn_cell/cell_0/basic_lstm_cell/bias", [12]],
      ["rnn/multi_rnn_cell/cell_1/basic_lstm_cell/kernel", [8, 20]],
      ["rnn/multi_rnn_cell/cell_1/basic_lstm_cell/bias", [20]],
      ["fully_connected/weights", [5, 259]],
      ["fully_connected/biases", [259]],
    ]);
    for (const t of w) {
      if (t.shape.length === 1) {
        expect(t.data.every((x) => x === 0)).toBe(true);
        continue;
      }
      const limit = Math.sqrt(6 / (t.shape[0] + t.shape[1]));
      const max = Math.max(...t.data.map(Math.abs));
      expect(max).toBeLessThanOrEqual(limit);
      expect(max).toBeGreaterThan(0.9 * limit);
      const mean = t.data.reduce((a, b) => a + b, 0) / t.data.length;
      expect(Math.abs(mean)).toBeLessThan(0.15 * limit);
    }
    expect(newModel().exportWeights()).toEqual(w);
    const other = createPolyphonyModel(createReferenceKernels(), HP, { seed: SEED + 1 }).exportWeights();
    expect(other[0].data).not.toEqual(w[0].data);
  });

  it("clips each gradient tensor separately, then takes TF's Adam step", () => {
    const hp = { ...HP, clipNorm: 0.05, learningRate: 0.01 };
    const model = newModel(hp);
    const before = model.exportWeights();
    model.forward(BATCH, { dropout: true, backward: true, seed: 1 });
    const grads = model.exportGradients();
    model.applyGradients();
    expect(model.step).toBe(1);
    const after = model.exportWeights();
    const opt = model.exportOptimizer();
    expect(opt.step).toBe(1);
    grads.forEach((g, i) => {
      const norm = Math.sqrt(g.data.reduce((s, x) => s + x * x, 0));
      const clip = norm > hp.clipNorm ? hp.clipNorm / norm : 1;
      const m = opt.tensors[2 * i];
      const v = opt.tensors[2 * i + 1];
      expect(m.name).toBe(`${g.name}/Adam`);
      expect(v.name).toBe(`${g.name}/Adam_1`);
      const lrT = (hp.learningRate * Math.sqrt(1 - 0.999)) / (1 - 0.9);
      g.data.forEach((x, e) => {
        const gc = x * clip;
        expect(m.data[e]).toBeCloseTo(0.1 * gc, 7);
        expect(v.data[e]).toBeCloseTo(0.001 * gc * gc, 9);
        const p = before[i].data[e] - (lrT * 0.1 * gc) / (Math.sqrt(0.001 * gc * gc) + 1e-8);
        expect(Math.abs(after[i].data[e] - p)).toBeLessThan(1e-6);
      });
    });
  });

  it("exports and imports weights and optimizer state, refusing missing or mis-shaped tensors", () => {
    const a = newModel();
    for (let s = 0; s < 3; s++) {
      a.forward(BATCH, { dropout: true, backward: true, seed: s });
      a.applyGradients();
    }
    const b = createPolyphonyModel(createReferenceKernels(), HP, { seed: 1 });
    b.importWeights(a.exportWeights());
    b.importOptimizer(a.exportOptimizer());
    expect(b.step).toBe(3);
    for (const m of [a, b]) {
      m.forward(BATCH, { dropout: true, backward: true, seed: 9 });
      m.applyGradients();
    }
    expect(b.exportWeights()).toEqual(a.exportWeights());
    expect(b.exportOptimizer()).toEqual(a.exportOptimizer());

    const w = a.exportWeights();
    expect(() => b.importWeights(w.slice(1))).toThrow(
      /missing tensor rnn\/multi_rnn_cell\/cell_0\/basic_lstm_cell\/kernel/,
    );
    const bad = w.map((t) =>
      t.name === "fully_connected/biases" ? { ...t, shape: [258], data: t.data.subarray(1) } : t,
    );
    expect(() => b.importWeights(bad)).toThrow(PolyrnnError);
    expect(() => b.importWeights(bad)).toThrow(/fully_connected\/biases has shape \[258\], expected \[259\]/);
    const opt = a.exportOptimizer();
    expect(() =>
      b.importOptimizer({ ...opt, tensors: opt.tensors.filter((t) => !t.name.endsWith("Adam_1")) }),
    ).toThrow(/Adam_1/);
  });

  it("refuses malformed batches and runs an empty one", () => {
    const model = newModel();
    const bad = { ...BATCH, inputs: BATCH.inputs.map((x, i) => (i === 3 ? 259 : x)) };
    expect(() => model.forward(bad, { dropout: false, backward: false, seed: 0 })).toThrow(/out of range/);
    expect(() =>
      model.forward({ ...BATCH, length: 4 }, { dropout: false, backward: false, seed: 0 }),
    ).toThrow(PolyrnnError);
    const empty = model.forward(makeBatch([[0], [0]], 0), { dropout: true, backward: true, seed: 0 });
    expect(empty.tokens).toBe(0);
    expect(empty.lossSum).toBe(0);
  });

  it("frees its activations after each call and its memory on dispose", () => {
    const k = createReferenceKernels();
    const start = k.mark();
    const model = createPolyphonyModel(k, HP, { seed: 1, maxLength: 50 });
    const afterParams = k.mark();
    model.forward(BATCH, { dropout: true, backward: true, seed: 0 });
    expect(k.mark()).toBe(afterParams);
    model.dispose();
    expect(k.mark()).toBe(start);
    expect(() => model.forward(BATCH, { dropout: true, backward: true, seed: 0 })).toThrow(/disposed/);
  });
});

describe("hparams", () => {
  it("has Magenta's polyphony defaults", () => {
    expect(DEFAULT_HPARAMS).toEqual({
      batchSize: 64,
      rnnLayerSizes: [256, 256, 256],
      dropoutKeepProb: 0.5,
      clipNorm: 5,
      learningRate: 0.001,
    });
  });

  it("parses Magenta's syntax over a base, with lists and whitespace", () => {
    expect(parseHParams("batch_size=32, rnn_layer_sizes=[ 64 , 64 ],dropout_keep_prob=0.8,")).toEqual({
      ...DEFAULT_HPARAMS,
      batchSize: 32,
      rnnLayerSizes: [64, 64],
      dropoutKeepProb: 0.8,
    });
    expect(parseHParams("")).toEqual(DEFAULT_HPARAMS);
    expect(parseHParams("learning_rate=1e-2,clip_norm=3", HP)).toEqual({
      ...HP,
      learningRate: 0.01,
      clipNorm: 3,
    });
    expect(parseHParams("attn_length=0,residual_connections=false,use_cudnn=False")).toEqual(DEFAULT_HPARAMS);
    const h = parseHParams(
      "batch_size=8,rnn_layer_sizes=[16,24,32],dropout_keep_prob=1,clip_norm=0,learning_rate=0.5",
    );
    expect(parseHParams(formatHParams(h))).toEqual(h);
    expect(hparamsFromJson(hparamsToJson(h))).toEqual(h);
  });

  it("refuses unknown names, bad values and unsupported options with UsageError", () => {
    const cases: [string, RegExp][] = [
      ["batch_sise=3", /unknown name "batch_sise"; valid names: batch_size, rnn_layer_sizes/],
      ["batch_size=1.5", /batch_size expects an integer/],
      ["batch_size=0", /batch_size must be ≥ 1/],
      ["rnn_layer_sizes=64", /expects a list/],
      ["rnn_layer_sizes=[]", /at least one layer/],
      ["rnn_layer_sizes=[64,x]", /list of integers/],
      ["dropout_keep_prob=0", /\(0, 1\]/],
      ["learning_rate=fast", /expects a number/],
      ["attn_length=40", /attn_length is not supported/],
      ["residual_connections=true", /not supported/],
      ["use_cudnn=1", /not supported/],
      ["batch_size=1,batch_size=2", /more than once/],
      ["batch_size", /not name=value/],
    ];
    for (const [text, message] of cases) {
      expect(() => parseHParams(text), text).toThrow(UsageError);
      expect(() => parseHParams(text), text).toThrow(message);
    }
  });

  it("refuses incomplete or foreign checkpoint metadata", () => {
    expect(() => hparamsFromJson('{"batch_size":64}')).toThrow(/rnn_layer_sizes is missing/);
    expect(() => hparamsFromJson('{"nope":1}')).toThrow(/unknown name "nope"/);
    expect(() => hparamsFromJson("[1]")).toThrow(PolyrnnError);
    expect(() => hparamsFromJson(hparamsToJson({ ...HP, batchSize: 2.5 }))).toThrow(
      /batch_size expects an integer/,
    );
  });
});
