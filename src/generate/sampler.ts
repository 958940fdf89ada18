/**
 * The sampler: how the next event is drawn from a model's logits, in one place. A model (`EventRnn`)
 * gives logits; the transform of the distribution (temperature: the logits are divided by it; 0 = greedy)
 * and the draw are applied here, on the kernels' heap where the logits are:
 *
 *   const sampler = createSampler({ temperature: 0.9 });
 *   const draws = sampler.draws(rngs);                   // one 32-bit draw per row (none when greedy)
 *   sampler.logProbs(k, rows, classes, logits);          // in place: the log-probabilities drawn from
 *   const picked = sampler.pick(k, rows, classes, logits, draws);  // one class per row
 *
 * Both steps are kernels (`logSoftmax`, `sampleClasses`): the WebAssembly kernels run them as SIMD code (the
 * fast path); the reference kernels' loops are their definition, and the two pick the same class for the
 * same draw (test/sampler.test.ts). The transforms of the distribution live in `logProbs`: a row's mask
 * (events/grammar.ts: only well-formed events) sets its other logits to −∞ before the log-softmax, so they
 * get probability 0 and the rest is renormalised; a further transform (top-k, top-p, a pitch range)
 * belongs there too.
 */
import type { Kernels } from "../kernels/types.js";
import { checkOption, type GenerationSettings } from "./options.js";
import type { Rng } from "./rng.js";

/** The options that shape the distribution drawn from (their help and range: options.ts). */
export type SamplingOptions = Pick<GenerationSettings, "temperature">;

export interface Sampler {
  /** Temperature 0: every pick is the likeliest class (the first, on ties), and no draws are made. */
  readonly greedy: boolean;
  /**
   * One draw per row for a step, from rngs[r] in row order, as an unsigned 32-bit integer (u = draw / 2³²);
   * null when greedy (no stream advances).
   */
  draws(rngs: readonly Rng[]): number[] | null;
  /**
   * rows × classes logits at heap offset `logits` → the log-probabilities of the distribution the picks
   * are drawn from, in place: log softmax(logits / temperature), and at temperature 0 of the logits as
   * they are (so scores stay log-likelihoods). Where masks[r] is given, row r's classes j with
   * masks[r][j] = 0 get −∞ (probability 0) first.
   */
  logProbs(
    k: Kernels,
    rows: number,
    classes: number,
    logits: number,
    masks?: readonly (Uint8Array | null)[],
  ): void;
  /**
   * One class per row of log-probabilities (as `logProbs` left them): greedy, the first maximum; else the
   * first k with draws[r] / 2³² < Σ_{j ≤ k} exp(logProbs[r, j]). May allocate in k's heap for the call
   * (released before it returns).
   */
  pick(
    k: Kernels,
    rows: number,
    classes: number,
    logProbs: number,
    draws: readonly number[] | null,
  ): number[];
}

const TWO_32 = 4294967296;

export function createSampler(opts: SamplingOptions): Sampler {
  checkOption("temperature", opts.temperature);
  const greedy = opts.temperature === 0;
  const temperature = greedy ? 1 : opts.temperature;
  return {
    greedy,
    draws(rngs) {
      if (greedy) return null;
      const out: number[] = [];
      for (const rng of rngs) out.push(Math.floor(rng.next() * TWO_32));
      return out;
    },
    logProbs(k, rows, classes, logits, masks) {
      if (masks) {
        const f = k.f32();
        for (let r = 0; r < rows; r++) {
          const mask = masks[r];
          if (!mask) continue;
          const row = logits + r * classes;
          for (let j = 0; j < classes; j++) if (mask[j] === 0) f[row + j] = Number.NEGATIVE_INFINITY;
        }
      }
      k.logSoftmax(rows, classes, temperature, logits, logits);
    },
    pick(k, rows, classes, logProbs, draws) {
      if (!greedy && draws?.length !== rows) throw new Error("internal: one draw per row is needed");
      const mark = k.mark();
      try {
        const uniforms = k.alloc(2 * rows);
        const out = uniforms + rows;
        let i32 = k.i32();
        if (draws) for (let r = 0; r < rows; r++) i32[uniforms + r] = draws[r] | 0;
        k.sampleClasses(rows, classes, logProbs, uniforms, greedy, out);
        i32 = k.i32();
        const picked: number[] = [];
        for (let r = 0; r < rows; r++) picked.push(i32[out + r]);
        return picked;
      } finally {
        k.release(mark);
      }
    },
  };
}
