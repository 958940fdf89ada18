/**
 * Generator bundles: ONE `.safetensors` file holding a trained model's weights (Magenta's variable names,
 * TensorFlow shapes) and, in the header metadata, the generator id `polyphony`, the generator and bundle
 * descriptions, the hparams and the training step. It replaces Magenta's `.mag` (a protobuf wrapping a TF-1
 * checkpoint and metagraph). Pure: bytes in, bytes out, so a browser loads a bundle with `loadBundle(bytes)`.
 */
import { PolyrnnError } from "../errors.js";
import { decodeSafetensors, encodeSafetensors } from "../io/safetensors.js";
import { CHECKPOINT_FORMAT, checkpointFromSafetensors } from "../train/checkpoint_format.js";
import type { HParams, NamedTensor } from "./api.js";
import { formatHParams, hparamsFromJson, hparamsToJson } from "./hparams.js";
import { weightsProblem } from "./weights.js";

export const BUNDLE_FORMAT = "polyrnn-bundle/1";
export const GENERATOR_ID = "polyphony";
export const GENERATOR_DESCRIPTION = "Polyphonic RNN";

/** Thrown by `loadBundle` and `encodeBundle`, saying what is wrong with the bytes. */
export class BundleError extends PolyrnnError {
  override name = "BundleError";
}

/** A generator bundle, decoded: the model's weights, hparams and training step, and its descriptions. */
export interface Bundle {
  generatorId: string;
  generatorDescription: string;
  /** Magenta's bundle_details.description (--bundle_description). */
  description: string;
  hparams: HParams;
  /** Training step of the checkpoint the bundle was made from. */
  step: number;
  weights: NamedTensor[];
  /** Metadata as stored (including anything this version does not interpret). */
  metadata: Record<string, string>;
}

const META = {
  format: "format",
  generatorId: "generator_id",
  generatorDescription: "generator_description",
  description: "bundle_description",
  hparams: "hparams",
  hparamsJson: "hparams_json",
  step: "step",
} as const;

/** A trained model as the bytes of a bundle (one `.safetensors` file), loadable with `loadBundle`. */
export function encodeBundle(
  b: Omit<Bundle, "metadata" | "generatorId" | "generatorDescription">,
): Uint8Array {
  for (const t of b.weights) {
    if (/\/Adam(_1)?$/.test(t.name))
      throw new BundleError(`bundles hold weights only, not optimizer slot ${t.name}`);
  }
  return encodeSafetensors(b.weights, {
    [META.format]: BUNDLE_FORMAT,
    [META.generatorId]: GENERATOR_ID,
    [META.generatorDescription]: GENERATOR_DESCRIPTION,
    [META.description]: b.description,
    [META.hparams]: formatHParams(b.hparams),
    [META.hparamsJson]: hparamsToJson(b.hparams),
    [META.step]: String(b.step),
  });
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
  const { metadata, tensors } = decoded;
  if (metadata[META.format] === CHECKPOINT_FORMAT) {
    const ckpt = checkpointFromSafetensors(decoded);
    const json = metadata[META.hparamsJson];
    if (json === undefined) throw new BundleError("the checkpoint records no hparams");
    return {
      generatorId: GENERATOR_ID,
      generatorDescription: GENERATOR_DESCRIPTION,
      description: "",
      hparams: hparamsFromJson(json),
      step: ckpt.step,
      weights: ckpt.weights,
      metadata,
    };
  }
  if (metadata[META.format] !== BUNDLE_FORMAT) {
    throw new BundleError(
      `not a polyrnn bundle (metadata format is ${JSON.stringify(metadata[META.format] ?? null)}, expected "${BUNDLE_FORMAT}")`,
    );
  }
  if (metadata[META.generatorId] !== GENERATOR_ID) {
    throw new BundleError(`bundle is for generator "${metadata[META.generatorId]}", not "${GENERATOR_ID}"`);
  }
  const json = metadata[META.hparamsJson];
  if (json === undefined) throw new BundleError("bundle metadata has no hparams");
  const hparams = hparamsFromJson(json);
  const problem = weightsProblem(tensors, hparams);
  if (problem) throw new BundleError(`bundle ${problem}`);
  const step = Number(metadata[META.step] ?? 0);
  if (!Number.isSafeInteger(step) || step < 0) {
    throw new BundleError(`bundle metadata step ${JSON.stringify(metadata[META.step])} is not a step number`);
  }
  return {
    generatorId: GENERATOR_ID,
    generatorDescription: metadata[META.generatorDescription] ?? GENERATOR_DESCRIPTION,
    description: metadata[META.description] ?? "",
    hparams,
    step,
    weights: tensors,
    metadata,
  };
}
