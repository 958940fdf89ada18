/**
 * A training checkpoint's bytes (pure, for Node and the browser): one safetensors file holding the
 * weights (Magenta's variable names and TensorFlow shapes, spec §4.7), the Adam moments (`<name>/Adam`,
 * `<name>/Adam_1`), and in the header's metadata the step, the hparams (Magenta's `--hparams` syntax and
 * JSON), the format version, the polyrnn version and the creation time. src/train/checkpoint.ts writes
 * and reads them as files; `loadBundle` takes them where a bundle is expected.
 */
import { PolyrnnError } from "../errors.js";
import { type DecodedSafetensors, decodeSafetensors, encodeSafetensors } from "../io/safetensors.js";
import type { HParams, NamedTensor, OptimizerState } from "../model/api.js";
import { hparamsFromJson } from "../model/hparams.js";
import { weightsProblem } from "../model/weights.js";

export const CHECKPOINT_FORMAT = "polyrnn-checkpoint/1";

/** Thrown when checkpoint bytes or files are not a usable polyrnn checkpoint. */
export class CheckpointError extends PolyrnnError {
  override name = "CheckpointError";
}

/** Metadata keys of a checkpoint's safetensors header. */
export const META = {
  format: "format",
  step: "step",
  hparams: "hparams",
  hparamsJson: "hparams_json",
  version: "polyrnn_version",
  created: "created",
  optimizerTensors: "optimizer_tensors",
  preserved: "preserved",
  /** The run's seed (batch order, dropout), reused when the run resumes. */
  seed: "seed",
} as const;

/** A decoded checkpoint (`path` is set when it was read from a file). */
export interface Checkpoint {
  path?: string;
  step: number;
  weights: NamedTensor[];
  /** The Adam state, when the file has one (checkpoints do; bundles do not). */
  optimizer?: OptimizerState;
  metadata: Record<string, string>;
}

/** What a checkpoint holds. */
export interface SaveInput {
  step: number;
  weights: NamedTensor[];
  optimizer?: OptimizerState;
  /** Extra metadata, e.g. `hparams` and `hparams_json`. */
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
    [META.format]: CHECKPOINT_FORMAT,
    [META.step]: String(input.step),
    [META.version]: extra.version ?? "unknown",
    [META.created]: (extra.created ?? new Date()).toISOString(),
    [META.optimizerTensors]: JSON.stringify(optimizerTensors.map((t) => t.name)),
  };
  if (extra.preserved) metadata[META.preserved] = "true";
  return encodeSafetensors([...input.weights, ...optimizerTensors], metadata);
}

/** Weights and optimizer tensors of a safetensors file (the optimizer's named in the metadata, or TF's slots). */
export function splitTensors(
  tensors: NamedTensor[],
  metadata: Record<string, string>,
): { weights: NamedTensor[]; optimizer: NamedTensor[] } {
  let optimizerNames: Set<string>;
  if (metadata[META.optimizerTensors] !== undefined) {
    let names: unknown;
    try {
      names = JSON.parse(metadata[META.optimizerTensors]);
    } catch {
      names = undefined;
    }
    if (!Array.isArray(names)) throw new CheckpointError(`metadata ${META.optimizerTensors} is not a list`);
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
 * The weights against the hparams the file records (model/weights.ts: shapes, layer count, NaN), as
 * every loader checks them.
 */
export function checkWeights(weights: readonly NamedTensor[], hparamsJson: string | undefined): void {
  let hparams: HParams | undefined;
  try {
    hparams = hparamsJson === undefined ? undefined : hparamsFromJson(hparamsJson);
  } catch (e) {
    throw new CheckpointError(`its hparams: ${(e as Error).message}`);
  }
  const problem = weightsProblem(weights, hparams);
  if (problem) throw new CheckpointError(problem);
}

/**
 * The weights and optimizer tensors of a checkpoint or bundle, checked: some weights, and every weight
 * against the hparams the file records (`checkWeights`). Errors say what is wrong, without a file name.
 */
export function checkedTensors({ tensors, metadata }: DecodedSafetensors): {
  weights: NamedTensor[];
  optimizer: NamedTensor[];
} {
  const split = splitTensors(tensors, metadata);
  if (split.weights.length === 0) throw new CheckpointError("holds no weights");
  checkWeights(split.weights, metadata[META.hparamsJson]);
  return split;
}

/** Checks a decoded safetensors file as a checkpoint; errors say what is wrong (the caller adds a file name). */
export function checkpointFromSafetensors({ tensors, metadata }: DecodedSafetensors): Checkpoint {
  if (metadata[META.format] !== CHECKPOINT_FORMAT) {
    throw new CheckpointError(
      `not a polyrnn checkpoint (metadata format is ${JSON.stringify(metadata[META.format] ?? null)}, expected "${CHECKPOINT_FORMAT}")`,
    );
  }
  const step = Number(metadata[META.step]);
  if (!Number.isSafeInteger(step) || step < 0) {
    throw new CheckpointError(`metadata step ${JSON.stringify(metadata[META.step])} is not a step number`);
  }
  const { weights, optimizer } = checkedTensors({ tensors, metadata });
  return { step, weights, optimizer: { step, tensors: optimizer }, metadata };
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
