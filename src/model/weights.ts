/**
 * The one check of a model file's weights against its hparams, used wherever weights are loaded from a
 * file (a bundle, a checkpoint, a warm start), so that generation, eval, resume and warm start refuse the
 * same files: every tensor the hparams imply is there with its shape, no other layer's tensor is, and
 * every value is finite. A NaN weight would make generation sample garbage forever; a missing layer would
 * silently run a smaller model.
 *
 *   const problem = weightsProblem(weights, hparams);   // "tensor … has shape [8,32], expected [16,64]"
 */
import { modelSizeProblem } from "../limits.js";
import type { HParams, NamedTensor } from "./api.js";
import { weightShapes } from "./lstm.js";

/** Names and shapes of a Polyphony RNN's weights (Magenta's names, TensorFlow shapes). */
export function expectedWeightShapes(layerSizes: readonly number[]): Map<string, number[]> {
  return new Map(weightShapes(layerSizes).map((t) => [t.name, t.shape]));
}

/**
 * What is wrong with `weights` as the model `hparams` describes (one line), or undefined. Without hparams
 * (a file that records none) only the values are checked.
 */
export function weightsProblem(weights: readonly NamedTensor[], hparams?: HParams): string | undefined {
  if (hparams) {
    const problem = shapesProblem(weights, hparams);
    if (problem) return problem;
  }
  for (const t of weights) {
    const data = t.data;
    for (let i = 0; i < data.length; i++) {
      if (!Number.isFinite(data[i])) return `tensor ${t.name} holds NaN or Inf (at index ${i})`;
    }
  }
  return undefined;
}

function shapesProblem(weights: readonly NamedTensor[], hparams: HParams): string | undefined {
  const sizes = `rnn_layer_sizes=[${hparams.rnnLayerSizes.join(",")}]`;
  const tooLarge = modelSizeProblem(hparams.rnnLayerSizes);
  if (tooLarge) return `the model (${sizes}) ${tooLarge}`;
  const expected = expectedWeightShapes(hparams.rnnLayerSizes);
  const byName = new Map(weights.map((t) => [t.name, t]));
  for (const [name, shape] of expected) {
    const t = byName.get(name);
    if (!t) return `has no tensor ${name}, which its hparams (${sizes}) need`;
    if (t.shape.length !== shape.length || t.shape.some((d, i) => d !== shape[i])) {
      return `tensor ${name} has shape [${t.shape}], but its hparams (${sizes}) say [${shape}]`;
    }
  }
  for (const t of weights) {
    if (!expected.has(t.name) && /^rnn\/|^fully_connected\//.test(t.name)) {
      return `holds tensor ${t.name}, which its hparams (${sizes}) do not have`;
    }
  }
  return undefined;
}
