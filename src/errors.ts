/**
 * Typed errors. Every error a user can cause by bad input is one of these, with a message that
 * says what is wrong in one line; the caller that knows the file name prefixes it (see `describeError`).
 *
 * @module
 */

/**
 * What polyrnn throws for bad input (a file it cannot read, a bad option, a model that does not fit):
 * a one-line message saying what is wrong, naming the file where there is one. Its subclasses say which
 * part failed (`MidiError`, `BundleError`, `CheckpointError`, …).
 */
export class PolyrnnError extends Error {
  /** Always `"PolyrnnError"` here; the subclass's name in a subclass. */
  override name = "PolyrnnError";
}

/** The bytes are not a MIDI file we can read (truncated, corrupt, unsupported). */
export class MidiError extends PolyrnnError {
  /** Always `"MidiError"`. */
  override name = "MidiError";
}

/** The bytes are not a MusicXML score we can read (malformed XML, no score in the .mxl zip, bad values). */
export class MusicXmlError extends PolyrnnError {
  /** Always `"MusicXmlError"`. */
  override name = "MusicXmlError";
}

/** A TFRecord file is malformed: bad length, bad CRC, truncated record. */
export class TFRecordError extends PolyrnnError {
  /** Always `"TFRecordError"`. */
  override name = "TFRecordError";
}

/** Bytes that do not decode as the protobuf message we expected. */
export class ProtobufError extends PolyrnnError {
  /** Always `"ProtobufError"`. */
  override name = "ProtobufError";
}

/** A command-line flag is unknown or has a bad value. */
export class UsageError extends PolyrnnError {
  /** Always `"UsageError"`. */
  override name = "UsageError";
}

/**
 * A failed read (or stat) of `path` as one line naming it: "cannot read PATH: no such file" (`expected`
 * says what should have been there: a "file", or a "file or folder"), "is a folder", "permission
 * denied", else the system's error code. `Err` is the PolyrnnError subclass to make (the caller's own).
 */
export function readError(
  path: string,
  e: unknown,
  expected = "file",
  Err: new (message: string) => PolyrnnError = PolyrnnError,
): PolyrnnError {
  const err = e as NodeJS.ErrnoException;
  const why =
    err.code === "ENOENT"
      ? `no such ${expected}`
      : err.code === "EISDIR"
        ? "is a folder"
        : err.code === "EACCES"
          ? "permission denied"
          : (err.code ?? err.message);
  return new Err(`cannot read ${path}: ${why}`);
}

/**
 * A failed write (or folder creation, `verb` "create") of `path` as one line naming it, as readError:
 * "is a folder", "permission denied", "no space left on the device", else the system's error code.
 */
export function writeError(path: string, e: unknown, verb = "write"): PolyrnnError {
  if (e instanceof PolyrnnError) return e;
  const err = e as NodeJS.ErrnoException;
  const why =
    err.code === "EISDIR"
      ? "is a folder"
      : err.code === "EACCES" || err.code === "EPERM"
        ? "permission denied"
        : err.code === "ENOSPC"
          ? "no space left on the device"
          : (err.code ?? err.message);
  return new PolyrnnError(`cannot ${verb} ${path}: ${why}`);
}

/** One line naming the file and the problem. */
export function describeError(file: string, err: unknown): string {
  const msg = err instanceof Error ? err.message : String(err);
  return `${file}: ${msg}`;
}
