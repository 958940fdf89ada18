/**
 * Choosing the kernels, the same in Node and in a browser: `"auto"` is the WebAssembly build when it
 * loads, else the TypeScript reference with a notice. How the WebAssembly build is loaded is what differs
 * between the two (a `WasmLoader`: src/kernels/load_wasm_node.ts reads the files and starts
 * worker_threads; src/kernels/load_wasm_browser.ts fetches them and starts Web Workers).
 */
import { PolyrnnError } from "../errors.js";
import { createReferenceKernels } from "./reference.js";
import type { Kernels } from "./types.js";
import type { WasmBinaries } from "./wasm.js";

/** Which kernels to run on: `"auto"` (WebAssembly, else the reference), `"wasm"` or `"reference"`. */
export type KernelKind = "auto" | "wasm" | "reference";
/** Every {@link KernelKind}, for argument checking. */
export const KERNEL_KINDS: readonly KernelKind[] = ["auto", "wasm", "reference"];

/** Options of `createKernels`. */
export interface CreateKernelsOptions {
  /**
   * Threads for the WASM kernels, the caller included (absent: Node, the machine's cores; a browser, its
   * cores up to 4). A page that is not cross-origin isolated runs one thread (with a notice). Ignored
   * by the reference.
   */
  threads?: number;
  /**
   * Where notices go (default: console.warn): the fall-back to the reference kernels under `"auto"`, and
   * in a browser the fall-back to one thread without cross-origin isolation.
   */
  notice?: (message: string) => void;
  /** The compiled kernels' bytes, when the caller has them (e.g. fetched from its own URL). */
  wasm?: WasmBinaries;
  /**
   * Browser: the folder URL holding `kernels.wasm` and `kernels-relaxed.wasm` (the package's `wasm/`),
   * for bundlers that do not copy files referenced with `new URL(…, import.meta.url)` (esbuild).
   * Default: the package's own `wasm/` folder, relative to the module.
   */
  wasmUrl?: string | URL;
}

/** Loads the WebAssembly kernels for one platform; throws when they cannot run there. */
export type WasmLoader = (
  opts: CreateKernelsOptions & { notice: (message: string) => void },
) => Promise<Kernels>;

function reason(e: unknown): string {
  const msg = e instanceof Error ? e.message : String(e);
  return msg.split("\n")[0];
}

/** `createKernels` over a given WebAssembly loader (the entry points bind their platform's). */
export async function selectKernels(
  loadWasm: WasmLoader,
  kind: KernelKind = "auto",
  opts: CreateKernelsOptions = {},
): Promise<Kernels> {
  const notice = opts.notice ?? ((m: string) => console.warn(m));
  switch (kind) {
    case "reference":
      return createReferenceKernels();
    case "wasm":
      try {
        return await loadWasm({ ...opts, notice });
      } catch (e) {
        throw new PolyrnnError(`the WebAssembly kernels did not load: ${reason(e)}`);
      }
    case "auto":
      try {
        return await loadWasm({ ...opts, notice });
      } catch (e) {
        notice(
          `note: using the TypeScript reference kernels (slow): the WebAssembly kernels did not load (${reason(e)})`,
        );
        return createReferenceKernels();
      }
    default:
      throw new PolyrnnError(`unknown kernels "${kind}"; valid: ${KERNEL_KINDS.join(", ")}`);
  }
}
