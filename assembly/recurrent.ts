// The recurrent loop of one LSTM layer over a chunk of time steps (Kernels.lstmRecurrentForward/Backward
// in src/kernels/types.ts): per step the product with W_h (gemm_packed on a packed copy, or gemm) and the
// cell (lstm_forward / lstm_backward), for the whole chunk in one call. Pointers are byte addresses.
//
// Rows are independent: row r of step t reads only row r of step t−1 (forward: h, c) or of step t+1
// (backward: dGates, dc). So a call can own a fixed range of rows, r0 … r1−1 of every step (clipped to the
// step's row count: rows shrink as sequences end, each step's a prefix of the previous step's), across
// every step, with no barrier between steps: threads take row ranges for the whole chunk. Every element
// goes through the same gemm / cell arithmetic as in one call over all rows (gemm splits by rows bit for
// bit, gemm_packed gives gemm's bits), so the results do not depend on the ranges.
//
// Layout (as src/model/lstm.ts's chunks): `steps` i32 row counts at `rows` (non-increasing); step s's rows
// sit at packed position at(s) = Σ_{s'<s} rows[s']. gates (and dGates) hold 4H floats per position; the
// state buffers c, h hold `batch` entering rows (the state before step 0) and then every position:
// step s reads row r of its previous state at row r of the entering rows (s = 0) or at batch + at(s−1) + r.

import { gemm, gemm_packed, SMALL_M } from "./gemm";
import { lstm_backward, lstm_forward } from "./pointwise";

// Forward, h_{s−1}·W_h of m rows: gemm_packed on the packed W_h, except where gemm's small-m kernels
// (reading W_h in place, same bits) are faster: for 1–2 rows, and up to SMALL_M rows while W_h has at most
// SMALL_WH_FLOATS floats. Measured on one thread, 128–256 steps of m rows (ms, small-m vs packed):
// H 64: m 1 0.44 vs 0.95, 3 1.06 vs 1.40, 8 2.53 vs 3.07, 12 3.79 vs 3.74; H 128: m 2 0.98 vs 1.82, 3 1.76
// vs 2.17, 4 2.03 vs 1.84; H 256: m 1 8.7 vs 11.4, 2 12.2 vs 12.6, 3 19.4 vs 13.5; H 512: m 2 22.2 vs 24.0,
// 3 40.5 vs 25.5. (Backward's dz·W_hᵀ has no small-m kernel: it is always packed.)
const SMALL_WH_FLOATS = 64 * 256;

/**
 * Forward of rows r0 … r1−1, steps 0 … steps−1: gates_s += h_{s−1}·W_h (W_h: H×4H at wh, row stride 4H; or its gemm_pack_b
 * copy at whp when whp ≠ 0), then the cell (forgetBias added to f) writes the activations, c_s and h_s.
 */
export function lstm_recurrent_forward(
  steps: i32,
  batch: i32,
  hidden: i32,
  forgetBias: f32,
  rows: usize,
  wh: usize,
  whp: usize,
  gates: usize,
  c: usize,
  h: usize,
  r0: i32,
  r1: i32,
  work: usize,
): void {
  const G = 4 * hidden;
  const hB = <usize>hidden << 2;
  const gB = <usize>G << 2;
  let at = 0; // at(s)
  let prev = 0; // row of step s−1's state in c, h (0: the entering rows)
  for (let s = 0; s < steps; s++) {
    const n = load<i32>(rows + (<usize>s << 2));
    const cur = batch + at;
    const m = min(r1, n) - r0;
    if (m <= 0) break; // and at every later step: rows never grow
    const hp = h + <usize>(prev + r0) * hB;
    const g = gates + <usize>(at + r0) * gB;
    if (whp != 0 && !(m <= 2 || (m <= SMALL_M && hidden * G <= SMALL_WH_FLOATS))) {
      gemm_packed(false, m, G, hidden, 1, hp, hidden, whp, 1, g, G, work, 0, G);
    } else {
      gemm(false, false, m, G, hidden, 1, hp, hidden, wh, G, 1, g, G, work);
    }
    const to = <usize>(cur + r0) * hB;
    lstm_forward(m, hidden, forgetBias, g, c + <usize>(prev + r0) * hB, c + to, h + to);
    prev = cur;
    at += n;
  }
}

/**
 * Backward of rows r0 … r1−1, steps steps−1 … 0: dh_s += dGates_{s+1}·W_hᵀ on the rows still running at s+1 (whtp: W_hᵀ
 * packed by gemm_pack_b with transB, 4H×H), then the cell's backward: dGates_s from the activations in
 * gates, c_{s−1}, c_s, dh_s and dc (batch rows, the gradient reaching c_s; on return the one reaching the
 * entering c). `whtp` is not read when steps = 1.
 */
export function lstm_recurrent_backward(
  steps: i32,
  batch: i32,
  hidden: i32,
  rows: usize,
  whtp: usize,
  gates: usize,
  c: usize,
  dh: usize,
  dc: usize,
  dGates: usize,
  r0: i32,
  r1: i32,
  work: usize,
): void {
  const G = 4 * hidden;
  const hB = <usize>hidden << 2;
  const gB = <usize>G << 2;
  let at = 0;
  for (let s = 0; s < steps; s++) at += load<i32>(rows + (<usize>s << 2));
  let nextN = 0; // rows of step s+1 (0 past the last step)
  for (let s = steps - 1; s >= 0; s--) {
    const n = load<i32>(rows + (<usize>s << 2));
    const next = at; // at(s+1)
    at -= n;
    const m = min(r1, n) - r0;
    if (m > 0) {
      const dhs = dh + <usize>(at + r0) * hB;
      const mNext = min(r1, nextN) - r0;
      if (mNext > 0) {
        const dz = dGates + <usize>(next + r0) * gB;
        gemm_packed(false, mNext, hidden, G, 1, dz, G, whtp, 1, dhs, hidden, work, 0, hidden);
      }
      const prev = s == 0 ? 0 : batch + at - load<i32>(rows + (<usize>(s - 1) << 2));
      const dcr = dc + <usize>r0 * hB;
      lstm_backward(
        m,
        hidden,
        gates + <usize>(at + r0) * gB,
        c + <usize>(prev + r0) * hB,
        c + <usize>(batch + at + r0) * hB,
        dhs,
        dcr,
        dGates + <usize>(at + r0) * gB,
        dcr,
      );
    }
    nextN = n;
  }
}
