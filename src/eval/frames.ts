/**
 * Frame-level negative log-likelihood of piano-roll sequences (the benchmark protocol of
 * ../shared/data/benchmarks/README.md): Score = −Σ log p(frame_t | frames before t) over every frame of
 * every sequence, divided by the number of frames (micro average), in nats per frame.
 *
 * A frame sequence is encoded one-to-one as events: START; per frame its pitches in descending order,
 * CONTINUED_NOTE(p) when p sounded in the previous frame, else NEW_NOTE(p), then STEP_END; finally END.
 * So log p(frame_t | frames < t) is the sum of the log-probabilities of frame t's events, its STEP_END
 * included, and END is reported apart.
 *
 * Alignment. A sequence e_0 = START, e_1 … e_n (e_n = END) is fed as inputs e_0 … e_{n−1} with labels
 * e_1 … e_n: position t scores −log p(e_{t+1} | e_0 … e_t). Position t belongs to the frame whose events
 * include its LABEL e_{t+1}; that is frame f = the number of STEP_ENDs among e_1 … e_t (the STEP_ENDs
 * before the label), so START's position scores the first event of frame 0 and the position whose label is
 * the STEP_END of frame f is frame f's last. The position whose label is END is the END NLL.
 *
 * This is scoring, not Magenta's eval: dropout is OFF. Sequences are sorted by length and cut into
 * batches so that padding stays small; the result does not depend on the batching.
 *
 * Pure: no files, no console; runs wherever the model runs.
 */
import { PolyrnnError } from "../errors.js";
import { END_ID, EventType, eventToId, NUM_CLASSES, START_ID, STEP_END_ID } from "../events/codec.js";
import type { Batch, PolyphonyModel } from "../model/api.js";

/** Uniform random over 88 independent keys: 88·ln 2 nats per frame (the protocol's reference). */
export const UNIFORM_FRAME_NLL = 88 * Math.LN2;

export class FrameNllError extends PolyrnnError {
  override name = "FrameNllError";
}

export interface FrameNllOptions {
  /** Sequences per forward pass (default: the model's hparams batch size). */
  batchSize?: number;
  /** Called after each batch with the number of batches done and in all. */
  onBatch?: (done: number, total: number) => void;
}

export interface FrameNllResult {
  /** Sequences scored. */
  sequences: number;
  /** Frames scored (= STEP_END events). */
  frames: number;
  /** Events predicted, END included. */
  events: number;
  /** −Σ log p(frame_t | frames < t) over all frames of all sequences (END excluded), nats. */
  nllSum: number;
  /** nllSum / frames: the benchmark score (NaN when there are no frames). */
  nllPerFrame: number;
  /** −log p(END | the whole sequence): summed over sequences, and its mean per sequence. */
  endNll: { sum: number; perSequence: number };
  /** Per sequence (input order): the NLL of each of its frames. */
  frameNlls: Float64Array[];
  /** Per sequence (input order): its END NLL. */
  endNlls: Float64Array;
}

function checkPitch(p: unknown, where: string): number {
  if (typeof p !== "number" || !Number.isInteger(p) || p < 0 || p > 127) {
    throw new FrameNllError(`${where}: ${JSON.stringify(p)} is not a MIDI pitch (0..127)`);
  }
  return p;
}

/**
 * The event ids of a frame sequence (the protocol's encoding; the same events as `polyrnn dataset
 * --from_frames` writes). A pitch listed twice in a frame sounds once; frames need not be sorted.
 */
export function encodeFrames(frames: readonly (readonly number[])[], name = "sequence"): number[] {
  if (!Array.isArray(frames)) throw new FrameNllError(`${name}: not a list of frames`);
  const ids = [START_ID];
  let previous = new Set<number>();
  frames.forEach((frame, t) => {
    if (!Array.isArray(frame)) throw new FrameNllError(`${name} frame ${t}: not a list of pitches`);
    const pitches = new Set<number>();
    for (const p of frame) pitches.add(checkPitch(p, `${name} frame ${t}`));
    const sorted = [...pitches].sort((a, b) => b - a);
    for (const p of sorted) {
      ids.push(
        eventToId({ type: previous.has(p) ? EventType.CONTINUED_NOTE : EventType.NEW_NOTE, pitch: p }),
      );
    }
    ids.push(STEP_END_ID);
    previous = pitches;
  });
  ids.push(END_ID);
  return ids;
}

/** Checks one event sequence's shape: START, events whose last is STEP_END (if any), END. */
function checkEvents(ids: readonly number[], i: number): void {
  const where = `sequence ${i}`;
  if (ids.length < 2 || ids[0] !== START_ID || ids[ids.length - 1] !== END_ID) {
    throw new FrameNllError(`${where}: an event sequence must start with START and end with END`);
  }
  for (let t = 1; t < ids.length - 1; t++) {
    const id = ids[t];
    if (!Number.isInteger(id) || id < 0 || id >= NUM_CLASSES)
      throw new FrameNllError(`${where}: event ${t} = ${id} is not an event id`);
    if (id === START_ID || id === END_ID)
      throw new FrameNllError(
        `${where}: event ${t} is ${id === START_ID ? "START" : "END"} inside the sequence`,
      );
  }
  if (ids.length > 2 && ids[ids.length - 2] !== STEP_END_ID)
    throw new FrameNllError(`${where}: the last frame is not closed by a STEP_END before END`);
}

/** The padded time-major batch of the given event sequences (inputs e_0…e_{n−1}, labels e_1…e_n). */
function makeBatch(seqs: readonly (readonly number[])[]): Batch {
  const B = seqs.length;
  const lengths = new Int32Array(B);
  let T = 0;
  for (let b = 0; b < B; b++) {
    lengths[b] = seqs[b].length - 1;
    T = Math.max(T, lengths[b]);
  }
  const inputs = new Int32Array(T * B).fill(-1);
  const labels = new Int32Array(T * B).fill(-1);
  for (let b = 0; b < B; b++) {
    const ids = seqs[b];
    for (let t = 0; t < lengths[b]; t++) {
      inputs[t * B + b] = ids[t];
      labels[t * B + b] = ids[t + 1];
    }
  }
  return { batchSize: B, length: T, inputs, labels, lengths };
}

/**
 * Frame NLLs of event sequences, each START … STEP_END, END (e.g. `encodeIds(fromQuantizedSequence(q))`
 * for data that are not plain frames, such as four-voice chorales). A frame is everything up to and
 * including a STEP_END.
 */
export function eventFrameNll(
  model: PolyphonyModel,
  sequences: readonly (readonly number[])[],
  opts: FrameNllOptions = {},
): FrameNllResult {
  const batchSize = opts.batchSize ?? model.hparams.batchSize;
  if (!Number.isInteger(batchSize) || batchSize < 1)
    throw new FrameNllError(`batch size must be at least 1, got ${batchSize}`);
  sequences.forEach((ids, i) => {
    checkEvents(ids, i);
  });

  const n = sequences.length;
  const frameNlls = sequences.map((ids) => {
    let frames = 0;
    for (const id of ids) if (id === STEP_END_ID) frames++;
    return new Float64Array(frames);
  });
  const endNlls = new Float64Array(n);
  // Shortest first (stable), so a batch's sequences have similar lengths.
  const order = Array.from({ length: n }, (_, i) => i).sort(
    (a, b) => sequences[a].length - sequences[b].length || a - b,
  );
  const total = Math.ceil(n / batchSize);
  let events = 0;
  for (let bi = 0; bi < total; bi++) {
    const members = order.slice(bi * batchSize, (bi + 1) * batchSize);
    const batch = makeBatch(members.map((i) => sequences[i]));
    const { losses } = model.forward(batch, { dropout: false, backward: false, seed: 0 });
    const B = batch.batchSize;
    members.forEach((i, b) => {
      const ids = sequences[i];
      const perFrame = frameNlls[i];
      let frame = 0;
      for (let t = 0; t < batch.lengths[b]; t++) {
        const label = ids[t + 1];
        const loss = losses[t * B + b];
        if (label === END_ID) {
          endNlls[i] = loss;
        } else {
          perFrame[frame] += loss;
          if (label === STEP_END_ID) frame++;
        }
      }
      events += batch.lengths[b];
    });
    opts.onBatch?.(bi + 1, total);
  }

  let frames = 0;
  let nllSum = 0;
  for (const perFrame of frameNlls) {
    frames += perFrame.length;
    for (const v of perFrame) nllSum += v;
  }
  let endSum = 0;
  for (const v of endNlls) endSum += v;
  return {
    sequences: n,
    frames,
    events,
    nllSum,
    nllPerFrame: frames > 0 ? nllSum / frames : Number.NaN,
    endNll: { sum: endSum, perSequence: n > 0 ? endSum / n : Number.NaN },
    frameNlls,
    endNlls,
  };
}

/** Frame NLL of piano-roll sequences (each a list of frames, each a list of MIDI pitches). */
export function frameNll(
  model: PolyphonyModel,
  sequences: readonly (readonly (readonly number[])[])[],
  opts: FrameNllOptions = {},
): FrameNllResult {
  return eventFrameNll(
    model,
    sequences.map((frames, i) => encodeFrames(frames, `sequence ${i}`)),
    opts,
  );
}
