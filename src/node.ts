/**
 * polyrnn for Node (`import … from "polyrnn/node"`): everything of the main entry, plus helpers that read
 * and write files. Errors name the file.
 *
 * ```ts
 * import { convertFiles, readInputFiles, loadBundleFile, writeMidiFile } from "polyrnn/node";
 * const { sequences } = convertFiles(await readInputFiles("midi/"), "midi");
 * ```
 *
 * @module polyrnn/node
 */
import { readFile } from "node:fs/promises";
import { basename, resolve } from "node:path";
import { PolyrnnError, readError } from "./errors.js";
import type { InputFile } from "./io/convert.js";
import { listInputDir, writeFileAtomic } from "./io/fs.js";
import { readMidi, writeMidi } from "./io/midi.js";
import { type Bundle, loadBundle } from "./model/bundle.js";
import type { NoteSequence } from "./notesequence.js";

export * from "./index.js";
export {
  type CheckpointFile,
  CheckpointManager,
  type CheckpointManagerOptions,
  loadCheckpoint,
  loadLatestCheckpoint,
} from "./io/checkpoint_files.js";
export { readTFRecordFile, TFRecordFileWriter, writeFileAtomic } from "./io/fs.js";
export { dropMetricsAfter, RunLogs } from "./io/run_logs.js";

async function read(path: string): Promise<Uint8Array> {
  try {
    return await readFile(path);
  } catch (e) {
    throw readError(path, e);
  }
}

function named<T>(path: string, f: () => T): T {
  try {
    return f();
  } catch (e) {
    if (e instanceof PolyrnnError) throw new PolyrnnError(`${path}: ${e.message}`);
    throw e;
  }
}

/** A bundle file, or a `polyrnn train` checkpoint file (`loadBundle` of its bytes). */
export async function loadBundleFile(path: string): Promise<Bundle> {
  const bytes = await read(path);
  return named(path, () => loadBundle(bytes));
}

/** A MIDI file as a NoteSequence (`readMidi` of its bytes, with the file's name as `filename`). */
export async function readMidiFile(path: string): Promise<NoteSequence> {
  const bytes = await read(path);
  const ns = named(path, () => readMidi(bytes));
  ns.filename = basename(path);
  return ns;
}

/** Writes a NoteSequence (or a Magenta.js NoteSequence) as a MIDI file, atomically. */
export async function writeMidiFile(path: string, ns: Parameters<typeof writeMidi>[0]): Promise<void> {
  await writeFileAtomic(path, writeMidi(ns));
}

/**
 * The MIDI, MusicXML and ABC files of a folder (and, with `recursive`, its sub-folders) as `convertFiles`
 * takes them: names relative to the folder, as `polyrnn convert` records them.
 */
export async function readInputFiles(dir: string, opts: { recursive?: boolean } = {}): Promise<InputFile[]> {
  const listing = await listInputDir(resolve(dir), opts.recursive ?? false).catch((e) => {
    throw readError(dir, e, "folder");
  });
  const out: InputFile[] = [];
  for (const f of listing.files) {
    if (f.kind) out.push({ name: f.filename, bytes: await read(f.path) });
  }
  return out;
}
