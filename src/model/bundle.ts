/**
 * Generator bundles: ONE `.safetensors` file holding a trained model's weights (Magenta's variable names,
 * TensorFlow shapes) and, in the header metadata, the generator id `polyphony`, the generator and bundle
 * descriptions, the hparams, the training step and the steps per quarter note (model_file.ts). It replaces Magenta's `.mag` (a protobuf wrapping a TF-1
 * checkpoint and metagraph). Pure: bytes in, bytes out, so a browser loads a bundle with `loadBundle(bytes)`.
 */
import { PolyrnnError } from "../errors.js";
import { decodeSafetensors, encodeSafetensors, type SafetensorsTensor } from "../io/safetensors.js";
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
  /**
   * The training steps whose checkpoints were averaged into these weights (`--average_checkpoints`),
   * oldest first; absent: the weights of the checkpoint at `step` alone.
   */
  averagedSteps?: number[];
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
  averagedSteps: "averaged_steps",
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
   * How the weights are stored: float32 (default, exactly as trained), float16 (half the bytes; each
   * weight rounded to the nearest float16) or int8 (a quarter: see `INT8_SCALE_SUFFIX`). `loadBundle`
   * reads each back as float32.
   */
  dtype?: BundleDtype;
};

/** How a bundle stores its weights. */
export type BundleDtype = "float32" | "float16" | "int8";
/** Every `BundleDtype`, in the order `--bundle_dtype` lists them. */
export const BUNDLE_DTYPES: readonly BundleDtype[] = ["float32", "float16", "int8"];

/**
 * int8 bundles: each matrix (a kernel, inputs × outputs) is stored as I8 integers q with one float32
 * scale per output column, in a tensor of the same name plus this suffix: the weight is q · scale, and
 * the scale is the column's largest magnitude ÷ 127 (symmetric, rounded to nearest). Biases stay float32.
 */
export const INT8_SCALE_SUFFIX = "/int8_scale";

/** A kernel as int8 integers and its per-column scales (see INT8_SCALE_SUFFIX). */
function quantized(t: NamedTensor): SafetensorsTensor[] {
  const cols = t.shape[t.shape.length - 1];
  const scale = new Float32Array(cols);
  for (let i = 0; i < t.data.length; i++) {
    const j = i % cols;
    scale[j] = Math.max(scale[j], Math.abs(t.data[i]));
  }
  for (let j = 0; j < cols; j++) scale[j] /= 127;
  const q = new Float32Array(t.data.length);
  for (let i = 0; i < q.length; i++) {
    const s = scale[i % cols];
    q[i] = s > 0 ? Math.round(t.data[i] / s) : 0;
  }
  return [
    { name: t.name, shape: t.shape, data: q, dtype: "I8" },
    { name: t.name + INT8_SCALE_SUFFIX, shape: [cols], data: scale },
  ];
}

/**
 * The tensors with each I8 tensor times its scales (and the scale tensors gone): what a bundle of any dtype
 * holds as float32, for every reader of bundles (loadBundle, a training run's --warm_start).
 */
export function dequantized(tensors: readonly SafetensorsTensor[]): SafetensorsTensor[] {
  const byName = new Map(tensors.map((t) => [t.name, t]));
  // Each I8 tensor's name → its scales, checked; the scale tensors are then left out.
  const scales = new Map<string, Float32Array>();
  for (const t of tensors) {
    if (t.dtype !== "I8") continue;
    const scaleName = t.name + INT8_SCALE_SUFFIX;
    const scale = byName.get(scaleName);
    const cols = t.shape[t.shape.length - 1];
    if (!scale || scale.dtype === "I8" || scale.shape.length !== 1 || scale.shape[0] !== cols) {
      throw new BundleError(
        `int8 tensor ${t.name} needs a float tensor ${scaleName} of shape [${cols ?? 0}] beside it`,
      );
    }
    scales.set(t.name, scale.data);
  }
  const scaleNames = new Set([...scales.keys()].map((n) => n + INT8_SCALE_SUFFIX));
  return tensors
    .filter((t) => !scaleNames.has(t.name))
    .map((t) => {
      const scale = scales.get(t.name);
      if (!scale) return t;
      return {
        name: t.name,
        shape: t.shape,
        data: Float32Array.from(t.data, (q, i) => q * scale[i % scale.length]),
      };
    });
}

/** A trained model as the bytes of a bundle (one `.safetensors` file), loadable with `loadBundle`. */
export function encodeBundle(b: BundleInput): Uint8Array {
  for (const t of b.weights) {
    if (/\/Adam(_1)?$/.test(t.name))
      throw new BundleError(`bundles hold weights only, not optimizer slot ${t.name}`);
  }
  // The dtype asked for (float32 unless told), whatever the tensors were read from.
  const dtype = b.dtype ?? "float32";
  if (!BUNDLE_DTYPES.includes(dtype))
    throw new BundleError(`bundle dtype ${JSON.stringify(dtype)} is not one of ${BUNDLE_DTYPES.join(", ")}`);
  const stored = b.weights.flatMap(({ name, shape, data }): SafetensorsTensor[] => {
    if (dtype === "int8" && shape.length >= 2) return quantized({ name, shape, data });
    return [{ name, shape, data, dtype: dtype === "float16" ? "F16" : "F32" }];
  });
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
      ...(b.averagedSteps === undefined
        ? {}
        : { [META.averagedSteps]: checkedSteps(b.averagedSteps.join(",")).join(",") }),
      ...modelMetadata(b),
    });
  } catch (e) {
    if (e instanceof BundleError) throw e;
    throw new BundleError(`cannot write the bundle: ${(e as Error).message}`);
  }
  return bytes;
}

/** A comma-separated list of training steps (whole numbers ≥ 0, at least one). */
function checkedSteps(text: string): number[] {
  const steps = text.split(",").map((x) => (/^\d+$/.test(x) ? Number(x) : Number.NaN));
  if (!steps.every(Number.isSafeInteger))
    throw new BundleError(`bundle averaged_steps ${JSON.stringify(text)} is not a list of steps`);
  return steps;
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
  decoded.tensors = dequantized(decoded.tensors);
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
    ...(checkpoint || metadata[META.averagedSteps] === undefined
      ? {}
      : { averagedSteps: checkedSteps(metadata[META.averagedSteps]) }),
    weights,
    metadata,
  };
}
