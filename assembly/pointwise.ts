// Everything of the Kernels interface (src/kernels/types.ts) but the matrix product, in WebAssembly SIMD.
// Pointers are byte addresses. Each kernel matches src/kernels/reference.ts bit for bit where the
// reference's arithmetic can be replayed exactly (embedding, bias, dropout, scale, add, adam: the same
// float32/float64 operations in the same order), and to float tolerance where it cannot (the LSTM cell
// and softmax use a float32 exp; the reference uses Math.exp in double).
//
// A row whose width is not a multiple of 4 ends with 1–3 lanes done by the same vector code on one-lane
// loads (`full` = false), so every element goes through identical arithmetic wherever it sits.

// ---------------------------------------------------------------------------------------------------
// Lane helpers

// @ts-ignore: decorator
@inline
function ld(p: usize, full: bool): v128 {
  return full ? v128.load(p) : v128.load32_zero(p);
}

// @ts-ignore: decorator
@inline
function st(p: usize, v: v128, full: bool): void {
  if (full) v128.store(p, v);
  else v128.store32_lane(p, v, 0);
}

// float32 lanes → float64 lanes (low pair, high pair) and back.
// @ts-ignore: decorator
@inline
function lo64(v: v128): v128 {
  return f64x2.promote_low_f32x4(v);
}
// @ts-ignore: decorator
@inline
function hi64(v: v128): v128 {
  return f64x2.promote_low_f32x4(v128.shuffle<f32>(v, v, 2, 3, 2, 3));
}
// @ts-ignore: decorator
@inline
function join32(lo: v128, hi: v128): v128 {
  return v128.shuffle<f32>(f32x4.demote_f64x2_zero(lo), f32x4.demote_f64x2_zero(hi), 0, 1, 4, 5);
}

// ---------------------------------------------------------------------------------------------------
// exp, sigmoid, tanh on f32x4 (Cephes expf/tanhf polynomials, about 1–2 ulp)
//
// Instruction count is what matters here (these kernels run at a few ops per cycle, latency-bound):
// pmin/pmax are one minps/maxps each where min/max's NaN rules cost V8 seven instructions; negation is a
// subtraction from zero and |x| a mask (V8 rebuilds those constants on every use otherwise); the
// relaxed build evaluates the polynomials with fused multiply-adds.

// @ts-ignore: decorator
@inline
function fma(a: v128, b: v128, c: v128): v128 {
  if (ASC_FEATURE_RELAXED_SIMD) return f32x4.relaxed_madd(a, b, c);
  return f32x4.add(f32x4.mul(a, b), c);
}

/** e^x for x ≤ 88 (larger x is clamped there); x < -87 gives about 1e-38, not 0 (see vexp). */
// @ts-ignore: decorator
@inline
function vexpClamped(x0: v128): v128 {
  // x0 as pmin/pmax's first operand: a NaN passes through.
  const x = f32x4.pmin(f32x4.pmax(x0, f32x4.splat(-87.0)), f32x4.splat(88.0));
  // n = round(x·log2 e) by the 1.5·2²³ trick: t's low mantissa bits hold n, so 2ⁿ = (bits(t) + 127) << 23.
  const t = fma(x, f32x4.splat(1.44269504088896341), f32x4.splat(12582912.0));
  const fx = f32x4.sub(t, f32x4.splat(12582912.0));
  let r = f32x4.sub(x, f32x4.mul(fx, f32x4.splat(0.693359375)));
  r = f32x4.sub(r, f32x4.mul(fx, f32x4.splat(-2.12194440e-4)));
  let y = fma(f32x4.splat(1.9875691500e-4), r, f32x4.splat(1.3981999507e-3));
  y = fma(y, r, f32x4.splat(8.3334519073e-3));
  y = fma(y, r, f32x4.splat(4.1665795894e-2));
  y = fma(y, r, f32x4.splat(1.6666665459e-1));
  y = fma(y, r, f32x4.splat(5.0000001201e-1));
  y = f32x4.add(fma(f32x4.mul(y, r), r, r), f32x4.splat(1));
  return f32x4.mul(y, i32x4.shl(i32x4.add(t, i32x4.splat(127)), 23));
}

/** e^x, with e^x = 0 below -87 (so exp(-inf) = 0). */
// @ts-ignore: decorator
@inline
export function vexp(x: v128): v128 {
  return v128.andnot(vexpClamped(x), f32x4.lt(x, f32x4.splat(-87.0)));
}

// @ts-ignore: decorator
@inline
function vsigmoid(x: v128): v128 {
  // Below -87 the clamped exp keeps σ at ~1e-38 instead of a subnormal: no matter.
  return f32x4.div(f32x4.splat(1), f32x4.add(f32x4.splat(1), vexpClamped(f32x4.sub(f32x4.splat(0), x))));
}

// @ts-ignore: decorator
@inline
function vtanh(x: v128): v128 {
  const ax = v128.and(x, i32x4.splat(0x7fffffff));
  // |x| < 0.625: odd polynomial; otherwise 1 − 2/(e^{2|x|} + 1) with the sign of x.
  const z = f32x4.mul(x, x);
  let p = fma(f32x4.splat(-5.70498872745e-3), z, f32x4.splat(2.06390887954e-2));
  p = fma(p, z, f32x4.splat(-5.37397155531e-2));
  p = fma(p, z, f32x4.splat(1.33314422036e-1));
  p = fma(p, z, f32x4.splat(-3.33332819422e-1));
  const small = fma(f32x4.mul(p, z), x, x);
  const e = vexpClamped(f32x4.add(ax, ax));
  const big = f32x4.sub(f32x4.splat(1), f32x4.div(f32x4.splat(2), f32x4.add(e, f32x4.splat(1))));
  const signed = v128.or(big, v128.and(x, i32x4.splat(<i32>0x80000000)));
  return v128.bitselect(small, signed, f32x4.lt(ax, f32x4.splat(0.625)));
}

/**
 * ln x for finite x > 0, to about 1 ulp of float64: x = 2^k·m with m in [√½, √2), ln m = 2·atanh(s),
 * s = (m − 1)/(m + 1), |s| ≤ 0.172. Written out because AssemblyScript's Math.log brings lookup tables,
 * and static data in a shared memory would be rewritten by every thread's instantiation.
 */
export function ln(x: f64): f64 {
  let bits = reinterpret<i64>(x);
  let k = <i32>(bits >> 52) - 1023;
  bits = (bits & 0x000fffffffffffff) | 0x3ff0000000000000;
  let m = reinterpret<f64>(bits);
  if (m > 1.4142135623730951) {
    m *= 0.5;
    k++;
  }
  const s = (m - 1) / (m + 1);
  const z = s * s;
  let t: f64 = 1.0 / 25;
  for (let d = 23; d >= 3; d -= 2) t = t * z + 1.0 / <f64>d;
  return <f64>k * 0.6931471805599453 + 2 * s * (t * z + 1);
}

// ---------------------------------------------------------------------------------------------------
// Embedding and bias

/** out[r, :] = (ids[r] ≥ 0 ? table[ids[r], :] : 0) + (hasBias ? bias : 0). */
export function embedding_forward(
  rows: i32,
  width: i32,
  ids: usize,
  table: usize,
  bias: usize,
  hasBias: bool,
  out: usize,
): void {
  const rowB = <usize>width << 2;
  for (let r = 0; r < rows; r++) {
    const id = load<i32>(ids + (<usize>r << 2));
    const t = table + <usize>id * rowB;
    const o = out + <usize>r * rowB;
    let j = 0;
    for (; j + 4 <= width; j += 4) embedRow(id, t, bias, hasBias, o, j, true);
    for (; j < width; j++) embedRow(id, t, bias, hasBias, o, j, false);
  }
}

// @ts-ignore: decorator
@inline
function embedRow(id: i32, t: usize, bias: usize, hasBias: bool, o: usize, j: i32, full: bool): void {
  const q = <usize>j << 2;
  const x = id >= 0 ? ld(t + q, full) : f32x4.splat(0);
  const b = hasBias ? ld(bias + q, full) : f32x4.splat(0);
  st(o + q, f32x4.add(x, b), full);
}

/** dTable[ids[r], :] += dOut[r, :] for rows with ids[r] ≥ 0. */
export function embedding_backward(rows: i32, width: i32, ids: usize, dOut: usize, dTable: usize): void {
  const rowB = <usize>width << 2;
  for (let r = 0; r < rows; r++) {
    const id = load<i32>(ids + (<usize>r << 2));
    if (id < 0) continue;
    addInto(width, dOut + <usize>r * rowB, dTable + <usize>id * rowB);
  }
}

// @ts-ignore: decorator
@inline
function addInto(n: i32, x: usize, y: usize): void {
  let e = 0;
  for (; e + 4 <= n; e += 4) {
    const q = <usize>e << 2;
    v128.store(y + q, f32x4.add(v128.load(y + q), v128.load(x + q)));
  }
  for (; e < n; e++) {
    const q = <usize>e << 2;
    store<f32>(y + q, load<f32>(y + q) + load<f32>(x + q));
  }
}

/** out[r, :] += bias. */
export function add_bias(rows: i32, width: i32, bias: usize, out: usize): void {
  const rowB = <usize>width << 2;
  for (let r = 0; r < rows; r++) addInto(width, bias, out + <usize>r * rowB);
}

/**
 * dBias[j] += Σ_r dOut[r, j], summed in float64 in row order (the reference's order, so the same bits).
 * Walks dOut row by row with `work` (≥ 2·min(width, 65536) floats) holding the float64 column sums.
 */
export function bias_backward(rows: i32, width: i32, dOut: usize, dBias: usize, work: usize): void {
  const rowB = <usize>width << 2;
  for (let j0 = 0; j0 < width; j0 += 65536) {
    const cols = min(width - j0, 65536);
    memory.fill(work, 0, <usize>cols << 3);
    for (let r = 0; r < rows; r++) {
      const src = dOut + <usize>r * rowB + (<usize>j0 << 2);
      let j = 0;
      for (; j + 2 <= cols; j += 2) {
        const s = work + (<usize>j << 3);
        v128.store(s, f64x2.add(v128.load(s), f64x2.promote_low_f32x4(v128.load64_zero(src + (<usize>j << 2)))));
      }
      if (j < cols) {
        const s = work + (<usize>j << 3);
        store<f64>(s, load<f64>(s) + <f64>load<f32>(src + (<usize>j << 2)));
      }
    }
    for (let j = 0; j < cols; j++) {
      const d = dBias + (<usize>(j0 + j) << 2);
      store<f32>(d, <f32>(<f64>load<f32>(d) + load<f64>(work + (<usize>j << 3))));
    }
  }
}

// ---------------------------------------------------------------------------------------------------
// LSTM cell (gate order i, j, f, o as TensorFlow's BasicLSTMCell)

/** One step of the LSTM cell for rows packed back to back (gates rows × 4H; cPrev, c, h rows × H). */
export function lstm_forward(
  rows: i32,
  hidden: i32,
  forgetBias: f32,
  gates: usize,
  cPrev: usize,
  c: usize,
  h: usize,
): void {
  const H = <usize>hidden << 2;
  for (let r = 0; r < rows; r++) {
    const g = gates + <usize>r * 4 * H;
    const off = <usize>r * H;
    let u = 0;
    for (; u + 4 <= hidden; u += 4) lstmFwd(g + (<usize>u << 2), H, forgetBias, cPrev + off, c + off, h + off, u, true);
    for (; u < hidden; u++) lstmFwd(g + (<usize>u << 2), H, forgetBias, cPrev + off, c + off, h + off, u, false);
  }
}

// @ts-ignore: decorator
@inline
export function lstmFwd(g: usize, H: usize, forgetBias: f32, cPrev: usize, c: usize, h: usize, u: i32, full: bool): void {
  const q = <usize>u << 2;
  const i = vsigmoid(ld(g, full));
  const j = vtanh(ld(g + H, full));
  const f = vsigmoid(f32x4.add(ld(g + 2 * H, full), f32x4.splat(forgetBias)));
  const o = vsigmoid(ld(g + 3 * H, full));
  const cell = f32x4.add(f32x4.mul(ld(cPrev + q, full), f), f32x4.mul(i, j));
  st(g, i, full);
  st(g + H, j, full);
  st(g + 2 * H, f, full);
  st(g + 3 * H, o, full);
  st(c + q, cell, full);
  st(h + q, f32x4.mul(vtanh(cell), o), full);
}

export function lstm_backward(
  rows: i32,
  hidden: i32,
  gates: usize,
  cPrev: usize,
  c: usize,
  dh: usize,
  dc: usize,
  dGates: usize,
  dcPrev: usize,
): void {
  const H = <usize>hidden << 2;
  for (let r = 0; r < rows; r++) {
    const g = gates + <usize>r * 4 * H;
    const dg = dGates + <usize>r * 4 * H;
    const off = <usize>r * H;
    let u = 0;
    for (; u + 4 <= hidden; u += 4) {
      lstmBwd(g, dg, H, cPrev + off, c + off, dh + off, dc + off, dcPrev + off, u, true);
    }
    for (; u < hidden; u++) lstmBwd(g, dg, H, cPrev + off, c + off, dh + off, dc + off, dcPrev + off, u, false);
  }
}

// @ts-ignore: decorator
@inline
function lstmBwd(
  g: usize,
  dg: usize,
  H: usize,
  cPrev: usize,
  c: usize,
  dh: usize,
  dc: usize,
  dcPrev: usize,
  u: i32,
  full: bool,
): void {
  const q = <usize>u << 2;
  const one = f32x4.splat(1);
  const i = ld(g + q, full);
  const j = ld(g + H + q, full);
  const f = ld(g + 2 * H + q, full);
  const o = ld(g + 3 * H + q, full);
  const tc = vtanh(ld(c + q, full));
  const dH = ld(dh + q, full);
  // Gradient reaching c: through h = tanh(c)·o, plus what step t+1 sent back.
  const dC = f32x4.add(ld(dc + q, full), f32x4.mul(f32x4.mul(dH, o), f32x4.sub(one, f32x4.mul(tc, tc))));
  st(dg + q, f32x4.mul(f32x4.mul(f32x4.mul(dC, j), i), f32x4.sub(one, i)), full);
  st(dg + H + q, f32x4.mul(f32x4.mul(dC, i), f32x4.sub(one, f32x4.mul(j, j))), full);
  const cp = ld(cPrev + q, full);
  st(dg + 2 * H + q, f32x4.mul(f32x4.mul(f32x4.mul(dC, cp), f), f32x4.sub(one, f)), full);
  st(dg + 3 * H + q, f32x4.mul(f32x4.mul(f32x4.mul(dH, tc), o), f32x4.sub(one, o)), full);
  st(dcPrev + q, f32x4.mul(dC, f), full); // after every read of dc: dcPrev may alias it
}

// ---------------------------------------------------------------------------------------------------
// Dropout: element e of the call is kept iff fmix32(seed·0x9E3779B9 + e) < threshold (unsigned)

/**
 * out = kept ? x·inv : 0, the product taken in float64 as the reference does. keepAll copies x.
 * `first` is the index of element 0 of this range within the call (threads split the range).
 */
export function dropout(
  n: i32,
  keepAll: bool,
  threshold: u32,
  inv: f64,
  seed: i32,
  first: i32,
  x: usize,
  out: usize,
): void {
  if (keepAll) {
    if (out != x) memory.copy(out, x, <usize>n << 2);
    return;
  }
  const base = seed * <i32>0x9e3779b9 + first;
  const vinv = f64x2.splat(inv);
  const vthr = i32x4.splat(<i32>threshold);
  let e = 0;
  for (; e + 4 <= n; e += 4) {
    const q = <usize>e << 2;
    const keep = i32x4.lt_u(fmix32x4(i32x4.add(i32x4.splat(base + e), i32x4(0, 1, 2, 3))), vthr);
    const v = v128.load(x + q);
    const y = join32(f64x2.mul(lo64(v), vinv), f64x2.mul(hi64(v), vinv));
    v128.store(out + q, v128.and(y, keep));
  }
  for (; e < n; e++) {
    const q = <usize>e << 2;
    const hsh = i32x4.extract_lane(fmix32x4(i32x4.splat(base + e)), 0);
    store<f32>(out + q, <u32>hsh < threshold ? <f32>(<f64>load<f32>(x + q) * inv) : 0);
  }
}

// @ts-ignore: decorator
@inline
function fmix32x4(h0: v128): v128 {
  let h = v128.xor(h0, i32x4.shr_u(h0, 16));
  h = i32x4.mul(h, i32x4.splat(<i32>0x85ebca6b));
  h = v128.xor(h, i32x4.shr_u(h, 13));
  h = i32x4.mul(h, i32x4.splat(<i32>0xc2b2ae35));
  return v128.xor(h, i32x4.shr_u(h, 16));
}

// ---------------------------------------------------------------------------------------------------
// Softmax cross-entropy

/**
 * Per row with label ≥ 0: loss = logsumexp(x) − x[label]; d = (softmax(x) − onehot)·scale; pred = first
 * argmax. Padding rows (label < 0): d = 0, loss 0, pred −1. Returns Σ loss (float64). d may alias logits.
 */
export function softmax_xent(
  rows: i32,
  classes: i32,
  logits: usize,
  labels: usize,
  scale: f32,
  dLogits: usize,
  losses: usize,
  preds: usize,
): f64 {
  let total: f64 = 0;
  const rowB = <usize>classes << 2;
  const vscale = f32x4.splat(scale);
  for (let r = 0; r < rows; r++) {
    const x = logits + <usize>r * rowB;
    const d = dLogits + <usize>r * rowB;
    const label = load<i32>(labels + (<usize>r << 2));
    const lossAt = losses + (<usize>r << 2);
    const predAt = preds + (<usize>r << 2);
    if (label < 0) {
      memory.fill(d, 0, rowB);
      store<f32>(lossAt, 0);
      store<i32>(predAt, -1);
      continue;
    }
    // max, then the first index holding it
    let j = 0;
    let vmax = f32x4.splat(-Infinity);
    for (; j + 4 <= classes; j += 4) vmax = f32x4.pmax(vmax, v128.load(x + (<usize>j << 2)));
    let mx = max(max(f32x4.extract_lane(vmax, 0), f32x4.extract_lane(vmax, 1)), max(f32x4.extract_lane(vmax, 2), f32x4.extract_lane(vmax, 3)));
    for (; j < classes; j++) mx = max(mx, load<f32>(x + (<usize>j << 2)));
    let argmax = 0;
    while (argmax < classes - 1 && load<f32>(x + (<usize>argmax << 2)) != mx) argmax++;
    const xLabel = load<f32>(x + (<usize>label << 2));
    // e = exp(x − max) into d, summed
    const vm = f32x4.splat(mx);
    let vsum = f32x4.splat(0);
    j = 0;
    for (; j + 4 <= classes; j += 4) {
      const q = <usize>j << 2;
      const e = vexp(f32x4.sub(v128.load(x + q), vm));
      v128.store(d + q, e);
      vsum = f32x4.add(vsum, e);
    }
    let sum: f64 = <f64>f32x4.extract_lane(vsum, 0) + <f64>f32x4.extract_lane(vsum, 1) + <f64>f32x4.extract_lane(vsum, 2) + <f64>f32x4.extract_lane(vsum, 3);
    for (; j < classes; j++) {
      const q = <usize>j << 2;
      const e = f32x4.extract_lane(vexp(f32x4.splat(load<f32>(x + q) - mx)), 0);
      store<f32>(d + q, e);
      sum += e;
    }
    const loss = <f64>mx + ln(sum) - <f64>xLabel;
    // d = (e / sum − onehot)·scale
    const inv = f32x4.splat(<f32>(1 / sum));
    const eLabel = load<f32>(d + (<usize>label << 2));
    j = 0;
    for (; j + 4 <= classes; j += 4) {
      const q = <usize>j << 2;
      v128.store(d + q, f32x4.mul(f32x4.mul(v128.load(d + q), inv), vscale));
    }
    for (; j < classes; j++) {
      const q = <usize>j << 2;
      store<f32>(d + q, f32x4.extract_lane(f32x4.mul(f32x4.mul(f32x4.splat(load<f32>(d + q)), inv), vscale), 0));
    }
    store<f32>(d + (<usize>label << 2), (eLabel * f32x4.extract_lane(inv, 0) - 1) * scale);
    store<f32>(lossAt, <f32>loss);
    store<i32>(predAt, argmax);
    total += loss;
  }
  return total;
}

// ---------------------------------------------------------------------------------------------------
// Vector arithmetic and Adam

/** Σ x² in float64. */
export function sum_squares(n: i32, x: usize): f64 {
  let a0 = f64x2.splat(0);
  let a1 = f64x2.splat(0);
  let e = 0;
  for (; e + 4 <= n; e += 4) {
    const v = v128.load(x + (<usize>e << 2));
    const l = lo64(v);
    const h = hi64(v);
    a0 = f64x2.add(a0, f64x2.mul(l, l));
    a1 = f64x2.add(a1, f64x2.mul(h, h));
  }
  const s = f64x2.add(a0, a1);
  let sum = f64x2.extract_lane(s, 0) + f64x2.extract_lane(s, 1);
  for (; e < n; e++) {
    const v = <f64>load<f32>(x + (<usize>e << 2));
    sum += v * v;
  }
  return sum;
}

/** x *= s, the product taken in float64 (as the reference's JavaScript does). */
export function scale(n: i32, s: f64, x: usize): void {
  const vs = f64x2.splat(s);
  let e = 0;
  for (; e + 4 <= n; e += 4) {
    const q = x + (<usize>e << 2);
    const v = v128.load(q);
    v128.store(q, join32(f64x2.mul(lo64(v), vs), f64x2.mul(hi64(v), vs)));
  }
  for (; e < n; e++) {
    const q = x + (<usize>e << 2);
    store<f32>(q, <f32>(<f64>load<f32>(q) * s));
  }
}

/** y += x. */
export function add(n: i32, x: usize, y: usize): void {
  addInto(n, x, y);
}

/**
 * TensorFlow's Adam, in float64 like the reference (so the same bits): m = β1·m + (1−β1)·g;
 * v = β2·v + (1−β2)·g²; p −= lrT·m/(√v + ε).
 */
export function adam(
  n: i32,
  lrT: f64,
  beta1: f64,
  beta2: f64,
  epsilon: f64,
  p: usize,
  g: usize,
  m: usize,
  v: usize,
): void {
  const b1 = f64x2.splat(beta1);
  const b2 = f64x2.splat(beta2);
  const c1 = f64x2.splat(1 - beta1);
  const c2 = f64x2.splat(1 - beta2);
  const lr = f64x2.splat(lrT);
  const eps = f64x2.splat(epsilon);
  let e = 0;
  for (; e + 2 <= n; e += 2) {
    const q = <usize>e << 2;
    const grad = f64x2.promote_low_f32x4(v128.load64_zero(g + q));
    const m1 = f64x2.add(f64x2.mul(b1, f64x2.promote_low_f32x4(v128.load64_zero(m + q))), f64x2.mul(c1, grad));
    const v1 = f64x2.add(
      f64x2.mul(b2, f64x2.promote_low_f32x4(v128.load64_zero(v + q))),
      f64x2.mul(f64x2.mul(c2, grad), grad),
    );
    v128.store64_lane(m + q, f32x4.demote_f64x2_zero(m1), 0);
    v128.store64_lane(v + q, f32x4.demote_f64x2_zero(v1), 0);
    const step = f64x2.div(f64x2.mul(lr, m1), f64x2.add(f64x2.sqrt(v1), eps));
    const pv = f64x2.promote_low_f32x4(v128.load64_zero(p + q));
    v128.store64_lane(p + q, f32x4.demote_f64x2_zero(f64x2.sub(pv, step)), 0);
  }
  if (e < n) {
    const q = <usize>e << 2;
    const grad = <f64>load<f32>(g + q);
    const m1 = beta1 * <f64>load<f32>(m + q) + (1 - beta1) * grad;
    const v1 = beta2 * <f64>load<f32>(v + q) + (1 - beta2) * grad * grad;
    store<f32>(m + q, <f32>m1);
    store<f32>(v + q, <f32>v1);
    store<f32>(p + q, <f32>(<f64>load<f32>(p + q) - (lrT * m1) / (Math.sqrt(v1) + epsilon)));
  }
}
