/**
 * `polyrnn dataset` = Magenta's `polyphony_rnn_create_dataset`:
 *   polyrnn dataset --input=notes.tfrecord --output_dir=DIR [--eval_ratio=0.1]
 *   polyrnn dataset --from_frames=bl2012_jsb_chorales.json --output_dir=DIR
 */

import { PolyrnnError, UsageError } from "../errors.js";
import { DEFAULT_DATASET_OPTIONS } from "../pipeline/dataset.js";
import { formatStatistic } from "../pipeline/extract.js";
import { type FlagTable, formatHelp, parseArgs } from "./args.js";
import {
  createDatasetFromFrames,
  createDatasetFromNoteSequences,
  type DatasetJobOptions,
  type DatasetSummary,
  OUTPUT_NAMES,
} from "./dataset_job.js";
import { Progress } from "./progress.js";

export const DATASET_FLAGS = {
  input: { type: "string", help: "TFRecord file of NoteSequences (from `polyrnn convert`)." },
  output_dir: {
    type: "string",
    required: true,
    help: `Folder for ${OUTPUT_NAMES.training} and ${OUTPUT_NAMES.eval} (created if missing).`,
  },
  eval_ratio: {
    type: "float",
    default: DEFAULT_DATASET_OPTIONS.evalRatio,
    min: 0,
    upTo: 1,
    help: "Fraction of input NoteSequences that go to the eval file.",
  },
  log: {
    type: "string",
    default: "INFO",
    help: "INFO, WARN or ERROR (WARN and ERROR hide per-file warnings).",
  },
  seed: {
    type: "int",
    help: "Reproducible eval split: chosen by a hash of (seed, NoteSequence id). Without it the split is random, as Magenta's.",
  },
  min_steps: {
    type: "int",
    min: 0,
    default: DEFAULT_DATASET_OPTIONS.minSteps,
    help: "Shortest track kept, in 16th-note steps (Magenta: 80).",
  },
  max_steps: {
    type: "int",
    min: 1,
    default: DEFAULT_DATASET_OPTIONS.maxSteps,
    help: "Longest track kept, in steps (Magenta: 512); longer ones are dropped, or cut with --split_long_tracks.",
  },
  split_long_tracks: {
    type: "bool",
    default: false,
    help: "Cut tracks longer than --max_steps into windows of --max_steps steps instead of dropping them. Only a piece's last window ends with END (none when it is shorter than --min_steps and dropped): the others stop where the music goes on.",
  },
  merge_programs: {
    type: "bool",
    default: false,
    help: "Keep files with several instruments (programs) as one polyphonic stream instead of dropping them.",
  },
  transpose_range: {
    type: "string",
    default: "-4,4",
    help: "Transpositions for augmentation, LOW,HIGH in semitones inclusive (Magenta: -4,4); 0,0 for none.",
  },
  quantize_on_beats: {
    type: "bool",
    default: false,
    help: "Quantize on the beat grid of the tempo map (MIDI ticks) without splitting at tempo changes; for expressive files such as piano-midi.de.",
  },
  thin_openings: {
    type: "float",
    default: 0,
    min: 0,
    upTo: 1,
    help: "Share of training tracks (0 to 1) that open with one or two voices for 8 to 32 steps, so that a model learns how voices enter after a thin primer (a melody). Chosen by a hash of --seed, the input and the track. Default 0: as extracted.",
  },
  include_inputs: {
    type: "bool",
    default: false,
    help: "Also write the one-hot `inputs` feature list (259 floats per step), as Magenta's trainer expects.",
  },
  from_frames: {
    type: "string",
    help: 'Benchmark piano-roll JSON ({"train","valid"} lists of frames) instead of --input; one frame = one step.',
  },
  from_satb: {
    type: "string",
    help: "jsb16_satb.json (four voices, 16th notes, -1 = rest) instead of --input.",
  },
  quiet: { type: "bool", default: false, help: "Print errors only: no progress, warnings or statistics." },
} satisfies FlagTable;

export const DATASET_DESCRIPTION = `Builds training and eval datasets from NoteSequences exactly as Magenta's Polyphony RNN does:
split at tempo and time-signature changes, quantize to 4 steps per quarter, transpose by -4..+4 semitones,
extract one polyphonic track per piece (80..512 steps, single-program files only), and encode the events
(259 classes) as tf.train.SequenceExample records. The extra flags are off by default, so the default output
matches Magenta's. With --from_frames/--from_satb, length limits and transposition apply only when given.`;

function parseRange(text: string): number[] {
  const m = /^\s*(-?\d+)\s*,\s*(-?\d+)\s*$/.exec(text);
  if (!m) throw new UsageError(`--transpose_range takes LOW,HIGH (e.g. -4,4), got "${text}"`);
  const [lo, hi] = [Number(m[1]), Number(m[2])];
  if (lo > hi || lo < -127 || hi > 127)
    throw new UsageError(`--transpose_range ${text}: need LOW <= HIGH within ±127`);
  return Array.from({ length: hi - lo + 1 }, (_, i) => lo + i);
}

function printSummary(s: DatasetSummary, outputDir: string, quantizeOnBeats: boolean): void {
  const lines = [
    ...s.removedTemps.map((t) => `Removed ${t}, left by an interrupted dataset run.`),
    `Processed ${s.inputs} inputs total. Produced ${s.outputs.training + s.outputs.eval} outputs.`,
    ...Object.keys(s.stats)
      .sort()
      .map((name) => formatStatistic(name, s.stats[name])),
    `Wrote ${s.outputs.training} training and ${s.outputs.eval} eval tracks to ${outputDir} in ${s.seconds.toFixed(2)} s.`,
  ];
  if (s.inputNotes > 0) {
    const pct = ((100 * s.keptNotes) / s.inputNotes).toFixed(1);
    lines.push(
      `Music kept (untransposed): ${s.keptNotes} of ${s.inputNotes} notes (${pct}%), ${s.keptSteps} steps.`,
    );
  }
  if (s.skippedRecords.length > 0)
    lines.push(`Skipped ${s.skippedRecords.length} record(s) that are not NoteSequences.`);
  if (s.tempoLosses.length > 0 && !quantizeOnBeats) {
    lines.push(
      `warning: ${s.tempoLosses.length} file(s) lost most of their notes to tempo-change splitting ` +
        "(each piece between two tempo changes is quantized alone and dropped when shorter than --min_steps).",
      "  --quantize_on_beats keeps them: it quantizes on the beat grid without splitting at tempo changes.",
    );
    for (const t of s.tempoLosses.slice(0, 10)) {
      lines.push(
        `  ${t.name}: kept ${t.keptNotes} of ${t.inputNotes} notes (${t.tempoSplits} tempo changes)`,
      );
    }
    if (s.tempoLosses.length > 10) lines.push(`  … and ${s.tempoLosses.length - 10} more`);
  }
  console.error(lines.join("\n"));
}

export async function runDataset(argv: string[], usage: string): Promise<number> {
  const { flags, help, explicit } = parseArgs(argv, DATASET_FLAGS);
  if (help) {
    console.log(formatHelp(usage, DATASET_DESCRIPTION, DATASET_FLAGS));
    return 0;
  }
  const sources = [flags.input, flags.from_frames, flags.from_satb].filter((x) => x !== undefined);
  if (sources.length !== 1) throw new UsageError("give exactly one of --input, --from_frames or --from_satb");
  const frames = flags.input === undefined;
  if (
    (!frames || (explicit.has("min_steps") && explicit.has("max_steps"))) &&
    flags.min_steps > flags.max_steps
  ) {
    throw new UsageError(
      `--min_steps=${flags.min_steps} is more than --max_steps=${flags.max_steps}: no track could be kept`,
    );
  }
  const quiet = flags.quiet || flags.log === "WARN" || flags.log === "ERROR";
  let progress: Progress | undefined;
  const opts: DatasetJobOptions = {
    ...DEFAULT_DATASET_OPTIONS,
    evalRatio: flags.eval_ratio,
    seed: flags.seed,
    minSteps: frames && !explicit.has("min_steps") ? 0 : flags.min_steps,
    maxSteps: frames && !explicit.has("max_steps") ? Number.POSITIVE_INFINITY : flags.max_steps,
    transposeRange: frames && !explicit.has("transpose_range") ? [0] : parseRange(flags.transpose_range),
    splitLongTracks: flags.split_long_tracks,
    mergePrograms: flags.merge_programs,
    quantizeOnBeats: flags.quantize_on_beats,
    thinOpenings: flags.thin_openings,
    includeInputs: flags.include_inputs,
    outputDir: flags.output_dir,
    onStart: (total) => {
      progress =
        flags.quiet || flags.log === "ERROR"
          ? undefined
          : new Progress({ label: "Processing", total, unit: " inputs" });
    },
    onInput: (p) => {
      if (!quiet) for (const w of p.warnings) progress?.log(`warning: ${w}`);
      progress?.tick();
    },
    onSkip: (msg) => {
      if (!quiet) progress?.log(`warning: ${msg}`);
    },
  };
  try {
    const summary = flags.input
      ? await createDatasetFromNoteSequences(flags.input, opts)
      : flags.from_frames
        ? await createDatasetFromFrames(flags.from_frames, false, opts)
        : await createDatasetFromFrames(flags.from_satb as string, true, opts);
    progress?.finish();
    if (!flags.quiet) printSummary(summary, flags.output_dir, flags.quantize_on_beats);
    return 0;
  } catch (e) {
    progress?.finish();
    const err = e as NodeJS.ErrnoException;
    if (e instanceof PolyrnnError) {
      console.error(`error: ${e.message}`);
      return 1;
    }
    if (err.code && err.path) {
      console.error(`error: cannot ${err.syscall ?? "access"} ${err.path}: ${err.code}`);
      return 1;
    }
    throw e;
  }
}
