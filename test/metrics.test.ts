import { describe, expect, it } from "vitest";
import { batchMetrics, EvalAccumulator, TAGS, trainSummary } from "../src/train/metrics.js";

// A 3×2 time-major batch (t·2 + b), sequence 1 two events long, position (2, 1) padding.
//             t0b0 t0b1 t1b0 t1b1 t2b0 t2b1
const labels = [5, 2, 2, 7, 1, -1];
const preds = [5, 2, 3, 9, 1, -1];
const losses = [0.5, 0.25, 2, 1, 0.25, 0];
// Real positions: 5 (event, correct), 2 (no-event, correct), 2 (no-event, wrong), 7 (event, wrong),
// 1 (event, correct). ΣCE = 4, tokens 5, S = 2 STEP_END labels.

describe("train metrics (Magenta's definitions)", () => {
  it("computes each metric on a hand-worked batch", () => {
    const m = batchMetrics(labels, preds, losses);
    expect(m.tokens).toBe(5);
    expect(m.steps).toBe(2);
    expect(m.loss).toBeCloseTo(4 / 5, 12);
    expect(m.perplexity).toBeCloseTo(Math.exp(0.8), 12);
    expect(m.accuracy).toBeCloseTo(3 / 5, 12);
    expect(m.eventAccuracy).toBeCloseTo(2 / 3, 12);
    expect(m.noEventAccuracy).toBeCloseTo(1 / 2, 12);
    expect(m.lossPerStep).toBeCloseTo(4 / 2, 12);
    expect(m.perplexityPerStep).toBeCloseTo(Math.exp(2), 12);
  });

  it("uses Magenta's summary tags", () => {
    expect(Object.keys(trainSummary(batchMetrics(labels, preds, losses)))).toEqual([
      "loss",
      "metrics/perplexity",
      "metrics/accuracy",
      "metrics/event_accuracy",
      "metrics/no_event_accuracy",
      "metrics/loss_per_step",
      "metrics/perplexity_per_step",
    ]);
  });

  it("divides 0 by 0 as TensorFlow does in training: NaN", () => {
    const m = batchMetrics([3, 4], [3, 0], [1, 1]);
    expect(m.noEventAccuracy).toBeNaN();
    expect(m.lossPerStep).toBe(Number.POSITIVE_INFINITY);
    expect(m.eventAccuracy).toBe(0.5);
  });

  it("rejects arrays of different lengths", () => {
    expect(() => batchMetrics([1], [1, 2], [0])).toThrow(/differ in length/);
  });
});

describe("eval metrics (streaming)", () => {
  it("sums over batches and reports Magenta's eval tags", () => {
    const acc = new EvalAccumulator();
    acc.add(labels, preds, losses);
    // Second batch: one event (label 5, wrong, CE 1) and one STEP_END (correct, CE 3).
    acc.add([5, 2], [4, 2], [1, 3]);
    const s = acc.summary();
    // ΣCE = 8 over 7 tokens; S = 3; correct 4 of 7; events 2/4; no-events 2/3.
    expect(s[TAGS.loss]).toBeCloseTo(8 / 7, 12);
    expect(s[TAGS.perplexity]).toBeCloseTo(Math.exp(8 / 7), 12);
    expect(s[TAGS.accuracy]).toBeCloseTo(4 / 7, 12);
    expect(s[TAGS.eventAccuracy]).toBeCloseTo(2 / 4, 12);
    expect(s[TAGS.noEventAccuracy]).toBeCloseTo(2 / 3, 12);
    expect(s[TAGS.lossPerStep]).toBeCloseTo(8 / 3, 12);
    expect(s[TAGS.perplexityPerStep]).toBeCloseTo(Math.exp(8 / 3), 12);
    // Per class: 5 → 1/2, 2 → 2/3, 7 → 0, 1 → 1; tf.metrics.mean_per_class_accuracy averages over all
    // 259 classes (absent ones count 0).
    expect(s[TAGS.perClassAccuracy]).toBeCloseTo((1 / 2 + 2 / 3 + 0 + 1) / 259, 12);
    expect(acc.perClassAccuracyPresent()).toBeCloseTo((1 / 2 + 2 / 3 + 0 + 1) / 4, 12);
    expect(acc.tokens).toBe(7);
    expect(acc.batches).toBe(2);
  });

  it("reads 0, not NaN, for empty denominators (div_no_nan / tf.metrics.recall)", () => {
    const acc = new EvalAccumulator();
    acc.add([3], [3], [0.5]);
    expect(acc.summary()[TAGS.noEventAccuracy]).toBe(0);
    expect(acc.summary()[TAGS.lossPerStep]).toBe(0);
  });
});
