import { fileURLToPath } from "node:url";
import { defineConfig, type Plugin } from "vitest/config";

const WORKER_SOURCE_ID = "\0polyrnn:wasm-worker-source";

/**
 * src/kernels/wasm_worker_source.js is generated (`npm run build` writes it into dist/); the tests run
 * src/, so here it is made from the worker's source when imported, by the build's own bundler function.
 */
function wasmWorkerSource(): Plugin {
  const kernels = fileURLToPath(new URL("./src/kernels/", import.meta.url));
  return {
    name: "polyrnn-wasm-worker-source",
    enforce: "pre",
    resolveId(source, importer) {
      if (source === "./wasm_worker_source.js" && importer?.startsWith(kernels)) return WORKER_SOURCE_ID;
      return null;
    },
    async load(id) {
      if (id !== WORKER_SOURCE_ID) return null;
      const script = new URL("./scripts/build_worker.mjs", import.meta.url).href;
      const { bundleWorker, workerSourceModule } = (await import(script)) as {
        bundleWorker: () => Promise<string>;
        workerSourceModule: (source: string) => string;
      };
      return workerSourceModule(await bundleWorker());
    },
  };
}

export default defineConfig({
  plugins: [wasmWorkerSource()],
  // The package's `#wasm-loader` import (package.json `imports`) names the built file; tests run the source.
  resolve: {
    alias: { "#wasm-loader": fileURLToPath(new URL("./src/kernels/load_wasm_node.ts", import.meta.url)) },
  },
  test: {
    include: ["test/**/*.test.ts"],
    globalSetup: ["test/helpers/global_tmp.ts"],
    testTimeout: 120_000,
    hookTimeout: 120_000,
  },
});
