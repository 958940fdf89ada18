/**
 * The WebAssembly loader in Node (the `node` condition of the package's `#wasm-loader` import): the
 * package's wasm/ files (or the caller's bytes) on worker_threads.
 */
import type { WasmLoader } from "./select.js";
import { createWasmKernels } from "./wasm_node.js";

export const loadWasmKernels: WasmLoader = (opts) =>
  createWasmKernels({
    ...(opts.threads ? { threads: opts.threads } : {}),
    ...(opts.wasm ? { binaries: opts.wasm } : {}),
  });
