/**
 * One input file's bytes → NoteSequences with Magenta's metadata (convert_dir_to_note_sequences):
 * collection_name = the input folder's name, filename = the path relative to it,
 * id = `/id/<kind>/<collection_name>/<sha1 hex of filename>`; for ABC, one sequence per tune and the
 * sha1 of `<filename>_<X: reference number>`.
 */
import type { NoteSequence } from "../notesequence.js";
import { AbcError, readAbcTunebook } from "./abc.js";
import { readMidi } from "./midi.js";
import { readMusicXml } from "./musicxml.js";
import { sha1Hex } from "./sha1.js";

export type ConvertibleKind = "midi" | "musicxml" | "abc";

export interface ConvertedFile {
  sequences: NoteSequence[];
  /** Parts of the file that were skipped while the rest converted (ABC tunes that cannot be read). */
  warnings: string[];
}

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
 * ABC tunebook whose tunes all fail is such a file.
 */
export function convertFileBytes(
  bytes: Uint8Array,
  kind: ConvertibleKind,
  filename: string,
  collectionName: string,
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
  if (kind === "musicxml") return { sequences: [tag(readMusicXml(bytes, filename), filename)], warnings: [] };
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
