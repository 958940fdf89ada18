/**
 * The fast kernels: the WebAssembly build of assembly/ (SIMD; relaxed SIMD where the runtime has it) on
 * one shared WebAssembly.Memory, with the matrix products (and the large row-wise kernels) split over
 * worker threads that instantiate the same module on the same memory. Runs in Node and in browsers:
 * this module takes the .wasm bytes and a way to start workers; src/kernels/wasm_node.ts supplies both
 * for Node, and a page supplies the fetched bytes (the default worker starter uses Web Workers).
 *
 *   const k = await createWasmKernelsFromBinaries({ simd, relaxedSimd }, { threads: 4 });
 *
 * Threads: the calling thread and threads−1 workers. A parallel call is cut into chunks (row or column
 * blocks of C, row blocks of the LSTM cell and softmax); the caller writes them into a table in a control
 * block at the start of the memory, bumps a generation counter and notifies. Every thread, the caller
 * included, then claims chunks (a compare-and-swap on a shared index tagged with the call: claimChunk)
 * until none are left, and the caller waits until all are done. Workers busy-wait briefly for the next
 * generation, then sleep in Atomics.wait.
 * Claiming (rather than one fixed share per thread) means a worker that is slow to wake, or descheduled
 * by another process, leaves its chunks to the others instead of stalling the call.
 * Atomics.wait is allowed on Node's main thread and in browser workers; on a browser's main thread the
 * caller spins instead.
 *
 * Memory layout (bytes): [control block][one gemm scratch area per thread][the arena: alloc/mark/release].
 */
import { PolyrnnError } from "../errors.js";
import { kernelMemoryError } from "../limits.js";
import type { Kernels } from "./types.js";

/** The compiled kernels: plain WebAssembly SIMD, and optionally the relaxed-SIMD build (fused multiply-add). */
export interface WasmBinaries {
  simd: BufferSource;
  relaxedSimd?: BufferSource;
}

/** A started worker, as far as these kernels need one (Node worker_threads or a Web Worker). */
export interface WorkerHandle {
  postMessage(message: unknown): void;
  onMessage(listener: (data: unknown) => void): void;
  onError(listener: (error: unknown) => void): void;
  terminate(): void;
  /** Lets the process exit while the worker sleeps (Node). */
  unref?(): void;
}

/** Starts a worker running `source` (classic script text). */
export type WorkerSpawner = (source: string) => WorkerHandle;

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

// Control block: Int32 words, then a table of chunks (256 bytes each: the result (f64), then up to 16
// arguments (f64)).
const GEN = 0; // bumped to start a call
const DONE = 1; // chunks finished in this call
const PROBE = 2; // never written: Atomics.wait on it tells whether this thread may wait
const NEXT = 3; // the call's tag (bits 8–30) and the next chunk to claim (bits 0–7); CLOSED: no call open
const COUNT = 4; // chunks in this call
const OP = 5; // what the chunks run (an index into WORKER_OPS), or OP_EXIT
const FAILED = 6; // 1 + the first chunk that threw in a worker (0: none); its slot holds the error text
const TABLE_BYTE = 64;
const CHUNK_BYTES = 256;
const MAX_ARGS = 16;
// In a chunk's slot, after the result and the arguments: a failed worker's error text (UTF-16 code units,
// the first one the length).
const ERROR_BYTE = 8 + MAX_ARGS * 8;
const ERROR_UNITS = (CHUNK_BYTES - ERROR_BYTE) / 2;
const MAX_CHUNKS = 64;
const OP_EXIT = -2;
// The low byte of NEXT when no call is open: above any chunk count (≤ MAX_CHUNKS), so nothing is claimed.
const CLOSED = 255;
const TAG_MASK = 0x7fffff; // tags wrap after 2²³ calls (NEXT stays a positive Int32)

/** Exports the workers may run, by index, with the position of their scratch (`work`) argument or -1. */
const WORKER_OPS = ["gemm", "lstm_forward", "lstm_backward", "softmax_xent", "gemm_packed"] as const;
const WORK_ARG = [13, -1, -1, -1, 11];
type WorkerOp = (typeof WORKER_OPS)[number];

interface Exports {
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
  gemm_work_floats(): number;
  gemm_packed_floats(k: number, n: number): number;
  gemm_pack_b(k: number, n: number, b: number, ldb: number, bp: number): void;
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
  embedding_forward(
    rows: number,
    width: number,
    ids: number,
    table: number,
    bias: number,
    hasBias: number,
    out: number,
  ): void;
  embedding_backward(rows: number, width: number, ids: number, dOut: number, dTable: number): void;
  add_bias(rows: number, width: number, bias: number, out: number): void;
  bias_backward(rows: number, width: number, dOut: number, dBias: number, work: number): void;
  lstm_forward(
    rows: number,
    hidden: number,
    forgetBias: number,
    gates: number,
    cPrev: number,
    c: number,
    h: number,
  ): void;
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
  lstm_forward_ld(
    rows: number,
    hidden: number,
    forgetBias: number,
    gates: number,
    cPrev: number,
    c: number,
    h: number,
    ld: number,
  ): void;
  copy_rows(rows: number, width: number, src: number, lds: number, dst: number, ldd: number): void;
  log_softmax(rows: number, classes: number, temperature: number, logits: number, out: number): void;
  sample(
    rows: number,
    classes: number,
    logProbs: number,
    uniforms: number,
    greedy: number,
    out: number,
  ): void;
  sum_squares(n: number, x: number): number;
  scale(n: number, s: number, x: number): void;
  add(n: number, x: number, y: number): void;
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
}

/**
 * The worker: instantiates the module on the shared memory, says "ready", then loops on the generation
 * counter. Plain script text so that it runs as a Node eval worker and as a Blob-URL Web Worker alike.
 */
const WORKER_SOURCE = `"use strict";
const nodeWorker = typeof require === "function" && typeof process === "object" && !!process.versions && !!process.versions.node;
const port = nodeWorker ? require("node:worker_threads").parentPort : self;
function start(init) {
  const { module, memory, ctrl, work, ops, workArg, spinMs } = init;
  const instance = new WebAssembly.Instance(module, { env: { memory } });
  const fns = ops.map((name) => instance.exports[name]);
  const I = new Int32Array(memory.buffer, ctrl, ${TABLE_BYTE / 4});
  const T = new Float64Array(memory.buffer, ctrl + ${TABLE_BYTE}, ${(MAX_CHUNKS * CHUNK_BYTES) / 8});
  const a = new Float64Array(${MAX_ARGS});
  const U = new Uint16Array(memory.buffer, ctrl + ${TABLE_BYTE}, ${(MAX_CHUNKS * CHUNK_BYTES) / 2});
  // Claims the next chunk of the open call (see claimChunk in wasm.ts, the same protocol); -1: none left.
  const claim = () => {
    for (;;) {
      const v = Atomics.load(I, ${NEXT});
      const c = v & 255;
      if (c >= Atomics.load(I, ${COUNT})) return -1;
      if (Atomics.compareExchange(I, ${NEXT}, v, v + 1) === v) return c;
    }
  };
  let seen = Atomics.load(I, ${GEN});
  port.postMessage("ready");
  for (;;) {
    let g = Atomics.load(I, ${GEN});
    if (g === seen) {
      const until = performance.now() + spinMs;
      do {
        for (let s = 0; s < 256 && g === seen; s++) g = Atomics.load(I, ${GEN});
      } while (g === seen && performance.now() < until);
    }
    while (g === seen) {
      Atomics.wait(I, ${GEN}, seen);
      g = Atomics.load(I, ${GEN});
    }
    seen = g;
    if (Atomics.load(I, ${OP}) === ${OP_EXIT}) break;
    for (;;) {
      const c = claim();
      if (c < 0) break;
      // Read after the claim: a late worker may be claiming a chunk of a later call than it woke for.
      const op = Atomics.load(I, ${OP});
      const fn = fns[op];
      const base = (c * ${CHUNK_BYTES}) / 8;
      for (let i = 0; i < ${MAX_ARGS}; i++) a[i] = T[base + 1 + i];
      if (workArg[op] >= 0) a[workArg[op]] = work;
      try {
        T[base] = fn(a[0], a[1], a[2], a[3], a[4], a[5], a[6], a[7], a[8], a[9], a[10], a[11], a[12], a[13], a[14], a[15]);
      } catch (e) {
        // Only the first failure of a call is kept: its text goes into the chunk's slot for the caller.
        if (Atomics.compareExchange(I, ${FAILED}, 0, c + 1) === 0) {
          let text = "";
          try {
            text = e instanceof Error ? e.name + ": " + e.message : String(e);
          } catch (_) {
            text = "an exception";
          }
          text = text.split("\\n")[0].slice(0, ${ERROR_UNITS - 1});
          const at = (c * ${CHUNK_BYTES} + ${ERROR_BYTE}) / 2;
          U[at] = text.length;
          for (let i = 0; i < text.length; i++) U[at + 1 + i] = text.charCodeAt(i);
        }
      }
      Atomics.add(I, ${DONE}, 1);
      Atomics.notify(I, ${DONE});
    }
  }
}
if (nodeWorker) port.once("message", start);
else self.onmessage = (e) => { self.onmessage = null; start(e.data); };
`;

function defaultSpawner(source: string): WorkerHandle {
  if (
    typeof Worker !== "function" ||
    typeof Blob !== "function" ||
    typeof URL?.createObjectURL !== "function"
  ) {
    throw new Error("no Web Workers here: pass spawnWorker, or threads: 1");
  }
  const url = URL.createObjectURL(new Blob([source], { type: "text/javascript" }));
  const w = new Worker(url);
  return {
    postMessage: (m) => w.postMessage(m),
    onMessage: (f) => w.addEventListener("message", (e: MessageEvent) => f(e.data)),
    onError: (f) => w.addEventListener("error", (e: ErrorEvent) => f(new Error(e.message))),
    terminate: () => {
      w.terminate();
      URL.revokeObjectURL(url);
    },
  };
}

/** Whether this runtime validates the relaxed-SIMD build. */
export function supportsRelaxedSimd(binaries: WasmBinaries): boolean {
  return binaries.relaxedSimd !== undefined && WebAssembly.validate(binaries.relaxedSimd);
}

const PAGE = 65536;
const ARENA_ALIGN = 16; // elements (64 bytes: a cache line; the contract asks for 16 bytes)

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
  const workers = threads - 1;
  const spinMs = (options.spinMicroseconds ?? DEFAULT_SPIN_MICROSECONDS) / 1000;
  const gemmMinFlops = options.gemmParallelMinFlops ?? DEFAULT_GEMM_PARALLEL_MIN_FLOPS;
  const rowsMinElements = options.rowsParallelMinElements ?? DEFAULT_ROWS_PARALLEL_MIN_ELEMENTS;

  // Lay out the fixed part; the arena follows it.
  const ctrlBytes = TABLE_BYTE + MAX_CHUNKS * CHUNK_BYTES;
  // (Asynchronous instantiation: browsers refuse the synchronous one for modules over 4 KB on a page's
  // main thread.)
  const probe = (
    await WebAssembly.instantiate(module, {
      env: { memory: new WebAssembly.Memory({ initial: 1, maximum: 1, shared: true }) },
    })
  ).exports as unknown as Exports;
  const workBytes = probe.gemm_work_floats() * 4;
  const ctrl = 1024; // byte 0 stays unused: offset 0 never names a tensor
  const workBase = alignUp(ctrl + ctrlBytes, 4096);
  const arenaBase = alignUp(workBase + threads * workBytes, 4096) / 4;
  const maxPages = Math.min(65536, Math.floor(((options.maxMemoryMiB ?? 4096) * 1024 * 1024) / PAGE));
  const initialPages = Math.min(maxPages, Math.ceil((arenaBase * 4 + (16 << 20)) / PAGE));
  const memory = new WebAssembly.Memory({ initial: initialPages, maximum: maxPages, shared: true });
  const ex = (await WebAssembly.instantiate(module, { env: { memory } })).exports as unknown as Exports;

  const I = new Int32Array(memory.buffer, ctrl, TABLE_BYTE / 4);
  const table = new Float64Array(memory.buffer, ctrl + TABLE_BYTE, (MAX_CHUNKS * CHUNK_BYTES) / 8);
  const errorText = new Uint16Array(memory.buffer, ctrl + TABLE_BYTE, (MAX_CHUNKS * CHUNK_BYTES) / 2);
  Atomics.store(I, NEXT, CLOSED);
  let tag = 0;
  const work = (t: number): number => workBase + t * workBytes;

  // Atomics.wait throws on a browser's main thread: spin there instead.
  let canWait = true;
  try {
    Atomics.wait(I, PROBE, 1, 0);
  } catch {
    canWait = false;
  }

  // Start the workers and wait for each to say it is ready.
  const handles: WorkerHandle[] = [];
  if (workers > 0) {
    const spawn = options.spawnWorker ?? defaultSpawner;
    const ready: Promise<void>[] = [];
    for (let s = 0; s < workers; s++) {
      const h = spawn(WORKER_SOURCE);
      handles.push(h);
      ready.push(
        new Promise<void>((resolve, reject) => {
          h.onMessage((m) => (m === "ready" ? resolve() : undefined));
          h.onError(reject);
        }),
      );
      h.postMessage({ module, memory, ctrl, work: work(s + 1), ops: WORKER_OPS, workArg: WORK_ARG, spinMs });
    }
    try {
      await Promise.all(ready);
    } catch (e) {
      for (const h of handles) h.terminate();
      throw e;
    }
    for (const h of handles) h.unref?.();
  }

  let F = new Float32Array(memory.buffer);
  let Iv = new Int32Array(memory.buffer);
  let top = arenaBase;
  let disposed = false;

  function refreshViews(): void {
    if (F.buffer.byteLength !== memory.buffer.byteLength) {
      F = new Float32Array(memory.buffer);
      Iv = new Int32Array(memory.buffer);
    }
  }

  /** Runs `op` once per chunk (argument lists), on every thread; returns the results in chunk order. */
  function parallel(op: WorkerOp, chunks: number[][]): number[] {
    if (disposed) throw new Error("the WebAssembly kernels were disposed");
    const code = WORKER_OPS.indexOf(op);
    const count = chunks.length;
    // NEXT is closed here (since the last call ended): nobody claims anything while the table, OP and
    // COUNT are rewritten. Opening it with a new tag starts the call.
    for (let c = 0; c < count; c++) table.set(chunks[c], (c * CHUNK_BYTES) / 8 + 1);
    Atomics.store(I, OP, code);
    Atomics.store(I, COUNT, count);
    Atomics.store(I, DONE, 0);
    tag = (tag + 1) & TAG_MASK;
    Atomics.store(I, NEXT, tag << 8);
    Atomics.add(I, GEN, 1);
    Atomics.notify(I, GEN);
    const fn = ex[op] as (...a: number[]) => number;
    const workArg = WORK_ARG[code];
    let error: unknown;
    for (;;) {
      const c = claimChunk(I);
      if (c < 0) break;
      const args = chunks[c];
      if (workArg >= 0) args[workArg] = work(0);
      try {
        table[(c * CHUNK_BYTES) / 8] = fn(...args);
      } catch (e) {
        error = e;
      }
      Atomics.add(I, DONE, 1);
    }
    let done = Atomics.load(I, DONE);
    if (done < count) {
      const until = performance.now() + spinMs;
      do {
        for (let s = 0; s < 256 && done < count; s++) done = Atomics.load(I, DONE);
      } while (done < count && performance.now() < until);
    }
    while (done < count) {
      if (canWait) Atomics.wait(I, DONE, done);
      done = Atomics.load(I, DONE);
    }
    Atomics.store(I, NEXT, (tag << 8) | CLOSED);
    const failed = Atomics.exchange(I, FAILED, 0);
    if (error !== undefined) {
      throw kernelError(op, "", error instanceof Error ? `${error.name}: ${error.message}` : String(error));
    }
    if (failed !== 0) {
      const at = ((failed - 1) * CHUNK_BYTES + ERROR_BYTE) / 2;
      const units = errorText.subarray(at + 1, at + 1 + Math.min(errorText[at], ERROR_UNITS - 1));
      throw kernelError(op, " in a worker thread", String.fromCharCode(...units) || "no reason given");
    }
    const results: number[] = [];
    for (let c = 0; c < count; c++) results.push(table[(c * CHUNK_BYTES) / 8]);
    return results;
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

  const kernels: WasmKernels = {
    name: relaxed ? "wasm-relaxed-simd" : "wasm-simd",
    threads,
    simd: relaxed ? "relaxed-simd" : "simd",
    memory,

    f32: () => F,
    i32: () => Iv,

    alloc(count: number): number {
      if (!Number.isInteger(count) || count < 0) throw new RangeError(`alloc: bad element count ${count}`);
      const offset = top;
      const end = offset + Math.ceil(count / ARENA_ALIGN) * ARENA_ALIGN;
      const needBytes = end * 4;
      if (needBytes > memory.buffer.byteLength) {
        const pages = Math.ceil((needBytes - memory.buffer.byteLength) / PAGE);
        const current = memory.buffer.byteLength / PAGE;
        // Grow by at least a quarter, so a growing model does not grow page by page.
        const want = Math.min(maxPages - current, Math.max(pages, Math.ceil(current / 4)));
        if (want < pages) {
          throw kernelMemoryError(needBytes - memory.buffer.byteLength, maxPages * (PAGE >> 20));
        }
        memory.grow(want);
        refreshViews();
      }
      F.fill(0, offset, end); // released memory is reused: zero it again
      top = end;
      return offset;
    },

    mark: () => top,

    release(mark: number): void {
      if (!Number.isInteger(mark) || mark < arenaBase || mark > top || mark % ARENA_ALIGN !== 0) {
        throw new RangeError(`release: ${mark} is not a mark of this arena (top ${top})`);
      }
      top = mark;
    },

    gemm(transA, transB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc): void {
      const ta = transA ? 1 : 0;
      const tb = transB ? 1 : 0;
      if (workers === 0 || 2 * m * n * k < gemmMinFlops || (!transB && m <= GEMM_SINGLE_THREAD_MAX_ROWS)) {
        ex.gemm(ta, tb, m, n, k, alpha, a * 4, lda, b * 4, ldb, beta, c * 4, ldc, work(0));
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
        chunks[0][13] = work(0);
        ex.gemm(...(chunks[0] as Parameters<Exports["gemm"]>));
      } else {
        parallel("gemm", chunks);
      }
    },

    gemmPackedSize(k, n): number {
      return ex.gemm_packed_floats(k, n);
    },

    packGemmB(k, n, b, ldb, out): void {
      ex.gemm_pack_b(k, n, b * 4, ldb, out * 4);
    },

    gemmPacked(transA, m, n, k, alpha, a, lda, packedB, beta, c, ldc): void {
      const ta = transA ? 1 : 0;
      if (workers === 0 || 2 * m * n * k < gemmMinFlops || n < 2 * NR) {
        ex.gemm_packed(ta, m, n, k, alpha, a * 4, lda, packedB * 4, beta, c * 4, ldc, work(0), 0, n);
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
      ex.bias_backward(rows, width, dOut * 4, dBias * 4, work(0));
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

    lstmCellForwardStrided(rows, hidden, forgetBias, gates, cPrev, c, h, ld): void {
      ex.lstm_forward_ld(rows, hidden, forgetBias, gates * 4, cPrev * 4, c * 4, h * 4, ld);
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

    dispose(): void {
      if (disposed) return;
      disposed = true;
      Atomics.store(I, OP, OP_EXIT);
      Atomics.add(I, GEN, 1);
      Atomics.notify(I, GEN);
      for (const h of handles) h.terminate();
      handles.length = 0;
    },
  };

  function dropout(n: number, keep: number, seed: number, x: number, out: number): void {
    const keepAll = keep >= 1;
    const threshold = keepAll ? 0 : dropoutThreshold(keep);
    ex.dropout(n, keepAll ? 1 : 0, threshold, 1 / keep, seed, 0, x * 4, out * 4);
  }

  return kernels;
}

/**
 * A kernel that threw (a WebAssembly trap such as "memory access out of bounds", or a worker's exception):
 * a PolyrnnError of one line that names the kernel and the cause, so that a command reports it without an
 * internal stack trace.
 */
function kernelError(op: string, where: string, cause: string): PolyrnnError {
  return new PolyrnnError(`the ${op} kernel failed${where}: ${cause.split("\n")[0]}`);
}

/** min(floor(keep·2³²), 2³² − 1): the unsigned hash threshold (as in reference.ts); NaN keeps nothing. */
function dropoutThreshold(keep: number): number {
  const t = Math.min(Math.floor(keep * 2 ** 32), 2 ** 32 - 1);
  if (!(t > 0)) return 0; // keep ≤ 0 or NaN
  return t;
}

/**
 * Claims the next chunk of the open call: its index, or -1 when none is left (or no call is open). The
 * claim is a compare-and-swap on NEXT, which holds the call's tag and the next index, so it can only
 * succeed while the call whose NEXT value was read is still open. (A plain Atomics.add on an index, as
 * before, let a worker that overshot the end of one call compare its stale index with the next call's
 * COUNT and run a chunk that another thread also claimed; the doubled DONE then let the caller return
 * before a chunk was finished: wrong results, now and then, on more than one thread.)
 *
 * COUNT is only rewritten while NEXT is closed, so a NEXT value that is open both when it is read and at
 * the successful swap belongs to the call whose COUNT was read between the two.
 */
function claimChunk(I: Int32Array): number {
  for (;;) {
    const v = Atomics.load(I, NEXT);
    const c = v & 255;
    if (c >= Atomics.load(I, COUNT)) return -1;
    if (Atomics.compareExchange(I, NEXT, v, v + 1) === v) return c;
  }
}

function alignUp(x: number, a: number): number {
  return Math.ceil(x / a) * a;
}
