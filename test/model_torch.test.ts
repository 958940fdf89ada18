// The model against an independent PyTorch implementation (scripts/torch_oracle.py), in float64 there:
// loss and every gradient of one batch, then 50 training steps (per-tensor clipping + Adam) on the same
// batches and dropout masks, comparing the loss curves. Needs Debian's python3-torch (CI installs it).
import { spawnSync } from "node:child_process";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { createReferenceKernels } from "../src/kernels/reference.js";
import type { Batch, HParams } from "../src/model/api.js";
import { createPolyphonyModel, dropoutSeed, type LstmModel, packBatch } from "../src/model/lstm.js";
import { ROOT, tempDir } from "./helpers/cli.js";

const PYTHON = "/usr/bin/python3";
const torchAvailable = existsSync(PYTHON) && spawnSync(PYTHON, ["-c", "import torch"]).status === 0;

const HP: HParams = {
  batchSize: 4,
  rnnLayerSizes: [10, 16, 12],
  dropoutKeepProb: 0.5,
  clipNorm: 0.25, // small enough that some tensors are clipped and some are not
  learningRate: 0.01, // large enough that 50 steps move the loss visibly
};
const STEPS = 50;

/** ranks[b] = the packed row of column b (the model packs longest first; dropout masks follow the rows). */
function ranksOf(b: Batch): number[] {
  const ranks = new Array<number>(b.batchSize);
  packBatch(b.lengths, b.length).order.forEach((column, r) => {
    ranks[column] = r;
  });
  return ranks;
}

/** A seeded batch of random event sequences with unequal lengths (padding at the end). */
function randomBatch(seed: number, B: number, lengths: number[]): Batch {
  let s = seed;
  const rand = () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
  const T = Math.max(...lengths);
  const inputs = new Int32Array(T * B).fill(-1);
  const labels = new Int32Array(T * B).fill(-1);
  for (let b = 0; b < B; b++) {
    // A small vocabulary subset so that the model can learn something in 50 steps.
    const events = Array.from(
      { length: lengths[b] + 1 },
      () => [0, 1, 2, 60, 64, 67, 188, 192][Math.floor(rand() * 8)],
    );
    for (let t = 0; t < lengths[b]; t++) {
      inputs[t * B + b] = events[t];
      labels[t * B + b] = events[t + 1];
    }
  }
  return { batchSize: B, length: T, inputs, labels, lengths: Int32Array.from(lengths) };
}

const BATCHES = [
  randomBatch(1, 4, [20, 13, 17, 6]),
  randomBatch(2, 4, [9, 24, 24, 1]),
  randomBatch(3, 4, [15, 15, 2, 11]),
];
const stepSeed = (s: number) => 1000 + s;

/** max |a − b| / max |b|: the error relative to the tensor's scale. */
function relativeError(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let err = 0;
  let scale = 0;
  for (let i = 0; i < b.length; i++) {
    err = Math.max(err, Math.abs(a[i] - b[i]));
    scale = Math.max(scale, Math.abs(b[i]));
  }
  return err / scale;
}

interface Oracle {
  losses: number[];
  grads: Record<string, number[]>;
  weights: Record<string, number[]>;
  nn_lstm_loss: number;
}

/** Writes the initial weights, batches and dropout seeds, runs scripts/torch_oracle.py, reads its answer. */
function runOracle(model: LstmModel): Oracle {
  const dir = tempDir("polyrnn-torch-");
  const caseFile = join(dir, "case.json");
  const resultFile = join(dir, "result.json");
  const sizes = HP.rnnLayerSizes;
  writeFileSync(
    caseFile,
    JSON.stringify({
      sizes,
      keep: HP.dropoutKeepProb,
      clip_norm: HP.clipNorm,
      learning_rate: HP.learningRate,
      steps: STEPS,
      weights: model.exportWeights().map((t) => ({ name: t.name, shape: t.shape, data: Array.from(t.data) })),
      // One batch per step (cycling), each with its own dropout seed per layer and time step.
      batches: Array.from({ length: STEPS }, (_, s) => {
        const b = BATCHES[s % BATCHES.length];
        return {
          batch_size: b.batchSize,
          length: b.length,
          inputs: Array.from(b.inputs),
          labels: Array.from(b.labels),
          ranks: ranksOf(b),
          seeds: sizes.map((_, k) =>
            Array.from({ length: b.length }, (_, t) => dropoutSeed(stepSeed(s), k, t)),
          ),
        };
      }),
    }),
  );
  const run = spawnSync(PYTHON, [join(ROOT, "scripts/torch_oracle.py"), caseFile, resultFile], {
    encoding: "utf8",
    timeout: 300_000,
  });
  expect(run.status, run.stderr).toBe(0);
  return JSON.parse(readFileSync(resultFile, "utf8")) as Oracle;
}

describe.skipIf(!torchAvailable)(
  "PyTorch oracle (needs Debian's python3-torch: apt-get install python3-torch)",
  () => {
    const newModel = (chunkSteps?: number) =>
      createPolyphonyModel(createReferenceKernels(), HP, { seed: 42, chunkSteps });
    let oracle: Oracle;
    beforeAll(() => {
      oracle = runOracle(newModel());
    });

    for (const chunkSteps of [undefined, 7]) {
      const title = chunkSteps ? `in chunks of ${chunkSteps} steps` : "in one chunk";
      it(`matches loss, every gradient and a 50-step loss curve, ${title}`, () => {
        const model = newModel(chunkSteps);
        const losses: number[] = [];
        const report: string[] = [];
        for (let s = 0; s < STEPS; s++) {
          const r = model.forward(BATCHES[s % BATCHES.length], {
            dropout: true,
            backward: true,
            seed: stepSeed(s),
          });
          losses.push(r.lossSum / r.tokens);
          if (s === 0) {
            // Step 0: the loss (also through nn.LSTM and spec §4.7's mapping) and every gradient.
            expect(Math.abs(losses[0] - oracle.losses[0]) / oracle.losses[0]).toBeLessThan(1e-5);
            expect(Math.abs(oracle.nn_lstm_loss - oracle.losses[0]) / oracle.losses[0]).toBeLessThan(1e-12);
            report.push(`loss ${losses[0]} vs torch ${oracle.losses[0]}`);
            const clipped = new Set<boolean>();
            for (const g of model.exportGradients()) {
              const err = relativeError(g.data, oracle.grads[g.name]);
              const norm = Math.sqrt(g.data.reduce((a, x) => a + x * x, 0));
              clipped.add(norm > HP.clipNorm);
              report.push(`grad ${g.name}: norm ${norm.toFixed(3)}, error ${err.toExponential(2)}`);
              expect(err, g.name).toBeLessThan(1e-4);
            }
            expect(clipped.size, "some tensors clipped, some not").toBe(2);
          }
          model.applyGradients();
        }
        let worst = 0;
        for (let s = 0; s < STEPS; s++) {
          worst = Math.max(worst, Math.abs(losses[s] - oracle.losses[s]) / oracle.losses[s]);
        }
        report.push(
          `loss curve ${losses[0].toFixed(4)} → ${losses[STEPS - 1].toFixed(4)}, worst step ${worst.toExponential(2)}`,
        );
        const weightErrors = model.exportWeights().map((w) => {
          const err = relativeError(w.data, oracle.weights[w.name]);
          report.push(`weights after ${STEPS} steps ${w.name}: ${err.toExponential(2)}`);
          return [w.name, err] as const;
        });
        console.log(`PyTorch oracle, ${title}:\n${report.join("\n")}`);
        expect(worst).toBeLessThan(1e-3);
        for (const [name, err] of weightErrors) expect(err, name).toBeLessThan(1e-3);
        expect(losses[STEPS - 1]).toBeLessThan(0.8 * losses[0]); // it learns
      });
    }
  },
);
