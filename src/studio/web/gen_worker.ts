/**
 * The Studio's generation worker: loads the kernels once, then answers `generate` requests with
 * Magenta's generator (src/generate/polyphony.ts), reporting progress as the RNN steps run.
 */
import { createLstmRnn } from "../../generate/lstm_rnn.js";
import { generatePolyphony } from "../../generate/polyphony.js";
import type { EventRnn } from "../../generate/rnn.js";
import { loadBundle } from "../../model/bundle.js";
import { type LoadedKernels, loadBrowserKernels } from "./kernels.js";
import type { GenReply, GenRequest, WorkerScope } from "./protocol.js";

const scope = self as unknown as WorkerScope;
const post = (m: GenReply) => scope.postMessage(m);

let loaded: Promise<LoadedKernels> | undefined;
function kernels(): Promise<LoadedKernels> {
  loaded ??= loadBrowserKernels().then((k) => {
    post({ type: "ready", kernels: k.kernels.name, threads: k.threads, notice: k.notice });
    return k;
  });
  return loaded;
}

/** Counts the RNN calls of a round (one per sampled event) to report how far generation is. */
function withProgress(rnn: EventRnn, onStep: () => void): EventRnn {
  return {
    numClasses: rnn.numClasses,
    zeroState: () => rnn.zeroState(),
    run(states, inputs, temperature) {
      onStep();
      return rnn.run(states, inputs, temperature);
    },
  };
}

async function generate(req: GenRequest): Promise<void> {
  const { kernels: k } = await kernels();
  const bundle = loadBundle(req.bundle);
  const rnn = createLstmRnn(k, bundle.weights);
  const s = req.settings;
  const t0 = performance.now();
  let expected = 1;
  let calls = 0;
  let lastPost = 0;
  try {
    const progress = withProgress(rnn, () => {
      calls++;
      const now = performance.now();
      if (now - lastPost > 50) {
        lastPost = now;
        // One call per sampled event; each round asks for 5 events per missing step (most pieces finish
        // in the first round, a later round starts the bar again).
        post({ type: "progress", id: req.id, fraction: Math.min(0.99, calls / expected) });
      }
    });
    const result = generatePolyphony(progress, {
      primer: req.primer,
      numSteps: s.numSteps,
      numOutputs: 1,
      conditionOnPrimer: s.conditionOnPrimer,
      injectPrimerDuringGeneration: s.injectPrimerDuringGeneration,
      temperature: s.temperature,
      beamSize: s.beamSize,
      branchFactor: s.branchFactor,
      stepsPerIteration: s.stepsPerIteration,
      seed: s.seed,
      excludePrimer: s.excludePrimer,
      onRound: ({ rnnSteps }) => {
        calls = 0;
        expected = rnnSteps;
      },
    });
    post({
      type: "done",
      id: req.id,
      sequence: result.sequences[0],
      generateStartStep: result.generateStartStep,
      qpm: result.qpm,
      score: result.scores[0],
      seconds: (performance.now() - t0) / 1000,
    });
  } finally {
    rnn.dispose();
  }
}

scope.onmessage = (e: MessageEvent) => {
  const req = e.data as GenRequest | { type: "init" };
  if (req.type === "init") {
    void kernels();
    return;
  }
  generate(req).catch((err) => post({ type: "error", id: req.id, message: (err as Error).message }));
};
