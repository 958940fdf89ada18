#!/usr/bin/env node
// Training throughput: polyrnn (WASM kernels) against PyTorch on the CPU, twice (torch: through the padding;
// torch-packed: pack_padded_sequence, no arithmetic on padding), and tfjs (wasm backend), on the same
// batches, in one run. Each implementation trains in its own child process (so its peak RSS is its own):
// warm-up steps, then a fixed number of timed steps of Magenta's model (stacked BasicLSTMCell, output
// dropout 0.5 after every layer, linear to 259, token-mean cross-entropy over the real positions,
// per-tensor clip 5, Adam).
//
//   npm run bench:train                         (= npm run build && node bench/train.mjs)
//   node bench/train.mjs --json=out/train.json  also writes the results as JSON
//   node bench/train.mjs --only=polyrnn,torch,torch-packed --sizes=3x256 --data=bach --steps=2
//   node bench/train.mjs --kernels=wasm,reference --data=synthetic --steps=3   adds the TypeScript kernels
//
// Flags: --steps=N (timed steps; default per size and data, below), --warmup=N (default 2), --only=LIST
// (polyrnn,torch,torch-packed,tfjs), --sizes=LIST (2x64,3x256; any AxB), --data=LIST (synthetic,bach), --threads=LIST
// (default 1 and all cores), --kernels=LIST (wasm; reference), --bach_dataset=FILE|DIR (a
// training_poly_tracks.tfrecord; default: made here by `polyrnn convert` + `polyrnn dataset --seed=1` from
// ../shared/data/bach-chorales-midi), --bach_batching=random|length (how the Bach batches are drawn, below;
// default random), --batch_size=N (64), --seed=N (1), --python=PATH (/usr/bin/python3),
// --timeout=SECONDS (per child, 600), --tfjs_bach_timeout=SECONDS (60, see below), --json=FILE, --keep
// (keep the temp folder), --activation_mb=LIST (polyrnn's memory for a batch's activations, MiB, a row each;
// default 0: what `polyrnn train` takes on this machine, an eighth of the free memory from 256 to 2,560).
//
// tfjs is an optional package (bench/tfjs, its own package.json and lock file; `npm ci --prefix bench/tfjs`
// installs it): without it the tfjs rows are skipped, with a line saying so above the tables.
//
// Threads. polyrnn (its WASM kernels' worker threads), torch and torch-packed (torch.set_num_threads) each
// run at every count in --threads on the first data kind, and at their faster count after that; each
// side's ratio uses its fastest row. On a busy machine a second thread can cost either side several times (a thread waiting
// for a descheduled partner: OpenMP's spin-wait in torch), and a baseline crippled that way would
// flatter the ratio. A last column gives polyrnn against torch at the most threads listed (all cores: the
// configuration of DESIGN.md's reference numbers), where measured. tfjs-backend-wasm is single-threaded in
// Node (its multithread flag is off there).
//
// Time limits. A child still running at its limit is stopped and its row reports the steps it finished;
// with none finished, bounds: "< tokens/s" (the first step's real tokens over the time it had run) and
// "≥ peak RSS" (its VmHWM when stopped). tfjs on bach gets 60 s of timed steps by default: its tape keeps
// every step of a 2,000–3,500-step batch in a wasm heap capped at 4 GB, and a single 2×64 batch did not
// finish in 4 minutes here (--tfjs_bach_timeout=240) while the process grew past 4 GB.
//
// Data. synthetic: uniformly random event ids, every sequence 64 steps, no padding. bach: the real dataset,
// each batch padded to its longest track (Magenta's dynamic_pad); --bach_batching=random (the default) draws
// them from the trainer's own shuffled stream (`TrainingBatches`, Magenta's random batches), so most batches
// are 2,200–3,500 steps long and about 40 % real; --bach_batching=length from the length-bucketed sampler of
// `polyrnn train --batching=length` (`bachStream`). tokens/s counts real (non-padding)
// positions only, for every implementation, whether it computes the padding (torch, tfjs) or not
// (torch-packed). Warm-up steps on bach use the first timed
// batches cut to 64 steps (the same code, a fraction of the cost). The driver writes the batches to a
// binary file that every implementation reads (format: `writeBatchFile` below).
//
// Bars: below the tables, issue 15's bounds where the run measured them (polyrnn's Bach tokens/s ≥ 90 % of
// its synthetic tokens/s; polyrnn ≥ 3× torch at 3×256 and ≥ 5× at 2×64 on Bach; ≥ 1.5× torch-packed at
// 3×256 on Bach; 3×256 on Bach under 500 MB peak RSS).
import { spawn, spawnSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { availableParallelism, cpus, freemem, loadavg, tmpdir, totalmem } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";

const HERE = dirname(fileURLToPath(import.meta.url));
const ROOT = resolve(HERE, "..");
const IMPLS = ["polyrnn", "torch", "torch-packed", "tfjs"];
/** The tfjs baseline is an optional package of its own (286 MB of node_modules), outside `npm ci`. */
const TFJS_DIR = join(HERE, "tfjs");
const TFJS_WORKER = join(TFJS_DIR, "tfjs_train.mjs");
const TFJS_INSTALL = "npm ci --prefix bench/tfjs";

/** Whether bench/tfjs has its dependencies installed (`npm ci --prefix bench/tfjs`). */
function tfjsIsInstalled() {
  return ["@tensorflow/tfjs", "@tensorflow/tfjs-backend-wasm"].every((name) =>
    existsSync(join(TFJS_DIR, "node_modules", name, "package.json")),
  );
}
/** Timed steps when --steps is not given: a few seconds to a minute or two per row on 2 cores. */
const DEFAULT_STEPS = { synthetic: { "2x64": 20, "3x256": 5 }, bach: { "2x64": 2, "3x256": 1 } };
const FALLBACK_STEPS = { synthetic: 5, bach: 1 };
const MAGIC = 0x424e5250; // "PRNB" little-endian
const HEADER_INTS = 6;

// ---- The batch file: little-endian int32 throughout ----
//   header: magic, version 1, batchSize B, batches N, warm-up batches W, 0
//   then N batches (the first W are warm-up): T, lengths[B], inputs[T·B], labels[T·B]
//   time-major: element (t, b) at t·B + b; padding is −1 in inputs and labels.

/** Writes batches (`Batch` of src/model/api.ts) to `path`. */
export function writeBatchFile(path, batches, warmup) {
  const B = batches[0].batchSize;
  let ints = HEADER_INTS;
  for (const b of batches) ints += 1 + B + 2 * b.length * B;
  const out = new Int32Array(ints);
  out.set([MAGIC, 1, B, batches.length, warmup, 0]);
  let at = HEADER_INTS;
  for (const b of batches) {
    out[at++] = b.length;
    out.set(b.lengths, at);
    at += B;
    out.set(b.inputs, at);
    at += b.length * B;
    out.set(b.labels, at);
    at += b.length * B;
  }
  writeFileSync(path, new Uint8Array(out.buffer));
}

/** Reads a batch file: { warmup: Batch[], timed: Batch[] }. */
export function readBatchFile(path) {
  const bytes = readFileSync(path);
  const all = new Int32Array(bytes.buffer, bytes.byteOffset, bytes.byteLength / 4);
  const [magic, version, B, N, W] = all;
  if (magic !== MAGIC || version !== 1) throw new Error(`${path}: not a batch file`);
  const batches = [];
  let at = HEADER_INTS;
  for (let i = 0; i < N; i++) {
    const T = all[at];
    const take = (n) => {
      const part = all.slice(at, at + n);
      at += n;
      return part;
    };
    at += 1;
    const lengths = take(B);
    const inputs = take(T * B);
    const labels = take(T * B);
    batches.push({ batchSize: B, length: T, inputs, labels, lengths });
  }
  return { warmup: batches.slice(0, W), timed: batches.slice(W) };
}

/** Real (non-padding) positions of a batch. */
export function realTokens(batch) {
  let n = 0;
  for (let i = 0; i < batch.labels.length; i++) if (batch.labels[i] >= 0) n++;
  return n;
}

/** Parses `--name=value` / `--name value` / `--flag`; the same in every bench/*train* script. */
export function parseFlags(argv) {
  const flags = {};
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (!a.startsWith("--")) throw new Error(`unexpected argument ${a}`);
    const eq = a.indexOf("=");
    if (eq > 0) flags[a.slice(2, eq)] = a.slice(eq + 1);
    else if (i + 1 < argv.length && !argv[i + 1].startsWith("--")) flags[a.slice(2)] = argv[++i];
    else flags[a.slice(2)] = true;
  }
  return flags;
}

/**
 * A worker's measurement: `trainStep(batch)` (returns the loss) over the warm-up batches, `afterWarmup()`,
 * then over the timed batches, printing `TIMED` and `STEP <ms>` for the driver (`runWorker`). Returns the
 * measured fields of the RESULT line; peak RSS is the process's maxRSS so far.
 */
export function timeSteps(trainStep, warmup, timed, afterWarmup = () => {}) {
  for (const b of warmup) trainStep(b);
  afterWarmup();
  let lossSum = 0;
  const stepMs = [];
  process.stdout.write("TIMED\n");
  const t0 = performance.now();
  for (const b of timed) {
    const s0 = performance.now();
    lossSum += trainStep(b);
    stepMs.push(performance.now() - s0);
    process.stdout.write(`STEP ${stepMs.at(-1)}\n`);
  }
  const seconds = (performance.now() - t0) / 1000;
  const tokens = timed.reduce((n, b) => n + realTokens(b), 0);
  return {
    steps: timed.length,
    tokens,
    positions: timed.reduce((n, b) => n + b.length * b.batchSize, 0),
    seconds,
    tokensPerS: tokens / seconds,
    msPerStep: (seconds * 1000) / timed.length,
    stepMs,
    peakRssMB: (process.resourceUsage().maxRSS * 1024) / 1e6, // maxRSS is in KiB
    loss: lossSum / timed.length,
  };
}

/** The machine, as the bench's JSON files record it. */
export function machineInfo() {
  return {
    cpu: cpus()[0]?.model ?? "?",
    cores: availableParallelism(),
    memoryGB: Math.round(totalmem() / 1e9),
    node: process.version,
  };
}

/** Writes a bench's results to `path` as `{ command, date, machine, ...fields }` (pretty JSON). */
export function writeResultJson(path, command, machine, fields) {
  mkdirSync(dirname(path), { recursive: true });
  const json = { command, date: new Date().toISOString(), machine, ...fields };
  writeFileSync(path, `${JSON.stringify(json, null, 2)}\n`);
  log(`wrote ${path}`);
}

/** A worker's last line: `RESULT {json}`. */
export function printResult(result) {
  process.stdout.write(`RESULT ${JSON.stringify(result)}\n`);
}

// ---- The driver ----

const list = (v, fallback) =>
  v === undefined || v === true ? fallback : String(v).split(",").filter(Boolean);

/** "3x256" → [256, 256, 256]. */
export function parseSize(s) {
  const m = /^(\d+)x(\d+)$/.exec(s);
  if (!m) throw new Error(`--sizes: "${s}" is not LAYERSxUNITS (e.g. 3x256)`);
  return Array(Number(m[1])).fill(Number(m[2]));
}

function syntheticBatches(count, B, T, seed, seededRandom) {
  const rand = seededRandom(seed);
  const batches = [];
  for (let n = 0; n < count; n++) {
    const inputs = new Int32Array(T * B);
    const labels = new Int32Array(T * B);
    for (let b = 0; b < B; b++) {
      let prev = Math.floor(rand() * 259);
      for (let t = 0; t < T; t++) {
        const next = Math.floor(rand() * 259);
        inputs[t * B + b] = prev;
        labels[t * B + b] = next;
        prev = next;
      }
    }
    batches.push({ batchSize: B, length: T, inputs, labels, lengths: new Int32Array(B).fill(T) });
  }
  return batches;
}

/** A batch cut to its first `T` steps (warm-up on bach). */
function crop(batch, T) {
  const B = batch.batchSize;
  const t = Math.min(T, batch.length);
  return {
    batchSize: B,
    length: t,
    inputs: batch.inputs.slice(0, t * B),
    labels: batch.labels.slice(0, t * B),
    lengths: batch.lengths.map((l) => Math.min(l, t)),
  };
}

/** Runs a command to the end; its stdout, or an error with the end of its output. */
export function run(cmd, args, what) {
  const r = spawnSync(cmd, args, { cwd: ROOT, encoding: "utf8", maxBuffer: 64 << 20 });
  if (r.status !== 0) {
    throw new Error(
      `${what} failed (${r.status ?? r.signal}):\n${(r.stderr || r.stdout || "").slice(-2000)}`,
    );
  }
  return r.stdout;
}

/** The Bach training set: --bach_dataset, or made from the MIDI files into `tmp` as a user would. */
function bachDataset(flags, tmp) {
  if (flags.bach_dataset) {
    const p = resolve(String(flags.bach_dataset));
    return statSync(p).isDirectory() ? join(p, "training_poly_tracks.tfrecord") : p;
  }
  return join(makeBachDataset(flags, tmp), "training_poly_tracks.tfrecord");
}

/**
 * Makes the Bach dataset in `tmp`/bach as a user would (`polyrnn convert` + `polyrnn dataset --seed=1`)
 * from --bach_midi (default ../shared/data/bach-chorales-midi); returns the folder, which holds
 * training_poly_tracks.tfrecord and eval_poly_tracks.tfrecord.
 */
export function makeBachDataset(flags, tmp) {
  const midi = resolve(ROOT, String(flags.bach_midi ?? "../shared/data/bach-chorales-midi"));
  if (!existsSync(midi)) throw new Error(`${midi} not found: pass --bach_dataset=PATH or --bach_midi=DIR`);
  const cli = join(ROOT, "dist/cli/polyrnn.js");
  const dir = join(tmp, "bach");
  const t0 = performance.now();
  run(
    process.execPath,
    [cli, "convert", `--input_dir=${midi}`, `--output_file=${dir}/notes.tfrecord`],
    "convert",
  );
  run(
    process.execPath,
    [cli, "dataset", `--input=${dir}/notes.tfrecord`, `--output_dir=${dir}`, "--seed=1", "--log=WARN"],
    "dataset",
  );
  log(
    `bach: polyrnn convert + polyrnn dataset --seed=1 in ${((performance.now() - t0) / 1000).toFixed(1)} s`,
  );
  return dir;
}

/**
 * The stream of Bach batches (`nextBatch(B)`): the trainer's own `TrainingBatches` of
 * dist/dataset/batches.js (`mod`) with `polyrnn train --batching`'s sampler: `random` (Magenta's random
 * batches) or `length` (length-bucketed batches). Either way each batch comes padded to its longest track.
 */
function bachStream(mod, set, seed, batching) {
  if (!mod.BATCHINGS.includes(batching)) {
    throw new Error(`--bach_batching: unknown "${batching}"; valid: ${mod.BATCHINGS.join(", ")}`);
  }
  return new mod.TrainingBatches(set, seed, 0, batching);
}

function log(msg) {
  process.stderr.write(`${msg}\n`);
}

/** Peak RSS so far of a running process (Linux: VmHWM), in MB; undefined elsewhere. */
function peakRssOf(pid) {
  try {
    const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, "utf8"));
    return m ? (Number(m[1]) * 1024) / 1e6 : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Runs one worker. Workers print `TIMED` when the warm-up is over, `STEP <ms>` after each timed step
 * and `RESULT {json}` at the end. Resolves to the RESULT object; past `limitS` seconds (or
 * `timedLimitS` seconds after TIMED, when that is less) the worker is killed and this resolves to { stopped: { limitS, stepMs, timedS, peakRssMB } } (what it had done);
 * a crash resolves to { error }.
 */
function runWorker(cmd, args, limitS, timedLimitS = limitS) {
  return new Promise((done) => {
    const child = spawn(cmd, args, { cwd: ROOT, stdio: ["ignore", "pipe", "pipe"] });
    let pending = "";
    let result;
    let timedAt;
    const stepMs = [];
    let err = "";
    let killed;
    child.stdout.on("data", (d) => {
      pending += d;
      let nl = pending.indexOf("\n");
      while (nl >= 0) {
        const line = pending.slice(0, nl);
        pending = pending.slice(nl + 1);
        nl = pending.indexOf("\n");
        if (line === "TIMED") {
          timedAt = performance.now();
          if (timedLimitS < limitS) {
            clearTimeout(timer);
            timer = setTimeout(stop, timedLimitS * 1000);
          }
        } else if (line.startsWith("STEP ")) stepMs.push(Number(line.slice(5)));
        else if (line.startsWith("RESULT ")) result = JSON.parse(line.slice(7));
      }
    });
    child.stderr.on("data", (d) => {
      err += d;
      if (err.length > 100_000) err = err.slice(-50_000);
    });
    const stop = () => {
      killed = {
        limitS: timedAt === undefined ? limitS : timedLimitS,
        stepMs: [...stepMs],
        timedS: timedAt === undefined ? undefined : (performance.now() - timedAt) / 1000,
        peakRssMB: peakRssOf(child.pid),
      };
      child.kill("SIGKILL");
    };
    let timer = setTimeout(stop, limitS * 1000);
    child.on("close", (code, signal) => {
      clearTimeout(timer);
      if (result) return done(result);
      if (killed) return done({ stopped: killed });
      const tail = err.trim().split("\n").slice(-3).join(" | ").slice(-400);
      done({ error: `exit ${code ?? signal}${tail ? `: ${tail}` : ""}` });
    });
  });
}

/**
 * A table row from a worker that was stopped at its time limit: the mean of the steps it finished, or,
 * with none finished, bounds (the first step takes longer than the time it had: tokens/s below
 * its tokens / that time).
 */
function stoppedRow(stopped, batchTokens) {
  const { limitS, stepMs, timedS, peakRssMB } = stopped;
  if (stepMs.length > 0) {
    const ms = stepMs.reduce((a, b) => a + b, 0);
    const tokens = batchTokens.slice(0, stepMs.length).reduce((a, b) => a + b, 0);
    return {
      steps: stepMs.length,
      tokens,
      seconds: ms / 1000,
      tokensPerS: (tokens * 1000) / ms,
      msPerStep: ms / stepMs.length,
      stepMs,
      peakRssMB,
      peakRssAtLeast: true,
      note: `stopped at the ${limitS} s limit after ${stepMs.length} of ${batchTokens.length} steps`,
    };
  }
  if (timedS === undefined) {
    return {
      error: `stopped at the ${limitS} s limit before the warm-up ended`,
      peakRssMB,
      peakRssAtLeast: true,
    };
  }
  return {
    steps: 0,
    tokens: batchTokens[0],
    tokensPerS: batchTokens[0] / timedS,
    msPerStep: timedS * 1000,
    bound: true,
    peakRssMB,
    peakRssAtLeast: true,
    note: `first step unfinished at the ${limitS} s limit (${timedS.toFixed(0)} s into it)`,
  };
}

const fmt = (x, digits = 0) =>
  x === undefined || x === null || Number.isNaN(x)
    ? "—"
    : x.toLocaleString("en-US", { minimumFractionDigits: digits, maximumFractionDigits: digits });

/** The fastest successful row of an implementation for (size, data). */
function bestRow(results, impl, size, data) {
  let best;
  for (const r of results) {
    if (r.impl !== impl || r.size !== size || r.data !== data || r.error) continue;
    if (!best || r.tokensPerS > best.tokensPerS) best = r;
  }
  return best;
}

/** ", at N MiB of activations", for a polyrnn row. */
const mib = (row) => (row.activationMiB ? `, at ${fmt(row.activationMiB)} MiB of activations` : "");

/** The markdown tables and the two bars, from the rows. */
function report(results, ratios, head, cores) {
  const lines = [...head, ""];
  lines.push(
    "| implementation | size | data | threads | steps | tokens/step | tokens/s | ms/step | peak RSS MB | loss |",
  );
  lines.push("|---|---|---|--:|--:|--:|--:|--:|--:|--:|");
  const notes = [];
  for (const r of results) {
    const star = r.note ? `${"*".repeat(notes.push(`${r.impl} ${r.size} ${r.data}: ${r.note}`))} ` : "";
    if (r.error) {
      lines.push(
        `| ${r.impl} | ${r.size} | ${r.data} | ${r.threads} | — | — | failed: ${r.error.replaceAll("|", "/")} | | | |`,
      );
      continue;
    }
    const perStep = r.steps > 0 ? r.tokens / r.steps : r.tokens;
    const impl = r.activationMiB ? `${r.impl} (${fmt(r.activationMiB)} MiB)` : r.impl;
    lines.push(
      `| ${impl} | ${r.size} | ${r.data} | ${r.threads} | ${star}${r.steps} | ${fmt(perStep)} | ${r.bound ? "< " : ""}${fmt(r.tokensPerS)} | ` +
        `${r.bound ? "> " : ""}${fmt(r.msPerStep)} | ${r.peakRssAtLeast ? "≥ " : ""}${fmt(r.peakRssMB)} | ${fmt(r.loss, 3)} |`,
    );
  }
  notes.forEach((n, i) => {
    lines.push(`${i === 0 ? "\n" : ""}${"*".repeat(i + 1)} ${n}`);
  });
  lines.push("");
  lines.push(
    `| size | data | polyrnn / torch | polyrnn / torch-packed | polyrnn / tfjs | polyrnn peak RSS MB | threads polyrnn, torch, torch-packed | polyrnn / torch at ${cores} threads |`,
  );
  lines.push("|---|---|--:|--:|--:|--:|--:|--:|");
  const ratio = (x, bound) => (x === null || x === undefined ? "—" : `${bound ? "> " : ""}${x.toFixed(2)}×`);
  for (const q of ratios) {
    const th = q.threads;
    lines.push(
      `| ${q.size} | ${q.data} | ${ratio(q.polyrnnOverTorch, q.torchBound)} | ` +
        `${ratio(q.polyrnnOverTorchPacked, q.torchPackedBound)} | ` +
        `${ratio(q.polyrnnOverTfjs, q.tfjsBound)} | ${fmt(q.polyrnnPeakRssMB)} | ` +
        `${th.polyrnn ?? "—"}, ${th.torch ?? "—"}, ${th.torchPacked ?? "—"} | ${ratio(q.polyrnnOverTorchAtCores, false)} |`,
    );
  }
  // Issue 15's bars, each where this run measured it.
  const bars = [];
  const at = (size, data) => ratios.find((q) => q.size === size && q.data === data);
  for (const size of ["2x64", "3x256"]) {
    const bach = bestRow(results, "polyrnn", size, "bach");
    const synthetic = bestRow(results, "polyrnn", size, "synthetic");
    if (bach && synthetic) {
      const share = bach.tokensPerS / synthetic.tokensPerS;
      bars.push([
        `polyrnn ${size} bach ≥ 90 % of synthetic tokens/s`,
        share >= 0.9,
        `${(100 * share).toFixed(0)} %${mib(bach)}`,
      ]);
    }
  }
  for (const [size, key, bound, min, who] of [
    ["3x256", "polyrnnOverTorch", "torchBound", 3, "torch"],
    ["2x64", "polyrnnOverTorch", "torchBound", 5, "torch"],
    ["3x256", "polyrnnOverTorchPacked", "torchPackedBound", 1.5, "torch-packed"],
  ]) {
    const q = at(size, "bach");
    if (q && q[key] !== null) {
      const value = `${ratio(q[key], q[bound])}${mib(bestRow(results, "polyrnn", size, "bach"))}`;
      bars.push([`polyrnn ≥ ${min}× ${who} at ${size} bach`, q[key] >= min, value]);
    }
  }
  // Memory: the polyrnn row of least peak RSS (with several --activation_mb, not the fastest row).
  const lean = results
    .filter(
      (r) =>
        r.impl === "polyrnn" &&
        r.size === "3x256" &&
        r.data === "bach" &&
        !r.error &&
        !r.peakRssAtLeast &&
        Number.isFinite(r.peakRssMB),
    )
    .sort((a, b) => a.peakRssMB - b.peakRssMB)[0];
  if (lean) {
    const mb = lean.peakRssMB;
    bars.push(["polyrnn 3x256 bach peak RSS < 500 MB", mb < 500, `${fmt(mb)} MB${mib(lean)}`]);
  }
  if (bars.length > 0) lines.push("");
  for (const [what, ok, value] of bars) lines.push(`${what}: ${ok ? "met" : "NOT met"} (${value})`);
  return lines;
}

async function main() {
  const flags = parseFlags(process.argv.slice(2));
  const only = list(flags.only, IMPLS);
  for (const i of only) if (!IMPLS.includes(i)) throw new Error(`--only: unknown "${i}"; valid: ${IMPLS}`);
  const sizes = list(flags.sizes, ["2x64", "3x256"]);
  sizes.forEach(parseSize);
  const dataKinds = list(flags.data, ["synthetic", "bach"]);
  for (const d of dataKinds) if (!(d in DEFAULT_STEPS)) throw new Error(`--data: unknown "${d}"`);
  const kernelKinds = list(flags.kernels, ["wasm"]);
  const cores = availableParallelism();
  const threadCounts = list(flags.threads, cores > 1 ? ["1", String(cores)] : ["1"]).map(Number);
  const warmup = Number(flags.warmup ?? 2);
  const B = Number(flags.batch_size ?? 64);
  const seed = Number(flags.seed ?? 1);
  const python = String(flags.python ?? "/usr/bin/python3");
  const limitS = Number(flags.timeout ?? 600);
  const tfjsBachLimitS = Number(flags.tfjs_bach_timeout ?? 60);
  const { activationBudget } = await import(pathToFileURL(join(ROOT, "dist/model/lstm.js")).href);
  // 0: what `polyrnn train` takes when not told (--activation_mb=0), on this machine now.
  const activationMiBs = list(flags.activation_mb, ["0"]).map((v) => {
    const n = Number(v);
    if (!Number.isInteger(n) || n < 0)
      throw new Error(`--activation_mb: "${v}" is not a whole number of MiB ≥ 0`);
    return n > 0 ? n : Math.floor(activationBudget(freemem()) / 2 ** 20);
  });
  const tfjsInstalled = only.includes("tfjs") && tfjsIsInstalled();
  const skipped = [];
  if (only.includes("tfjs") && !tfjsInstalled) {
    skipped.push(`tfjs rows skipped: bench/tfjs is not installed; \`${TFJS_INSTALL}\` installs it`);
    log(skipped.at(-1));
  }
  const stepsFor = (data, size) =>
    flags.steps !== undefined ? Number(flags.steps) : (DEFAULT_STEPS[data][size] ?? FALLBACK_STEPS[data]);

  const bachBatching = String(flags.bach_batching ?? "random");
  const batchesModule = await import(pathToFileURL(join(ROOT, "dist/dataset/batches.js")).href);
  const { seededRandom, ExampleSet } = batchesModule;
  const { readTFRecordFile } = await import(pathToFileURL(join(ROOT, "dist/io/fs.js")).href);

  const tmp = mkdtempSync(join(tmpdir(), "polyrnn-bench-train-"));
  const machine = {
    ...machineInfo(),
    threads: threadCounts,
    loadAvgStart: loadavg()[0],
  };
  const command = `node bench/train.mjs ${process.argv.slice(2).join(" ")}`.trim();
  const t0 = performance.now();
  log(`${machine.cpu} × ${machine.cores}, node ${machine.node}, threads ${threadCounts}; temp ${tmp}`);

  // Batches: per data kind, as many as the size with the most steps needs; each size takes the first ones.
  const batchFiles = {};
  for (const data of dataKinds) {
    const need = Math.max(...sizes.map((s) => stepsFor(data, s)));
    let timed;
    let warm;
    if (data === "synthetic") {
      const all = syntheticBatches(warmup + need, B, 64, seed, seededRandom);
      warm = all.slice(0, warmup);
      timed = all.slice(warmup);
    } else {
      const file = bachDataset(flags, tmp);
      const set = await ExampleSet.fromRecords(readTFRecordFile(file), file);
      const stream = bachStream(batchesModule, set, seed, bachBatching);
      timed = Array.from({ length: need }, () => stream.nextBatch(B));
      warm = Array.from({ length: warmup }, (_, i) => crop(timed[i % timed.length], 64));
      const shape = timed.map((b) => `${b.length}×${B} (${realTokens(b)} real)`).join(", ");
      log(`bach: ${set.count} tracks, ${set.tokens} events, ${bachBatching} batches; timed batches ${shape}`);
    }
    for (const size of sizes) {
      const path = join(tmp, `${data}-${size}.bin`);
      const mine = timed.slice(0, stepsFor(data, size));
      writeBatchFile(path, [...warm, ...mine], warm.length);
      batchFiles[`${data}/${size}`] = { path, tokens: mine.map(realTokens) };
    }
  }

  // Each side's thread count: every count in --threads on the first data kind, then that size's fastest.
  const results = [];
  const chosen = {};
  for (const data of dataKinds) {
    for (const size of sizes) {
      const layers = parseSize(size).join(",");
      const { path, tokens } = batchFiles[`${data}/${size}`];
      const common = [`--batches=${path}`, `--layers=${layers}`, `--seed=${seed}`];
      const jobs = []; // [impl, command, args, limit, thread counts]
      if (only.includes("polyrnn")) {
        for (const k of kernelKinds) {
          for (const a of activationMiBs) {
            const args = [
              join(HERE, "polyrnn_train_worker.mjs"),
              ...common,
              `--kernels=${k}`,
              `--activation_mb=${a}`,
            ];
            const counts = k === "reference" ? [1] : threadCounts;
            const impl = k === "wasm" ? "polyrnn" : `polyrnn (${k})`;
            jobs.push([impl, process.execPath, args, limitS, counts, limitS, a]);
          }
        }
      }
      const torchArgs = [join(HERE, "torch_train.py"), ...common];
      if (only.includes("torch")) jobs.push(["torch", python, torchArgs, limitS, threadCounts]);
      if (only.includes("torch-packed")) {
        jobs.push(["torch-packed", python, [...torchArgs, "--packed"], limitS, threadCounts]);
      }
      if (only.includes("tfjs") && tfjsInstalled) {
        const timedLimit = data === "bach" ? Math.min(limitS, tfjsBachLimitS) : limitS;
        jobs.push(["tfjs", process.execPath, [TFJS_WORKER, ...common], limitS, [1], timedLimit]);
      }
      for (const [impl, cmd, args, limit, counts, timedLimit = limit, activationMiB] of jobs) {
        for (const threads of chosen[`${impl}/${size}`] ?? counts) {
          log(
            `${impl}${activationMiB ? ` (${fmt(activationMiB)} MiB of activations)` : ""} ${size} ${data} ${threads} thread(s): ${tokens.length} steps after ${warmup} warm-up (limit ${timedLimit < limit ? `${timedLimit} s of timed steps` : `${limit} s`}) …`,
          );
          const w0 = performance.now();
          const r = await runWorker(cmd, [...args, `--threads=${threads}`], limit, timedLimit);
          const row = { impl, size, data, threads, ...(r.stopped ? stoppedRow(r.stopped, tokens) : r) };
          if (activationMiB) row.activationMiB = activationMiB;
          row.wallS = (performance.now() - w0) / 1000;
          results.push(row);
          log(
            row.error
              ? `  failed: ${row.error}`
              : `  ${row.bound ? "< " : ""}${fmt(row.tokensPerS)} tokens/s, ${fmt(row.msPerStep)} ms/step, ` +
                  `peak RSS ${fmt(row.peakRssMB)} MB, loss ${fmt(row.loss, 3)}${row.note ? ` (${row.note})` : ""}`,
          );
        }
        const best = bestRow(results, impl, size, data);
        if (best && !chosen[`${impl}/${size}`]) chosen[`${impl}/${size}`] = [best.threads];
      }
    }
  }

  // polyrnn (WASM kernels) against the others, per size and data, each at its fastest thread count. A
  // bound on the other side (tfjs stopped before its first step ended) makes the ratio a lower bound.
  const ratios = [];
  for (const data of dataKinds) {
    for (const size of sizes) {
      const p = bestRow(results, "polyrnn", size, data);
      const t = bestRow(results, "torch", size, data);
      const tp = bestRow(results, "torch-packed", size, data);
      const j = bestRow(results, "tfjs", size, data);
      const maxThreads = Math.max(...threadCounts);
      const tCores = results.find(
        (r) =>
          r.impl === "torch" && r.size === size && r.data === data && !r.error && r.threads === maxThreads,
      );
      ratios.push({
        size,
        data,
        polyrnnOverTorch: p && t ? p.tokensPerS / t.tokensPerS : null,
        torchBound: Boolean(t?.bound),
        polyrnnOverTorchPacked: p && tp ? p.tokensPerS / tp.tokensPerS : null,
        torchPackedBound: Boolean(tp?.bound),
        polyrnnOverTfjs: p && j ? p.tokensPerS / j.tokensPerS : null,
        tfjsBound: Boolean(j?.bound),
        polyrnnPeakRssMB: p ? p.peakRssMB : null,
        threads: { polyrnn: p?.threads ?? null, torch: t?.threads ?? null, torchPacked: tp?.threads ?? null },
        // torch at the most threads measured (all cores by default): the configuration the DESIGN's
        // reference numbers used; measured on the first data kind only.
        polyrnnOverTorchAtCores: p && tCores ? p.tokensPerS / tCores.tokensPerS : null,
      });
    }
  }

  machine.loadAvgEnd = loadavg()[0];
  const info = (impl) => results.find((r) => r.impl === impl && r.info)?.info;
  const [polyInfo, torchInfo, tfjsInfo] = [
    info("polyrnn"),
    info("torch") ?? info("torch-packed"),
    info("tfjs"),
  ];
  const head = [
    `$ ${command}`,
    `${machine.cpu} × ${machine.cores} cores, ${machine.memoryGB} GB; load average ${machine.loadAvgStart.toFixed(1)} at the start, ` +
      `${machine.loadAvgEnd.toFixed(1)} at the end; ${((performance.now() - t0) / 60000).toFixed(1)} min`,
    [
      `node ${machine.node}`,
      polyInfo && `polyrnn kernels ${polyInfo.kernels}`,
      torchInfo && `torch ${torchInfo.torch} (OpenBLAS)`,
      tfjsInfo &&
        `tfjs ${tfjsInfo.tfjs} ${tfjsInfo.backend}${tfjsInfo.simd ? " SIMD" : ""} (single-threaded in Node)`,
    ]
      .filter(Boolean)
      .join("; "),
    ...skipped,
  ];
  const lines = report(results, ratios, head, Math.max(...threadCounts));
  console.log(lines.join("\n"));

  if (flags.json) {
    writeResultJson(resolve(String(flags.json)), command, machine, {
      skipped,
      results,
      ratios,
      table: lines.join("\n"),
    });
  }
  if (!flags.keep) rmSync(tmp, { recursive: true, force: true });
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? "").href) {
  main().catch((e) => {
    console.error(`bench/train: ${e instanceof Error ? e.message : e}`);
    process.exit(1);
  });
}
