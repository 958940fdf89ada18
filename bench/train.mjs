#!/usr/bin/env node
// Training throughput: polyrnn (WASM kernels) against PyTorch on the CPU and tfjs (wasm backend), on the
// same batches, in one run. Each implementation trains in its own child process (so its peak RSS is its
// own): warm-up steps, then a fixed number of timed steps of Magenta's model (stacked BasicLSTMCell,
// output dropout 0.5 after every layer, linear to 259, token-mean cross-entropy, per-tensor clip 5, Adam).
//
//   npm run bench:train                         (= npm run build && node bench/train.mjs)
//   node bench/train.mjs --json=out/train.json  also writes the results as JSON
//   node bench/train.mjs --only=polyrnn,torch --sizes=3x256 --data=bach --steps=2
//   node bench/train.mjs --kernels=wasm,reference --data=synthetic --steps=3   adds the TypeScript kernels
//
// Flags: --steps=N (timed steps; default per size and data, below), --warmup=N (default 2), --only=LIST
// (polyrnn,torch,tfjs), --sizes=LIST (2x64,3x256; any AxB), --data=LIST (synthetic,bach), --threads=N
// (default: all cores; polyrnn's workers, torch.set_num_threads, tfjs-wasm is single-threaded in Node),
// --kernels=LIST (wasm; reference), --bach_dataset=FILE|DIR (a training_poly_tracks.tfrecord; default:
// made here by `polyrnn convert` + `polyrnn dataset --seed=1` from ../shared/data/bach-chorales-midi),
// --batch_size=N (64), --seed=N (1), --python=PATH (/usr/bin/python3), --timeout=SECONDS (per child, 900),
// --json=FILE, --keep (keep the temp folder).
//
// Data. synthetic: uniformly random event ids, every sequence 64 steps, no padding. bach: the trainer's own
// shuffled stream of the real dataset (`TrainingBatches`), each batch padded to its longest track (Magenta's
// dynamic_pad), so most batches are 2,200–3,500 steps long and about 40 % real; tokens/s counts real
// (non-padding) positions only, for every implementation. Warm-up steps on bach use the first timed
// batches cut to 64 steps (the same code, a fraction of the cost). The driver writes the batches to a
// binary file that every implementation reads (format: `writeBatchFile` below).
import { spawn, spawnSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { availableParallelism, cpus, tmpdir, totalmem } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";

const HERE = dirname(fileURLToPath(import.meta.url));
const ROOT = resolve(HERE, "..");
const IMPLS = ["polyrnn", "torch", "tfjs"];
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
    const T = all[at++];
    const lengths = all.slice(at, (at += B));
    const inputs = all.slice(at, (at += T * B));
    const labels = all.slice(at, (at += T * B));
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

/** A worker's last line: `RESULT {json}`. */
export function printResult(result) {
  process.stdout.write(`RESULT ${JSON.stringify(result)}\n`);
}

// ---- The driver ----

const list = (v, fallback) => (v === undefined || v === true ? fallback : String(v).split(",").filter(Boolean));

function parseSize(s) {
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

function run(cmd, args, what) {
  const r = spawnSync(cmd, args, { cwd: ROOT, encoding: "utf8", maxBuffer: 64 << 20 });
  if (r.status !== 0) {
    throw new Error(`${what} failed (${r.status ?? r.signal}):\n${(r.stderr || r.stdout || "").slice(-2000)}`);
  }
  return r.stdout;
}

/** The Bach training set: --bach_dataset, or made from the MIDI files into `tmp` as a user would. */
function bachDataset(flags, tmp) {
  if (flags.bach_dataset) {
    const p = resolve(String(flags.bach_dataset));
    return statSync(p).isDirectory() ? join(p, "training_poly_tracks.tfrecord") : p;
  }
  const midi = resolve(ROOT, String(flags.bach_midi ?? "../shared/data/bach-chorales-midi"));
  if (!existsSync(midi)) throw new Error(`${midi} not found: pass --bach_dataset=PATH or --bach_midi=DIR`);
  const cli = join(ROOT, "dist/cli/polyrnn.js");
  const dir = join(tmp, "bach");
  const t0 = performance.now();
  run(process.execPath, [cli, "convert", `--input_dir=${midi}`, `--output_file=${dir}/notes.tfrecord`], "convert");
  run(
    process.execPath,
    [cli, "dataset", `--input=${dir}/notes.tfrecord`, `--output_dir=${dir}`, "--seed=1", "--log=WARN"],
    "dataset",
  );
  log(`bach: polyrnn convert + polyrnn dataset --seed=1 in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
  return join(dir, "training_poly_tracks.tfrecord");
}

function log(msg) {
  process.stderr.write(`${msg}\n`);
}

/** Runs one worker; resolves to its RESULT object, or { error } with the reason. */
function runWorker(cmd, args, timeoutS) {
  return new Promise((done) => {
    const child = spawn(cmd, args, { cwd: ROOT, stdio: ["ignore", "pipe", "pipe"] });
    let out = "";
    let err = "";
    child.stdout.on("data", (d) => {
      out += d;
    });
    child.stderr.on("data", (d) => {
      err += d;
      if (err.length > 100_000) err = err.slice(-50_000);
    });
    const timer = setTimeout(() => child.kill("SIGKILL"), timeoutS * 1000);
    child.on("close", (code, signal) => {
      clearTimeout(timer);
      const line = out.split("\n").find((l) => l.startsWith("RESULT "));
      if (line) return done(JSON.parse(line.slice(7)));
      const tail = err.trim().split("\n").slice(-3).join(" | ").slice(-400);
      const why = signal === "SIGKILL" ? `killed after the ${timeoutS} s timeout` : `exit ${code ?? signal}`;
      done({ error: `${why}${tail ? `: ${tail}` : ""}` });
    });
  });
}

const fmt = (x, digits = 0) =>
  x === undefined || x === null || Number.isNaN(x)
    ? "—"
    : x.toLocaleString("en-US", { minimumFractionDigits: digits, maximumFractionDigits: digits });

async function main() {
  const flags = parseFlags(process.argv.slice(2));
  const only = list(flags.only, IMPLS);
  for (const i of only) if (!IMPLS.includes(i)) throw new Error(`--only: unknown "${i}"; valid: ${IMPLS}`);
  const sizes = list(flags.sizes, ["2x64", "3x256"]);
  const dataKinds = list(flags.data, ["synthetic", "bach"]);
  for (const d of dataKinds) if (!(d in DEFAULT_STEPS)) throw new Error(`--data: unknown "${d}"`);
  const kernelKinds = list(flags.kernels, ["wasm"]);
  const threads = Number(flags.threads ?? availableParallelism());
  const warmup = Number(flags.warmup ?? 2);
  const B = Number(flags.batch_size ?? 64);
  const seed = Number(flags.seed ?? 1);
  const python = String(flags.python ?? "/usr/bin/python3");
  const timeoutS = Number(flags.timeout ?? 900);
  const stepsFor = (data, size) =>
    flags.steps !== undefined ? Number(flags.steps) : (DEFAULT_STEPS[data][size] ?? FALLBACK_STEPS[data]);

  const { seededRandom, ExampleSet, TrainingBatches } = await import(
    pathToFileURL(join(ROOT, "dist/dataset/batches.js")).href
  );
  const { readTFRecordFile } = await import(pathToFileURL(join(ROOT, "dist/io/fs.js")).href);

  const tmp = mkdtempSync(join(tmpdir(), "polyrnn-bench-train-"));
  const machine = {
    cpu: cpus()[0]?.model ?? "?",
    cores: availableParallelism(),
    memoryGB: Math.round(totalmem() / 1e9),
    node: process.version,
    threads,
  };
  const command = `node bench/train.mjs ${process.argv.slice(2).join(" ")}`.trim();
  log(`${machine.cpu} × ${machine.cores}, node ${machine.node}, threads ${threads}; temp ${tmp}`);

  // Batches: per data kind, the most steps any size needs; each size reads the first ones.
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
      const stream = new TrainingBatches(set, seed);
      timed = Array.from({ length: need }, () => stream.nextBatch(B));
      warm = Array.from({ length: warmup }, (_, i) => crop(timed[i % timed.length], 64));
      const shape = timed.map((b) => `${b.length}×${B} (${realTokens(b)} real)`).join(", ");
      log(`bach: ${set.count} tracks, ${set.tokens} events; timed batches ${shape}`);
    }
    for (const size of sizes) {
      const path = join(tmp, `${data}-${size}.bin`);
      writeBatchFile(path, [...warm, ...timed.slice(0, stepsFor(data, size))], warm.length);
      batchFiles[`${data}/${size}`] = path;
    }
  }

  const results = [];
  for (const data of dataKinds) {
    for (const size of sizes) {
      const layers = parseSize(size).join(",");
      const file = batchFiles[`${data}/${size}`];
      const common = [`--batches=${file}`, `--layers=${layers}`, `--threads=${threads}`, `--seed=${seed}`];
      const jobs = [];
      if (only.includes("polyrnn")) {
        for (const k of kernelKinds) {
          jobs.push([
            k === "wasm" ? "polyrnn" : `polyrnn (${k})`,
            process.execPath,
            [join(HERE, "polyrnn_train_worker.mjs"), ...common, `--kernels=${k}`],
          ]);
        }
      }
      if (only.includes("torch")) jobs.push(["torch", python, [join(HERE, "torch_train.py"), ...common]]);
      if (only.includes("tfjs")) jobs.push(["tfjs", process.execPath, [join(HERE, "tfjs_train.mjs"), ...common]]);
      for (const [impl, cmd, args] of jobs) {
        log(`${impl} ${size} ${data}: ${stepsFor(data, size)} steps after ${warmup} warm-up …`);
        const t0 = performance.now();
        const r = await runWorker(cmd, args, timeoutS);
        const row = { impl, size, data, ...r, wallS: (performance.now() - t0) / 1000 };
        results.push(row);
        log(
          r.error
            ? `  failed: ${r.error}`
            : `  ${fmt(r.tokensPerS)} tokens/s, ${fmt(r.msPerStep)} ms/step, peak RSS ${fmt(r.peakRssMB)} MB, loss ${fmt(r.loss, 3)}`,
        );
      }
    }
  }

  // Ratios of polyrnn (WASM kernels) against the others, per size and data.
  const ratios = [];
  for (const data of dataKinds) {
    for (const size of sizes) {
      const get = (impl) => results.find((r) => r.impl === impl && r.size === size && r.data === data && !r.error);
      const p = get("polyrnn");
      const t = get("torch");
      const j = get("tfjs");
      ratios.push({
        size,
        data,
        polyrnnOverTorch: p && t ? p.tokensPerS / t.tokensPerS : null,
        polyrnnOverTfjs: p && j ? p.tokensPerS / j.tokensPerS : null,
        polyrnnPeakRssMB: p ? p.peakRssMB : null,
      });
    }
  }

  const torchInfo = results.find((r) => r.impl === "torch" && r.info)?.info;
  const tfjsInfo = results.find((r) => r.impl === "tfjs" && r.info)?.info;
  const polyInfo = results.find((r) => r.impl === "polyrnn" && r.info)?.info;
  const lines = [];
  lines.push(`$ ${command}`);
  lines.push(
    `${machine.cpu} × ${machine.cores} cores, ${machine.memoryGB} GB; node ${machine.node}; threads ${threads}` +
      (polyInfo ? `; polyrnn kernels ${polyInfo.kernels}` : "") +
      (torchInfo ? `; torch ${torchInfo.torch} (${torchInfo.threads} threads)` : "") +
      (tfjsInfo ? `; tfjs ${tfjsInfo.tfjs} ${tfjsInfo.backend} (${tfjsInfo.threads} thread)` : ""),
  );
  lines.push("");
  lines.push("| implementation | size | data | steps | tokens/step | tokens/s | ms/step | peak RSS MB | loss |");
  lines.push("|---|---|---|--:|--:|--:|--:|--:|--:|");
  for (const r of results) {
    if (r.error) {
      lines.push(`| ${r.impl} | ${r.size} | ${r.data} | — | — | failed: ${r.error.replaceAll("|", "/")} | | | |`);
      continue;
    }
    lines.push(
      `| ${r.impl} | ${r.size} | ${r.data} | ${r.steps} | ${fmt(r.tokens / r.steps)} | ${fmt(r.tokensPerS)} | ` +
        `${fmt(r.msPerStep)} | ${fmt(r.peakRssMB)} | ${fmt(r.loss, 3)} |`,
    );
  }
  lines.push("");
  lines.push("| size | data | polyrnn / torch | polyrnn / tfjs | polyrnn peak RSS MB |");
  lines.push("|---|---|--:|--:|--:|");
  const ratio = (x) => (x === null ? "—" : `${x.toFixed(2)}×`);
  for (const q of ratios) {
    lines.push(
      `| ${q.size} | ${q.data} | ${ratio(q.polyrnnOverTorch)} | ${ratio(q.polyrnnOverTfjs)} | ${fmt(q.polyrnnPeakRssMB)} |`,
    );
  }
  const bar = ratios.filter((q) => q.polyrnnOverTorch !== null);
  if (bar.length > 0) {
    const ok = bar.every((q) => q.polyrnnOverTorch >= 3);
    lines.push("");
    lines.push(`bar polyrnn ≥ 3× torch: ${ok ? "met" : "NOT met"} (${bar.map((q) => ratio(q.polyrnnOverTorch)).join(", ")})`);
  }
  const bachBig = ratios.find((q) => q.size === "3x256" && q.data === "bach" && q.polyrnnPeakRssMB !== null);
  if (bachBig) {
    const ok = bachBig.polyrnnPeakRssMB < 1000;
    lines.push(`bar polyrnn 3x256 bach peak RSS < 1 GB: ${ok ? "met" : "NOT met"} (${fmt(bachBig.polyrnnPeakRssMB)} MB)`);
  }
  console.log(lines.join("\n"));

  if (flags.json) {
    const path = resolve(String(flags.json));
    mkdirSync(dirname(path), { recursive: true });
    const json = { command, date: new Date().toISOString(), machine, results, ratios, table: lines.join("\n") };
    writeFileSync(path, `${JSON.stringify(json, null, 2)}\n`);
    log(`wrote ${path}`);
  }
  if (!flags.keep) rmSync(tmp, { recursive: true, force: true });
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? "").href) {
  main().catch((e) => {
    console.error(`bench/train: ${e instanceof Error ? e.message : e}`);
    process.exit(1);
  });
}
