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
 * walk step by step, each layer's time loop of a chunk in one kernel call (lstmRecurrentForward/Backward,
 * which the WebAssembly kernels split over threads by rows, for the whole chunk).
 *
 * Packing. Sequences are padded at the END only (label −1, input −1), and nothing is computed for the
 * padding: the batch's sequences are ordered longest first (`packBatch`), so the ones still running at step t
 * are the first rows[t] rows, and every activation is stored packed, step after step, rows[t] rows each
 * (PyTorch's PackedSequence). Each step's recurrent gemm and cell run on rows[t] rows; everything batched
 * over positions runs on the real positions alone. The loss is Magenta's token-mean over real positions,
 * exactly: a padded position contributes nothing to it or to any gradient (nothing real depends on it, as
 * the recurrence runs forward in time), so computing it, as Magenta's dynamic_rnn does, is pure waste.
 * `padded: true` computes it anyway (same order, same results on real positions), to measure that waste.
 * Dropout masks follow the packed rows: element r·H + u of step t's call belongs to packed row r.
 *
 * Memory. Long batches are cut into chunks of consecutive time steps of at most R positions each. The
 * forward pass keeps, per chunk, only the states entering it; the backward pass walks the chunks in reverse,
 * recomputes a chunk's forward from its entering state, then backpropagates through it. The chunks are cut
 * from the last step back, so the last one, whose activations are still in place when the backward pass
 * starts, is as full as whole steps allow (up to R positions) and only the positions before it are
 * computed twice. When the whole batch fits one chunk (the common case) nothing is recomputed. Bytes, with
 * V = 259, d = 1 with dropout, b = 1 with backward, H_max the widest layer:
 *   per chunk position: 4·[Σ_k (6 + d)·H_k + 2V + 7b·H_max]
 *     (gates 4H, c H, h H, dropout output H, logits and dLogits V each; backward: dGates 4H_max, dY 2H_max,
 *     the positions' h_{t−1} H_max)
 *   per batch position: 24 (ids, labels, losses, preds, and their packed copies), plus 8·Σ_k H_k per
 *     sequence per chunk boundary; the entering state, B rows per chunk buffer of c and h
 *   parameters: 16 bytes per weight (weights, gradients, Adam m and v)
 *   R = floor(activationBytes / position bytes), default activationBytes 256 MiB.
 * For 3×256: 30,744 B per position → R = 8,731 positions (136 steps of 64 sequences). A batch of N > R real
 * positions pays about (N − R)/N of an extra forward pass (a forward pass is ≈ 1/3 of the step), the others
 * nothing; a larger `activationBytes` trades memory for that time (`activationBudget` is the CLI's choice).
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
/**
 * The most `activationBudget` gives: a 3×256 batch of 64 whole Bach chorales (about 78,000–83,000 real
 * positions of 30,744 B) fits in one chunk, and the kernels' 4 GiB heap keeps room for the weights and larger models.
 */
export const MAX_ACTIVATION_BUDGET = 2560 * 2 ** 20;

/**
 * Where the chunks of T steps begin (0 first) so that each holds at most `budget` positions (a single step
 * above it stands alone), step t holding offsets[t + 1] − offsets[t]. They are cut from the last step back:
 * the last chunk, whose activations are still in place when the backward pass starts, is as full as the
 * budget allows, so the forward computed again for the chunks before it is as short as it can be.
 */
export function chunkStarts(offsets: ArrayLike<number>, T: number, budget: number): number[] {
  const cuts: number[] = [];
  let to = T;
  for (let t = T - 1; t > 0; t--) {
    if (offsets[to] - offsets[t - 1] > budget) {
      cuts.push(t);
      to = t;
    }
  }
  return [0, ...cuts.reverse()];
}

/**
 * The activation memory `polyrnn train` gives a batch when not told: an eighth of `freeBytes` (the memory
 * free on the machine), at least DEFAULT_ACTIVATION_BYTES and at most MAX_ACTIVATION_BUDGET.
 */
export function activationBudget(freeBytes: number): number {
  return Math.min(MAX_ACTIVATION_BUDGET, Math.max(DEFAULT_ACTIVATION_BYTES, Math.floor(freeBytes / 8)));
}

export interface ModelOptions {
  /** Seed of the weight initialisation. */
  seed: number;
  /** Longest track expected: the heap is grown once, up front, for a batch of tracks this long. */
  maxLength?: number;
  /**
   * The lengths of the largest batch the data can give (its batch-size longest tracks): the heap is grown
   * once for that batch's real positions, which packed batches never exceed; tighter than `maxLength`.
   */
  maxLengths?: readonly number[];
  /** Target size of one chunk's activations (see Memory above). */
  activationBytes?: number;
  /** Time steps per chunk, overriding activationBytes (tests use it to exercise the chunked path). */
  chunkSteps?: number;
}

/** The model plus what tests, diagnostics and a generator's stepper need beyond the contract. */
export interface LstmModel extends PolyphonyModel {
  /** Gradients of the last `forward(…, { backward: true })`, named like the weights: copies. */
  exportGradients(): NamedTensor[];
  /** The LSTM layers' parameters in the heap. */
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
 * The model's tensors in Magenta's variable order, with TensorFlow's shapes (spec §4.7): per layer k its
 * kernel [in_k + H_k, 4H_k] (rows W_x then W_h; columns the gate blocks i, j, f, o) and bias [4H_k], then
 * the softmax layer's weights [H_last, 259] and biases [259]. The one weight layout of training, the
 * generation stepper and the model-file checks.
 */
export function weightShapes(sizes: readonly number[]): { name: string; shape: number[] }[] {
  const out: { name: string; shape: number[] }[] = [];
  let input = V; // layer k's input: the one-hot event, then the layer below
  sizes.forEach((H, i) => {
    out.push({ name: cellName(i, "kernel"), shape: [input + H, 4 * H] });
    out.push({ name: cellName(i, "bias"), shape: [4 * H] });
    input = H;
  });
  out.push({ name: "fully_connected/weights", shape: [input, V] });
  out.push({ name: "fully_connected/biases", shape: [V] });
  return out;
}

/**
 * The layers and the softmax layer of a model with these layer sizes, made by `param(name, shape)` once
 * per tensor of `weightShapes`, in its order: training allocates each with its gradient and Adam's
 * moments, the generation stepper loads each from the weights.
 */
export function lstmParams(
  sizes: readonly number[],
  param: (name: string, shape: number[]) => Param,
): { layers: LstmLayer[]; softmax: { weights: Param; biases: Param } } {
  const made = weightShapes(sizes).map((t) => param(t.name, t.shape));
  const layers = sizes.map((H, i) => ({
    input: made[2 * i].shape[0] - H,
    hidden: H,
    kernel: made[2 * i],
    bias: made[2 * i + 1],
  }));
  return { layers, softmax: { weights: made[2 * sizes.length], biases: made[2 * sizes.length + 1] } };
}

/** Layer sizes from the kernels' shapes ([in + H, 4H]), so that weights need no separate hparams to run. */
export function layerSizesOf(weights: readonly NamedTensor[]): number[] {
  const sizes: number[] = [];
  for (let i = 0; ; i++) {
    const kernel = weights.find((t) => t.name === cellName(i, "kernel"));
    if (!kernel) break;
    sizes.push(kernel.shape[1] / 4);
  }
  if (sizes.length === 0)
    throw new PolyrnnError(`no ${cellName(0, "kernel")} among the weights: not a Polyphony RNN`);
  return sizes;
}

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
 * The packing of a batch: its sequences sorted by length, longest first (ties in column order), so that
 * the sequences still running at step t are the first `rows[t]` of the order, and step t's positions
 * sit at `offsets[t] … offsets[t] + rows[t]` of the packed arrays. Nothing is computed for a position
 * past its sequence's end. `padded` keeps every row to the batch's length (computed through the padding,
 * as Magenta does and polyrnn did before packing): the same order, the same results on real positions.
 */
export interface PackedLayout {
  /** order[r] = the batch column of packed row r. */
  order: Int32Array;
  /** rows[t] = sequences running at step t (non-increasing in t). */
  rows: Int32Array;
  /** offsets[t] = Σ_{s<t} rows[s]; offsets[T] = every computed position. */
  offsets: Float64Array;
}

export function packBatch(lengths: Int32Array, T: number, padded = false): PackedLayout {
  const B = lengths.length;
  const order = Int32Array.from({ length: B }, (_, b) => b).sort((a, b) => lengths[b] - lengths[a] || a - b);
  const rows = new Int32Array(T);
  for (let t = 0, r = B; t < T; t++) {
    if (padded) {
      rows[t] = B;
      continue;
    }
    while (r > 0 && lengths[order[r - 1]] <= t) r--;
    rows[t] = r;
  }
  const offsets = new Float64Array(T + 1);
  for (let t = 0; t < T; t++) offsets[t + 1] = offsets[t] + rows[t];
  return { order, rows, offsets };
}

/** One chunk of consecutive steps: step s's rows at packed offset `at[s]` of the chunk, `at[steps]` in all. */
export interface StepRows {
  /** The chunk's first step in the batch. */
  t0: number;
  steps: number;
  /** rows[s]: rows at step s. */
  rows: ArrayLike<number>;
  /** at[s]: packed offset of step s, relative to the chunk (at[0] = 0). */
  at: ArrayLike<number>;
}

/**
 * Copies of a model's weight matrices packed once by packGemmB, for gemmPacked (heap offsets; −1: not
 * packed): for weights multiplied many times without changing (the generation stepper), where `gemm`'s
 * packing of B on every call costs more than the product's small A. Products of at least
 * PACKED_MIN_ROWS rows use them (bench/README.md, "bench:generate": 3×1024×512 and up gain, 1–2 rows lose);
 * gemmPacked gives gemm's bits, so results do not depend on it.
 */
export interface PackedWeights {
  /** Per layer: W_x (−1 for layer 0, whose one-hot input is a row lookup) and W_h. */
  layers: readonly { readonly wx: number; readonly wh: number }[];
  /** The softmax layer's weights. */
  softmax: number;
}
export const PACKED_MIN_ROWS = 3;
/** Matrices of at least this many floats (512 KiB: past a core's share of L2) are worth packing. */
const PACK_MIN_FLOATS = 1 << 17;

/**
 * Packs the matrices of these layers and softmax layer that are large enough to gain (PACK_MIN_FLOATS),
 * in heap memory it allocates; valid while the weights do not change.
 */
export function packWeights(
  k: Kernels,
  layers: readonly LstmLayer[],
  softmax: { readonly weights: Param },
): PackedWeights {
  const pack = (b: number, rows: number, cols: number): number => {
    if (rows * cols < PACK_MIN_FLOATS) return -1;
    const out = k.alloc(k.gemmPackedSize(rows, cols));
    k.packGemmB(rows, cols, b, cols, out);
    return out;
  };
  return {
    layers: layers.map((layer, i) => {
      const G = 4 * layer.hidden;
      return {
        wx: i === 0 ? -1 : pack(layer.kernel.w, layer.input, G),
        wh: pack(layer.kernel.w + layer.input * G, layer.hidden, G),
      };
    }),
    softmax: pack(softmax.weights.w, softmax.weights.shape[0], softmax.weights.shape[1]),
  };
}

/**
 * C (rows × cols, contiguous) = A · W for a weight matrix W (inner × cols, row stride cols) at heap offset
 * `w`, A with row stride `lda`: gemmPacked on W's packed copy `packed` (if ≥ 0) from PACKED_MIN_ROWS rows
 * on, else gemm.
 */
function timesWeights(
  k: Kernels,
  rows: number,
  inner: number,
  cols: number,
  a: number,
  lda: number,
  w: number,
  packed: number,
  c: number,
): void {
  if (packed >= 0 && rows >= PACKED_MIN_ROWS)
    k.gemmPacked(false, rows, cols, inner, 1, a, lda, packed, 0, c, cols);
  else k.gemm(false, false, rows, cols, inner, 1, a, lda, w, cols, 0, c, cols);
}

/**
 * A layer's input projection for `rows` positions: gates = x·W_x + b. Layer 0's x is one-hot, so this is
 * a row lookup by event id (`input` holds i32 ids; −1 gives the bias alone); deeper layers read a
 * rows×in_k float matrix. `packed`: W_x's packed copy (PackedWeights), or −1.
 */
export function projectInputs(
  k: Kernels,
  layer: LstmLayer,
  first: boolean,
  rows: number,
  input: number,
  gates: number,
  packed = -1,
): void {
  const width = 4 * layer.hidden;
  if (first) {
    k.embeddingForward(rows, width, input, layer.kernel.w, layer.bias.w, gates);
  } else {
    timesWeights(k, rows, layer.input, width, input, layer.input, layer.kernel.w, packed, gates);
    k.addBias(rows, width, layer.bias.w, gates);
  }
}

/**
 * The output layer for `rows` positions: logits (rows × 259) = y·W + b, y the top layer's output (rows × H,
 * contiguous). `packed`: W's packed copy (PackedWeights), or −1.
 */
export function outputLogits(
  k: Kernels,
  softmax: { readonly weights: Param; readonly biases: Param },
  rows: number,
  y: number,
  logits: number,
  packed = -1,
): void {
  const HL = softmax.weights.shape[0];
  timesWeights(k, rows, HL, V, y, HL, softmax.weights.w, packed, logits);
  k.addBias(rows, V, softmax.biases.w, logits);
}

/**
 * The state buffers of one layer over a chunk: B entering rows (c_{−1}, h_{−1}; only the first rows[0]
 * are read), then every step's rows, packed. `prev(s)` is where step s reads c_{t−1}, h_{t−1}: the first
 * rows[s] rows of step s−1 (a prefix, since rows never grow).
 */
const statePrev = (buf: number, B: number, H: number, sr: StepRows, s: number): number =>
  s === 0 ? buf : buf + (B + sr.at[s - 1]) * H;
const stateAt = (buf: number, B: number, H: number, sr: StepRows, s: number): number =>
  buf + (B + sr.at[s]) * H;

/**
 * The chunk's row counts (`sr.rows`) as the i32 table in the heap that the recurrent kernels read
 * (Kernels.lstmRecurrentForward's stepRows), for the duration of `run`.
 */
function withStepRows(k: Kernels, sr: StepRows, run: (stepRows: number) => void): void {
  const mark = k.mark();
  try {
    const table = k.alloc(sr.steps);
    const I = k.i32();
    for (let s = 0; s < sr.steps; s++) I[table + s] = sr.rows[s];
    run(table);
  } finally {
    k.release(mark);
  }
}

/**
 * Forward of one LSTM layer over a chunk (TensorFlow's BasicLSTMCell, FORGET_BIAS added at run time): on
 * entry `gates` holds every position's input projection x·W_x + b (packed), c and h the entering state; each
 * step adds h_{t−1}·W_h, then the cell turns the gates into their activations (order i, j, f, o) and
 * writes c = c_{t−1}·σ(f + 1) + σ(i)·tanh(j), h = tanh(c)·σ(o). On return c and h hold every step's state.
 * The time loop is one kernel call (Kernels.lstmRecurrentForward). `packedWh`: W_h's packed copy
 * (PackedWeights), or −1; used from PACKED_MIN_ROWS rows on.
 */
export function lstmLayerForward(
  k: Kernels,
  layer: LstmLayer,
  B: number,
  sr: StepRows,
  gates: number,
  c: number,
  h: number,
  packedWh = -1,
): void {
  const H = layer.hidden;
  const wh = layer.kernel.w + layer.input * 4 * H;
  const packed = sr.rows[0] >= PACKED_MIN_ROWS ? packedWh : -1;
  withStepRows(k, sr, (rows) =>
    k.lstmRecurrentForward(sr.steps, B, H, FORGET_BIAS, rows, wh, packed, gates, c, h),
  );
}

/**
 * Backward of one LSTM layer over a chunk, walking the steps in reverse. On entry `dh` holds, per
 * position (packed), the gradient reaching h from above; `dhCarry` (the first rows[steps] rows: the
 * sequences running on into the next chunk) the gradient reaching this chunk's last h from the next
 * chunk, and `dc` (B×H) the gradient reaching its last c (rows past the running ones are 0). On return
 * `dGates` holds the gradient of every position's gate pre-activations, `dc` the gradient reaching the
 * entering c, `dhCarry` (if `carryOut`) the one reaching the entering h, and W_h's and the bias's
 * gradients are accumulated. The time loop is one kernel call (Kernels.lstmRecurrentBackward); the
 * weight gradients are one product each over the chunk's positions. `hPrev` is scratch for the positions'
 * h_{t−1} (rows×H), or −1 when every step has B rows (then they are contiguous in h).
 */
export function lstmLayerBackward(
  k: Kernels,
  layer: LstmLayer,
  B: number,
  sr: StepRows,
  nextRows: number,
  gates: number,
  c: number,
  h: number,
  dh: number,
  dhCarry: number,
  dc: number,
  dGates: number,
  carryOut: boolean,
  hPrev: number,
): void {
  const H = layer.hidden;
  const G = 4 * H;
  const wh = layer.kernel.w + layer.input * G;
  if (nextRows > 0) k.add(nextRows * H, dhCarry, dh + sr.at[sr.steps - 1] * H);
  withStepRows(k, sr, (rows) => k.lstmRecurrentBackward(sr.steps, B, H, rows, wh, gates, c, dh, dc, dGates));
  // The gradient reaching h entering this chunk, for the chunk before.
  if (carryOut) k.gemm(false, true, sr.rows[0], H, G, 1, dGates, G, wh, G, 0, dhCarry, H);
  const rows = sr.at[sr.steps];
  let prev = h;
  if (hPrev >= 0) {
    for (let s = 0; s < sr.steps; s++)
      k.copyRows(sr.rows[s], H, statePrev(h, B, H, sr, s), H, hPrev + sr.at[s] * H, H);
    prev = hPrev;
  }
  k.gemm(true, false, H, G, rows, 1, prev, H, dGates, G, 1, layer.kernel.g + layer.input * G, G);
  k.biasBackward(rows, G, dGates, layer.bias.g);
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
  const { layers, softmax } = lstmParams(sizes, param);
  const { weights: fcW, biases: fcB } = softmax;

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

  // ---- Activation buffers, allocated per batch ----
  const rowFloats = (dropout: boolean, backward: boolean): number =>
    sizes.reduce((sum, H) => sum + (dropout ? 7 : 6) * H, 0) + 2 * V + (backward ? 7 * hMax : 0);

  /** Cuts the steps into chunks: `chunkSteps` steps each, or as many steps as fit the row budget. */
  function chunksOf(layout: PackedLayout, T: number, dropout: boolean, backward: boolean): StepRows[] {
    const starts = [0];
    if (opts.chunkSteps !== undefined) {
      const S = Math.max(1, opts.chunkSteps);
      for (let t = S; t < T; t += S) starts.push(t);
    } else {
      const bytes = opts.activationBytes ?? DEFAULT_ACTIVATION_BYTES;
      const budget = Math.max(1, Math.floor(bytes / (4 * rowFloats(dropout, backward))));
      starts.push(...chunkStarts(layout.offsets, T, budget).slice(1));
    }
    return starts.map((t0, ci) => {
      const steps = (starts[ci + 1] ?? T) - t0;
      return {
        t0,
        steps,
        rows: layout.rows.subarray(t0, t0 + steps),
        at: Float64Array.from({ length: steps + 1 }, (_, s) => layout.offsets[t0 + s] - layout.offsets[t0]),
      };
    });
  }

  /** Positions of the largest chunk: the rows of every chunk buffer. */
  const largestChunk = (chunks: readonly StepRows[]): number =>
    Math.max(1, ...chunks.map((c) => c.at[c.steps]));

  interface Activations {
    ids: number;
    labels: number;
    losses: number;
    preds: number;
    gates: number[];
    c: number[];
    h: number[];
    /** Layer outputs after dropout (rows×H), or h[k] + B·H (the steps' h) without dropout. */
    y: number[];
    logits: number;
    dLogits: number;
    /** The states entering each chunk: [chunk][layer] → c, then h (B×H each). Backward with ≥ 2 chunks. */
    boundary: number;
    dGates: number;
    dY: [number, number];
    hPrev: number;
    dhCarry: number[];
    dcCarry: number[];
  }

  function allocate(
    B: number,
    N: number,
    R: number,
    chunks: number,
    dropout: boolean,
    backward: boolean,
  ): Activations {
    const a: Activations = {
      ids: k.alloc(N),
      labels: k.alloc(N),
      losses: k.alloc(N),
      preds: k.alloc(N),
      gates: sizes.map((H) => k.alloc(R * 4 * H)),
      c: sizes.map((H) => k.alloc((B + R) * H)),
      h: sizes.map((H) => k.alloc((B + R) * H)),
      y: [],
      logits: k.alloc(R * V),
      dLogits: k.alloc(R * V),
      boundary: backward && chunks > 1 ? k.alloc(chunks * B * 2 * sizes.reduce((s, H) => s + H, 0)) : -1,
      dGates: backward ? k.alloc(R * 4 * hMax) : -1,
      dY: backward ? [k.alloc(R * hMax), k.alloc(R * hMax)] : [-1, -1],
      hPrev: backward ? k.alloc(R * hMax) : -1,
      dhCarry: backward ? sizes.map((H) => k.alloc(B * H)) : [],
      dcCarry: backward ? sizes.map((H) => k.alloc(B * H)) : [],
    };
    a.y = sizes.map((H, i) => (dropout ? k.alloc(R * H) : a.h[i] + B * H));
    return a;
  }

  {
    // Grows the heap once, for the largest batch expected (the longest tracks, or B of the longest length).
    const B = hparams.batchSize;
    const lengths = new Int32Array(B);
    if (opts.maxLengths) {
      const longest = [...opts.maxLengths].sort((a, b) => b - a).slice(0, B);
      lengths.set(longest.map((n) => Math.max(0, Math.floor(n))));
    } else if (opts.maxLength !== undefined && opts.maxLength > 0) lengths.fill(opts.maxLength);
    const T = lengths.reduce((m, n) => Math.max(m, n), 0);
    if (T > 0) {
      const full = packBatch(lengths, T);
      const chunks = chunksOf(full, T, keep < 1, true);
      allocate(B, full.offsets[T], largestChunk(chunks), chunks.length, keep < 1, true);
      k.release(paramsMark);
    }
  }

  // ---- Forward and backward ----
  function forward(batch: Batch, fo: ForwardOptions): ForwardResult {
    if (disposed) throw new PolyrnnError("the model was disposed");
    checkBatch(batch);
    const B = batch.batchSize;
    const T = batch.length;
    const dropout = fo.dropout && keep < 1;
    const padded = fo.padded === true;
    // Steps computed: all T when padded, else up to the longest sequence.
    const Tc = padded ? T : batch.lengths.reduce((m, n) => Math.max(m, n), 0);
    const layout = packBatch(batch.lengths, Tc, padded);
    const { order, rows: rowsAt, offsets } = layout;
    const N = offsets[Tc];
    if (N === 0)
      return {
        lossSum: 0,
        tokens: 0,
        losses: new Float32Array(T * B),
        preds: new Int32Array(T * B).fill(-1),
      };
    // The packed positions: p = offsets[t] + r is step t of column order[r].
    const ids = new Int32Array(N);
    const labels = new Int32Array(N);
    let tokens = 0;
    for (let t = 0; t < Tc; t++) {
      for (let r = 0; r < rowsAt[t]; r++) {
        const at = t * B + order[r];
        ids[offsets[t] + r] = batch.inputs[at];
        labels[offsets[t] + r] = batch.labels[at];
        if (batch.labels[at] >= 0) tokens++;
      }
    }
    const lossScale = tokens > 0 ? 1 / tokens : 0;
    const chunks = chunksOf(layout, Tc, dropout, fo.backward);

    const top = k.mark();
    try {
      const a = allocate(B, N, largestChunk(chunks), chunks.length, dropout, fo.backward);
      k.i32().set(ids, a.ids);
      k.i32().set(labels, a.labels);
      if (fo.backward) for (const p of params) k.f32().fill(0, p.g, p.g + p.size); // (not scale by 0: NaN stays)

      /** The state after chunk ci−1's last step (its first `rows` rows matter) enters chunk ci. */
      const carryState = (prev: StepRows) => {
        const f = k.f32();
        const n = prev.rows[prev.steps - 1];
        sizes.forEach((H, i) => {
          const from = B + prev.at[prev.steps - 1];
          f.copyWithin(a.c[i], a.c[i] + from * H, a.c[i] + (from + n) * H);
          f.copyWithin(a.h[i], a.h[i] + from * H, a.h[i] + (from + n) * H);
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

      /** The forward pass of chunk ci from the state entering it; returns its summed loss. */
      const chunkForward = (ci: number): number => {
        const sr = chunks[ci];
        const t0 = sr.t0;
        const rows = sr.at[sr.steps];
        const p0 = offsets[t0];
        layers.forEach((layer, i) => {
          const H = layer.hidden;
          projectInputs(k, layer, i === 0, rows, i === 0 ? a.ids + p0 : a.y[i - 1], a.gates[i]);
          lstmLayerForward(k, layer, B, sr, a.gates[i], a.c[i], a.h[i]);
          if (dropout) {
            for (let s = 0; s < sr.steps; s++) {
              const seed = dropoutSeed(fo.seed, i, t0 + s);
              k.dropoutForward(
                sr.rows[s] * H,
                keep,
                seed,
                stateAt(a.h[i], B, H, sr, s),
                a.y[i] + sr.at[s] * H,
              );
            }
          }
        });
        outputLogits(k, softmax, rows, a.y[L - 1], a.logits);
        return k.softmaxCrossEntropy(
          rows,
          V,
          a.logits,
          a.labels + p0,
          lossScale,
          a.dLogits,
          a.losses + p0,
          a.preds + p0,
        );
      };

      /** Backpropagates chunk ci (its forward activations in place), given dhCarry/dcCarry from chunk ci+1. */
      const chunkBackward = (ci: number): void => {
        const sr = chunks[ci];
        const t0 = sr.t0;
        const rows = sr.at[sr.steps];
        const end = t0 + sr.steps;
        const nextRows = end < Tc ? rowsAt[end] : 0;
        const uniform = Array.prototype.every.call(sr.rows, (n: number) => n === B);
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
          if (dropout) {
            for (let s = 0; s < sr.steps; s++) {
              const at = dY + sr.at[s] * H;
              k.dropoutBackward(sr.rows[s] * H, keep, dropoutSeed(fo.seed, i, t0 + s), at, at);
            }
          }
          lstmLayerBackward(
            k,
            layer,
            B,
            sr,
            nextRows,
            a.gates[i],
            a.c[i],
            a.h[i],
            dY,
            a.dhCarry[i],
            a.dcCarry[i],
            a.dGates,
            ci > 0,
            uniform ? -1 : a.hPrev,
          );
          if (i === 0) {
            k.embeddingBackward(rows, G, a.ids + offsets[t0], a.dGates, layer.kernel.g);
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
      for (let ci = 0; ci < chunks.length; ci++) {
        if (ci > 0) carryState(chunks[ci - 1]);
        if (a.boundary >= 0) boundaryCopy(ci, true);
        lossSum += chunkForward(ci);
      }
      if (fo.backward) {
        for (let ci = chunks.length - 1; ci >= 0; ci--) {
          if (ci < chunks.length - 1) {
            boundaryCopy(ci, false);
            chunkForward(ci); // recompute this chunk's activations
          }
          chunkBackward(ci);
        }
      }
      // Back to the batch's time-major layout: 0 loss and class −1 where nothing was computed.
      const losses = new Float32Array(T * B);
      const preds = new Int32Array(T * B).fill(-1);
      const f = k.f32();
      const iv = k.i32();
      for (let t = 0; t < Tc; t++) {
        for (let r = 0; r < rowsAt[t]; r++) {
          const p = offsets[t] + r;
          losses[t * B + order[r]] = f[a.losses + p];
          preds[t * B + order[r]] = iv[a.preds + p];
        }
      }
      return { lossSum, tokens, losses, preds };
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
    softmax,
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
  // Positions past a sequence's length are padding: they must be marked so, or packing would drop them.
  for (let c = 0; c < B; c++) {
    const n = b.lengths[c];
    if (!Number.isInteger(n) || n < 0 || n > T)
      throw new PolyrnnError(`batch: sequence ${c} has length ${n} (batch length ${T})`);
    for (let t = n; t < T; t++) {
      if (b.labels[t * B + c] !== -1 || b.inputs[t * B + c] !== -1) {
        throw new PolyrnnError(`batch: sequence ${c} has events at step ${t}, past its length ${n}`);
      }
    }
  }
}
