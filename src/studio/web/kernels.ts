/**
 * The kernels in a browser worker: the WebAssembly build fetched from the Studio server (relaxed SIMD where
 * the browser validates it), on shared memory with Web Worker threads. Without cross-origin isolation
 * (no SharedArrayBuffer) or WebAssembly SIMD, the TypeScript reference kernels run instead, with a notice.
 */
import { createReferenceKernels } from "../../kernels/reference.js";
import type { Kernels } from "../../kernels/types.js";
import { createWasmKernelsFromBinaries } from "../../kernels/wasm.js";

export interface LoadedKernels {
  kernels: Kernels;
  threads: number;
  /** Set when the fast kernels could not load. */
  notice?: string;
}

async function fetchBytes(url: string): Promise<ArrayBuffer | undefined> {
  const r = await fetch(url);
  if (!r.ok) return undefined;
  return r.arrayBuffer();
}

/** `threads` includes the calling worker; default: the machine's cores, at most 4. */
export async function loadBrowserKernels(base: string, threads?: number): Promise<LoadedKernels> {
  const want = Math.max(1, threads ?? Math.min(4, navigator.hardwareConcurrency || 1));
  try {
    if (!globalThis.crossOriginIsolated) throw new Error("the page is not cross-origin isolated");
    const [simd, relaxedSimd] = await Promise.all([
      fetchBytes(new URL("wasm/kernels.wasm", base).href),
      fetchBytes(new URL("wasm/kernels-relaxed.wasm", base).href),
    ]);
    if (!simd) throw new Error("wasm/kernels.wasm is missing");
    const kernels = await createWasmKernelsFromBinaries({ simd, relaxedSimd }, { threads: want });
    return { kernels, threads: kernels.threads };
  } catch (e) {
    return {
      kernels: createReferenceKernels(),
      threads: 1,
      notice: `using the slow reference kernels: the WebAssembly kernels did not load (${(e as Error).message})`,
    };
  }
}
