/**
 * Training inside the page, without a file system: MIDI bytes → NoteSequences → the dataset pipeline of
 * `polyrnn dataset` → the training step of `polyrnn train`. Pure (kernels and bytes in, metrics and bundle
 * bytes out), so the Studio's worker runs it on the WebAssembly kernels and the tests run it in Node.
 *
 *   const { sequences } = midiFilesToNoteSequences(files, "my_midi");
 *   const data = buildDataset(sequences, { ...DEFAULT_DATASET_OPTIONS, splitLongTracks: true });
 *   const t = new StudioTrainer(kernels, parseHParams("batch_size=4,rnn_layer_sizes=[16]"), data.training, 1);
 *   for (let i = 0; i < 100; i++) console.log(t.step().loss);
 *   const bytes = t.bundle("my model");   // loads with polyrnn generate --bundle_file
 *
 * One step is exactly src/train/trainer.ts's: the same batch stream (TrainingBatches, seeded by
 * mixSeed(seed, 1)), the same dropout seeds (mixSeed(seed, step, 2)), clipping and Adam in the model.
 */
import { ExampleSet, mixSeed, TrainingBatches } from "../../dataset/batches.js";
import { PolyrnnError } from "../../errors.js";
import { readMidi } from "../../io/midi.js";
import { sha1Hex } from "../../io/sha1.js";
import type { Kernels } from "../../kernels/types.js";
import type { HParams, NamedTensor } from "../../model/api.js";
import { encodeBundle } from "../../model/bundle.js";
import { createPolyphonyModel, type LstmModel } from "../../model/lstm.js";
import type { NoteSequence } from "../../notesequence.js";
import {
  choosePartition,
  type DatasetOptions,
  processNoteSequence,
  trackToExample,
} from "../../pipeline/dataset.js";
import type { Statistics } from "../../pipeline/extract.js";
import { batchMetrics } from "../../train/metrics.js";

export interface InputFile {
  /** Path relative to the dropped folder (or the file's name). */
  name: string;
  bytes: Uint8Array;
}

export interface Converted {
  sequences: NoteSequence[];
  skipped: { name: string; reason: string }[];
}

/** Largest MIDI file the page reads (the command line has no limit; a browser tab has less memory). */
export const MAX_MIDI_BYTES = 16 * 2 ** 20;

/**
 * `polyrnn convert` for MIDI files: Magenta's metadata (collection name, file name, and the id
 * `/id/midi/<collection>/<sha1 of the file name>`, as noteSequenceId in src/io/convert.ts, which the
 * page cannot import because it pulls in the MusicXML reader's dependencies). Bad files are skipped
 * with the reader's one-line reason.
 */
export function midiFilesToNoteSequences(files: readonly InputFile[], collectionName: string): Converted {
  const out: Converted = { sequences: [], skipped: [] };
  const sorted = [...files].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  for (const f of sorted) {
    if (!/\.midi?$/i.test(f.name)) {
      out.skipped.push({ name: f.name, reason: "not a .mid or .midi file" });
      continue;
    }
    if (f.bytes.length > MAX_MIDI_BYTES) {
      out.skipped.push({ name: f.name, reason: `larger than ${MAX_MIDI_BYTES >> 20} MB` });
      continue;
    }
    try {
      const ns = readMidi(f.bytes);
      ns.collectionName = collectionName;
      ns.filename = f.name;
      ns.id = `/id/midi/${collectionName}/${sha1Hex(new TextEncoder().encode(f.name))}`;
      out.sequences.push(ns);
    } catch (e) {
      out.skipped.push({ name: f.name, reason: (e as Error).message });
    }
  }
  return out;
}

export interface StudioDataset {
  /** Event ids of every training track (START … END). */
  training: number[][];
  eval: number[][];
  /** Magenta's statistics, as `polyrnn dataset` prints them. */
  stats: Statistics;
  warnings: string[];
  inputNotes: number;
  keptNotes: number;
}

/** `polyrnn dataset` over NoteSequences in memory (processNoteSequence per input, Magenta's partition). */
export function buildDataset(sequences: readonly NoteSequence[], opts: DatasetOptions): StudioDataset {
  const data: StudioDataset = {
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

export interface StepMetrics {
  step: number;
  loss: number;
  perplexity: number;
  accuracy: number;
  tokens: number;
}

export class StudioTrainer {
  readonly model: LstmModel;
  private readonly batches: TrainingBatches;
  readonly examples: ExampleSet;

  constructor(
    kernels: Kernels,
    readonly hparams: HParams,
    tracks: readonly number[][],
    readonly seed: number,
  ) {
    this.examples = ExampleSet.fromIds(
      tracks.map((ids) => trackToExample(ids, false)),
      "dropped files",
    );
    if (this.examples.count === 0) {
      throw new PolyrnnError(
        "no training examples: no track of the dropped files passed the dataset pipeline",
      );
    }
    let longest = 0;
    for (let i = 0; i < this.examples.count; i++) longest = Math.max(longest, this.examples.length(i));
    this.model = createPolyphonyModel(kernels, hparams, { seed, maxLength: longest });
    this.batches = new TrainingBatches(this.examples, mixSeed(seed, 1), 0);
  }

  get stepCount(): number {
    return this.model.step;
  }

  /** One optimisation step; throws when the loss is not finite (the weights are left as they were). */
  step(): StepMetrics {
    const m = this.model;
    const batch = this.batches.nextBatch(this.hparams.batchSize);
    const r = m.forward(batch, { dropout: true, backward: true, seed: mixSeed(this.seed, m.step, 2) });
    if (!Number.isFinite(r.lossSum)) {
      throw new PolyrnnError(
        `loss is ${r.lossSum} at step ${m.step + 1}: training diverged (try a lower learning rate)`,
      );
    }
    m.applyGradients();
    const metrics = batchMetrics(batch.labels, r.preds, r.losses);
    return {
      step: m.step,
      loss: metrics.loss,
      perplexity: metrics.perplexity,
      accuracy: metrics.accuracy,
      tokens: r.tokens,
    };
  }

  weights(): NamedTensor[] {
    return this.model.exportWeights();
  }

  /** The model as a generator bundle (src/model/bundle.ts), loadable by `polyrnn generate --bundle_file`. */
  bundle(description: string): Uint8Array {
    return encodeBundle({
      weights: this.weights(),
      hparams: this.hparams,
      step: this.model.step,
      description,
    });
  }

  dispose(): void {
    this.model.dispose();
  }
}
