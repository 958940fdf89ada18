/**
 * Picks the kernels: `createKernels("auto")` is the WebAssembly build when it loads, else the TypeScript
 * reference with a one-line notice. Both are imported dynamically, so a checkout without the wasm
 * build (or a runtime without WebAssembly SIMD) still trains, only slower.
 */
import { PolyrnnError } from "../errors.js";
import type { Kernels } from "./types.js";

export type KernelKind = "auto" | "wasm" | "reference";
export const KERNEL_KINDS: readonly KernelKind[] = ["auto", "wasm", "reference"];

export interface CreateKernelsOptions {
  /** Worker threads for the WASM kernels (0 or absent: their default). Ignored by the reference. */
  threads?: number;
  /** Where the "falling back to the reference kernels" notice goes (default: console.error). */
  notice?: (message: string) => void;
}

// Specifiers in variables: the type checker does not resolve them, so this module builds before (and
// without) the modules it loads.
const REFERENCE_MODULE = "./reference.js";
const WASM_MODULE = "./wasm_node.js";

type Factory = (opts: { threads?: number }) => Kernels | Promise<Kernels>;

function findFactory(mod: Record<string, unknown>, names: string[], what: string): Factory {
  for (const name of names) {
    if (typeof mod[name] === "function") return mod[name] as Factory;
  }
  throw new PolyrnnError(`${what} does not export ${names.join(" or ")}`);
}

async function loadReference(): Promise<Kernels> {
  const mod = (await import(REFERENCE_MODULE)) as Record<string, unknown>;
  return findFactory(mod, ["createReferenceKernels"], "src/kernels/reference")({});
}

async function loadWasm(threads?: number): Promise<Kernels> {
  const mod = (await import(WASM_MODULE)) as Record<string, unknown>;
  const factory = findFactory(
    mod,
    ["createWasmKernels", "loadWasmKernels", "createNodeWasmKernels"],
    "src/kernels/wasm_node",
  );
  return factory(threads ? { threads } : {});
}

function reason(e: unknown): string {
  const msg = e instanceof Error ? e.message : String(e);
  return msg.split("\n")[0];
}

export async function createKernels(
  kind: KernelKind = "auto",
  opts: CreateKernelsOptions = {},
): Promise<Kernels> {
  switch (kind) {
    case "reference":
      return loadReference();
    case "wasm":
      try {
        return await loadWasm(opts.threads);
      } catch (e) {
        throw new PolyrnnError(`the WebAssembly kernels did not load: ${reason(e)}`);
      }
    case "auto":
      try {
        return await loadWasm(opts.threads);
      } catch (e) {
        (opts.notice ?? console.error)(
          `note: using the TypeScript reference kernels (slow): the WebAssembly kernels did not load (${reason(e)})`,
        );
        return loadReference();
      }
    default:
      throw new PolyrnnError(`unknown kernels "${kind}"; valid: ${KERNEL_KINDS.join(", ")}`);
  }
}
