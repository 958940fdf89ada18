/**
 * The worker of the WebAssembly kernels (src/kernels/wasm_worker.ts with what it imports) as classic script
 * text. The module is generated: scripts/build_worker.mjs writes it to dist/kernels/wasm_worker_source.js
 * in `npm run build`, and vitest.config.ts makes it from the source for the tests.
 */
export declare const WORKER_SOURCE: string;
