/**
 * The WebAssembly kernels in Node: reads the committed wasm/kernels*.wasm (relative to the package root,
 * so it works from src/ under vitest and from dist/ in the built CLI) and starts worker_threads.
 *
 *   const k = await createWasmKernels({ threads: 2 });
 *
 * Node 20 validates relaxed SIMD only behind --experimental-wasm-relaxed-simd; the flag is switched on at
 * run time (before anything is compiled) and the plain SIMD build is used when that does not help.
 */
import { readFileSync } from "node:fs";
import { availableParallelism, loadavg } from "node:os";
import { setFlagsFromString } from "node:v8";
import { Worker } from "node:worker_threads";
import {
  createWasmKernelsFromBinaries,
  type WasmBinaries,
  type WasmKernelOptions,
  type WasmKernels,
} from "./wasm.js";
import type { WorkerHandle } from "./wasm_pool.js";

/** The folder of the committed .wasm files: <package root>/wasm (this file is in src/kernels or dist/kernels). */
export const WASM_DIR = new URL("../../wasm/", import.meta.url);

export function readWasmBinaries(): WasmBinaries {
  return {
    simd: readFileSync(new URL("kernels.wasm", WASM_DIR)),
    relaxedSimd: readFileSync(new URL("kernels-relaxed.wasm", WASM_DIR)),
  };
}

/** Makes V8 accept relaxed SIMD if it can; returns whether `bytes` now validate. */
export function enableRelaxedSimd(bytes: BufferSource): boolean {
  if (WebAssembly.validate(bytes)) return true;
  try {
    setFlagsFromString("--experimental-wasm-relaxed-simd");
  } catch {
    return false;
  }
  return WebAssembly.validate(bytes);
}

/** Starts a worker_threads worker from script text (the default `spawnWorker` in Node). */
export function spawnNodeWorker(source: string): WorkerHandle {
  const w = new Worker(source, { eval: true });
  return {
    postMessage: (m) => w.postMessage(m),
    onMessage: (f) => w.on("message", f),
    onError: (f) => w.on("error", f),
    terminate: () => void w.terminate(),
    unref: () => w.unref(),
  };
}

/**
 * Threads when none are asked for: the cores not already busy, i.e. the cores less the one-minute load
 * average (rounded), at least one. A thread whose partner is descheduled by other work waits at every
 * parallel call, so on a busy machine two threads can be slower than one.
 */
export function autoThreads(cores = availableParallelism(), load = loadavg()[0]): number {
  return Math.max(1, Math.min(cores, Math.round(cores - load)));
}

/** The WebAssembly kernels on worker_threads; `binaries` default to the package's wasm/ files. */
export async function createWasmKernels(
  options: WasmKernelOptions & { binaries?: WasmBinaries } = {},
): Promise<WasmKernels> {
  const { binaries = readWasmBinaries(), ...rest } = options;
  if (options.simd !== "simd" && binaries.relaxedSimd) enableRelaxedSimd(binaries.relaxedSimd);
  return createWasmKernelsFromBinaries(binaries, {
    hardwareConcurrency: availableParallelism(),
    spawnWorker: spawnNodeWorker,
    ...rest,
    threads: options.threads ?? autoThreads(),
  });
}
