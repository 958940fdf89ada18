/**
 * The numeric kernels behind training and generation. Two implementations exist: `reference.ts` (plain
 * TypeScript loops, readable; the oracle) and the WebAssembly one (SIMD, threads), checked against it.
 *
 * Memory model: every tensor lives in ONE heap — the WebAssembly memory in the fast path, an ordinary
 * (or shared) ArrayBuffer in the reference. Kernels take offsets counted in 4-byte elements into that heap,
 * so the model code is written once and runs on either implementation. Matrices are row-major.
 * Integer tensors (event ids, labels) share the heap and are read through `i32()`.
 */
export interface Kernels {
  /** Which implementation this is: `"reference"`, or `"wasm-simd"` / `"wasm-relaxed-simd"` for the WebAssembly builds. */
  readonly name: string;

  /** Float view of the whole heap. Fetch it again after `alloc`: the memory may have grown. */
  f32(): Float32Array;
  /** Int32 view of the same heap. */
  i32(): Int32Array;
  /** Reserves `count` elements, 16-byte aligned and zero-filled; returns the offset in elements. */
  alloc(count: number): number;
  /** The allocation mark; `release(mark)` frees everything allocated after it (an arena). */
  mark(): number;
  /** Frees everything allocated after `mark` (a value `mark()` returned); earlier allocations stay. */
  release(mark: number): void;

  /**
   * C[m×n] = alpha · op(A) · op(B) + beta · C, op(X) = X or Xᵀ. lda/ldb/ldc are the row strides of the
   * stored matrices (A is stored m×k, or k×m when transA). beta 0 ignores C's old contents (even NaN).
   */
  gemm(
    transA: boolean,
    transB: boolean,
    m: number,
    n: number,
    k: number,
    alpha: number,
    a: number,
    lda: number,
    b: number,
    ldb: number,
    beta: number,
    c: number,
    ldc: number,
  ): void;

  /** out[r, :] = table[ids[r], :] + bias (bias may be -1 for none). Rows with id < 0 get bias only. */
  embeddingForward(rows: number, width: number, ids: number, table: number, bias: number, out: number): void;
  /** dTable[ids[r], :] += dOut[r, :] for every row with id ≥ 0 (rows may repeat ids). */
  embeddingBackward(rows: number, width: number, ids: number, dOut: number, dTable: number): void;

  /** out[r, :] += bias for rows×width. */
  addBias(rows: number, width: number, bias: number, out: number): void;
  /** dBias[j] += Σ_r dOut[r, j]. */
  biasBackward(rows: number, width: number, dOut: number, dBias: number): void;

  /**
   * One LSTM time step for `rows` sequences, TensorFlow BasicLSTMCell semantics. `gates` holds rows×4H
   * pre-activations in the order (i, j, f, o) and is overwritten with the activations
   * (σ(i), tanh(j), σ(f + forgetBias), σ(o)), kept for the backward pass.
   *   c = cPrev·σ(f + forgetBias) + σ(i)·tanh(j);  h = tanh(c)·σ(o)
   * cPrev, c, h are rows×H with row stride H.
   */
  lstmCellForward(
    rows: number,
    hidden: number,
    forgetBias: number,
    gates: number,
    cPrev: number,
    c: number,
    h: number,
  ): void;

  /**
   * Backward of one step. Inputs: the activations in `gates`, cPrev and c from the forward pass, dh (rows×H:
   * gradient w.r.t. this step's h, everything included), dc (rows×H: gradient w.r.t. this step's c coming
   * from step t+1). Outputs: dGates (rows×4H, gradient w.r.t. the PRE-activations), and dcPrev (rows×H,
   * gradient w.r.t. cPrev; may alias dc).
   */
  lstmCellBackward(
    rows: number,
    hidden: number,
    gates: number,
    cPrev: number,
    c: number,
    dh: number,
    dc: number,
    dGates: number,
    dcPrev: number,
  ): void;

  /**
   * The recurrent loop of one LSTM layer over `steps` consecutive time steps of a packed batch, in one call:
   * for s = 0 … steps−1, gates_s += h_{s−1}·W_h, then lstmCellForward on step s's rows. The same results,
   * bit for bit, as that sequence of gemm and lstmCellForward calls on these kernels.
   *   stepRows: `steps` i32 row counts rows[s] (non-increasing, rows[0] ≤ batch); step s's rows are the
   *     packed positions at(s) … at(s) + rows[s] − 1, at(s) = Σ_{s'<s} rows[s'].
   *   wh: W_h (hidden × 4·hidden, row stride 4·hidden); packedWh: its packGemmB copy, or −1 (a hint for
   *     speed: the results are the same).
   *   gates: 4·hidden floats per position, the input projections on entry, the activations on return.
   *   c, h: `batch` entering rows (the state before step 0; the first rows[0] are read), then hidden floats
   *     per position, written. Step s reads its previous state at row r of the entering rows (s = 0) or of
   *     step s−1's rows (batch + at(s−1) + r).
   */
  lstmRecurrentForward(
    steps: number,
    batch: number,
    hidden: number,
    forgetBias: number,
    stepRows: number,
    wh: number,
    packedWh: number,
    gates: number,
    c: number,
    h: number,
  ): void;

  /**
   * The backward of lstmRecurrentForward's loop (same layout), steps walked in reverse: for s = steps−1 … 0,
   * dh_s += dGates_{s+1}·W_hᵀ on the rows[s+1] rows still running at s+1 (none for the last step), then
   * lstmCellBackward(rows[s], hidden, gates_s, c_{s−1}, c_s, dh_s, dc, dGates_s, dc). Bit for bit that
   * sequence of gemm and lstmCellBackward calls.
   *   dh: per position, the gradient reaching h from everything but the recurrence (updated in place).
   *   dc: batch rows: the gradient reaching the last step's c on entry (rows past those running: 0), the one
   *     reaching the entering c on return.
   *   dGates: per position (4·hidden), written: the gradient w.r.t. the gate pre-activations.
   */
  lstmRecurrentBackward(
    steps: number,
    batch: number,
    hidden: number,
    stepRows: number,
    wh: number,
    gates: number,
    c: number,
    dh: number,
    dc: number,
    dGates: number,
  ): void;

  /**
   * Output dropout with a counter-based random mask: element e of the call is kept iff
   * hash(seed, e) / 2³² < keep, and kept values are scaled by 1/keep. The same (seed, n, keep) gives the
   * same mask in every implementation (see reference.ts for the hash), so backward recomputes it.
   * out may alias x.
   */
  dropoutForward(n: number, keep: number, seed: number, x: number, out: number): void;
  /** The gradient of `dropoutForward` with the same (n, keep, seed): dIn = dOut · mask / keep (the mask is recomputed, not stored). dIn may alias dOut. */
  dropoutBackward(n: number, keep: number, seed: number, dOut: number, dIn: number): void;

  /**
   * Softmax cross-entropy over `classes` logits per row, for rows whose label ≥ 0 (label -1 = padding).
   * Writes dLogits = (softmax − onehot) · scale for real rows and 0 for padding rows; writes per-row loss to
   * `losses` (0 for padding) and the argmax class to `preds` (i32; -1 for padding). Returns the summed loss.
   */
  softmaxCrossEntropy(
    rows: number,
    classes: number,
    logits: number,
    labels: number,
    scale: number,
    dLogits: number,
    losses: number,
    preds: number,
  ): number;

  /** Σ x², accumulated in double precision. */
  sumSquares(n: number, x: number): number;
  /** x *= s */
  scale(n: number, s: number, x: number): void;
  /** y += x */
  add(n: number, x: number, y: number): void;

  /**
   * Adam as TensorFlow's AdamOptimizer: m = β1·m + (1−β1)·g; v = β2·v + (1−β2)·g²;
   * p −= lrT · m / (√v + ε), with lrT = lr·√(1−β2^t)/(1−β1^t) computed by the caller.
   */
  adam(
    n: number,
    lrT: number,
    beta1: number,
    beta2: number,
    epsilon: number,
    p: number,
    g: number,
    m: number,
    v: number,
  ): void;

  /** Elements `packGemmB` writes for a k×n right operand. */
  gemmPackedSize(k: number, n: number): number;
  /**
   * Packs B (k×n, row stride ldb, not transposed) into `out` (gemmPackedSize(k, n) elements) for
   * gemmPacked: for a constant operand (weights) multiplied many times, packed once.
   */
  packGemmB(k: number, n: number, b: number, ldb: number, out: number): void;
  /**
   * C[m×n] = alpha · op(A) · B + beta · C with B packed by packGemmB: the same values, bit for bit, as
   * gemm(transA, false, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc) on the unpacked B.
   */
  gemmPacked(
    transA: boolean,
    m: number,
    n: number,
    k: number,
    alpha: number,
    a: number,
    lda: number,
    packedB: number,
    beta: number,
    c: number,
    ldc: number,
  ): void;

  /** dst[r, 0:width] = src[r, 0:width] for rows rows, row strides lds and ldd; src and dst must not overlap. */
  copyRows(rows: number, width: number, src: number, lds: number, dst: number, ldd: number): void;

  /**
   * out[r, :] = log(softmax(logits[r, :] / temperature)) for rows×classes, temperature > 0 (numerically
   * stable: x − (max + log Σ exp(x − max))): the sampler's distribution (src/generate/sampler.ts, which
   * passes 1 when greedy). The reference computes it in double precision; the WebAssembly kernel in float32
   * with a float64 sum, to float tolerance. out may alias logits.
   */
  logSoftmax(rows: number, classes: number, temperature: number, logits: number, out: number): void;

  /**
   * The sampler's draw: one class per row of log-probabilities (rows×classes) into `out` (i32). Greedy: the
   * first maximum. Otherwise, with u = uniforms[r] / 2³² (uniforms: rows unsigned 32-bit integers in the
   * i32 view, the generator's draws), the first k with u < Σ_{j≤k} exp(logProbs[r, j]) (double precision,
   * in order), or failing that the last k with exp(logProbs[r, k]) > 0 (0 if none). Bit-identical in every
   * implementation: the same class for the same draw.
   */
  sampleClasses(
    rows: number,
    classes: number,
    logProbs: number,
    uniforms: number,
    greedy: boolean,
    out: number,
  ): void;

  /** Frees threads and memory. */
  dispose(): void;
}
