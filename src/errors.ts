/**
 * Typed errors. Every error a user can cause by bad input is one of these, with a message that
 * says what is wrong in one line; the caller that knows the file name prefixes it (see `withFile`).
 */
export class PolyrnnError extends Error {
  override name = "PolyrnnError";
}

/** The bytes are not a MIDI file we can read (truncated, corrupt, unsupported). */
export class MidiError extends PolyrnnError {
  override name = "MidiError";
}

/** The bytes are not a MusicXML score we can read (malformed XML, no score in the .mxl zip, bad values). */
export class MusicXmlError extends PolyrnnError {
  override name = "MusicXmlError";
}

/** A TFRecord file is malformed: bad length, bad CRC, truncated record. */
export class TFRecordError extends PolyrnnError {
  override name = "TFRecordError";
}

/** Bytes that do not decode as the protobuf message we expected. */
export class ProtobufError extends PolyrnnError {
  override name = "ProtobufError";
}

/** A command-line flag is unknown or has a bad value. */
export class UsageError extends PolyrnnError {
  override name = "UsageError";
}

/** One line naming the file and the problem. */
export function describeError(file: string, err: unknown): string {
  const msg = err instanceof Error ? err.message : String(err);
  return `${file}: ${msg}`;
}
