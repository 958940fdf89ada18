/**
 * Training and evaluation metrics with Magenta's exact definitions (spec §4.3,
 * magenta/models/shared/events_rnn_graph.py). Inputs are the per-position arrays of one batch
 * (time-major or not: only positions matter), label -1 = padding, which every metric ignores.
 *
 * NE = positions whose label is STEP_END (2, the "no event" class), E = all other real positions,
 * S = the number of STEP_END labels (`labels_to_num_steps`: one step per STEP_END).
 */
import { NUM_CLASSES } from "../events/codec.js";

/** STEP_END: the class Magenta's encoder calls "no event". */
export const NO_EVENT_LABEL = 2;

/** Summary tags, as Magenta's (TensorBoard shows the same names). */
export const TAGS = {
  /** Mean cross-entropy per predicted event (`BatchMetrics.loss`). */
  loss: "loss",
  /** exp(loss). */
  perplexity: "metrics/perplexity",
  /** Share of events predicted right. */
  accuracy: "metrics/accuracy",
  /** Accuracy on the events that are not STEP_END. */
  eventAccuracy: "metrics/event_accuracy",
  /** Accuracy on the STEP_END events (Magenta's "no event"). */
  noEventAccuracy: "metrics/no_event_accuracy",
  /** Cross-entropy per quantized step (per STEP_END). */
  lossPerStep: "metrics/loss_per_step",
  /** exp(loss per step). */
  perplexityPerStep: "metrics/perplexity_per_step",
  /** Evaluation only: the mean over all 259 classes of each class's accuracy. */
  perClassAccuracy: "metrics/per_class_accuracy",
} as const;

/** Magenta's train metrics of one batch (`batchMetrics`). */
export interface BatchMetrics {
  /** Mean cross-entropy (nats) over the batch's real positions: Magenta's token-mean loss, ≥ 0. */
  loss: number;
  /** exp(loss): 1 for a perfect model, 259 for a uniform guess over the classes. */
  perplexity: number;
  /** Share of real positions whose most likely class (argmax) is the label, 0 … 1. */
  accuracy: number;
  /** NaN when the batch has no event positions (0/0, as TensorFlow's division). */
  eventAccuracy: number;
  /** NaN when the batch has no STEP_END labels. */
  noEventAccuracy: number;
  /** Σ cross-entropy / S: the loss per quantized step of music (not finite when S is 0). */
  lossPerStep: number;
  /** exp(lossPerStep). */
  perplexityPerStep: number;
  /** Real positions (events predicted). */
  tokens: number;
  /** STEP_END labels (S). */
  steps: number;
}

/** Raw sums of one batch; every metric is a ratio of two of these. */
interface Counts {
  tokens: number;
  lossSum: number;
  correct: number;
  events: number;
  eventCorrect: number;
  noEvents: number;
  noEventCorrect: number;
}

function count(labels: ArrayLike<number>, preds: ArrayLike<number>, losses: ArrayLike<number>): Counts {
  if (preds.length !== labels.length || losses.length !== labels.length) {
    throw new Error(
      `metrics: labels (${labels.length}), preds (${preds.length}) and losses (${losses.length}) differ in length`,
    );
  }
  const c: Counts = {
    tokens: 0,
    lossSum: 0,
    correct: 0,
    events: 0,
    eventCorrect: 0,
    noEvents: 0,
    noEventCorrect: 0,
  };
  for (let i = 0; i < labels.length; i++) {
    const label = labels[i];
    if (label < 0) continue;
    const ok = preds[i] === label ? 1 : 0;
    c.tokens++;
    c.lossSum += losses[i];
    c.correct += ok;
    if (label === NO_EVENT_LABEL) {
      c.noEvents++;
      c.noEventCorrect += ok;
    } else {
      c.events++;
      c.eventCorrect += ok;
    }
  }
  return c;
}

/** Train metrics of one batch (Magenta's `mode == 'train'` branch). */
export function batchMetrics(
  labels: ArrayLike<number>,
  preds: ArrayLike<number>,
  losses: ArrayLike<number>,
): BatchMetrics {
  const c = count(labels, preds, losses);
  const loss = c.lossSum / c.tokens;
  const lossPerStep = c.lossSum / c.noEvents;
  return {
    loss,
    perplexity: Math.exp(loss),
    accuracy: c.correct / c.tokens,
    eventAccuracy: c.eventCorrect / c.events,
    noEventAccuracy: c.noEventCorrect / c.noEvents,
    lossPerStep,
    perplexityPerStep: Math.exp(lossPerStep),
    tokens: c.tokens,
    steps: c.noEvents,
  };
}

/** The training summary scalars under Magenta's tags. */
export function trainSummary(m: BatchMetrics): Record<string, number> {
  return {
    [TAGS.loss]: m.loss,
    [TAGS.perplexity]: m.perplexity,
    [TAGS.accuracy]: m.accuracy,
    [TAGS.eventAccuracy]: m.eventAccuracy,
    [TAGS.noEventAccuracy]: m.noEventAccuracy,
    [TAGS.lossPerStep]: m.lossPerStep,
    [TAGS.perplexityPerStep]: m.perplexityPerStep,
  };
}

/** x / y, or 0 when y is 0: TensorFlow's `div_no_nan`, used by the streaming metrics. */
function divNoNan(x: number, y: number): number {
  return y === 0 ? 0 : x / y;
}

/**
 * Streaming evaluation metrics (Magenta's `mode == 'eval'` branch, tf_slim.metrics.aggregate_metric_map):
 * sums over every batch of one evaluation pass, read at the end.
 */
export class EvalAccumulator {
  private c: Counts = {
    tokens: 0,
    lossSum: 0,
    correct: 0,
    events: 0,
    eventCorrect: 0,
    noEvents: 0,
    noEventCorrect: 0,
  };
  private readonly classTotal = new Float64Array(NUM_CLASSES);
  private readonly classCorrect = new Float64Array(NUM_CLASSES);
  batches = 0;

  add(labels: ArrayLike<number>, preds: ArrayLike<number>, losses: ArrayLike<number>): void {
    const b = count(labels, preds, losses);
    for (const k of Object.keys(b) as (keyof Counts)[]) this.c[k] += b[k];
    for (let i = 0; i < labels.length; i++) {
      const label = labels[i];
      if (label < 0) continue;
      this.classTotal[label]++;
      if (preds[i] === label) this.classCorrect[label]++;
    }
    this.batches++;
  }

  get tokens(): number {
    return this.c.tokens;
  }

  /**
   * The eval summary scalars under Magenta's tags:
   * - `loss`: streaming mean CE; `metrics/accuracy`: streaming accuracy (tf.metrics.mean / accuracy;
   *   like every streaming metric, a ratio whose denominator is 0 reads 0);
   * - event / no-event accuracy: tf.metrics.recall(labels = position mask, predictions = correct),
   *   which is 0 (not NaN) when the mask is empty;
   * - `metrics/loss_per_step`: tf.metrics.mean(ΣCE/S, weights=S) = total CE / total S;
   * - `metrics/per_class_accuracy`: tf.metrics.mean_per_class_accuracy over all NUM_CLASSES classes:
   *   the mean of div_no_nan(correct_c, total_c) over the 259 classes, so a class absent from the eval
   *   labels counts as 0 (TensorFlow's definition, which Magenta reports).
   */
  summary(): Record<string, number> {
    const c = this.c;
    const loss = divNoNan(c.lossSum, c.tokens);
    const lossPerStep = divNoNan(c.lossSum, c.noEvents);
    let perClass = 0;
    for (let k = 0; k < NUM_CLASSES; k++) perClass += divNoNan(this.classCorrect[k], this.classTotal[k]);
    return {
      [TAGS.loss]: loss,
      [TAGS.perplexity]: Math.exp(loss),
      [TAGS.accuracy]: divNoNan(c.correct, c.tokens),
      [TAGS.eventAccuracy]: divNoNan(c.eventCorrect, c.events),
      [TAGS.noEventAccuracy]: divNoNan(c.noEventCorrect, c.noEvents),
      [TAGS.lossPerStep]: lossPerStep,
      [TAGS.perplexityPerStep]: Math.exp(lossPerStep),
      [TAGS.perClassAccuracy]: perClass / NUM_CLASSES,
    };
  }

  /** Mean accuracy over only the classes that occur in the labels (not Magenta's; for reports). */
  perClassAccuracyPresent(): number {
    let sum = 0;
    let n = 0;
    for (let k = 0; k < NUM_CLASSES; k++) {
      if (this.classTotal[k] > 0) {
        sum += this.classCorrect[k] / this.classTotal[k];
        n++;
      }
    }
    return n === 0 ? 0 : sum / n;
  }
}
