// The reference kernels against tiny cases worked out by hand or from the formulas in types.ts.
import { describe, expect, it } from "vitest";
import {
  createReferenceKernels,
  dropoutHash,
  dropoutMask,
  dropoutThreshold,
} from "../src/kernels/reference.js";
import type { Kernels } from "../src/kernels/types.js";

/** Allocates and fills a float tensor; returns its offset. */
function put(k: Kernels, values: number[]): number {
  const at = k.alloc(values.length);
  k.f32().set(values, at);
  return at;
}
function putInt(k: Kernels, values: number[]): number {
  const at = k.alloc(values.length);
  k.i32().set(values, at);
  return at;
}
const get = (k: Kernels, at: number, n: number): number[] => Array.from(k.f32().subarray(at, at + n));

function expectClose(actual: number[], expected: number[], tol = 1e-6): void {
  expect(actual.length).toBe(expected.length);
  actual.forEach((a, i) => {
    expect(Math.abs(a - expected[i]), `element ${i}: ${a} vs ${expected[i]}`).toBeLessThanOrEqual(
      tol * Math.max(1, Math.abs(expected[i])),
    );
  });
}

const sigmoid = (x: number) => 1 / (1 + Math.exp(-x));

describe("arena", () => {
  it("hands out 16-byte aligned, zero-filled blocks and frees back to a mark", () => {
    const k = createReferenceKernels({ initialElements: 16 });
    const a = k.alloc(3);
    const b = k.alloc(5);
    expect(a % 4).toBe(0);
    expect(b % 4).toBe(0);
    expect(b - a).toBe(4);
    const m = k.mark();
    const c = k.alloc(4);
    k.f32().fill(7, c, c + 4);
    k.release(m);
    const d = k.alloc(4);
    expect(d).toBe(c);
    expect(get(k, d, 4)).toEqual([0, 0, 0, 0]);
    expect(() => k.release(m + 1)).toThrow(RangeError);
    expect(() => k.release(k.mark() + 4)).toThrow(RangeError);
  });

  it("grows by copying: contents survive, views must be fetched again", () => {
    const k = createReferenceKernels({ initialElements: 16 });
    const a = put(k, [1, 2, 3]);
    const before = k.f32();
    const big = k.alloc(100_000);
    expect(k.f32()).not.toBe(before);
    expect(k.f32().length).toBeGreaterThanOrEqual(big + 100_000);
    expect(get(k, a, 3)).toEqual([1, 2, 3]);
    expect(k.i32().buffer).toBe(k.f32().buffer);
  });

  it("can sit on a SharedArrayBuffer", () => {
    const k = createReferenceKernels({ shared: true, initialElements: 8 });
    k.alloc(1000);
    expect(k.f32().buffer).toBeInstanceOf(SharedArrayBuffer);
  });
});

describe("gemm", () => {
  // A = [[1,2,3],[4,5,6]] (2×3), B = [[7,8],[9,10],[11,12]] (3×2): A·B = [[58,64],[139,154]].
  const A = [1, 2, 3, 4, 5, 6];
  const At = [1, 4, 2, 5, 3, 6];
  const Bm = [7, 8, 9, 10, 11, 12];
  const Bt = [7, 9, 11, 8, 10, 12];
  const AB = [58, 64, 139, 154];

  for (const transA of [false, true]) {
    for (const transB of [false, true]) {
      it(`computes op(A)·op(B) with transA=${transA} transB=${transB}`, () => {
        const k = createReferenceKernels();
        const a = put(k, transA ? At : A);
        const b = put(k, transB ? Bt : Bm);
        const c = put(k, [1, 1, 1, 1]);
        k.gemm(transA, transB, 2, 2, 3, 2, a, transA ? 2 : 3, b, transB ? 3 : 2, 0.5, c, 2);
        expect(get(k, c, 4)).toEqual(AB.map((x) => 2 * x + 0.5));
      });
    }
  }

  it("agrees with the textbook triple loop on odd sizes, all four transposes, padded strides", () => {
    const [m, n, kk] = [5, 7, 9]; // not multiples of 4: the unrolled loops and their tails both run
    let seed = 7;
    const rand = () => {
      seed = (Math.imul(seed, 1664525) + 1013904223) >>> 0;
      return Math.fround(seed / 2 ** 32 - 0.5);
    };
    const A = Array.from({ length: m * kk }, rand); // logical op(A), m×k
    const Bv = Array.from({ length: kk * n }, rand); // logical op(B), k×n
    const C0 = Array.from({ length: m * n }, rand);
    for (const transA of [false, true]) {
      for (const transB of [false, true]) {
        const k = createReferenceKernels();
        // Store each matrix as asked, with 3 spare columns per row.
        const lda = (transA ? m : kk) + 3;
        const ldb = (transB ? kk : n) + 3;
        const ldc = n + 3;
        const a = k.alloc((transA ? kk : m) * lda);
        const b = k.alloc((transB ? n : kk) * ldb);
        const c = k.alloc(m * ldc);
        const f = k.f32();
        for (let i = 0; i < m; i++)
          for (let p = 0; p < kk; p++) f[a + (transA ? p * lda + i : i * lda + p)] = A[i * kk + p];
        for (let p = 0; p < kk; p++)
          for (let j = 0; j < n; j++) f[b + (transB ? j * ldb + p : p * ldb + j)] = Bv[p * n + j];
        for (let i = 0; i < m; i++) for (let j = 0; j < n; j++) f[c + i * ldc + j] = C0[i * n + j];
        k.gemm(transA, transB, m, n, kk, -1.5, a, lda, b, ldb, 0.25, c, ldc);
        for (let i = 0; i < m; i++) {
          for (let j = 0; j < n; j++) {
            let sum = 0;
            for (let p = 0; p < kk; p++) sum += A[i * kk + p] * Bv[p * n + j];
            const want = -1.5 * sum + 0.25 * C0[i * n + j];
            expect(Math.abs(f[c + i * ldc + j] - want)).toBeLessThan(1e-6);
          }
          expect(f[c + i * ldc + n]).toBe(0); // the spare columns are untouched
        }
      }
    }
  });

  it("honours row strides (submatrices) and ignores C when beta is 0, even NaN", () => {
    const k = createReferenceKernels();
    // A stored with lda 4 (a padding column of 99), C with ldc 3.
    const a = put(k, [1, 2, 3, 99, 4, 5, 6, 99]);
    const b = put(k, Bm);
    const c = put(k, [Number.NaN, Number.NaN, 42, Number.NaN, Number.NaN, 43]);
    k.gemm(false, false, 2, 2, 3, 1, a, 4, b, 2, 0, c, 3);
    expect(get(k, c, 6)).toEqual([58, 64, 42, 139, 154, 43]);
  });
});

describe("embedding and bias", () => {
  it("looks rows up, adds the bias, and gives padding (id −1) the bias alone", () => {
    const k = createReferenceKernels();
    const table = put(k, [1, 2, 10, 20, 100, 200]); // 3 rows × 2
    const bias = put(k, [0.5, -0.5]);
    const ids = putInt(k, [2, -1, 0, 2]);
    const out = k.alloc(8);
    k.embeddingForward(4, 2, ids, table, bias, out);
    expect(get(k, out, 8)).toEqual([100.5, 199.5, 0.5, -0.5, 1.5, 1.5, 100.5, 199.5]);
    k.embeddingForward(4, 2, ids, table, -1, out);
    expect(get(k, out, 8)).toEqual([100, 200, 0, 0, 1, 2, 100, 200]);
  });

  it("scatters gradients back, summing repeated ids and skipping padding", () => {
    const k = createReferenceKernels();
    const dTable = put(k, [1, 1, 1, 1, 1, 1]);
    const ids = putInt(k, [2, -1, 0, 2]);
    const dOut = put(k, [1, 2, 3, 4, 5, 6, 7, 8]);
    k.embeddingBackward(4, 2, ids, dOut, dTable);
    expect(get(k, dTable, 6)).toEqual([6, 7, 1, 1, 9, 11]);
  });

  it("adds a bias to every row and sums a gradient over rows", () => {
    const k = createReferenceKernels();
    const out = put(k, [1, 2, 3, 4, 5, 6]);
    const bias = put(k, [10, 20, 30]);
    k.addBias(2, 3, bias, out);
    expect(get(k, out, 6)).toEqual([11, 22, 33, 14, 25, 36]);
    k.biasBackward(2, 3, out, bias);
    expect(get(k, bias, 3)).toEqual([35, 67, 99]);
  });
});

describe("LSTM cell", () => {
  // Two rows, H = 2. Pre-activations per row: (i, i, j, j, f, f, o, o).
  const pre = [0, 0.5, 0, -1, 0, 2, 0, -0.3, 1, -2, 0.25, 0.7, -0.4, 0.3, 1.5, -1.2];
  const cPrevValues = [2, -1, 0.5, 0];
  const forgetBias = 1;

  /** The cell in double precision, straight from the BasicLSTMCell formulas. */
  function cell(z: number[], cPrev: number[]) {
    const H = 2;
    const out = { act: [] as number[], c: [] as number[], h: [] as number[] };
    for (let r = 0; r < 2; r++) {
      const g = z.slice(r * 8, r * 8 + 8);
      const act = [
        ...g.slice(0, H).map(sigmoid),
        ...g.slice(H, 2 * H).map(Math.tanh),
        ...g.slice(2 * H, 3 * H).map((x) => sigmoid(x + forgetBias)),
        ...g.slice(3 * H).map(sigmoid),
      ];
      out.act.push(...act);
      for (let u = 0; u < H; u++) {
        const c = cPrev[r * H + u] * act[2 * H + u] + act[u] * act[H + u];
        out.c.push(c);
        out.h.push(Math.tanh(c) * act[3 * H + u]);
      }
    }
    return out;
  }

  it("forward: the hand-checkable case (all pre-activations 0) and the formula case", () => {
    const k = createReferenceKernels();
    const gates = put(k, new Array(8).fill(0));
    const cPrev = put(k, [2, 0]);
    const c = k.alloc(2);
    const h = k.alloc(2);
    k.lstmCellForward(1, 2, 1, gates, cPrev, c, h);
    // i = o = 0.5, j = 0, f = σ(1): c = 2σ(1) and 0; h = tanh(c)/2.
    const s1 = sigmoid(1);
    expectClose(get(k, gates, 8), [0.5, 0.5, 0, 0, s1, s1, 0.5, 0.5]);
    expectClose(get(k, c, 2), [2 * s1, 0]);
    expectClose(get(k, h, 2), [Math.tanh(2 * s1) / 2, 0]);

    const g2 = put(k, pre);
    const cp2 = put(k, cPrevValues);
    const c2 = k.alloc(4);
    const h2 = k.alloc(4);
    k.lstmCellForward(2, 2, forgetBias, g2, cp2, c2, h2);
    const want = cell(pre, cPrevValues);
    expectClose(get(k, g2, 16), want.act);
    expectClose(get(k, c2, 4), want.c);
    expectClose(get(k, h2, 4), want.h);
  });

  it("backward matches central differences of the double-precision cell", () => {
    // Loss = Σ wh·h + Σ wc·c, so dh = wh and dc (from step t+1) = wc.
    const wh = [0.3, -1.1, 0.7, 0.2];
    const wc = [-0.5, 0.4, 0.9, -0.8];
    const loss = (z: number[], cPrev: number[]) => {
      const o = cell(z, cPrev);
      return o.h.reduce((s, x, i) => s + wh[i] * x, 0) + o.c.reduce((s, x, i) => s + wc[i] * x, 0);
    };
    const k = createReferenceKernels();
    const gates = put(k, pre);
    const cPrev = put(k, cPrevValues);
    const c = k.alloc(4);
    const h = k.alloc(4);
    k.lstmCellForward(2, 2, forgetBias, gates, cPrev, c, h);
    const dh = put(k, wh);
    const dc = put(k, wc);
    const dGates = k.alloc(16);
    k.lstmCellBackward(2, 2, gates, cPrev, c, dh, dc, dGates, dc); // dcPrev aliases dc

    const eps = 1e-6;
    const numeric = (f: (d: number) => number) => (f(eps) - f(-eps)) / (2 * eps);
    const dPre = pre.map((_, e) =>
      numeric((d) =>
        loss(
          pre.map((x, i) => (i === e ? x + d : x)),
          cPrevValues,
        ),
      ),
    );
    const dCPrev = cPrevValues.map((_, e) =>
      numeric((d) =>
        loss(
          pre,
          cPrevValues.map((x, i) => (i === e ? x + d : x)),
        ),
      ),
    );
    expectClose(get(k, dGates, 16), dPre, 1e-5);
    expectClose(get(k, dc, 4), dCPrev, 1e-5);
  });
});

describe("LSTM recurrent loop", () => {
  // Three sequences of 4, 3 and 1 steps: rows 3, 2, 2, 1 per step (8 positions), H = 2, W_h the last H rows
  // of a [IN + H, 4H] kernel.
  const B = 3;
  const H = 2;
  const G = 4 * H;
  const IN = 3;
  const rows = [3, 2, 2, 1];
  const N = rows.reduce((a, b) => a + b, 0);
  const val = (i: number, scale: number) => Math.sin(i * 12.9898 + 78.233) * scale;
  const kernel = Array.from({ length: (IN + H) * G }, (_, i) => val(i, 0.8));
  const pre = Array.from({ length: N * G }, (_, i) => val(i + 100, 1.5));
  const c0 = Array.from({ length: B * H }, (_, i) => val(i + 200, 1));
  const h0 = Array.from({ length: B * H }, (_, i) => val(i + 250, 0.7));
  const wH = Array.from({ length: N * H }, (_, i) => val(i + 300, 1)); // loss = Σ wH·h over every position

  /** The loop in double precision, from the formulas: z = pre + h_{t−1}·W_h, then the cell (forget bias 1). */
  function loop(z0: number[], cEnter: number[]) {
    let hPrev = h0;
    let cPrev = cEnter;
    const hs: number[] = [];
    const cs: number[] = [];
    let at = 0;
    for (const n of rows) {
      const hNew: number[] = [];
      const cNew: number[] = [];
      for (let r = 0; r < n; r++) {
        const z = (gate: number, u: number) => {
          let sum = z0[(at + r) * G + gate * H + u];
          for (let q = 0; q < H; q++) sum += hPrev[r * H + q] * kernel[(IN + q) * G + gate * H + u];
          return sum;
        };
        for (let u = 0; u < H; u++) {
          const c = cPrev[r * H + u] * sigmoid(z(2, u) + 1) + sigmoid(z(0, u)) * Math.tanh(z(1, u));
          cNew.push(c);
          hNew.push(Math.tanh(c) * sigmoid(z(3, u)));
        }
      }
      hs.push(...hNew);
      cs.push(...cNew);
      hPrev = hNew;
      cPrev = cNew;
      at += n;
    }
    return { h: hs, c: cs, loss: hs.reduce((sum, x, e) => sum + wH[e] * x, 0) };
  }

  /** The kernels' forward on fresh buffers (packed W_h when `packed`); offsets of gates, c and h. */
  function forward(k: Kernels, packed: boolean) {
    const kern = put(k, kernel);
    const wh = kern + IN * G;
    let packedWh = -1;
    if (packed) {
      packedWh = k.alloc(k.gemmPackedSize(H, G));
      k.packGemmB(H, G, wh, G, packedWh);
    }
    const table = putInt(k, rows);
    const gates = put(k, pre);
    const c = put(k, [...c0, ...new Array(N * H).fill(0)]);
    const h = put(k, [...h0, ...new Array(N * H).fill(0)]);
    k.lstmRecurrentForward(rows.length, B, H, 1, table, wh, packedWh, gates, c, h);
    return { wh, table, gates, c, h };
  }

  it("forward: each step's rows continue the same sequences' state, as the formulas say", () => {
    const k = createReferenceKernels();
    const { c, h } = forward(k, false);
    const want = loop(pre, c0);
    expectClose(get(k, h + B * H, N * H), want.h, 1e-6);
    expectClose(get(k, c + B * H, N * H), want.c, 1e-6);
    expect(get(k, h, B * H)).toEqual(Array.from(Float32Array.from(h0))); // the entering rows stay
    // A packed copy of W_h gives the same numbers.
    const k2 = createReferenceKernels();
    const p = forward(k2, true);
    expect(get(k2, p.h, (B + N) * H)).toEqual(get(k, h, (B + N) * H));
  });

  it("backward matches central differences of the double-precision loop (gates and entering c)", () => {
    const k = createReferenceKernels();
    const { wh, table, gates, c } = forward(k, false);
    const dh = put(k, wH);
    const dc = k.alloc(B * H); // nothing reaches the last c from beyond the chunk
    const dGates = k.alloc(N * G);
    k.lstmRecurrentBackward(rows.length, B, H, table, wh, gates, c, dh, dc, dGates);
    const eps = 1e-6;
    const nudge = (xs: number[], e: number, d: number) => xs.map((x, i) => (i === e ? x + d : x));
    const dPre = pre.map(
      (_, e) => (loop(nudge(pre, e, eps), c0).loss - loop(nudge(pre, e, -eps), c0).loss) / (2 * eps),
    );
    const dC0 = c0.map(
      (_, e) => (loop(pre, nudge(c0, e, eps)).loss - loop(pre, nudge(c0, e, -eps)).loss) / (2 * eps),
    );
    expectClose(get(k, dGates, N * G), dPre, 2e-5);
    expectClose(get(k, dc, B * H), dC0, 2e-5);
  });
});

describe("dropout", () => {
  it("pins the hash (the WebAssembly kernels must give the same numbers)", () => {
    // Computed independently in Python: fmix32((seed·0x9E3779B9 mod 2³²) + e).
    expect(dropoutHash(0, 0)).toBe(0);
    expect(dropoutHash(0, 1)).toBe(1364076727);
    expect(dropoutHash(1, 0)).toBe(2462723854);
    expect(dropoutHash(12345, 678)).toBe(2224446067);
    expect(dropoutHash(-1, 5)).toBe(1292482494);
    expect(dropoutHash(0xffffffff, 0x7fffffff)).toBe(1449607079);
    expect(dropoutThreshold(0.5)).toBe(2 ** 31);
    expect(dropoutThreshold(1 - 2 ** -40)).toBe(2 ** 32 - 1);
  });

  it("keeps about `keep` of the elements, scales them by 1/keep, and backward uses the same mask", () => {
    const n = 100_000;
    const k = createReferenceKernels();
    const x = put(
      k,
      Array.from({ length: n }, (_, e) => 1 + (e % 7)),
    );
    const y = k.alloc(n);
    for (const keep of [0.5, 0.9, 0.25]) {
      k.dropoutForward(n, keep, 1234, x, y);
      const xs = k.f32().subarray(x, x + n);
      const ys = k.f32().subarray(y, y + n);
      const mask = dropoutMask(n, keep, 1234);
      let kept = 0;
      let wrong = 0;
      for (let e = 0; e < n; e++) {
        kept += mask[e];
        if (ys[e] !== (mask[e] ? Math.fround(xs[e] / keep) : 0)) wrong++;
      }
      expect(wrong).toBe(0);
      expect(Math.abs(kept / n - keep)).toBeLessThan(0.01);
      const d = k.alloc(n);
      k.dropoutBackward(n, keep, 1234, x, d);
      expect(Array.from(k.f32().subarray(d, d + n))).toEqual(Array.from(k.f32().subarray(y, y + n)));
    }
    // Another seed, another mask; keep = 1 copies; in place works.
    expect(dropoutMask(1000, 0.5, 1)).not.toEqual(dropoutMask(1000, 0.5, 2));
    k.dropoutForward(n, 1, 99, x, y);
    expect(get(k, y, 10)).toEqual(get(k, x, 10));
    k.dropoutForward(n, 0.5, 7, y, y);
    expect(get(k, y, n).filter((v) => v === 0).length).toBeGreaterThan(n * 0.45);
  });
});

describe("softmax cross-entropy", () => {
  it("gives log-sum-exp losses, scaled gradients, argmax, and zeros for padding", () => {
    const k = createReferenceKernels();
    // Row 0: uniform over 3 → loss ln 3. Row 1: padding. Row 2: huge logits (stable). Row 3: a tie.
    const logits = put(k, [0, 0, 0, 5, 5, 5, 1000, 0, -1000, 2, 7, 7]);
    const labels = putInt(k, [1, -1, 0, 2]);
    const d = k.alloc(12);
    const losses = k.alloc(4);
    const preds = k.alloc(4);
    const total = k.softmaxCrossEntropy(4, 3, logits, labels, 0.5, d, losses, preds);
    const lse = 7 + Math.log(1 + Math.exp(-5) + 1); // log(e² + e⁷ + e⁷)
    const p = [Math.exp(2 - lse), Math.exp(7 - lse), Math.exp(7 - lse)];
    expectClose(get(k, losses, 4), [Math.log(3), 0, 0, lse - 7]);
    expect(total).toBeCloseTo(Math.log(3) + lse - 7, 6);
    expect(Array.from(k.i32().subarray(preds, preds + 4))).toEqual([0, -1, 0, 1]);
    expectClose(get(k, d, 12), [
      1 / 6,
      -1 / 3,
      1 / 6,
      0,
      0,
      0,
      0,
      0,
      0,
      0.5 * p[0],
      0.5 * p[1],
      0.5 * (p[2] - 1),
    ]);
  });
});

describe("reductions and Adam", () => {
  it("sums squares in double precision", () => {
    const k = createReferenceKernels();
    // 4096² = 2²⁴: a float32 running sum would stay there when adding the 1s.
    const x = put(k, [4096, 1, 1, 1, 1]);
    expect(k.sumSquares(5, x)).toBe(2 ** 24 + 4);
  });

  it("scales and adds", () => {
    const k = createReferenceKernels();
    const x = put(k, [1, -2, 3]);
    const y = put(k, [10, 10, 10]);
    k.scale(3, -0.5, x);
    expect(get(k, x, 3)).toEqual([-0.5, 1, -1.5]);
    k.add(3, x, y);
    expect(get(k, y, 3)).toEqual([9.5, 11, 8.5]);
  });

  it("takes one Adam step as TensorFlow does", () => {
    const k = createReferenceKernels();
    const p = put(k, [1, -1]);
    const g = put(k, [0.5, -2]);
    const m = k.alloc(2);
    const v = k.alloc(2);
    const lr = 0.001;
    const lrT = (lr * Math.sqrt(1 - 0.999)) / (1 - 0.9);
    k.adam(2, lrT, 0.9, 0.999, 1e-8, p, g, m, v);
    // m = 0.1·g, v = 0.001·g²: the first step moves each weight by ≈ lr against its gradient's sign.
    expectClose(get(k, m, 2), [0.05, -0.2]);
    expectClose(get(k, v, 2), [0.00025, 0.004]);
    expectClose(get(k, p, 2), [
      1 - (lrT * 0.05) / (Math.sqrt(0.00025) + 1e-8),
      -1 + (lrT * 0.2) / (Math.sqrt(0.004) + 1e-8),
    ]);
    expect(get(k, p, 2)[0]).toBeCloseTo(1 - lr, 6);
  });
});
