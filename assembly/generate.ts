// Kernels of generation: the sampler's log-softmax and draw for all rows of a step in one call each
// (src/generate/sampler.ts), and a strided row copy for the generation stepper (src/generate/lstm_rnn.ts).
// Pointers are byte addresses.
//
// The draw reproduces the reference kernel's (sampleClasses in src/kernels/reference.ts) bit for bit: the
// same float64 operations in the same order, with exp as fdlibm computes it (V8's Math.exp is fdlibm's
// e_exp.c, ported to C++ in v8/src/base/ieee754.cc; this port agreed with Math.exp on 6 million arguments
// of every range, bench/README.md). So both kernels pick the same class for the same draw, which
// test/kernels_wasm.test.ts checks on random rows. Log-softmax is float32 (to tolerance of the reference
// kernel's float64 one), as the training softmax.

import { ln, vexp } from "./pointwise";

// ---------------------------------------------------------------------------------------------------
// fdlibm exp (e_exp.c)

const HALF_POS: f64 = 0.5;
const O_THRESHOLD: f64 = 7.09782712893383973096e2;
const U_THRESHOLD: f64 = -7.45133219101941108420e2;
const LN2_HI: f64 = 6.93147180369123816490e-1;
const LN2_LO: f64 = 1.90821492927058770002e-10;
const INV_LN2: f64 = 1.44269504088896338700;
const P1: f64 = 1.66666666666666019037e-1;
const P2: f64 = -2.77777777770155933842e-3;
const P3: f64 = 6.61375632143793436117e-5;
const P4: f64 = -1.65339022054652515390e-6;
const P5: f64 = 4.13813679705723846039e-8;
const TWOM1000: f64 = 9.33263618503218878990e-302; // 2^-1000

/** 2^k for -1022 ≤ k ≤ 1023, exactly. */
// @ts-ignore: decorator
@inline
function pow2(k: i32): f64 {
  return reinterpret<f64>(<i64>(k + 1023) << 52);
}

/** e^x as fdlibm's __ieee754_exp. */
export function fdexp(x: f64): f64 {
  const bits = reinterpret<i64>(x);
  let hx = <u32>(bits >>> 32);
  const xsb = <i32>(hx >>> 31);
  hx &= 0x7fffffff;
  if (hx >= 0x40862e42) {
    if (hx >= 0x7ff00000) {
      if (((hx & 0xfffff) | <u32>bits) != 0) return x + x; // NaN
      return xsb == 0 ? x : 0.0;
    }
    if (x > O_THRESHOLD) return Infinity;
    if (x < U_THRESHOLD) return 0.0;
  }
  let hi: f64 = 0;
  let lo: f64 = 0;
  let k: i32 = 0;
  if (hx > 0x3fd62e42) {
    if (hx < 0x3ff0a2b2) {
      hi = xsb ? x + LN2_HI : x - LN2_HI;
      lo = xsb ? -LN2_LO : LN2_LO;
      k = 1 - xsb - xsb;
    } else {
      k = <i32>(INV_LN2 * x + (xsb ? -HALF_POS : HALF_POS));
      const t = <f64>k;
      hi = x - t * LN2_HI;
      lo = t * LN2_LO;
    }
    x = hi - lo;
  } else if (hx < 0x3e300000) {
    return 1.0 + x;
  }
  const t = x * x;
  const c = x - t * (P1 + t * (P2 + t * (P3 + t * (P4 + t * P5))));
  if (k == 0) return 1.0 - ((x * c) / (c - 2.0) - x);
  const y = 1.0 - ((lo - (x * c) / (2.0 - c)) - hi);
  if (k == 1024) return y * 2.0 * pow2(1023);
  if (k >= -1021) return y * pow2(k);
  return y * pow2(k + 1000) * TWOM1000;
}

/**
 * fdexp on two lanes, for |x| < 709.78 (hx < 0x40862e42) in both; the caller falls back to fdexp
 * otherwise. Every branch of fdexp is computed and the lane's own is selected, so each lane gets the
 * scalar function's bits.
 */
// @ts-ignore: decorator
@inline
function fdexp2(x: v128): v128 {
  const hxs = i64x2.shr_u(x, 32); // high words (with sign) in the low halves of the 64-bit lanes
  const hx = v128.and(hxs, i64x2.splat(0x7fffffff));
  const neg = i64x2.lt_s(x, i64x2.splat(0)); // sign bit set
  const big = i64x2.gt_s(hx, i64x2.splat(0x3fd62e42)); // |x| > 0.5 ln2: k ≠ 0 (as a rule)
  const mid = v128.and(big, i64x2.lt_s(hx, i64x2.splat(0x3ff0a2b2))); // and |x| < 1.5 ln2: k = ±1
  const tiny = i64x2.lt_s(hx, i64x2.splat(0x3e300000)); // |x| < 2^-28: 1 + x
  // k as float64: ±1 for mid, trunc(x/ln2 ± ½) for the rest of big, 0 otherwise.
  const halfx = v128.bitselect(f64x2.splat(-HALF_POS), f64x2.splat(HALF_POS), neg);
  const kr = f64x2.trunc(f64x2.add(f64x2.mul(f64x2.splat(INV_LN2), x), halfx));
  const one = v128.bitselect(f64x2.splat(-1.0), f64x2.splat(1.0), neg);
  const kf = v128.and(v128.bitselect(one, kr, mid), big);
  // hi = x − k·ln2HI (exact for these k, and the same as fdlibm's x ∓ ln2HI when k = ±1); lo = k·ln2LO.
  const hi = f64x2.sub(x, f64x2.mul(kf, f64x2.splat(LN2_HI)));
  const lo = f64x2.mul(kf, f64x2.splat(LN2_LO));
  const r = v128.bitselect(f64x2.sub(hi, lo), x, big);
  const t = f64x2.mul(r, r);
  let p = f64x2.add(f64x2.splat(P4), f64x2.mul(t, f64x2.splat(P5)));
  p = f64x2.add(f64x2.splat(P3), f64x2.mul(t, p));
  p = f64x2.add(f64x2.splat(P2), f64x2.mul(t, p));
  p = f64x2.add(f64x2.splat(P1), f64x2.mul(t, p));
  const c = f64x2.sub(r, f64x2.mul(t, p));
  const xc = f64x2.mul(r, c);
  const one1 = f64x2.splat(1.0);
  const two = f64x2.splat(2.0);
  // k ≠ 0: y = 1 − ((lo − (x·c)/(2 − c)) − hi), then y·2^k (or y·2^(k+1000)·2^-1000 below 2^-1021)
  const y = f64x2.sub(one1, f64x2.sub(f64x2.sub(lo, f64x2.div(xc, f64x2.sub(two, c))), hi));
  const ki = i64x2.extend_low_i32x4_s(i32x4.trunc_sat_f64x2_s_zero(kf));
  // 2^k as 2^ke · factor: below 2^-1021 2^(k+1000) · 2^-1000, at k = 1024 2^1023 · 2 (as fdlibm/V8)
  const low = i64x2.lt_s(ki, i64x2.splat(-1021));
  const top = i64x2.eq(ki, i64x2.splat(1024));
  const ke = v128.bitselect(i64x2.add(ki, i64x2.splat(1000)), v128.bitselect(i64x2.splat(1023), ki, top), low);
  const factor = v128.bitselect(f64x2.splat(TWOM1000), v128.bitselect(f64x2.splat(2.0), one1, top), low);
  const scale = i64x2.shl(i64x2.add(ke, i64x2.splat(1023)), 52);
  let result = f64x2.mul(f64x2.mul(y, scale), factor);
  if (!i64x2.all_true(big)) {
    // k = 0 in some lane: 1 − ((x·c)/(c − 2) − x) (a second division, so only when needed; in a
    // log-softmax only the entries near the maximum take it)
    const y0 = f64x2.sub(one1, f64x2.sub(f64x2.div(xc, f64x2.sub(c, two)), r));
    result = v128.bitselect(result, v128.bitselect(f64x2.add(one1, x), y0, tiny), big);
  }
  return result;
}

/** fdexp of n float64s at x into y, for the tests (test/kernels_wasm.test.ts: the same bits as Math.exp). */
export function fd_exp(n: i32, x: usize, y: usize): void {
  let e = 0;
  for (; e + 2 <= n; e += 2) {
    const q = <usize>e << 3;
    v128.store(y + q, expPair(v128.load(x + q)));
  }
  if (e < n) store<f64>(y + (<usize>e << 3), fdexp(load<f64>(x + (<usize>e << 3))));
}

/** fdexp of both lanes: the vector code, or the scalar function where a lane is out of its range. */
// @ts-ignore: decorator
@inline
function expPair(v: v128): v128 {
  const hx = v128.and(i64x2.shr_u(v, 32), i64x2.splat(0x7fffffff));
  if (v128.any_true(i64x2.ge_s(hx, i64x2.splat(0x40862e42)))) {
    return f64x2.replace_lane(f64x2.splat(fdexp(f64x2.extract_lane(v, 0))), 1, fdexp(f64x2.extract_lane(v, 1)));
  }
  return fdexp2(v);
}

// ---------------------------------------------------------------------------------------------------
// Log-softmax and sampling

/**
 * out[r, :] = log(softmax(logits[r, :] / t)), t = temperature > 0, in float32 with the float32 exp of the
 * training softmax (vexp, about 1–2 ulp) and the sum and log in float64: to float tolerance of the
 * reference kernel (float64 throughout). An exact float64 version (fdlibm exp per class, below) costs 6× as
 * much per row, the largest single cost of a small model's step. out may alias logits.
 */
export function log_softmax(rows: i32, classes: i32, temperature: f64, logits: usize, out: usize): void {
  const t: f32 = <f32>temperature;
  const vt = f32x4.splat(t);
  const rowB = <usize>classes << 2;
  for (let r = 0; r < rows; r++) {
    const lg = logits + <usize>r * rowB;
    const o = out + <usize>r * rowB;
    // x = logits / t into out, and its maximum
    let vmax = f32x4.splat(-Infinity);
    let j = 0;
    for (; j + 4 <= classes; j += 4) {
      const q = <usize>j << 2;
      let x = v128.load(lg + q);
      if (t != 1) x = f32x4.div(x, vt);
      v128.store(o + q, x);
      vmax = f32x4.pmax(vmax, x);
    }
    let mx = max(max(f32x4.extract_lane(vmax, 0), f32x4.extract_lane(vmax, 1)), max(f32x4.extract_lane(vmax, 2), f32x4.extract_lane(vmax, 3)));
    for (; j < classes; j++) {
      const q = <usize>j << 2;
      const x = load<f32>(lg + q) / t;
      store<f32>(o + q, x);
      mx = max(mx, x);
    }
    // Σ exp(x − max)
    const vm = f32x4.splat(mx);
    let vsum = f32x4.splat(0);
    j = 0;
    for (; j + 4 <= classes; j += 4) vsum = f32x4.add(vsum, vexp(f32x4.sub(v128.load(o + (<usize>j << 2)), vm)));
    let sum: f64 =
      <f64>f32x4.extract_lane(vsum, 0) + <f64>f32x4.extract_lane(vsum, 1) + <f64>f32x4.extract_lane(vsum, 2) + <f64>f32x4.extract_lane(vsum, 3);
    for (; j < classes; j++) sum += <f64>f32x4.extract_lane(vexp(f32x4.splat(load<f32>(o + (<usize>j << 2)) - mx)), 0);
    // x − (max + log Σ): the shift in float64, the result rounded once
    const shift = <f64>mx + ln(sum);
    j = 0;
    for (; j + 4 <= classes; j += 4) {
      const q = <usize>j << 2;
      const x = v128.load(o + q);
      const lo = f32x4.demote_f64x2_zero(f64x2.sub(f64x2.promote_low_f32x4(x), f64x2.splat(shift)));
      const hi = f32x4.demote_f64x2_zero(f64x2.sub(f64x2.promote_low_f32x4(v128.shuffle<f32>(x, x, 2, 3, 2, 3)), f64x2.splat(shift)));
      v128.store(o + q, v128.shuffle<f32>(lo, hi, 0, 1, 4, 5));
    }
    for (; j < classes; j++) {
      const q = <usize>j << 2;
      store<f32>(o + q, <f32>(<f64>load<f32>(o + q) - shift));
    }
  }
}

/**
 * One class per row of log-probabilities lp (rows × classes float32), as the reference's sampleClasses:
 * greedy (≠ 0): the first maximum. Otherwise u = uniforms[r] / 2³² (uniforms: u32), and the first k with
 * u < Σ_{j ≤ k} exp(lp[j]) (float64, summed in order), else the last k with exp(lp[k]) > 0 (0 if none).
 * Writes the classes to out (i32).
 */
export function sample(rows: i32, classes: i32, lp: usize, uniforms: usize, greedy: i32, out: usize): void {
  for (let r = 0; r < rows; r++) {
    const row = lp + <usize>r * (<usize>classes << 2);
    let pick = 0;
    if (greedy != 0) {
      for (let k = 1; k < classes; k++) {
        if (load<f32>(row + (<usize>k << 2)) > load<f32>(row + (<usize>pick << 2))) pick = k;
      }
    } else {
      const u = <f64>load<u32>(uniforms + (<usize>r << 2)) / 4294967296.0;
      let cumulative: f64 = 0;
      let last = 0;
      let found = -1;
      // exp two classes at a time, scanned in order; stops at the class drawn.
      for (let k = 0; k < classes && found < 0; k += 2) {
        const pair = k + 2 <= classes;
        const x = pair ? f64x2.promote_low_f32x4(v128.load64_zero(row + (<usize>k << 2))) : f64x2.splat(<f64>load<f32>(row + (<usize>k << 2)));
        const e = expPair(x);
        const p0 = f64x2.extract_lane(e, 0);
        if (p0 > 0) last = k;
        cumulative += p0;
        if (u < cumulative) {
          found = k;
        } else if (pair) {
          const p1 = f64x2.extract_lane(e, 1);
          if (p1 > 0) last = k + 1;
          cumulative += p1;
          if (u < cumulative) found = k + 1;
        }
      }
      pick = found >= 0 ? found : last;
    }
    store<i32>(out + (<usize>r << 2), pick);
  }
}

// ---------------------------------------------------------------------------------------------------
// Row copies

/** dst[r, 0:width] = src[r, 0:width] with row strides lds, ldd (floats); the rows must not overlap. */
export function copy_rows(rows: i32, width: i32, src: usize, lds: i32, dst: usize, ldd: i32): void {
  const w = <usize>width << 2;
  for (let r = 0; r < rows; r++) {
    memory.copy(dst + <usize>r * (<usize>ldd << 2), src + <usize>r * (<usize>lds << 2), w);
  }
}
