/**
 * The dataset job: a TFRecord of NoteSequences (or a benchmark JSON of frames) → training_poly_tracks.tfrecord
 * and eval_poly_tracks.tfrecord of SequenceExamples. The output folder is checked before any work starts;
 * both files appear complete, or not at all.
 */
import { stat } from "node:fs/promises";
import { basename, join } from "node:path";
import { encodeSequenceExample } from "../dataset/sequence_example.js";
import { PolyrnnError, ProtobufError, readError } from "../errors.js";
import { readInputFile, readTFRecordFile, removeStaleTemps, TFRecordFileWriter } from "../io/fs.js";
import { decodeNoteSequence } from "../io/notesequence_proto.js";
import type { NoteSequence } from "../notesequence.js";
import {
  addThinOpenings,
  addUnitStatistics,
  choosePartition,
  createUnitStatistics,
  type DatasetOptions,
  lostToTempoSplits,
  type Mode,
  type ProcessedSequence,
  processNoteSequence,
  processQuantized,
  trackToExample,
} from "../pipeline/dataset.js";
import type { Statistics } from "../pipeline/extract.js";
import { parseFrameBenchmark } from "../pipeline/frames.js";

export const OUTPUT_NAMES: Record<Mode, string> = {
  training: "training_poly_tracks.tfrecord",
  eval: "eval_poly_tracks.tfrecord",
};

export class DatasetInputError extends PolyrnnError {
  override name = "DatasetInputError";
}

export interface DatasetJobOptions extends DatasetOptions {
  outputDir: string;
  /** One-hot `inputs` in each SequenceExample as well as `labels` (what Magenta's trainer reads). */
  includeInputs: boolean;
  onStart?: (totalInputs: number) => void;
  onInput?: (processed: ProcessedSequence, ns: NoteSequence) => void;
  onSkip?: (message: string) => void;
}

export interface DatasetSummary {
  inputs: number;
  outputs: Record<Mode, number>;
  stats: Statistics;
  skippedRecords: string[];
  inputNotes: number;
  keptNotes: number;
  keptSteps: number;
  /** Files that lost most of their notes to tempo splitting (Magenta's default mode). */
  tempoLosses: { name: string; keptNotes: number; inputNotes: number; tempoSplits: number }[];
  seconds: number;
  /** Temporary files of an interrupted earlier run that were removed (paths). */
  removedTemps: string[];
}

async function openWriters(outputDir: string): Promise<Record<Mode, TFRecordFileWriter>> {
  const training = await TFRecordFileWriter.create(join(outputDir, OUTPUT_NAMES.training));
  try {
    return { training, eval: await TFRecordFileWriter.create(join(outputDir, OUTPUT_NAMES.eval)) };
  } catch (e) {
    await training.abort();
    throw e;
  }
}

function newSummary(): DatasetSummary {
  return {
    inputs: 0,
    outputs: { training: 0, eval: 0 },
    stats: {},
    skippedRecords: [],
    inputNotes: 0,
    keptNotes: 0,
    keptSteps: 0,
    tempoLosses: [],
    seconds: 0,
    removedTemps: [],
  };
}

async function runWithWriters(
  opts: DatasetJobOptions,
  body: (
    emit: (p: ProcessedSequence, ns: NoteSequence) => Promise<void>,
    summary: DatasetSummary,
  ) => Promise<void>,
): Promise<DatasetSummary> {
  const t0 = performance.now();
  const summary = newSummary();
  // A dataset run killed earlier left its temporary outputs behind: remove them (a live writer's are kept).
  const ours = new Set(Object.values(OUTPUT_NAMES));
  for (const name of await removeStaleTemps(opts.outputDir, (target) => ours.has(target)))
    summary.removedTemps.push(join(opts.outputDir, name));
  const writers = await openWriters(opts.outputDir);
  const emit = async (p: ProcessedSequence, ns: NoteSequence) => {
    summary.inputs++;
    summary.inputNotes += p.inputNotes;
    summary.keptNotes += p.keptNotes;
    summary.keptSteps += p.keptSteps;
    if (!opts.quantizeOnBeats && lostToTempoSplits(p)) {
      summary.tempoLosses.push({
        name: ns.filename || ns.id,
        keptNotes: p.keptNotes,
        inputNotes: p.inputNotes,
        tempoSplits: p.tempoSplits,
      });
    }
    for (const ids of p.tracks) {
      await writers[p.mode].write(encodeSequenceExample(trackToExample(ids, opts.includeInputs)));
      summary.outputs[p.mode]++;
    }
    opts.onInput?.(p, ns);
  };
  try {
    await body(emit, summary);
    await writers.training.commit();
    await writers.eval.commit();
  } catch (e) {
    await writers.training.abort();
    await writers.eval.abort();
    throw e;
  }
  summary.seconds = (performance.now() - t0) / 1000;
  return summary;
}

/** A decoded record is taken for a NoteSequence only if it has something a converter always writes. */
function looksLikeNoteSequence(ns: NoteSequence): boolean {
  return ns.notes.length > 0 || ns.tempos.length > 0 || ns.id !== "" || ns.ticksPerQuarter > 0;
}

export async function createDatasetFromNoteSequences(
  input: string,
  opts: DatasetJobOptions,
): Promise<DatasetSummary> {
  const st = await stat(input).catch((e: unknown) => {
    throw readError(input, e, "file", DatasetInputError);
  });
  if (!st.isFile())
    throw new DatasetInputError(`cannot read ${input}: ${st.isDirectory() ? "is a folder" : "not a file"}`);
  // First pass: check the framing of the whole file before writing anything, and count for progress.
  let total = 0;
  for await (const _ of readTFRecordFile(input)) total++;
  if (total === 0) throw new DatasetInputError(`${input}: holds no records (an empty TFRecord file)`);

  return runWithWriters(opts, async (emit, summary) => {
    opts.onStart?.(total);
    let index = 0;
    let decoded = 0;
    for await (const record of readTFRecordFile(input)) {
      const i = index++;
      let ns: NoteSequence;
      try {
        ns = decodeNoteSequence(record);
        if (!looksLikeNoteSequence(ns)) throw new ProtobufError("no notes, tempos, ticks_per_quarter or id");
      } catch (e) {
        if (!(e instanceof ProtobufError)) throw e;
        const msg = `${input}: record ${i} is not a NoteSequence (${e.message})`;
        summary.skippedRecords.push(msg);
        opts.onSkip?.(msg);
        continue;
      }
      decoded++;
      const mode = choosePartition(ns, opts.evalRatio, opts.seed);
      await emit(processNoteSequence(ns, mode, opts, summary.stats), ns);
    }
    if (decoded === 0) {
      throw new DatasetInputError(
        `${input}: none of its ${total} records is a NoteSequence (${summary.skippedRecords[0]})`,
      );
    }
  });
}

/** Benchmark piano rolls: the "train" split → training file, "valid" → eval file; no re-quantization. */
export async function createDatasetFromFrames(
  file: string,
  satb: boolean,
  opts: DatasetJobOptions,
): Promise<DatasetSummary> {
  const text = (await readInputFile(file)).toString("utf8");
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (e) {
    const err = e as NodeJS.ErrnoException;
    throw new DatasetInputError(
      `${file}: ${err.code === "ENOENT" ? "no such file" : `not valid JSON (${err.message})`}`,
    );
  }
  const splits = parseFrameBenchmark(json, basename(file, ".json"), satb);
  return runWithWriters(opts, async (emit, summary) => {
    opts.onStart?.(splits.train.length + splits.valid.length);
    for (const [mode, seqs] of [
      ["training", splits.train],
      ["eval", splits.valid],
    ] as const) {
      for (const q of seqs) {
        const p: ProcessedSequence = {
          mode,
          tracks: [],
          inputNotes: q.notes.length,
          keptNotes: 0,
          keptSteps: 0,
          tempoSplits: 0,
          warnings: [],
        };
        // The valid split is scored as it is: no transposition.
        const unit = createUnitStatistics();
        processQuantized(q, mode === "eval" ? { ...opts, transposeRange: [0] } : opts, unit, p);
        addThinOpenings(p, q.id, opts, summary.stats);
        addUnitStatistics(summary.stats, mode, unit);
        await emit(p, q);
      }
    }
  });
}
