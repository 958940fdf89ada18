/**
 * What generator bundles (bundle.ts) and training checkpoints (src/train/checkpoint_format.ts) share: one
 * safetensors file whose header metadata records the hparams (JSON, Magenta's names), the training step
 * and the steps per quarter note of the music the model learned, and the ONE check of its tensors that
 * every loader runs (bundle, checkpoint, warm start). Pure.
 *
 *   const { weights, optimizer } = checkedTensors(decoded, hparams, BundleError);
 *   const meta = modelMetadata({ hparams, step, stepsPerQuarter });   // → safetensors metadata
 */
import type { PolyrnnError } from "../errors.js";
import { STEPS_PER_QUARTER } from "../events/codec.js";
import type { NamedTensor } from "./api.js";
import { type HParams, hparamsFromJson, hparamsToJson } from "./hparams.js";
import { weightsProblem } from "./weights.js";

/** The `format` of a generator bundle. */
export const BUNDLE_FORMAT = "polyrnn-bundle/1";
/** The `format` of a training checkpoint (a bundle loader takes one too). */
export const CHECKPOINT_FORMAT = "polyrnn-checkpoint/1";

/** Metadata keys of bundles and checkpoints alike. */
export const MODEL_META = {
  format: "format",
  step: "step",
  /** The hparams as JSON with Magenta's names (`hparamsToJson`). */
  hparamsJson: "hparams_json",
  /** Steps per quarter note; absent in files written before it was recorded, which are read as 4. */
  stepsPerQuarter: "steps_per_quarter",
  /** JSON list of the optimizer tensors' names (checkpoints). */
  optimizerTensors: "optimizer_tensors",
} as const;

/** The largest steps per quarter note a file may record (Magenta's configs use 4). */
const MAX_STEPS_PER_QUARTER = 96;

type ErrorClass = new (message: string) => PolyrnnError;

/** What a model file records besides its tensors. */
export interface ModelMetadata {
  hparams: HParams;
  step: number;
  stepsPerQuarter?: number;
}

/** The metadata every model file records: hparams (JSON), step, steps per quarter (default 4). */
export function modelMetadata(m: ModelMetadata): Record<string, string> {
  return {
    [MODEL_META.hparamsJson]: hparamsToJson(m.hparams),
    [MODEL_META.step]: String(m.step),
    [MODEL_META.stepsPerQuarter]: String(m.stepsPerQuarter ?? STEPS_PER_QUARTER),
  };
}

/** The hparams the file records, or undefined when it records none; errors say what is wrong. */
export function recordedHParams(
  metadata: Record<string, string>,
  error: ErrorClass,
  prefix = "",
): HParams | undefined {
  const json = metadata[MODEL_META.hparamsJson];
  if (json === undefined) return undefined;
  try {
    return hparamsFromJson(json);
  } catch (e) {
    throw new error(`${prefix}${(e as Error).message}`);
  }
}

/** The training step the file records (`fallback` when it records none); not a whole number ≥ 0 is an error. */
export function recordedStep(
  metadata: Record<string, string>,
  error: ErrorClass,
  opts: { fallback?: number; prefix?: string } = {},
): number {
  const text = metadata[MODEL_META.step];
  const step = text === undefined && opts.fallback !== undefined ? opts.fallback : Number(text);
  if (!Number.isSafeInteger(step) || step < 0) {
    throw new error(`${opts.prefix ?? ""}metadata step ${JSON.stringify(text)} is not a step number`);
  }
  return step;
}

/** The steps per quarter note the file records; files written before it was recorded are 4. */
export function recordedStepsPerQuarter(metadata: Record<string, string>, error: ErrorClass): number {
  const text = metadata[MODEL_META.stepsPerQuarter];
  if (text === undefined) return STEPS_PER_QUARTER;
  const spq = Number(text);
  if (!/^\d+$/.test(text) || spq < 1 || spq > MAX_STEPS_PER_QUARTER) {
    throw new error(
      `metadata ${MODEL_META.stepsPerQuarter} ${JSON.stringify(text)} is not a whole number from 1 to ${MAX_STEPS_PER_QUARTER}`,
    );
  }
  return spq;
}

/** Weights and optimizer tensors of a file (the optimizer's named in the metadata, or TF's slot names). */
export function splitTensors(
  tensors: NamedTensor[],
  metadata: Record<string, string>,
  error: ErrorClass,
): { weights: NamedTensor[]; optimizer: NamedTensor[] } {
  let optimizerNames: Set<string>;
  if (metadata[MODEL_META.optimizerTensors] !== undefined) {
    let names: unknown;
    try {
      names = JSON.parse(metadata[MODEL_META.optimizerTensors]);
    } catch {
      names = undefined;
    }
    if (!Array.isArray(names)) throw new error(`metadata ${MODEL_META.optimizerTensors} is not a list`);
    optimizerNames = new Set(names.map(String));
  } else {
    // A file not written here (a converted or hand-made one): TensorFlow's slot names.
    optimizerNames = new Set(tensors.map((t) => t.name).filter((n) => /\/Adam(_1)?$/.test(n)));
  }
  return {
    weights: tensors.filter((t) => !optimizerNames.has(t.name)),
    optimizer: tensors.filter((t) => optimizerNames.has(t.name)),
  };
}

/**
 * The one check of a model file's tensors, run by every loader: split into weights and optimizer slots,
 * some weights, and every weight against `hparams` (model/weights.ts: names, shapes, layer count, finite
 * values; only the values when the file records no hparams). Errors (of class `error`, after `prefix`) say
 * what is wrong, without a file name.
 */
export function checkedTensors(
  { tensors, metadata }: { tensors: NamedTensor[]; metadata: Record<string, string> },
  hparams: HParams | undefined,
  error: ErrorClass,
  prefix = "",
): { weights: NamedTensor[]; optimizer: NamedTensor[] } {
  const split = splitTensors(tensors, metadata, error);
  if (split.weights.length === 0) throw new error(`${prefix}holds no weights`);
  const problem = weightsProblem(split.weights, hparams);
  if (problem) throw new error(`${prefix}${problem}`);
  return split;
}
