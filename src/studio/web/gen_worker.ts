/**
 * The Studio's generation worker: loads the kernels once, then answers `generate` requests with
 * Magenta's generator (src/generate/polyphony.ts) on them, reporting progress as the RNN steps run.
 */
import { createLstmRnn } from "../../generate/lstm_rnn.js";
import { generatePolyphony } from "../../generate/polyphony.js";
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

async function generate(req: GenRequest): Promise<void> {
  const { kernels: k } = await kernels();
  const bundle = loadBundle(req.bundle);
  const rnn = createLstmRnn(k, bundle.weights);
  const t0 = performance.now();
  let expected = 1;
  let steps = 0;
  let lastPost = 0;
  try {
    const result = generatePolyphony(rnn, {
      ...req.settings,
      numOutputs: 1,
      primer: req.primer,
      onRound: ({ rnnSteps }) => {
        steps = 0;
        expected = rnnSteps;
      },
      onStep: () => {
        steps++;
        const now = performance.now();
        if (now - lastPost > 50) {
          lastPost = now;
          // One step per sampled event; each round asks for 5 events per missing step (most pieces finish
          // in the first round, a later round starts the bar again).
          post({ type: "progress", id: req.id, fraction: Math.min(0.99, steps / expected) });
        }
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
      kernels: rnn.kernels.name,
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
