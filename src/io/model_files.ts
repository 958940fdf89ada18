/**
 * Model discovery and model files, for the commands and the Studio's server alike: the bundles shipped
 * in `models/`, a generator bundle file (or a training checkpoint given in its place), and the newest
 * checkpoint of a training run. Errors name the file and say what to do; none is a stack trace.
 *
 *   const src = await readBundleFile("models/bach.safetensors");   // or readRunDir("run1")
 *   model.importWeights(src.weights);   // src.hparams, src.step, src.stepsPerQuarter, src.path
 */
import { join } from "node:path";
import { PolyrnnError, readError } from "../errors.js";
import { LIMITS } from "../limits.js";
import type { NamedTensor } from "../model/api.js";
import { averageWeights } from "../model/average.js";
import { loadBundle } from "../model/bundle.js";
import { formatHParams, type HParams, sameHParams } from "../model/hparams.js";
import { CHECKPOINT_FORMAT } from "../model/model_file.js";
import { CheckpointError } from "../train/checkpoint_format.js";
import {
  type CheckpointFile,
  listCheckpoints,
  loadCheckpoint,
  loadLatestCheckpoint,
} from "./checkpoint_files.js";
import { readInputFile } from "./fs.js";
import { readSafetensorsHeader } from "./safetensors.js";

/**
 * The models `polyrnn generate` (and the Studio) use when given none, in order of preference: the Bach
 * bundle (Magenta's default hparams) once it is shipped, else the Schubert bundle of the notebook
 * reproduction.
 */
export const DEFAULT_BUNDLES = [
  new URL("../../models/bach.safetensors", import.meta.url),
  new URL("../../models/schubert.safetensors", import.meta.url),
];

export interface ModelSource {
  kind: "bundle" | "checkpoint";
  /** The file the weights came from. */
  path: string;
  weights: NamedTensor[];
  hparams: HParams;
  /** Training step of the weights. */
  step: number;
  /** Steps per quarter note of the music the model learned. */
  stepsPerQuarter: number;
  /** The bundle's description ("" for a checkpoint). */
  description: string;
  /** The bundle's temperature for generation, when it records one (`Bundle.temperature`). */
  temperature?: number;
  /** The checkpoints' steps whose weights were averaged into these (`readRunDir` with `average` > 1). */
  averagedSteps?: number[];
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
      stepsPerQuarter: b.stepsPerQuarter,
      description: b.description,
      ...(b.temperature === undefined ? {} : { temperature: b.temperature }),
    };
  } catch (e) {
    fileError(path, e);
  }
}

/**
 * The newest checkpoint in `<runDir>/train`; `warn` hears of newer ones that do not load. With `average`
 * N > 1, the mean of the weights of its newest N checkpoints (all that load, up to N; `averageWeights`),
 * at the newest one's step, with their steps in `averagedSteps`.
 */
export async function readRunDir(
  runDir: string,
  warn: (message: string) => void = (m) => console.error(m),
  average = 1,
): Promise<ModelSource> {
  const trainDir = join(runDir, "train");
  let ckpt: CheckpointFile | undefined;
  try {
    ckpt = await loadLatestCheckpoint(trainDir, warn);
  } catch (e) {
    if (e instanceof PolyrnnError) throw e;
    throw readError(trainDir, e, "folder");
  }
  if (!ckpt) {
    throw new PolyrnnError(
      `no checkpoint in ${trainDir} (train a model first with polyrnn train --run_dir=${runDir})`,
    );
  }
  const newest = sourceOfCheckpoint(ckpt);
  if (average <= 1) return newest;
  const older: ModelSource[] = [];
  for (const ref of (await listCheckpoints(trainDir)).filter((r) => r.step < newest.step).reverse()) {
    if (older.length >= average - 1) break;
    try {
      older.push(sourceOfCheckpoint(await loadCheckpoint(ref.path)));
    } catch (e) {
      if (!(e instanceof CheckpointError)) throw e;
      warn(`warning: ${e.message}; not averaged`);
    }
  }
  for (const o of older) {
    if (!sameHParams(o.hparams, newest.hparams))
      throw new PolyrnnError(`${o.path}: hparams ${formatHParams(o.hparams)} differ from ${newest.path}'s`);
  }
  const sources = [...older.reverse(), newest];
  return {
    ...newest,
    weights: averageWeights(sources.map((o) => o.weights)),
    averagedSteps: sources.map((o) => o.step),
  };
}

/** One checkpoint file of `polyrnn train`, with the hparams recorded in it. */
export async function readCheckpointFile(path: string): Promise<ModelSource> {
  return sourceOfCheckpoint(await loadCheckpoint(path));
}

function sourceOfCheckpoint(ckpt: CheckpointFile): ModelSource {
  if (!ckpt.hparams) throw new PolyrnnError(`${ckpt.path}: the checkpoint records no hparams`);
  return {
    kind: "checkpoint",
    path: ckpt.path,
    weights: ckpt.weights,
    hparams: ckpt.hparams,
    step: ckpt.step,
    stepsPerQuarter: ckpt.stepsPerQuarter,
    description: "",
  };
}
