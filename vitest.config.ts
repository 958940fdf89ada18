import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["test/**/*.test.ts"],
    globalSetup: ["test/helpers/global_tmp.ts"],
    testTimeout: 120_000,
    hookTimeout: 120_000,
  },
});
