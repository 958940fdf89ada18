/**
 * The WebAssembly loader in browsers (the default condition of the package's `#wasm-loader` import):
 * fetches the package's wasm/ files, located with `new URL("…wasm", import.meta.url)` so that bundlers
 * that handle that pattern (Vite, webpack, Parcel) copy them as assets, and runs them on shared memory
 * with Web Worker threads. A page that is not cross-origin isolated cannot share memory with workers
 * (posting it throws DataCloneError), so there the kernels run on one thread, with a notice saying how
 * to get threads (serve the page with COOP `same-origin` and COEP `require-corp`).
 */
import type { WasmLoader } from "./select.js";
import { createWasmKernelsFromBinaries, type WasmBinaries } from "./wasm.js";

async function fetchBytes(url: URL): Promise<ArrayBuffer> {
  const r = await fetch(url);
  if (!r.ok) throw new Error(`${url.href}: HTTP ${r.status}`);
  return r.arrayBuffer();
}

/** The package's .wasm files, or those in the folder `base`; the relaxed-SIMD build is optional. */
export async function fetchWasmBinaries(base?: string | URL): Promise<WasmBinaries> {
  const simdUrl = base ? new URL("kernels.wasm", base) : new URL("../../wasm/kernels.wasm", import.meta.url);
  const relaxedUrl = base
    ? new URL("kernels-relaxed.wasm", base)
    : new URL("../../wasm/kernels-relaxed.wasm", import.meta.url);
  const [simd, relaxedSimd] = await Promise.all([
    fetchBytes(simdUrl).catch((e: Error) => {
      throw new Error(
        `${e.message} (a bundler that does not copy the package's wasm/ folder: copy it and pass wasmUrl)`,
      );
    }),
    fetchBytes(relaxedUrl).catch(() => undefined),
  ]);
  return relaxedSimd ? { simd, relaxedSimd } : { simd };
}

export const loadWasmKernels: WasmLoader = async (opts) => {
  const binaries = opts.wasm ?? (await fetchWasmBinaries(opts.wasmUrl));
  const hw = (globalThis as { navigator?: { hardwareConcurrency?: number } }).navigator?.hardwareConcurrency;
  let threads = Math.max(1, Math.floor(opts.threads ?? Math.min(4, hw || 1)));
  if (threads > 1 && !(globalThis as { crossOriginIsolated?: boolean }).crossOriginIsolated) {
    opts.notice(
      `note: the WebAssembly kernels run on one thread, not ${threads}: this page is not cross-origin isolated ` +
        "(serve it with Cross-Origin-Opener-Policy: same-origin and Cross-Origin-Embedder-Policy: require-corp)",
    );
    threads = 1;
  }
  return createWasmKernelsFromBinaries(binaries, { threads });
};
