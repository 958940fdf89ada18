/**
 * Kernels.lstmRecurrentForward / lstmRecurrentBackward (types.ts) as the sequence of per-step calls that
 * defines them: per step a gemm with W_h (or W_hᵀ) and an LSTM cell call, on any kernels' own operations.
 * The reference kernels run the whole loop this way; the WebAssembly kernels run one-step chunks (a
 * generation step) this way, where each call's own split over the threads serves best, and longer chunks
 * in one kernel call (assembly/recurrent.ts).
 */
import type { Kernels } from "./types.js";

/** The operations the loops are made of. */
export type StepOps = Pick<Kernels, "i32" | "gemm" | "gemmPacked" | "lstmCellForward" | "lstmCellBackward">;

/** lstmRecurrentForward's arguments after the kernels. */
export function lstmForwardBySteps(
  k: StepOps,
  steps: number,
  batch: number,
  hidden: number,
  forgetBias: number,
  stepRows: number,
  wh: number,
  packedWh: number,
  gates: number,
  c: number,
  h: number,
): void {
  const I = k.i32(); // (nothing here allocates: the view stays valid)
  const H = hidden;
  const G = 4 * H;
  let at = 0; // the step's first packed position
  let prev = 0; // the row of the previous state in c and h (0: the entering rows)
  for (let s = 0; s < steps; s++) {
    const n = I[stepRows + s];
    const cur = batch + at;
    const g = gates + at * G;
    if (packedWh >= 0) k.gemmPacked(false, n, G, H, 1, h + prev * H, H, packedWh, 1, g, G);
    else k.gemm(false, false, n, G, H, 1, h + prev * H, H, wh, G, 1, g, G);
    k.lstmCellForward(n, H, forgetBias, g, c + prev * H, c + cur * H, h + cur * H);
    prev = cur;
    at += n;
  }
}

/** lstmRecurrentBackward's arguments after the kernels. */
export function lstmBackwardBySteps(
  k: StepOps,
  steps: number,
  batch: number,
  hidden: number,
  stepRows: number,
  wh: number,
  gates: number,
  c: number,
  dh: number,
  dc: number,
  dGates: number,
): void {
  const I = k.i32();
  const rows = (s: number) => I[stepRows + s];
  const H = hidden;
  const G = 4 * H;
  let at = 0;
  for (let s = 0; s < steps; s++) at += rows(s);
  for (let s = steps - 1; s >= 0; s--) {
    const n = rows(s);
    const next = at; // step s+1's first position
    at -= n;
    const dhs = dh + at * H;
    // dh_s += dz_{s+1}·W_hᵀ for the sequences still running at s+1 (a prefix of those at s).
    if (s < steps - 1) k.gemm(false, true, rows(s + 1), H, G, 1, dGates + next * G, G, wh, G, 1, dhs, H);
    const prev = s === 0 ? 0 : batch + at - rows(s - 1);
    k.lstmCellBackward(
      n,
      H,
      gates + at * G,
      c + prev * H,
      c + (batch + at) * H,
      dhs,
      dc,
      dGates + at * G,
      dc,
    );
  }
}
