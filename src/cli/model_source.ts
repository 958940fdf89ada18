/**
 * Where a command's model comes from: a generator bundle (`--bundle_file`) or the newest checkpoint of a
 * training run (`--run_dir`). Errors name the file and say what to do; none is a stack trace.
 *
 *   const src = await loadModelSource({ bundleFile: flags.bundle_file, runDir: flags.run_dir });
 *   model.importWeights(src.weights);   // src.hparams, src.step, src.path, src.description
 */
import { join } from "node:path";
import { PolyrnnError, readError, UsageError } from "../errors.js";
import { readInputFile } from "../io/fs.js";
import { readSafetensorsHeader } from "../io/safetensors.js";
import { LIMITS } from "../limits.js";
import type { HParams, NamedTensor } from "../model/api.js";
import { loadBundle } from "../model/bundle.js";
import { hparamsFromJson } from "../model/hparams.js";
import {
  CHECKPOINT_FORMAT,
  type Checkpoint,
  loadCheckpoint,
  loadLatestCheckpoint,
} from "../train/checkpoint.js";

export interface ModelSource {
  kind: "bundle" | "checkpoint";
  /** The file the weights came from. */
  path: string;
  weights: NamedTensor[];
  hparams: HParams;
  /** Training step of the weights. */
  step: number;
  /** The bundle's description ("" for a checkpoint). */
  description: string;
}

/** Rethrows a read error as one line naming the file. */
function fileError(path: string, e: unknown): never {
  if (e instanceof PolyrnnError) throw new PolyrnnError(`${path}: ${e.message.replace(`${path}: `, "")}`);
  throw readError(path, e);
}

/** A bundle, or a training checkpoint given where a bundle is expected (its weights and hparams serve). */
export async function readBundleFile(path: string): Promise<ModelSource> {
  const bytes = await readInputFile(path, LIMITS.modelFileBytes);
  let format: string | undefined;
  try {
    format = readSafetensorsHeader(bytes).metadata?.format;
  } catch {
    // Not safetensors at all: loadBundle below says so.
  }
  if (format === CHECKPOINT_FORMAT) return readCheckpointFile(path);
  try {
    const b = loadBundle(bytes);
    return {
      kind: "bundle",
      path,
      weights: b.weights,
      hparams: b.hparams,
      step: b.step,
      description: b.description,
    };
  } catch (e) {
    fileError(path, e);
  }
}

/** The newest checkpoint in `<runDir>/train`. */
export async function readRunDir(runDir: string): Promise<ModelSource> {
  const trainDir = join(runDir, "train");
  let ckpt: Checkpoint | undefined;
  try {
    ckpt = await loadLatestCheckpoint(trainDir, (m) => console.error(m));
  } catch (e) {
    if (e instanceof PolyrnnError) throw e;
    throw readError(trainDir, e, "folder");
  }
  if (!ckpt) {
    throw new PolyrnnError(
      `no checkpoint in ${trainDir} (train a model first with polyrnn train --run_dir=${runDir})`,
    );
  }
  return sourceOfCheckpoint(ckpt);
}

/** One checkpoint file of `polyrnn train`, with the hparams recorded in it. */
export async function readCheckpointFile(path: string): Promise<ModelSource> {
  return sourceOfCheckpoint(await loadCheckpoint(path));
}

function sourceOfCheckpoint(ckpt: Checkpoint): ModelSource {
  const path = ckpt.path;
  const json = ckpt.metadata.hparams_json;
  if (!json) throw new PolyrnnError(`${path}: the checkpoint records no hparams`);
  let hparams: HParams;
  try {
    hparams = hparamsFromJson(json);
  } catch (e) {
    fileError(path, e);
  }
  return {
    kind: "checkpoint",
    path,
    weights: ckpt.weights,
    hparams,
    step: ckpt.step,
    description: "",
  };
}

/** Exactly one of the two: a UsageError when both or neither are given. */
export async function loadModelSource(flags: { bundleFile?: string; runDir?: string }): Promise<ModelSource> {
  if (flags.bundleFile && flags.runDir)
    throw new UsageError("Cannot specify both --bundle_file and --run_dir");
  if (flags.runDir) return readRunDir(flags.runDir);
  if (flags.bundleFile) return readBundleFile(flags.bundleFile);
  throw new UsageError("no model given: pass --bundle_file=BUNDLE.safetensors or --run_dir=RUN_DIR");
}

/** One line describing the model, e.g. `run/train/model.ckpt-200.safetensors (step 200, 64×64)`. */
export function describeModelSource(src: ModelSource): string {
  const sizes = src.hparams.rnnLayerSizes.join("×");
  return `${src.path} (${sizes}, step ${src.step}${src.description ? `: ${src.description}` : ""})`;
}
