/**
 * The kernels in a browser worker: the library's choice (src/kernels/select.ts) with the browser's
 * WebAssembly loader, which fetches the package's wasm/ files from the Studio server (relaxed SIMD where
 * the browser validates it) and runs them on shared memory with Web Worker threads. Without WebAssembly
 * SIMD the TypeScript reference kernels run instead; without cross-origin isolation, one thread. Either
 * comes with a notice.
 */
import { loadWasmKernels } from "../../kernels/load_wasm_browser.js";
import { selectKernels } from "../../kernels/select.js";
import type { Kernels } from "../../kernels/types.js";

export interface LoadedKernels {
  kernels: Kernels;
  threads: number;
  /** Set when the fast kernels could not load, or run on fewer threads than asked. */
  notice?: string;
}

/** `threads` includes the calling worker; default: the machine's cores, at most 4. */
export async function loadBrowserKernels(threads?: number): Promise<LoadedKernels> {
  const notices: string[] = [];
  const kernels = await selectKernels(loadWasmKernels, "auto", {
    ...(threads ? { threads } : {}),
    notice: (m) => notices.push(m.replace(/^note: /, "")),
  });
  const used = (kernels as { threads?: number }).threads ?? 1;
  return notices.length > 0
    ? { kernels, threads: used, notice: notices.join("; ") }
    : { kernels, threads: used };
}
