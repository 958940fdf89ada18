/**
 * Everything that touches the file system for reading and writing data files. Writes are atomic:
 * data goes to a temporary name in the same folder and is renamed into place when complete, so a
 * reader never sees half a file and a killed job never leaves one behind.
 */
import { createReadStream } from "node:fs";
import {
  mkdir,
  open,
  readdir,
  readFile,
  readlink,
  realpath,
  rename,
  rm,
  stat,
  writeFile,
} from "node:fs/promises";
import { basename, dirname, join, relative } from "node:path";
import { PolyrnnError, readError, TFRecordError, writeError } from "../errors.js";
import { checkLimit, LIMITS } from "../limits.js";
import { type ConvertibleKind, kindOfFileName } from "./convert_core.js";
import { frameRecord, readTFRecordStream } from "./tfrecord.js";

function tempName(path: string): string {
  return join(
    dirname(path),
    `.${basename(path)}.tmp-${process.pid}-${Math.random().toString(36).slice(2, 8)}`,
  );
}

/** Only regular files are read: a folder, a FIFO or a device (/dev/zero) is one line naming the path. */
function checkRegularFile(path: string, info: Awaited<ReturnType<typeof stat>>): void {
  if (info.isDirectory()) throw new PolyrnnError(`cannot read ${path}: is a folder`);
  if (!info.isFile()) throw new PolyrnnError(`cannot read ${path}: not a regular file (a pipe or device)`);
}

/**
 * Reads a whole input file that must be a regular file of at most `limit` bytes (limits.ts): a FIFO or a
 * device (/dev/zero) would block or never end, a huge file would only exhaust memory. Failures are one
 * line naming the file.
 */
export async function readInputFile(path: string, limit = LIMITS.inputFileBytes): Promise<Buffer> {
  let info: Awaited<ReturnType<typeof stat>>;
  try {
    info = await stat(path);
  } catch (e) {
    throw readError(path, e);
  }
  checkRegularFile(path, info);
  checkLimit(`${path}: its size in bytes`, info.size, limit);
  try {
    return await readFile(path);
  } catch (e) {
    throw readError(path, e);
  }
}

/** `.<name>.tmp-<pid>-<random>`: tempName's names; group 1 is the target's name, group 2 the writer's pid. */
const TEMP_RE = /^\.(.+)\.tmp-(\d+)-[a-z0-9]+$/;

/**
 * Creates `dir` and its parents; a failure is one line (errors.ts writeError) naming `forPath`: the file
 * to be written there, or the folder itself.
 */
export async function makeDir(dir: string, forPath = dir): Promise<void> {
  await mkdir(dir, { recursive: true }).catch((e) => {
    throw writeError(forPath, e, forPath === dir ? "create" : "write");
  });
}

/** Writes `path` under a temporary name and renames it into place; a failure names the path. */
export async function writeFileAtomic(path: string, data: Uint8Array | string): Promise<void> {
  await makeDir(dirname(path), path);
  const tmp = tempName(path);
  try {
    await writeFile(tmp, data);
    await rename(tmp, path);
  } catch (e) {
    await rm(tmp, { force: true }).catch(() => {}); // (a name too long was never created)
    throw writeError(path, e);
  }
}

function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === "EPERM";
  }
}

/**
 * Removes the temporary files that a killed writer left in `dir` (tempName's names, whose process is
 * gone), for the targets `wanted` accepts (by the target's file name). Returns the names removed.
 */
export async function removeStaleTemps(
  dir: string,
  wanted: (target: string) => boolean = () => true,
): Promise<string[]> {
  let names: string[];
  try {
    names = await readdir(dir);
  } catch {
    return [];
  }
  const removed: string[] = [];
  for (const name of names) {
    const m = TEMP_RE.exec(name);
    if (!m || !wanted(m[1])) continue;
    const pid = Number(m[2]);
    if (pid !== process.pid && processAlive(pid)) continue;
    await rm(join(dir, name), { force: true });
    removed.push(name);
  }
  return removed;
}

/** Appends TFRecords to a temporary file; `commit()` renames it into place, `abort()` removes it. */
export class TFRecordFileWriter {
  private constructor(
    /** The file it writes (the temporary file is beside it). */
    readonly path: string,
    private readonly tmp: string,
    private readonly handle: Awaited<ReturnType<typeof open>>,
  ) {}

  /** Records written so far. */
  count = 0;
  /** Bytes written so far, framing included. */
  bytes = 0;

  /** Creates the parent folders and the temporary file, so an unwritable path fails before any work. */
  static async create(path: string): Promise<TFRecordFileWriter> {
    await makeDir(dirname(path), path);
    const tmp = tempName(path);
    const handle = await open(tmp, "w").catch((e) => {
      throw writeError(path, e);
    });
    return new TFRecordFileWriter(path, tmp, handle);
  }

  /** Records are gathered into chunks of about 1 MiB, so a file of small records is not one syscall each. */
  private pending: Uint8Array[] = [];
  private pendingBytes = 0;

  /** Appends one record (framed here: length, CRCs). */
  async write(record: Uint8Array): Promise<void> {
    await this.writeFramed(frameRecord(record));
  }

  /** A record already framed with `frameRecord` (so that worker threads can do the CRC work). */
  async writeFramed(framed: Uint8Array): Promise<void> {
    this.pending.push(framed);
    this.pendingBytes += framed.length;
    this.count++;
    this.bytes += framed.length;
    if (this.pendingBytes >= 1 << 20) await this.flush();
  }

  private async flush(): Promise<void> {
    if (this.pending.length === 0) return;
    const chunks = this.pending;
    this.pending = [];
    this.pendingBytes = 0;
    await this.handle.writev(chunks);
  }

  /** Writes what is pending, syncs and closes the file, and renames it to `path`. */
  async commit(): Promise<void> {
    await this.flush();
    await this.handle.sync();
    await this.handle.close();
    await rename(this.tmp, this.path);
  }

  /** Closes and removes the temporary file; `path` is left as it was. */
  async abort(): Promise<void> {
    await this.handle.close().catch(() => {});
    await rm(this.tmp, { force: true }).catch(() => {});
  }
}

/** Streams the records of a TFRecord file; errors name the file. Only a regular file is read (not a FIFO). */
export async function* readTFRecordFile(path: string): AsyncGenerator<Uint8Array> {
  const info = await stat(path).catch(() => undefined); // a missing file: the stream says so below
  if (info) checkRegularFile(path, info);
  try {
    yield* readTFRecordStream(createReadStream(path, { highWaterMark: 1 << 20 }));
  } catch (e) {
    if (e instanceof TFRecordError) throw new TFRecordError(`${path}: ${e.message}`);
    throw e;
  }
}

export type SourceKind = ConvertibleKind;

export function sourceKindOf(path: string): SourceKind | undefined {
  return kindOfFileName(path);
}

export interface ListedFile {
  path: string;
  /** Path relative to the input folder, with "/" separators: Magenta's `filename`. */
  filename: string;
  kind: SourceKind | undefined;
  size: number;
}

export interface Listing {
  files: ListedFile[];
  /** Sub-folders that were not entered because the listing is not recursive. */
  skippedDirs: string[];
  /** Entries that are neither a regular file nor a folder to enter, each with why (one line). */
  skipped: { path: string; reason: string }[];
}

/**
 * Lists a folder as Magenta's convert_dir_to_note_sequences walks it: the files of a folder first,
 * then its sub-folders (breadth first) when recursive. Names are sorted so runs are reproducible
 * (Magenta uses the OS order). Only regular files are listed (a FIFO named x.mid would block a read for
 * ever); a folder reached twice through symbolic links is entered once, and a broken link is reported.
 */
export async function listInputDir(inputDir: string, recursive: boolean): Promise<Listing> {
  const files: ListedFile[] = [];
  const skippedDirs: string[] = [];
  const skipped: { path: string; reason: string }[] = [];
  const entered = new Set<string>([await realpath(inputDir).catch(() => inputDir)]);
  const queue = [inputDir];
  while (queue.length > 0) {
    const dir = queue.shift() as string;
    const entries = (await readdir(dir, { withFileTypes: true })).sort((a, b) =>
      a.name < b.name ? -1 : a.name > b.name ? 1 : 0,
    );
    for (const entry of entries) {
      const full = join(dir, entry.name);
      const st = await stat(full).catch((e: NodeJS.ErrnoException) => e);
      if (st instanceof Error) {
        const target = entry.isSymbolicLink() ? await readlink(full).catch(() => "?") : undefined;
        skipped.push({
          path: full,
          reason:
            target !== undefined && st.code === "ENOENT"
              ? `broken symbolic link (to ${target})`
              : st.code === "ELOOP"
                ? "symbolic link loop"
                : `cannot read: ${st.code ?? st.message}`,
        });
        continue;
      }
      if (st.isDirectory()) {
        if (!recursive) {
          skippedDirs.push(full);
          continue;
        }
        const real = await realpath(full).catch(() => full);
        if (entered.has(real)) {
          skipped.push({ path: full, reason: `folder already listed (a symbolic link to ${real})` });
          continue;
        }
        entered.add(real);
        queue.push(full);
        continue;
      }
      if (!st.isFile()) {
        skipped.push({ path: full, reason: "not a regular file (a pipe, socket or device)" });
        continue;
      }
      const filename = relative(inputDir, full).split("\\").join("/");
      files.push({ path: full, filename, kind: sourceKindOf(full), size: st.size });
    }
  }
  return { files, skippedDirs, skipped };
}
