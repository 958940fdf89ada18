// Matrix product C = alpha·op(A)·op(B) + beta·C in WebAssembly SIMD (f32x4), row-major.
// The C candidate of the AssemblyScript-vs-C measurement (bench/README-kernels.md); not part of the build.
// Build (Debian's clang 14 + lld), then `node bench/gemm.mjs --raw c.wasm ...`:
//   clang --target=wasm32 -O3 -msimd128 -matomics -mbulk-memory -nostdlib -mllvm -disable-lsr \
//     -Wl,--no-entry -Wl,--import-memory -Wl,--shared-memory -Wl,--max-memory=4294967296 \
//     -o c.wasm csrc/gemm.c
// (-mllvm -disable-lsr: without it LLVM's loop strength reduction turns the loads' constant offsets
// into separate adds, which V8 then emits as lea instructions: 5–10% slower.)
// -DRELAXED selects relaxed SIMD's fused multiply-add, but clang 14 still emits the proposal's old
// opcode (0xfd 0xaf 0x01), which Node 20 and current browsers reject: that build cannot run.
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

static inline void transpose4(v128_t r0, v128_t r1, v128_t r2, v128_t r3, float *dst, int stride) {
  v128_t t0 = wasm_i32x4_shuffle(r0, r1, 0, 4, 1, 5), t1 = wasm_i32x4_shuffle(r2, r3, 0, 4, 1, 5);
  v128_t t2 = wasm_i32x4_shuffle(r0, r1, 2, 6, 3, 7), t3 = wasm_i32x4_shuffle(r2, r3, 2, 6, 3, 7);
  wasm_v128_store(dst, wasm_i32x4_shuffle(t0, t1, 0, 1, 4, 5));
  wasm_v128_store(dst + stride, wasm_i32x4_shuffle(t0, t1, 2, 3, 6, 7));
  wasm_v128_store(dst + 2 * stride, wasm_i32x4_shuffle(t2, t3, 0, 1, 4, 5));
  wasm_v128_store(dst + 3 * stride, wasm_i32x4_shuffle(t2, t3, 2, 3, 6, 7));
}

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
      // stored B is n×k: column j of op(B) is row j of B, contiguous along p. Transpose 4×4 blocks.
      const float *src = b + (long)j * ldb;
      int p = 0;
#if NR == 8
      if (w == NR) {
        for (; p + 4 <= kc; p += 4) {
          const float *s0 = src + p;
          transpose4(wasm_v128_load(s0), wasm_v128_load(s0 + ldb), wasm_v128_load(s0 + 2 * ldb),
                     wasm_v128_load(s0 + 3 * ldb), bp + p * NR, NR);
          const float *s4 = s0 + 4 * (long)ldb;
          transpose4(wasm_v128_load(s4), wasm_v128_load(s4 + ldb), wasm_v128_load(s4 + 2 * ldb),
                     wasm_v128_load(s4 + 3 * ldb), bp + p * NR + 4, NR);
        }
      }
#endif
      for (; p < kc; p++)
        for (int c = 0; c < NR; c++) bp[p * NR + c] = c < w ? src[(long)c * ldb + p] : 0.0f;
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
        if (h == 4 && MR == 4) wasm_v128_store(ap, wasm_v128_load(src));
        else
          for (int r = 0; r < MR; r++) ap[r] = r < h ? src[r] : 0.0f;
        src += lda;
        ap += MR;
      }
    } else {
      const float *src = a + (long)i * lda;
      int p = 0;
#if MR == 4
      if (h == MR) {
        for (; p + 4 <= kc; p += 4) {
          const float *s0 = src + p;
          transpose4(wasm_v128_load(s0), wasm_v128_load(s0 + lda), wasm_v128_load(s0 + 2 * lda),
                     wasm_v128_load(s0 + 3 * lda), ap + p * MR, MR);
        }
      }
#endif
      for (; p < kc; p++)
        for (int r = 0; r < MR; r++) ap[p * MR + r] = r < h ? src[(long)r * lda + p] : 0.0f;
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
  int p = kc;
  do {
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
  } while (--p);
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
    // A partial tile: the same vector arithmetic on a copy, so every element of C gets the same bits.
    if (beta != 0.0f)
      for (int r = 0; r < h; r++) __builtin_memcpy(edge + r * NR, c + (long)r * ldc, w * sizeof(float));
#pragma clang loop unroll(full)
    for (int r = 0; r < MR; r++)
#pragma clang loop unroll(full)
      for (int v = 0; v < NV; v++) {
        v128_t x = wasm_f32x4_mul(acc[r][v], va);
        if (beta != 0.0f) x = MADD(x, vb, wasm_v128_load(edge + r * NR + 4 * v));
        wasm_v128_store(edge + r * NR + 4 * v, x);
      }
    for (int r = 0; r < h; r++) __builtin_memcpy(c + (long)r * ldc, edge + r * NR, w * sizeof(float));
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
