/**
 * The thread pool of the WebAssembly kernels: the calling thread and threads−1 workers, each with its own
 * instance of the module on the one shared memory. A parallel call is cut into chunks (argument lists);
 * the caller writes them into the control block's table (wasm_protocol.ts), bumps a generation counter and
 * notifies. Every thread, the caller included, then claims chunks until none are left, and the caller
 * waits until all are done. Workers busy-wait briefly for the next generation, then sleep in Atomics.wait.
 * Claiming (rather than one fixed share per thread) means a worker that is slow to wake, or descheduled
 * by another process, leaves its chunks to the others instead of stalling the call.
 * Atomics.wait is allowed on Node's main thread and in browser workers; on a browser's main thread the
 * caller spins instead.
 *
 * The workers run src/kernels/wasm_worker.ts, bundled by scripts/build_worker.mjs into script text
 * (WORKER_SOURCE), started by a WorkerSpawner: Web Workers from a Blob URL by default, worker_threads eval
 * workers in Node (spawnNodeWorker of wasm_node.ts).
 */
import { PolyrnnError } from "../errors.js";
import { WASM_EXPORT_PARAMS, type WasmExports } from "./wasm_exports.js";
import {
  CHUNK_BYTES,
  CLOSED,
  COUNT,
  chunkTable,
  chunkText,
  claimChunk,
  controlWords,
  DONE,
  FAILED,
  GEN,
  NEXT,
  OP,
  OP_EXIT,
  PROBE,
  readErrorText,
  TAG_MASK,
  WORKER_OPS,
  type WorkerInit,
  type WorkerOp,
} from "./wasm_protocol.js";
import { WORKER_SOURCE } from "./wasm_worker_source.js";

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

/** Per worker op, the position of its scratch argument (the parameter named `work` in assembly/), or -1. */
const WORK_ARG = WORKER_OPS.map((op) => (WASM_EXPORT_PARAMS[op] as readonly string[]).indexOf("work"));

export interface ThreadPoolOptions {
  module: WebAssembly.Module;
  memory: WebAssembly.Memory;
  /** The calling thread's instance of `module` on `memory`. */
  exports: WasmExports;
  /** Byte offset of the control block (CONTROL_BYTES long). */
  ctrl: number;
  /** Threads including the caller; 1 starts no workers. */
  threads: number;
  /** Byte offset of thread t's gemm scratch area (t = 0: the caller). */
  work: (t: number) => number;
  /** How long a thread busy-waits before it sleeps in Atomics.wait, in milliseconds. */
  spinMs: number;
  /** Starts workers (default: Web Workers from a Blob URL). */
  spawnWorker?: WorkerSpawner;
}

export interface ThreadPool {
  /** Runs `op` once per chunk (argument lists, at most MAX_CHUNKS), on every thread; results in chunk order. */
  run(op: WorkerOp, chunks: number[][]): number[];
  /** Stops the workers; run throws afterwards. */
  dispose(): void;
}

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

/** Starts threads−1 workers on the control block at `ctrl` and resolves when each has said it is ready. */
export async function startThreadPool(options: ThreadPoolOptions): Promise<ThreadPool> {
  const { module, memory, exports: ex, ctrl, threads, work, spinMs } = options;
  const I = controlWords(memory, ctrl);
  const table = chunkTable(memory, ctrl);
  const errorText = chunkText(memory, ctrl);
  Atomics.store(I, NEXT, CLOSED);
  let tag = 0;
  let disposed = false;

  // Atomics.wait throws on a browser's main thread: spin there instead.
  let canWait = true;
  try {
    Atomics.wait(I, PROBE, 1, 0);
  } catch {
    canWait = false;
  }

  // Start the workers and wait for each to say it is ready.
  const handles: WorkerHandle[] = [];
  if (threads > 1) {
    const spawn = options.spawnWorker ?? defaultSpawner;
    const ready: Promise<void>[] = [];
    for (let s = 0; s < threads - 1; s++) {
      const h = spawn(WORKER_SOURCE);
      handles.push(h);
      ready.push(
        new Promise<void>((resolve, reject) => {
          h.onMessage((m) => (m === "ready" ? resolve() : undefined));
          h.onError(reject);
        }),
      );
      const init: WorkerInit = {
        module,
        memory,
        ctrl,
        work: work(s + 1),
        ops: WORKER_OPS,
        workArg: WORK_ARG,
        spinMs,
      };
      h.postMessage(init);
    }
    try {
      await Promise.all(ready);
    } catch (e) {
      for (const h of handles) h.terminate();
      throw e;
    }
    for (const h of handles) h.unref?.();
  }

  function run(op: WorkerOp, chunks: number[][]): number[] {
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
      throw kernelError(op, " in a worker thread", readErrorText(errorText, failed - 1) || "no reason given");
    }
    const results: number[] = [];
    for (let c = 0; c < count; c++) results.push(table[(c * CHUNK_BYTES) / 8]);
    return results;
  }

  function dispose(): void {
    if (disposed) return;
    disposed = true;
    Atomics.store(I, OP, OP_EXIT);
    Atomics.add(I, GEN, 1);
    Atomics.notify(I, GEN);
    for (const h of handles) h.terminate();
    handles.length = 0;
  }

  return { run, dispose };
}

/**
 * A kernel that threw (a WebAssembly trap such as "memory access out of bounds", or a worker's exception):
 * a PolyrnnError of one line that names the kernel and the cause, so that a command reports it without an
 * internal stack trace.
 */
function kernelError(op: string, where: string, cause: string): PolyrnnError {
  return new PolyrnnError(`the ${op} kernel failed${where}: ${cause.split("\n")[0]}`);
}
