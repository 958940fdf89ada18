/**
 * Magenta's evaluation metrics of one model on a set of SequenceExamples: loss, perplexity, accuracy,
 * event / no-event accuracy, loss and perplexity per step, per-class accuracy, with the definitions of
 * src/train/metrics.ts. The one eval loop: `polyrnn train --eval` and `polyrnn eval` both run it, so
 * `polyrnn eval` on a checkpoint prints exactly what `train --eval` wrote for it.
 *
 * Dropout is ON by default, as in Magenta's eval graph (its eval numbers are those of the dropout-on
 * network); `dropout: false` scores the network as generation runs it. Batch i's masks are seeded with
 * mixSeed(seed, step, i, 3), `step` being the checkpoint's training step, so the same seed and checkpoint
 * give the same numbers.
 *
 * Which examples: with `numEvalExamples` 0 (the default) every example once, in file order, in batches
 * of `batchSize` (the last one may be smaller: the metrics are sums over real positions, so a partial
 * batch counts exactly its examples). With `numEvalExamples` > 0, Magenta's pass: that many // batchSize
 * full batches in file order, cycling through the file (EvalBatches). (Magenta's default pass is
 * count // batchSize full batches, which leaves out up to batchSize − 1 examples; here every example
 * counts unless `numEvalExamples` asks for Magenta's pass.)
 *
 * Pure: no files, no console.
 */
import { EvalBatches, type ExampleSet, mixSeed } from "../dataset/batches.js";
import { PolyrnnError } from "../errors.js";
import type { Batch, PolyphonyModel } from "../model/api.js";
import { EvalAccumulator } from "../train/metrics.js";

export interface DatasetEvalOptions {
  /** Sequences per batch (default: the model's hparams batch size). */
  batchSize?: number;
  /** Output dropout as in training (default true, Magenta's eval). */
  dropout?: boolean;
  /** Seed of the dropout masks (default 0). */
  seed?: number;
  /** The weights' training step, mixed into the masks' seeds as `train --eval` does (default 0). */
  step?: number;
  /** 0: every example once; N > 0: Magenta's N // batchSize full batches. */
  numEvalExamples?: number;
  /** Called after each batch with the number of batches done and in all. */
  onBatch?: (done: number, total: number) => void;
}

export interface DatasetEvalResult {
  /** Magenta's summary scalars by tag (`loss`, `metrics/perplexity`, …). */
  metrics: Record<string, number>;
  /** Mean accuracy over the classes present in the labels (not Magenta's; for reports). */
  perClassAccuracyPresent: number;
  /** Examples fed (with repeats when numEvalExamples wraps around the file). */
  examples: number;
  batches: number;
  /** Positions scored (events predicted). */
  tokens: number;
  dropout: boolean;
}

function* everyExampleOnce(set: ExampleSet, batchSize: number): Generator<Batch> {
  for (let start = 0; start < set.count; start += batchSize) {
    const n = Math.min(batchSize, set.count - start);
    yield set.makeBatch(Uint32Array.from({ length: n }, (_, b) => start + b));
  }
}

/**
 * The eval loop as a generator: yields after each batch (`done` of `total`), returns the result. Callers
 * that must stay responsive (train --eval) await between batches; `evaluateDataset` runs it through.
 */
export function* evaluateDatasetSteps(
  model: PolyphonyModel,
  set: ExampleSet,
  opts: DatasetEvalOptions = {},
): Generator<{ done: number; total: number }, DatasetEvalResult> {
  const batchSize = opts.batchSize ?? model.hparams.batchSize;
  if (!Number.isInteger(batchSize) || batchSize < 1)
    throw new PolyrnnError(`batch size must be at least 1, got ${batchSize}`);
  if (set.count === 0) throw new PolyrnnError("the dataset has no examples");
  const numEvalExamples = opts.numEvalExamples ?? 0;
  const dropout = opts.dropout ?? true;
  const seed = opts.seed ?? 0;
  const step = opts.step ?? 0;

  let batches: Iterable<Batch>;
  let total: number;
  if (numEvalExamples > 0) {
    const eb = new EvalBatches(set, batchSize, numEvalExamples);
    batches = eb.batches();
    total = eb.numBatches;
  } else {
    batches = everyExampleOnce(set, batchSize);
    total = Math.ceil(set.count / batchSize);
  }

  const acc = new EvalAccumulator();
  let examples = 0;
  let i = 0;
  for (const batch of batches) {
    const r = model.forward(batch, { dropout, backward: false, seed: mixSeed(seed, step, i, 3) });
    acc.add(batch.labels, r.preds, r.losses);
    examples += batch.batchSize;
    i++;
    opts.onBatch?.(i, total);
    yield { done: i, total };
  }
  return {
    metrics: acc.summary(),
    perClassAccuracyPresent: acc.perClassAccuracyPresent(),
    examples,
    batches: i,
    tokens: acc.tokens,
    dropout,
  };
}

export function evaluateDataset(
  model: PolyphonyModel,
  set: ExampleSet,
  opts: DatasetEvalOptions = {},
): DatasetEvalResult {
  const steps = evaluateDatasetSteps(model, set, opts);
  for (;;) {
    const r = steps.next();
    if (r.done) return r.value;
  }
}
