#!/usr/bin/env node
// Generation benchmark: sampled RNN events per second of polyrnn's generation core (beamSearch over
// createLstmRnn on the WebAssembly kernels: what `polyrnn generate` runs) beside a PyTorch eager step loop
// (bench/torch_generate.py) with the same weights, measured in the same run.
//
//   npm run bench:generate                  (= npm run build && node bench/generate.mjs)
//   node bench/generate.mjs --events=512 --trials=5 --models=3x256,2x64 --json=out/bench-generate.json
//   node bench/generate.mjs --kernels=wasm,reference     adds the TypeScript reference kernels
//   node bench/generate.mjs --well_formed=false          Magenta's sampler (default: polyrnn generate's,
//                             which draws only well-formed events: one mask per sequence and event)
//   node bench/generate.mjs --threads=1,2 --torch-threads=1,2 --torch=math,cell
//                             thread counts of the WASM kernels and of torch (default 1 and all cores each),
//                             PyTorch step variants (default math); each side's best configuration counts
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
// Configurations: each side is run at 1 thread and at all cores (torch.set_num_threads; the WASM kernels'
// `threads`), and each case's number is that side's fastest configuration, named in the table: on a busy
// machine a second thread can cost either side 10× (a thread waiting for a descheduled partner), and a
// baseline crippled that way would flatter the ratio.
//
// The machine may be shared: each number is the best of --trials runs, all configurations interleaved run
// by run, so a burst of someone else's work hurts all columns alike; a configuration more than 3× slower
// than its side's best in the first trial is not run again for that case (its first number stays in the
// JSON). The 1-minute load average at the start and end is printed: above the core count, expect noise.
import { spawn } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { availableParallelism, cpus, loadavg, tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import { EventType, eventToId, noteEvent, START, STEP_END, STEP_END_ID } from "../dist/events/codec.js";
import { beamSearch } from "../dist/generate/beam_search.js";
import { createLstmRnn } from "../dist/generate/lstm_rnn.js";
import { GENERATION_OPTIONS } from "../dist/generate/options.js";
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
const list = (name, fallback) => [...new Set(String(flag(name, fallback)).split(","))];
const CORES = availableParallelism();
const EVENTS = Number(flag("events", 512));
const TRIALS = Number(flag("trials", 5));
const MODELS = list("models", "3x256,2x64");
const KERNELS = list("kernels", "wasm");
const THREADS = list("threads", `1,${CORES}`).map(Number);
const TORCH_THREADS = list("torch-threads", `1,${CORES}`).map(Number);
const VARIANTS = list("torch", "math");
const STEP_END_BIAS = Number(flag("step-end-bias", 4.2));
const SEED = Number(flag("seed", 2024));
const PYTHON = String(flag("python", "/usr/bin/python3"));
const JSON_OUT = flag("json", false);
const TEMPERATURE = 1;
const WELL_FORMED = String(flag("well_formed", GENERATION_OPTIONS.wellFormed.default)) !== "false";

if (!(EVENTS >= 1 && TRIALS >= 1)) throw new Error("--events and --trials must be ≥ 1");
for (const v of VARIANTS) if (v !== "math" && v !== "cell") throw new Error(`--torch: "${v}" (math, cell)`);
for (const k of KERNELS) {
  if (k !== "wasm" && k !== "reference") throw new Error(`--kernels: unknown "${k}" (wasm, reference)`);
}
for (const t of [...THREADS, ...TORCH_THREADS]) {
  if (!(Number.isInteger(t) && t >= 1)) throw new Error(`thread counts must be whole numbers ≥ 1, got ${t}`);
}

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
  const fail = (e) => {
    exited = e;
    for (const w of waiting.splice(0)) w.reject(e);
  };
  child.on("exit", (code) => fail(new Error(`${PYTHON} ${script} exited (${code})`)));
  child.on("error", fail);
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
function runPolyrnn(rnn, c, events, wellFormed = WELL_FORMED) {
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
    wellFormed,
  });
  const seconds = (performance.now() - t0) / 1000;
  let stepEnds = 0;
  for (const r of results) {
    for (const e of r.events.slice(PRIMER.length)) if (e.type === EventType.STEP_END) stepEnds++;
  }
  return { seconds, stepEnds, results };
}

async function runTorch(torch, model, cfg, c, events) {
  const r = await torch.call({
    op: "run",
    model,
    variant: cfg.variant,
    threads: cfg.threads,
    primer: PRIMER_IDS,
    events,
    rows: c.rows,
    beam: c.beam,
    branch: c.branch,
    temperature: TEMPERATURE,
    seed: SEED,
  });
  return { seconds: r.seconds, stepEnds: r.step_end };
}

function printTable(header, rows) {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => String(r[i]).length)));
  const line = (r) => `| ${r.map((x, i) => String(x).padEnd(widths[i])).join(" | ")} |`;
  console.log(line(header));
  console.log(`|${widths.map((w) => "-".repeat(w + 2)).join("|")}|`);
  for (const r of rows) console.log(line(r));
}

const fmt = (x) => (x >= 100 ? x.toFixed(0) : x.toPrecision(3));
const load = () => loadavg()[0].toFixed(2);

const started = performance.now();
const loadStart = load();
// The configurations of each side ("group"): polyrnn per kernel kind × thread count, torch per variant ×
// thread count. Each group's fastest configuration is its number for a case.
const kernels = [];
for (const kind of KERNELS) {
  for (const threads of kind === "wasm" ? THREADS : [1]) {
    const k = await createKernels(kind, { threads });
    kernels.push({
      group: `polyrnn ${kind}`,
      kind,
      threads,
      k,
      label: kind === "wasm" ? `${threads} thr` : "",
    });
  }
}
const torchConfigs = VARIANTS.flatMap((variant) =>
  TORCH_THREADS.map((threads) => ({
    group: "PyTorch",
    variant,
    threads,
    label: `${variant}, ${threads} thr`,
  })),
);
const GROUPS = [...KERNELS.map((k) => `polyrnn ${k}`), "PyTorch"];
const torch = await startTorch();
const tmp = mkdtempSync(join(tmpdir(), "polyrnn-bench-generate-"));
console.log(
  `cpu: ${cpus()[0]?.model ?? "?"} × ${CORES}  node ${process.version}  polyrnn kernels: ` +
    `${[...new Set(kernels.map((x) => x.k.name))].join(", ")}  torch ${torch.torch}  load average ${loadStart}`,
);
console.log(
  `${EVENTS} sampled events per sequence, temperature ${TEMPERATURE}, ` +
    `${WELL_FORMED ? "well-formed events only (polyrnn's default)" : "any event (Magenta's sampler)"}, ${PRIMER.length}-event primer, ` +
    `best of ${TRIALS}; weights: createPolyphonyModel seed ${SEED} (untrained) with ` +
    `fully_connected/biases[${STEP_END_ID}] (STEP_END) += ${STEP_END_BIAS} so that steps end at a realistic rate`,
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
    const configs = [
      ...kernels.map((x) => ({ ...x, rnn: createLstmRnn(x.k, weights) })),
      ...torchConfigs.map((x) => ({ ...x })),
    ];
    const run = (cfg, c, events) =>
      cfg.rnn ? runPolyrnn(cfg.rnn, c, events) : runTorch(torch, spec, cfg, c, events);

    // Warm-up (JIT, heap growth, torch's first calls), then the check that both run the same model.
    const warm = Math.min(EVENTS, 32);
    for (const c of CASES) for (const cfg of configs) await run(cfg, c, warm);
    // (Magenta's sampler here: the check compares the model's own log-likelihoods, unmasked.)
    const probe = runPolyrnn(configs[0].rnn, CASES[0], Math.min(EVENTS, 128), false).results[0];
    const check = { polyrnn: probe.score };
    for (const variant of VARIANTS) {
      const r = await torch.call({
        op: "score",
        model: spec,
        variant,
        ids: probe.events.map(eventToId),
        temperature: TEMPERATURE,
      });
      check[`torch ${variant}`] = r.score;
    }
    console.log(
      `${spec}: log-likelihood of polyrnn's ${probe.events.length}-event output: polyrnn ` +
        `${check.polyrnn.toFixed(4)}, PyTorch (teacher-forced) ` +
        VARIANTS.map((v) => `${v} ${check[`torch ${v}`].toFixed(4)}`).join(", "),
    );
    for (const v of VARIANTS) {
      const t = check[`torch ${v}`];
      if (Math.abs(check.polyrnn - t) > 1e-3 * Math.max(1, Math.abs(t))) {
        throw new Error(`${spec}: polyrnn and PyTorch (${v}) disagree on the model (log-likelihoods above)`);
      }
    }

    // best[case][config index] = fastest run so far; dropped configurations stop being run.
    const best = CASES.map(() => configs.map(() => null));
    const dropped = CASES.map(() => configs.map(() => false));
    for (let t = 0; t < TRIALS; t++) {
      for (const [ci, c] of CASES.entries()) {
        for (const [i, cfg] of configs.entries()) {
          if (dropped[ci][i]) continue;
          const { seconds, stepEnds } = await run(cfg, c, EVENTS);
          if (!best[ci][i] || seconds < best[ci][i].seconds) best[ci][i] = { seconds, stepEnds };
        }
        if (t === 0) {
          for (const [i, cfg] of configs.entries()) {
            const fastest = Math.min(
              ...configs.flatMap((o, j) => (o.group === cfg.group ? [best[ci][j].seconds] : [])),
            );
            dropped[ci][i] = best[ci][i].seconds > 3 * fastest;
          }
        }
      }
    }
    for (const cfg of configs) cfg.rnn?.dispose();

    for (const [ci, c] of CASES.entries()) {
      const sampled = stepped(c) * EVENTS;
      const all = configs.map((cfg, i) => ({
        group: cfg.group,
        config: cfg.label,
        eventsPerSecond: sampled / best[ci][i].seconds,
        seconds: best[ci][i].seconds,
        stepEndShare: best[ci][i].stepEnds / (c.rows * EVENTS),
        runs: dropped[ci][i] ? 1 : TRIALS,
      }));
      const top = Object.fromEntries(
        GROUPS.map((g) => [
          g,
          all.filter((x) => x.group === g).sort((x, y) => y.eventsPerSecond - x.eventsPerSecond)[0],
        ]),
      );
      const base = top.PyTorch.eventsPerSecond;
      const row = {
        model: spec,
        case: c.name,
        sequencesPerStep: stepped(c),
        sampledEvents: sampled,
        best: top,
        ratios: Object.fromEntries(KERNELS.map((k) => [k, top[`polyrnn ${k}`].eventsPerSecond / base])),
        configurations: all,
        check,
      };
      report.push(row);
      const cell = (x) => `${fmt(x.eventsPerSecond)}${x.config ? ` (${x.config})` : ""}`;
      table.push([
        spec,
        c.name,
        row.sequencesPerStep,
        sampled,
        ...GROUPS.map((g) => cell(top[g])),
        ...KERNELS.map((k) => `${row.ratios[k].toFixed(2)}×`),
        `${(top[GROUPS[0]].stepEndShare * 100).toFixed(0)}% / ${(top.PyTorch.stepEndShare * 100).toFixed(0)}%`,
      ]);
    }
  }
} finally {
  torch.close();
  for (const x of kernels) x.k.dispose();
  rmSync(tmp, { recursive: true, force: true });
}

console.log();
printTable(
  [
    "model",
    "case",
    "seqs/step",
    "events",
    ...GROUPS.map((g) => `${g} events/s`),
    ...KERNELS.map((k) => (KERNELS.length > 1 ? `ratio (${k})` : "ratio")),
    "STEP_END share (polyrnn / torch)",
  ],
  table,
);
console.log(
  "all configurations (events/s; * = dropped after the first trial): " +
    report
      .map(
        (r) =>
          `${r.model} ${r.case}: ${r.configurations
            .map(
              (x) =>
                `${x.group}${x.config ? ` ${x.config}` : ""} ${fmt(x.eventsPerSecond)}${x.runs < TRIALS ? "*" : ""}`,
            )
            .join(", ")}`,
      )
      .join("; "),
);
const seconds = (performance.now() - started) / 1000;
const loadEnd = load();
console.log(
  `total ${seconds.toFixed(0)} s; load average (1 min) ${loadStart} at the start, ${loadEnd} at the end`,
);
if (JSON_OUT) {
  const file = JSON_OUT === true ? "bench-generate.json" : JSON_OUT;
  writeFileSync(
    file,
    `${JSON.stringify(
      {
        cpu: cpus()[0]?.model,
        cores: CORES,
        node: process.version,
        torch: torch.torch,
        kernels: Object.fromEntries(kernels.map((x) => [x.kind, x.k.name])),
        events: EVENTS,
        trials: TRIALS,
        temperature: TEMPERATURE,
        seed: SEED,
        stepEndBias: STEP_END_BIAS,
        primer: PRIMER_IDS,
        loadAverage: { start: Number(loadStart), end: Number(loadEnd) },
        rows: report,
        seconds,
      },
      null,
      2,
    )}\n`,
  );
  console.log(`wrote ${file}`);
}
