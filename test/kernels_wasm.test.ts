// The WebAssembly kernels against the TypeScript reference (src/kernels/reference.ts), on random inputs of
// odd sizes, for both builds (SIMD and relaxed SIMD where this Node supports it), single- and multi-threaded.
//   npx vitest run test/kernels_wasm.test.ts
//
// Bit-identical to the reference: embedding, addBias, biasBackward, dropout (mask and values), scale, add,
// adam (the wasm replays the reference's float64 arithmetic). To float tolerance: gemm (float32 accumulation,
// checked against the worst-case bound (k+2)·ε·|alpha|·Σ|a||b|), the LSTM cell and softmax (float32 exp).
// Threaded results are bit-identical to single-threaded ones for gemm, the LSTM cell, the recurrent loop and
// softmax (each element is computed by the same code whatever the split); the softmax total is a sum of
// per-thread sums. The recurrent loop (lstmRecurrentForward/Backward) gives the per-step calls' bits.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { PolyrnnError } from "../src/errors.js";
import { lstmBackwardBySteps, lstmForwardBySteps } from "../src/kernels/lstm_steps.js";
import { createReferenceKernels, dropoutMask } from "../src/kernels/reference.js";
import type { Kernels } from "../src/kernels/types.js";
import type { WasmKernels } from "../src/kernels/wasm.js";
import {
  autoThreads,
  createWasmKernels,
  enableRelaxedSimd,
  readWasmBinaries,
  spawnNodeWorker,
} from "../src/kernels/wasm_node.js";
import type { WorkerHandle } from "../src/kernels/wasm_pool.js";
import {
  COUNT,
  chunkText,
  ERROR_UNITS,
  readErrorText,
  writeErrorText,
} from "../src/kernels/wasm_protocol.js";

const EPS = 2 ** -23;

function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function randoms(n: number, r: () => number, scale = 1): Float32Array {
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) out[i] = (r() * 2 - 1) * scale;
  return out;
}

function put(k: Kernels, data: Float32Array | Int32Array): number {
  const off = k.alloc(data.length);
  if (data instanceof Int32Array) k.i32().set(data, off);
  else k.f32().set(data, off);
  return off;
}

const get = (k: Kernels, off: number, n: number): Float32Array => k.f32().slice(off, off + n);
const getI = (k: Kernels, off: number, n: number): Int32Array => k.i32().slice(off, off + n);

function expectBits(actual: Float32Array, expected: Float32Array, what: string): void {
  const a = new Uint32Array(actual.buffer, actual.byteOffset, actual.length);
  const e = new Uint32Array(expected.buffer, expected.byteOffset, expected.length);
  for (let i = 0; i < a.length; i++) {
    if (a[i] !== e[i]) {
      // -0 and 0 and NaN payloads would show here too: the reference is replayed exactly.
      expect.fail(
        `${what}: element ${i}: ${actual[i]} (0x${a[i].toString(16)}) ≠ ${expected[i]} (0x${e[i].toString(16)})`,
      );
    }
  }
}

function expectClose(
  actual: Float32Array,
  expected: Float32Array,
  abs: number,
  rel: number,
  what: string,
): void {
  expect(actual.length).toBe(expected.length);
  for (let i = 0; i < actual.length; i++) {
    const tol = abs + rel * Math.abs(expected[i]);
    if (!(Math.abs(actual[i] - expected[i]) <= tol)) {
      expect.fail(`${what}: element ${i}: ${actual[i]} vs ${expected[i]} (tolerance ${tol})`);
    }
  }
}

/**
 * Runs the recurrent loop of one layer (H units, `rows` per step of a batch of B, W_h inside a kernel of
 * IN + H rows) forward then backward on random inputs three ways on the kernels K: the fused ops, the fused
 * forward on a packed W_h, and the per-step gemm and cell calls (lstm_steps.ts); expects the three to agree
 * bit for bit and returns the fused results (gates, c, h after forward; dh, dc, dGates after backward).
 */
function recurrentLoop(K: Kernels, H: number, B: number, rows: number[], seed: number): Float32Array[] {
  const r = rng(seed);
  const G = 4 * H;
  const IN = 5;
  const N = rows.reduce((a, b) => a + b, 0);
  const steps = rows.length;
  const kernel = randoms((IN + H) * G, r, 0.5);
  const pre = randoms(N * G, r, 2);
  const enter = randoms(B * H, r); // c0 and h0 (the same values)
  const dhAbove = randoms(N * H, r);
  const dcLast = randoms(B * H, r);
  dcLast.fill(0, rows[steps - 1] * H); // nothing reaches sequences that ended before the chunk's end
  const mk = K.mark();
  const wh = put(K, kernel) + IN * G;
  const packed = K.alloc(K.gemmPackedSize(H, G));
  K.packGemmB(H, G, wh, G, packed);
  const table = put(K, Int32Array.from(rows));
  const runs: Float32Array[][] = [];
  for (const way of ["fused", "fused, packed W_h", "per step"]) {
    const gates = put(K, pre);
    const c = K.alloc((B + N) * H);
    const h = K.alloc((B + N) * H);
    K.f32().set(enter, c);
    K.f32().set(enter, h);
    const dh = put(K, dhAbove);
    const dc = put(K, dcLast);
    const dGates = K.alloc(N * G);
    if (way === "per step") {
      const ops = { ...K, i32: () => K.i32() };
      lstmForwardBySteps(ops, steps, B, H, 1, table, wh, -1, gates, c, h);
      lstmBackwardBySteps(ops, steps, B, H, table, wh, gates, c, dh, dc, dGates);
    } else {
      K.lstmRecurrentForward(steps, B, H, 1, table, wh, way === "fused" ? -1 : packed, gates, c, h);
      K.lstmRecurrentBackward(steps, B, H, table, wh, gates, c, dh, dc, dGates);
    }
    runs.push([
      get(K, gates, N * G),
      get(K, c, (B + N) * H),
      get(K, h, (B + N) * H),
      get(K, dh, N * H),
      get(K, dc, B * H),
      get(K, dGates, N * G),
    ]);
  }
  K.release(mk);
  const names = ["activations", "c", "h", "dh", "dc", "dGates"];
  for (const run of [1, 2]) {
    for (let q = 0; q < names.length; q++) {
      expectBits(runs[0][q], runs[run][q], `${K.name} H ${H} rows ${rows}: ${names[q]}, fused vs run ${run}`);
    }
  }
  return runs[0];
}

/** Recurrent loops: H, B, rows per step (non-increasing; odd sizes, one step, every row to the end). */
const RECURRENT_CASES: [number, number, number[]][] = [
  [1, 3, [3, 3, 1]],
  [9, 4, [4]],
  [7, 5, [5, 4, 4, 2, 1, 1]],
  [33, 21, [21, 21, 18, 9, 9, 3]],
  [64, 64, [64, 64, 60, 40, 33, 17, 16, 8, 3, 1]],
  [20, 16, [16, 16, 16, 16]],
];

const relaxedAvailable = enableRelaxedSimd(readWasmBinaries().relaxedSimd as BufferSource);

interface Variant {
  label: string;
  simd: "simd" | "relaxed";
  threads: number;
}
const VARIANTS: Variant[] = [
  { label: "simd, 1 thread", simd: "simd", threads: 1 },
  { label: "simd, 3 threads", simd: "simd", threads: 3 },
  ...(relaxedAvailable
    ? [
        { label: "relaxed simd, 1 thread", simd: "relaxed", threads: 1 } as Variant,
        { label: "relaxed simd, 3 threads", simd: "relaxed", threads: 3 } as Variant,
      ]
    : []),
];

it("has the relaxed-SIMD build available on this Node (else only the plain build is tested)", () => {
  if (!relaxedAvailable) console.warn("relaxed SIMD unavailable: testing the plain SIMD build only");
  expect(typeof relaxedAvailable).toBe("boolean");
});

it("the sampler's exp (fdlibm's, in WebAssembly) gives Math.exp's bits on every range", async () => {
  const bins = readWasmBinaries();
  for (const bytes of [bins.simd, ...(relaxedAvailable ? [bins.relaxedSimd as BufferSource] : [])]) {
    const memory = new WebAssembly.Memory({ initial: 64, maximum: 64, shared: true });
    const { instance } = await WebAssembly.instantiate(bytes, { env: { memory } });
    const fdExp = instance.exports.fd_exp as (n: number, x: number, y: number) => void;
    const n = 200_001; // odd: the scalar tail too
    const x = new Float64Array(memory.buffer, 8, n);
    const y = new Float64Array(memory.buffer, 8 + 8 * n, n);
    const r = rng(29);
    const bits = new DataView(new ArrayBuffer(8));
    for (let i = 0; i < n; i++) {
      const kind = i % 6;
      if (kind === 0)
        x[i] = -r() * 30; // log-probabilities
      else if (kind === 1)
        x[i] = (r() - 0.5) * 1500; // both overflow thresholds, subnormal results
      else if (kind === 2)
        x[i] = (r() - 0.5) * 4; // |x| around ½·ln 2 and 1.5·ln 2
      else if (kind === 3)
        x[i] = (r() - 0.5) * 1e-7; // |x| < 2⁻²⁸
      else if (kind === 4) x[i] = -r() * 750;
      else {
        bits.setUint32(0, Math.floor(r() * 4294967296));
        bits.setUint32(4, Math.floor(r() * 4294967296));
        x[i] = bits.getFloat64(0); // any bit pattern: NaN, ±Infinity, huge, tiny
      }
    }
    x[0] = Number.NEGATIVE_INFINITY;
    x[1] = Number.POSITIVE_INFINITY;
    x[2] = -0;
    fdExp(n, 8, 8 + 8 * n);
    for (let i = 0; i < n; i++) {
      const e = Math.exp(x[i]);
      if (!Object.is(e, y[i]) && !(Number.isNaN(e) && Number.isNaN(y[i]))) {
        expect.fail(`exp(${x[i]}): ${y[i]}, Math.exp ${e}`);
      }
    }
  }
});

describe.each(VARIANTS)("wasm kernels ($label)", ({ simd, threads }) => {
  let w: WasmKernels;
  let ref: Kernels;
  beforeAll(async () => {
    // Thresholds 0: every kernel that can split does, even on tiny inputs.
    w = await createWasmKernels({ simd, threads, gemmParallelMinFlops: 0, rowsParallelMinElements: 0 });
    ref = createReferenceKernels();
  });
  afterAll(() => {
    w.dispose();
    ref.dispose();
  });

  it("reports its build and threads", () => {
    expect(w.simd).toBe(simd === "relaxed" ? "relaxed-simd" : "simd");
    expect(w.threads).toBe(threads);
  });

  const SIZES: [number, number, number][] = [
    [1, 1, 1],
    [3, 7, 5],
    [7, 3, 33],
    [33, 259, 7],
    [5, 9, 259],
    [65, 17, 3],
    [70, 130, 300],
    [4, 2100, 3],
    [259, 33, 64],
  ];
  const COEFS: [number, number][] = [
    [1, 0],
    [0.5, 0],
    [1, 1],
    [-1.5, 0.25],
  ];

  for (const transA of [false, true]) {
    for (const transB of [false, true]) {
      it(`gemm ${transA ? "T" : "N"}${transB ? "T" : "N"} matches the reference within the float32 bound`, () => {
        const r = rng(17 + (transA ? 2 : 0) + (transB ? 1 : 0));
        for (const [m, n, k] of SIZES) {
          for (const [alpha, beta] of COEFS) {
            const wm = w.mark();
            const rm = ref.mark();
            // Row strides wider than the rows, to catch stride bugs.
            const lda = (transA ? m : k) + 3;
            const ldb = (transB ? k : n) + 1;
            const ldc = n + 2;
            const A = randoms((transA ? k : m) * lda, r);
            const B = randoms((transB ? n : k) * ldb, r);
            const C = randoms(m * ldc, r);
            if (beta === 0) C.fill(Number.NaN); // beta 0 must ignore C entirely
            const out: Float32Array[] = [];
            for (const K of [w, ref]) {
              const a = put(K, A);
              const b = put(K, B);
              const c = put(K, C);
              K.gemm(transA, transB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
              out.push(get(K, c, m * ldc));
            }
            // Bound: Σ_p |op(A)[i,p]|·|op(B)[p,j]| from the reference on absolute values.
            const absA = A.map(Math.abs);
            const absB = B.map(Math.abs);
            const a = put(ref, absA);
            const b = put(ref, absB);
            const s = put(ref, new Float32Array(m * ldc));
            ref.gemm(transA, transB, m, n, k, 1, a, lda, b, ldb, 0, s, ldc);
            const S = get(ref, s, m * ldc);
            for (let i = 0; i < m; i++) {
              for (let j = 0; j < n; j++) {
                const e = i * ldc + j;
                const old = beta === 0 ? 0 : Math.abs(beta * C[e]);
                const tol = (k + 2) * EPS * Math.abs(alpha) * S[e] + 2 * EPS * old + 1e-30;
                if (!(Math.abs(out[0][e] - out[1][e]) <= tol)) {
                  expect.fail(
                    `${m}×${n}×${k} α=${alpha} β=${beta} C[${i},${j}] = ${out[0][e]} vs ${out[1][e]}`,
                  );
                }
              }
              // The padding between rows of C is untouched.
              for (let j = n; j < ldc; j++) expect(Object.is(out[0][i * ldc + j], C[i * ldc + j])).toBe(true);
            }
            w.release(wm);
            ref.release(rm);
          }
        }
      });
    }
  }

  // Small m (assembly/gemm.ts reads B in place, no packing, for m ≤ 12 when op(B) = B): every row-group
  // kernel (4, 2, 1 rows; 1 row as 16 or 32 columns), full column blocks and 1–3 column tails, k past one
  // KC = 256 slice; m = 16, 17 take the packed path.
  it("gemm with small m (the unpacked path and its neighbours) matches the reference, all transposes", () => {
    const r = rng(29);
    const NK: [number, number][] = [
      [1, 1],
      [7, 5],
      [33, 2],
      [64, 300],
      [71, 257],
      [258, 64],
      [603, 230], // one row: 32-column blocks (a slice of B over 512 KiB), not 16
    ];
    for (const m of [1, 2, 3, 7, 8, 9, 16, 17]) {
      for (const [n, k] of NK) {
        for (const transA of [false, true]) {
          for (const transB of [false, true]) {
            for (const [alpha, beta] of COEFS) {
              const wm = w.mark();
              const rm = ref.mark();
              const lda = (transA ? m : k) + 1;
              const ldb = (transB ? k : n) + 3;
              const ldc = n + 1;
              const A = randoms((transA ? k : m) * lda, r);
              const B = randoms((transB ? n : k) * ldb, r);
              const C = randoms(m * ldc, r);
              if (beta === 0) C.fill(Number.NaN);
              const out: Float32Array[] = [];
              for (const K of [w, ref]) {
                const a = put(K, A);
                const b = put(K, B);
                const c = put(K, C);
                K.gemm(transA, transB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
                out.push(get(K, c, m * ldc));
              }
              const absA = A.map(Math.abs);
              const absB = B.map(Math.abs);
              const s = put(ref, new Float32Array(m * ldc));
              ref.gemm(transA, transB, m, n, k, 1, put(ref, absA), lda, put(ref, absB), ldb, 0, s, ldc);
              const S = get(ref, s, m * ldc);
              const what = `${transA ? "T" : "N"}${transB ? "T" : "N"} ${m}×${n}×${k} α=${alpha} β=${beta}`;
              for (let i = 0; i < m; i++) {
                for (let j = 0; j < n; j++) {
                  const e = i * ldc + j;
                  const old = beta === 0 ? 0 : Math.abs(beta * C[e]);
                  const tol = (k + 2) * EPS * Math.abs(alpha) * S[e] + 2 * EPS * old + 1e-30;
                  if (!(Math.abs(out[0][e] - out[1][e]) <= tol)) {
                    expect.fail(`${what} C[${i},${j}] = ${out[0][e]} vs ${out[1][e]}`);
                  }
                }
                const pad = i * ldc + n;
                if (!Object.is(out[0][pad], C[pad])) expect.fail(`${what}: padding of row ${i} written`);
              }
              w.release(wm);
              ref.release(rm);
            }
          }
        }
      }
    }
  });

  it("gemm with k = 0 or alpha = 0 scales C by beta (beta 0 clears NaN)", () => {
    for (const [k, alpha, beta] of [
      [0, 1, 0],
      [0, 1, 2],
      [5, 0, 0],
      [5, 0, -0.5],
    ]) {
      const m = 3;
      const n = 5;
      const a = w.alloc(m * 5);
      const b = w.alloc(5 * n);
      const c = put(
        w,
        Float32Array.from({ length: m * n }, (_, i) => (i === 4 ? Number.NaN : i)),
      );
      w.gemm(false, false, m, n, k, alpha, a, 5, b, n, beta, c, n);
      const got = get(w, c, m * n);
      for (let i = 0; i < m * n; i++) {
        const expected = beta === 0 ? 0 : beta * (i === 4 ? Number.NaN : i);
        expect(Object.is(got[i], expected) || got[i] === expected).toBe(true);
      }
    }
  });

  it("embeddingForward / embeddingBackward are bit-identical to the reference", () => {
    const r = rng(5);
    for (const [rows, width, vocab] of [
      [1, 1, 1],
      [7, 3, 5],
      [33, 259, 11],
      [64, 64, 259],
    ]) {
      const ids = Int32Array.from({ length: rows }, (_, i) => (i % 5 === 3 ? -1 : Math.floor(r() * vocab)));
      const table = randoms(vocab * width, r);
      const bias = randoms(width, r);
      const dOut = randoms(rows * width, r);
      for (const withBias of [true, false]) {
        const res: Float32Array[][] = [];
        for (const K of [w, ref]) {
          const mk = K.mark();
          const i = put(K, ids);
          const t = put(K, table);
          const bb = withBias ? put(K, bias) : -1;
          const o = put(K, randoms(rows * width, r));
          K.embeddingForward(rows, width, i, t, bb, o);
          const d = put(K, dOut);
          const dt = put(K, table);
          K.embeddingBackward(rows, width, i, d, dt);
          res.push([get(K, o, rows * width), get(K, dt, vocab * width)]);
          K.release(mk);
        }
        expectBits(res[0][0], res[1][0], "embeddingForward");
        expectBits(res[0][1], res[1][1], "embeddingBackward");
      }
    }
  });

  it("addBias / biasBackward are bit-identical to the reference", () => {
    const r = rng(6);
    for (const [rows, width] of [
      [1, 1],
      [3, 7],
      [259, 33],
      [64, 1024],
      [5, 70001],
    ]) {
      const res: Float32Array[][] = [];
      const x = randoms(rows * width, r);
      const bias = randoms(width, r);
      for (const K of [w, ref]) {
        const mk = K.mark();
        const o = put(K, x);
        const b = put(K, bias);
        K.addBias(rows, width, b, o);
        const db = put(K, bias);
        K.biasBackward(rows, width, o, db);
        res.push([get(K, o, rows * width), get(K, db, width)]);
        K.release(mk);
      }
      expectBits(res[0][0], res[1][0], "addBias");
      expectBits(res[0][1], res[1][1], "biasBackward");
    }
  });

  it("lstmCellForward / lstmCellBackward match the reference to float tolerance", () => {
    const r = rng(7);
    for (const [rows, hidden] of [
      [1, 1],
      [3, 7],
      [7, 33],
      [64, 64],
      [5, 259],
    ]) {
      for (const forgetBias of [1, 0]) {
        const gates = randoms(rows * 4 * hidden, r, 6);
        gates[0] = 40; // saturated gates
        gates[gates.length - 1] = -40;
        const cPrev = randoms(rows * hidden, r, 3);
        const dh = randoms(rows * hidden, r);
        const dc = randoms(rows * hidden, r);
        const res: Float32Array[][] = [];
        for (const K of [w, ref]) {
          const mk = K.mark();
          const g = put(K, gates);
          const cp = put(K, cPrev);
          const c = K.alloc(rows * hidden);
          const h = K.alloc(rows * hidden);
          K.lstmCellForward(rows, hidden, forgetBias, g, cp, c, h);
          const dH = put(K, dh);
          const dC = put(K, dc);
          const dG = K.alloc(rows * 4 * hidden);
          K.lstmCellBackward(rows, hidden, g, cp, c, dH, dC, dG, dC); // dcPrev aliases dc
          res.push([
            get(K, g, rows * 4 * hidden),
            get(K, c, rows * hidden),
            get(K, h, rows * hidden),
            get(K, dG, rows * 4 * hidden),
            get(K, dC, rows * hidden),
          ]);
          K.release(mk);
        }
        const names = ["activations", "c", "h", "dGates", "dcPrev"];
        for (let q = 0; q < names.length; q++) expectClose(res[0][q], res[1][q], 3e-6, 3e-6, names[q]);
      }
    }
  });

  it("lstmRecurrentForward / Backward give the per-step gemm and cell calls' bits, and the reference's values", () => {
    RECURRENT_CASES.forEach(([H, B, rows], i) => {
      const mine = recurrentLoop(w, H, B, rows, 50 + i);
      const theirs = recurrentLoop(ref, H, B, rows, 50 + i);
      const names = ["activations", "c", "h", "dh", "dc", "dGates"];
      for (let q = 0; q < names.length; q++) {
        expectClose(mine[q], theirs[q], 2e-5, 2e-5, `H ${H} rows ${rows}: ${names[q]} vs the reference`);
      }
    });
  });

  it("gemmPacked on a packed B gives gemm's bits (all paths), and the reference's gemm", () => {
    const r = rng(31);
    for (const [m, n, k] of [
      [1, 1, 1],
      [3, 9, 7],
      [10, 259, 300],
      [13, 40, 513],
      [70, 33, 65],
      [2, 2100, 5],
    ]) {
      for (const transA of [false, true]) {
        for (const beta of [0, 0.5]) {
          const A = randoms(m * k, r);
          const B = randoms(k * (n + 3), r); // row stride n + 3
          const C = randoms(m * n, r);
          const out: Float32Array[] = [];
          for (const K of [w, ref]) {
            const mk = K.mark();
            const a = put(K, A);
            const b = put(K, B);
            const packed = K.alloc(K.gemmPackedSize(k, n));
            K.packGemmB(k, n, b, n + 3, packed);
            const c1 = put(K, C);
            const c2 = put(K, C);
            const lda = transA ? m : k;
            K.gemmPacked(transA, m, n, k, 0.75, a, lda, packed, beta, c1, n);
            K.gemm(transA, false, m, n, k, 0.75, a, lda, b, n + 3, beta, c2, n);
            const what = `${transA ? "T" : "N"}N ${m}×${n}×${k} beta ${beta} (${K.name})`;
            expectBits(get(K, c1, m * n), get(K, c2, m * n), `gemmPacked vs gemm ${what}`);
            out.push(get(K, c1, m * n));
            K.release(mk);
          }
          expectClose(out[0], out[1], 1e-5, 1e-5, `gemmPacked vs reference ${m}×${n}×${k}`);
        }
      }
    }
  });

  it("copyRows is bit-identical to the reference, strides included", () => {
    const r = rng(19);
    for (const [rows, width, lds, ldd] of [
      [1, 1, 1, 1],
      [3, 5, 7, 9],
      [4, 64, 128, 128],
      [2, 259, 259, 300],
    ]) {
      const src = randoms(rows * lds, r);
      const out: Float32Array[] = [];
      for (const K of [w, ref]) {
        const mk = K.mark();
        const s = put(K, src);
        const d = put(K, randoms(rows * ldd, rng(1)));
        K.copyRows(rows, width, s, lds, d, ldd);
        out.push(get(K, d, rows * ldd));
        K.release(mk);
      }
      expectBits(out[0], out[1], `copyRows ${rows}×${width}`);
    }
  });

  it("logSoftmax matches the reference; sampleClasses is bit-identical to it", () => {
    const r = rng(23);
    for (const [rows, classes] of [
      [1, 1],
      [1, 2],
      [3, 7],
      [10, 259],
      [2, 260],
    ]) {
      for (const temperature of [1, 0.5, 1.7]) {
        for (const scale of [1, 30, 800]) {
          const logits = randoms(rows * classes, r, scale);
          if (classes > 3) logits[1] = Number.NEGATIVE_INFINITY; // a class with no mass
          const uniforms = new Int32Array(rows);
          for (let q = 0; q < rows; q++) uniforms[q] = Math.floor(r() * 4294967296) | 0;
          if (rows > 1) uniforms[rows - 1] = -1; // u = (2³² − 1) / 2³²: past the rounded total, often
          const what = `${rows}×${classes}, T ${temperature}, scale ${scale}`;
          // logSoftmax: to float32 tolerance of the float64 reference (relative to the row's largest |x/t|).
          const lps: Float32Array[] = [];
          for (const K of [w, ref]) {
            const mk = K.mark();
            const lg = put(K, logits);
            const lp = K.alloc(rows * classes);
            K.logSoftmax(rows, classes, temperature, lg, lp);
            lps.push(get(K, lp, rows * classes));
            // In place too.
            K.logSoftmax(rows, classes, temperature, lg, lg);
            expectBits(get(K, lg, rows * classes), lps[lps.length - 1], `logSoftmax in place ${what}`);
            K.release(mk);
          }
          for (let q = 0; q < rows; q++) {
            let big = 1;
            for (let j = 0; j < classes; j++) {
              const x = Math.abs(logits[q * classes + j] / temperature);
              if (Number.isFinite(x)) big = Math.max(big, x);
            }
            for (let j = 0; j < classes; j++) {
              const [a, e] = [lps[0][q * classes + j], lps[1][q * classes + j]];
              if (a === e) continue;
              if (!(Math.abs(a - e) <= 4 * EPS * (big + Math.abs(e)))) {
                expect.fail(`logSoftmax ${what}: row ${q} class ${j}: ${a} vs ${e}`);
              }
            }
          }
          // sampleClasses on the same log-probabilities: the same classes.
          const picks: Int32Array[][] = [];
          for (const K of [w, ref]) {
            const mk = K.mark();
            const lp = put(K, lps[0]);
            const u = put(K, uniforms);
            const picked = K.alloc(rows);
            const greedy = K.alloc(rows);
            K.sampleClasses(rows, classes, lp, u, false, picked);
            K.sampleClasses(rows, classes, lp, u, true, greedy);
            picks.push([getI(K, picked, rows), getI(K, greedy, rows)]);
            K.release(mk);
          }
          expect(Array.from(picks[0][0]), `sampleClasses ${what}`).toEqual(Array.from(picks[1][0]));
          expect(Array.from(picks[0][1]), `greedy ${what}`).toEqual(Array.from(picks[1][1]));
        }
      }
    }
  });

  it("dropout masks and values are bit-identical to the reference", () => {
    const r = rng(8);
    for (const n of [1, 3, 7, 33, 259, 4099]) {
      for (const keep of [0, 0.1, 0.5, 0.9, 0.999, 1, 1.5]) {
        for (const seed of [0, 1, -1, 12345, 2 ** 31 + 5, 0x9e3779b9]) {
          const x = randoms(n, r);
          x[0] = Number.NaN; // a dropped NaN becomes 0
          const res: Float32Array[][] = [];
          for (const K of [w, ref]) {
            const mk = K.mark();
            const xi = put(K, x);
            const o = K.alloc(n);
            K.dropoutForward(n, keep, seed, xi, o);
            const back = put(K, x);
            K.dropoutBackward(n, keep, seed, back, back); // in place
            res.push([get(K, o, n), get(K, back, n)]);
            K.release(mk);
          }
          expectBits(res[0][0], res[1][0], `dropoutForward n=${n} keep=${keep} seed=${seed}`);
          expectBits(res[0][1], res[1][1], `dropoutBackward n=${n} keep=${keep} seed=${seed}`);
          const mask = dropoutMask(n, keep, seed);
          for (let e = 1; e < n; e++) expect(res[0][0][e] !== 0 || x[e] === 0 ? 1 : 0).toBe(mask[e]);
        }
      }
    }
  });

  it("softmaxCrossEntropy matches the reference (loss, dLogits, argmax, padding rows)", () => {
    const r = rng(9);
    for (const [rows, classes] of [
      [1, 1],
      [3, 7],
      [9, 259],
      [65, 33],
      [4, 5],
    ]) {
      for (const scale of [1, 1 / 64]) {
        const logits = randoms(rows * classes, r, 8);
        const labels = Int32Array.from({ length: rows }, (_, i) =>
          i % 4 === 2 ? -1 : Math.floor(r() * classes),
        );
        const res: { d: Float32Array; losses: Float32Array; preds: Int32Array; total: number }[] = [];
        for (const K of [w, ref]) {
          const mk = K.mark();
          const x = put(K, logits);
          const l = put(K, labels);
          const d = put(K, randoms(rows * classes, r));
          const losses = K.alloc(rows);
          const preds = K.alloc(rows);
          const total = K.softmaxCrossEntropy(rows, classes, x, l, scale, d, losses, preds);
          res.push({
            d: get(K, d, rows * classes),
            losses: get(K, losses, rows),
            preds: getI(K, preds, rows),
            total,
          });
          K.release(mk);
        }
        expectClose(res[0].d, res[1].d, 2e-7 * scale, 2e-6, "dLogits");
        expectClose(res[0].losses, res[1].losses, 2e-6, 2e-6, "losses");
        expect(res[0].preds).toEqual(res[1].preds);
        expect(res[0].total).toBeCloseTo(res[1].total, 4);
      }
    }
  });

  it("softmaxCrossEntropy allows dLogits to alias logits, and rejects labels ≥ classes", () => {
    const logits = Float32Array.from([1, 2, 3, 0.5, 0.5, -1]);
    const labels = Int32Array.from([2, 0]);
    const res: Float32Array[] = [];
    for (const K of [w, ref]) {
      const mk = K.mark();
      const x = put(K, logits);
      const l = put(K, labels);
      const losses = K.alloc(2);
      const preds = K.alloc(2);
      K.softmaxCrossEntropy(2, 3, x, l, 1, x, losses, preds);
      res.push(get(K, x, 6));
      expect(getI(K, preds, 2)).toEqual(Int32Array.from([2, 0])); // first maximum on a tie
      K.release(mk);
    }
    expectClose(res[0], res[1], 1e-7, 1e-6, "aliased dLogits");
    const l = put(w, Int32Array.from([3]));
    expect(() => w.softmaxCrossEntropy(1, 3, w.alloc(3), l, 1, w.alloc(3), w.alloc(1), w.alloc(1))).toThrow(
      RangeError,
    );
  });

  it("sumSquares (float64), scale, add and adam match the reference", () => {
    const r = rng(10);
    for (const n of [1, 2, 3, 7, 33, 259, 10001]) {
      const x = randoms(n, r, 3);
      const y = randoms(n, r);
      const p = randoms(n, r);
      const g = randoms(n, r);
      const m = randoms(n, r, 0.1);
      const v = randoms(n, r, 0.1).map(Math.abs);
      const res: { ss: number; sc: Float32Array; ad: Float32Array; adam: Float32Array[] }[] = [];
      for (const K of [w, ref]) {
        const mk = K.mark();
        const xi = put(K, x);
        const ss = K.sumSquares(n, xi);
        K.scale(n, 0.1, xi);
        const yi = put(K, y);
        K.add(n, xi, yi);
        const pi = put(K, p);
        const gi = put(K, g);
        const mi = put(K, m);
        const vi = put(K, v);
        for (let t = 1; t <= 3; t++) {
          const lrT = (0.001 * Math.sqrt(1 - 0.999 ** t)) / (1 - 0.9 ** t);
          K.adam(n, lrT, 0.9, 0.999, 1e-8, pi, gi, mi, vi);
        }
        res.push({
          ss,
          sc: get(K, xi, n),
          ad: get(K, yi, n),
          adam: [get(K, pi, n), get(K, mi, n), get(K, vi, n)],
        });
        K.release(mk);
      }
      expect(Math.abs(res[0].ss - res[1].ss)).toBeLessThanOrEqual(1e-12 * res[1].ss);
      expectBits(res[0].sc, res[1].sc, "scale");
      expectBits(res[0].ad, res[1].ad, "add");
      for (let q = 0; q < 3; q++) expectBits(res[0].adam[q], res[1].adam[q], `adam ${["p", "m", "v"][q]}`);
    }
  });
});

describe("wasm kernels: threads and memory", () => {
  it("threaded gemm, LSTM cell and softmax are bit-identical to single-threaded", async () => {
    const builds: ("simd" | "relaxed")[] = relaxedAvailable ? ["simd", "relaxed"] : ["simd"];
    for (const simd of builds) {
      const one = await createWasmKernels({ simd, threads: 1 });
      const many = await createWasmKernels({
        simd,
        threads: 4,
        gemmParallelMinFlops: 0,
        rowsParallelMinElements: 0,
      });
      try {
        const r = rng(11);
        for (const [ta, tb, m, n, k] of [
          [false, false, 64, 256, 64],
          [false, true, 64, 1024, 33],
          [true, false, 257, 100, 300],
          [false, false, 300, 259, 65],
          [true, true, 13, 70, 9],
          // Small m: column chunks on the unpacked path; m = 20, 24 split into row chunks of ≤ 16 rows
          // (unpacked) while one thread packs, which must agree bit for bit too.
          [false, false, 1, 1024, 300],
          [true, false, 3, 259, 65],
          [false, false, 20, 16, 260],
          [true, false, 24, 40, 33],
          [false, false, 16, 71, 257],
        ] as [boolean, boolean, number, number, number][]) {
          const A = randoms(m * k, r);
          const B = randoms(k * n, r);
          const C = randoms(m * n, r);
          const out: Float32Array[] = [];
          for (const K of [one, many]) {
            const mk = K.mark();
            const a = put(K, A);
            const b = put(K, B);
            const c = put(K, C);
            K.gemm(ta, tb, m, n, k, 0.75, a, ta ? m : k, b, tb ? k : n, 0.5, c, n);
            out.push(get(K, c, m * n));
            K.release(mk);
          }
          expectBits(out[1], out[0], `threaded gemm ${m}×${n}×${k}`);
        }
        const rows = 37;
        const hidden = 19;
        const gates = randoms(rows * 4 * hidden, r, 4);
        const cPrev = randoms(rows * hidden, r);
        const dh = randoms(rows * hidden, r);
        const logits = randoms(rows * 29, r, 5);
        const labels = Int32Array.from({ length: rows }, (_, i) => (i % 7 === 0 ? -1 : i % 29));
        const res: Float32Array[][] = [];
        const totals: number[] = [];
        for (const K of [one, many]) {
          const mk = K.mark();
          const g = put(K, gates);
          const cp = put(K, cPrev);
          const c = K.alloc(rows * hidden);
          const h = K.alloc(rows * hidden);
          K.lstmCellForward(rows, hidden, 1, g, cp, c, h);
          const dH = put(K, dh);
          const dC = K.alloc(rows * hidden);
          const dG = K.alloc(rows * 4 * hidden);
          K.lstmCellBackward(rows, hidden, g, cp, c, dH, dC, dG, dC);
          const x = put(K, logits);
          const l = put(K, labels);
          const d = K.alloc(rows * 29);
          const losses = K.alloc(rows);
          totals.push(K.softmaxCrossEntropy(rows, 29, x, l, 0.5, d, losses, K.alloc(rows)));
          res.push([
            get(K, g, gates.length),
            get(K, h, rows * hidden),
            get(K, dG, gates.length),
            get(K, d, rows * 29),
          ]);
          K.release(mk);
        }
        for (let q = 0; q < res[0].length; q++) expectBits(res[1][q], res[0][q], `threaded row kernel ${q}`);
        expect(totals[1]).toBeCloseTo(totals[0], 9);
      } finally {
        one.dispose();
        many.dispose();
      }
    }
  });

  it("the recurrent loop split by rows over 2 threads for the whole chunk gives 1 thread's bits", async () => {
    const one = await createWasmKernels({ simd: "simd", threads: 1 });
    const two = await createWasmKernels({ simd: "simd", threads: 2, gemmParallelMinFlops: 0 });
    try {
      RECURRENT_CASES.forEach(([H, B, rows], i) => {
        const a = recurrentLoop(one, H, B, rows, 70 + i);
        const b = recurrentLoop(two, H, B, rows, 70 + i);
        for (let q = 0; q < a.length; q++)
          expectBits(b[q], a[q], `H ${H} rows ${rows}: output ${q}, 2 threads`);
      });
    } finally {
      one.dispose();
      two.dispose();
    }
  });

  it("many quick parallel calls of different kernels, 6 threads on this machine's cores, stay exact", async () => {
    // Oversubscribed on purpose: workers wake late and claim chunks of later calls than they woke for.
    const one = await createWasmKernels({ simd: "simd", threads: 1 });
    const many = await createWasmKernels({
      simd: "simd",
      threads: 6,
      gemmParallelMinFlops: 0,
      rowsParallelMinElements: 0,
      spinMicroseconds: 0,
    });
    try {
      const r = rng(12);
      const m = 24;
      const n = 40;
      const k = 16;
      const A = randoms(m * k, r);
      const B = randoms(k * n, r);
      const G = randoms(m * 4 * n, r, 3);
      const X = randoms(m * n, r, 4);
      const L = Int32Array.from({ length: m }, (_, i) => i % n);
      const finals: Float32Array[] = [];
      let totals = 0;
      for (const K of [one, many]) {
        const a = put(K, A);
        const b = put(K, B);
        const c = K.alloc(m * n);
        const g = put(K, G);
        const cp = K.alloc(m * n);
        const cc = K.alloc(m * n);
        const h = K.alloc(m * n);
        const x = put(K, X);
        const l = put(K, L);
        const d = K.alloc(m * n);
        const losses = K.alloc(m);
        const preds = K.alloc(m);
        let total = 0;
        for (let it = 0; it < 300; it++) {
          K.gemm(false, it % 2 === 1, m, n, k, 1, a, k, b, it % 2 === 1 ? k : n, 0.5, c, n);
          K.lstmCellForward(m, n, 1, g, c, cc, h);
          K.scale(m * n, 0.5, cc);
          total += K.softmaxCrossEntropy(m, n, x, l, 1, d, losses, preds);
          K.add(m * n, d, x);
          K.scale(m * 4 * n, 1.01, g);
          K.add(m * n, h, cp);
        }
        finals.push(get(K, c, m * n), get(K, cp, m * n), get(K, x, m * n));
        if (K === one) totals = total;
        else expect(Math.abs(total - totals)).toBeLessThanOrEqual(1e-9 * Math.abs(totals));
      }
      for (let q = 0; q < 3; q++) expectBits(finals[q + 3], finals[q], `after 300 mixed calls, result ${q}`);
    } finally {
      one.dispose();
      many.dispose();
    }
  });

  it("workers slowed down inside their chunk claims still run every chunk once (calls of 2 and 4 chunks)", async () => {
    // The worker's source (src/kernels/wasm_worker.ts as bundled: the script the pool starts) with a 20 µs
    // pause before each read of the call's chunk count, the one read in claimChunk (the bundle has the
    // control word's index folded in): it widens the windows in which the caller can end one call and
    // open the next while a worker is between steps of a claim. (Claims that compared a stale index with
    // the next call's count ran a chunk twice and let the caller return early: about a quarter of these
    // rounds came out wrong.)
    const slowCount = (source: string): string => {
      const read = `Atomics.load(I, ${COUNT})`;
      expect(source.split(read).length - 1, `reads of the chunk count in the worker's source`).toBe(1);
      const pause = "const t = performance.now(); while (performance.now() - t < 0.02);";
      return `"use strict";\nfunction pauseThenRead(I) { ${pause} return Atomics.load(I, 4); }\n${source
        .replace('"use strict";', "")
        .replaceAll(read, "pauseThenRead(I)")}`;
    };
    const spawnWorker = (source: string): WorkerHandle => spawnNodeWorker(slowCount(source));
    const one = await createWasmKernels({ simd: "simd", threads: 1 });
    const r = rng(13);
    const m = 64;
    const n = 48;
    const k = 16;
    const A = randoms(m * k, r);
    const B = randoms(k * n, r);
    const G = randoms(m * 4 * n, r, 3);
    // A gemm (one chunk per thread) accumulated into by a second one, then an LSTM cell (two per thread).
    const round = (K: WasmKernels, a: number, b: number, c: number, g: number, h: number): void => {
      K.gemm(false, false, m, n, k, 1, a, k, b, n, 0, c, n);
      K.gemm(false, false, m, n, k, 1, a, k, b, n, 1, c, n);
      const gates = put(K, G);
      K.lstmCellForward(m, n, 1, gates, c, g, h);
    };
    const setUp = (K: WasmKernels) => [put(K, A), put(K, B), K.alloc(m * n), K.alloc(m * n), K.alloc(m * n)];
    try {
      const [a1, b1, c1, g1, h1] = setUp(one);
      round(one, a1, b1, c1, g1, h1);
      const expected = get(one, h1, m * n);
      for (const threads of [2, 3]) {
        const K = await createWasmKernels({
          simd: "simd",
          threads,
          gemmParallelMinFlops: 0,
          rowsParallelMinElements: 0,
          spinMicroseconds: 0,
          spawnWorker,
        });
        try {
          const [a, b, c, g, h] = setUp(K);
          let wrong = 0;
          for (let it = 0; it < 1500; it++) {
            const mark = K.mark();
            round(K, a, b, c, g, h);
            K.release(mark);
            const got = K.f32().subarray(h, h + m * n);
            if (got.some((x, i) => x !== expected[i])) wrong++;
          }
          expect(wrong, `rounds with a wrong result on ${threads} threads`).toBe(0);
        } finally {
          K.dispose();
        }
      }
    } finally {
      one.dispose();
    }
  });

  it("alloc is aligned and zero-filled, grows the memory past its start, and release reuses it", async () => {
    const k = await createWasmKernels({ threads: 2, gemmParallelMinFlops: 0 });
    try {
      const start = k.mark();
      const a = k.alloc(3);
      const b = k.alloc(5);
      expect(a % 4).toBe(0);
      expect(b % 4).toBe(0);
      expect(b).toBeGreaterThanOrEqual(a + 3);
      k.f32().fill(7, a, a + 3);
      k.release(start);
      const again = k.alloc(3);
      expect(again).toBe(a);
      expect(Array.from(k.f32().subarray(again, again + 3))).toEqual([0, 0, 0]);
      const before = k.memory.buffer.byteLength;
      const big = k.alloc(16 << 20); // 64 MiB: grows the memory
      expect(k.memory.buffer.byteLength).toBeGreaterThan(before);
      expect(k.f32().length).toBe(k.memory.buffer.byteLength / 4); // the view was refreshed
      // A product at the far end of the grown memory, on both threads.
      const m = 8;
      const n = 64;
      const kk = 16;
      const x = big + (16 << 20) - (m * kk + kk * n + m * n);
      k.f32().fill(1, x, x + m * kk + kk * n);
      k.gemm(false, false, m, n, kk, 1, x, kk, x + m * kk, n, 0, x + m * kk + kk * n, n);
      expect(k.f32()[x + m * kk + kk * n + m * n - 1]).toBe(kk);
      expect(() => k.release(start + 1)).toThrow(RangeError);
    } finally {
      k.dispose();
    }
  });

  it("a worker's error text crosses the chunk table as its first line, cut to the slot", () => {
    const memory = new WebAssembly.Memory({ initial: 1, maximum: 1, shared: true });
    const U = chunkText(memory, 1024);
    writeErrorText(U, 5, "RangeError: bad\nat somewhere");
    writeErrorText(U, 6, `Error: ${"x".repeat(ERROR_UNITS * 2)}`);
    expect(readErrorText(U, 5)).toBe("RangeError: bad");
    expect(readErrorText(U, 6)).toBe(`Error: ${"x".repeat(ERROR_UNITS - 1 - "Error: ".length)}`);
    expect(readErrorText(U, 4)).toBe(""); // never written
    expect(readErrorText(U, 5)).toBe("RangeError: bad"); // chunk 6's longer text stayed in its own slot
  });

  it("a kernel that fails in a thread is a one-line PolyrnnError naming the kernel and the cause", async () => {
    const k = await createWasmKernels({ threads: 3, gemmParallelMinFlops: 0 });
    try {
      const a = k.alloc(64 * 64);
      const outside = k.memory.buffer.byteLength; // elements past the end of the memory (×4 bytes)
      let caught: unknown;
      try {
        k.gemm(false, false, 64, 64, 64, 1, a, 64, a, 64, 0, outside, 64);
      } catch (e) {
        caught = e;
      }
      expect(caught).toBeInstanceOf(PolyrnnError);
      const message = (caught as Error).message;
      expect(message).toMatch(/^the gemm kernel failed( in a worker thread)?: RuntimeError: .*out of bounds/);
      expect(message).not.toContain("\n");
      // The kernels still work after the failure.
      const c = k.alloc(64 * 64);
      k.f32().fill(1, a, a + 64 * 64);
      k.gemm(false, false, 64, 64, 64, 1, a, 64, a, 64, 0, c, 64);
      expect(k.f32()[c]).toBe(64);
    } finally {
      k.dispose();
    }
  });

  it("dispose stops the workers; the kernels then refuse parallel work", async () => {
    const k = await createWasmKernels({ threads: 2, gemmParallelMinFlops: 0 });
    const a = k.alloc(64 * 64);
    const c = k.alloc(64 * 64);
    k.gemm(false, false, 64, 64, 64, 1, a, 64, a, 64, 0, c, 64);
    k.dispose();
    expect(() => k.gemm(false, false, 64, 64, 64, 1, a, 64, a, 64, 0, c, 64)).toThrow(/disposed/);
  });
});

describe("threads when none are asked for", () => {
  it("leave the cores busy with other work alone, and keep at least one", () => {
    expect(autoThreads(2, 0.1)).toBe(2);
    expect(autoThreads(2, 1.2)).toBe(1);
    expect(autoThreads(2, 7.5)).toBe(1);
    expect(autoThreads(16, 3)).toBe(13);
    expect(autoThreads(4, 0)).toBe(4);
  });
});
