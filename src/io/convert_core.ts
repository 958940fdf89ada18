/**
 * Input files' bytes → NoteSequences, without the MusicXML reader (whose XML parser a page served as
 * plain modules cannot import): src/io/convert.ts adds it.
 *
 * One input file's bytes → NoteSequences with Magenta's metadata (convert_dir_to_note_sequences):
 * collection_name = the input folder's name, filename = the path relative to it,
 * id = `/id/<kind>/<collection_name>/<sha1 hex of filename>`; for ABC, one sequence per tune and the
 * sha1 of `<filename>_<X: reference number>`.
 */
import { PolyrnnError } from "../errors.js";
import type { NoteSequence } from "../notesequence.js";
import { AbcError, readAbcTunebook } from "./abc.js";
import { readMidi } from "./midi.js";
import { sha1Hex } from "./sha1.js";

/** The kinds of input file. */
export type ConvertibleKind = "midi" | "musicxml" | "abc";

/** Reads MusicXML (`readMusicXml`); passed in so that this module does not load the XML parser. */
export type MusicXmlReader = (bytes: Uint8Array, filename?: string) => NoteSequence;

/** The kind of a file by its name's extension (.mid/.midi, .xml/.mxl/.musicxml, .abc), if any. */
export function kindOfFileName(name: string): ConvertibleKind | undefined {
  const ext = /\.[^./\\]*$/.exec(name)?.[0].toLowerCase();
  if (ext === ".mid" || ext === ".midi") return "midi";
  if (ext === ".xml" || ext === ".mxl" || ext === ".musicxml") return "musicxml";
  if (ext === ".abc") return "abc";
  return undefined;
}

export interface ConvertedFile {
  sequences: NoteSequence[];
  /** Parts of the file that were skipped while the rest converted (ABC tunes that cannot be read). */
  warnings: string[];
}

/** Magenta's NoteSequence id: `/id/<kind>/<collection>/<sha1 hex of filename>`. */
export function noteSequenceId(kind: string, collectionName: string, filename: string): string {
  return `/id/${kind}/${collectionName}/${sha1Hex(new TextEncoder().encode(filename))}`;
}

/** ABC text: UTF-8 (BOM or not); files that are not valid UTF-8 are read as Windows-1252. */
function decodeText(bytes: Uint8Array): string {
  try {
    return new TextDecoder("utf-8", { fatal: true }).decode(bytes);
  } catch {
    return new TextDecoder("windows-1252").decode(bytes);
  }
}

/**
 * Converts one file. Throws (MidiError, MusicXmlError, AbcError) when nothing in it can be read; an
 * ABC tunebook whose tunes all fail is such a file. MusicXML needs `readMusicXml`.
 */
export function convertBytes(
  bytes: Uint8Array,
  kind: ConvertibleKind,
  filename: string,
  collectionName: string,
  readMusicXml?: MusicXmlReader,
): ConvertedFile {
  const tag = (ns: NoteSequence, idSource: string) => {
    ns.collectionName = collectionName;
    ns.filename = filename;
    ns.id = noteSequenceId(kind, collectionName, idSource);
    return ns;
  };
  if (kind === "midi") {
    const warnings: string[] = [];
    const ns = readMidi(bytes, { onWarning: (w) => warnings.push(w) });
    return { sequences: [tag(ns, filename)], warnings };
  }
  if (kind === "musicxml") {
    if (!readMusicXml) throw new PolyrnnError("MusicXML is not read here");
    return { sequences: [tag(readMusicXml(bytes, filename), filename)], warnings: [] };
  }
  const book = readAbcTunebook(decodeText(bytes));
  const warnings = book.errors.map((e) => `${e.message}; the tune was skipped`);
  if (book.tunes.length === 0) {
    if (book.errors.length === 0) throw new AbcError("no tunes: no section starts with an X: line");
    const shown = book.errors.slice(0, 3).map((e) => e.message);
    if (book.errors.length > 3) shown.push(`and ${book.errors.length - 3} more`);
    throw new AbcError(
      book.errors.length === 1
        ? book.errors[0].message
        : `none of its ${book.errors.length} tunes can be read: ${shown.join("; ")}`,
    );
  }
  return { sequences: book.tunes.map((ns) => tag(ns, `${filename}_${ns.referenceNumber}`)), warnings };
}

/** A file in memory: its name (or path relative to the dropped folder) and bytes. */
export interface InputFile {
  /** The name, whose extension says the kind (see `kindOfFileName`); it becomes the sequences' `filename`. */
  name: string;
  /** The file's contents. */
  bytes: Uint8Array;
}

/** What `convertInputFiles` made: the sequences, the files it skipped (with the reason) and warnings. */
export interface ConvertedFiles {
  /** The NoteSequences, in file-name order (an ABC tunebook gives one per tune). */
  sequences: NoteSequence[];
  /** The files that gave none: not a known kind, too large, or unreadable. */
  skipped: {
    /** The file's name, as given. */
    name: string;
    /** Why, in one line. */
    reason: string;
  }[];
  /** Parts of files that were skipped while the rest converted, each with the file's name. */
  warnings: string[];
}

/** Largest input file read by default (a browser tab has less memory than the command line). */
export const MAX_INPUT_BYTES = 16 * 2 ** 20;

/** Options of `convertFiles` and `convertInputFiles`. */
export interface ConvertInputFilesOptions {
  /** Reads MusicXML files (without it they are skipped). */
  readMusicXml?: MusicXmlReader;
  /** Larger files are skipped (default MAX_INPUT_BYTES). */
  maxBytes?: number;
}

/**
 * `polyrnn convert` over files in memory, in name order, with Magenta's metadata (collection name, file
 * name, id). Files that cannot be read are skipped with the reader's one-line reason.
 */
export function convertInputFiles(
  files: readonly InputFile[],
  collectionName: string,
  opts: ConvertInputFilesOptions = {},
): ConvertedFiles {
  const out: ConvertedFiles = { sequences: [], skipped: [], warnings: [] };
  const maxBytes = opts.maxBytes ?? MAX_INPUT_BYTES;
  const sorted = [...files].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  for (const f of sorted) {
    const kind = kindOfFileName(f.name);
    if (!kind || (kind === "musicxml" && !opts.readMusicXml)) {
      const what = opts.readMusicXml ? "MIDI, MusicXML or ABC" : "MIDI or ABC";
      out.skipped.push({ name: f.name, reason: `not a ${what} file (by its extension)` });
      continue;
    }
    if (f.bytes.length > maxBytes) {
      out.skipped.push({ name: f.name, reason: `larger than ${Math.round(maxBytes / 2 ** 20)} MB` });
      continue;
    }
    try {
      const c = convertBytes(f.bytes, kind, f.name, collectionName, opts.readMusicXml);
      out.sequences.push(...c.sequences);
      out.warnings.push(...c.warnings.map((w) => `${f.name}: ${w}`));
    } catch (e) {
      out.skipped.push({ name: f.name, reason: (e as Error).message });
    }
  }
  return out;
}
