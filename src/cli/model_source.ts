/**
 * A command's model from its flags: a generator bundle (`--bundle_file`) or the newest checkpoint of a
 * training run (`--run_dir`), read by src/io/model_files.ts. Errors name the file and say what to do.
 *
 *   const src = await loadModelSource({ bundleFile: flags.bundle_file, runDir: flags.run_dir });
 *   model.importWeights(src.weights);   // src.hparams, src.step, src.path, src.description
 */
import { UsageError } from "../errors.js";
import { type ModelSource, readBundleFile, readRunDir } from "../io/model_files.js";

export type { ModelSource };

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
