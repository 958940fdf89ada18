#!/usr/bin/env node
// One implementation of bench/train.mjs: polyrnn's own model (dist/model/lstm.js) on its kernels, trained
// by the trainer's own step (`trainStep` of dist/train/step.js: forward with dropout and backward, the
// finite-loss check, then per-tensor clip and Adam). Prints
// `RESULT {json}` as its last line; the driver runs it in a child process so that maxRSS is its own.
//
//   node bench/polyrnn_train_worker.mjs --batches=FILE --layers=256,256,256 [--threads=2]
//       [--kernels=wasm|reference|auto] [--seed=1] [--activation_mb=N] [--profile]
//
// --activation_mb: memory for a batch's activations (as `polyrnn train --activation_mb`; default the
// library's 256 MiB): batches needing more recompute the forward pass of all but their last chunk.
//
// --profile times every kernel call (performance.now around each; adds a little overhead) and prints
// where a step goes: gemm vs the pointwise kernels vs the rest (JS between the calls).
import { availableParallelism } from "node:os";
import { createKernels } from "../dist/kernels/index.js";
import { DEFAULT_HPARAMS } from "../dist/model/hparams.js";
import { createPolyphonyModel } from "../dist/model/lstm.js";
import { trainStep } from "../dist/train/step.js";
import { parseFlags, printResult, readBatchFile, timeSteps } from "./train.mjs";

const flags = parseFlags(process.argv.slice(2));
const layers = String(flags.layers).split(",").map(Number);
const threads = Number(flags.threads ?? availableParallelism());
const seed = Number(flags.seed ?? 1);
const { warmup, timed } = readBatchFile(String(flags.batches));
const B = timed[0].batchSize;
// The B longest tracks of the file's batches: the largest batch they could make (as the trainer passes its
// data's B longest tracks).
const maxLengths = [...warmup, ...timed]
  .flatMap((b) => Array.from(b.lengths))
  .sort((a, b) => b - a)
  .slice(0, B);

/** Wraps every kernel method with a timer (synchronous calls): name → [calls, ms]. */
function profiled(kernels, table) {
  const untimed = new Set(["f32", "i32", "alloc", "mark", "release", "dispose"]);
  const wrapped = {};
  for (let o = kernels; o && o !== Object.prototype; o = Object.getPrototypeOf(o)) {
    for (const name of Object.getOwnPropertyNames(o)) {
      if (name === "constructor" || name in wrapped) continue;
      const f = kernels[name];
      if (typeof f !== "function") {
        Object.defineProperty(wrapped, name, { get: () => kernels[name] });
      } else if (untimed.has(name)) {
        wrapped[name] = f.bind(kernels);
      } else {
        const entry = [0, 0];
        table[name] = entry;
        wrapped[name] = (...args) => {
          const t0 = performance.now();
          const r = f.apply(kernels, args);
          entry[0]++;
          entry[1] += performance.now() - t0;
          return r;
        };
      }
    }
  }
  return wrapped;
}

const kernels = await createKernels(flags.kernels ?? "wasm", { threads });
const table = {};
const k = flags.profile ? profiled(kernels, table) : kernels;
const hparams = { ...DEFAULT_HPARAMS, batchSize: B, rnnLayerSizes: layers };
// maxLengths grows the heap once for the largest batch, as the trainer does.
const activationBytes = flags.activation_mb ? Number(flags.activation_mb) * 2 ** 20 : undefined;
const model = createPolyphonyModel(k, hparams, { seed, maxLengths, activationBytes });

/** One step of `polyrnn train` on `batch`; its mean loss. */
function step(batch) {
  const r = trainStep(model, batch, { seed });
  return r.lossSum / r.tokens;
}

const measured = timeSteps(step, warmup, timed, () => {
  for (const entry of Object.values(table)) entry.fill(0);
});
const { seconds } = measured;

if (flags.profile) {
  const total = seconds * 1000;
  const rows = Object.entries(table)
    .filter(([, [n]]) => n > 0)
    .sort((a, b) => b[1][1] - a[1][1]);
  let inKernels = 0;
  console.error(`profile over ${timed.length} timed steps (${total.toFixed(0)} ms):`);
  for (const [name, [n, ms]] of rows) {
    inKernels += ms;
    console.error(
      `  ${name.padEnd(22)} ${String(n).padStart(8)} calls ${ms.toFixed(0).padStart(8)} ms ${((100 * ms) / total).toFixed(1).padStart(5)} %`,
    );
  }
  console.error(
    `  ${"(outside kernels)".padEnd(22)} ${"".padStart(14)} ${(total - inKernels).toFixed(0).padStart(8)} ms ${((100 * (total - inKernels)) / total).toFixed(1).padStart(5)} %`,
  );
}

printResult({
  ...measured,
  info: { kernels: kernels.name, threads, layers, batchSize: B },
  profile: flags.profile ? table : undefined,
});
model.dispose();
kernels.dispose();
process.exit(0);
