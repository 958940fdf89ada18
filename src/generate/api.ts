/**
 * The library entry point for generation, for Node and the browser:
 *
 *   const bundle = loadBundle(bytes);
 *   const music = await generate({ bundle, primer, numSteps: 128, temperature: 1.0, seed: 1 });
 */

import { type NoteSequenceLike, noteSequenceFromJson } from "../io/notesequence_json.js";
import { createKernels } from "../kernels/index.js";
import type { Kernels } from "../kernels/types.js";
import type { Bundle } from "../model/bundle.js";
import type { NoteSequence } from "../notesequence.js";
import { createLstmRnn } from "./lstm_rnn.js";
import { DEFAULT_QPM, generatePolyphony, type PolyphonyResult } from "./polyphony.js";
import { primerFromFlags } from "./primer.js";
import { randomSeed } from "./rng.js";

/** Options of `generate` and `generateMany`: the model, the primer and Magenta's generator flags. */
export interface GenerateOptions {
  bundle: Bundle;
  /**
   * Default: an empty primer at 120 qpm. polyrnn's NoteSequence, or a Magenta.js one as it is; one
   * without a tempo is taken at 120 qpm (as Magenta.js does).
   */
  primer?: NoteSequence | NoteSequenceLike;
  /** Total length in 16th steps, primer included. Default 128. */
  numSteps?: number;
  numOutputs?: number;
  /** Default false, as Magenta. */
  conditionOnPrimer?: boolean;
  /** Default true, as Magenta. */
  injectPrimerDuringGeneration?: boolean;
  /** Default 1.0; 0 = greedy. */
  temperature?: number;
  beamSize?: number;
  branchFactor?: number;
  stepsPerIteration?: number;
  /** Same seed, same music. Default: random. */
  seed?: number;
  excludePrimer?: boolean;
  /** Kernels to run on (default: WebAssembly when it loads, else the TypeScript reference). */
  kernels?: Kernels;
}

function primerOf(input: NoteSequence | NoteSequenceLike): NoteSequence {
  const ns = noteSequenceFromJson(input);
  if (ns.tempos.length === 0) ns.tempos.push({ time: 0, qpm: DEFAULT_QPM });
  return ns;
}

/**
 * Generates `numOutputs` continuations of the primer (Magenta's polyphony_rnn_generate), with their
 * scores and the timeline. Pass `kernels` (createKernels) to reuse them across calls; without them each
 * call creates and disposes its own.
 */
export async function generateMany(opts: GenerateOptions): Promise<PolyphonyResult> {
  const kernels = opts.kernels ?? (await createKernels("auto", { notice: () => {} }));
  const rnn = createLstmRnn(kernels, opts.bundle.weights);
  try {
    return generatePolyphony(rnn, {
      primer: opts.primer ? primerOf(opts.primer) : primerFromFlags({}).sequence,
      numSteps: opts.numSteps ?? 128,
      numOutputs: opts.numOutputs ?? 1,
      conditionOnPrimer: opts.conditionOnPrimer ?? false,
      injectPrimerDuringGeneration: opts.injectPrimerDuringGeneration ?? true,
      temperature: opts.temperature ?? 1.0,
      beamSize: opts.beamSize ?? 1,
      branchFactor: opts.branchFactor ?? 1,
      stepsPerIteration: opts.stepsPerIteration ?? 1,
      seed: opts.seed ?? randomSeed(),
      excludePrimer: opts.excludePrimer ?? false,
    });
  } finally {
    rnn.dispose();
    if (!opts.kernels) kernels.dispose();
  }
}

/** Generates one continuation of the primer (see generateMany). */
export async function generate(opts: GenerateOptions): Promise<NoteSequence> {
  return (await generateMany({ ...opts, numOutputs: 1 })).sequences[0];
}
