/**
 * `polyrnn train`'s runs on files (Magenta's polyphony_rnn_train, spec §4.6, events_rnn_train.py): the
 * one training loop (src/train/loop.ts) with this command's file I/O as its callbacks, and the eval loop
 * over a run's checkpoints.
 *
 *   train({ runDir, sequenceExampleFiles: ["training_poly_tracks.tfrecord"], hparams, ... })
 *   evaluate({ runDir, sequenceExampleFiles: ["eval_poly_tracks.tfrecord"], hparams, ... })
 *
 * Training: every `summaryFrequency` steps the batch's metrics go to TensorBoard (`<run_dir>/train`) and
 * to `<run_dir>/train/metrics.jsonl`; a checkpoint is written at the start, every `checkpointSecs`
 * seconds and at the end (Magenta: at the start and every 60 s). A run whose `<run_dir>/train` holds
 * checkpoints resumes from the newest: weights, Adam moments, step and seed, and the metrics logged past
 * its step are dropped; the resumed run continues as the uninterrupted one would have. A NaN or infinite
 * loss stops the run with an error (Magenta's NanTensorHook) and no checkpoint is written from a model
 * whose weights are not all finite. An abort (SIGINT/SIGTERM in the CLI) saves a checkpoint and returns.
 *
 * Evaluation: each new checkpoint in `<run_dir>/train` is evaluated on the eval file, `(num_eval_examples
 * or count) // batch_size` batches in file order with dropout ON (as Magenta), streaming metrics written to
 * `<run_dir>/eval` at the checkpoint's step; the loop ends after `evalTimeoutSecs` without a new checkpoint.
 */
import { readdir } from "node:fs/promises";
import { basename, dirname, join } from "node:path";
import { EvalBatches, ExampleSet } from "../dataset/batches.js";
import { PolyrnnError, readError } from "../errors.js";
import { type DatasetEvalResult, evaluateDatasetSteps } from "../eval/dataset.js";
import {
  type CheckpointFile,
  CheckpointManager,
  latestCheckpoint,
  loadCheckpoint,
  loadLatestCheckpoint,
  loadWeightsForWarmStart,
} from "../io/checkpoint_files.js";
import { readTFRecordFile } from "../io/fs.js";
import { dropMetricsAfter, METRICS_FILE, RunLogs } from "../io/run_logs.js";
import { createKernels, type KernelKind } from "../kernels/index.js";
import type { Kernels } from "../kernels/types.js";
import { formatHParams, type HParams, hparamsDiff, sameHParams } from "../model/hparams.js";
import { createPolyphonyModel, type LstmModel } from "../model/lstm.js";
import { trainLoop } from "../train/loop.js";
import { TAGS, trainSummary } from "../train/metrics.js";
import { type TrainBatching, Trainer, TrainingError } from "../train/step.js";

/** Magenta's --log levels; INFO prints a line per summary, WARN and above only problems. */
export type LogLevel = "DEBUG" | "INFO" | "WARN" | "ERROR" | "FATAL";

export interface Reporter {
  /** A line that stays (INFO). */
  info(message: string): void;
  /** A warning line (WARN). */
  warn(message: string): void;
  /** The live status line (redrawn in place on a terminal; skipped elsewhere). */
  status(message: string): void;
  /** Ends the status line. */
  done(): void;
}

/** Writes to stderr: the status line redraws on a terminal, and is not printed elsewhere. */
export function consoleReporter(
  level: LogLevel = "INFO",
  stream: NodeJS.WriteStream = process.stderr,
): Reporter {
  const tty = Boolean(stream.isTTY);
  const quiet = level !== "INFO" && level !== "DEBUG";
  let shown = false;
  let last = 0;
  const clear = () => {
    if (shown) stream.write("\r\x1b[K");
    shown = false;
  };
  return {
    info(message) {
      if (quiet) return;
      clear();
      stream.write(`${message}\n`);
    },
    warn(message) {
      if (level === "ERROR" || level === "FATAL") return;
      clear();
      stream.write(`${message}\n`);
    },
    status(message) {
      if (quiet || !tty) return;
      const now = performance.now();
      if (now - last < 100) return;
      last = now;
      stream.write(`\r\x1b[K${message}`);
      shown = true;
    },
    done() {
      clear();
    },
  };
}

export interface CommonOptions {
  runDir: string;
  /** Dataset files (already expanded from a glob). */
  sequenceExampleFiles: string[];
  hparams: HParams;
  /** Whether the hparams were given (`--hparams`); if not, a checkpoint's hparams are adopted. */
  hparamsGiven: boolean;
  kernels: KernelKind;
  threads?: number;
  /** Stops the loop: training saves a checkpoint first. */
  signal?: AbortSignal;
  reporter?: Reporter;
}

export interface TrainOptions extends CommonOptions {
  /** 0 = forever. */
  numTrainingSteps: number;
  summaryFrequency: number;
  /** Keep this many newest checkpoints (0 = all). */
  numCheckpoints: number;
  checkpointSecs: number;
  warmStart?: string;
  /** Seed of weights, batch order and dropout; absent: random (fresh run) or the checkpoint's (resume). */
  seed?: number;
  /** How batches are drawn and computed (default `random`): see `TrainBatching`. */
  batching?: TrainBatching;
  /** Bytes of a batch's activations kept for the backward pass: see `TrainerOptions.activationBytes`. */
  activationBytes?: number;
}

export interface TrainResult {
  step: number;
  /** Why the loop ended. */
  stopped: "steps" | "aborted";
  lastCheckpoint?: string;
  resumedFrom?: string;
}

export interface EvalOptions extends CommonOptions {
  numEvalExamples: number;
  evalTimeoutSecs: number;
  /** Seconds between looks for a new checkpoint. */
  pollSecs?: number;
  seed?: number;
}

export interface EvalResult {
  evaluated: { step: number; summary: Record<string, number> }[];
}

// ---------------------------------------------------------------------------------------------------
// Shared pieces

const WILDCARD = /[*?[]/;

/** Magenta's `tf.gfile.Glob` on the file name part: `dir/train_*.tfrecord`. */
export async function expandGlob(pattern: string): Promise<string[]> {
  if (!WILDCARD.test(basename(pattern))) return [pattern];
  const dir = dirname(pattern);
  const re = new RegExp(
    `^${basename(pattern)
      .replace(/[.+^${}()|\\]/g, "\\$&")
      .replace(/\*/g, ".*")
      .replace(/\?/g, ".")}$`,
  );
  let names: string[];
  try {
    names = await readdir(dir);
  } catch {
    names = [];
  }
  const files = names
    .filter((n) => re.test(n))
    .sort()
    .map((n) => join(dir, n));
  if (files.length === 0) throw new TrainingError(`no file matches --sequence_example_file=${pattern}`);
  return files;
}

async function loadExamples(files: string[], reporter: Reporter): Promise<ExampleSet> {
  const sets: { labels: number[]; inputs?: number[] }[] = [];
  if (files.length === 1) {
    const set = await readSet(files[0]);
    noteReport(set, files[0], reporter);
    return set;
  }
  for (const file of files) {
    const set = await readSet(file);
    noteReport(set, file, reporter);
    for (let i = 0; i < set.count; i++) {
      sets.push({ labels: [...set.labels(i)], inputs: [...set.inputs(i)] });
    }
  }
  return ExampleSet.fromIds(sets, files.join(", "));
}

async function readSet(file: string): Promise<ExampleSet> {
  try {
    return await ExampleSet.fromRecords(readTFRecordFile(file), file);
  } catch (e) {
    const err = e as NodeJS.ErrnoException;
    if (err.code) throw readError(err.path ?? file, e, "file", TrainingError);
    throw e;
  }
}

function noteReport(set: ExampleSet, file: string, reporter: Reporter): void {
  if (set.report.skippedEmpty > 0) {
    reporter.warn(`warning: ${file}: skipped ${set.report.skippedEmpty} record(s) with no events`);
  }
}

/**
 * The hparams a resumed run may change: they steer the optimizer and dropout, not the model's shape (Magenta
 * reads them afresh on every start, so a run can, for example, go on at a lower learning rate).
 */
const TRAINING_ONLY = ["learning_rate", "clip_norm", "dropout_keep_prob"];

/**
 * The hparams to use with a checkpoint: its own if none were given, else the given ones if they differ
 * from its own only in training-only ones. `changed` hears those that differ ("learning_rate=0.001 → …").
 */
function reconcileHParams(
  opts: CommonOptions,
  ckpt: CheckpointFile,
  changed?: (what: string) => void,
): HParams {
  const saved = ckpt.hparams;
  if (saved === undefined) return opts.hparams;
  if (!opts.hparamsGiven) return saved;
  const diff = hparamsDiff(saved, opts.hparams);
  if (diff.some((d) => !TRAINING_ONLY.includes(d.name))) {
    throw new TrainingError(
      `hparams differ from the checkpoint's: ${ckpt.path} was trained with --hparams=${formatHParams(saved)} ` +
        `but this run has --hparams=${formatHParams(opts.hparams)}. Pass the checkpoint's hparams (or leave ` +
        `--hparams out to use them), or start a new --run_dir; only ${TRAINING_ONLY.join(", ")} may change.`,
    );
  }
  if (diff.length > 0) changed?.(diff.map((d) => `${d.name}=${d.from} → ${d.to}`).join(", "));
  return opts.hparams;
}

function fmt(x: number, digits = 4): string {
  return Number.isFinite(x) ? x.toFixed(digits) : String(x);
}

const sleep = (ms: number, signal?: AbortSignal) =>
  new Promise<void>((resolve) => {
    const timer = setTimeout(resolve, ms);
    signal?.addEventListener(
      "abort",
      () => {
        clearTimeout(timer);
        resolve();
      },
      { once: true },
    );
  });

/** Lets pending signals and I/O run between two (synchronous) training steps. */
const yieldToEventLoop = () => new Promise<void>((resolve) => setImmediate(resolve));

// ---------------------------------------------------------------------------------------------------
// Training

/** The Trainer of a resumed, warm-started or new run; errors name the checkpoint or file. */
async function startTrainer(
  opts: TrainOptions,
  kernels: Kernels,
  examples: ExampleSet,
  hparams: HParams,
  seed: number,
  resume: CheckpointFile | undefined,
  reporter: Reporter,
): Promise<Trainer> {
  // What every start shares: how batches are drawn, and the activation memory.
  const shared = { batching: opts.batching ?? "random", activationBytes: opts.activationBytes };
  if (resume) {
    let t: Trainer | undefined;
    try {
      t = new Trainer(kernels, hparams, examples, seed, { ...shared, checkpoint: resume });
      if (!resume.optimizer || resume.optimizer.tensors.length === 0) {
        throw new PolyrnnError("no optimizer state (Adam moments) to resume from");
      }
    } catch (e) {
      t?.dispose();
      throw new TrainingError(`cannot resume from ${resume.path}: ${(e as Error).message}`);
    }
    reporter.info(`Resuming from ${resume.path} at step ${t.stepCount}.`);
    return t;
  }
  if (opts.warmStart) {
    const ws = await loadWeightsForWarmStart(opts.warmStart);
    let t: Trainer;
    try {
      t = new Trainer(kernels, hparams, examples, seed, { ...shared, initialWeights: ws.weights });
    } catch (e) {
      const theirs = ws.hparams
        ? ` (it was trained with rnn_layer_sizes=[${ws.hparams.rnnLayerSizes.join(",")}])`
        : "";
      throw new TrainingError(
        `cannot warm start from ${opts.warmStart}${theirs}: ${(e as Error).message}; this run has rnn_layer_sizes=[${hparams.rnnLayerSizes.join(",")}]`,
      );
    }
    reporter.info(`Warm start from ${opts.warmStart}: weights loaded, Adam state fresh, step 0.`);
    return t;
  }
  return new Trainer(kernels, hparams, examples, seed, shared);
}

export async function train(opts: TrainOptions): Promise<TrainResult> {
  const reporter = opts.reporter ?? consoleReporter();
  const trainDir = join(opts.runDir, "train");
  const examples = await loadExamples(opts.sequenceExampleFiles, reporter);
  if (examples.count === 0) {
    throw new TrainingError(`${opts.sequenceExampleFiles.join(", ")}: no training examples`);
  }

  const manager = new CheckpointManager(trainDir, { keep: opts.numCheckpoints });
  for (const name of await manager.removeStaleTemps()) {
    reporter.info(`Removed ${name}, left by an interrupted checkpoint write.`);
  }
  const resume = await loadLatestCheckpoint(trainDir, (m) => reporter.warn(m));
  let hparams = opts.hparams;
  let seed = opts.seed;
  if (resume) {
    await dropMetricsAfter(join(trainDir, METRICS_FILE), resume.step);
    hparams = reconcileHParams(opts, resume, (what) => reporter.info(`Changed on resume: ${what}.`));
    if (seed === undefined) seed = resume.seed;
    if (opts.warmStart) {
      reporter.warn(`warning: ${trainDir} has checkpoints, so training resumes and --warm_start is ignored`);
    }
  }
  seed ??= Math.floor(Math.random() * 2 ** 31);

  const kernels = await createKernels(opts.kernels, {
    threads: opts.threads,
    notice: (m) => reporter.warn(m),
  });
  let trainer: Trainer | undefined;
  let logs: RunLogs | undefined;
  try {
    trainer = await startTrainer(opts, kernels, examples, hparams, seed, resume, reporter);
    const batching = trainer.batching;
    reporter.info(
      `Training on ${examples.count} sequences (${examples.tokens} events) from ${opts.sequenceExampleFiles.join(", ")} ` +
        `with --hparams=${formatHParams(hparams)}, kernels ${kernels.name}, seed ${seed}, --batching=${batching}` +
        (opts.activationBytes ? `, ${Math.round(opts.activationBytes / 2 ** 20)} MiB for activations.` : "."),
    );
    const target = opts.numTrainingSteps;
    if (target > 0 && trainer.stepCount >= target) {
      reporter.info(`Already at step ${trainer.stepCount} (--num_training_steps=${target}): nothing to do.`);
      return {
        step: trainer.stepCount,
        stopped: "steps",
        lastCheckpoint: resume?.path,
        resumedFrom: resume?.path,
      };
    }
    const runLogs = await RunLogs.open(trainDir);
    logs = runLogs;
    const r = await trainLoop(trainer, {
      numSteps: target > 0 ? target : Number.POSITIVE_INFINITY,
      signal: opts.signal,
      // Magenta's CheckpointSaverHook saves when the session starts.
      saveAtStart: true,
      savedAs: resume?.path,
      saveEverySecs: opts.checkpointSecs,
      save: async (snapshot) => {
        const path = await manager.save(snapshot);
        reporter.info(`Saved checkpoint ${path}`);
        return path;
      },
      summaryEverySteps: opts.summaryFrequency,
      onSummary: async (m, rate) => {
        await runLogs.write(m.step, trainSummary(m), { tokens_per_sec: rate });
        reporter.info(
          `Global Step: ${m.step} - Loss: ${fmt(m.loss)} - Perplexity: ${fmt(m.perplexity, 3)} - ` +
            `Accuracy: ${fmt(m.accuracy)} - ${Math.round(rate)} tokens/s`,
        );
      },
      onStep: (m, rate) => {
        reporter.status(
          `step ${m.step}${target > 0 ? `/${target}` : ""}  loss ${fmt(m.loss)}  perplexity ${fmt(m.perplexity, 3)}  ` +
            `accuracy ${fmt(m.accuracy)}  ${Math.round(rate)} tokens/s`,
        );
      },
      pause: yieldToEventLoop,
      divergedHint: "try a lower learning_rate in --hparams",
    });
    reporter.done();
    if (r.stopped === "aborted") reporter.info(`Stopped at step ${r.step}; saved ${r.lastCheckpoint}.`);
    return { step: r.step, stopped: r.stopped, lastCheckpoint: r.lastCheckpoint, resumedFrom: resume?.path };
  } finally {
    reporter.done();
    await logs?.close();
    trainer?.dispose();
    kernels.dispose();
  }
}

// ---------------------------------------------------------------------------------------------------
// Evaluation

export async function evaluate(opts: EvalOptions): Promise<EvalResult> {
  const reporter = opts.reporter ?? consoleReporter();
  const trainDir = join(opts.runDir, "train");
  const evalDir = join(opts.runDir, "eval");
  const examples = await loadExamples(opts.sequenceExampleFiles, reporter);
  if (examples.count === 0)
    throw new TrainingError(`${opts.sequenceExampleFiles.join(", ")}: no eval examples`);
  // Fail before waiting when Magenta's pass is asked for and its batch count is already known to be 0.
  if (opts.hparamsGiven && opts.numEvalExamples > 0) {
    new EvalBatches(examples, opts.hparams.batchSize, opts.numEvalExamples);
  }
  const seed = opts.seed ?? 0;
  const pollMs = (opts.pollSecs ?? 2) * 1000;

  const kernels = await createKernels(opts.kernels, {
    threads: opts.threads,
    notice: (m) => reporter.warn(m),
  });
  let model: LstmModel | undefined;
  let logs: RunLogs | undefined;
  const evaluated: EvalResult["evaluated"] = [];
  try {
    let lastStep = -1;
    let lastNew = performance.now();
    reporter.info(
      `Waiting for checkpoints in ${trainDir} (gives up after ${opts.evalTimeoutSecs} s without a new one).`,
    );
    while (!opts.signal?.aborted) {
      const ref = await latestCheckpoint(trainDir);
      if (ref && ref.step !== lastStep) {
        let ckpt: CheckpointFile;
        try {
          ckpt = await loadCheckpoint(ref.path);
        } catch (e) {
          // Pruned by the trainer between listing and reading: look again.
          if (/ENOENT/.test((e as Error).message)) continue;
          throw e;
        }
        const hparams = reconcileHParams(opts, ckpt, (what) =>
          reporter.info(`Evaluating with --hparams other than the checkpoint's: ${what}.`),
        );
        if (!model || !sameHParams(model.hparams, hparams)) {
          model?.dispose();
          model = createPolyphonyModel(kernels, hparams, {
            seed,
            maxLengths: examples.longestLengths(hparams.batchSize),
          });
        }
        try {
          model.importWeights(ckpt.weights);
        } catch (e) {
          throw new TrainingError(`${ckpt.path}: ${(e as Error).message}`);
        }
        // The one eval loop (src/eval/dataset.ts), awaited between batches so a stop request is heard.
        const steps = evaluateDatasetSteps(model, examples, {
          batchSize: hparams.batchSize,
          numEvalExamples: opts.numEvalExamples,
          seed,
          step: ckpt.step,
        });
        let result: DatasetEvalResult | undefined;
        while (result === undefined) {
          const r = steps.next();
          if (r.done) result = r.value;
          else {
            reporter.status(`evaluating step ${ckpt.step}: batch ${r.value.done}/${r.value.total}`);
            await yieldToEventLoop();
          }
        }
        const summary = result.metrics;
        logs ??= await RunLogs.open(evalDir);
        await logs.write(ckpt.step, summary);
        reporter.info(
          `Eval at step ${ckpt.step} (${result.batches} batches): Loss: ${fmt(summary[TAGS.loss])} - ` +
            `Perplexity: ${fmt(summary[TAGS.perplexity], 3)} - Accuracy: ${fmt(summary[TAGS.accuracy])}`,
        );
        evaluated.push({ step: ckpt.step, summary });
        lastStep = ckpt.step;
        lastNew = performance.now();
        continue;
      }
      if (performance.now() - lastNew >= opts.evalTimeoutSecs * 1000) {
        reporter.info(`No new checkpoint for ${opts.evalTimeoutSecs} s: done.`);
        break;
      }
      await sleep(
        Math.min(pollMs, Math.max(0, opts.evalTimeoutSecs * 1000 - (performance.now() - lastNew)) + 1),
        opts.signal,
      );
    }
    return { evaluated };
  } finally {
    reporter.done();
    await logs?.close();
    model?.dispose();
    kernels.dispose();
  }
}
