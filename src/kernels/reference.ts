/**
 * The reference kernels: every operation of `Kernels` (types.ts) as plain loops over Float32Array views of
 * one ArrayBuffer. Written to be read and trusted, not to be fast: sums are accumulated in double
 * precision and rounded to float32 once, when stored. The WebAssembly kernels are tested against these.
 *
 *   const k = createReferenceKernels();
 *   const a = k.alloc(6);            // offsets count 4-byte elements
 *   k.f32().set([1, 2, 3, 4, 5, 6], a);
 *
 * Aliasing: dropoutForward/Backward work in place (out = x), lstmCellBackward's dcPrev may be dc, and
 * softmaxCrossEntropy's dLogits may even be logits; the model relies only on the first two.
 *
 * Memory: a bump arena over one buffer. `alloc` rounds every block up to 4 elements (16 bytes), zero-fills
 * it, and grows the buffer by copying it into a larger one — so views from `f32()`/`i32()` taken before an
 * `alloc` may be stale. With `shared: true` the buffer is a SharedArrayBuffer (growth still copies, so
 * threads must re-fetch it too).
 *
 * Dropout mask (shared bit for bit with the WebAssembly kernels):
 *   hash(seed, e) = fmix32((imul(seed, 0x9E3779B9) + e) mod 2³²)      (MurmurHash3's 32-bit finaliser)
 *   threshold     = min(floor(keep · 2³²), 2³² − 1)
 *   element e of a call is kept iff keep ≥ 1 or hash(seed, e) < threshold (unsigned); kept values are
 *   scaled by 1/keep, dropped ones become 0.
 */
import { kernelMemoryError } from "../limits.js";
import { lstmBackwardBySteps, lstmForwardBySteps } from "./lstm_steps.js";
import type { Kernels } from "./types.js";

/** Options of `createReferenceKernels`. */
export interface ReferenceKernelOptions {
  /** Elements to reserve up front (the buffer grows on demand anyway). */
  initialElements?: number;
  /** Back the heap with a SharedArrayBuffer. */
  shared?: boolean;
}

/** MurmurHash3's fmix32: a bijective avalanche of a 32-bit integer; returns an unsigned 32-bit value. */
export function fmix32(x: number): number {
  let h = x >>> 0;
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

/** The dropout hash of element e (0 ≤ e < 2³¹) of a call with this seed (any 32-bit integer). */
export function dropoutHash(seed: number, e: number): number {
  return fmix32((Math.imul(seed, 0x9e3779b9) + e) >>> 0);
}

/** The unsigned threshold below which a hash keeps its element, for 0 < keep < 1. */
export function dropoutThreshold(keep: number): number {
  return Math.min(Math.floor(keep * 2 ** 32), 2 ** 32 - 1);
}

/** The kept/dropped pattern of one dropout call, as the kernels apply it (1 = kept). */
export function dropoutMask(n: number, keep: number, seed: number): Uint8Array {
  const mask = new Uint8Array(n);
  const threshold = dropoutThreshold(keep);
  for (let e = 0; e < n; e++) mask[e] = keep >= 1 || dropoutHash(seed, e) < threshold ? 1 : 0;
  return mask;
}

const ALIGN = 4; // elements: 16 bytes
const alignUp = (n: number): number => Math.ceil(n / ALIGN) * ALIGN;
const sigmoid = (x: number): number => 1 / (1 + Math.exp(-x));

/** The TypeScript reference kernels: plain loops, slow, on any JavaScript runtime; the oracle of the WebAssembly ones. */
export function createReferenceKernels(options: ReferenceKernelOptions = {}): Kernels {
  const shared = options.shared ?? false;
  const newBuffer = (elements: number): ArrayBuffer | SharedArrayBuffer =>
    shared ? new SharedArrayBuffer(elements * 4) : new ArrayBuffer(elements * 4);

  let buffer = newBuffer(alignUp(Math.max(options.initialElements ?? 1 << 16, ALIGN * 2)));
  let F = new Float32Array(buffer);
  let I = new Int32Array(buffer);
  // Offset 0..3 is never handed out, so a forgotten offset (0) points at nothing of value.
  let top = ALIGN;

  function grow(needed: number): void {
    let capacity = Math.max(F.length, 1024);
    while (capacity < needed) capacity *= 2;
    let next: ArrayBuffer | SharedArrayBuffer;
    try {
      next = newBuffer(capacity);
    } catch {
      throw kernelMemoryError((needed - F.length) * 4);
    }
    new Float32Array(next).set(F.subarray(0, top));
    buffer = next;
    F = new Float32Array(buffer);
    I = new Int32Array(buffer);
  }

  const kernels: Kernels = {
    name: "reference",

    f32: () => F,
    i32: () => I,

    alloc(count: number): number {
      if (!Number.isInteger(count) || count < 0) throw new RangeError(`alloc: bad element count ${count}`);
      const offset = top;
      const end = offset + alignUp(count);
      if (end > F.length) grow(end);
      F.fill(0, offset, end); // released memory is reused: zero it again
      top = end;
      return offset;
    },

    mark: () => top,

    release(mark: number): void {
      if (!Number.isInteger(mark) || mark < ALIGN || mark > top || mark % ALIGN !== 0) {
        throw new RangeError(`release: ${mark} is not a mark of this arena (top ${top})`);
      }
      top = mark;
    },

    gemm(transA, transB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc): void {
      // op(A)[i, p] = F[a + i·aRow + p·aCol]; op(B)[p, j] = F[b + p·bRow + j·bCol].
      const aRow = transA ? 1 : lda;
      const aCol = transA ? lda : 1;
      const bRow = transB ? 1 : ldb;
      const bCol = transB ? ldb : 1;
      const acc = new Float64Array(n);
      for (let i = 0; i < m; i++) {
        if (transB) {
          // Row j of the stored B is column j of op(B): dot products over contiguous memory. Four
          // columns per pass over A's row, and four rows of B per pass below, are the only concessions
          // to speed (2–3× here); the sums are the same, in double precision.
          let j = 0;
          for (; j + 4 <= n; j += 4) {
            let s0 = 0;
            let s1 = 0;
            let s2 = 0;
            let s3 = 0;
            const b0 = b + j * bCol;
            for (let p = 0; p < k; p++) {
              const aip = F[a + i * aRow + p * aCol];
              s0 += aip * F[b0 + p];
              s1 += aip * F[b0 + bCol + p];
              s2 += aip * F[b0 + 2 * bCol + p];
              s3 += aip * F[b0 + 3 * bCol + p];
            }
            acc[j] = s0;
            acc[j + 1] = s1;
            acc[j + 2] = s2;
            acc[j + 3] = s3;
          }
          for (; j < n; j++) {
            let sum = 0;
            for (let p = 0; p < k; p++) sum += F[a + i * aRow + p * aCol] * F[b + j * bCol + p];
            acc[j] = sum;
          }
        } else {
          // Row i of C accumulates op(A)[i, p] times row p of B.
          acc.fill(0);
          let p = 0;
          for (; p + 4 <= k; p += 4) {
            const a0 = F[a + i * aRow + p * aCol];
            const a1 = F[a + i * aRow + (p + 1) * aCol];
            const a2 = F[a + i * aRow + (p + 2) * aCol];
            const a3 = F[a + i * aRow + (p + 3) * aCol];
            const b0 = b + p * bRow;
            for (let j = 0; j < n; j++) {
              acc[j] +=
                a0 * F[b0 + j] +
                a1 * F[b0 + bRow + j] +
                a2 * F[b0 + 2 * bRow + j] +
                a3 * F[b0 + 3 * bRow + j];
            }
          }
          for (; p < k; p++) {
            const aip = F[a + i * aRow + p * aCol];
            const bp = b + p * bRow;
            for (let j = 0; j < n; j++) acc[j] += aip * F[bp + j];
          }
        }
        const ci = c + i * ldc;
        for (let j = 0; j < n; j++) {
          // beta 0 must not read C: 0 · NaN would be NaN.
          F[ci + j] = beta === 0 ? alpha * acc[j] : alpha * acc[j] + beta * F[ci + j];
        }
      }
    },

    embeddingForward(rows, width, ids, table, bias, out): void {
      for (let r = 0; r < rows; r++) {
        const id = I[ids + r];
        const o = out + r * width;
        const t = table + id * width;
        for (let j = 0; j < width; j++) {
          F[o + j] = (id >= 0 ? F[t + j] : 0) + (bias >= 0 ? F[bias + j] : 0);
        }
      }
    },

    embeddingBackward(rows, width, ids, dOut, dTable): void {
      for (let r = 0; r < rows; r++) {
        const id = I[ids + r];
        if (id < 0) continue;
        const d = dOut + r * width;
        const t = dTable + id * width;
        for (let j = 0; j < width; j++) F[t + j] += F[d + j];
      }
    },

    addBias(rows, width, bias, out): void {
      for (let r = 0; r < rows; r++) {
        const o = out + r * width;
        for (let j = 0; j < width; j++) F[o + j] += F[bias + j];
      }
    },

    biasBackward(rows, width, dOut, dBias): void {
      for (let j = 0; j < width; j++) {
        let sum = 0;
        for (let r = 0; r < rows; r++) sum += F[dOut + r * width + j];
        F[dBias + j] += sum;
      }
    },

    lstmCellForward(rows, hidden, forgetBias, gates, cPrev, c, h): void {
      const H = hidden;
      for (let r = 0; r < rows; r++) {
        const g = gates + r * 4 * H;
        for (let u = 0; u < H; u++) {
          const i = sigmoid(F[g + u]);
          const j = Math.tanh(F[g + H + u]);
          const f = sigmoid(F[g + 2 * H + u] + forgetBias);
          const o = sigmoid(F[g + 3 * H + u]);
          const cell = F[cPrev + r * H + u] * f + i * j;
          F[g + u] = i;
          F[g + H + u] = j;
          F[g + 2 * H + u] = f;
          F[g + 3 * H + u] = o;
          F[c + r * H + u] = cell;
          F[h + r * H + u] = Math.tanh(cell) * o;
        }
      }
    },

    lstmCellBackward(rows, hidden, gates, cPrev, c, dh, dc, dGates, dcPrev): void {
      const H = hidden;
      for (let r = 0; r < rows; r++) {
        const g = gates + r * 4 * H;
        const dg = dGates + r * 4 * H;
        for (let u = 0; u < H; u++) {
          const i = F[g + u];
          const j = F[g + H + u];
          const f = F[g + 2 * H + u];
          const o = F[g + 3 * H + u];
          const tc = Math.tanh(F[c + r * H + u]);
          const dH = F[dh + r * H + u];
          // Gradient reaching c: through h = tanh(c)·o, plus what step t+1 sent back.
          const dC = F[dc + r * H + u] + dH * o * (1 - tc * tc);
          F[dg + u] = dC * j * i * (1 - i); // σ'(x) = σ(1 − σ)
          F[dg + H + u] = dC * i * (1 - j * j); // tanh'(x) = 1 − tanh²
          F[dg + 2 * H + u] = dC * F[cPrev + r * H + u] * f * (1 - f);
          F[dg + 3 * H + u] = dH * tc * o * (1 - o);
          F[dcPrev + r * H + u] = dC * f; // dcPrev may alias dc: dc[r, u] was read above
        }
      }
    },

    lstmRecurrentForward(steps, batch, hidden, forgetBias, stepRows, wh, packedWh, gates, c, h): void {
      lstmForwardBySteps(kernels, steps, batch, hidden, forgetBias, stepRows, wh, packedWh, gates, c, h);
    },

    lstmRecurrentBackward(steps, batch, hidden, stepRows, wh, gates, c, dh, dc, dGates): void {
      lstmBackwardBySteps(kernels, steps, batch, hidden, stepRows, wh, gates, c, dh, dc, dGates);
    },

    dropoutForward(n, keep, seed, x, out): void {
      applyDropout(n, keep, seed, x, out);
    },

    dropoutBackward(n, keep, seed, dOut, dIn): void {
      // y = x·mask/keep is linear, so its backward is the same map.
      applyDropout(n, keep, seed, dOut, dIn);
    },

    softmaxCrossEntropy(rows, classes, logits, labels, scale, dLogits, losses, preds): number {
      let total = 0;
      for (let r = 0; r < rows; r++) {
        const x = logits + r * classes;
        const d = dLogits + r * classes;
        const label = I[labels + r];
        if (label < 0) {
          F.fill(0, d, d + classes);
          F[losses + r] = 0;
          I[preds + r] = -1;
          continue;
        }
        if (label >= classes) throw new RangeError(`softmaxCrossEntropy: label ${label} ≥ ${classes}`);
        // Stable log-sum-exp: subtract the max so exp never overflows. argmax keeps the first maximum.
        let max = F[x];
        let argmax = 0;
        for (let j = 1; j < classes; j++) {
          if (F[x + j] > max) {
            max = F[x + j];
            argmax = j;
          }
        }
        let sum = 0;
        for (let j = 0; j < classes; j++) sum += Math.exp(F[x + j] - max);
        const logZ = max + Math.log(sum);
        const loss = logZ - F[x + label];
        // Written last and element by element, so dLogits may even alias logits.
        for (let j = 0; j < classes; j++) {
          F[d + j] = (Math.exp(F[x + j] - logZ) - (j === label ? 1 : 0)) * scale;
        }
        F[losses + r] = loss;
        I[preds + r] = argmax;
        total += loss;
      }
      return total;
    },

    sumSquares(n, x): number {
      let sum = 0;
      for (let e = 0; e < n; e++) sum += F[x + e] * F[x + e];
      return sum;
    },

    scale(n, s, x): void {
      for (let e = 0; e < n; e++) F[x + e] *= s;
    },

    add(n, x, y): void {
      for (let e = 0; e < n; e++) F[y + e] += F[x + e];
    },

    adam(n, lrT, beta1, beta2, epsilon, p, g, m, v): void {
      for (let e = 0; e < n; e++) {
        const grad = F[g + e];
        const m1 = beta1 * F[m + e] + (1 - beta1) * grad;
        const v1 = beta2 * F[v + e] + (1 - beta2) * grad * grad;
        F[m + e] = m1;
        F[v + e] = v1;
        F[p + e] -= (lrT * m1) / (Math.sqrt(v1) + epsilon);
      }
    },

    gemmPackedSize(k, n): number {
      return k * n;
    },

    packGemmB(k, n, b, ldb, out): void {
      // The reference's "packing" is a contiguous copy: gemmPacked is gemm on it.
      for (let p = 0; p < k; p++) F.copyWithin(out + p * n, b + p * ldb, b + p * ldb + n);
    },

    gemmPacked(transA, m, n, k, alpha, a, lda, packedB, beta, c, ldc): void {
      kernels.gemm(transA, false, m, n, k, alpha, a, lda, packedB, n, beta, c, ldc);
    },

    copyRows(rows, width, src, lds, dst, ldd): void {
      for (let r = 0; r < rows; r++) F.copyWithin(dst + r * ldd, src + r * lds, src + r * lds + width);
    },

    logSoftmax(rows, classes, temperature, logits, out): void {
      for (let r = 0; r < rows; r++) {
        const x = logits + r * classes;
        const o = out + r * classes;
        let max = Number.NEGATIVE_INFINITY;
        for (let j = 0; j < classes; j++) max = Math.max(max, F[x + j] / temperature);
        let sum = 0;
        for (let j = 0; j < classes; j++) sum += Math.exp(F[x + j] / temperature - max);
        const logSum = Math.log(sum) + max;
        for (let j = 0; j < classes; j++) F[o + j] = F[x + j] / temperature - logSum;
      }
    },

    sampleClasses(rows, classes, logProbs, uniforms, greedy, out): void {
      for (let r = 0; r < rows; r++) {
        const lp = logProbs + r * classes;
        let pick = 0;
        if (greedy) {
          for (let k = 1; k < classes; k++) if (F[lp + k] > F[lp + pick]) pick = k;
        } else {
          const u = (I[uniforms + r] >>> 0) / 4294967296;
          let cumulative = 0;
          let last = 0;
          pick = -1;
          for (let k = 0; k < classes; k++) {
            const p = Math.exp(F[lp + k]);
            if (p > 0) last = k;
            cumulative += p;
            if (u < cumulative) {
              pick = k;
              break;
            }
          }
          if (pick < 0) pick = last;
        }
        I[out + r] = pick;
      }
    },

    dispose(): void {
      buffer = newBuffer(0);
      F = new Float32Array(buffer);
      I = new Int32Array(buffer);
      top = ALIGN;
    },
  };
  return kernels;

  function applyDropout(n: number, keep: number, seed: number, x: number, out: number): void {
    if (keep >= 1) {
      if (out !== x) F.copyWithin(out, x, x + n);
      return;
    }
    const threshold = dropoutThreshold(keep);
    const inv = 1 / keep;
    for (let e = 0; e < n; e++) F[out + e] = dropoutHash(seed, e) < threshold ? F[x + e] * inv : 0;
  }
}
