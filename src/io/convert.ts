/**
 * One input file's bytes → NoteSequences with Magenta's metadata (convert_dir_to_note_sequences):
 * collection_name = the input folder's name, filename = the path relative to it,
 * id = `/id/<kind>/<collection_name>/<sha1 hex of filename>`.
 */
import type { NoteSequence } from "../notesequence.js";
import { readMidi } from "./midi.js";
import { sha1Hex } from "./sha1.js";

export type ConvertibleKind = "midi";

export function noteSequenceId(kind: string, collectionName: string, filename: string): string {
  return `/id/${kind}/${collectionName}/${sha1Hex(new TextEncoder().encode(filename))}`;
}

export function convertFileBytes(
  bytes: Uint8Array,
  kind: ConvertibleKind,
  filename: string,
  collectionName: string,
): NoteSequence[] {
  const ns = readMidi(bytes);
  ns.collectionName = collectionName;
  ns.filename = filename;
  ns.id = noteSequenceId(kind, collectionName, filename);
  return [ns];
}
