/** A tiny untrained Polyphony RNN (one layer of 8 units) for tests that need a model file, not music. */
import { writeFileSync } from "node:fs";
import { createReferenceKernels } from "../../src/kernels/reference.js";
import type { HParams, NamedTensor } from "../../src/model/api.js";
import { encodeBundle } from "../../src/model/bundle.js";
import { createPolyphonyModel } from "../../src/model/lstm.js";

export const TINY_HPARAMS: HParams = {
  batchSize: 4,
  rnnLayerSizes: [8],
  dropoutKeepProb: 0.5,
  clipNorm: 5,
  learningRate: 0.001,
};

/** Fresh weights (seed 1) of a model with these hparams. */
export function tinyWeights(hparams: HParams = TINY_HPARAMS): NamedTensor[] {
  return createPolyphonyModel(createReferenceKernels(), hparams, { seed: 1 }).exportWeights();
}

/** Writes a bundle of `weights` (default: tinyWeights()) to `path` and returns the path. */
export function writeTinyBundle(path: string, weights = tinyWeights(), hparams = TINY_HPARAMS): string {
  writeFileSync(path, encodeBundle({ weights, hparams, step: 0, description: "tiny test model" }));
  return path;
}
