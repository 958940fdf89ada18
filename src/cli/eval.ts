/**
 * `polyrnn eval`: a model's numbers on data.
 *   polyrnn eval --bundle_file=B --sequence_example_file=DIR/eval_poly_tracks.tfrecord   # Magenta's metrics
 *   polyrnn eval --run_dir=RUN --frames=bl2012_jsb_chorales.json --split=valid           # frame NLL
 *   polyrnn eval --music=out/generated --reference=notes.tfrecord                         # music statistics
 */
import { basename } from "node:path";
import { ExampleSet } from "../dataset/batches.js";
import { PolyrnnError, readError, UsageError } from "../errors.js";
import { evaluateDataset } from "../eval/dataset.js";
import { eventFrameNll, type FrameNllResult, frameNll, UNIFORM_FRAME_NLL } from "../eval/frames.js";
import { encodeIds, fromQuantizedSequence } from "../events/codec.js";
import { readInputFile, readTFRecordFile } from "../io/fs.js";
import { createKernels, KERNEL_KINDS, type KernelKind } from "../kernels/index.js";
import { LIMITS } from "../limits.js";
import { createPolyphonyModel } from "../model/lstm.js";
import { satbToQuantizedSequence } from "../pipeline/frames.js";
import { type FlagTable, formatHelp, parseArgs } from "./args.js";
import { runMusicEval } from "./eval_music.js";
import { describeModelSource, loadModelSource, type ModelSource } from "./model_source.js";
import { Progress } from "./progress.js";
import { expandGlob } from "./train_job.js";

export const EVAL_FLAGS = {
  bundle_file: {
    type: "string",
    help: "The model: a bundle (.safetensors), or one checkpoint file of polyrnn train.",
  },
  run_dir: { type: "string", help: "The model: the latest checkpoint in <run_dir>/train." },
  sequence_example_file: {
    type: "string",
    help: "TFRecord of SequenceExamples (e.g. eval_poly_tracks.tfrecord): report Magenta's eval metrics; a * or ? in the file name matches several files.",
  },
  frames: {
    type: "string",
    help: 'Benchmark JSON ({"train": [...], "valid": [...]}, sequences of frames of MIDI pitches): report the frame-level NLL of --split.',
  },
  split: { type: "string", default: "valid", help: "With --frames: the split to score." },
  music: {
    type: "string",
    help: "Music statistics (no model needed) of MIDI files: a folder (searched recursively) or a .mid file; commas separate several.",
  },
  reference: {
    type: "string",
    help: "With --music: the music to compare with, e.g. the training data: a folder of MIDI/MusicXML/ABC files or a NoteSequence .tfrecord from `polyrnn convert`; commas separate several.",
  },
  satb: {
    type: "bool",
    default: false,
    help: "With --frames: the file holds four-voice steps (jsb16_satb.json: S, A, T, B pitches, -1 = rest).",
  },
  batch_size: {
    type: "int",
    min: 0,
    default: 0,
    help: "Sequences per forward pass; 0 = the model's batch_size.",
  },
  dropout: {
    type: "bool",
    default: true,
    help: "With --sequence_example_file: output dropout on, as Magenta's eval (--nodropout scores the network as generation runs it). The frame NLL is always scored without dropout.",
  },
  num_eval_examples: {
    type: "int",
    min: 0,
    default: 0,
    help: "With --sequence_example_file: 0 evaluates every example once; N > 0 does Magenta's N // batch_size full batches.",
  },
  seed: { type: "int", default: 0, help: "Seed of the dropout masks." },
  kernels: { type: "string", default: "auto", help: `Kernels: ${KERNEL_KINDS.join(", ")}.` },
  threads: {
    type: "int",
    min: 0,
    default: 0,
    max: LIMITS.threads,
    help: "Threads for the WebAssembly kernels (0 = the cores not busy with other work).",
  },
  json: { type: "bool", default: false, help: "Print one JSON object on stdout instead of the table." },
} satisfies FlagTable;

export const EVAL_DESCRIPTION = `Reports a trained model's numbers on data.
With --sequence_example_file: Magenta's evaluation metrics (loss, metrics/perplexity, metrics/accuracy,
metrics/event_accuracy, metrics/no_event_accuracy, metrics/loss_per_step, metrics/perplexity_per_step,
metrics/per_class_accuracy), dropout on by default as in Magenta's eval.
With --music (and --reference): objective statistics of MIDI files beside reference music:
pitch-class histogram (and its total-variation distance to the reference's), share of notes in the
estimated key, polyphony, silent steps, note density and pitch; no model is needed.
With --frames: the frame-level negative log-likelihood of a benchmark split in nats per frame (micro
average over all frames; lower is better), with dropout off: each frame is scored as the model's
events for it (pitches high to low, then STEP_END); the END event is reported separately. Uniform random
scores 88·ln 2 = 61.00.`;

function fmt(x: number, digits = 4): string {
  return Number.isFinite(x) ? x.toFixed(digits) : String(x);
}

/** NaN and ±Infinity are not JSON: write them as null. */
function jsonNumber(x: number): number | null {
  return Number.isFinite(x) ? x : null;
}

function modelJson(src: ModelSource): Record<string, unknown> {
  return {
    path: src.path,
    kind: src.kind,
    step: src.step,
    rnn_layer_sizes: src.hparams.rnnLayerSizes,
    description: src.description,
  };
}

async function loadExampleFiles(pattern: string): Promise<{ set: ExampleSet; files: string[] }> {
  const files = await expandGlob(pattern);
  const sets: ExampleSet[] = [];
  for (const file of files) {
    try {
      sets.push(await ExampleSet.fromRecords(readTFRecordFile(file), file));
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code) throw readError(file, e);
      throw e;
    }
  }
  const skipped = sets.reduce((n, s) => n + s.report.skippedEmpty, 0);
  if (sets.every((s) => s.count === 0)) {
    throw new PolyrnnError(
      `${files.join(", ")}: no examples to evaluate (${skipped > 0 ? `${skipped} empty records` : "an empty file"}; make one with polyrnn dataset)`,
    );
  }
  if (sets.length === 1) return { set: sets[0], files };
  const all: { labels: number[]; inputs: number[] }[] = [];
  for (const s of sets) {
    for (let i = 0; i < s.count; i++) all.push({ labels: [...s.labels(i)], inputs: [...s.inputs(i)] });
  }
  return { set: ExampleSet.fromIds(all, files.join(", ")), files };
}

interface FrameSplit {
  name: string;
  sequences: unknown[];
}

async function loadFrameSplit(file: string, split: string): Promise<FrameSplit> {
  const text = (await readInputFile(file)).toString("utf8");
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (e) {
    throw new PolyrnnError(`${file}: not valid JSON (${(e as Error).message})`);
  }
  if (json === null || typeof json !== "object" || Array.isArray(json)) {
    throw new PolyrnnError(`${file}: not a benchmark file (expected a JSON object of splits)`);
  }
  const splits = Object.keys(json).filter((k) => Array.isArray((json as Record<string, unknown>)[k]));
  const list = (json as Record<string, unknown>)[split];
  if (!Array.isArray(list)) {
    throw new PolyrnnError(
      `${file}: no split "${split}"; its splits: ${splits.length > 0 ? splits.join(", ") : "none"}`,
    );
  }
  return { name: basename(file, ".json"), sequences: list };
}

function scoreFrames(
  model: Parameters<typeof frameNll>[0],
  data: FrameSplit,
  split: string,
  satb: boolean,
  batchSize: number,
  onBatch: (done: number, total: number) => void,
): FrameNllResult {
  const where = (i: number) => `${data.name}/${split}/${i}`;
  if (satb) {
    const ids = data.sequences.map((s, i) =>
      encodeIds(fromQuantizedSequence(satbToQuantizedSequence(s, where(i)))),
    );
    return eventFrameNll(model, ids, { batchSize, onBatch });
  }
  data.sequences.forEach((s, i) => {
    if (!Array.isArray(s)) throw new PolyrnnError(`${where(i)}: not a list of frames`);
  });
  try {
    return frameNll(model, data.sequences as number[][][], { batchSize, onBatch });
  } catch (e) {
    // encodeFrames names "sequence i": say which file and split it is in.
    if (e instanceof PolyrnnError) throw new PolyrnnError(`${data.name}/${split}: ${e.message}`);
    throw e;
  }
}

export async function runEval(argv: string[], usage: string): Promise<number> {
  const { flags, help, explicit } = parseArgs(argv, EVAL_FLAGS);
  if (help) {
    console.log(formatHelp(usage, EVAL_DESCRIPTION, EVAL_FLAGS));
    return 0;
  }
  if (flags.music !== undefined || flags.reference !== undefined) {
    return runMusicEval({ music: flags.music, reference: flags.reference, json: flags.json }, explicit);
  }
  const framesMode = flags.frames !== undefined;
  if (framesMode === (flags.sequence_example_file !== undefined)) {
    throw new UsageError("give exactly one of --sequence_example_file, --frames or --music");
  }
  if (!flags.bundle_file && !flags.run_dir) {
    throw new UsageError("no model given: pass --bundle_file=BUNDLE.safetensors or --run_dir=RUN_DIR");
  }
  if (flags.bundle_file && flags.run_dir)
    throw new UsageError("Cannot specify both --bundle_file and --run_dir");
  if (!framesMode) {
    for (const name of ["split", "satb"] as const) {
      if (explicit.has(name)) throw new UsageError(`--${name} goes with --frames`);
    }
  } else {
    for (const name of ["dropout", "num_eval_examples"] as const) {
      if (explicit.has(name)) {
        throw new UsageError(
          `--${name} goes with --sequence_example_file (the frame NLL is scored without dropout)`,
        );
      }
    }
  }
  if (!KERNEL_KINDS.includes(flags.kernels as KernelKind)) {
    throw new UsageError(`--kernels=${flags.kernels}: valid values are ${KERNEL_KINDS.join(", ")}`);
  }

  const src = await loadModelSource({ bundleFile: flags.bundle_file, runDir: flags.run_dir });
  // Read the data before starting the kernels: a bad file fails fast.
  const frameData = framesMode ? await loadFrameSplit(flags.frames as string, flags.split) : undefined;
  const exampleData = framesMode ? undefined : await loadExampleFiles(flags.sequence_example_file as string);
  const batchSize = flags.batch_size || src.hparams.batchSize;

  const kernels = await createKernels(flags.kernels as KernelKind, {
    threads: flags.threads || undefined,
    notice: (m) => console.error(m),
  });
  const model = createPolyphonyModel(kernels, src.hparams, { seed: 0 });
  let progress: Progress | undefined;
  const onBatch = (_done: number, total: number) => {
    progress ??= new Progress({ label: "Evaluating", total, unit: " batches" });
    progress.tick();
  };
  const t0 = performance.now();
  try {
    try {
      model.importWeights(src.weights);
    } catch (e) {
      throw new PolyrnnError(`${src.path}: ${(e as Error).message}`);
    }
    if (frameData) {
      const r = scoreFrames(model, frameData, flags.split, flags.satb, batchSize, onBatch);
      progress?.finish();
      printFrames(src, frameData.name, flags.split, flags.satb, r, kernels.name, flags.json, t0);
    } else if (exampleData) {
      const r = evaluateDataset(model, exampleData.set, {
        batchSize,
        dropout: flags.dropout,
        seed: flags.seed,
        step: src.step,
        numEvalExamples: flags.num_eval_examples,
        onBatch,
      });
      progress?.finish();
      const seconds = (performance.now() - t0) / 1000;
      if (flags.json) {
        console.log(
          JSON.stringify({
            model: modelJson(src),
            sequence_example_files: exampleData.files,
            examples: r.examples,
            batches: r.batches,
            batch_size: batchSize,
            tokens: r.tokens,
            dropout: r.dropout,
            seed: flags.seed,
            metrics: Object.fromEntries(Object.entries(r.metrics).map(([k, v]) => [k, jsonNumber(v)])),
            per_class_accuracy_present: jsonNumber(r.perClassAccuracyPresent),
            kernels: kernels.name,
            seconds,
          }),
        );
      } else {
        const lines = [
          `Model: ${describeModelSource(src)}`,
          `Data: ${exampleData.files.join(", ")}: ${r.examples} examples, ${r.tokens} events, ${r.batches} batches of ${batchSize}, dropout ${r.dropout ? `on (seed ${flags.seed})` : "off"}`,
        ];
        const width = Math.max(...Object.keys(r.metrics).map((k) => k.length));
        for (const [tag, v] of Object.entries(r.metrics)) lines.push(`  ${tag.padEnd(width)}  ${fmt(v)}`);
        lines.push(
          `  (mean accuracy over only the classes present: ${fmt(r.perClassAccuracyPresent)})`,
          `${seconds.toFixed(2)} s with the ${kernels.name} kernels.`,
        );
        console.log(lines.join("\n"));
      }
    }
    return 0;
  } finally {
    model.dispose();
    kernels.dispose();
  }
}

function printFrames(
  src: ModelSource,
  name: string,
  split: string,
  satb: boolean,
  r: FrameNllResult,
  kernels: string,
  json: boolean,
  t0: number,
): void {
  const seconds = (performance.now() - t0) / 1000;
  if (json) {
    console.log(
      JSON.stringify({
        model: modelJson(src),
        benchmark: name,
        split,
        satb,
        sequences: r.sequences,
        frames: r.frames,
        events: r.events,
        nll_per_frame: jsonNumber(r.nllPerFrame),
        nll_sum: r.nllSum,
        end_nll_sum: r.endNll.sum,
        end_nll_per_sequence: jsonNumber(r.endNll.perSequence),
        uniform_nll_per_frame: UNIFORM_FRAME_NLL,
        kernels,
        seconds,
      }),
    );
    return;
  }
  console.log(
    [
      `Model: ${describeModelSource(src)}`,
      `Frame NLL of ${name} ${split}${satb ? " (SATB steps)" : ""}: ${r.sequences} sequences, ${r.frames} frames, ${r.events} events, dropout off`,
      `  NLL per frame        ${fmt(r.nllPerFrame)} nats  (sum ${fmt(r.nllSum, 2)} over ${r.frames} frames)`,
      `  END, reported apart  ${fmt(r.endNll.perSequence)} nats per sequence  (sum ${fmt(r.endNll.sum, 2)})`,
      `  uniform random       ${fmt(UNIFORM_FRAME_NLL, 2)} nats per frame (88·ln 2), for reference`,
      `${seconds.toFixed(2)} s with the ${kernels} kernels.`,
    ].join("\n"),
  );
}
