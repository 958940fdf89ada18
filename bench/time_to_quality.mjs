#!/usr/bin/env node
// Time to quality: eval loss on the Bach chorales' eval split against wall-clock seconds of training, for
// one fixed recipe, once per batching of `polyrnn train` (issue 15): --batching=padded (Magenta's random
// batches computed through the padding, the old behaviour) and --batching=random (the same batches, packed:
// no arithmetic on padding; the default); --batching=length (length-bucketed batches) on request. How
// long until the model is good, which is what a user waits for.
//
//   npm run bench:time_to_quality             (= npm run build && node bench/time_to_quality.mjs)
//   node bench/time_to_quality.mjs --minutes=20 --sizes=2x128 --json=out/ttq.json --svg=out/ttq.svg
//   node bench/time_to_quality.mjs --minutes=0.5 --sizes=1x16 --batchings=none   (smoke run, seconds)
//
// Flags: --minutes=M (wall-clock training budget per run, default 20), --sizes=LIST (LAYERSxUNITS, default
// 2x128; every size runs every batching), --batch_size=N (64), --batchings=LIST (padded,random; also length; `none`
// leaves the --batching flag out: the CLI's default, for builds that predate the flag), --eval_secs=S
// (seconds between checkpoints, i.e. between points of a curve; default the budget / 20, at least 1),
// --seed=N (1: initial weights, batch order and dropout, the same for every run), --threads=N (polyrnn
// train's --threads; 0, the default, lets it pick), --eval_dropout=true|false (score with Magenta's eval
// dropout, the default, or without), --bach_dataset=DIR (a folder holding training_poly_tracks.tfrecord and
// eval_poly_tracks.tfrecord; default: made here by `polyrnn convert` + `polyrnn dataset --seed=1` from
// ../shared/data/bach-chorales-midi, or --bach_midi=DIR), --json=FILE (default out/time_to_quality.json),
// --svg=FILE (default out/time_to_quality.svg), --keep (keep the temp folder with the runs).
//
// Method. Each run is `node dist/cli/polyrnn.js train` in a child process on the training split with
// --hparams=batch_size=B,rnn_layer_sizes=[…], --checkpoint_secs=S and --num_checkpoints=0 (keep every
// checkpoint); the trainer saves one at the start, every S seconds and at the end. Its clock starts when
// the process is spawned (so reading the dataset and starting the kernels count, as they do for a user);
// at the budget it gets SIGINT, finishes its step, saves and exits. A checkpoint's time is its file's
// modification time on that clock. Only after the run has exited is each of its checkpoints scored with
// `polyrnn eval --bundle_file=CKPT --sequence_example_file=eval_poly_tracks.tfrecord --json` (every eval
// example once; same --seed for the dropout masks of every checkpoint), so evaluation takes no time from
// training.
//
// The runs never share the CPU: they run one after the other (each size: padded, then random), and the
// evaluation of a run's checkpoints happens between runs, never beside one. Anything else running on the
// machine shifts both curves; the 1-minute load average is recorded at the start and end of each run.
//
// Output: a JSON file (command, machine, per run: the checkpoints' seconds, steps, eval loss and accuracy)
// and an SVG per size (src/render/curves.ts: eval loss and accuracy against seconds, one series per
// batching; with several sizes, FILE-<size>.svg).
import { spawn } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from "node:fs";
import { loadavg, tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { trainingCurvesSvg } from "../dist/render/curves.js";
import { machineInfo, makeBachDataset, parseFlags, parseSize, run, writeResultJson } from "./train.mjs";

const HERE = dirname(fileURLToPath(import.meta.url));
const ROOT = resolve(HERE, "..");
const CLI = join(ROOT, "dist/cli/polyrnn.js");
const BATCHINGS = ["padded", "random", "length", "none"];
/** Seconds a run has, after SIGINT, to finish its step and save before it is killed. */
const STOP_GRACE_S = 300;

const log = (msg) => process.stderr.write(`${msg}\n`);

/**
 * Trains for `budgetS` seconds of wall-clock time from the spawn, then SIGINT; resolves when the process
 * has exited, to { startMs (epoch ms of the spawn), stopS (seconds at SIGINT), code, stderrTail }.
 */
function trainFor(args, budgetS) {
  return new Promise((done, fail) => {
    const startMs = Date.now();
    const child = spawn(process.execPath, [CLI, "train", ...args], {
      cwd: ROOT,
      stdio: ["ignore", "ignore", "pipe"],
    });
    let err = "";
    let stopS;
    child.stderr.on("data", (d) => {
      err += d;
      if (err.length > 100_000) err = err.slice(-50_000);
    });
    const stop = setTimeout(() => {
      stopS = (Date.now() - startMs) / 1000;
      child.kill("SIGINT");
    }, budgetS * 1000);
    const kill = setTimeout(() => child.kill("SIGKILL"), (budgetS + STOP_GRACE_S) * 1000);
    child.on("error", fail);
    child.on("close", (code, signal) => {
      clearTimeout(stop);
      clearTimeout(kill);
      done({ startMs, stopS, code: code ?? signal, stderrTail: err.trim().split("\n").slice(-5).join("\n") });
    });
  });
}

/** The run's checkpoints, oldest first: { file, step, seconds } (seconds since `startMs`, by mtime). */
function checkpoints(runDir, startMs) {
  const dir = join(runDir, "train");
  return readdirSync(dir)
    .map((name) => /^model\.ckpt-(\d+)\.safetensors$/.exec(name))
    .filter(Boolean)
    .map((m) => {
      const file = join(dir, m[0]);
      return { file, step: Number(m[1]), seconds: (statSync(file).mtimeMs - startMs) / 1000 };
    })
    .sort((a, b) => a.step - b.step);
}

/** `polyrnn eval --json` of one checkpoint on the eval split. */
function evaluate(ckpt, evalFile, flags) {
  const args = ["eval", `--bundle_file=${ckpt}`, `--sequence_example_file=${evalFile}`, "--json"];
  args.push(`--seed=${flags.seed}`, `--threads=${flags.threads}`);
  if (!flags.evalDropout) args.push("--nodropout");
  return JSON.parse(run(process.execPath, [CLI, ...args], `eval of ${ckpt}`));
}

async function main() {
  const flags = parseFlags(process.argv.slice(2));
  const minutes = Number(flags.minutes ?? 20);
  if (!(minutes > 0)) throw new Error(`--minutes must be > 0, got ${flags.minutes}`);
  const budgetS = minutes * 60;
  const sizes = String(flags.sizes ?? "2x128")
    .split(",")
    .filter(Boolean);
  sizes.forEach(parseSize);
  const batchings = String(flags.batchings ?? "padded,random")
    .split(",")
    .filter(Boolean);
  for (const b of batchings)
    if (!BATCHINGS.includes(b)) throw new Error(`--batchings: unknown "${b}"; valid: ${BATCHINGS}`);
  const B = Number(flags.batch_size ?? 64);
  const evalSecs = Number(flags.eval_secs ?? Math.max(1, budgetS / 20));
  const opts = {
    seed: Number(flags.seed ?? 1),
    threads: Number(flags.threads ?? 0),
    evalDropout: String(flags.eval_dropout ?? "true") !== "false",
  };
  const jsonPath = resolve(String(flags.json ?? "out/time_to_quality.json"));
  const svgPath = resolve(String(flags.svg ?? "out/time_to_quality.svg"));
  const command = `node bench/time_to_quality.mjs ${process.argv.slice(2).join(" ")}`.trim();

  const tmp = mkdtempSync(join(tmpdir(), "polyrnn-bench-ttq-"));
  const machine = machineInfo();
  log(`${machine.cpu} × ${machine.cores}, node ${machine.node}; ${minutes} min per run; temp ${tmp}`);
  try {
    const data = flags.bach_dataset ? resolve(String(flags.bach_dataset)) : makeBachDataset(flags, tmp);
    const trainFile = join(data, "training_poly_tracks.tfrecord");
    const evalFile = join(data, "eval_poly_tracks.tfrecord");
    for (const f of [trainFile, evalFile]) if (!existsSync(f)) throw new Error(`${f} not found`);

    const runs = [];
    for (const size of sizes) {
      for (const batching of batchings) {
        const runDir = join(tmp, `${runs.length + 1}-${size}-${batching}`);
        const hparams = `batch_size=${B},rnn_layer_sizes=[${parseSize(size).join(",")}]`;
        const args = [
          `--run_dir=${runDir}`,
          `--sequence_example_file=${trainFile}`,
          `--hparams=${hparams}`,
          `--seed=${opts.seed}`,
          `--threads=${opts.threads}`,
          `--checkpoint_secs=${evalSecs}`,
          "--num_checkpoints=0",
          "--log=WARN",
        ];
        if (batching !== "none") args.push(`--batching=${batching}`);
        log(`${size} ${batching}: training for ${minutes} min, a checkpoint every ${evalSecs} s …`);
        const loadStart = loadavg()[0];
        const t = await trainFor(args, budgetS);
        const loadEnd = loadavg()[0];
        if (t.code !== 0) throw new Error(`train ${size} ${batching} exited ${t.code}:\n${t.stderrTail}`);
        const points = checkpoints(runDir, t.startMs).map((c) => {
          const e = evaluate(c.file, evalFile, opts);
          return {
            seconds: c.seconds,
            step: c.step,
            loss: e.metrics.loss,
            accuracy: e.metrics["metrics/accuracy"],
          };
        });
        const last = points.at(-1);
        log(
          `  ${points.length} checkpoints to step ${last?.step}; eval loss ${last?.loss?.toFixed(3)} at ${last?.seconds.toFixed(0)} s`,
        );
        runs.push({ size, batching, hparams, stopS: t.stopS, loadAvg: [loadStart, loadEnd], points });
      }
    }

    // One picture per size: the two batchings as the curves' two series.
    const svgs = [];
    for (const size of sizes) {
      const mine = runs.filter((r) => r.size === size);
      const asPoints = (r) =>
        r?.points.map((p) => ({ step: p.seconds, values: { loss: p.loss, "metrics/accuracy": p.accuracy } }));
      const svg = trainingCurvesSvg(
        { train: asPoints(mine[0]), eval: asPoints(mine[1]) },
        {
          title: `Bach eval split, ${size} batch ${B}: eval loss and accuracy against wall-clock seconds of training`,
          xLabel: "seconds",
          seriesLabels: { train: mine[0]?.batching, eval: mine[1]?.batching },
        },
      );
      const path = sizes.length === 1 ? svgPath : svgPath.replace(/(\.svg)?$/, `-${size}.svg`);
      mkdirSync(dirname(path), { recursive: true });
      writeFileSync(path, svg);
      svgs.push(path);
      log(`wrote ${path}`);
    }
    if (batchings.length > 2)
      log("note: the pictures show the first two batchings of each size; the JSON has all");

    const fields = { minutes, batchSize: B, evalSecs, ...opts, runs, svgs };
    writeResultJson(jsonPath, command, machine, fields);
  } finally {
    if (flags.keep) log(`kept ${tmp}`);
    else rmSync(tmp, { recursive: true, force: true });
  }
}
main().catch((e) => {
  console.error(`bench/time_to_quality: ${e instanceof Error ? e.message : e}`);
  process.exit(1);
});
