#!/usr/bin/env node
// Generation benchmark: sampled RNN events per second of polyrnn's generation core (beamSearch over
// createLstmRnn on the WebAssembly kernels: what `polyrnn generate` runs) beside a PyTorch eager step loop
// (bench/torch_generate.py) with the same weights, measured in the same run.
//
//   npm run bench:generate                  (= npm run build && node bench/generate.mjs)
//   node bench/generate.mjs --events=512 --trials=3 --models=3x256,2x64 --json=out/bench-generate.json
//   node bench/generate.mjs --kernels=wasm,reference     adds the TypeScript reference kernels
//   node bench/generate.mjs --torch=math|cell|best       PyTorch variant (default best: the faster per case)
//
// Cases (temperature 1, from the same 9-event primer, `--events` sampled events per sequence):
//   1 output                one sequence stepped per RNN step
//   10 outputs              ten independent outputs stepped as one batch (each with its own random stream)
//   beam 4 × branch 2       one output, Magenta's beam search with steps_per_iteration 1: 8 sequences
//                           stepped per RNN step, pruned back to the best 4 (cumulative log-likelihood)
// "events/s" counts every SAMPLED event: sequences stepped × --events, over the wall time of the search
// (primer included, model loading excluded). Both sides sample the same number of events per case.
//
// Weights: createPolyphonyModel(…, { seed }) — Glorot-uniform, untrained — with fully_connected/biases[2]
// (STEP_END) raised (--step-end-bias) so that steps end at a realistic rate; the measured STEP_END share of
// the outputs is printed. Timings do not depend on it (a fixed number of events is sampled) but it keeps
// the sampled music plausible. As a check that both sides run the same model, PyTorch re-scores polyrnn's
// first output (teacher forcing) and the two log-likelihoods are printed side by side.
//
// The machine may be shared: each number is the best of --trials runs, polyrnn and PyTorch interleaved
// run by run, so a burst of someone else's work hurts both columns alike.
import { spawn } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { availableParallelism, cpus, tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import { EventType, eventToId, noteEvent, START, STEP_END } from "../dist/events/codec.js";
import { beamSearch } from "../dist/generate/beam_search.js";
import { createLstmRnn } from "../dist/generate/lstm_rnn.js";
import { createRng } from "../dist/generate/rng.js";
import { encodeSafetensors } from "../dist/io/safetensors.js";
import { createKernels } from "../dist/kernels/index.js";
import { createReferenceKernels } from "../dist/kernels/reference.js";
import { DEFAULT_HPARAMS } from "../dist/model/hparams.js";
import { createPolyphonyModel } from "../dist/model/lstm.js";

const args = process.argv.slice(2);
const flag = (name, fallback) => {
  const a = args.find((x) => x === `--${name}` || x.startsWith(`--${name}=`));
  if (!a) return fallback;
  return a.includes("=") ? a.slice(a.indexOf("=") + 1) : true;
};
const EVENTS = Number(flag("events", 512));
const TRIALS = Number(flag("trials", 3));
const MODELS = String(flag("models", "3x256,2x64")).split(",");
const KERNELS = String(flag("kernels", "wasm")).split(",");
const TORCH = String(flag("torch", "best"));
const STEP_END_BIAS = Number(flag("step-end-bias", 4.2));
const SEED = Number(flag("seed", 2024));
const THREADS = Number(flag("threads", 0)) || undefined;
const PYTHON = String(flag("python", "/usr/bin/python3"));
const JSON_OUT = flag("json", false);
const TEMPERATURE = 1;

if (!(EVENTS >= 1 && TRIALS >= 1)) throw new Error("--events and --trials must be ≥ 1");
if (!["math", "cell", "best"].includes(TORCH)) throw new Error("--torch must be math, cell or best");
for (const k of KERNELS) {
  if (k !== "wasm" && k !== "reference") throw new Error(`--kernels: unknown "${k}" (wasm, reference)`);
}
const VARIANTS = TORCH === "best" ? ["math", "cell"] : [TORCH];

const CASES = [
  { name: "1 output", rows: 1, beam: 1, branch: 1 },
  { name: "10 outputs", rows: 10, beam: 1, branch: 1 },
  { name: "beam 4 × branch 2", rows: 1, beam: 4, branch: 2 },
];
const stepped = (c) => c.rows * c.beam * c.branch;

// A C major chord held for two steps: START (60 64 67 NEW) ||| (60 64 67 CONTINUED) |||
const PRIMER = [
  START,
  ...[60, 64, 67].map((p) => noteEvent(EventType.NEW_NOTE, p)),
  STEP_END,
  ...[60, 64, 67].map((p) => noteEvent(EventType.CONTINUED_NOTE, p)),
  STEP_END,
];
const PRIMER_IDS = PRIMER.map(eventToId);
const STEP_END_ID = eventToId(STEP_END);

function parseModel(spec) {
  const m = /^(\d+)x(\d+)$/.exec(spec);
  if (!m) throw new Error(`--models: "${spec}" is not LAYERSxSIZE (e.g. 3x256)`);
  return Array.from({ length: Number(m[1]) }, () => Number(m[2]));
}

function makeWeights(sizes) {
  const model = createPolyphonyModel(
    createReferenceKernels(),
    { ...DEFAULT_HPARAMS, rnnLayerSizes: sizes },
    { seed: SEED },
  );
  const weights = model.exportWeights();
  weights.find((t) => t.name === "fully_connected/biases").data[STEP_END_ID] += STEP_END_BIAS;
  return weights;
}

/** The PyTorch worker: one JSON command per line in, one JSON answer per line out. */
async function startTorch() {
  const script = join(dirname(fileURLToPath(import.meta.url)), "torch_generate.py");
  const child = spawn(PYTHON, [script], { stdio: ["pipe", "pipe", "inherit"] });
  const waiting = [];
  let exited = null;
  child.on("exit", (code) => {
    exited = new Error(`${PYTHON} ${script} exited (${code})`);
    for (const w of waiting.splice(0)) w.reject(exited);
  });
  child.on("error", (e) => {
    exited = e;
    for (const w of waiting.splice(0)) w.reject(e);
  });
  createInterface({ input: child.stdout }).on("line", (line) => {
    const w = waiting.shift();
    const r = JSON.parse(line);
    if (r.error) w?.reject(new Error(`torch_generate.py: ${r.error}`));
    else w?.resolve(r);
  });
  const answer = () =>
    new Promise((resolve, reject) => (exited ? reject(exited) : waiting.push({ resolve, reject })));
  const ready = await answer();
  return {
    ...ready,
    call(cmd) {
      const p = answer();
      child.stdin.write(`${JSON.stringify(cmd)}\n`);
      return p;
    },
    close() {
      child.stdin.end();
    },
  };
}

/** One polyrnn run of a case: the search alone is timed. */
function runPolyrnn(rnn, c, events) {
  const requests = Array.from({ length: c.rows }, (_, i) => ({
    primer: PRIMER,
    numSteps: events,
    rng: createRng(SEED, i),
  }));
  const t0 = performance.now();
  const results = beamSearch(rnn, requests, {
    temperature: TEMPERATURE,
    beamSize: c.beam,
    branchFactor: c.branch,
    stepsPerIteration: 1,
  });
  const seconds = (performance.now() - t0) / 1000;
  let stepEnds = 0;
  for (const r of results) {
    for (const e of r.events.slice(PRIMER.length)) if (e.type === EventType.STEP_END) stepEnds++;
  }
  return { seconds, sampled: stepped(c) * events, stepEnds, outputEvents: c.rows * events, results };
}

function runTorch(torch, model, variant, c, events) {
  return torch.call({
    op: "run",
    model,
    variant,
    primer: PRIMER_IDS,
    events,
    rows: c.rows,
    beam: c.beam,
    branch: c.branch,
    temperature: TEMPERATURE,
    seed: SEED,
  });
}

function printTable(header, rows) {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => String(r[i]).length)));
  const line = (r) => `| ${r.map((x, i) => String(x).padEnd(widths[i])).join(" | ")} |`;
  console.log(line(header));
  console.log(`|${widths.map((w) => "-".repeat(w + 2)).join("|")}|`);
  for (const r of rows) console.log(line(r));
}

const fmt = (x) => (x >= 100 ? x.toFixed(0) : x.toPrecision(3));

const started = performance.now();
const kernels = {};
for (const kind of KERNELS) kernels[kind] = await createKernels(kind, THREADS ? { threads: THREADS } : {});
const torch = await startTorch();
const tmp = mkdtempSync(join(tmpdir(), "polyrnn-bench-generate-"));
const cores = availableParallelism();
console.log(
  `cpu: ${cpus()[0]?.model ?? "?"} × ${cores}  node ${process.version}  polyrnn kernels: ` +
    `${KERNELS.map((k) => `${kernels[k].name}${kernels[k].threads ? ` (${kernels[k].threads} threads)` : ""}`).join(", ")}` +
    `  torch ${torch.torch} (${torch.threads} threads)`,
);
console.log(
  `${EVENTS} sampled events per sequence, temperature ${TEMPERATURE}, ${PRIMER.length}-event primer, ` +
    `best of ${TRIALS}; weights: createPolyphonyModel seed ${SEED} (untrained) with ` +
    `fully_connected/biases[${STEP_END_ID}] (STEP_END) += ${STEP_END_BIAS}`,
);

const table = [];
const report = [];
try {
  for (const spec of MODELS) {
    const sizes = parseModel(spec);
    const weights = makeWeights(sizes);
    const path = join(tmp, `${spec}.safetensors`);
    writeFileSync(path, encodeSafetensors(weights));
    await torch.call({ op: "load", model: spec, path });
    const rnns = Object.fromEntries(KERNELS.map((k) => [k, createLstmRnn(kernels[k], weights)]));

    // Warm-up (JIT, heap growth, torch's first calls), then the check that both run the same model.
    const warm = Math.min(EVENTS, 32);
    for (const c of CASES) {
      for (const k of KERNELS) runPolyrnn(rnns[k], c, warm);
      for (const v of VARIANTS) await runTorch(torch, spec, v, c, warm);
    }
    const probe = runPolyrnn(rnns[KERNELS[0]], CASES[0], Math.min(EVENTS, 128)).results[0];
    const torchScore = await torch.call({
      op: "score",
      model: spec,
      ids: probe.events.map(eventToId),
      temperature: TEMPERATURE,
    });
    const check = { polyrnn: probe.score, torch: torchScore.score };
    console.log(
      `${spec}: log-likelihood of polyrnn's ${probe.events.length}-event output: polyrnn ` +
        `${check.polyrnn.toFixed(4)}, PyTorch (teacher-forced) ${check.torch.toFixed(4)}`,
    );
    if (Math.abs(check.polyrnn - check.torch) > 1e-3 * Math.max(1, Math.abs(check.torch))) {
      throw new Error(`${spec}: polyrnn and PyTorch disagree on the model (see the log-likelihoods above)`);
    }

    const best = CASES.map(() => ({ poly: {}, torch: {} }));
    const keep = (slot, key, r) => {
      if (!slot[key] || r.seconds < slot[key].seconds) slot[key] = r;
    };
    for (let t = 0; t < TRIALS; t++) {
      for (const [ci, c] of CASES.entries()) {
        for (const k of KERNELS) {
          const { results: _, ...r } = runPolyrnn(rnns[k], c, EVENTS);
          keep(best[ci].poly, k, r);
        }
        for (const v of VARIANTS) {
          const r = await runTorch(torch, spec, v, c, EVENTS);
          keep(best[ci].torch, v, { ...r, stepEnds: r.step_end, outputEvents: c.rows * EVENTS });
        }
      }
    }
    for (const k of KERNELS) rnns[k].dispose();

    for (const [ci, c] of CASES.entries()) {
      const b = best[ci];
      const rate = (r) => r.sampled / r.seconds;
      const [variant, tb] = Object.entries(b.torch).sort(([, x], [, y]) => x.seconds - y.seconds)[0];
      const row = {
        model: spec,
        case: c.name,
        sequencesPerStep: stepped(c),
        sampledEvents: stepped(c) * EVENTS,
        torch: {
          variant,
          eventsPerSecond: rate(tb),
          seconds: tb.seconds,
          stepEndShare: tb.stepEnds / tb.outputEvents,
        },
        torchVariants: Object.fromEntries(Object.entries(b.torch).map(([v, r]) => [v, rate(r)])),
        polyrnn: Object.fromEntries(
          Object.entries(b.poly).map(([k, r]) => [
            k,
            {
              eventsPerSecond: rate(r),
              seconds: r.seconds,
              ratio: rate(r) / rate(tb),
              stepEndShare: r.stepEnds / r.outputEvents,
            },
          ]),
        ),
        check,
      };
      report.push(row);
      table.push([
        spec,
        c.name,
        row.sequencesPerStep,
        row.sampledEvents,
        ...KERNELS.map((k) => fmt(row.polyrnn[k].eventsPerSecond)),
        `${fmt(row.torch.eventsPerSecond)} (${variant})`,
        ...KERNELS.map((k) => `${row.polyrnn[k].ratio.toFixed(2)}×`),
        `${(row.polyrnn[KERNELS[0]].stepEndShare * 100).toFixed(0)}% / ${(row.torch.stepEndShare * 100).toFixed(0)}%`,
      ]);
    }
  }
} finally {
  torch.close();
  for (const k of KERNELS) kernels[k].dispose();
  rmSync(tmp, { recursive: true, force: true });
}

console.log();
printTable(
  [
    "model",
    "case",
    "seqs/step",
    "events",
    ...KERNELS.map((k) => `polyrnn ${k} events/s`),
    "PyTorch events/s",
    ...KERNELS.map((k) => (KERNELS.length > 1 ? `ratio (${k})` : "ratio")),
    "STEP_END share (polyrnn / torch)",
  ],
  table,
);
if (TORCH === "best") {
  console.log(
    "PyTorch: the faster of `math` (BasicLSTMCell written out with torch ops) and `cell` (nn.LSTMCell) per case; " +
      report
        .map(
          (r) =>
            `${r.model} ${r.case}: ${Object.entries(r.torchVariants)
              .map(([v, x]) => `${v} ${fmt(x)}`)
              .join(", ")}`,
        )
        .join("; "),
  );
}
const seconds = (performance.now() - started) / 1000;
console.log(`total ${seconds.toFixed(0)} s`);
if (JSON_OUT) {
  const file = JSON_OUT === true ? "bench-generate.json" : JSON_OUT;
  writeFileSync(
    file,
    `${JSON.stringify(
      {
        cpu: cpus()[0]?.model,
        cores,
        node: process.version,
        torch: torch.torch,
        torchThreads: torch.threads,
        kernels: Object.fromEntries(KERNELS.map((k) => [k, kernels[k].name])),
        events: EVENTS,
        trials: TRIALS,
        temperature: TEMPERATURE,
        seed: SEED,
        stepEndBias: STEP_END_BIAS,
        primer: PRIMER_IDS,
        rows: report,
        seconds,
      },
      null,
      2,
    )}\n`,
  );
  console.log(`wrote ${file}`);
}
