// Matrix product C = alpha·op(A)·op(B) + beta·C in WebAssembly SIMD (f32x4), row-major.
//
// The algorithm (the same one as assembly/gemm.ts, the AssemblyScript candidate):
//   for each KC-deep slice of k:  pack op(B)[slice, :] into NR-wide column panels (zero padded);
//     for each MC-tall block of rows:  pack op(A)[block, slice] into MR-tall row panels (zero padded);
//       for each NR panel, for each MR panel:  micro-kernel MR×NR held in registers.
// Packing makes the micro-kernel independent of the transposes: it walks two contiguous buffers.
// No stack, no static data: several threads run this on one shared memory, and each passes its own
// `work` area (GEMM_WORK_FLOATS floats, 16-byte aligned).
#include <wasm_simd128.h>

#ifndef MR
#define MR 4
#endif
#ifndef NR
#define NR 8
#endif
#define NV (NR / 4)
#ifndef KC
#define KC 256
#endif
#ifndef MC
#define MC 64
#endif
#ifndef NC
#define NC 2048
#endif

#ifdef RELAXED
#define MADD(acc, a, b) wasm_f32x4_relaxed_madd((a), (b), (acc))
#else
#define MADD(acc, a, b) wasm_f32x4_add((acc), wasm_f32x4_mul((a), (b)))
#endif

#define EXPORT(name) __attribute__((export_name(#name)))

// Floats of scratch one gemm call needs: packed B (KC×NC), packed A (MC×KC), an MR×NR edge tile.
#define GEMM_WORK_FLOATS (KC * NC + MC * KC + MR * NR)
EXPORT(gemm_work_floats) int gemm_work_floats(void) { return GEMM_WORK_FLOATS; }

// Bp[panel][p][c] = op(B)[p, j0 + panel·NR + c] for p < kc, zero for columns ≥ nc.
static void pack_b(int transB, int kc, int nc, const float *b, int ldb, float *bp) {
  for (int j = 0; j < nc; j += NR) {
    int w = nc - j < NR ? nc - j : NR;
    if (!transB) {
      const float *src = b + j;
      if (w == NR) {
        for (int p = 0; p < kc; p++) {
          for (int v = 0; v < NV; v++) wasm_v128_store(bp + 4 * v, wasm_v128_load(src + 4 * v));
          src += ldb;
          bp += NR;
        }
      } else {
        for (int p = 0; p < kc; p++) {
          for (int c = 0; c < NR; c++) bp[c] = c < w ? src[c] : 0.0f;
          src += ldb;
          bp += NR;
        }
      }
    } else {
      // stored B is n×k: column j of op(B) is row j of B, contiguous along p.
      const float *src = b + (long)j * ldb;
      for (int c = 0; c < NR; c++) {
        float *dst = bp + c;
        if (c < w) {
          const float *s = src + (long)c * ldb;
          for (int p = 0; p < kc; p++) dst[p * NR] = s[p];
        } else {
          for (int p = 0; p < kc; p++) dst[p * NR] = 0.0f;
        }
      }
      bp += kc * NR;
    }
  }
}

// Ap[panel][p][r] = op(A)[i0 + panel·MR + r, p], zero for rows ≥ mc.
static void pack_a(int transA, int mc, int kc, const float *a, int lda, float *ap) {
  for (int i = 0; i < mc; i += MR) {
    int h = mc - i < MR ? mc - i : MR;
    if (transA) {
      // stored A is k×m: the MR values of one p are contiguous.
      const float *src = a + i;
      for (int p = 0; p < kc; p++) {
        for (int r = 0; r < MR; r++) ap[r] = r < h ? src[r] : 0.0f;
        src += lda;
        ap += MR;
      }
    } else {
      const float *src = a + (long)i * lda;
      for (int r = 0; r < MR; r++) {
        float *dst = ap + r;
        if (r < h) {
          const float *s = src + (long)r * lda;
          for (int p = 0; p < kc; p++) dst[p * MR] = s[p];
        } else {
          for (int p = 0; p < kc; p++) dst[p * MR] = 0.0f;
        }
      }
      ap += kc * MR;
    }
  }
}

// acc = Ap·Bp over kc; then C[0:h, 0:w] = alpha·acc + beta·C (beta 0: C's old values are not read).
static void micro(int kc, const float *restrict ap, const float *restrict bp, float *c, int ldc, float alpha,
                  float beta, int h, int w, float *edge) {
  v128_t acc[MR][NV];
#pragma clang loop unroll(full)
  for (int r = 0; r < MR; r++)
#pragma clang loop unroll(full)
    for (int v = 0; v < NV; v++) acc[r][v] = wasm_f32x4_splat(0.0f);
#ifdef UNROLL
#pragma clang loop unroll_count(UNROLL)
#endif
  for (int p = 0; p < kc; p++) {
    v128_t bv[NV];
#pragma clang loop unroll(full)
    for (int v = 0; v < NV; v++) bv[v] = wasm_v128_load(bp + 4 * v);
#pragma clang loop unroll(full)
    for (int r = 0; r < MR; r++) {
      v128_t av = wasm_v128_load32_splat(ap + r);
#pragma clang loop unroll(full)
      for (int v = 0; v < NV; v++) acc[r][v] = MADD(acc[r][v], av, bv[v]);
    }
    ap += MR;
    bp += NR;
  }
  v128_t va = wasm_f32x4_splat(alpha), vb = wasm_f32x4_splat(beta);
  if (h == MR && w == NR) {
#pragma clang loop unroll(full)
    for (int r = 0; r < MR; r++) {
      float *cr = c + (long)r * ldc;
#pragma clang loop unroll(full)
      for (int v = 0; v < NV; v++) {
        v128_t x = wasm_f32x4_mul(acc[r][v], va);
        if (beta != 0.0f) x = MADD(x, vb, wasm_v128_load(cr + 4 * v));
        wasm_v128_store(cr + 4 * v, x);
      }
    }
  } else {
#pragma clang loop unroll(full)
    for (int r = 0; r < MR; r++)
#pragma clang loop unroll(full)
      for (int v = 0; v < NV; v++) wasm_v128_store(edge + r * NR + 4 * v, wasm_f32x4_mul(acc[r][v], va));
    for (int r = 0; r < h; r++) {
      float *cr = c + (long)r * ldc;
      for (int j = 0; j < w; j++) cr[j] = beta == 0.0f ? edge[r * NR + j] : edge[r * NR + j] + beta * cr[j];
    }
  }
}

EXPORT(gemm)
void gemm(int transA, int transB, int m, int n, int k, float alpha, const float *a, int lda, const float *b,
          int ldb, float beta, float *c, int ldc, float *work) {
  if (m <= 0 || n <= 0) return;
  float *bp = work, *ap = work + KC * NC, *edge = ap + MC * KC;
  if (k <= 0 || alpha == 0.0f) {
    for (int i = 0; i < m; i++)
      for (int j = 0; j < n; j++) c[(long)i * ldc + j] = beta == 0.0f ? 0.0f : beta * c[(long)i * ldc + j];
    return;
  }
  for (int jc = 0; jc < n; jc += NC) {
    int nc = n - jc < NC ? n - jc : NC;
    for (int pc = 0; pc < k; pc += KC) {
      int kc = k - pc < KC ? k - pc : KC;
      float bet = pc == 0 ? beta : 1.0f;
      pack_b(transB, kc, nc, transB ? b + (long)jc * ldb + pc : b + (long)pc * ldb + jc, ldb, bp);
      for (int ic = 0; ic < m; ic += MC) {
        int mc = m - ic < MC ? m - ic : MC;
        pack_a(transA, mc, kc, transA ? a + (long)pc * lda + ic : a + (long)ic * lda + pc, lda, ap);
        for (int jr = 0; jr < nc; jr += NR) {
          int w = nc - jr < NR ? nc - jr : NR;
          const float *bpp = bp + jr * kc;
          for (int ir = 0; ir < mc; ir += MR) {
            int h = mc - ir < MR ? mc - ir : MR;
            micro(kc, ap + ir * kc, bpp, c + (long)(ic + ir) * ldc + jc + jr, ldc, alpha, bet, h, w, edge);
          }
        }
      }
    }
  }
}
