import { describe, expect, it } from "vitest";
import { ExampleSet } from "../src/dataset/batches.js";
import { evaluateDataset } from "../src/eval/dataset.js";
import { encodeFrames, eventFrameNll, frameNll, UNIFORM_FRAME_NLL } from "../src/eval/frames.js";
import { encodeIds, fromQuantizedSequence, NUM_CLASSES } from "../src/events/codec.js";
import { createLstmRnn } from "../src/generate/lstm_rnn.js";
import { createReferenceKernels } from "../src/kernels/reference.js";
import type { HParams, NamedTensor } from "../src/model/api.js";
import { createPolyphonyModel } from "../src/model/lstm.js";
import { framesToQuantizedSequence, satbToQuantizedSequence } from "../src/pipeline/frames.js";
import { EvalAccumulator } from "../src/train/metrics.js";
import { logProbsOf } from "./helpers/log_probs.js";

const hparams: HParams = {
  batchSize: 3,
  rnnLayerSizes: [6, 5],
  dropoutKeepProb: 0.5,
  clipNorm: 5,
  learningRate: 0.001,
};

/** Event ids: START 0, END 1, STEP_END 2, NEW_NOTE(p) 3 + p, CONTINUED_NOTE(p) 131 + p. */
const NEW = (p: number) => 3 + p;
const CONT = (p: number) => 131 + p;
const [START, END, SE] = [0, 1, 2];

/** A tiny model whose distributions are far from uniform (random weights, skewed output biases). */
function tinyModel(seed = 3) {
  const kernels = createReferenceKernels();
  const model = createPolyphonyModel(kernels, hparams, { seed });
  const weights = model.exportWeights();
  const bias = weights.find((t) => t.name === "fully_connected/biases") as NamedTensor;
  for (let i = 0; i < NUM_CLASSES; i++) bias.data[i] = Math.sin(i * 1.7) * 2;
  bias.data[SE] = 3;
  model.importWeights(weights);
  return { model, weights };
}

/** −log p(ids[t+1] | ids[0..t]) for every t, by the generator's step-by-step path (not model.forward). */
function stepLosses(weights: NamedTensor[], ids: number[]): number[] {
  const rnn = createLstmRnn(createReferenceKernels(), weights);
  try {
    const { logProbs } = logProbsOf(rnn, [rnn.zeroState()], [ids.slice(0, -1)]);
    return ids.slice(1).map((label, t) => -logProbs[0][t * NUM_CLASSES + label]);
  } finally {
    rnn.dispose();
  }
}

/** The per-position losses of model.forward on a one-sequence batch. */
function forwardLosses(model: ReturnType<typeof tinyModel>["model"], ids: number[]): number[] {
  const n = ids.length - 1;
  const r = model.forward(
    {
      batchSize: 1,
      length: n,
      inputs: Int32Array.from(ids.slice(0, -1)),
      labels: Int32Array.from(ids.slice(1)),
      lengths: Int32Array.of(n),
    },
    { dropout: false, backward: false, seed: 0 },
  );
  return [...r.losses];
}

// frames [[60, 64], [64], [], [62]]
const FRAMES = [[60, 64], [64], [], [62]];
//            e0     e1       e2       e3  e4        e5  e6  e7       e8  e9
const IDS = [START, NEW(64), NEW(60), SE, CONT(64), SE, SE, NEW(62), SE, END];
// Position t has label IDS[t + 1]. Frame 0's events are e1 e2 e3 → positions 0, 1, 2 (position 0 is
// START's, predicting the first event); frame 1: e4 e5 → 3, 4; frame 2: e6 → 5; frame 3: e7 e8 → 6, 7;
// END: e9 → position 8.
const GROUPS = [[0, 1, 2], [3, 4], [5], [6, 7]];
const END_POSITION = 8;

describe("encodeFrames", () => {
  it("is the protocol's encoding, and the same events as the frames pipeline", () => {
    expect(encodeFrames(FRAMES)).toEqual(IDS);
    const more = [[], [40, 72, 55], [72, 40], [41, 72, 72], [], [], [100]];
    const viaPipeline = encodeIds(fromQuantizedSequence(framesToQuantizedSequence(more)));
    expect(encodeFrames(more)).toEqual(viaPipeline);
    expect(encodeFrames([])).toEqual([START, END]);
    // Unsorted and repeated pitches: one event each, descending.
    expect(encodeFrames([[60, 64, 60]])).toEqual([START, NEW(64), NEW(60), SE, END]);
  });

  it("rejects what is not a frame sequence", () => {
    expect(() => encodeFrames([[60], [128]])).toThrow(/frame 1: 128 is not a MIDI pitch/);
    expect(() => encodeFrames([[60.5]])).toThrow(/not a MIDI pitch/);
    expect(() => encodeFrames([60] as unknown as number[][])).toThrow(/frame 0: not a list of pitches/);
  });
});

describe("frameNll", () => {
  it("groups per-position losses by the frame of their label (hand-made example)", () => {
    const { model, weights } = tinyModel();
    const steps = stepLosses(weights, IDS);
    const fwd = forwardLosses(model, IDS);
    expect(steps).toHaveLength(9);
    for (let t = 0; t < steps.length; t++) expect(fwd[t]).toBeCloseTo(steps[t], 4);

    const expected = GROUPS.map((g) => g.reduce((s, t) => s + steps[t], 0));
    const r = frameNll(model, [FRAMES]);
    expect(r.sequences).toBe(1);
    expect(r.frames).toBe(4);
    expect(r.events).toBe(9);
    expect(r.frameNlls[0]).toHaveLength(4);
    for (let f = 0; f < 4; f++) expect(r.frameNlls[0][f]).toBeCloseTo(expected[f], 4);
    expect(r.endNlls[0]).toBeCloseTo(steps[END_POSITION], 4);
    expect(r.endNll.sum).toBeCloseTo(steps[END_POSITION], 4);
    const sum = expected.reduce((a, b) => a + b, 0);
    expect(r.nllSum).toBeCloseTo(sum, 4);
    expect(r.nllPerFrame).toBeCloseTo(sum / 4, 4);
    // The whole sequence's NLL = frames + END.
    expect(r.nllSum + r.endNll.sum).toBeCloseTo(
      steps.reduce((a, b) => a + b, 0),
      4,
    );
    model.dispose();
  });

  it("does not depend on batching, padding or order; results come back in input order", () => {
    const { model, weights } = tinyModel(7);
    const seqs = [
      FRAMES,
      [],
      [[48, 52, 55], [48, 52, 55], [50], [], [50, 53, 57, 60]],
      [[]],
      [[70], [71], [72], [72], [72], [], [40, 41]],
      [[64]],
    ];
    const alone = seqs.map((s) => frameNll(model, [s], { batchSize: 1 }));
    for (const batchSize of [1, 2, 4, 64]) {
      const r = frameNll(model, seqs, { batchSize });
      expect(r.sequences).toBe(seqs.length);
      expect(r.frames).toBe(seqs.reduce((n, s) => n + s.length, 0));
      seqs.forEach((s, i) => {
        expect(r.frameNlls[i]).toHaveLength(s.length);
        for (let f = 0; f < s.length; f++) expect(r.frameNlls[i][f]).toBeCloseTo(alone[i].frameNlls[0][f], 5);
        expect(r.endNlls[i]).toBeCloseTo(alone[i].endNlls[0], 5);
      });
      const total = alone.reduce((a, x) => a + x.nllSum, 0);
      expect(r.nllSum).toBeCloseTo(total, 4);
      expect(r.nllPerFrame).toBeCloseTo(total / r.frames, 5);
      expect(r.endNll.perSequence).toBeCloseTo(alone.reduce((a, x) => a + x.endNll.sum, 0) / seqs.length, 5);
    }
    // Against the independent step-by-step path, sequence by sequence.
    for (let i = 0; i < seqs.length; i++) {
      const ids = encodeFrames(seqs[i]);
      const steps = stepLosses(weights, ids);
      const whole = steps.reduce((a, b) => a + b, 0);
      expect(alone[i].nllSum + alone[i].endNll.sum).toBeCloseTo(whole, 4);
      expect(alone[i].endNll.sum).toBeCloseTo(steps[steps.length - 1], 4);
    }
    let batches = 0;
    frameNll(model, seqs, {
      batchSize: 4,
      onBatch: (_done, total) => {
        batches = total;
      },
    });
    expect(batches).toBe(2);
    model.dispose();
  });

  it("an all-zero model is uniform: (k + 1)·ln 259 per frame of k pitches, ln 259 for END", () => {
    const kernels = createReferenceKernels();
    const model = createPolyphonyModel(kernels, hparams, { seed: 1 });
    const zeros = model.exportWeights().map((t) => ({ ...t, data: new Float32Array(t.data.length) }));
    model.importWeights(zeros);
    const seqs = [FRAMES, [[21, 108, 60, 64, 67]], [], [[], []]];
    const r = frameNll(model, seqs, { batchSize: 2 });
    const ln = Math.log(NUM_CLASSES);
    seqs.forEach((s, i) => {
      s.forEach((frame, f) => {
        expect(r.frameNlls[i][f]).toBeCloseTo((frame.length + 1) * ln, 4);
      });
      expect(r.endNlls[i]).toBeCloseTo(ln, 5);
    });
    const frames = 4 + 1 + 0 + 2;
    const pitches = 4 + 5;
    expect(r.frames).toBe(frames);
    expect(r.nllSum).toBeCloseTo((pitches + frames) * ln, 3);
    expect(r.nllPerFrame).toBeCloseTo(((pitches + frames) * ln) / frames, 4);
    expect(r.endNll.sum).toBeCloseTo(4 * ln, 4);
    expect(UNIFORM_FRAME_NLL).toBeCloseTo(61.0, 2);
    model.dispose();
  });

  it("scores event sequences with STEP_END frames (four-voice chorales)", () => {
    const { model } = tinyModel();
    const satb = [
      [67, 64, 60, 48],
      [67, 64, 60, 48],
      [69, 65, -1, 53],
      [69, 69, 60, 53],
    ];
    const ids = encodeIds(fromQuantizedSequence(satbToQuantizedSequence(satb)));
    const r = eventFrameNll(model, [ids]);
    expect(r.frames).toBe(4);
    expect(r.events).toBe(ids.length - 1);
    // The same ids as frames where the encodings agree: no unison, so steps 0..2 are plain frames.
    const asFrames = frameNll(model, [satb.slice(0, 3).map((v) => v.filter((p) => p >= 0))]);
    for (let f = 0; f < 3; f++) expect(r.frameNlls[0][f]).toBeCloseTo(asFrames.frameNlls[0][f], 5);
    expect(() => eventFrameNll(model, [[START, NEW(60), END]])).toThrow(/not closed by a STEP_END/);
    expect(() => eventFrameNll(model, [[NEW(60), SE, END]])).toThrow(/start with START/);
    expect(() => eventFrameNll(model, [[START, SE, END, SE, END]])).toThrow(/END inside/);
    expect(() => frameNll(model, [FRAMES], { batchSize: 0 })).toThrow(/batch size/);
    model.dispose();
  });
});

describe("evaluateDataset", () => {
  const examples = [
    encodeFrames(FRAMES),
    encodeFrames([[60], [60, 67], [], [62, 65]]),
    encodeFrames([[40], [], [41]]),
    encodeFrames([[72, 76], [72], [74]]),
    encodeFrames([[50, 53, 57]]),
  ].map((ids) => ({ labels: ids.slice(1) }));

  it("with dropout off, Magenta's metrics of every example once (last batch partial)", () => {
    const { model } = tinyModel();
    const set = ExampleSet.fromIds(examples);
    const r = evaluateDataset(model, set, { batchSize: 2, dropout: false });
    expect(r.batches).toBe(3);
    expect(r.examples).toBe(5);
    expect(r.tokens).toBe(set.tokens);
    const acc = new EvalAccumulator();
    for (let i = 0; i < set.count; i++) {
      const batch = set.makeBatch([i]);
      const f = model.forward(batch, { dropout: false, backward: false, seed: 0 });
      acc.add(batch.labels, f.preds, f.losses);
    }
    const want = acc.summary();
    for (const [tag, v] of Object.entries(want)) expect(r.metrics[tag], tag).toBeCloseTo(v, 5);
    // Loss = the frame NLL plus END, over all events.
    const frames = frameNll(
      model,
      [FRAMES, [[60], [60, 67], [], [62, 65]], [[40], [], [41]], [[72, 76], [72], [74]], [[50, 53, 57]]],
      {},
    );
    expect(r.metrics.loss).toBeCloseTo((frames.nllSum + frames.endNll.sum) / frames.events, 5);
    model.dispose();
  });

  it("with dropout on (the default), is seeded; numEvalExamples gives Magenta's full batches", () => {
    const { model } = tinyModel();
    const set = ExampleSet.fromIds(examples);
    const a = evaluateDataset(model, set, { batchSize: 2, seed: 4 });
    const b = evaluateDataset(model, set, { batchSize: 2, seed: 4 });
    const c = evaluateDataset(model, set, { batchSize: 2, seed: 5 });
    const off = evaluateDataset(model, set, { batchSize: 2, dropout: false });
    expect(a.dropout).toBe(true);
    expect(a.metrics).toEqual(b.metrics);
    expect(a.metrics.loss).not.toBe(c.metrics.loss);
    expect(a.metrics.loss).not.toBe(off.metrics.loss);
    const m = evaluateDataset(model, set, { batchSize: 2, numEvalExamples: 7 });
    expect(m.batches).toBe(3);
    expect(m.examples).toBe(6);
    expect(() => evaluateDataset(model, set, { batchSize: 8, numEvalExamples: 5 })).toThrow(
      /no full eval batch/,
    );
    model.dispose();
  });
});
