/**
 * The fast kernels: the WebAssembly build of assembly/ (SIMD; relaxed SIMD where the runtime has it) on
 * one shared WebAssembly.Memory, with the matrix products (and the large row-wise kernels) split over
 * worker threads that instantiate the same module on the same memory. Runs in Node and in browsers:
 * this module takes the .wasm bytes and a way to start workers; src/kernels/wasm_node.ts supplies both
 * for Node, and a page supplies the fetched bytes (the default worker starter uses Web Workers).
 *
 *   const k = await createWasmKernelsFromBinaries({ simd, relaxedSimd }, { threads: 4 });
 *
 * This module lays out the memory, decides which calls run in parallel and how they are cut into chunks,
 * and maps the Kernels contract (offsets in elements) onto the exports (wasm_exports.ts: byte offsets).
 * The threads are wasm_pool.ts's (the workers: wasm_worker.ts), the heap wasm_arena.ts's.
 *
 * Memory layout (bytes): [control block][one gemm scratch area per thread][the arena: alloc/mark/release].
 */

import { lstmBackwardBySteps, lstmForwardBySteps, type StepOps } from "./lstm_steps.js";
import type { Kernels } from "./types.js";
import { type Arena, createArena, PAGE } from "./wasm_arena.js";
import type { WasmExports } from "./wasm_exports.js";
import { startThreadPool, type ThreadPool, type WorkerSpawner } from "./wasm_pool.js";
import { CONTROL_BYTES, MAX_CHUNKS } from "./wasm_protocol.js";

/** The compiled kernels: plain WebAssembly SIMD, and optionally the relaxed-SIMD build (fused multiply-add). */
export interface WasmBinaries {
  /** The SIMD build (`wasm/kernels.wasm`): runs wherever WebAssembly SIMD does. */
  simd: BufferSource;
  /** The relaxed-SIMD build (`wasm/kernels-relaxed.wasm`), used instead where the runtime supports relaxed SIMD. */
  relaxedSimd?: BufferSource;
}

export interface WasmKernelOptions {
  /** Threads including the caller (default: the hardware's parallelism). 1 = no workers. */
  threads?: number;
  /** "auto" (default): relaxed SIMD when given and supported; "simd": always the plain build. */
  simd?: "auto" | "simd" | "relaxed";
  /** Largest the memory may grow to, in MiB (default 4096, the wasm32 limit). */
  maxMemoryMiB?: number;
  /** Starts workers (default: Web Workers from a Blob URL). */
  spawnWorker?: WorkerSpawner;
  /** Products below this many flops (2·m·n·k) stay on the calling thread. */
  gemmParallelMinFlops?: number;
  /** Row-wise kernels (LSTM cell, softmax) below this many elements stay on the calling thread. */
  rowsParallelMinElements?: number;
  /**
   * How long a thread busy-waits for the next job (workers) or for the workers (caller) before it sleeps
   * in Atomics.wait (default 200 µs: waking a sleeping thread costs tens of µs, more than a small product).
   */
  spinMicroseconds?: number;
  /** The hardware's parallelism, when the caller knows it better than navigator.hardwareConcurrency. */
  hardwareConcurrency?: number;
}

/** The WebAssembly kernels (what `createKernels` returns when they load). */
export interface WasmKernels extends Kernels {
  /** Threads in use, the caller included. */
  readonly threads: number;
  /** Which build runs: "relaxed-simd" or "simd". */
  readonly simd: "relaxed-simd" | "simd";
  /** The shared memory (to hand to other workers, or to inspect). */
  readonly memory: WebAssembly.Memory;
}

// Measured on the 2-core Zen 4 machine (bench/README-kernels.md): with the workers awake, 2 threads win
// from ~0.05 MFLOP on; a sleeping worker takes 30–40 µs to wake, and with the other core busy (load 4 on
// 2 cores, best of 9, relaxed) 2 threads lost up to ~10 MFLOP (64×256×64: 41 µs on 1 thread, 44 on 2;
// 64×256×256: 166 vs 171; 8×1024×512 won once, 149 vs 240) and won clearly above (64×1024×256: 708 vs
// 386), so below 4 MFLOP a product stays on the calling thread. Rechecked for 2×64 training (load 3.3–4.5,
// best of 9, relaxed): 64×256×64 (2.1 MFLOP, the recurrent step) 50.5 vs 46.5 GFLOP/s on 1 vs 2 threads,
// 64×256×128 (4.2) 50.8 vs 49.4, and no larger shape won either with the other core busy; bench:train
// 2×64 synthetic: 78.3k tokens/s on 1 thread, 56.5k on 2. Nothing argues for a lower threshold; 4 MFLOP
// stays (2×64's per-step products stay on one thread). The LSTM cell of a 64×64 layer (16K gate elements)
// takes 32 µs alone, 20 µs on two.
const DEFAULT_GEMM_PARALLEL_MIN_FLOPS = 1 << 22;
// NN/TN products of at most this many rows run the unpacked path of assembly/gemm.ts, bound by streaming
// op(B) = B: they never gained from a second thread (1×1024×771: 109 µs on 1 thread, 157 on 2;
// 4×1024×1024: 239 vs 248), so they always stay on the calling thread (generation with one sequence).
const GEMM_SINGLE_THREAD_MAX_ROWS = 4;
const DEFAULT_ROWS_PARALLEL_MIN_ELEMENTS = 1 << 13;
const DEFAULT_SPIN_MICROSECONDS = 200;

// Micro-kernel tile of assembly/gemm.ts: splits of C fall on these multiples.
const MR = 4;
const NR = 8;

/** Whether this runtime validates the relaxed-SIMD build. */
export function supportsRelaxedSimd(binaries: WasmBinaries): boolean {
  return binaries.relaxedSimd !== undefined && WebAssembly.validate(binaries.relaxedSimd);
}

export async function createWasmKernelsFromBinaries(
  binaries: WasmBinaries,
  options: WasmKernelOptions = {},
): Promise<WasmKernels> {
  const mode = options.simd ?? "auto";
  const relaxed = mode !== "simd" && supportsRelaxedSimd(binaries);
  if (mode === "relaxed" && !relaxed) throw new Error("this runtime does not support relaxed SIMD");
  const bytes = relaxed ? (binaries.relaxedSimd as BufferSource) : binaries.simd;
  const module = await WebAssembly.compile(bytes);

  const hw =
    options.hardwareConcurrency ??
    (globalThis as { navigator?: { hardwareConcurrency?: number } }).navigator?.hardwareConcurrency ??
    1;
  const threads = Math.max(1, Math.floor(options.threads ?? hw));

  // Lay out the fixed part; the arena follows it.
  // (Asynchronous instantiation: browsers refuse the synchronous one for modules over 4 KB on a page's
  // main thread.)
  const probe = (
    await WebAssembly.instantiate(module, {
      env: { memory: new WebAssembly.Memory({ initial: 1, maximum: 1, shared: true }) },
    })
  ).exports as unknown as WasmExports;
  const workBytes = probe.gemm_work_floats() * 4;
  const ctrl = 1024; // byte 0 stays unused: offset 0 never names a tensor
  const workBase = alignUp(ctrl + CONTROL_BYTES, 4096);
  const arenaBase = alignUp(workBase + threads * workBytes, 4096) / 4;
  const maxPages = Math.min(65536, Math.floor(((options.maxMemoryMiB ?? 4096) * 1024 * 1024) / PAGE));
  const initialPages = Math.min(maxPages, Math.ceil((arenaBase * 4 + (16 << 20)) / PAGE));
  const memory = new WebAssembly.Memory({ initial: initialPages, maximum: maxPages, shared: true });
  const ex = (await WebAssembly.instantiate(module, { env: { memory } })).exports as unknown as WasmExports;
  const work = (t: number): number => workBase + t * workBytes;

  const pool = await startThreadPool({
    module,
    memory,
    exports: ex,
    ctrl,
    threads,
    work,
    spinMs: (options.spinMicroseconds ?? DEFAULT_SPIN_MICROSECONDS) / 1000,
    ...(options.spawnWorker ? { spawnWorker: options.spawnWorker } : {}),
  });
  const arena = createArena(memory, arenaBase, maxPages);

  return {
    name: relaxed ? "wasm-relaxed-simd" : "wasm-simd",
    threads,
    simd: relaxed ? "relaxed-simd" : "simd",
    memory,
    ...arena,
    ...kernelOps(ex, pool.run, work(0), arena, {
      threads,
      gemmMinFlops: options.gemmParallelMinFlops ?? DEFAULT_GEMM_PARALLEL_MIN_FLOPS,
      rowsMinElements: options.rowsParallelMinElements ?? DEFAULT_ROWS_PARALLEL_MIN_ELEMENTS,
    }),
    dispose: pool.dispose,
  };
}

/** When a call is split over the threads. */
interface Parallelism {
  threads: number;
  /** Products below this many flops stay on the calling thread. */
  gemmMinFlops: number;
  /** Row-wise kernels below this many elements stay on the calling thread. */
  rowsMinElements: number;
}

/** The Kernels operations (all but the arena's and dispose). */
type KernelOps = Omit<Kernels, "name" | "f32" | "i32" | "alloc" | "mark" | "release" | "dispose">;

/**
 * The Kernels operations on one instance's exports: offsets in elements become byte offsets, and the
 * calls large enough to gain are cut into chunks for `parallel` (the pool's run) instead of running on the
 * calling thread. `work`: the calling thread's gemm scratch area (bytes); `arena`: the heap (the recurrent
 * loop packs W_h there for the call).
 */
function kernelOps(
  ex: WasmExports,
  parallel: ThreadPool["run"],
  work: number,
  arena: Arena,
  { threads, gemmMinFlops, rowsMinElements }: Parallelism,
): KernelOps {
  const workers = threads - 1;
  const i32 = arena.i32;
  const ops: KernelOps = {
    gemm(transA, transB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc): void {
      const ta = transA ? 1 : 0;
      const tb = transB ? 1 : 0;
      if (workers === 0 || 2 * m * n * k < gemmMinFlops || (!transB && m <= GEMM_SINGLE_THREAD_MAX_ROWS)) {
        ex.gemm(ta, tb, m, n, k, alpha, a * 4, lda, b * 4, ldb, beta, c * 4, ldc, work);
        return;
      }
      // Split C into row blocks when it is tall, column blocks when it is wide (in tiles). Large products
      // get a few chunks per thread (balance, and room for a late worker); small ones one each, as every
      // chunk packs its own copy of the shared operand.
      const flops = 2 * m * n * k;
      const pieces = threads * (flops >= 32e6 ? 3 : 1);
      const chunks: number[][] = [];
      if (m / MR >= n / NR) {
        for (const [i0, i1] of split(m, MR, pieces)) {
          const aa = transA ? a + i0 : a + i0 * lda;
          chunks.push([
            ta,
            tb,
            i1 - i0,
            n,
            k,
            alpha,
            aa * 4,
            lda,
            b * 4,
            ldb,
            beta,
            (c + i0 * ldc) * 4,
            ldc,
            0,
          ]);
        }
      } else {
        for (const [j0, j1] of split(n, NR, pieces)) {
          const bb = transB ? b + j0 * ldb : b + j0;
          chunks.push([ta, tb, m, j1 - j0, k, alpha, a * 4, lda, bb * 4, ldb, beta, (c + j0) * 4, ldc, 0]);
        }
      }
      if (chunks.length === 1) {
        chunks[0][13] = work;
        ex.gemm(...(chunks[0] as Parameters<WasmExports["gemm"]>));
      } else {
        parallel("gemm", chunks);
      }
    },

    gemmPackedSize(k, n): number {
      return ex.gemm_packed_floats(k, n);
    },

    packGemmB(k, n, b, ldb, out): void {
      ex.gemm_pack_b(0, k, n, b * 4, ldb, out * 4);
    },

    gemmPacked(transA, m, n, k, alpha, a, lda, packedB, beta, c, ldc): void {
      const ta = transA ? 1 : 0;
      if (workers === 0 || 2 * m * n * k < gemmMinFlops || n < 2 * NR) {
        ex.gemm_packed(ta, m, n, k, alpha, a * 4, lda, packedB * 4, beta, c * 4, ldc, work, 0, n);
        return;
      }
      // Column blocks (whole panels): every chunk packs its own copy of A, which is small here.
      const chunks = split(n, NR, threads).map(([j0, j1]) => [
        ta,
        m,
        n,
        k,
        alpha,
        a * 4,
        lda,
        packedB * 4,
        beta,
        c * 4,
        ldc,
        0,
        j0,
        j1,
      ]);
      parallel("gemm_packed", chunks);
    },

    embeddingForward(rows, width, ids, table, bias, out): void {
      ex.embedding_forward(
        rows,
        width,
        ids * 4,
        table * 4,
        bias >= 0 ? bias * 4 : 0,
        bias >= 0 ? 1 : 0,
        out * 4,
      );
    },

    embeddingBackward(rows, width, ids, dOut, dTable): void {
      ex.embedding_backward(rows, width, ids * 4, dOut * 4, dTable * 4);
    },

    addBias(rows, width, bias, out): void {
      ex.add_bias(rows, width, bias * 4, out * 4);
    },

    biasBackward(rows, width, dOut, dBias): void {
      ex.bias_backward(rows, width, dOut * 4, dBias * 4, work);
    },

    lstmCellForward(rows, hidden, forgetBias, gates, cPrev, c, h): void {
      const H = hidden;
      if (workers === 0 || rows < 2 || rows * 4 * H < rowsMinElements) {
        ex.lstm_forward(rows, H, forgetBias, gates * 4, cPrev * 4, c * 4, h * 4);
        return;
      }
      const parts = split(rows, 1, threads * 2).map(([r0, r1]) => [
        r1 - r0,
        H,
        forgetBias,
        (gates + r0 * 4 * H) * 4,
        (cPrev + r0 * H) * 4,
        (c + r0 * H) * 4,
        (h + r0 * H) * 4,
      ]);
      parallel("lstm_forward", parts);
    },

    lstmCellBackward(rows, hidden, gates, cPrev, c, dh, dc, dGates, dcPrev): void {
      const H = hidden;
      if (workers === 0 || rows < 2 || rows * 4 * H < rowsMinElements) {
        ex.lstm_backward(rows, H, gates * 4, cPrev * 4, c * 4, dh * 4, dc * 4, dGates * 4, dcPrev * 4);
        return;
      }
      const parts = split(rows, 1, threads * 2).map(([r0, r1]) => [
        r1 - r0,
        H,
        (gates + r0 * 4 * H) * 4,
        (cPrev + r0 * H) * 4,
        (c + r0 * H) * 4,
        (dh + r0 * H) * 4,
        (dc + r0 * H) * 4,
        (dGates + r0 * 4 * H) * 4,
        (dcPrev + r0 * H) * 4,
      ]);
      parallel("lstm_backward", parts);
    },

    dropoutForward(n, keep, seed, x, out): void {
      dropout(n, keep, seed, x, out);
    },

    dropoutBackward(n, keep, seed, dOut, dIn): void {
      // y = x·mask/keep is linear: its backward is the same map.
      dropout(n, keep, seed, dOut, dIn);
    },

    softmaxCrossEntropy(rows, classes, logits, labels, scale, dLogits, losses, preds): number {
      // Labels are checked here (the kernel would read outside the row).
      const Iv = i32();
      for (let r = 0; r < rows; r++) {
        const label = Iv[labels + r];
        if (label >= classes) throw new RangeError(`softmaxCrossEntropy: label ${label} ≥ ${classes}`);
      }
      if (workers === 0 || rows < 2 || rows * classes < rowsMinElements) {
        return ex.softmax_xent(
          rows,
          classes,
          logits * 4,
          labels * 4,
          scale,
          dLogits * 4,
          losses * 4,
          preds * 4,
        );
      }
      const parts = split(rows, 1, threads * 2).map(([r0, r1]) => [
        r1 - r0,
        classes,
        (logits + r0 * classes) * 4,
        (labels + r0) * 4,
        scale,
        (dLogits + r0 * classes) * 4,
        (losses + r0) * 4,
        (preds + r0) * 4,
      ]);
      let total = 0;
      for (const t of parallel("softmax_xent", parts)) total += t;
      return total;
    },

    copyRows(rows, width, src, lds, dst, ldd): void {
      ex.copy_rows(rows, width, src * 4, lds, dst * 4, ldd);
    },

    logSoftmax(rows, classes, temperature, logits, out): void {
      ex.log_softmax(rows, classes, temperature, logits * 4, out * 4);
    },

    sampleClasses(rows, classes, logProbs, uniforms, greedy, out): void {
      ex.sample(rows, classes, logProbs * 4, uniforms * 4, greedy ? 1 : 0, out * 4);
    },

    sumSquares(n, x): number {
      return ex.sum_squares(n, x * 4);
    },

    scale(n, s, x): void {
      ex.scale(n, s, x * 4);
    },

    add(n, x, y): void {
      ex.add(n, x * 4, y * 4);
    },

    adam(n, lrT, beta1, beta2, epsilon, p, g, m, v): void {
      ex.adam(n, lrT, beta1, beta2, epsilon, p * 4, g * 4, m * 4, v * 4);
    },

    lstmRecurrentForward(steps, batch, hidden, forgetBias, stepRows, wh, packedWh, gates, c, h): void {
      if (steps <= 1) {
        lstmForwardBySteps(stepOps, steps, batch, hidden, forgetBias, stepRows, wh, packedWh, gates, c, h);
        return;
      }
      const G = 4 * hidden;
      const mark = arena.mark();
      try {
        let whp = packedWh;
        if (whp < 0) {
          whp = arena.alloc(ex.gemm_packed_floats(hidden, G));
          ex.gemm_pack_b(0, hidden, G, wh * 4, G, whp * 4);
        }
        const head = [
          steps,
          batch,
          hidden,
          forgetBias,
          stepRows * 4,
          wh * 4,
          whp * 4,
          gates * 4,
          c * 4,
          h * 4,
        ];
        recurrent("lstm_recurrent_forward", head, steps, stepRows, hidden);
      } finally {
        arena.release(mark);
      }
    },

    lstmRecurrentBackward(steps, batch, hidden, stepRows, wh, gates, c, dh, dc, dGates): void {
      if (steps <= 1) {
        lstmBackwardBySteps(stepOps, steps, batch, hidden, stepRows, wh, gates, c, dh, dc, dGates);
        return;
      }
      const G = 4 * hidden;
      const mark = arena.mark();
      try {
        const whtp = arena.alloc(ex.gemm_packed_floats(G, hidden));
        ex.gemm_pack_b(1, G, hidden, wh * 4, G, whtp * 4);
        const head = [
          steps,
          batch,
          hidden,
          stepRows * 4,
          whtp * 4,
          gates * 4,
          c * 4,
          dh * 4,
          dc * 4,
          dGates * 4,
        ];
        recurrent("lstm_recurrent_backward", head, steps, stepRows, hidden);
      } finally {
        arena.release(mark);
      }
    },
  };
  const stepOps: StepOps = {
    i32,
    gemm: ops.gemm,
    gemmPacked: ops.gemmPacked,
    lstmCellForward: ops.lstmCellForward,
    lstmCellBackward: ops.lstmCellBackward,
  };
  return ops;

  /**
   * Runs a recurrent-loop export (arguments `head`, then the rows r0, r1 and work) over a chunk: on the
   * calling thread when the products are small, else in ranges of rows for the whole chunk (no barrier
   * between steps, assembly/recurrent.ts), about two per thread, the longest sequences' first: a thread
   * that finishes its range early claims the next one, so the threads stay even as sequences end.
   */
  function recurrent(
    op: "lstm_recurrent_forward" | "lstm_recurrent_backward",
    head: number[],
    steps: number,
    stepRows: number,
    hidden: number,
  ): void {
    const Iv = i32();
    const first = Iv[stepRows];
    let positions = 0;
    for (let s = 0; s < steps; s++) positions += Iv[stepRows + s];
    if (workers === 0 || first < 2 * MR || 8 * positions * hidden * hidden < gemmMinFlops) {
      (ex[op] as (...args: number[]) => void)(...head, 0, first, work);
      return;
    }
    const ranges = split(first, MR, 2 * threads).map(([r0, r1]) => [...head, r0, r1, 0]);
    parallel(op, ranges);
  }

  function dropout(n: number, keep: number, seed: number, x: number, out: number): void {
    const keepAll = keep >= 1;
    const threshold = keepAll ? 0 : dropoutThreshold(keep);
    ex.dropout(n, keepAll ? 1 : 0, threshold, 1 / keep, seed, 0, x * 4, out * 4);
  }
}

/** Splits [0, total) into at most `parts` runs, multiples of `unit` except the last. */
function split(total: number, unit: number, parts: number): [number, number][] {
  const units = Math.ceil(total / unit);
  const n = Math.max(1, Math.min(parts, units, MAX_CHUNKS));
  const out: [number, number][] = [];
  let start = 0;
  for (let p = 0; p < n; p++) {
    const end = Math.min(total, Math.round(((p + 1) * units) / n) * unit);
    if (end > start) out.push([start, end]);
    start = end;
  }
  return out;
}

/** min(floor(keep·2³²), 2³² − 1): the unsigned hash threshold (as in reference.ts); NaN keeps nothing. */
function dropoutThreshold(keep: number): number {
  const t = Math.min(Math.floor(keep * 2 ** 32), 2 ** 32 - 1);
  if (!(t > 0)) return 0; // keep ≤ 0 or NaN
  return t;
}

function alignUp(x: number, a: number): number {
  return Math.ceil(x / a) * a;
}
