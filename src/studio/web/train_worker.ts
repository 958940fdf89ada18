/**
 * The Studio's training worker: converts the dropped MIDI files, builds the dataset with the pipeline of
 * `polyrnn dataset`, and trains with the step of `polyrnn train` on the WebAssembly kernels, all through
 * the library's training API (src/train/session.ts). It pauses on `stop`, continues on `resume`, and writes a bundle on `bundle`; between two steps
 * it yields to its message queue, so a stop is seen within one step.
 */

import { convertInputFiles } from "../../io/convert_core.js";
import { buildDataset, type StepMetrics, Trainer } from "../../train/session.js";
import { type LoadedKernels, loadBrowserKernels } from "./kernels.js";
import type { TrainReply, TrainRequest, WorkerScope } from "./protocol.js";

const scope = self as unknown as WorkerScope;
const post = (m: TrainReply) => scope.postMessage(m);

let loaded: LoadedKernels | undefined;
let trainer: Trainer | undefined;
let target = 0;
let running = false;
let stopRequested = false;

// A zero-delay yield (setTimeout is clamped to 4 ms once nested; a tiny model's step is faster than that).
const channel = new MessageChannel();
const waiting: (() => void)[] = [];
channel.port1.onmessage = () => waiting.shift()?.();
const yieldNow = () =>
  new Promise<void>((resolve) => {
    waiting.push(resolve);
    channel.port2.postMessage(0);
  });

async function loop(): Promise<void> {
  if (!trainer || running) return;
  running = true;
  stopRequested = false;
  const t = trainer;
  let points: StepMetrics[] = [];
  let lastPost = performance.now();
  let windowTokens = 0;
  let windowStart = performance.now();
  const flush = () => {
    const now = performance.now();
    const rate = (windowTokens * 1000) / Math.max(1, now - windowStart);
    post({ type: "metrics", points, tokensPerSec: rate });
    points = [];
    lastPost = now;
    windowTokens = 0;
    windowStart = now;
  };
  try {
    while (t.stepCount < target && !stopRequested) {
      const m = t.step();
      points.push(m);
      windowTokens += m.tokens;
      if (performance.now() - lastPost > 100) flush();
      await yieldNow();
    }
    if (points.length > 0) flush();
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
  const data = buildDataset(converted.sequences, req.dataset);
  post({
    type: "dataset",
    files: req.files.length,
    converted: converted.sequences.length,
    skipped: converted.skipped,
    tracks: data.training.length,
    events: data.training.reduce((n, t) => n + t.length, 0),
    inputNotes: data.inputNotes,
    keptNotes: data.keptNotes,
    warnings: data.warnings.slice(0, 20),
  });
  if (!loaded) {
    loaded = await loadBrowserKernels();
    post({ type: "ready", kernels: loaded.kernels.name, threads: loaded.threads, notice: loaded.notice });
  }
  trainer = new Trainer(loaded.kernels, req.hparams, data.training, req.seed);
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
        stopRequested = true;
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
