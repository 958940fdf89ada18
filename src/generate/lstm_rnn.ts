/**
 * The trained LSTM as an `EventRnn` for generation: a generation step IS training's forward pass
 * (src/model/lstm.ts) on a chunk of one time step, with dropout off (Magenta's generate mode) and the
 * sequences of a call as the batch — the same weight layout (weightShapes/lstmParams), input projection
 * (projectInputs), layer forward (lstmLayerForward: + h·W_h, then the cell) and output layer (outputLogits).
 * Sequences fed fewer events than others keep their state once their events run out. It gives logits; the
 * sampler (sampler.ts) turns them into log-probabilities and draws, in the same heap.
 *
 * Per step, for n sequences (bench/README.md, "bench:generate", measures each piece):
 * - each layer's c and h are training's state buffers of a one-step chunk with B = n: n entering rows
 *   (the sequences' state), then the step's n rows; rows whose sequences advanced are copied back to the
 *   entering rows after the step (one copyRows per layer for c and h together);
 * - layer 0's input is a row lookup of W_x by event id, deeper layers' x·W_x + b one product over the
 *   step's rows of the layer below, then each layer h·W_h and the cell (lstmLayerForward);
 * - weights too big for L2 (3×256's W_x and W_h) are packed once (packWeights) for gemmPacked, which the
 *   products of ≥ 3 sequences use (the same bits as gemm, without re-packing the weights every step);
 * - the logits of all rows are one buffer, handed to the caller (the sampler: log-softmax of all rows in
 *   one kernel call, and the draws in another);
 * - the state buffers stay resident between calls: a call that continues exactly the sequences of the
 *   previous call, in order, copies nothing in; otherwise the states the previous call left in the heap are
 *   gathered there (a beam's kept entries, reordered) and the others copied in from their snapshots. States
 *   handed out are immutable snapshots (one copy of the entering rows per call, in the same per-layer
 *   layout), so beams may share and revisit them freely.
 */
import { PolyrnnError } from "../errors.js";
import { NUM_CLASSES as V } from "../events/codec.js";
import type { Kernels } from "../kernels/types.js";
import type { NamedTensor } from "../model/api.js";
import {
  layerSizesOf,
  lstmLayerForward,
  lstmParams,
  outputLogits,
  PACKED_MIN_ROWS,
  type PackedWeights,
  type Param,
  packWeights,
  projectInputs,
  type StepRows,
} from "../model/lstm.js";
import type { EventRnn, RnnState } from "./rnn.js";

// Floats per block of state snapshots (1 MiB).
const JOURNAL_FLOATS = 1 << 18;

/**
 * The entering states of a call's `rows` sequences after it: per layer i, c (rows × H_i) then h
 * (rows × H_i), layer after layer; `gen` identifies the call.
 */
interface Snapshot {
  buf: Float32Array;
  rows: number;
  gen: number;
}

/** One sequence's state: row `row` of a snapshot. */
interface LstmState {
  snap: Snapshot;
  row: number;
}

function weightParam(k: Kernels, t: NamedTensor): Param {
  const w = k.alloc(t.data.length);
  k.f32().set(t.data, w);
  return { name: t.name, shape: t.shape, size: t.data.length, w, g: -1, m: -1, v: -1 };
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
  const L = sizes.length;
  const base = k.mark();
  const { layers, softmax } = lstmParams(sizes, (name, shape) => weightParam(k, find(name, shape)));
  // Packed on the first step of PACKED_MIN_ROWS sequences or more, so that single-sequence generation
  // does not pay for it.
  let packed: PackedWeights | null = null;

  // Floats of one sequence's state (c and h of every layer), and where layer i's rows start in a snapshot
  // of `rows` sequences: rows × snapAt[i].
  const stateFloats = 2 * sizes.reduce((a, b) => a + b, 0);
  const snapAt: number[] = [];
  for (let i = 0, at = 0; i < L; at += 2 * sizes[i], i++) snapAt.push(at);
  const maxH = Math.max(...sizes);

  // The state buffers (grown on demand), per layer i one block of 4·capacity·H_i floats: c at c[i] and h at
  // c[i] + 2·capacity·H_i, each n entering rows then the step's n rows. What they hold: the entering rows
  // 0 … residentRows−1 are the snapshot of call `residentGen` (≥ 1), in order; 0 = nothing known.
  let capacity = 0;
  let c: number[] = [];
  // Scratch for `capacity` rows, allocated with the state: ids (i32), gates, logits.
  let ids = -1;
  let gates = -1;
  let logits = -1;
  let residentGen = 0;
  let residentRows = 0;
  let gen = 0;
  const zero: LstmState = { snap: { buf: new Float32Array(stateFloats), rows: 1, gen: -1 }, row: 0 };
  const hOf = (i: number): number => c[i] + 2 * capacity * sizes[i];

  // Views of the entering rows of each layer's c and h (2L), for `viewRows` rows of the heap `viewHeap`:
  // made again when the row count, the heap's memory or the buffers (reserve) change, not every call.
  let views: Float32Array[] = [];
  let viewHeap: Float32Array | null = null;
  let viewRows = -1;

  function reserve(n: number): void {
    if (n <= capacity) return;
    capacity = Math.max(n, 2 * capacity, 8);
    // The old blocks stay until dispose (the arena frees in stack order); growth doubles, so they are few.
    c = sizes.map((H) => k.alloc(4 * capacity * H));
    ids = k.alloc(capacity);
    gates = k.alloc(capacity * 4 * maxH);
    logits = k.alloc(capacity * V);
    residentGen = 0;
    viewRows = -1;
  }

  /**
   * Puts the entering states into the entering rows 0 … n−1. Nothing to do when each row holds its state
   * already (a call continuing the previous call's sequences, in order). Otherwise the rows are gathered in
   * rows capacity … capacity + n − 1 (free until the step), then moved to 0 … n − 1: a state that the
   * previous call left in the heap (beams: the entries it kept, in another order) is copied within the heap,
   * c and h of a layer in one copyRows call; any other from its snapshot.
   */
  function loadStates(states: readonly RnnState[]): void {
    const n = states.length;
    reserve(n);
    let inPlace = true;
    for (let r = 0; r < n; r++) {
      const s = states[r] as LstmState;
      if (!s || !(s.snap?.buf instanceof Float32Array)) {
        throw new PolyrnnError("internal: a state that this model did not make");
      }
      inPlace &&= s.snap.gen === residentGen && s.row === r && r < residentRows;
    }
    if (inPlace) return;
    const f = k.f32();
    for (let r = 0; r < n; r++) {
      const { snap, row } = states[r] as LstmState;
      const to = capacity + r;
      for (let i = 0; i < L; i++) {
        const H = sizes[i];
        if (snap.gen === residentGen && row < residentRows) {
          k.copyRows(2, H, c[i] + row * H, 2 * capacity * H, c[i] + to * H, 2 * capacity * H);
        } else {
          const from = snap.rows * snapAt[i] + row * H;
          f.set(snap.buf.subarray(from, from + H), c[i] + to * H);
          f.set(snap.buf.subarray(from + snap.rows * H, from + snap.rows * H + H), hOf(i) + to * H);
        }
      }
    }
    for (let i = 0; i < L; i++) {
      const H = sizes[i];
      k.copyRows(2, n * H, c[i] + capacity * H, 2 * capacity * H, c[i], 2 * capacity * H);
    }
  }

  /** The layers and the output layer for one position of n sequences: logits (n × V) from ids (n). */
  function forward(n: number, step: StepRows): void {
    if (packed === null && n >= PACKED_MIN_ROWS) packed = packWeights(k, layers, softmax);
    for (let i = 0; i < L; i++) {
      const layer = layers[i];
      const input = i === 0 ? ids : hOf(i - 1) + n * sizes[i - 1];
      projectInputs(k, layer, i === 0, n, input, gates, packed?.layers[i].wx);
      lstmLayerForward(k, layer, n, step, gates, c[i], hOf(i), packed?.layers[i].wh);
    }
    outputLogits(k, softmax, n, hOf(L - 1) + n * sizes[L - 1], logits, packed?.softmax);
  }

  /** The step's rows r0 … r1−1 of n become their entering rows (their sequences advanced). */
  function advance(n: number, r0: number, r1: number): void {
    if (r1 <= r0) return;
    for (let i = 0; i < L; i++) {
      const H = sizes[i];
      // c then h: two rows of a matrix whose row stride is the distance between them.
      k.copyRows(2, (r1 - r0) * H, c[i] + (n + r0) * H, 2 * capacity * H, c[i] + r0 * H, 2 * capacity * H);
    }
  }

  // Snapshots are views into large blocks ("journal"), filled in order: a step then costs a copy, not an
  // ArrayBuffer of its own (whose allocation and collection cost more than the copy for small models). A
  // block is freed by the garbage collector once no state in it is referenced.
  let journal = new Float32Array(0);
  let journalAt = 0;

  /** The states after a call: one snapshot of the n entering rows, which stay resident. */
  function saveStates(n: number): LstmState[] {
    const size = n * stateFloats;
    if (journalAt + size > journal.length) {
      journal = new Float32Array(Math.max(JOURNAL_FLOATS, 4 * size));
      journalAt = 0;
    }
    const buf = journal.subarray(journalAt, journalAt + size);
    journalAt += size;
    const f = k.f32();
    if (f !== viewHeap || n !== viewRows) {
      views = [];
      for (let i = 0; i < L; i++) {
        const nH = n * sizes[i];
        views.push(f.subarray(c[i], c[i] + nH), f.subarray(hOf(i), hOf(i) + nH));
      }
      viewHeap = f;
      viewRows = n;
    }
    for (let i = 0; i < L; i++) {
      buf.set(views[2 * i], n * snapAt[i]);
      buf.set(views[2 * i + 1], n * (snapAt[i] + sizes[i]));
    }
    const snap: Snapshot = { buf, rows: n, gen: ++gen };
    residentGen = snap.gen;
    residentRows = n;
    const out: LstmState[] = [];
    for (let r = 0; r < n; r++) out.push({ snap, row: r });
    return out;
  }

  return {
    numClasses: V,
    kernels: k,
    zeroState: (): RnnState => zero,
    run(states, inputs, onLogits) {
      const n = inputs.length;
      if (states.length !== n) throw new PolyrnnError("internal: states and inputs differ in number");
      const longest = Math.max(0, ...inputs.map((x) => x.length));
      loadStates(states);
      residentGen = 0; // the state buffers change from here on
      // Training's chunk of one time step, all n sequences running (those out of events are fed −1: the
      // bias alone, and their step is not kept).
      const step: StepRows = { t0: 0, steps: 1, rows: [n], at: [0, n] };
      for (let p = 0; p < longest; p++) {
        const i32 = k.i32();
        for (let r = 0; r < n; r++) i32[ids + r] = p < inputs[r].length ? inputs[r][p] : -1;
        forward(n, step);
        onLogits(p, logits);
        // Rows that advance: their new state becomes the state in (runs of consecutive rows at once).
        let r0 = -1;
        for (let r = 0; r <= n; r++) {
          const moves = r < n && p < inputs[r].length;
          if (moves) {
            if (r0 < 0) r0 = r;
          } else if (r0 >= 0) {
            advance(n, r0, r);
            r0 = -1;
          }
        }
      }
      return saveStates(n);
    },
    dispose() {
      k.release(base);
    },
  };
}
