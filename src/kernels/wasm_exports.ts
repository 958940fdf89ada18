// Generated from assembly/index.ts by scripts/wasm_exports.mjs: do not edit. `npm run build` fails when
// this file no longer matches assembly/; `node scripts/wasm_exports.mjs --write` rewrites it.

/**
 * The functions wasm/kernels*.wasm export, as JavaScript calls them: integers, floats, bools and pointers
 * (byte offsets into the shared memory) are numbers. Above each, its AssemblyScript signature.
 */
export interface WasmExports {
  /**
   * assembly/pointwise.ts: adam(n: i32, lrT: f64, beta1: f64, beta2: f64, epsilon: f64, p: usize, g: usize,
   * m: usize, v: usize): void
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
  /** assembly/pointwise.ts: add(n: i32, x: usize, y: usize): void */
  add(n: number, x: number, y: number): void;
  /** assembly/pointwise.ts: add_bias(rows: i32, width: i32, bias: usize, out: usize): void */
  add_bias(rows: number, width: number, bias: number, out: number): void;
  /**
   * assembly/pointwise.ts: bias_backward(rows: i32, width: i32, dOut: usize, dBias: usize, work: usize): void
   */
  bias_backward(rows: number, width: number, dOut: number, dBias: number, work: number): void;
  /**
   * assembly/generate.ts: copy_rows(rows: i32, width: i32, src: usize, lds: i32, dst: usize, ldd: i32): void
   */
  copy_rows(rows: number, width: number, src: number, lds: number, dst: number, ldd: number): void;
  /**
   * assembly/pointwise.ts: dropout(n: i32, keepAll: bool, threshold: u32, inv: f64, seed: i32, first: i32,
   * x: usize, out: usize): void
   */
  dropout(
    n: number,
    keepAll: number,
    threshold: number,
    inv: number,
    seed: number,
    first: number,
    x: number,
    out: number,
  ): void;
  /**
   * assembly/pointwise.ts: embedding_backward(rows: i32, width: i32, ids: usize, dOut: usize,
   * dTable: usize): void
   */
  embedding_backward(rows: number, width: number, ids: number, dOut: number, dTable: number): void;
  /**
   * assembly/pointwise.ts: embedding_forward(rows: i32, width: i32, ids: usize, table: usize, bias: usize,
   * hasBias: bool, out: usize): void
   */
  embedding_forward(
    rows: number,
    width: number,
    ids: number,
    table: number,
    bias: number,
    hasBias: number,
    out: number,
  ): void;
  /** assembly/generate.ts: fd_exp(n: i32, x: usize, y: usize): void */
  fd_exp(n: number, x: number, y: number): void;
  /**
   * assembly/gemm.ts: gemm(transA: bool, transB: bool, m: i32, n: i32, k: i32, alpha: f32, a: usize,
   * lda: i32, b: usize, ldb: i32, beta: f32, c: usize, ldc: i32, work: usize): void
   */
  gemm(
    transA: number,
    transB: number,
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
    work: number,
  ): void;
  /** assembly/gemm.ts: gemm_pack_b(transB: bool, k: i32, n: i32, b: usize, ldb: i32, bp: usize): void */
  gemm_pack_b(transB: number, k: number, n: number, b: number, ldb: number, bp: number): void;
  /**
   * assembly/gemm.ts: gemm_packed(transA: bool, m: i32, n: i32, k: i32, alpha: f32, a: usize, lda: i32,
   * bp: usize, beta: f32, c: usize, ldc: i32, work: usize, j0: i32, j1: i32): void
   */
  gemm_packed(
    transA: number,
    m: number,
    n: number,
    k: number,
    alpha: number,
    a: number,
    lda: number,
    bp: number,
    beta: number,
    c: number,
    ldc: number,
    work: number,
    j0: number,
    j1: number,
  ): void;
  /** assembly/gemm.ts: gemm_packed_floats(k: i32, n: i32): i32 */
  gemm_packed_floats(k: number, n: number): number;
  /** assembly/gemm.ts: gemm_work_floats(): i32 */
  gemm_work_floats(): number;
  /**
   * assembly/generate.ts: log_softmax(rows: i32, classes: i32, temperature: f64, logits: usize,
   * out: usize): void
   */
  log_softmax(rows: number, classes: number, temperature: number, logits: number, out: number): void;
  /**
   * assembly/pointwise.ts: lstm_backward(rows: i32, hidden: i32, gates: usize, cPrev: usize, c: usize,
   * dh: usize, dc: usize, dGates: usize, dcPrev: usize): void
   */
  lstm_backward(
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
   * assembly/pointwise.ts: lstm_forward(rows: i32, hidden: i32, forgetBias: f32, gates: usize, cPrev: usize,
   * c: usize, h: usize): void
   */
  lstm_forward(
    rows: number,
    hidden: number,
    forgetBias: number,
    gates: number,
    cPrev: number,
    c: number,
    h: number,
  ): void;
  /**
   * assembly/recurrent.ts: lstm_recurrent_backward(steps: i32, batch: i32, hidden: i32, rows: usize,
   * whtp: usize, gates: usize, c: usize, dh: usize, dc: usize, dGates: usize, r0: i32, r1: i32,
   * work: usize): void
   */
  lstm_recurrent_backward(
    steps: number,
    batch: number,
    hidden: number,
    rows: number,
    whtp: number,
    gates: number,
    c: number,
    dh: number,
    dc: number,
    dGates: number,
    r0: number,
    r1: number,
    work: number,
  ): void;
  /**
   * assembly/recurrent.ts: lstm_recurrent_forward(steps: i32, batch: i32, hidden: i32, forgetBias: f32,
   * rows: usize, wh: usize, whp: usize, gates: usize, c: usize, h: usize, r0: i32, r1: i32,
   * work: usize): void
   */
  lstm_recurrent_forward(
    steps: number,
    batch: number,
    hidden: number,
    forgetBias: number,
    rows: number,
    wh: number,
    whp: number,
    gates: number,
    c: number,
    h: number,
    r0: number,
    r1: number,
    work: number,
  ): void;
  /**
   * assembly/generate.ts: sample(rows: i32, classes: i32, lp: usize, uniforms: usize, greedy: i32,
   * out: usize): void
   */
  sample(rows: number, classes: number, lp: number, uniforms: number, greedy: number, out: number): void;
  /** assembly/pointwise.ts: scale(n: i32, s: f64, x: usize): void */
  scale(n: number, s: number, x: number): void;
  /**
   * assembly/pointwise.ts: softmax_xent(rows: i32, classes: i32, logits: usize, labels: usize, scale: f32,
   * dLogits: usize, losses: usize, preds: usize): f64
   */
  softmax_xent(
    rows: number,
    classes: number,
    logits: number,
    labels: number,
    scale: number,
    dLogits: number,
    losses: number,
    preds: number,
  ): number;
  /** assembly/pointwise.ts: sum_squares(n: i32, x: usize): f64 */
  sum_squares(n: number, x: number): number;
}

/** Each export's parameter names, in order. */
export const WASM_EXPORT_PARAMS = {
  adam: ["n", "lrT", "beta1", "beta2", "epsilon", "p", "g", "m", "v"],
  add: ["n", "x", "y"],
  add_bias: ["rows", "width", "bias", "out"],
  bias_backward: ["rows", "width", "dOut", "dBias", "work"],
  copy_rows: ["rows", "width", "src", "lds", "dst", "ldd"],
  dropout: ["n", "keepAll", "threshold", "inv", "seed", "first", "x", "out"],
  embedding_backward: ["rows", "width", "ids", "dOut", "dTable"],
  embedding_forward: ["rows", "width", "ids", "table", "bias", "hasBias", "out"],
  fd_exp: ["n", "x", "y"],
  gemm: ["transA", "transB", "m", "n", "k", "alpha", "a", "lda", "b", "ldb", "beta", "c", "ldc", "work"],
  gemm_pack_b: ["transB", "k", "n", "b", "ldb", "bp"],
  gemm_packed: ["transA", "m", "n", "k", "alpha", "a", "lda", "bp", "beta", "c", "ldc", "work", "j0", "j1"],
  gemm_packed_floats: ["k", "n"],
  gemm_work_floats: [],
  log_softmax: ["rows", "classes", "temperature", "logits", "out"],
  lstm_backward: ["rows", "hidden", "gates", "cPrev", "c", "dh", "dc", "dGates", "dcPrev"],
  lstm_forward: ["rows", "hidden", "forgetBias", "gates", "cPrev", "c", "h"],
  lstm_recurrent_backward: [
    "steps",
    "batch",
    "hidden",
    "rows",
    "whtp",
    "gates",
    "c",
    "dh",
    "dc",
    "dGates",
    "r0",
    "r1",
    "work",
  ],
  lstm_recurrent_forward: [
    "steps",
    "batch",
    "hidden",
    "forgetBias",
    "rows",
    "wh",
    "whp",
    "gates",
    "c",
    "h",
    "r0",
    "r1",
    "work",
  ],
  sample: ["rows", "classes", "lp", "uniforms", "greedy", "out"],
  scale: ["n", "s", "x"],
  softmax_xent: ["rows", "classes", "logits", "labels", "scale", "dLogits", "losses", "preds"],
  sum_squares: ["n", "x"],
} as const satisfies { readonly [F in keyof WasmExports]: readonly string[] };
