/**
 * Polyphony RNN's model, readable top to bottom: a stack of TensorFlow BasicLSTMCells over one-hot event
 * ids, output dropout after every layer, a linear layer to 259 logits, token-mean softmax cross-entropy,
 * per-tensor gradient clipping and Adam — Magenta's events_rnn_graph.py (spec §4.2–§4.4) on `Kernels`.
 *
 *   const model = createPolyphonyModel(createReferenceKernels(), DEFAULT_HPARAMS, { seed: 1 });
 *   const r = model.forward(batch, { dropout: true, backward: true, seed: step });
 *   model.applyGradients();   // r.lossSum / r.tokens is the batch loss
 *
 * Layout. Every tensor lives in the kernels' heap. Parameters keep Magenta's names and TensorFlow shapes
 * (spec §4.7): layer k's `kernel` is [in_k + H_k, 4H_k] with rows 0..in_k−1 = W_x and rows in_k.. = W_h,
 * both row-major with row stride 4H_k, so each is a plain gemm operand; columns are the gate blocks
 * (i, j, f, o). Activations are time-major: row t·B + b is sequence b at step t.
 *
 * What is batched. Layer 0's input projection is a row lookup in W_x (the input is one-hot), deeper layers
 * multiply all positions by W_x in one gemm, the logits are one gemm, and every weight gradient is one
 * gemm over all positions (dW_x = Xᵀ·dGates, dW_h = H_{t−1}ᵀ·dGates). Only h_{t−1}·W_h and its backward
 * walk step by step.
 *
 * Padding. Sequences are padded at the END only (label −1, input −1). The model computes straight through
 * the padding: a padded position's state depends on the real positions before it, but nothing real
 * depends on it (the recurrence only runs forward in time), its loss and dLogits are 0, and so — by
 * induction from the last step — its dh, dc and dGates are exactly 0 and it adds nothing to any gradient.
 * The result is exactly that of Magenta's dynamic_rnn with sequence_length.
 *
 * Memory. Long batches are cut into chunks of S time steps (S·B rows per gemm). The forward pass keeps,
 * per chunk, only the states entering it; the backward pass walks the chunks in reverse, recomputes a
 * chunk's forward from its entering state, then backpropagates through it. When the whole batch fits one
 * chunk (the common case) nothing is recomputed. Bytes, with V = 259, d = 1 with dropout, b = 1 with
 * backward, H_max the widest layer:
 *   per chunk row (one step of one sequence): 4·[Σ_k (6 + d)·H_k + 2V + 6b·H_max]
 *     (gates 4H, c H, h H, dropout output H, logits and dLogits V each; backward: dGates 4H_max, dY 2H_max)
 *   per batch position: 16 (ids, labels, losses, preds), plus 8·Σ_k H_k per sequence per chunk boundary
 *   parameters: 16 bytes per weight (weights, gradients, Adam m and v)
 *   S = floor(activationBytes / (B · row bytes)), default activationBytes 256 MiB.
 * For 3×256 at B = 64: 29,720 B per row → S = 141; a 2,500-event batch needs ≈ 268 MB of chunk
 * activations + 2.6 MB positions + 7.1 MB boundaries + 26.3 MB parameters ≈ 304 MB (measured high-water
 * mark of the arena: 304.9 MB; without chunks the activations alone would be 4.76 GB). Recomputing costs
 * one extra forward pass (≈ +1/3 of the step) for batches longer than S, and nothing for shorter ones;
 * a larger `activationBytes` trades memory for that time.
 */
import { PolyrnnError } from "../errors.js";
import { NUM_CLASSES } from "../events/codec.js";
import { fmix32 } from "../kernels/reference.js";
import type { Kernels } from "../kernels/types.js";
import type {
  Batch,
  ForwardOptions,
  ForwardResult,
  HParams,
  NamedTensor,
  OptimizerState,
  PolyphonyModel,
} from "./api.js";

/** Width of the one-hot input and number of output classes. */
const V = NUM_CLASSES;
/** TF BasicLSTMCell adds 1.0 to the forget gate's pre-activation at run time; it is not stored in `bias`. */
export const FORGET_BIAS = 1.0;
/** tf.train.AdamOptimizer's defaults. */
export const ADAM = { beta1: 0.9, beta2: 0.999, epsilon: 1e-8 } as const;
export const DEFAULT_ACTIVATION_BYTES = 256 * 2 ** 20;

export interface ModelOptions {
  /** Seed of the weight initialisation. */
  seed: number;
  /** Longest batch expected: the heap is grown for it once, up front, instead of during training. */
  maxLength?: number;
  /** Target size of one chunk's activations (see Memory above). */
  activationBytes?: number;
  /** Time steps per chunk, overriding activationBytes (tests use it to exercise the chunked path). */
  chunkSteps?: number;
}

/** The model plus what tests, diagnostics and a generator's stepper need beyond the contract. */
export interface LstmModel extends PolyphonyModel {
  /** Gradients of the last `forward(…, { backward: true })`, named like the weights: copies. */
  exportGradients(): NamedTensor[];
  /** The LSTM layers' parameters in the heap (for `projectInputs` and `lstmSteps`). */
  readonly layers: readonly LstmLayer[];
  /** The softmax layer's parameters: `fully_connected/weights` [H_last, 259] and `biases` [259]. */
  readonly softmax: { readonly weights: Param; readonly biases: Param };
}

/** One parameter tensor: its weights, gradient and Adam moments, as heap offsets. */
export interface Param {
  name: string;
  shape: number[];
  size: number;
  w: number;
  g: number;
  m: number;
  v: number;
}

export interface LstmLayer {
  /** in_k: 259 for layer 0 (one-hot), else the previous layer's size. */
  input: number;
  hidden: number;
  kernel: Param;
  bias: Param;
}

export const cellName = (k: number, what: "kernel" | "bias"): string =>
  `rnn/multi_rnn_cell/cell_${k}/basic_lstm_cell/${what}`;

/**
 * Seed of the dropout mask of layer k's output at time step t: one dropoutForward call of B·H elements
 * (element b·H + u) per (layer, step), so the masks do not depend on how the batch is chunked.
 *   s = ffmix32(batchSeed XOR imul(k + 1, 0x27d4eb2f));  seed = ffmix32(s + imul(t + 1, 0x165667b1))
 */
export function dropoutSeed(batchSeed: number, layer: number, t: number): number {
  const s = fmix32((batchSeed ^ Math.imul(layer + 1, 0x27d4eb2f)) >>> 0);
  return fmix32((s + Math.imul(t + 1, 0x165667b1)) >>> 0);
}

/** A small seeded PRNG (splitmix32): uniform in [0, 1). */
function createRng(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x9e3779b9) >>> 0;
    let z = state;
    z = Math.imul(z ^ (z >>> 16), 0x21f0aaad);
    z = Math.imul(z ^ (z >>> 15), 0x735a2d97);
    return ((z ^ (z >>> 15)) >>> 0) / 2 ** 32;
  };
}

/**
 * A layer's input projection for `rows` positions: gates = x·W_x + b. Layer 0's x is one-hot, so this is
 * a row lookup by event id (`input` holds i32 ids; −1 gives the bias alone); deeper layers read a
 * rows×in_k float matrix.
 */
export function projectInputs(
  k: Kernels,
  layer: LstmLayer,
  first: boolean,
  rows: number,
  input: number,
  gates: number,
): void {
  const width = 4 * layer.hidden;
  if (first) {
    k.embeddingForward(rows, width, input, layer.kernel.w, layer.bias.w, gates);
  } else {
    k.gemm(
      false,
      false,
      rows,
      width,
      layer.input,
      1,
      input,
      layer.input,
      layer.kernel.w,
      width,
      0,
      gates,
      width,
    );
    k.addBias(rows, width, layer.bias.w, gates);
  }
}

/**
 * The recurrence of one layer over `steps` steps of `rows` sequences. On entry gates[s] (rows×4H) holds
 * step s's input projection, c[0] and h[0] (rows×H) the entering state; on return gates[s] holds the gate
 * activations and c[s+1], h[s+1] the state after step s. A generator steps with steps = 1.
 */
export function lstmSteps(
  k: Kernels,
  layer: LstmLayer,
  steps: number,
  rows: number,
  gates: number,
  c: number,
  h: number,
): void {
  const H = layer.hidden;
  const wh = layer.kernel.w + layer.input * 4 * H;
  for (let s = 0; s < steps; s++) {
    const g = gates + s * rows * 4 * H;
    k.gemm(false, false, rows, 4 * H, H, 1, h + s * rows * H, H, wh, 4 * H, 1, g, 4 * H);
    k.lstmCellForward(
      rows,
      H,
      FORGET_BIAS,
      g,
      c + s * rows * H,
      c + (s + 1) * rows * H,
      h + (s + 1) * rows * H,
    );
  }
}

export function createPolyphonyModel(kernels: Kernels, hparams: HParams, opts: ModelOptions): LstmModel {
  const k = kernels;
  const sizes = [...hparams.rnnLayerSizes];
  if (sizes.length === 0 || !sizes.every((H) => Number.isSafeInteger(H) && H >= 1)) {
    throw new PolyrnnError(`model: bad rnn_layer_sizes [${sizes}]`);
  }
  if (!(hparams.dropoutKeepProb > 0 && hparams.dropoutKeepProb <= 1)) {
    throw new PolyrnnError(`model: dropout_keep_prob ${hparams.dropoutKeepProb} is not in (0, 1]`);
  }
  const L = sizes.length;
  const hMax = Math.max(...sizes);
  const keep = hparams.dropoutKeepProb;
  const baseMark = k.mark();

  // ---- Parameters, in Magenta's variable order ----
  const params: Param[] = [];
  function param(name: string, shape: number[]): Param {
    const size = shape.reduce((a, b) => a * b, 1);
    const p = { name, shape, size, w: k.alloc(size), g: k.alloc(size), m: k.alloc(size), v: k.alloc(size) };
    params.push(p);
    return p;
  }
  const layers: LstmLayer[] = sizes.map((H, i) => {
    const input = i === 0 ? V : sizes[i - 1];
    return {
      input,
      hidden: H,
      kernel: param(cellName(i, "kernel"), [input + H, 4 * H]),
      bias: param(cellName(i, "bias"), [4 * H]),
    };
  });
  const fcW = param("fully_connected/weights", [sizes[L - 1], V]);
  const fcB = param("fully_connected/biases", [V]);

  // Glorot/Xavier uniform for matrices (TF's fans of a 2-D [in, out] shape: fan_in = in, fan_out = out),
  // zeros for biases: TF's default variable initializer and tf_slim's fully_connected.
  const rng = createRng(opts.seed);
  for (const p of params) {
    if (p.shape.length !== 2) continue;
    const limit = Math.sqrt(6 / (p.shape[0] + p.shape[1]));
    const f = k.f32();
    for (let e = 0; e < p.size; e++) f[p.w + e] = (2 * rng() - 1) * limit;
  }

  let step = 0;
  let disposed = false;
  const paramsMark = k.mark();

  // ---- Activation buffers, allocated per batch shape ----
  const rowFloats = (dropout: boolean, backward: boolean): number =>
    sizes.reduce((sum, H) => sum + (dropout ? 7 : 6) * H, 0) + 2 * V + (backward ? 6 * hMax : 0);

  function chunkLength(T: number, B: number, dropout: boolean, backward: boolean): number {
    if (opts.chunkSteps !== undefined) return Math.max(1, Math.min(T, opts.chunkSteps));
    const bytes = opts.activationBytes ?? DEFAULT_ACTIVATION_BYTES;
    return Math.max(1, Math.min(T, Math.floor(bytes / (4 * B * rowFloats(dropout, backward)))));
  }

  interface Activations {
    S: number;
    chunks: number;
    ids: number;
    labels: number;
    losses: number;
    preds: number;
    gates: number[];
    c: number[];
    h: number[];
    /** Layer outputs after dropout (rows×H), or h[k] + B·H (step 1 on) without dropout. */
    y: number[];
    logits: number;
    dLogits: number;
    /** The states entering each chunk: [chunk][layer] → c, then h (B×H each). Backward with ≥ 2 chunks. */
    boundary: number;
    dGates: number;
    dY: [number, number];
    dhCarry: number[];
    dcCarry: number[];
  }

  function allocate(B: number, T: number, dropout: boolean, backward: boolean): Activations {
    const S = chunkLength(T, B, dropout, backward);
    const chunks = Math.ceil(T / S);
    const N = T * B;
    const a: Activations = {
      S,
      chunks,
      ids: k.alloc(N),
      labels: k.alloc(N),
      losses: k.alloc(N),
      preds: k.alloc(N),
      gates: sizes.map((H) => k.alloc(S * B * 4 * H)),
      c: sizes.map((H) => k.alloc((S + 1) * B * H)),
      h: sizes.map((H) => k.alloc((S + 1) * B * H)),
      y: [],
      logits: k.alloc(S * B * V),
      dLogits: k.alloc(S * B * V),
      boundary: backward && chunks > 1 ? k.alloc(chunks * B * 2 * sizes.reduce((s, H) => s + H, 0)) : -1,
      dGates: backward ? k.alloc(S * B * 4 * hMax) : -1,
      dY: backward ? [k.alloc(S * B * hMax), k.alloc(S * B * hMax)] : [-1, -1],
      dhCarry: backward ? sizes.map((H) => k.alloc(B * H)) : [],
      dcCarry: backward ? sizes.map((H) => k.alloc(B * H)) : [],
    };
    a.y = sizes.map((H, i) => (dropout ? k.alloc(S * B * H) : a.h[i] + B * H));
    return a;
  }

  if (opts.maxLength !== undefined && opts.maxLength > 0) {
    allocate(hparams.batchSize, opts.maxLength, keep < 1, true); // grows the heap once
    k.release(paramsMark);
  }

  // ---- Forward and backward ----
  function forward(batch: Batch, fo: ForwardOptions): ForwardResult {
    if (disposed) throw new PolyrnnError("the model was disposed");
    checkBatch(batch);
    const B = batch.batchSize;
    const T = batch.length;
    const N = T * B;
    const dropout = fo.dropout && keep < 1;
    let tokens = 0;
    for (let r = 0; r < N; r++) if (batch.labels[r] >= 0) tokens++;
    const lossScale = tokens > 0 ? 1 / tokens : 0;

    const top = k.mark();
    try {
      const a = allocate(B, T, dropout, fo.backward);
      k.i32().set(batch.inputs, a.ids);
      k.i32().set(batch.labels, a.labels);
      if (fo.backward) for (const p of params) k.f32().fill(0, p.g, p.g + p.size); // (not scale by 0: NaN stays)

      /** Layer states of chunk ci's last step become step 0 of the next chunk. */
      const carryState = (steps: number) => {
        const f = k.f32();
        sizes.forEach((H, i) => {
          f.copyWithin(a.c[i], a.c[i] + steps * B * H, a.c[i] + (steps + 1) * B * H);
          f.copyWithin(a.h[i], a.h[i] + steps * B * H, a.h[i] + (steps + 1) * B * H);
        });
      };
      /** Saves (or restores) the state entering chunk ci. */
      const boundaryCopy = (ci: number, save: boolean) => {
        const f = k.f32();
        let at = a.boundary + ci * B * 2 * sizes.reduce((s, H) => s + H, 0);
        sizes.forEach((H, i) => {
          for (const state of [a.c[i], a.h[i]]) {
            if (save) f.copyWithin(at, state, state + B * H);
            else f.copyWithin(state, at, at + B * H);
            at += B * H;
          }
        });
      };

      /** The forward pass of chunk ci from the state in c[0], h[0]; returns its summed loss. */
      const chunkForward = (ci: number): number => {
        const t0 = ci * a.S;
        const steps = Math.min(a.S, T - t0);
        const rows = steps * B;
        layers.forEach((layer, i) => {
          const H = layer.hidden;
          const input = i === 0 ? a.ids + t0 * B : a.y[i - 1];
          projectInputs(k, layer, i === 0, rows, input, a.gates[i]);
          lstmSteps(k, layer, steps, B, a.gates[i], a.c[i], a.h[i]);
          if (dropout) {
            for (let s = 0; s < steps; s++) {
              const seed = dropoutSeed(fo.seed, i, t0 + s);
              k.dropoutForward(B * H, keep, seed, a.h[i] + (s + 1) * B * H, a.y[i] + s * B * H);
            }
          }
        });
        const HL = sizes[L - 1];
        k.gemm(false, false, rows, V, HL, 1, a.y[L - 1], HL, fcW.w, V, 0, a.logits, V);
        k.addBias(rows, V, fcB.w, a.logits);
        const r0 = t0 * B;
        return k.softmaxCrossEntropy(
          rows,
          V,
          a.logits,
          a.labels + r0,
          lossScale,
          a.dLogits,
          a.losses + r0,
          a.preds + r0,
        );
      };

      /** Backpropagates chunk ci (its forward activations in place), given dhCarry/dcCarry from chunk ci+1. */
      const chunkBackward = (ci: number): void => {
        const t0 = ci * a.S;
        const steps = Math.min(a.S, T - t0);
        const rows = steps * B;
        const HL = sizes[L - 1];
        // Softmax layer: dY_top = dLogits·Wᵀ, dW += Yᵀ·dLogits, db += Σ dLogits.
        let dY = a.dY[0];
        k.gemm(false, true, rows, HL, V, 1, a.dLogits, V, fcW.w, V, 0, dY, HL);
        k.gemm(true, false, HL, V, rows, 1, a.y[L - 1], HL, a.dLogits, V, 1, fcW.g, V);
        k.biasBackward(rows, V, a.dLogits, fcB.g);

        for (let i = L - 1; i >= 0; i--) {
          const layer = layers[i];
          const H = layer.hidden;
          const G = 4 * H;
          const wh = layer.kernel.w + layer.input * G;
          // dY (rows×H) becomes dh: through the dropout, then plus the recurrent gradient step by step.
          if (dropout) {
            for (let s = 0; s < steps; s++) {
              const at = dY + s * B * H;
              k.dropoutBackward(B * H, keep, dropoutSeed(fo.seed, i, t0 + s), at, at);
            }
          }
          k.add(B * H, a.dhCarry[i], dY + (steps - 1) * B * H);
          const dc = a.dcCarry[i]; // dc of the current step, updated in place to dcPrev
          for (let s = steps - 1; s >= 0; s--) {
            const dh = dY + s * B * H;
            if (s < steps - 1) {
              k.gemm(false, true, B, H, G, 1, a.dGates + (s + 1) * B * G, G, wh, G, 1, dh, H); // dh += dz_{t+1}·W_hᵀ
            }
            const c = a.c[i] + s * B * H; // c[s] is c_{t−1}, c[s+1] is c_t
            k.lstmCellBackward(B, H, a.gates[i] + s * B * G, c, c + B * H, dh, dc, a.dGates + s * B * G, dc);
          }
          // The gradient reaching h entering this chunk, for chunk ci−1.
          if (ci > 0) k.gemm(false, true, B, H, G, 1, a.dGates, G, wh, G, 0, a.dhCarry[i], H);
          // Weight gradients over every position of the chunk at once. h[0..steps−1] are the h_{t−1}.
          k.gemm(true, false, H, G, rows, 1, a.h[i], H, a.dGates, G, 1, layer.kernel.g + layer.input * G, G);
          k.biasBackward(rows, G, a.dGates, layer.bias.g);
          if (i === 0) {
            k.embeddingBackward(rows, G, a.ids + t0 * B, a.dGates, layer.kernel.g);
          } else {
            const In = layer.input;
            k.gemm(true, false, In, G, rows, 1, a.y[i - 1], In, a.dGates, G, 1, layer.kernel.g, G);
            const dX = dY === a.dY[0] ? a.dY[1] : a.dY[0];
            k.gemm(false, true, rows, In, G, 1, a.dGates, G, layer.kernel.w, G, 0, dX, In);
            dY = dX;
          }
        }
      };

      let lossSum = 0;
      for (let ci = 0; ci < a.chunks; ci++) {
        if (ci > 0) carryState(a.S);
        if (a.boundary >= 0) boundaryCopy(ci, true);
        lossSum += chunkForward(ci);
      }
      if (fo.backward) {
        for (let ci = a.chunks - 1; ci >= 0; ci--) {
          if (ci < a.chunks - 1) {
            boundaryCopy(ci, false);
            chunkForward(ci); // recompute this chunk's activations
          }
          chunkBackward(ci);
        }
      }
      return {
        lossSum,
        tokens,
        losses: k.f32().slice(a.losses, a.losses + N),
        preds: k.i32().slice(a.preds, a.preds + N),
      };
    } finally {
      k.release(top);
    }
  }

  // ---- Optimiser: tf_slim per-tensor clip_by_norm, then TF's Adam ----
  function applyGradients(): void {
    if (disposed) throw new PolyrnnError("the model was disposed");
    const t = step + 1;
    const lrT = (hparams.learningRate * Math.sqrt(1 - ADAM.beta2 ** t)) / (1 - ADAM.beta1 ** t);
    for (const p of params) {
      if (hparams.clipNorm > 0) {
        const norm = Math.sqrt(k.sumSquares(p.size, p.g));
        if (norm > hparams.clipNorm) k.scale(p.size, hparams.clipNorm / norm, p.g);
      }
      k.adam(p.size, lrT, ADAM.beta1, ADAM.beta2, ADAM.epsilon, p.w, p.g, p.m, p.v);
    }
    step = t;
  }

  // ---- Import and export ----
  const read = (p: Param, at: number, name = p.name): NamedTensor => ({
    name,
    shape: [...p.shape],
    data: k.f32().slice(at, at + p.size),
  });

  function load(
    tensors: NamedTensor[],
    slots: [suffix: string, which: "w" | "m" | "v"][],
    what: string,
  ): void {
    const byName = new Map(tensors.map((t) => [t.name, t]));
    const found: [number, Float32Array][] = [];
    for (const p of params) {
      for (const [suffix, which] of slots) {
        const name = p.name + suffix;
        const t = byName.get(name);
        if (t === undefined) throw new PolyrnnError(`${what}: missing tensor ${name}`);
        const shapeOk = t.shape.length === p.shape.length && t.shape.every((d, i) => d === p.shape[i]);
        if (!shapeOk || t.data.length !== p.size) {
          throw new PolyrnnError(`${what}: tensor ${name} has shape [${t.shape}], expected [${p.shape}]`);
        }
        found.push([p[which], t.data]);
      }
    }
    const f = k.f32();
    for (const [at, data] of found) f.set(data, at);
  }

  return {
    hparams,
    kernels,
    layers,
    softmax: { weights: fcW, biases: fcB },
    forward,
    applyGradients,
    get step() {
      return step;
    },
    exportWeights: () => params.map((p) => read(p, p.w)),
    importWeights: (tensors) => load(tensors, [["", "w"]], "weights"),
    exportGradients: () => params.map((p) => read(p, p.g)),
    exportOptimizer: () => ({
      step,
      tensors: params.flatMap((p) => [read(p, p.m, `${p.name}/Adam`), read(p, p.v, `${p.name}/Adam_1`)]),
    }),
    importOptimizer(state: OptimizerState): void {
      if (!Number.isSafeInteger(state.step) || state.step < 0) {
        throw new PolyrnnError(`optimizer state: bad step ${state.step}`);
      }
      load(
        state.tensors,
        [
          ["/Adam", "m"],
          ["/Adam_1", "v"],
        ],
        "optimizer state",
      );
      step = state.step;
    },
    dispose(): void {
      if (disposed) return;
      disposed = true;
      k.release(baseMark);
    },
  };
}

function checkBatch(b: Batch): void {
  const { batchSize: B, length: T } = b;
  if (!Number.isInteger(B) || B < 1 || !Number.isInteger(T) || T < 0) {
    throw new PolyrnnError(`batch: bad shape ${T}×${B}`);
  }
  if (b.inputs.length !== T * B || b.labels.length !== T * B || b.lengths.length !== B) {
    throw new PolyrnnError(`batch: arrays do not match its shape ${T}×${B}`);
  }
  for (const arr of [b.inputs, b.labels]) {
    for (let r = 0; r < arr.length; r++) {
      if (arr[r] < -1 || arr[r] >= V) throw new PolyrnnError(`batch: event id ${arr[r]} out of range`);
    }
  }
}
