/**
 * `polyrnn convert` = Magenta's `convert_dir_to_note_sequences`:
 *   polyrnn convert --input_dir=DIR --output_file=FILE.tfrecord [--recursive]
 */
import { availableParallelism } from "node:os";
import { relative } from "node:path";
import { type FlagTable, formatHelp, parseArgs } from "./args.js";
import { convertDirectory, NothingToConvertError } from "./convert_job.js";
import { Progress } from "./progress.js";

export const CONVERT_FLAGS = {
  input_dir: {
    type: "string",
    required: true,
    help: "Folder of MIDI (.mid, .midi), MusicXML (.xml, .mxl, .musicxml) and ABC (.abc) files to convert.",
  },
  output_file: {
    type: "string",
    required: true,
    help: "TFRecord file of NoteSequence protos to write (overwritten; parent folders are created).",
  },
  recursive: { type: "bool", default: false, help: "Also convert the files in sub-folders." },
  jobs: {
    type: "int",
    min: 1,
    default: availableParallelism(),
    help: "Files converted in parallel (worker threads); 1 converts in the main thread.",
  },
  log: { type: "string", default: "INFO", help: "Accepted for Magenta compatibility: INFO, WARN or ERROR." },
  quiet: { type: "bool", default: false, help: "Print errors only: no progress, warnings or summary." },
} satisfies FlagTable;

export const CONVERT_DESCRIPTION = `Converts a folder of MIDI, MusicXML and ABC files into a TFRecord file of NoteSequences, the input of
\`polyrnn dataset\` (Magenta's polyphony_rnn_create_dataset). Files that cannot be read are reported
with the reason and skipped; the rest are converted. Exit status 0 when at least one file converted.`;

export async function runConvert(argv: string[], usage: string): Promise<number> {
  const { flags, help } = parseArgs(argv, CONVERT_FLAGS);
  if (help) {
    console.log(formatHelp(usage, CONVERT_DESCRIPTION, CONVERT_FLAGS));
    return 0;
  }
  const quiet = flags.quiet || flags.log === "ERROR";
  let progress: Progress | undefined;
  try {
    const summary = await convertDirectory({
      inputDir: flags.input_dir,
      outputFile: flags.output_file,
      recursive: flags.recursive,
      jobs: flags.jobs,
      onStart: (files) => {
        progress = quiet
          ? undefined
          : new Progress({ label: "Converting", total: files.length, unit: " files" });
      },
      onFile: (_file, result) => {
        if (!result.ok && !quiet) progress?.log(`warning: skipped ${result.error}`);
        progress?.tick();
      },
    });
    progress?.finish();
    const mb = summary.inputBytes / 1e6;
    const lines = [
      `Converted ${summary.converted} files to ${summary.sequences} NoteSequences with ${summary.notes} notes ` +
        `in ${summary.seconds.toFixed(2)} s (${(summary.converted / summary.seconds).toFixed(0)} files/s, ` +
        `${(mb / summary.seconds).toFixed(1)} MB/s).`,
    ];
    for (const t of summary.removedTemps ?? []) lines.push(`Removed ${t}, left by an interrupted convert.`);
    if (summary.converted > 0) lines.push(`Wrote ${flags.output_file} (${summary.outputBytes} bytes).`);
    if (summary.failed.length > 0) {
      lines.push(`Skipped ${summary.failed.length} file(s) or part(s) of files that could not be read:`);
      for (const f of summary.failed)
        lines.push(`  ${f.reason.startsWith(f.path) ? f.reason : `${f.path}: ${f.reason}`}`);
    }
    if (summary.ignored.length > 0 && !quiet) {
      lines.push(
        `Ignored ${summary.ignored.length} other entr${summary.ignored.length === 1 ? "y" : "ies"}:`,
      );
      for (const f of summary.ignored.slice(0, 20))
        lines.push(`  ${relative(".", f.path) || f.path}: ${f.reason}`);
      if (summary.ignored.length > 20) lines.push(`  … and ${summary.ignored.length - 20} more`);
    }
    if (!flags.quiet) console.error(lines.join("\n"));
    if (summary.converted === 0) {
      console.error(
        `error: none of the ${summary.failed.length} file(s) could be converted; nothing written.`,
      );
      return 1;
    }
    return 0;
  } catch (e) {
    progress?.finish();
    if (e instanceof NothingToConvertError) {
      console.error(`error: ${e.message}`);
      return 1;
    }
    const err = e as NodeJS.ErrnoException;
    if (err.code && err.path) {
      console.error(`error: cannot ${err.syscall ?? "access"} ${err.path}: ${err.code}`);
      return 1;
    }
    throw e;
  }
}
