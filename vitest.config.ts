import { fileURLToPath } from "node:url";
import { defineConfig } from "vitest/config";

export default defineConfig({
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
