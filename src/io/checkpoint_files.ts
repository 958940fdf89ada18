/**
 * Training checkpoint files: one safetensors file per checkpoint (src/train/checkpoint_format.ts),
 * `<run_dir>/train/model.ckpt-<step>.safetensors`.
 *
 * Files are written under a temporary name and renamed into place, so a killed run leaves complete
 * checkpoints only. Retention is TensorFlow's Saver: keep the newest `num_checkpoints` (0 keeps all),
 * and in addition preserve one checkpoint per `keepEveryHours` (Magenta: 1 hour) for good.
 */
import { readFileSync } from "node:fs";
import { open, readdir, rm } from "node:fs/promises";
import { join } from "node:path";
import { PolyrnnError, readError } from "../errors.js";
import { LIMITS } from "../limits.js";
import type { NamedTensor } from "../model/api.js";
import { dequantized } from "../model/bundle.js";
import type { HParams } from "../model/hparams.js";
import { checkedTensors, recordedHParams } from "../model/model_file.js";
import {
  type Checkpoint,
  CheckpointError,
  decodeCheckpoint,
  encodeCheckpoint,
  META,
  type SaveInput,
} from "../train/checkpoint_format.js";
import { readInputFile, removeStaleTemps, writeFileAtomic } from "./fs.js";
import { decodeSafetensors } from "./safetensors.js";

/** A checkpoint read from its file. */
export interface CheckpointFile extends Checkpoint {
  /** The file it was read from, as the caller named it. */
  path: string;
}

const CHECKPOINT_RE = /^model\.ckpt-(\d+)\.safetensors$/;

export function polyrnnVersion(): string {
  try {
    const pkg = JSON.parse(readFileSync(new URL("../../package.json", import.meta.url), "utf8"));
    return String(pkg.version);
  } catch {
    return "unknown";
  }
}

export function checkpointPath(trainDir: string, step: number): string {
  return join(trainDir, `model.ckpt-${step}.safetensors`);
}

export interface CheckpointRef {
  step: number;
  path: string;
}

/** Checkpoints in `trainDir`, oldest step first; an absent folder has none. */
export async function listCheckpoints(trainDir: string): Promise<CheckpointRef[]> {
  let names: string[];
  try {
    names = await readdir(trainDir);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === "ENOENT") return [];
    throw e;
  }
  const refs: CheckpointRef[] = [];
  for (const name of names) {
    const m = CHECKPOINT_RE.exec(name);
    if (m) refs.push({ step: Number(m[1]), path: join(trainDir, name) });
  }
  return refs.sort((a, b) => a.step - b.step);
}

export async function latestCheckpoint(trainDir: string): Promise<CheckpointRef | undefined> {
  return (await listCheckpoints(trainDir)).at(-1);
}

function fileError(path: string, e: unknown): never {
  if (e instanceof PolyrnnError)
    throw new CheckpointError(e.message.includes(path) ? e.message : `${path}: ${e.message}`);
  if ((e as NodeJS.ErrnoException).code) throw readError(path, e, "file", CheckpointError);
  throw e;
}

/** Reads and checks a checkpoint; every error names the file. */
export async function loadCheckpoint(path: string): Promise<CheckpointFile> {
  let bytes: Uint8Array;
  try {
    bytes = await readInputFile(path, LIMITS.modelFileBytes);
  } catch (e) {
    fileError(path, e);
  }
  try {
    return { ...decodeCheckpoint(bytes), path };
  } catch (e) {
    fileError(path, e);
  }
}

/**
 * The newest checkpoint of `trainDir` that loads, or undefined when there is none. A newer one that does
 * not load (cut short, corrupt) is passed over, kept on disk for a look, and reported through `warn`;
 * when none loads, the newest one's error is thrown.
 */
export async function loadLatestCheckpoint(
  trainDir: string,
  warn: (message: string) => void,
): Promise<CheckpointFile | undefined> {
  const refs = await listCheckpoints(trainDir);
  const bad: CheckpointError[] = [];
  for (const ref of refs.reverse()) {
    try {
      const ckpt = await loadCheckpoint(ref.path);
      for (const e of bad) warn(`warning: ${e.message}; using ${ckpt.path} instead`);
      return ckpt;
    } catch (e) {
      if (!(e instanceof CheckpointError)) throw e;
      bad.push(e);
    }
  }
  if (bad.length > 0) throw bad[0];
  return undefined;
}

/**
 * The weights of a checkpoint or bundle (a safetensors file with Magenta's tensor names), for a warm
 * start: optimizer tensors are dropped. `hparams` are the file's when it records them.
 */
export async function loadWeightsForWarmStart(
  path: string,
): Promise<{ weights: NamedTensor[]; hparams?: HParams }> {
  let bytes: Uint8Array;
  try {
    bytes = await readInputFile(path, LIMITS.modelFileBytes);
  } catch (e) {
    fileError(path, e);
  }
  try {
    const decoded = decodeSafetensors(bytes);
    // An int8 bundle (the shipped Bach model) is read as float32, as loadBundle reads it.
    decoded.tensors = dequantized(decoded.tensors);
    const hparams = recordedHParams(decoded.metadata, CheckpointError, "its hparams: ");
    const { weights } = checkedTensors(decoded, hparams, CheckpointError);
    return hparams ? { weights, hparams } : { weights };
  } catch (e) {
    fileError(path, e);
  }
}

/** Retention of a `CheckpointManager`. */
export interface CheckpointManagerOptions {
  /** Keep this many newest checkpoints; 0 keeps all (Magenta's --num_checkpoints, default 10). */
  keep: number;
  /** Preserve one checkpoint per this many hours for good (TensorFlow Saver, Magenta: 1); 0: never. */
  keepEveryHours?: number;
  /** Seconds since the epoch (tests). */
  clock?: () => number;
}

/** Writes checkpoints into one folder and prunes old ones, as TensorFlow's Saver does. */
export class CheckpointManager {
  private nextPreserveTime: number;
  private readonly clock: () => number;

  constructor(
    /** The folder the checkpoints go into (`<run_dir>/train` for `polyrnn train`), created when need be. */
    readonly trainDir: string,
    private readonly opts: CheckpointManagerOptions,
  ) {
    this.clock = opts.clock ?? (() => Date.now() / 1000);
    const hours = opts.keepEveryHours ?? 1;
    this.nextPreserveTime = hours > 0 ? this.clock() + hours * 3600 : Number.POSITIVE_INFINITY;
  }

  /** Removes temporary files left by a killed writer (whose process is gone). Returns their names. */
  removeStaleTemps(): Promise<string[]> {
    return removeStaleTemps(this.trainDir, (target) => CHECKPOINT_RE.test(target));
  }

  /** Writes the checkpoint of `input.step` (atomically) and prunes; returns its path. */
  async save(input: SaveInput): Promise<string> {
    const now = this.clock();
    const preserved = now >= this.nextPreserveTime;
    if (preserved) this.nextPreserveTime = now + (this.opts.keepEveryHours ?? 1) * 3600;
    const bytes = encodeCheckpoint(input, {
      created: new Date(now * 1000),
      version: polyrnnVersion(),
      preserved,
    });
    const path = checkpointPath(this.trainDir, input.step);
    await writeFileAtomic(path, bytes);
    await this.prune();
    return path;
  }

  private async prune(): Promise<void> {
    if (this.opts.keep <= 0) return;
    const all = await listCheckpoints(this.trainDir);
    for (const ref of all.slice(0, Math.max(0, all.length - this.opts.keep))) {
      if (await isPreserved(ref.path)) continue;
      await rm(ref.path, { force: true });
    }
  }
}

/** Reads only the header of a checkpoint to see whether it is preserved for good. */
async function isPreserved(path: string): Promise<boolean> {
  try {
    const handle = await open(path, "r");
    try {
      const size = (await handle.stat()).size;
      const head = Buffer.alloc(8);
      await handle.read(head, 0, 8, 0);
      const n = Number(head.readBigUInt64LE(0));
      if (n > size - 8) return false;
      const buf = Buffer.alloc(8 + n);
      await handle.read(buf, 0, 8 + n, 0);
      // The header alone (no data): parse it leniently for the flag.
      const json = JSON.parse(buf.subarray(8).toString("utf8"));
      return json?.__metadata__?.[META.preserved] === "true";
    } finally {
      await handle.close();
    }
  } catch {
    return false;
  }
}
