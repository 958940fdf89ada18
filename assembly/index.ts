// The WebAssembly kernels: entry point of `npm run build:wasm` (assembly/build.mjs), which writes
// wasm/kernels.wasm (SIMD) and wasm/kernels-relaxed.wasm (relaxed SIMD: fused multiply-add).
// src/kernels/wasm.ts wraps these exports as the `Kernels` interface of src/kernels/types.ts.
// src/kernels/wasm_exports.ts, their TypeScript view, is generated from this file by scripts/wasm_exports.mjs
// (`npm run build` fails when it no longer matches: `node scripts/wasm_exports.mjs --write` rewrites it).
export { gemm, gemm_pack_b, gemm_packed, gemm_packed_floats, gemm_work_floats } from "./gemm";
export { copy_rows, fd_exp, log_softmax, sample } from "./generate";
export {
  adam,
  add,
  add_bias,
  bias_backward,
  dropout,
  embedding_backward,
  embedding_forward,
  lstm_backward,
  lstm_forward,
  scale,
  softmax_xent,
  sum_squares,
} from "./pointwise";
export { lstm_recurrent_backward, lstm_recurrent_forward } from "./recurrent";
