/**
 * The trained LSTM as an `EventRnn` for generation: the same kernels and the same per-layer step code as
 * training (`projectInputs`, `lstmSteps` in src/model/lstm.ts), with dropout off (Magenta's generate mode)
 * and a state per sequence. All sequences of a call run as one batch; sequences fed fewer events than
 * others keep their state once their events run out.
 */
import { PolyrnnError } from "../errors.js";
import type { Kernels } from "../kernels/types.js";
import type { NamedTensor } from "../model/api.js";
import { cellName, type LstmLayer, lstmSteps, type Param, projectInputs } from "../model/lstm.js";
import { type EventRnn, logSoftmax, type RnnState } from "./rnn.js";

const V = 259;

/** Per sequence: for each layer, c then h. */
interface LstmState {
  c: Float32Array[];
  h: Float32Array[];
}

function weightParam(k: Kernels, t: NamedTensor): Param {
  const w = k.alloc(t.data.length);
  k.f32().set(t.data, w);
  return { name: t.name, shape: t.shape, size: t.data.length, w, g: -1, m: -1, v: -1 };
}

/** Layer sizes from the kernels' shapes ([in + H, 4H]), so a bundle needs no separate hparams to run. */
export function layerSizesOf(weights: readonly NamedTensor[]): number[] {
  const sizes: number[] = [];
  for (let i = 0; ; i++) {
    const kernel = weights.find((t) => t.name === cellName(i, "kernel"));
    if (!kernel) break;
    sizes.push(kernel.shape[1] / 4);
  }
  if (sizes.length === 0)
    throw new PolyrnnError(`no ${cellName(0, "kernel")} among the weights: not a Polyphony RNN`);
  return sizes;
}

export function createLstmRnn(k: Kernels, weights: readonly NamedTensor[]): EventRnn & { dispose(): void } {
  const find = (name: string, shape: number[]): NamedTensor => {
    const t = weights.find((w) => w.name === name);
    if (!t) throw new PolyrnnError(`the model has no tensor ${name}`);
    if (t.shape.length !== shape.length || t.shape.some((d, i) => d !== shape[i])) {
      throw new PolyrnnError(`tensor ${name} has shape [${t.shape}], expected [${shape}]`);
    }
    return t;
  };
  const sizes = layerSizesOf(weights);
  const base = k.mark();
  const layers: LstmLayer[] = sizes.map((H, i) => {
    const input = i === 0 ? V : sizes[i - 1];
    return {
      input,
      hidden: H,
      kernel: weightParam(k, find(cellName(i, "kernel"), [input + H, 4 * H])),
      bias: weightParam(k, find(cellName(i, "bias"), [4 * H])),
    };
  });
  const fcW = weightParam(k, find("fully_connected/weights", [sizes[sizes.length - 1], V]));
  const fcB = weightParam(k, find("fully_connected/biases", [V]));

  const zero: LstmState = {
    c: sizes.map((H) => new Float32Array(H)),
    h: sizes.map((H) => new Float32Array(H)),
  };

  return {
    numClasses: V,
    zeroState: (): RnnState => zero,
    run(states, inputs, temperature) {
      const n = inputs.length;
      const longest = Math.max(0, ...inputs.map((x) => x.length));
      const top = k.mark();
      try {
        const ids = k.alloc(n);
        const gates = sizes.map((H) => k.alloc(n * 4 * H));
        // c[i], h[i]: two steps' worth (n×H each): step 0 = state in, step 1 = state out.
        const c = sizes.map((H) => k.alloc(2 * n * H));
        const h = sizes.map((H) => k.alloc(2 * n * H));
        const logits = k.alloc(n * V);
        let f = k.f32();
        for (let r = 0; r < n; r++) {
          const s = states[r] as LstmState;
          sizes.forEach((H, i) => {
            f.set(s.c[i], c[i] + r * H);
            f.set(s.h[i], h[i] + r * H);
          });
        }
        const logProbs = inputs.map((x) => new Float32Array(x.length * V));
        for (let p = 0; p < longest; p++) {
          const i32 = k.i32();
          for (let r = 0; r < n; r++) i32[ids + r] = p < inputs[r].length ? inputs[r][p] : -1;
          layers.forEach((layer, i) => {
            const input = i === 0 ? ids : h[i - 1] + n * sizes[i - 1];
            projectInputs(k, layer, i === 0, n, input, gates[i]);
            lstmSteps(k, layer, 1, n, gates[i], c[i], h[i]);
          });
          const last = sizes.length - 1;
          k.gemm(
            false,
            false,
            n,
            V,
            sizes[last],
            1,
            h[last] + n * sizes[last],
            sizes[last],
            fcW.w,
            V,
            0,
            logits,
            V,
          );
          k.addBias(n, V, fcB.w, logits);
          f = k.f32();
          for (let r = 0; r < n; r++) {
            const H = sizes;
            if (p < inputs[r].length) {
              logSoftmax(f.subarray(logits + r * V, logits + (r + 1) * V), temperature, logProbs[r], p * V);
              // This sequence advances: its new state becomes the state in.
              H.forEach((Hi, i) => {
                f.copyWithin(c[i] + r * Hi, c[i] + (n + r) * Hi, c[i] + (n + r + 1) * Hi);
                f.copyWithin(h[i] + r * Hi, h[i] + (n + r) * Hi, h[i] + (n + r + 1) * Hi);
              });
            }
          }
        }
        const out: LstmState[] = [];
        for (let r = 0; r < n; r++) {
          out.push({
            c: sizes.map((H, i) => f.slice(c[i] + r * H, c[i] + (r + 1) * H)),
            h: sizes.map((H, i) => f.slice(h[i] + r * H, h[i] + (r + 1) * H)),
          });
        }
        return { logProbs, states: out };
      } finally {
        k.release(top);
      }
    },
    dispose() {
      k.release(base);
    },
  };
}
