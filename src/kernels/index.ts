/**
 * `createKernels`: the kernels every model call runs on. `createKernels("auto")` is the WebAssembly build
 * when it loads, else the TypeScript reference with a notice.
 *
 *   const kernels = await createKernels();          // once; reuse across generate() calls
 *   const music = await generate({ bundle, kernels });
 *   kernels.dispose();                               // stops its worker threads
 *
 * The WebAssembly loader is picked by the package's `#wasm-loader` import (package.json `imports`):
 * under the `node` condition it reads the package's wasm/ files and starts worker_threads; elsewhere
 * (browsers, bundlers) it fetches them (`new URL("../../wasm/kernels.wasm", import.meta.url)`) and starts
 * Web Workers. Both are static imports, so bundlers see the code and the `.wasm` files.
 */
import { loadWasmKernels } from "#wasm-loader";
import { type CreateKernelsOptions, type KernelKind, selectKernels } from "./select.js";
import type { Kernels } from "./types.js";

export { type CreateKernelsOptions, KERNEL_KINDS, type KernelKind, type WasmLoader } from "./select.js";

/**
 * Creates kernels to run models on; reuse them across calls (each creation compiles the module and
 * starts threads). `kind`: `"auto"` (default), `"wasm"` (throws when the WebAssembly build does not
 * load) or `"reference"`. Call `dispose()` when done.
 */
export function createKernels(kind: KernelKind = "auto", opts: CreateKernelsOptions = {}): Promise<Kernels> {
  return selectKernels(loadWasmKernels, kind, opts);
}
