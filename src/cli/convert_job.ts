/**
 * The convert job: a folder of music files → one TFRecord of NoteSequences. Files are parsed on all
 * cores (worker_threads); records are written in listing order so the output is reproducible. A file
 * that fails is reported and skipped; the output appears (atomically) only when the job completes.
 */
import { readFile } from "node:fs/promises";
import { availableParallelism } from "node:os";
import { basename, dirname, resolve } from "node:path";
import { Worker } from "node:worker_threads";
import { describeError } from "../errors.js";
import { type ConvertibleKind, convertFileBytes } from "../io/convert.js";
import { type ListedFile, listInputDir, removeStaleTemps, TFRecordFileWriter } from "../io/fs.js";
import { encodeNoteSequence } from "../io/notesequence_proto.js";
import { frameRecord } from "../io/tfrecord.js";
import { LIMITS } from "../limits.js";

/** Larger inputs are refused unread: no real score is this big, and reading one would only waste memory. */
export const MAX_INPUT_BYTES = LIMITS.inputFileBytes;

export interface ConvertTask {
  index: number;
  path: string;
  filename: string;
  kind: ConvertibleKind;
  collectionName: string;
}

export type ConvertResult =
  /**
   * `records` are TFRecord-framed NoteSequence protos; `warnings` name the parts of the file that were
   * skipped while the rest converted (ABC tunes), one line each, prefixed with the file's path.
   */
  | { index: number; ok: true; records: Uint8Array[]; notes: number; warnings: string[] }
  | { index: number; ok: false; error: string };

/** Converts one file's bytes (or the error reading them); never throws. */
function convertLoaded(task: ConvertTask, loaded: Uint8Array | Error): ConvertResult {
  try {
    if (loaded instanceof Error) throw loaded;
    const { sequences, warnings } = convertFileBytes(loaded, task.kind, task.filename, task.collectionName);
    return {
      index: task.index,
      ok: true,
      records: sequences.map((ns) => frameRecord(encodeNoteSequence(ns))),
      notes: sequences.reduce((n, s) => n + s.notes.length, 0),
      warnings: warnings.map((w) => describeError(task.path, w)),
    };
  } catch (e) {
    return { index: task.index, ok: false, error: describeError(task.path, e) };
  }
}

function load(path: string): Promise<Uint8Array | Error> {
  return readFile(path).then(
    (bytes) => bytes,
    (e: unknown) => (e instanceof Error ? e : new Error(String(e))),
  );
}

/** Converts one file; never throws (a failure is a result). Runs in a worker or in-process. */
export async function convertTask(task: ConvertTask): Promise<ConvertResult> {
  return convertLoaded(task, await load(task.path));
}

/** Converts in this thread, reading the next file while the current one is parsed. */
async function runSequential(
  tasks: ConvertTask[],
  accept: (r: ConvertResult) => Promise<void>,
): Promise<void> {
  let next = load(tasks[0].path);
  for (let i = 0; i < tasks.length; i++) {
    const loaded = await next;
    if (i + 1 < tasks.length) next = load(tasks[i + 1].path);
    await accept(convertLoaded(tasks[i], loaded));
  }
}

export interface ConvertOptions {
  inputDir: string;
  outputFile: string;
  recursive: boolean;
  /** Worker threads; 1 converts in this thread. Default: all cores. */
  jobs?: number;
  /** Called for each file as it completes, in completion order. */
  onFile?: (file: ListedFile, result: ConvertResult) => void;
  /** Called once the listing is known. */
  onStart?: (files: ListedFile[]) => void;
}

export interface ConvertSummary {
  converted: number;
  sequences: number;
  notes: number;
  /**
   * Files that could not be converted, with one line each saying why; also the parts of converted
   * files that were skipped (an ABC tune that cannot be read: its line names the file and the tune).
   */
  failed: { path: string; reason: string }[];
  /** Files with no converter (wrong extension, too large) and folders not entered. */
  ignored: { path: string; reason: string }[];
  inputBytes: number;
  outputBytes: number;
  seconds: number;
  /** Temporary files of an interrupted earlier run that were removed. */
  removedTemps?: string[];
}

export class NothingToConvertError extends Error {}

export async function convertDirectory(opts: ConvertOptions): Promise<ConvertSummary> {
  const t0 = performance.now();
  const inputDir = resolve(opts.inputDir);
  // Magenta uses basename(input_dir), which is "" for a path ending in "/"; we strip the slash.
  const collectionName = basename(inputDir);
  const listing = await listInputDir(inputDir, opts.recursive);
  const summary: ConvertSummary = {
    converted: 0,
    sequences: 0,
    notes: 0,
    failed: [],
    ignored: [
      ...listing.skippedDirs.map((p) => ({
        path: p,
        reason: "folder (use --recursive to convert folders)",
      })),
      ...listing.skipped,
    ],
    inputBytes: 0,
    outputBytes: 0,
    seconds: 0,
  };
  const tasks: ConvertTask[] = [];
  const files: ListedFile[] = [];
  for (const f of listing.files) {
    if (f.kind === undefined) {
      summary.ignored.push({ path: f.path, reason: "no converter for this file type" });
    } else if (f.size > MAX_INPUT_BYTES) {
      summary.failed.push({
        path: f.path,
        reason: `${f.size} bytes is larger than the ${MAX_INPUT_BYTES} limit`,
      });
    } else {
      tasks.push({ index: tasks.length, path: f.path, filename: f.filename, kind: f.kind, collectionName });
      files.push(f);
      summary.inputBytes += f.size;
    }
  }
  if (tasks.length === 0) {
    throw new NothingToConvertError(
      `no MIDI files (.mid, .midi) found in ${opts.inputDir}, nor MusicXML (.xml, .mxl, .musicxml) or ABC (.abc) files` +
        (opts.recursive ? "" : " (add --recursive to search sub-folders)"),
    );
  }
  opts.onStart?.(files);

  const output = resolve(opts.outputFile);
  // A convert killed earlier left its temporary output behind: remove it (a live writer's is kept).
  const stale = await removeStaleTemps(dirname(output), (target) => target === basename(output));
  summary.removedTemps = stale.map((name) => resolve(dirname(output), name));
  const writer = await TFRecordFileWriter.create(output);
  try {
    const pending = new Map<number, ConvertResult>();
    let nextToWrite = 0;
    const accept = async (result: ConvertResult) => {
      opts.onFile?.(files[result.index], result);
      pending.set(result.index, result);
      for (let r = pending.get(nextToWrite); r; r = pending.get(nextToWrite)) {
        pending.delete(nextToWrite);
        nextToWrite++;
        if (r.ok) {
          for (const rec of r.records) await writer.writeFramed(rec);
          summary.converted++;
          summary.sequences += r.records.length;
          summary.notes += r.notes;
          for (const w of r.warnings) summary.failed.push({ path: tasks[r.index].path, reason: w });
        } else {
          summary.failed.push({ path: tasks[r.index].path, reason: r.error });
        }
      }
    };
    const jobs = Math.max(1, Math.min(opts.jobs ?? availableParallelism(), tasks.length));
    if (jobs === 1) {
      await runSequential(tasks, accept);
    } else {
      await runPool(tasks, jobs, accept);
    }
    if (summary.converted === 0) {
      await writer.abort();
    } else {
      await writer.commit();
      summary.outputBytes = writer.bytes;
    }
  } catch (e) {
    await writer.abort();
    throw e;
  }
  summary.seconds = (performance.now() - t0) / 1000;
  return summary;
}

/**
 * Runs tasks on `jobs` workers, at most two in flight per worker so results never pile up in memory.
 * A worker that dies (out of memory on a hostile file) fails its task and is replaced.
 */
async function runPool(
  tasks: ConvertTask[],
  jobs: number,
  accept: (r: ConvertResult) => Promise<void>,
): Promise<void> {
  const workerUrl = new URL("./convert_worker.js", import.meta.url);
  let next = 0;
  let chain = Promise.resolve();
  await new Promise<void>((done, fail) => {
    let running = 0;
    const start = () => {
      const worker = new Worker(workerUrl, { resourceLimits: { maxOldGenerationSizeMb: 2048 } });
      running++;
      const inFlight: ConvertTask[] = [];
      const feed = () => {
        while (inFlight.length < 2 && next < tasks.length) {
          const task = tasks[next++];
          inFlight.push(task);
          worker.postMessage(task);
        }
        if (inFlight.length === 0) {
          worker.terminate();
        }
      };
      worker.on("message", (result: ConvertResult) => {
        inFlight.splice(
          inFlight.findIndex((t) => t.index === result.index),
          1,
        );
        chain = chain.then(() => accept(result)).catch(fail);
        feed();
      });
      worker.on("error", (err) => {
        // The worker is gone: fail what it held and carry on with a fresh one.
        for (const task of inFlight.splice(0)) {
          chain = chain
            .then(() => accept({ index: task.index, ok: false, error: describeError(task.path, err) }))
            .catch(fail);
        }
      });
      worker.on("exit", () => {
        running--;
        if (inFlight.length > 0) {
          for (const task of inFlight.splice(0)) {
            const error = describeError(task.path, "the converter stopped unexpectedly (out of memory?)");
            chain = chain.then(() => accept({ index: task.index, ok: false, error })).catch(fail);
          }
        }
        if (next < tasks.length) start();
        else if (running === 0) chain.then(done, fail);
      });
      feed();
    };
    for (let i = 0; i < jobs; i++) start();
  });
}
