/**
 * Training in memory, without a file system, for Node and the browser (the library's training API, and
 * the Studio's): files' bytes → NoteSequences (convertFiles) → the dataset pipeline of `polyrnn dataset`
 * (buildDataset) → the training step and loop of `polyrnn train` (Trainer, step.ts; trainModel, with
 * progress, stop and checkpoint callbacks, loop.ts) → bundle bytes. Pure: kernels and bytes in, metrics
 * and bytes out.
 *
 *   const { sequences } = convertFiles(files, "my_midi");
 *   const data = buildDataset(sequences, { ...DEFAULT_DATASET_OPTIONS, evalRatio: 0 });
 *   const t = new Trainer(kernels, parseHParams("batch_size=4,rnn_layer_sizes=[16]"), data.training, 1);
 *   for (let i = 0; i < 100; i++) console.log(t.step().loss);
 *   const bytes = t.bundle("my model");   // loads with loadBundle, or polyrnn generate --bundle_file
 */
import type { Kernels } from "../kernels/types.js";
import type { HParams } from "../model/hparams.js";
import type { NoteSequence } from "../notesequence.js";
import { choosePartition, type DatasetOptions, processNoteSequence } from "../pipeline/dataset.js";
import type { Statistics } from "../pipeline/extract.js";
import { encodeCheckpoint } from "./checkpoint_format.js";
import { trainLoop } from "./loop.js";
import { type StepMetrics, Trainer } from "./step.js";

export { type StepMetrics, Trainer, type TrainerOptions } from "./step.js";

/** The tracks of `buildDataset`, as event ids, with the pipeline's statistics. */
export interface TrainingDataset {
  /** Event ids of every training track (START … END, or … STEP_END for a window cut before its piece's end). */
  training: number[][];
  /**
   * Event ids of every eval track: the inputs that Magenta's partition (`evalRatio`) held out, all their
   * tracks together; empty when `evalRatio` is 0.
   */
  eval: number[][];
  /** Magenta's statistics, as `polyrnn dataset` prints them. */
  stats: Statistics;
  /** Why pieces of inputs were dropped before extraction (quantizer errors), one line each, naming the input. */
  warnings: string[];
  /** Notes of all the inputs. */
  inputNotes: number;
  /** Notes of the inputs that reach a track untransposed (of both partitions). */
  keptNotes: number;
}

/**
 * `polyrnn dataset` over NoteSequences in memory (processNoteSequence per input, Magenta's partition). */
export function buildDataset(sequences: readonly NoteSequence[], opts: DatasetOptions): TrainingDataset {
  const data: TrainingDataset = {
    training: [],
    eval: [],
    stats: {},
    warnings: [],
    inputNotes: 0,
    keptNotes: 0,
  };
  for (const ns of sequences) {
    const mode = opts.evalRatio > 0 ? choosePartition(ns, opts.evalRatio, opts.seed) : "training";
    const p = processNoteSequence(ns, mode, opts, data.stats);
    data.inputNotes += p.inputNotes;
    data.keptNotes += p.keptNotes;
    data.warnings.push(...p.warnings);
    (mode === "eval" ? data.eval : data.training).push(...p.tracks);
  }
  return data;
}

/** Options of `trainModel`. */
export interface TrainModelOptions {
  /** The kernels to train on (`createKernels()`); they stay the caller's. */
  kernels: Kernels;
  /** The model's and the run's hparams (`parseHParams`); when resuming, those the checkpoint was trained with. */
  hparams: HParams;
  /** Training tracks (`buildDataset(…).training`). */
  tracks: readonly number[][];
  /** Train until the model's step reaches this. */
  numSteps: number;
  /** Batch order and dropout (default 1). */
  seed?: number;
  /** Resume from a checkpoint (bytes of `Trainer.checkpoint()` or of a `polyrnn train` checkpoint file). */
  checkpoint?: Uint8Array;
  /** Called after each step. */
  onStep?: (metrics: StepMetrics) => void;
  /** Stops after the current step when aborted (the result says `stopped`). */
  signal?: AbortSignal;
  /** Calls `onCheckpoint` every this many steps and at the end (default: only at the end). */
  checkpointEverySteps?: number;
  /** Receives checkpoint bytes (awaited: training waits while it saves). */
  onCheckpoint?: (bytes: Uint8Array, step: number) => void | Promise<void>;
  /** Steps per quarter note of the training music, recorded in the bundle (default: the checkpoint's, else 4). */
  stepsPerQuarter?: number;
  /** Bundle description (default "trained with polyrnn"). */
  description?: string;
  /**
   * Awaited between steps (default: a zero-delay yield), so that a page or an event loop stays
   * responsive and an abort is seen.
   */
  yieldEvery?: () => Promise<void>;
}

/** What `trainModel` returns. */
export interface TrainModelResult {
  /** The model as bundle bytes (loadBundle). */
  bundle: Uint8Array;
  /** The model's step at the end (the checkpoint's steps included when resuming). */
  step: number;
  /** Whether the signal stopped training before numSteps. */
  stopped: boolean;
  /** The last step's metrics (undefined when no step ran). */
  last?: StepMetrics;
}

/**
 * The training loop of `polyrnn train` (trainLoop), in memory: steps until `numSteps` (or the signal),
 * reporting each step and handing out checkpoints; returns the bundle. The kernels stay the caller's.
 *
 *   const r = await trainModel({ kernels, hparams, tracks: data.training, numSteps: 200,
 *     onStep: (m) => console.log(m.step, m.loss), signal: controller.signal });
 *   const bundle = loadBundle(r.bundle);
 */
export async function trainModel(opts: TrainModelOptions): Promise<TrainModelResult> {
  const t = new Trainer(opts.kernels, opts.hparams, opts.tracks, opts.seed ?? 1, {
    checkpoint: opts.checkpoint,
    stepsPerQuarter: opts.stepsPerQuarter,
  });
  try {
    const { onStep, onCheckpoint } = opts;
    const r = await trainLoop(t, {
      numSteps: opts.numSteps,
      signal: opts.signal,
      onStep: onStep && ((m) => onStep(m)),
      save:
        onCheckpoint &&
        (async (snapshot) => {
          await onCheckpoint(encodeCheckpoint(snapshot), snapshot.step);
          return undefined;
        }),
      saveEverySteps: opts.checkpointEverySteps,
      pause: opts.yieldEvery,
    });
    return {
      bundle: t.bundle(opts.description ?? "trained with polyrnn"),
      step: r.step,
      stopped: r.stopped === "aborted",
      ...(r.last ? { last: r.last } : {}),
    };
  } finally {
    t.dispose();
  }
}
