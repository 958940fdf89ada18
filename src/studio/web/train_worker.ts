/**
 * The Studio's training worker: converts the dropped MIDI files, builds the dataset with the pipeline of
 * `polyrnn dataset`, and trains with the step and loop of `polyrnn train` (src/train/step.ts, loop.ts) on
 * the WebAssembly kernels, through the library's training API (src/train/session.ts). It pauses on
 * `stop`, continues on `resume`, and writes a bundle on `bundle`; between two steps it yields to its
 * message queue, so a stop is seen within one step.
 */
import { ExampleSet } from "../../dataset/batches.js";
import { evaluateDataset } from "../../eval/dataset.js";
import { convertInputFiles } from "../../io/convert_core.js";
import type { NoteSequence } from "../../notesequence.js";
import {
  type DatasetOptions,
  lostToTempoSplits,
  processNoteSequence,
  trackToExample,
} from "../../pipeline/dataset.js";
import { trainLoop } from "../../train/loop.js";
import { TAGS } from "../../train/metrics.js";
import { buildDataset, type StepMetrics, Trainer } from "../../train/session.js";
import { type LoadedKernels, loadBrowserKernels } from "./kernels.js";
import type { TrainReply, TrainRequest, WorkerScope } from "./protocol.js";

const scope = self as unknown as WorkerScope;
const post = (m: TrainReply) => scope.postMessage(m);

let loaded: LoadedKernels | undefined;
let trainer: Trainer | undefined;
let evalSet: ExampleSet | undefined;
let evalEvery = 0;
let target = 0;
let running = false;
let stop: AbortController | undefined;

// A zero-delay yield (setTimeout is clamped to 4 ms once nested; a tiny model's step is faster than that).
const channel = new MessageChannel();
const waiting: (() => void)[] = [];
channel.port1.onmessage = () => waiting.shift()?.();
const yieldNow = () =>
  new Promise<void>((resolve) => {
    waiting.push(resolve);
    channel.port2.postMessage(0);
  });

/**
 * Files that `polyrnn dataset` would warn about: an expressive tempo map that loses most of the notes to
 * Magenta's splitting at tempo changes (checked on the untransposed music only).
 */
function expressiveFiles(sequences: readonly NoteSequence[], opts: DatasetOptions) {
  const plain = { ...opts, quantizeOnBeats: false, transposeRange: [0] };
  return sequences.flatMap((ns) => {
    const p = processNoteSequence(ns, "training", plain, {});
    return lostToTempoSplits(p) ? [{ name: ns.filename || ns.id, tempoChanges: p.tempoSplits }] : [];
  });
}

/**
 * Loss and accuracy on the held-out tracks: the eval loop of `polyrnn eval` (dropout off, as generation
 * runs the model), over at most 8 batches (Magenta's pass, wrapping round a set smaller than a batch).
 */
function evaluateHeldOut(t: Trainer): void {
  if (!evalSet) return;
  const bs = t.hparams.batchSize;
  const r = evaluateDataset(t.model, evalSet, {
    dropout: false,
    seed: t.seed,
    step: t.stepCount,
    numEvalExamples: Math.min(Math.max(evalSet.count, bs), 8 * bs),
  });
  post({ type: "eval", step: t.stepCount, loss: r.metrics[TAGS.loss], accuracy: r.metrics[TAGS.accuracy] });
}

/** The one training loop: the chart's points posted every 100 ms, held-out evaluations every `evalEvery` steps. */
async function loop(): Promise<void> {
  if (!trainer || running) return;
  running = true;
  stop = new AbortController();
  const t = trainer;
  let points: StepMetrics[] = [];
  let tokensPerSec = 0;
  const flush = () => {
    post({ type: "metrics", points, tokensPerSec });
    points = [];
  };
  try {
    await trainLoop(t, {
      numSteps: target,
      signal: stop.signal,
      onStep: (m) => {
        points.push(m);
      },
      summaryEveryMs: 100,
      onSummary: (_m, rate) => {
        tokensPerSec = rate;
        flush();
      },
      evalEverySteps: evalEvery,
      onEval: () => evaluateHeldOut(t),
      pause: yieldNow,
    });
    // Steps since the last summary (a stop comes between two).
    if (points.length > 0) flush();
    if (evalEvery > 0 && t.stepCount % evalEvery !== 0) evaluateHeldOut(t);
    post(
      t.stepCount >= target ? { type: "finished", step: t.stepCount } : { type: "paused", step: t.stepCount },
    );
  } finally {
    running = false;
  }
}

async function start(req: Extract<TrainRequest, { type: "start" }>): Promise<void> {
  trainer?.dispose();
  trainer = undefined;
  const converted = convertInputFiles(req.files, req.collectionName);
  const expressive = req.onBeats === "on" ? [] : expressiveFiles(converted.sequences, req.dataset);
  const onBeats = req.onBeats === "on" || (req.onBeats === "auto" && expressive.length > 0);
  const data = buildDataset(converted.sequences, { ...req.dataset, quantizeOnBeats: onBeats });
  post({
    type: "dataset",
    files: req.files.length,
    converted: converted.sequences.length,
    skipped: converted.skipped,
    tracks: data.training.length,
    evalTracks: data.eval.length,
    thinned: Number(data.stats.polyrnn_thin_openings_training ?? 0),
    onBeats,
    expressive,
    events: data.training.reduce((n, t) => n + t.length, 0),
    inputNotes: data.inputNotes,
    keptNotes: data.keptNotes,
    warnings: data.warnings.slice(0, 20),
  });
  if (!loaded) {
    loaded = await loadBrowserKernels();
    post({ type: "ready", kernels: loaded.kernels.name, threads: loaded.threads, notice: loaded.notice });
  }
  trainer = new Trainer(loaded.kernels, req.hparams, data.training, req.seed, {
    stepsPerQuarter: req.dataset.stepsPerQuarter,
  });
  evalSet =
    data.eval.length > 0
      ? ExampleSet.fromIds(
          data.eval.map((ids) => trackToExample(ids, false)),
          "held-out files",
        )
      : undefined;
  evalEvery = evalSet ? Math.max(10, Math.round(req.numSteps / 10)) : 0;
  target = req.numSteps;
  await loop();
}

scope.onmessage = (e: MessageEvent) => {
  const req = e.data as TrainRequest;
  const fail = (err: unknown) => post({ type: "error", message: (err as Error).message });
  try {
    switch (req.type) {
      case "start":
        start(req).catch(fail);
        break;
      case "stop":
        stop?.abort();
        if (!running && trainer) post({ type: "paused", step: trainer.stepCount });
        break;
      case "resume":
        if (!trainer) throw new Error("nothing to resume: start training first");
        target = Math.max(req.numSteps, trainer.stepCount);
        loop().catch(fail);
        break;
      case "bundle":
        if (!trainer) throw new Error("no model yet: start training first");
        post({ type: "bundle", bytes: trainer.bundle(req.description), step: trainer.stepCount });
        break;
    }
  } catch (err) {
    fail(err);
  }
};
