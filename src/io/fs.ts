/**
 * Everything that touches the file system for reading and writing data files. Writes are atomic:
 * data goes to a temporary name in the same folder and is renamed into place when complete, so a
 * reader never sees half a file and a killed job never leaves one behind.
 */
import { createReadStream } from "node:fs";
import { mkdir, open, readdir, rename, rm, stat, writeFile } from "node:fs/promises";
import { basename, dirname, join, relative } from "node:path";
import { TFRecordError } from "../errors.js";
import { type ConvertibleKind, kindOfFileName } from "./convert_core.js";
import { frameRecord, readTFRecordStream } from "./tfrecord.js";

function tempName(path: string): string {
  return join(
    dirname(path),
    `.${basename(path)}.tmp-${process.pid}-${Math.random().toString(36).slice(2, 8)}`,
  );
}

/** Writes a file atomically: to a temporary name in the same folder, then renamed into place. */
export async function writeFileAtomic(path: string, data: Uint8Array | string): Promise<void> {
  await mkdir(dirname(path), { recursive: true });
  const tmp = tempName(path);
  try {
    await writeFile(tmp, data);
    await rename(tmp, path);
  } catch (e) {
    await rm(tmp, { force: true });
    throw e;
  }
}

/** Appends TFRecords to a temporary file; `commit()` renames it into place, `abort()` removes it. */
export class TFRecordFileWriter {
  private constructor(
    readonly path: string,
    private readonly tmp: string,
    private readonly handle: Awaited<ReturnType<typeof open>>,
  ) {}

  count = 0;
  bytes = 0;

  /** Creates the parent folders and the temporary file, so an unwritable path fails before any work. */
  static async create(path: string): Promise<TFRecordFileWriter> {
    await mkdir(dirname(path), { recursive: true });
    const tmp = tempName(path);
    const handle = await open(tmp, "w");
    return new TFRecordFileWriter(path, tmp, handle);
  }

  /** Records are gathered into chunks of about 1 MiB, so a file of small records is not one syscall each. */
  private pending: Uint8Array[] = [];
  private pendingBytes = 0;

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

  async commit(): Promise<void> {
    await this.flush();
    await this.handle.sync();
    await this.handle.close();
    await rename(this.tmp, this.path);
  }

  async abort(): Promise<void> {
    await this.handle.close().catch(() => {});
    await rm(this.tmp, { force: true });
  }
}

/** Streams the records of a TFRecord file; errors name the file. */
export async function* readTFRecordFile(path: string): AsyncGenerator<Uint8Array> {
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
}

/**
 * Lists a folder as Magenta's convert_dir_to_note_sequences walks it: the files of a folder first,
 * then its sub-folders (breadth first) when recursive. Names are sorted so runs are reproducible
 * (Magenta uses the OS order).
 */
export async function listInputDir(inputDir: string, recursive: boolean): Promise<Listing> {
  const files: ListedFile[] = [];
  const skippedDirs: string[] = [];
  const queue = [inputDir];
  while (queue.length > 0) {
    const dir = queue.shift() as string;
    const entries = (await readdir(dir, { withFileTypes: true })).sort((a, b) =>
      a.name < b.name ? -1 : a.name > b.name ? 1 : 0,
    );
    for (const entry of entries) {
      const full = join(dir, entry.name);
      let isDir = entry.isDirectory();
      let size = 0;
      if (entry.isSymbolicLink() || !isDir) {
        const st = await stat(full).catch(() => undefined);
        if (!st) continue;
        isDir = st.isDirectory();
        size = st.size;
      }
      if (isDir) {
        if (recursive) queue.push(full);
        else skippedDirs.push(full);
        continue;
      }
      const filename = relative(inputDir, full).split("\\").join("/");
      files.push({ path: full, filename, kind: sourceKindOf(full), size });
    }
  }
  return { files, skippedDirs };
}
