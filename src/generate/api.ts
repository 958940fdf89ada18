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
import { type GenerationSettings, resolveGenerationSettings } from "./options.js";
import { DEFAULT_QPM, generatePolyphony, type PolyphonyResult } from "./polyphony.js";
import { primerFromFlags } from "./primer.js";

/**
 * Options of `generate` and `generateMany`: the model, the primer, and `polyrnn generate`'s generation
 * flags under their library names (numSteps = --num_steps, temperature, beamSize, seed, …), with the help,
 * default and range of the flag (GENERATION_OPTIONS, src/generate/options.ts; the seed is random when not
 * given, the temperature is the bundle's when it records one, and `generate` makes one output). A value out of range is refused with a UsageError naming the
 * flag.
 */
export interface GenerateOptions extends Partial<GenerationSettings> {
  /** The model (`loadBundle`). */
  bundle: Bundle;
  /**
   * Default: an empty primer at 120 qpm. polyrnn's NoteSequence, or a Magenta.js one as it is; one
   * without a tempo is taken at 120 qpm (as Magenta.js does).
   */
  primer?: NoteSequence | NoteSequenceLike;
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
  const { bundle, primer, kernels: given, ...flags } = opts;
  // The bundle's temperature (Bundle.temperature) when none is asked for.
  const settings = resolveGenerationSettings({
    ...flags,
    temperature: flags.temperature ?? bundle.temperature,
  });
  const kernels = given ?? (await createKernels("auto", { notice: () => {} }));
  const rnn = createLstmRnn(kernels, bundle.weights);
  try {
    return generatePolyphony(rnn, {
      ...settings,
      primer: primer ? primerOf(primer) : primerFromFlags({}).sequence,
    });
  } finally {
    rnn.dispose();
    if (!given) kernels.dispose();
  }
}

/** Generates one continuation of the primer (see generateMany). */
export async function generate(opts: GenerateOptions): Promise<NoteSequence> {
  return (await generateMany({ ...opts, numOutputs: 1 })).sequences[0];
}
