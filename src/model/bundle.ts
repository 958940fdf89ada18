/**
 * Generator bundles: ONE `.safetensors` file holding a trained model's weights (Magenta's variable names,
 * TensorFlow shapes) and, in the header metadata, the generator id `polyphony`, the generator and bundle
 * descriptions, the hparams, the training step and the steps per quarter note (model_file.ts). It replaces Magenta's `.mag` (a protobuf wrapping a TF-1
 * checkpoint and metagraph). Pure: bytes in, bytes out, so a browser loads a bundle with `loadBundle(bytes)`.
 */
import { PolyrnnError } from "../errors.js";
import { decodeSafetensors, encodeSafetensors } from "../io/safetensors.js";
import type { NamedTensor } from "./api.js";
import type { HParams } from "./hparams.js";
import {
  BUNDLE_FORMAT,
  CHECKPOINT_FORMAT,
  checkedTensors,
  MODEL_META,
  modelMetadata,
  recordedHParams,
  recordedStep,
  recordedStepsPerQuarter,
} from "./model_file.js";

export { BUNDLE_FORMAT };
export const GENERATOR_ID = "polyphony";
export const GENERATOR_DESCRIPTION = "Polyphonic RNN";

/** Thrown by `loadBundle` and `encodeBundle`, saying what is wrong with the bytes. */
export class BundleError extends PolyrnnError {
  override name = "BundleError";
}

/** A generator bundle, decoded: the model's weights, hparams and training step, and its descriptions. */
export interface Bundle {
  /** Magenta's generator_details.id: always `polyphony` (a bundle for another generator does not load). */
  generatorId: string;
  /** Magenta's generator_details.description: "Polyphonic RNN" unless the file says otherwise. */
  generatorDescription: string;
  /** Magenta's bundle_details.description (--bundle_description). */
  description: string;
  /** The hparams the model was trained with (its layer sizes are the weights' shapes). */
  hparams: HParams;
  /** Training step of the checkpoint the bundle was made from. */
  step: number;
  /**
   * The temperature to generate at when none is asked for (`--temperature` given with
   * `--save_generator_bundle`); absent: Magenta's 1.0.
   */
  temperature?: number;
  /** Steps per quarter note of the music the model learned (4, Magenta's; files that do not record it are 4). */
  stepsPerQuarter: number;
  /** The trained weights: Magenta's variable names, TensorFlow shapes, checked against `hparams`. */
  weights: NamedTensor[];
  /** Metadata as stored (including anything this version does not interpret). */
  metadata: Record<string, string>;
}

const META = {
  ...MODEL_META,
  generatorId: "generator_id",
  generatorDescription: "generator_description",
  description: "bundle_description",
  temperature: "temperature",
} as const;

/**
 * What `encodeBundle` takes: a bundle without its metadata, generator id and generator description
 * (those are polyrnn's), and with steps per quarter note optional (default 4).
 */
export type BundleInput = Omit<
  Bundle,
  "metadata" | "generatorId" | "generatorDescription" | "stepsPerQuarter"
> & {
  /** Steps per quarter note of the music the model learned (default 4, Magenta's). */
  stepsPerQuarter?: number;
  /**
   * How the weights are stored: float32 (default, exactly as trained) or float16 (half the bytes; each
   * weight rounded to the nearest float16, which `loadBundle` reads back as float32).
   */
  dtype?: "float32" | "float16";
};

/** A trained model as the bytes of a bundle (one `.safetensors` file), loadable with `loadBundle`. */
export function encodeBundle(b: BundleInput): Uint8Array {
  for (const t of b.weights) {
    if (/\/Adam(_1)?$/.test(t.name))
      throw new BundleError(`bundles hold weights only, not optimizer slot ${t.name}`);
  }
  // The dtype asked for (float32 unless float16), whatever the tensors were read from.
  const dtype = b.dtype === "float16" ? "F16" : "F32";
  const stored = b.weights.map(({ name, shape, data }) => ({ name, shape, data, dtype }) as const);
  let bytes: Uint8Array;
  try {
    bytes = encodeSafetensors(stored, {
      [META.format]: BUNDLE_FORMAT,
      [META.generatorId]: GENERATOR_ID,
      [META.generatorDescription]: GENERATOR_DESCRIPTION,
      [META.description]: b.description,
      ...(b.temperature === undefined
        ? {}
        : { [META.temperature]: String(checkedTemperature(b.temperature)) }),
      ...modelMetadata(b),
    });
  } catch (e) {
    if (e instanceof BundleError) throw e;
    throw new BundleError(`cannot write the bundle: ${(e as Error).message}`);
  }
  return bytes;
}

function checkedTemperature(t: number | string): number {
  const value = typeof t === "number" ? t : /^\d+(\.\d*)?(e[-+]?\d+)?$/i.test(t) ? Number(t) : Number.NaN;
  if (!Number.isFinite(value) || value < 0) {
    throw new BundleError(`bundle temperature ${JSON.stringify(t)} is not a number ≥ 0`);
  }
  return value;
}

/**
 * Reads a bundle's bytes, or a training checkpoint's (its weights and hparams serve; the optimizer state
 * is dropped). Errors say what is wrong; the caller adds the file name.
 */
export function loadBundle(bytes: Uint8Array): Bundle {
  let decoded: ReturnType<typeof decodeSafetensors>;
  try {
    decoded = decodeSafetensors(bytes);
  } catch (e) {
    throw new BundleError(`not a polyrnn bundle: ${(e as Error).message}`);
  }
  const { metadata } = decoded;
  const checkpoint = metadata[META.format] === CHECKPOINT_FORMAT;
  if (!checkpoint) {
    if (metadata[META.format] !== BUNDLE_FORMAT) {
      throw new BundleError(
        `not a polyrnn bundle (metadata format is ${JSON.stringify(metadata[META.format] ?? null)}, expected "${BUNDLE_FORMAT}")`,
      );
    }
    if (metadata[META.generatorId] !== GENERATOR_ID) {
      throw new BundleError(`bundle is for generator "${metadata[META.generatorId]}", not "${GENERATOR_ID}"`);
    }
  }
  const prefix = checkpoint ? "" : "bundle ";
  // A checkpoint's step is required; a bundle's defaults to 0.
  const step = recordedStep(metadata, BundleError, { prefix, fallback: checkpoint ? undefined : 0 });
  const hparams = recordedHParams(metadata, BundleError);
  if (!hparams) {
    throw new BundleError(
      checkpoint ? "the checkpoint records no hparams" : "bundle metadata has no hparams",
    );
  }
  const { weights } = checkedTensors(decoded, hparams, BundleError, prefix);
  return {
    generatorId: GENERATOR_ID,
    generatorDescription: checkpoint
      ? GENERATOR_DESCRIPTION
      : (metadata[META.generatorDescription] ?? GENERATOR_DESCRIPTION),
    description: checkpoint ? "" : (metadata[META.description] ?? ""),
    hparams,
    step,
    ...(checkpoint || metadata[META.temperature] === undefined
      ? {}
      : { temperature: checkedTemperature(metadata[META.temperature]) }),
    stepsPerQuarter: recordedStepsPerQuarter(metadata, BundleError),
    weights,
    metadata,
  };
}
