/**
 * Input files → NoteSequences with every reader, MusicXML included (src/io/convert_core.ts without it).
 */
import {
  type ConvertedFile,
  type ConvertedFiles,
  type ConvertInputFilesOptions,
  type ConvertibleKind,
  convertBytes,
  convertInputFiles,
  type InputFile,
} from "./convert_core.js";
import { readMusicXml } from "./musicxml.js";

export {
  type ConvertedFile,
  type ConvertedFiles,
  type ConvertInputFilesOptions,
  type ConvertibleKind,
  type InputFile,
  kindOfFileName,
  MAX_INPUT_BYTES,
  type MusicXmlReader,
  noteSequenceId,
} from "./convert_core.js";

/** Converts one file of any kind (see convertBytes). */
export function convertFileBytes(
  bytes: Uint8Array,
  kind: ConvertibleKind,
  filename: string,
  collectionName: string,
): ConvertedFile {
  return convertBytes(bytes, kind, filename, collectionName, readMusicXml);
}

/**
 * MIDI, MusicXML and ABC files in memory → NoteSequences, as `polyrnn convert` makes them:
 *
 *   const { sequences, skipped } = convertFiles([{ name: "a.mid", bytes }], "my_collection");
 */
export function convertFiles(
  files: readonly InputFile[],
  collectionName: string,
  opts: Omit<ConvertInputFilesOptions, "readMusicXml"> = {},
): ConvertedFiles {
  return convertInputFiles(files, collectionName, { ...opts, readMusicXml });
}
