/**
 * The trained LSTM as an `EventRnn` for generation: the weight layout, input projection and cell of
 * training (src/model/lstm.ts: weightShapes/lstmParams, projectInputs, lstmCell) with dropout off
 * (Magenta's generate mode) and a state per sequence. All sequences of a call run as one batch; sequences
 * fed fewer events than others keep their state once their events run out. It gives logits; the sampler
 * (sampler.ts) turns them into log-probabilities and draws, in the same heap.
 *
 * Per step, for n sequences (bench/README.md, "Generation", measures each piece):
 * - every sequence's state is one row of a state matrix M in the kernels' heap, laid out
 *   [h₀ old | h₀ new | h₁ old | h₁ new | … | c₀ old | c₀ new | …], so that layer i ≥ 1 multiplies the
 *   adjacent [h_{i−1} new | h_i old] by its whole kernel [W_x; W_h] in ONE product (layer 0's one-hot
 *   input is a row lookup of W_x plus the product with h₀ old), and the cell writes its c and h in place
 *   (lstmCell with the row's stride);
 * - weights too big for L2 (3×256's layers) are packed once for gemmPacked, which steps of ≥ 3 sequences
 *   use (the same bits as gemm, without re-packing the weights every step);
 * - the logits of all rows are one buffer, handed to the caller (the sampler: log-softmax of all rows in
 *   one kernel call, and the draws in another);
 * - M stays resident between calls: a call that continues exactly the sequences of the previous call, in
 *   order, copies nothing in; otherwise each row is copied in from its state's snapshot. States handed out
 *   are immutable snapshots (one copy of M per call), so beams may share and revisit them freely.
 */
import { PolyrnnError } from "../errors.js";
import { NUM_CLASSES as V } from "../events/codec.js";
import type { Kernels } from "../kernels/types.js";
import type { NamedTensor } from "../model/api.js";
import { layerSizesOf, lstmCell, lstmParams, type Param, projectInputs } from "../model/lstm.js";
import type { EventRnn, RnnState } from "./rnn.js";

// Weights of at least this many floats (512 KiB: past a core's share of L2) are packed for gemmPacked, and
// used packed from this many rows on (bench/README.md: 3×1024×512 and up gain, 1–2 rows lose).
const PACK_MIN_FLOATS = 1 << 17;
const PACKED_MIN_ROWS = 3;
// Floats per block of state snapshots (1 MiB).
const JOURNAL_FLOATS = 1 << 18;

/** A copy of the state matrix after a call (rows × width); `gen` identifies the call. */
interface Snapshot {
  buf: Float32Array;
  gen: number;
}

/** One sequence's state: row `row` of a snapshot (its "old" halves hold the state). */
interface LstmState {
  snap: Snapshot;
  row: number;
}

function weightParam(k: Kernels, t: NamedTensor): Param {
  const w = k.alloc(t.data.length);
  k.f32().set(t.data, w);
  return { name: t.name, shape: t.shape, size: t.data.length, w, g: -1, m: -1, v: -1 };
}

export function createLstmRnn(k: Kernels, weights: readonly NamedTensor[]): EventRnn & { dispose(): void } {
  const find = (name: string, shape: number[]): NamedTensor => {
    const t = weights.find((w) => w.name === name);
    if (!t) throw new PolyrnnError(`the model has no tensor ${name}`);
    if (t.shape.length !== shape.length || t.shape.some((d, i) => d !== shape[i])) {
      throw new PolyrnnError(`tensor ${name} has shape [${t.shape}], expected [${shape}]`);
    }
    return t;
  };
  const sizes = layerSizesOf(weights);
  const L = sizes.length;
  const base = k.mark();
  const {
    layers,
    softmax: { weights: fcW, biases: fcB },
  } = lstmParams(sizes, (name, shape) => weightParam(k, find(name, shape)));

  // The per-step products: layer 0's h₀·W_h, layer i's [h_{i−1} | h_i]·[W_x; W_h], the output layer. Weights
  // past L2 (PACK_MIN_FLOATS) are also packed for gemmPacked, which batched steps use; packed on the first
  // such step, so that single-sequence generation does not pay for it.
  const product = (b: number, rows: number, cols: number) => ({
    b,
    rows,
    cols,
    packable: rows * cols >= PACK_MIN_FLOATS,
    packed: -1,
  });
  const products = layers.map((layer, i) =>
    i === 0
      ? product(layer.kernel.w + layer.input * 4 * layer.hidden, layer.hidden, 4 * layer.hidden)
      : product(layer.kernel.w, layer.input + layer.hidden, 4 * layer.hidden),
  );
  const fcProduct = product(fcW.w, sizes[L - 1], V);

  /** C (n × cols) = A · B (+ C when accumulate), A with row stride W. */
  function multiply(
    n: number,
    pr: ReturnType<typeof product>,
    a: number,
    accumulate: boolean,
    c: number,
  ): void {
    if (pr.packable && n >= PACKED_MIN_ROWS) {
      if (pr.packed < 0) {
        pr.packed = k.alloc(k.gemmPackedSize(pr.rows, pr.cols));
        k.packGemmB(pr.rows, pr.cols, pr.b, pr.cols, pr.packed);
      }
      k.gemmPacked(false, n, pr.cols, pr.rows, 1, a, W, pr.packed, accumulate ? 1 : 0, c, pr.cols);
    } else {
      k.gemm(false, false, n, pr.cols, pr.rows, 1, a, W, pr.b, pr.cols, accumulate ? 1 : 0, c, pr.cols);
    }
  }

  // Column offsets of the state row (see the header).
  const sumH = sizes.reduce((a, b) => a + b, 0);
  const W = 4 * sumH;
  const hOld: number[] = [];
  const cOld: number[] = [];
  for (let i = 0, at = 0; i < L; at += 2 * sizes[i], i++) {
    hOld.push(at);
    cOld.push(2 * sumH + at);
  }
  const equalSizes = sizes.every((H) => H === sizes[0]);
  const maxH = Math.max(...sizes);

  // The resident state matrix (grown on demand) and what it holds: rows 0 … residentRows−1 of the
  // snapshot of call `residentGen` (≥ 1), in order; 0 = nothing known.
  let M = -1;
  let capacity = 0;
  // Scratch for `capacity` rows, allocated with M: ids (i32), gates, logits.
  let ids = -1;
  let gates = -1;
  let logits = -1;
  let residentGen = 0;
  let residentRows = 0;
  let gen = 0;
  const zero: LstmState = { snap: { buf: new Float32Array(W), gen: -1 }, row: 0 };

  function reserve(n: number): void {
    if (n <= capacity) return;
    capacity = Math.max(n, 2 * capacity, 8);
    // The old blocks stay until dispose (the arena frees in stack order); growth doubles, so they are few.
    M = k.alloc(capacity * W);
    ids = k.alloc(capacity);
    gates = k.alloc(capacity * 4 * maxH);
    logits = k.alloc(capacity * V);
    residentGen = 0;
  }

  /** Copies the entering states into M (rows 0 … n−1), unless M already holds exactly them. */
  function loadStates(states: readonly RnnState[]): void {
    const n = states.length;
    reserve(n);
    let resident = true;
    for (let r = 0; r < n && resident; r++) {
      const s = states[r] as LstmState;
      resident = s.snap.gen === residentGen && s.row === r && r < residentRows;
    }
    if (resident) return;
    const f = k.f32();
    for (let r = 0; r < n; r++) {
      const s = states[r] as LstmState;
      if (!s || !(s.snap?.buf instanceof Float32Array)) {
        throw new PolyrnnError("internal: a state that this model did not make");
      }
      f.set(s.snap.buf.subarray(s.row * W, (s.row + 1) * W), M + r * W);
    }
    residentGen = 0;
  }

  /** Layers and the output layer for one position of n sequences: logits (n × V) from ids (n). */
  function forward(n: number): void {
    for (let i = 0; i < L; i++) {
      const H = sizes[i];
      const { bias, input } = layers[i];
      if (i === 0) {
        // One-hot input: row `id` of W_x plus the bias (bias only for id −1), then + h₀ old · W_h.
        projectInputs(k, layers[0], true, n, ids, gates);
        multiply(n, products[0], M + hOld[0], true, gates);
      } else {
        // [h_{i−1} new | h_i old] · [W_x; W_h] in one product.
        multiply(n, products[i], M + hOld[i - 1] + input, false, gates);
        k.addBias(n, 4 * H, bias.w, gates);
      }
      lstmCell(k, n, H, gates, M + cOld[i], M + cOld[i] + H, M + hOld[i] + H, W);
    }
    multiply(n, fcProduct, M + hOld[L - 1] + sizes[L - 1], false, logits);
    k.addBias(n, V, fcB.w, logits);
  }

  /** new → old for rows r0 … r1−1 (their sequences advanced). */
  function advance(r0: number, r1: number): void {
    const rows = r1 - r0;
    if (rows <= 0) return;
    if (equalSizes) {
      // M as (n·2L) segments of [old | new], each 2H wide.
      const H = sizes[0];
      k.copyRows(rows * 2 * L, H, M + r0 * W + H, 2 * H, M + r0 * W, 2 * H);
      return;
    }
    for (let i = 0; i < L; i++) {
      const H = sizes[i];
      k.copyRows(rows, H, M + r0 * W + hOld[i] + H, W, M + r0 * W + hOld[i], W);
      k.copyRows(rows, H, M + r0 * W + cOld[i] + H, W, M + r0 * W + cOld[i], W);
    }
  }

  // Snapshots are views into large blocks ("journal"), filled in order: a step then costs a copy, not an
  // ArrayBuffer of its own (whose allocation and collection cost more than the copy for small models). A
  // block is freed by the garbage collector once no state in it is referenced.
  let journal = new Float32Array(0);
  let journalAt = 0;

  /** The states after a call: one snapshot of M's n rows, which stays resident. */
  function saveStates(n: number): LstmState[] {
    const size = n * W;
    if (journalAt + size > journal.length) {
      journal = new Float32Array(Math.max(JOURNAL_FLOATS, 4 * size));
      journalAt = 0;
    }
    const buf = journal.subarray(journalAt, journalAt + size);
    journalAt += size;
    buf.set(k.f32().subarray(M, M + size));
    const snap: Snapshot = { buf, gen: ++gen };
    residentGen = snap.gen;
    residentRows = n;
    const out: LstmState[] = [];
    for (let r = 0; r < n; r++) out.push({ snap, row: r });
    return out;
  }

  return {
    numClasses: V,
    kernels: k,
    zeroState: (): RnnState => zero,
    run(states, inputs, onLogits) {
      const n = inputs.length;
      if (states.length !== n) throw new PolyrnnError("internal: states and inputs differ in number");
      const longest = Math.max(0, ...inputs.map((x) => x.length));
      loadStates(states);
      residentGen = 0; // M changes from here on
      for (let p = 0; p < longest; p++) {
        const i32 = k.i32();
        for (let r = 0; r < n; r++) i32[ids + r] = p < inputs[r].length ? inputs[r][p] : -1;
        forward(n);
        onLogits(p, logits);
        // Rows that advance: their new state becomes the state in (runs of consecutive rows at once).
        let r0 = -1;
        for (let r = 0; r <= n; r++) {
          const moves = r < n && p < inputs[r].length;
          if (moves) {
            if (r0 < 0) r0 = r;
          } else if (r0 >= 0) {
            advance(r0, r);
            r0 = -1;
          }
        }
      }
      return saveStates(n);
    },
    dispose() {
      k.release(base);
    },
  };
}
