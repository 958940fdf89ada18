// C = alpha·op(A)·op(B) + beta·C in WebAssembly SIMD (f32x4), row-major; op(X) = X or Xᵀ.
//
// The algorithm (csrc/gemm.c is the same one in C, kept for the benchmark in bench/README-kernels.md):
//   for each KC-deep slice of k:   pack op(B)[slice, :] into NR-wide column panels (zero padded);
//     for each MC-tall block of rows:   pack op(A)[block, slice] into MR-tall row panels (zero padded);
//       for each NR panel, for each MR panel:   the MR×NR micro-kernel, its accumulators in registers.
// Packing makes the micro-kernel blind to the transposes: it walks two contiguous buffers.
// Exception: m ≤ SMALL_M with op(B) = B (NN, TN; one or a few sequences in generation) skips packing and
// reads B's rows in place (gemmSmallM below), with the same per-element arithmetic.
//
// Why it is written the way it is (each point measured, see bench/README-kernels.md):
// - 4×8 tile (8 accumulators): V8 hoists every load of an iteration to its top, so 8 accumulators + 2 B
//   vectors + 4 A broadcasts fill the 15 usable xmm registers; larger tiles spill and run 2× slower.
// - the micro-kernel is inlined into the loop nest and its k loop is a do-while: V8 then unrolls it and
//   drops the per-iteration stack check (the AssemblyScript `for` form ran 10–15% slower).
// - constant offsets go in the load's immediate, so V8 addresses with [base + index + imm], no lea.
// - with relaxed SIMD the multiply-add is one fused instruction (+15–20%).
//
// Threads: the caller splits C into row or column blocks, one gemm call each. Every element of C goes
// through the same operations whatever the split (k is never split, edge tiles use the same vector
// arithmetic), so the threaded result is bit-identical to the single-threaded one.
// No stack and no static data are used: all scratch is in `work` (gemm_work_floats() floats, per thread).

const MR = 4;
const NR = 8;
const KC = 256;
const MC = 64;
const NC = 2048;

// @ts-ignore: decorator
@inline
function madd(acc: v128, a: v128, b: v128): v128 {
  if (ASC_FEATURE_RELAXED_SIMD) return f32x4.relaxed_madd(a, b, acc);
  return f32x4.add(acc, f32x4.mul(a, b));
}

/** Floats of scratch one gemm call needs: packed B (KC×NC), packed A (MC×KC), one MR×NR edge tile. */
export function gemm_work_floats(): i32 {
  return KC * NC + MC * KC + MR * NR;
}

// @ts-ignore: decorator
@inline
function transpose4(
  r0: v128,
  r1: v128,
  r2: v128,
  r3: v128,
  dst: usize,
  stride: usize,
): void {
  const t0 = v128.shuffle<f32>(r0, r1, 0, 4, 1, 5);
  const t1 = v128.shuffle<f32>(r2, r3, 0, 4, 1, 5);
  const t2 = v128.shuffle<f32>(r0, r1, 2, 6, 3, 7);
  const t3 = v128.shuffle<f32>(r2, r3, 2, 6, 3, 7);
  v128.store(dst, v128.shuffle<f32>(t0, t1, 0, 1, 4, 5));
  v128.store(dst + stride, v128.shuffle<f32>(t0, t1, 2, 3, 6, 7));
  v128.store(dst + 2 * stride, v128.shuffle<f32>(t2, t3, 0, 1, 4, 5));
  v128.store(dst + 3 * stride, v128.shuffle<f32>(t2, t3, 2, 3, 6, 7));
}

// Bp[panel][p][c] = op(B)[p, panel·NR + c] for p < kc (b points at op(B)[0, 0]); zero past column nc.
function packB(transB: bool, kc: i32, nc: i32, b: usize, ldb: i32, bp: usize): void {
  const ldbB = <usize>ldb << 2;
  for (let j = 0; j < nc; j += NR) {
    const w = min(nc - j, NR);
    if (!transB) {
      let src = b + (<usize>j << 2);
      if (w == NR) {
        for (let p = 0; p < kc; p++) {
          v128.store(bp, v128.load(src));
          v128.store(bp, v128.load(src, 16), 16);
          src += ldbB;
          bp += NR * 4;
        }
      } else {
        for (let p = 0; p < kc; p++) {
          for (let c = 0; c < NR; c++) {
            store<f32>(bp + (<usize>c << 2), c < w ? load<f32>(src + (<usize>c << 2)) : 0);
          }
          src += ldbB;
          bp += NR * 4;
        }
      }
    } else {
      // The stored B is n×k: column j of op(B) is row j of B, contiguous along p. Transpose 4×4 blocks.
      const src = b + <usize>j * ldbB;
      let p = 0;
      if (w == NR) {
        for (; p + 4 <= kc; p += 4) {
          const s = src + (<usize>p << 2);
          const d = bp + <usize>(p * NR * 4);
          transpose4(
            v128.load(s),
            v128.load(s + ldbB),
            v128.load(s + 2 * ldbB),
            v128.load(s + 3 * ldbB),
            d,
            NR * 4,
          );
          const s4 = s + 4 * ldbB;
          transpose4(
            v128.load(s4),
            v128.load(s4 + ldbB),
            v128.load(s4 + 2 * ldbB),
            v128.load(s4 + 3 * ldbB),
            d + 16,
            NR * 4,
          );
        }
      }
      for (; p < kc; p++) {
        const d = bp + <usize>(p * NR * 4);
        for (let c = 0; c < NR; c++) {
          store<f32>(d + (<usize>c << 2), c < w ? load<f32>(src + <usize>c * ldbB + (<usize>p << 2)) : 0);
        }
      }
      bp += <usize>(kc * NR * 4);
    }
  }
}

// Ap[panel][p][r] = op(A)[panel·MR + r, p] (a points at op(A)[0, 0]); zero past row mc.
function packA(transA: bool, mc: i32, kc: i32, a: usize, lda: i32, ap: usize): void {
  const ldaB = <usize>lda << 2;
  for (let i = 0; i < mc; i += MR) {
    const h = min(mc - i, MR);
    if (transA) {
      // The stored A is k×m: the MR values of one p are contiguous.
      let src = a + (<usize>i << 2);
      if (h == MR) {
        for (let p = 0; p < kc; p++) {
          v128.store(ap, v128.load(src));
          src += ldaB;
          ap += MR * 4;
        }
      } else {
        for (let p = 0; p < kc; p++) {
          for (let r = 0; r < MR; r++) {
            store<f32>(ap + (<usize>r << 2), r < h ? load<f32>(src + (<usize>r << 2)) : 0);
          }
          src += ldaB;
          ap += MR * 4;
        }
      }
    } else {
      const src = a + <usize>i * ldaB;
      let p = 0;
      if (h == MR) {
        for (; p + 4 <= kc; p += 4) {
          const s = src + (<usize>p << 2);
          transpose4(
            v128.load(s),
            v128.load(s + ldaB),
            v128.load(s + 2 * ldaB),
            v128.load(s + 3 * ldaB),
            ap + <usize>(p * MR * 4),
            MR * 4,
          );
        }
      }
      for (; p < kc; p++) {
        const d = ap + <usize>(p * MR * 4);
        for (let r = 0; r < MR; r++) {
          store<f32>(d + (<usize>r << 2), r < h ? load<f32>(src + <usize>r * ldaB + (<usize>p << 2)) : 0);
        }
      }
      ap += <usize>(kc * MR * 4);
    }
  }
}

// One row of the tile: C[r, 0:8] = alpha·acc + beta·C (beta 0: C is not read, so NaN there is ignored).
// @ts-ignore: decorator
@inline
function storeRow(cr: usize, x0: v128, x1: v128, va: v128, vb: v128, beta: f32): void {
  let y0 = f32x4.mul(x0, va);
  let y1 = f32x4.mul(x1, va);
  if (beta != 0) {
    y0 = madd(y0, vb, v128.load(cr));
    y1 = madd(y1, vb, v128.load(cr, 16));
  }
  v128.store(cr, y0);
  v128.store(cr, y1, 16);
}

// The MR×NR tile of C at c: acc = Ap·Bp over kc ≥ 1, then C = alpha·acc + beta·C on its h×w valid part.
// A partial tile goes through `edge` (MR×NR floats) with the same vector arithmetic as a full one.
// @ts-ignore: decorator
@inline
function micro(
  kc: i32,
  ap: usize,
  bp: usize,
  c: usize,
  ldc: i32,
  alpha: f32,
  beta: f32,
  h: i32,
  w: i32,
  edge: usize,
): void {
  let c00 = f32x4.splat(0);
  let c01 = c00;
  let c10 = c00;
  let c11 = c00;
  let c20 = c00;
  let c21 = c00;
  let c30 = c00;
  let c31 = c00;
  let p = kc;
  do {
    const b0 = v128.load(bp);
    const b1 = v128.load(bp, 16);
    let a = v128.load32_splat(ap);
    c00 = madd(c00, a, b0);
    c01 = madd(c01, a, b1);
    a = v128.load32_splat(ap, 4);
    c10 = madd(c10, a, b0);
    c11 = madd(c11, a, b1);
    a = v128.load32_splat(ap, 8);
    c20 = madd(c20, a, b0);
    c21 = madd(c21, a, b1);
    a = v128.load32_splat(ap, 12);
    c30 = madd(c30, a, b0);
    c31 = madd(c31, a, b1);
    ap += MR * 4;
    bp += NR * 4;
  } while (--p);
  const va = f32x4.splat(alpha);
  const vb = f32x4.splat(beta);
  const ldcB = <usize>ldc << 2;
  if (h == MR && w == NR) {
    storeRow(c, c00, c01, va, vb, beta);
    storeRow(c + ldcB, c10, c11, va, vb, beta);
    storeRow(c + 2 * ldcB, c20, c21, va, vb, beta);
    storeRow(c + 3 * ldcB, c30, c31, va, vb, beta);
  } else {
    if (beta != 0) {
      for (let r = 0; r < h; r++) {
        memory.copy(edge + <usize>(r * NR * 4), c + <usize>r * ldcB, <usize>w << 2);
      }
    }
    storeRow(edge, c00, c01, va, vb, beta);
    storeRow(edge + NR * 4, c10, c11, va, vb, beta);
    storeRow(edge + 2 * NR * 4, c20, c21, va, vb, beta);
    storeRow(edge + 3 * NR * 4, c30, c31, va, vb, beta);
    for (let r = 0; r < h; r++) {
      memory.copy(c + <usize>r * ldcB, edge + <usize>(r * NR * 4), <usize>w << 2);
    }
  }
}

// ---- Small m, op(B) = B (NN, TN): no packing. ----------------------------------------------------------
// For a few rows of C, packing B (k×n floats, every call) costs more than the product itself. These
// kernels read B's rows in place (row p at b + p·ldb) and A by strides, with the same per-element
// arithmetic as the packed path: per KC slice, acc = Σ madd over p in order from 0, then
// C = alpha·acc + bet·C (bet = beta on the first slice, 1 after). So every element of C is bit-identical to
// what the packed path computes, whichever path a (threaded) chunk takes.

// Rows at or below which NN/TN products skip packing. Measured single-threaded (1×1024×256: 120 → 34 µs;
// 8×: 154 → 124; 12×: 199 → 192; 16×: 230 → 245 µs, relaxed build, 2-core EPYC): the crossover is 12–16.
export const SMALL_M: i32 = 12;

// C[0:4] = alpha·acc + beta·C[0:4] (beta 0: C is not read).
// @ts-ignore: decorator
@inline
function store4(cp: usize, acc: v128, va: v128, vb: v128, beta: f32): void {
  let y = f32x4.mul(acc, va);
  if (beta != 0) y = madd(y, vb, v128.load(cp));
  v128.store(cp, y);
}

// The first w (1..3) floats at p, the other lanes 0.
// @ts-ignore: decorator
@inline
function loadPart(p: usize, w: i32): v128 {
  let v = v128.load32_zero(p);
  if (w > 1) v = v128.load32_lane(p, v, 1, 4);
  if (w > 2) v = v128.load32_lane(p, v, 2, 8);
  return v;
}

// One row × 32 columns. a: op(A)[i, p0]; aps: bytes between consecutive p of A; b: B[p0, j]; c: C[i, j].
function small1x32(kc: i32, a: usize, aps: usize, b: usize, ldbB: usize, c: usize, alpha: f32, beta: f32): void {
  let c0 = f32x4.splat(0);
  let c1 = c0;
  let c2 = c0;
  let c3 = c0;
  let c4 = c0;
  let c5 = c0;
  let c6 = c0;
  let c7 = c0;
  let p = kc;
  do {
    const x = v128.load32_splat(a);
    c0 = madd(c0, x, v128.load(b));
    c1 = madd(c1, x, v128.load(b, 16));
    c2 = madd(c2, x, v128.load(b, 32));
    c3 = madd(c3, x, v128.load(b, 48));
    c4 = madd(c4, x, v128.load(b, 64));
    c5 = madd(c5, x, v128.load(b, 80));
    c6 = madd(c6, x, v128.load(b, 96));
    c7 = madd(c7, x, v128.load(b, 112));
    a += aps;
    b += ldbB;
  } while (--p);
  const va = f32x4.splat(alpha);
  const vb = f32x4.splat(beta);
  store4(c, c0, va, vb, beta);
  store4(c + 16, c1, va, vb, beta);
  store4(c + 32, c2, va, vb, beta);
  store4(c + 48, c3, va, vb, beta);
  store4(c + 64, c4, va, vb, beta);
  store4(c + 80, c5, va, vb, beta);
  store4(c + 96, c6, va, vb, beta);
  store4(c + 112, c7, va, vb, beta);
}

// One row × 16 columns (as small1x16): faster while B stays in L2, see smallRows.
function small1x16(kc: i32, a: usize, aps: usize, b: usize, ldbB: usize, c: usize, alpha: f32, beta: f32): void {
  let c0 = f32x4.splat(0);
  let c1 = c0;
  let c2 = c0;
  let c3 = c0;
  let p = kc;
  do {
    const x = v128.load32_splat(a);
    c0 = madd(c0, x, v128.load(b));
    c1 = madd(c1, x, v128.load(b, 16));
    c2 = madd(c2, x, v128.load(b, 32));
    c3 = madd(c3, x, v128.load(b, 48));
    a += aps;
    b += ldbB;
  } while (--p);
  const va = f32x4.splat(alpha);
  const vb = f32x4.splat(beta);
  store4(c, c0, va, vb, beta);
  store4(c + 16, c1, va, vb, beta);
  store4(c + 32, c2, va, vb, beta);
  store4(c + 48, c3, va, vb, beta);
}

// Two rows × 16 columns; ars: bytes between the two rows of op(A); ldcB: between the two rows of C.
function small2x16(
  kc: i32,
  a: usize,
  ars: usize,
  aps: usize,
  b: usize,
  ldbB: usize,
  c: usize,
  ldcB: usize,
  alpha: f32,
  beta: f32,
): void {
  let c00 = f32x4.splat(0);
  let c01 = c00;
  let c02 = c00;
  let c03 = c00;
  let c10 = c00;
  let c11 = c00;
  let c12 = c00;
  let c13 = c00;
  let p = kc;
  do {
    const b0 = v128.load(b);
    const b1 = v128.load(b, 16);
    const b2 = v128.load(b, 32);
    const b3 = v128.load(b, 48);
    let x = v128.load32_splat(a);
    c00 = madd(c00, x, b0);
    c01 = madd(c01, x, b1);
    c02 = madd(c02, x, b2);
    c03 = madd(c03, x, b3);
    x = v128.load32_splat(a + ars);
    c10 = madd(c10, x, b0);
    c11 = madd(c11, x, b1);
    c12 = madd(c12, x, b2);
    c13 = madd(c13, x, b3);
    a += aps;
    b += ldbB;
  } while (--p);
  const va = f32x4.splat(alpha);
  const vb = f32x4.splat(beta);
  store4(c, c00, va, vb, beta);
  store4(c + 16, c01, va, vb, beta);
  store4(c + 32, c02, va, vb, beta);
  store4(c + 48, c03, va, vb, beta);
  const d = c + ldcB;
  store4(d, c10, va, vb, beta);
  store4(d + 16, c11, va, vb, beta);
  store4(d + 32, c12, va, vb, beta);
  store4(d + 48, c13, va, vb, beta);
}

// Four rows × 8 columns (the packed micro-kernel's tile, read in place).
function small4x8(
  kc: i32,
  a: usize,
  ars: usize,
  aps: usize,
  b: usize,
  ldbB: usize,
  c: usize,
  ldcB: usize,
  alpha: f32,
  beta: f32,
): void {
  let c00 = f32x4.splat(0);
  let c01 = c00;
  let c10 = c00;
  let c11 = c00;
  let c20 = c00;
  let c21 = c00;
  let c30 = c00;
  let c31 = c00;
  let p = kc;
  do {
    const b0 = v128.load(b);
    const b1 = v128.load(b, 16);
    let x = v128.load32_splat(a);
    c00 = madd(c00, x, b0);
    c01 = madd(c01, x, b1);
    x = v128.load32_splat(a + ars);
    c10 = madd(c10, x, b0);
    c11 = madd(c11, x, b1);
    x = v128.load32_splat(a + 2 * ars);
    c20 = madd(c20, x, b0);
    c21 = madd(c21, x, b1);
    x = v128.load32_splat(a + 3 * ars);
    c30 = madd(c30, x, b0);
    c31 = madd(c31, x, b1);
    a += aps;
    b += ldbB;
  } while (--p);
  const va = f32x4.splat(alpha);
  const vb = f32x4.splat(beta);
  storeRow(c, c00, c01, va, vb, beta);
  storeRow(c + ldcB, c10, c11, va, vb, beta);
  storeRow(c + 2 * ldcB, c20, c21, va, vb, beta);
  storeRow(c + 3 * ldcB, c30, c31, va, vb, beta);
}

// One row × w (1..4) columns: the column tails.
function small1xw(kc: i32, a: usize, aps: usize, b: usize, ldbB: usize, c: usize, w: i32, alpha: f32, beta: f32): void {
  let acc = f32x4.splat(0);
  let p = kc;
  if (w == 4) {
    do {
      acc = madd(acc, v128.load32_splat(a), v128.load(b));
      a += aps;
      b += ldbB;
    } while (--p);
  } else {
    do {
      acc = madd(acc, v128.load32_splat(a), loadPart(b, w));
      a += aps;
      b += ldbB;
    } while (--p);
  }
  let y = f32x4.mul(acc, f32x4.splat(alpha));
  if (w == 4) {
    if (beta != 0) y = madd(y, f32x4.splat(beta), v128.load(c));
    v128.store(c, y);
  } else {
    if (beta != 0) y = madd(y, f32x4.splat(beta), loadPart(c, w));
    v128.store32_lane(c, y, 0);
    if (w > 1) v128.store32_lane(c, y, 1, 4);
    if (w > 2) v128.store32_lane(c, y, 2, 8);
  }
}

// C[i0 : i0+rows, :] for one KC slice, rows ∈ {1, 2, 4}: full-width blocks, then 4-column tails per row.
function smallRows(
  rows: i32,
  kc: i32,
  n: i32,
  a: usize,
  ars: usize,
  aps: usize,
  b: usize,
  ldbB: usize,
  c: usize,
  ldcB: usize,
  alpha: f32,
  beta: f32,
): void {
  // One row: 32 columns (8 accumulators) spill registers in V8 but read 2 whole cache lines per row of B,
  // which wins when B streams from L3 (1×1024×256: 32 µs vs 48 with 16 columns); while the slice of B fits
  // in L2 (≤ 512 KiB) 16 columns win (1×256×256: 4.5 µs vs 7.3; 1×259×256: 5.3 vs 7.8).
  const narrow = rows == 1 && <u64>kc * <u64>n <= 128 * 1024;
  const width = narrow ? 16 : 32 / rows;
  const full = n - (n % width);
  let j = 0;
  for (; j < full; j += width) {
    const bj = b + (<usize>j << 2);
    const cj = c + (<usize>j << 2);
    if (narrow) small1x16(kc, a, aps, bj, ldbB, cj, alpha, beta);
    else if (rows == 1) small1x32(kc, a, aps, bj, ldbB, cj, alpha, beta);
    else if (rows == 2) small2x16(kc, a, ars, aps, bj, ldbB, cj, ldcB, alpha, beta);
    else small4x8(kc, a, ars, aps, bj, ldbB, cj, ldcB, alpha, beta);
  }
  for (; j < n; j += 4) {
    const w = min(n - j, 4);
    for (let r = 0; r < rows; r++) {
      small1xw(kc, a + <usize>r * ars, aps, b + (<usize>j << 2), ldbB, c + <usize>r * ldcB + (<usize>j << 2), w, alpha, beta);
    }
  }
}

// The whole product for m ≤ SMALL_M and op(B) = B (k ≥ 1, alpha ≠ 0).
function gemmSmallM(
  transA: bool,
  m: i32,
  n: i32,
  k: i32,
  alpha: f32,
  a: usize,
  lda: i32,
  b: usize,
  ldb: i32,
  beta: f32,
  c: usize,
  ldc: i32,
): void {
  const ldaB = <usize>lda << 2;
  const ldbB = <usize>ldb << 2;
  const ldcB = <usize>ldc << 2;
  // NN: A is m×k (rows lda apart, p contiguous); TN: A is k×m (p lda apart, rows contiguous).
  const ars: usize = transA ? 4 : ldaB;
  const aps: usize = transA ? ldaB : 4;
  for (let pc = 0; pc < k; pc += KC) {
    const kc = min(k - pc, KC);
    const bet: f32 = pc == 0 ? beta : 1;
    const ap = a + <usize>pc * aps;
    const bp = b + <usize>pc * ldbB;
    let i = 0;
    while (i < m) {
      const left = m - i;
      const rows = left >= 4 ? 4 : left >= 2 ? 2 : 1;
      smallRows(rows, kc, n, ap + <usize>i * ars, ars, aps, bp, ldbB, c + <usize>i * ldcB, ldcB, alpha, bet);
      i += rows;
    }
  }
}

/** C = alpha·op(A)·op(B) + beta·C. Pointers are byte addresses; `work` is this thread's scratch. */
export function gemm(
  transA: bool,
  transB: bool,
  m: i32,
  n: i32,
  k: i32,
  alpha: f32,
  a: usize,
  lda: i32,
  b: usize,
  ldb: i32,
  beta: f32,
  c: usize,
  ldc: i32,
  work: usize,
): void {
  if (m <= 0 || n <= 0) return;
  const ldcB = <usize>ldc << 2;
  if (k <= 0 || alpha == 0) {
    for (let i = 0; i < m; i++) {
      const cr = c + <usize>i * ldcB;
      for (let j = 0; j < n; j++) {
        const q = cr + (<usize>j << 2);
        store<f32>(q, beta == 0 ? 0 : beta * load<f32>(q));
      }
    }
    return;
  }
  if (!transB && m <= SMALL_M) {
    gemmSmallM(transA, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
    return;
  }
  const bp = work;
  const ap = work + KC * NC * 4;
  const edge = ap + MC * KC * 4;
  for (let jc = 0; jc < n; jc += NC) {
    const nc = min(n - jc, NC);
    for (let pc = 0; pc < k; pc += KC) {
      const kc = min(k - pc, KC);
      const bet: f32 = pc == 0 ? beta : 1;
      const bOff = transB ? <usize>jc * ldb + pc : <usize>pc * ldb + jc;
      packB(transB, kc, nc, b + (bOff << 2), ldb, bp);
      for (let ic = 0; ic < m; ic += MC) {
        const mc = min(m - ic, MC);
        const aOff = transA ? <usize>pc * lda + ic : <usize>ic * lda + pc;
        packA(transA, mc, kc, a + (aOff << 2), lda, ap);
        for (let jr = 0; jr < nc; jr += NR) {
          const w = min(nc - jr, NR);
          const bpp = bp + <usize>(jr * kc * 4);
          for (let ir = 0; ir < mc; ir += MR) {
            const hh = min(mc - ir, MR);
            const cp = c + <usize>(ic + ir) * ldcB + (<usize>(jc + jr) << 2);
            micro(kc, ap + <usize>(ir * kc * 4), bpp, cp, ldc, alpha, bet, hh, w, edge);
          }
        }
      }
    }
  }
}

// ---- Pre-packed B (constant weights: generation, the recurrent loop) ------------------------------------
// The packed path above re-packs B on every call; for a constant B (a layer's weights, stepped thousands
// of times; W_h or W_hᵀ over a chunk's steps, assembly/recurrent.ts) gemm_pack_b packs it once and gemm_packed runs the same blocked loop and micro-kernel on it. So
// gemm_packed gives exactly gemm's bits (the packed path's, which the small-m path also reproduces), and a
// product of 8–12 rows runs at the micro-kernel's speed instead of the small-m kernels' strided reads.

/** Floats gemm_pack_b writes for a k×n op(B): k × n rounded up to whole NR-wide panels. */
export function gemm_packed_floats(k: i32, n: i32): i32 {
  return k * (((n + NR - 1) / NR) * NR);
}

/**
 * Packs op(B) (k×n: B stored k×n, or n×k when transB; row stride ldb) into bp, block by block in the order
 * gemm_packed reads: gemm_packed on it gives gemm(transA, transB, …)'s bits.
 */
export function gemm_pack_b(transB: bool, k: i32, n: i32, b: usize, ldb: i32, bp: usize): void {
  for (let jc = 0; jc < n; jc += NC) {
    const nc = min(n - jc, NC);
    const ncPad = ((nc + NR - 1) / NR) * NR;
    for (let pc = 0; pc < k; pc += KC) {
      const kc = min(k - pc, KC);
      const bOff = transB ? <usize>jc * ldb + pc : <usize>pc * ldb + jc;
      packB(transB, kc, nc, b + (bOff << 2), ldb, bp);
      bp += <usize>kc * ncPad * 4;
    }
  }
}

/**
 * Columns j0 … j1−1 of C = alpha·op(A)·B + beta·C, B packed by gemm_pack_b (j0 a multiple of NR; threads
 * take column ranges). The loop nest of gemm with packB replaced by the packed blocks.
 */
export function gemm_packed(
  transA: bool,
  m: i32,
  n: i32,
  k: i32,
  alpha: f32,
  a: usize,
  lda: i32,
  bp: usize,
  beta: f32,
  c: usize,
  ldc: i32,
  work: usize,
  j0: i32,
  j1: i32,
): void {
  if (m <= 0 || n <= 0 || j1 <= j0) return;
  const ldcB = <usize>ldc << 2;
  if (k <= 0 || alpha == 0) {
    for (let i = 0; i < m; i++) {
      const cr = c + <usize>i * ldcB;
      for (let j = j0; j < j1; j++) {
        const q = cr + (<usize>j << 2);
        store<f32>(q, beta == 0 ? 0 : beta * load<f32>(q));
      }
    }
    return;
  }
  const ap = work + KC * NC * 4;
  const edge = ap + MC * KC * 4;
  let blk = bp;
  for (let jc = 0; jc < n; jc += NC) {
    const nc = min(n - jc, NC);
    const ncPad = ((nc + NR - 1) / NR) * NR;
    const lo = max(j0, jc) - jc;
    const hi = min(j1, jc + nc) - jc;
    for (let pc = 0; pc < k; pc += KC) {
      const kc = min(k - pc, KC);
      if (lo < hi) {
        const bet: f32 = pc == 0 ? beta : 1;
        for (let ic = 0; ic < m; ic += MC) {
          const mc = min(m - ic, MC);
          const aOff = transA ? <usize>pc * lda + ic : <usize>ic * lda + pc;
          packA(transA, mc, kc, a + (aOff << 2), lda, ap);
          for (let jr = lo; jr < hi; jr += NR) {
            const w = min(hi - jr, NR);
            const bpp = blk + <usize>(jr * kc * 4);
            for (let ir = 0; ir < mc; ir += MR) {
              const hh = min(mc - ir, MR);
              const cp = c + <usize>(ic + ir) * ldcB + (<usize>(jc + jr) << 2);
              micro(kc, ap + <usize>(ir * kc * 4), bpp, cp, ldc, alpha, bet, hh, w, edge);
            }
          }
        }
      }
      blk += <usize>kc * ncPad * 4;
    }
  }
}
