/**
 * `polyrnn train` = Magenta's `polyphony_rnn_train`:
 *   polyrnn train --run_dir=/tmp/polyphony_rnn/logdir/run1 --sequence_example_file=DIR/training_poly_tracks.tfrecord \
 *     --hparams="batch_size=64,rnn_layer_sizes=[64,64]" --num_training_steps=20000
 *   polyrnn train --eval --run_dir=/tmp/polyphony_rnn/logdir/run1 --sequence_example_file=DIR/eval_poly_tracks.tfrecord \
 *     --hparams="batch_size=64,rnn_layer_sizes=[64,64]"
 */
import { freemem } from "node:os";
import { PolyrnnError, UsageError } from "../errors.js";
import { KERNEL_KINDS, type KernelKind } from "../kernels/index.js";
import { LIMITS } from "../limits.js";
import { DEFAULT_HPARAMS, HPARAM_NAMES, parseHParams } from "../model/hparams.js";
import { activationBudget } from "../model/lstm.js";
import { TRAIN_BATCHINGS, type TrainBatching } from "../train/step.js";
import { type FlagTable, formatHelp, parseArgs } from "./args.js";
import { consoleReporter, evaluate, expandGlob, type LogLevel, train } from "./train_job.js";

export const TRAIN_FLAGS = {
  run_dir: {
    type: "string",
    default: "/tmp/polyphony_rnn/logdir/run1",
    help: "Folder of the run: checkpoints and training summaries in <run_dir>/train, eval summaries in <run_dir>/eval.",
  },
  config: {
    type: "string",
    default: "polyphony",
    help: "The model config; only 'polyphony' exists (accepted for Magenta command lines).",
  },
  sequence_example_file: {
    type: "string",
    required: true,
    help: "TFRecord of SequenceExamples (training_poly_tracks.tfrecord, or eval_poly_tracks.tfrecord with --eval); a * or ? in the file name matches several files.",
  },
  hparams: {
    type: "string",
    default: "",
    help: `Comma-separated name=value pairs over the polyphony defaults, e.g. "batch_size=32,rnn_layer_sizes=[128,128]". Names: ${HPARAM_NAMES}. Left out when resuming: the checkpoint's.`,
  },
  num_training_steps: {
    type: "int",
    min: 0,
    default: 0,
    help: "Train until this global step; 0 trains until stopped (Ctrl-C saves a checkpoint and exits).",
  },
  summary_frequency: {
    type: "int",
    min: 1,
    default: 10,
    help: "Write metrics (TensorBoard, metrics.jsonl, the log) every this many steps.",
  },
  num_checkpoints: {
    type: "int",
    min: 0,
    default: 10,
    help: "Keep this many newest checkpoints (0 keeps all); one per hour is kept for good, as TensorFlow's Saver.",
  },
  eval: {
    type: "bool",
    default: false,
    help: "Evaluate each new checkpoint of <run_dir>/train on --sequence_example_file instead of training.",
  },
  num_eval_examples: {
    type: "int",
    min: 0,
    default: 0,
    help: "Eval examples per evaluation: 0 evaluates every example once (as polyrnn eval); N > 0 does Magenta's N // batch_size full batches.",
  },
  eval_timeout_secs: {
    type: "float",
    min: 0,
    default: 300,
    help: "With --eval: stop after this many seconds without a new checkpoint (Magenta: 300).",
  },
  log: {
    type: "string",
    default: "INFO",
    help: "DEBUG, INFO, WARN, ERROR or FATAL: INFO prints a line per summary and checkpoint.",
  },
  warm_start: {
    type: "string",
    help: "Start from the weights of this checkpoint or bundle (.safetensors; same layer sizes), with fresh Adam state at step 0. Ignored when <run_dir>/train already has checkpoints (the run resumes).",
  },
  seed: {
    type: "int",
    help: "Seed of the initial weights, batch order and dropout; default random for a new run, the checkpoint's when resuming.",
  },
  checkpoint_secs: {
    type: "float",
    min: 0,
    default: 60,
    help: "Write a checkpoint every this many seconds (Magenta: 60), besides at the start and the end.",
  },
  kernels: {
    type: "string",
    default: "auto",
    help: "auto (WebAssembly when it loads, else the TypeScript reference), wasm, or reference.",
  },
  threads: {
    type: "int",
    min: 0,
    default: 0,
    max: LIMITS.threads,
    help: "Threads for the WebAssembly kernels; 0 picks the cores not busy with other work (the cores less the load average, at least 1).",
  },
  activation_mb: {
    type: "int",
    min: 0,
    default: 0,
    max: 65536,
    help: "Memory (MiB) for one batch's activations kept for the backward pass; a batch that needs more is cut into chunks and the forward pass of all but the last is computed twice (a 3x256 batch of 64 Bach windows of 48 steps needs about 470, of 64 whole chorales 2,300–2,400). 0 = an eighth of the free memory, from 256 to 2560.",
  },
  batching: {
    type: "string",
    default: "random",
    help: "random: Magenta's random batches; length: batches of tracks of nearly one length (from shuffled pools of 64 batches). Neither computes anything past a track's end. padded: Magenta's random batches computed through the padding to the longest track, as Magenta does (slower; for comparison).",
  },
} satisfies FlagTable;

export const TRAIN_DESCRIPTION = `Trains a Polyphony RNN on a SequenceExample dataset as Magenta's polyphony_rnn_train does:
a stack of LSTMs (default 3x256, dropout 0.5), Adam 0.001, per-tensor gradient clipping at 5, batches of 64
sequences with the loss averaged over their real events. Unlike Magenta, nothing is computed past a
sequence's end (--batching). Checkpoints go to <run_dir>/train/model.ckpt-<step>.safetensors (at the
start, every --checkpoint_secs and at the end); rerunning the same command resumes from the newest one.
Metrics go to TensorBoard (tensorboard --logdir=<run_dir>) and to <run_dir>/train/metrics.jsonl.
With --eval it evaluates checkpoints as they appear instead (run it beside the training).`;

const LOG_LEVELS: LogLevel[] = ["DEBUG", "INFO", "WARN", "ERROR", "FATAL"];
/** A stop signal this soon after the first is a duplicate delivery of the same request (see runTrain). */
const SIGNAL_REPEAT_MS = 250;
/** How long after a stopped run ends a late copy of its stop request is still ignored. */
const LATE_SIGNAL_MS = 1000;

const MIB = 2 ** 20;

/** --activation_mb in bytes; 0: an eighth of the free memory, from 256 MiB to 2.5 GiB (`activationBudget`). */
function activationBytes(mb: number): number {
  return mb > 0 ? mb * MIB : activationBudget(freemem());
}

export async function runTrain(argv: string[], usage: string): Promise<number> {
  const { flags, help, explicit } = parseArgs(argv, TRAIN_FLAGS);
  if (help) {
    console.log(formatHelp(usage, TRAIN_DESCRIPTION, TRAIN_FLAGS));
    return 0;
  }
  if (flags.config !== "polyphony") {
    throw new UsageError(`--config: only "polyphony" is available, got "${flags.config}"`);
  }
  const log = flags.log.toUpperCase() as LogLevel;
  if (!LOG_LEVELS.includes(log))
    throw new UsageError(`--log takes one of ${LOG_LEVELS.join(", ")}, got "${flags.log}"`);
  if (!KERNEL_KINDS.includes(flags.kernels as KernelKind)) {
    throw new UsageError(`--kernels takes one of ${KERNEL_KINDS.join(", ")}, got "${flags.kernels}"`);
  }
  if (!TRAIN_BATCHINGS.includes(flags.batching as TrainBatching)) {
    throw new UsageError(`--batching takes one of ${TRAIN_BATCHINGS.join(", ")}, got "${flags.batching}"`);
  }
  const hparams = parseHParams(flags.hparams, DEFAULT_HPARAMS);

  // Ctrl-C / SIGTERM: finish the step, save a checkpoint, exit; a second one exits at once. One request
  // can arrive twice at once (`timeout` signals the process and then its process group), so a repeat
  // within SIGNAL_REPEAT_MS of the first is the same request, not a second one.
  const controller = new AbortController();
  let firstSignalAt = 0;
  const onSignal = (sig: NodeJS.Signals) => {
    if (controller.signal.aborted) {
      if (performance.now() - firstSignalAt < SIGNAL_REPEAT_MS) return;
      process.exit(130);
    }
    firstSignalAt = performance.now();
    process.stderr.write(`\n${sig}: stopping after this step (again to quit at once)\n`);
    controller.abort();
  };
  process.on("SIGINT", onSignal);
  process.on("SIGTERM", onSignal);
  const reporter = consoleReporter(log);
  try {
    const files = await expandGlob(flags.sequence_example_file);
    const common = {
      runDir: flags.run_dir,
      sequenceExampleFiles: files,
      hparams,
      hparamsGiven: explicit.has("hparams") && flags.hparams.trim() !== "",
      kernels: flags.kernels as KernelKind,
      threads: flags.threads || undefined,
      signal: controller.signal,
      reporter,
    };
    if (flags.eval) {
      await evaluate({
        ...common,
        numEvalExamples: flags.num_eval_examples,
        evalTimeoutSecs: flags.eval_timeout_secs,
        seed: flags.seed,
      });
      return 0;
    }
    await train({
      ...common,
      numTrainingSteps: flags.num_training_steps,
      summaryFrequency: flags.summary_frequency,
      numCheckpoints: flags.num_checkpoints,
      checkpointSecs: flags.checkpoint_secs,
      warmStart: flags.warm_start,
      seed: flags.seed,
      batching: flags.batching as TrainBatching,
      activationBytes: activationBytes(flags.activation_mb),
    });
    return 0;
  } catch (e) {
    reporter.done();
    if (e instanceof UsageError) throw e;
    if (e instanceof PolyrnnError) {
      console.error(`error: ${e.message}`);
      return 1;
    }
    const err = e as NodeJS.ErrnoException;
    if (err.code && err.path) {
      console.error(`error: cannot ${err.syscall ?? "access"} ${err.path}: ${err.code}`);
      return 1;
    }
    throw e;
  } finally {
    process.off("SIGINT", onSignal);
    process.off("SIGTERM", onSignal);
    // The second copy of a doubled stop request may still be on its way: the run has stopped and saved,
    // so let it pass instead of ending the exiting process by that signal.
    if (controller.signal.aborted) ignoreStopSignals(LATE_SIGNAL_MS);
  }
}

/** Ignores SIGINT and SIGTERM for `ms` milliseconds (or until the process exits, if sooner). */
function ignoreStopSignals(ms: number): void {
  const ignore = () => {};
  process.on("SIGINT", ignore);
  process.on("SIGTERM", ignore);
  setTimeout(() => {
    process.off("SIGINT", ignore);
    process.off("SIGTERM", ignore);
  }, ms).unref();
}
