/**
 * A training checkpoint's bytes (pure, for Node and the browser): one safetensors file holding the
 * weights (Magenta's variable names and TensorFlow shapes, spec §4.7), the Adam moments (`<name>/Adam`,
 * `<name>/Adam_1`), and in the header's metadata what every model file records (src/model/model_file.ts:
 * hparams, step, steps per quarter note), the run's seed, the format version, the polyrnn version and the
 * creation time. src/io/checkpoint_files.ts writes and reads them as files; `loadBundle` takes them where
 * a bundle is expected.
 */
import { PolyrnnError } from "../errors.js";
import { type DecodedSafetensors, decodeSafetensors, encodeSafetensors } from "../io/safetensors.js";
import type { NamedTensor, OptimizerState } from "../model/api.js";
import type { HParams } from "../model/hparams.js";
import {
  CHECKPOINT_FORMAT,
  checkedTensors,
  MODEL_META,
  modelMetadata,
  recordedHParams,
  recordedStep,
  recordedStepsPerQuarter,
} from "../model/model_file.js";

export { CHECKPOINT_FORMAT };

/** Thrown when checkpoint bytes or files are not a usable polyrnn checkpoint. */
export class CheckpointError extends PolyrnnError {
  override name = "CheckpointError";
}

/** Metadata keys of a checkpoint's safetensors header. */
export const META = {
  ...MODEL_META,
  version: "polyrnn_version",
  created: "created",
  preserved: "preserved",
  /** The run's seed (batch order, dropout), reused when the run resumes. */
  seed: "seed",
} as const;

/** A decoded checkpoint. */
export interface Checkpoint {
  /** The training step it was saved at (TensorFlow's global step). */
  step: number;
  /** The model's weights: Magenta's variable names, TensorFlow shapes. */
  weights: NamedTensor[];
  /** The Adam state, when the file has one (checkpoints do; bundles do not). */
  optimizer?: OptimizerState;
  /** The hparams the file records (undefined when it records none). */
  hparams?: HParams;
  /** Steps per quarter note of the training music (4 for files written before it was recorded). */
  stepsPerQuarter: number;
  /** The run's seed, when the file records one. */
  seed?: number;
  /** The safetensors header's metadata as stored, including keys this version does not interpret. */
  metadata: Record<string, string>;
}

/** What a checkpoint holds. */
export interface SaveInput {
  /** The training step (TensorFlow's global step); CheckpointManager names the file after it. */
  step: number;
  /** The model's weights: Magenta's variable names, TensorFlow shapes. */
  weights: NamedTensor[];
  /** The Adam state, to resume training exactly (without it, a resumed run starts Adam afresh). */
  optimizer?: OptimizerState;
  /** The hparams of the run, recorded so that the checkpoint loads as a model (`loadBundle`) and resumes. */
  hparams?: HParams;
  /** Steps per quarter note of the training music; default 4. */
  stepsPerQuarter?: number;
  /** The run's seed (batch order, dropout), so that a resumed run goes on as the uninterrupted one. */
  seed?: number;
  /** Extra metadata. */
  metadata?: Record<string, string>;
}

/** A checkpoint's bytes; `created` (default now), `version` and `preserved` go into the metadata. */
export function encodeCheckpoint(
  input: SaveInput,
  extra: { created?: Date; version?: string; preserved?: boolean } = {},
): Uint8Array {
  const optimizerTensors = input.optimizer?.tensors ?? [];
  const metadata: Record<string, string> = {
    ...input.metadata,
    ...(input.hparams
      ? modelMetadata({ hparams: input.hparams, step: input.step, stepsPerQuarter: input.stepsPerQuarter })
      : {}),
    [META.format]: CHECKPOINT_FORMAT,
    [META.step]: String(input.step),
    [META.version]: extra.version ?? "unknown",
    [META.created]: (extra.created ?? new Date()).toISOString(),
    [META.optimizerTensors]: JSON.stringify(optimizerTensors.map((t) => t.name)),
  };
  if (input.seed !== undefined) metadata[META.seed] = String(input.seed);
  if (extra.preserved) metadata[META.preserved] = "true";
  return encodeSafetensors([...input.weights, ...optimizerTensors], metadata);
}

/** Checks a decoded safetensors file as a checkpoint; errors say what is wrong (the caller adds a file name). */
export function checkpointFromSafetensors(decoded: DecodedSafetensors): Checkpoint {
  const { metadata } = decoded;
  if (metadata[META.format] !== CHECKPOINT_FORMAT) {
    throw new CheckpointError(
      `not a polyrnn checkpoint (metadata format is ${JSON.stringify(metadata[META.format] ?? null)}, expected "${CHECKPOINT_FORMAT}")`,
    );
  }
  const step = recordedStep(metadata, CheckpointError);
  const hparams = recordedHParams(metadata, CheckpointError, "its hparams: ");
  const { weights, optimizer } = checkedTensors(decoded, hparams, CheckpointError);
  const seed = Number(metadata[META.seed]);
  return {
    step,
    weights,
    optimizer: { step, tensors: optimizer },
    ...(hparams ? { hparams } : {}),
    stepsPerQuarter: recordedStepsPerQuarter(metadata, CheckpointError),
    ...(metadata[META.seed] !== undefined && Number.isSafeInteger(seed) ? { seed } : {}),
    metadata,
  };
}

/** A checkpoint's bytes, decoded and checked. */
export function decodeCheckpoint(bytes: Uint8Array): Checkpoint {
  let decoded: DecodedSafetensors;
  try {
    decoded = decodeSafetensors(bytes);
  } catch (e) {
    throw new CheckpointError((e as Error).message);
  }
  return checkpointFromSafetensors(decoded);
}
