/**
 * A worker thread of the WebAssembly kernels: instantiates the module on the shared memory, says "ready",
 * then loops on the generation counter, claiming and running chunks of each call (wasm_protocol.ts).
 *
 * Not imported by anything: scripts/build_worker.mjs bundles it (with wasm_protocol.ts) into one classic
 * script, shipped as a string (dist/kernels/wasm_worker_source.js) that wasm_pool.ts starts as a Node eval
 * worker or a Blob-URL Web Worker alike, so that no bundler has to find or transform a worker file.
 */
import {
  CHUNK_BYTES,
  chunkTable,
  chunkText,
  claimChunk,
  controlWords,
  DONE,
  FAILED,
  GEN,
  MAX_ARGS,
  OP,
  OP_EXIT,
  type WorkerInit,
  writeErrorText,
} from "./wasm_protocol.js";

type Fn = (...args: number[]) => number;

function start(init: WorkerInit, port: { postMessage(message: unknown): void }): void {
  const { module, memory, ctrl, work, ops, workArg, spinMs } = init;
  const instance = new WebAssembly.Instance(module, { env: { memory } });
  const fns = ops.map((name) => instance.exports[name] as Fn);
  const I = controlWords(memory, ctrl);
  const T = chunkTable(memory, ctrl);
  const U = chunkText(memory, ctrl);
  const a = new Float64Array(MAX_ARGS);
  let seen = Atomics.load(I, GEN);
  port.postMessage("ready");
  for (;;) {
    let g = Atomics.load(I, GEN);
    if (g === seen) {
      const until = performance.now() + spinMs;
      do {
        for (let s = 0; s < 256 && g === seen; s++) g = Atomics.load(I, GEN);
      } while (g === seen && performance.now() < until);
    }
    while (g === seen) {
      Atomics.wait(I, GEN, seen);
      g = Atomics.load(I, GEN);
    }
    seen = g;
    if (Atomics.load(I, OP) === OP_EXIT) break;
    for (;;) {
      const c = claimChunk(I);
      if (c < 0) break;
      // Read after the claim: a late worker may be claiming a chunk of a later call than it woke for.
      const op = Atomics.load(I, OP);
      const fn = fns[op];
      const base = (c * CHUNK_BYTES) / 8;
      for (let i = 0; i < MAX_ARGS; i++) a[i] = T[base + 1 + i];
      if (workArg[op] >= 0) a[workArg[op]] = work;
      try {
        T[base] = fn(
          a[0],
          a[1],
          a[2],
          a[3],
          a[4],
          a[5],
          a[6],
          a[7],
          a[8],
          a[9],
          a[10],
          a[11],
          a[12],
          a[13],
          a[14],
          a[15],
        );
      } catch (e) {
        // Only the first failure of a call is kept: its text goes into the chunk's slot for the caller.
        if (Atomics.compareExchange(I, FAILED, 0, c + 1) === 0) writeErrorText(U, c, errorText(e));
      }
      Atomics.add(I, DONE, 1);
      Atomics.notify(I, DONE);
    }
  }
}

function errorText(e: unknown): string {
  try {
    return e instanceof Error ? `${e.name}: ${e.message}` : String(e);
  } catch {
    return "an exception";
  }
}

// A Node eval worker (worker_threads: the script's globals include `require`) or a Web Worker (`self`).
const nodeRequire = (globalThis as { require?: NodeJS.Require }).require;
if (typeof nodeRequire === "function" && typeof process === "object" && process.versions?.node) {
  const { parentPort } = nodeRequire("node:worker_threads") as typeof import("node:worker_threads");
  if (parentPort) parentPort.once("message", (init: WorkerInit) => start(init, parentPort));
} else {
  self.onmessage = (e: MessageEvent<WorkerInit>) => {
    self.onmessage = null;
    start(e.data, self);
  };
}
