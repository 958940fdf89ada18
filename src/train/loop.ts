/**
 * THE training loop (pure): `polyrnn train`, the library's `trainModel` and the Studio's training worker
 * all run it, each handing in what it does with the results as callbacks: each step's metrics (progress),
 * summaries (Magenta's summary scalars and events per second, every N steps and/or milliseconds: the
 * CLI's TensorBoard and metrics.jsonl, the Studio's chart), checkpoints (at the start, every N steps
 * and/or seconds, and at the end: the CLI's files, the library's bytes), evaluations, and a stop signal.
 *
 *   const r = await trainLoop(trainer, {
 *     numSteps: 200, signal, summaryEverySteps: 10,
 *     onSummary: (m, tokensPerSec) => log(m.step, m.loss, tokensPerSec),
 *     save: async (snapshot) => writeSomewhere(encodeCheckpoint(snapshot)),
 *   });
 *
 * A NaN or infinite loss stops the loop with a DivergedError (weights as they were before that step),
 * and no checkpoint is handed out of a model whose weights are not all finite.
 */
import type { SaveInput } from "./checkpoint_format.js";
import { DivergedError, type StepMetrics, type Trainer, TrainingError } from "./step.js";

/** What `trainLoop` does besides the steps: its callbacks and their policies. */
export interface TrainLoopOptions {
  /** Train until the model's step reaches this (Infinity: until stopped). */
  numSteps: number;
  /** Stops before the next step once aborted (after saving, when checkpoints are saved). */
  signal?: AbortSignal;
  /** After each step, with the real events per second since the last summary. */
  onStep?: (m: StepMetrics, tokensPerSec: number) => void | Promise<void>;
  /** Summaries every this many steps (and at the last step). */
  summaryEverySteps?: number;
  /** Summaries once this many milliseconds have passed since the last one (and at the last step). */
  summaryEveryMs?: number;
  /** A summary: the step's metrics and the real events per second since the previous summary. */
  onSummary?: (m: StepMetrics, tokensPerSec: number) => void | Promise<void>;
  /** Saves a checkpoint; returns its name (a path) for messages, or nothing. */
  save?: (snapshot: SaveInput) => string | undefined | Promise<string | undefined>;
  /** Save before the first step, unless the current step is saved already (`savedAs`). */
  saveAtStart?: boolean;
  /** Save every this many steps. */
  saveEverySteps?: number;
  /** Save once this many seconds have passed since the last save (not at the last step: the end saves). */
  saveEverySecs?: number;
  /** The model's current step is saved already (the checkpoint it resumed from): its name. */
  savedAs?: string;
  /** Calls `onEval` every this many steps (after that step's summary). */
  evalEverySteps?: number;
  /** An evaluation due at `step` (the model's step after it); the loop waits for it before going on. */
  onEval?: (step: number) => void | Promise<void>;
  /** Awaited between steps (default: a zero-delay timer), so that an event loop stays responsive and a stop is seen. */
  pause?: () => Promise<void>;
  /** What a diverged run's error suggests (default "try a lower learning rate"). */
  divergedHint?: string;
}

/** How `trainLoop` ended. */
export interface TrainLoopResult {
  /** The model's step at the end. */
  step: number;
  /** Why the loop ended: the step target, or the signal. */
  stopped: "steps" | "aborted";
  /** The last step's metrics (undefined when no step ran). */
  last?: StepMetrics;
  /** The name of the last checkpoint saved (or `savedAs`). */
  lastCheckpoint?: string;
}

/** Whether `step` is a multiple of a positive `every`. */
const every = (step: number, n: number | undefined) => n !== undefined && n > 0 && step % n === 0;

/** The first weight tensor holding NaN or ±Inf, by name. */
function nonFinite(snapshot: SaveInput): string | undefined {
  for (const t of snapshot.weights) {
    for (const v of t.data) if (!Number.isFinite(v)) return t.name;
  }
  return undefined;
}

/** Trains `trainer` to `numSteps` or until stopped; see the module comment. The trainer stays the caller's. */
export async function trainLoop(trainer: Trainer, opts: TrainLoopOptions): Promise<TrainLoopResult> {
  const now = () => performance.now();
  const pause = opts.pause ?? (() => new Promise<void>((resolve) => setTimeout(resolve, 0)));
  let lastCheckpoint = opts.savedAs;
  let savedStep = opts.savedAs === undefined ? -1 : trainer.stepCount;
  const save = async (): Promise<void> => {
    if (!opts.save) return;
    const snapshot = trainer.snapshot();
    const bad = nonFinite(snapshot);
    if (bad !== undefined) {
      throw new TrainingError(
        `weights became NaN or infinite at step ${snapshot.step} (tensor ${bad}); not saving. ` +
          `Last good checkpoint: ${lastCheckpoint ?? "none"}.`,
      );
    }
    const name = await opts.save(snapshot);
    if (typeof name === "string") lastCheckpoint = name;
    savedStep = snapshot.step;
  };

  if (opts.saveAtStart && savedStep !== trainer.stepCount) await save();
  let lastSave = now();
  // Events per second over the steps since the last summary.
  let windowStart = now();
  let windowTokens = 0;
  let last: StepMetrics | undefined;
  let stopped: TrainLoopResult["stopped"] = "steps";
  while (trainer.stepCount < opts.numSteps) {
    if (opts.signal?.aborted) {
      stopped = "aborted";
      break;
    }
    let m: StepMetrics;
    try {
      m = trainer.step();
    } catch (e) {
      if (!(e instanceof DivergedError)) throw e;
      throw new DivergedError(
        e.loss,
        e.step,
        opts.divergedHint,
        opts.save ? (lastCheckpoint ?? "none") : undefined,
      );
    }
    last = m;
    windowTokens += m.tokens;
    const rate = (windowTokens * 1000) / Math.max(now() - windowStart, 1e-3);
    await opts.onStep?.(m, rate);
    const final = m.step >= opts.numSteps;
    const evalDue = opts.onEval !== undefined && every(m.step, opts.evalEverySteps);
    if (
      opts.onSummary &&
      (final ||
        evalDue ||
        every(m.step, opts.summaryEverySteps) ||
        (opts.summaryEveryMs !== undefined && now() - windowStart >= opts.summaryEveryMs))
    ) {
      await opts.onSummary(m, rate);
      windowStart = now();
      windowTokens = 0;
    }
    if (evalDue) await opts.onEval?.(m.step);
    if (
      every(m.step, opts.saveEverySteps) ||
      (!final && opts.saveEverySecs !== undefined && now() - lastSave >= opts.saveEverySecs * 1000)
    ) {
      await save();
      lastSave = now();
    }
    await pause();
  }
  if (trainer.stepCount !== savedStep) await save();
  return {
    step: trainer.stepCount,
    stopped,
    ...(last ? { last } : {}),
    ...(lastCheckpoint !== undefined ? { lastCheckpoint } : {}),
  };
}
