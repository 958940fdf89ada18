/**
 * `polyrnn plot FILE.mid`: a piano-roll picture of a MIDI file, as SVG and PNG, with the primer and the
 * generated notes in two colours when the end of the primer is given.
 *   polyrnn plot out/2024-01-01_120000_01.mid --split_step=32
 * `polyrnn plot --metrics=RUN_DIR`: training curves (loss and accuracy against the step, train and eval)
 * from the metrics.jsonl files that `polyrnn train` writes, as SVG.
 *   polyrnn plot --metrics=runs/bach --reference_loss=0.425 --reference_accuracy=0.857 --reference_label=notebook
 */
import { stat } from "node:fs/promises";
import { basename, dirname, extname, join } from "node:path";
import { PolyrnnError, readError, UsageError } from "../errors.js";
import { STEPS_PER_QUARTER } from "../events/codec.js";
import { readInputFile, writeFileAtomic } from "../io/fs.js";
import { readMidi } from "../io/midi.js";
import type { NoteSequence } from "../notesequence.js";
import {
  type MetricsPoint,
  parseMetricsJsonl,
  type TrainingCurveSeries,
  trainingCurvesSvg,
} from "../render/curves.js";
import { noteRole, type PianoRollOptions, pianoRollPng, pianoRollSvg } from "../render/pianoroll.js";
import { type FlagTable, type FlagValues, formatHelp, parseArgs } from "./args.js";

export const PLOT_FLAGS = {
  output: {
    type: "string",
    help: "Picture to write, .svg or .png (.svg only with --metrics). Default: FILE.svg and FILE.png next to each input; with --metrics, training_curves.svg in RUN_DIR (next to the file when given a file).",
  },
  metrics: {
    type: "string",
    help: "Draw training curves instead of a piano roll: RUN_DIR of polyrnn train (reads RUN_DIR/train/metrics.jsonl, and RUN_DIR/eval/metrics.jsonl when there is one), or one metrics.jsonl file.",
  },
  reference_loss: {
    type: "float",
    help: "With --metrics: draw a dashed reference line at this loss (say, what a published run reached).",
  },
  reference_accuracy: {
    type: "float",
    min: 0,
    upTo: 1,
    help: "With --metrics: draw a dashed reference line at this accuracy (0 to 1).",
  },
  reference_label: {
    type: "string",
    default: "reference",
    help: 'With --metrics: the name of the reference lines, shown as "NAME: loss 0.425".',
  },
  split_time: {
    type: "float",
    min: 0,
    help: "End of the primer in seconds: notes starting before it are drawn as primer, the rest as generated.",
  },
  split_step: {
    type: "int",
    min: 0,
    help: "End of the primer in 16th-note steps (4 per quarter note, at the file's first tempo), as polyrnn generate counts them.",
  },
  width: {
    type: "int",
    default: 1200,
    min: 200,
    upTo: 20000,
    help: "Picture width in pixels, 200 to 20000.",
  },
  height: {
    type: "int",
    default: 0,
    min: 0,
    upTo: 20000,
    help: "Picture height in pixels, 120 to 20000; 0 = from the pitch range (with --metrics: 460, or 820 when the panels are stacked, below 700 px wide).",
  },
  title: {
    type: "string",
    help: 'Title of the picture. Default: the file\'s name; with --metrics, "Training curves: RUN_DIR".',
  },
} satisfies FlagTable;

export const PLOT_DESCRIPTION = `Draws a piano roll of MIDI files: time in seconds left to right with beat and bar lines, pitch bottom
to top with every C labelled, one bar per note with its velocity as opacity. The end of the primer is
not stored in a MIDI file, so all notes are drawn in one colour unless --split_time or --split_step says
where it is; then primer and generated notes get two colours.

With --metrics=RUN_DIR it draws training curves instead, as SVG: the loss and the accuracy against the
step, for training and (when RUN_DIR/eval/metrics.jsonl exists) evaluation, with the last values in the
legend and optional dashed reference lines from --reference_loss and --reference_accuracy.`;

const METRICS_USAGE =
  "polyrnn plot --metrics=RUN_DIR|metrics.jsonl [--output=FILE.svg] [--reference_loss=F] [--reference_accuracy=F] [--reference_label=TEXT]";

export function firstQpm(ns: NoteSequence): number {
  let best: { time: number; qpm: number } | undefined;
  for (const t of ns.tempos) if (!best || t.time < best.time) best = t;
  return best && best.qpm > 0 ? best.qpm : 120;
}

/** Reads and parses a MIDI file; every failure is a PolyrnnError whose message names the file. */
export async function readMidiFile(path: string): Promise<NoteSequence> {
  const bytes = await readInputFile(path);
  try {
    return readMidi(bytes);
  } catch (e) {
    if (e instanceof PolyrnnError) throw new PolyrnnError(`${path}: ${e.message}`);
    throw e;
  }
}

/** Writes a file atomically; a failure is a PolyrnnError naming it. */
export const writeOutput = writeFileAtomic;

function stripExtension(path: string): string {
  const ext = extname(path);
  return ext ? path.slice(0, -ext.length) : path;
}

function checkSize(width: number, height: number): void {
  // The flags' ranges are checked as they are parsed; a height of 1 to 119 is the gap in its range.
  if (height !== 0 && height < 120)
    throw new UsageError(
      `--height is ${height}: it must be 0 (automatic) or a whole number from 120 to 20000`,
    );
  if (width * height > 40e6)
    throw new UsageError(`--width × --height is over 40 million pixels (${width}×${height})`);
}

async function isFile(path: string): Promise<boolean> {
  try {
    return (await stat(path)).isFile();
  } catch {
    return false;
  }
}

/** Reads and parses one metrics.jsonl file; every failure is a PolyrnnError naming it (and the line). */
export async function readMetricsFile(path: string): Promise<MetricsPoint[]> {
  return parseMetricsJsonl((await readInputFile(path)).toString("utf8"), path);
}

export interface LoadedMetrics {
  series: TrainingCurveSeries;
  /** The files read, with what they are. */
  files: { path: string; role: "train" | "eval"; points: number }[];
  /** Where the picture goes without --output. */
  defaultOutput: string;
}

/**
 * The metrics of a run: `target` is a run folder (its train/ and eval/ metrics.jsonl), a train/ or eval/
 * folder holding a metrics.jsonl, or one metrics.jsonl file (eval when its folder is named eval).
 */
export async function loadRunMetrics(target: string): Promise<LoadedMetrics> {
  let info: Awaited<ReturnType<typeof stat>>;
  try {
    info = await stat(target);
  } catch (e) {
    throw readError(target, e, "file or folder");
  }
  const single = info.isFile() ? target : join(target, "metrics.jsonl");
  if (info.isFile() || (await isFile(single))) {
    const role = basename(dirname(single)) === "eval" ? "eval" : "train";
    const points = await readMetricsFile(single);
    return {
      series: { [role]: points },
      files: [{ path: single, role, points: points.length }],
      defaultOutput: join(dirname(single), "training_curves.svg"),
    };
  }
  const trainPath = join(target, "train", "metrics.jsonl");
  const evalPath = join(target, "eval", "metrics.jsonl");
  const hasTrain = await isFile(trainPath);
  const hasEval = await isFile(evalPath);
  if (!hasTrain && !hasEval)
    throw new PolyrnnError(
      `cannot read ${trainPath}: no such file (nor ${evalPath}); is ${target} a run folder?`,
    );
  const result: LoadedMetrics = { series: {}, files: [], defaultOutput: join(target, "training_curves.svg") };
  for (const [role, path, present] of [
    ["train", trainPath, hasTrain],
    ["eval", evalPath, hasEval],
  ] as const) {
    if (!present) continue;
    const points = await readMetricsFile(path);
    result.series[role] = points;
    result.files.push({ path, role, points: points.length });
  }
  return result;
}

async function runMetricsPlot(
  flags: FlagValues<typeof PLOT_FLAGS>,
  positionals: string[],
  explicit: Set<string>,
): Promise<number> {
  const target = flags.metrics ?? "";
  if (target === "") throw new UsageError("--metrics needs a run folder or a metrics.jsonl file");
  if (positionals.length > 0)
    throw new UsageError(`--metrics draws one run's training curves; drop ${positionals.join(" ")}`);
  for (const name of ["split_time", "split_step"])
    if (explicit.has(name)) throw new UsageError(`--${name} is for piano rolls, not with --metrics`);
  if (flags.output !== undefined && extname(flags.output).toLowerCase() !== ".svg")
    throw new UsageError(`with --metrics, --output must end in .svg, got ${flags.output}`);
  const loaded = await loadRunMetrics(target);
  const total = loaded.files.reduce((n, f) => n + f.points, 0);
  if (total === 0)
    throw new PolyrnnError(`${loaded.files.map((f) => f.path).join(" and ")}: no metrics lines yet`);
  const svg = trainingCurvesSvg(loaded.series, {
    width: flags.width,
    height: flags.height || undefined,
    title: flags.title ?? `Training curves: ${target}`,
    reference: {
      loss: explicit.has("reference_loss") ? flags.reference_loss : undefined,
      accuracy: explicit.has("reference_accuracy") ? flags.reference_accuracy : undefined,
      label: flags.reference_label,
    },
  });
  const out = flags.output ?? loaded.defaultOutput;
  await writeOutput(out, svg);
  const what = loaded.files.map((f) => {
    const last = (loaded.series[f.role] ?? []).reduce((m, p) => Math.max(m, p.step), 0);
    return `${f.role}: ${f.points} points to step ${last}`;
  });
  console.error(`Wrote ${out} (${what.join("; ")}).`);
  return 0;
}

export async function runPlot(argv: string[], usage: string): Promise<number> {
  const { flags, positionals, help, explicit } = parseArgs(argv, PLOT_FLAGS);
  if (help) {
    console.log(formatHelp(`${usage}\n       ${METRICS_USAGE}`, PLOT_DESCRIPTION, PLOT_FLAGS));
    return 0;
  }
  checkSize(flags.width, flags.height);
  if (flags.metrics !== undefined) return runMetricsPlot(flags, positionals, explicit);
  for (const name of ["reference_loss", "reference_accuracy", "reference_label"])
    if (explicit.has(name)) throw new UsageError(`--${name} goes with --metrics=RUN_DIR`);
  if (positionals.length === 0)
    throw new UsageError(
      "give a MIDI file to plot, e.g. polyrnn plot FILE.mid, or a training run, e.g. polyrnn plot --metrics=RUN_DIR",
    );
  if (flags.output !== undefined && positionals.length > 1)
    throw new UsageError("--output takes one input file; without it each picture goes next to its input");
  if (flags.output !== undefined && ![".svg", ".png"].includes(extname(flags.output).toLowerCase()))
    throw new UsageError(`--output must end in .svg or .png, got ${flags.output}`);
  if (explicit.has("split_time") && explicit.has("split_step"))
    throw new UsageError("give --split_time or --split_step, not both");

  let failed = 0;
  for (const input of positionals) {
    try {
      const ns = await readMidiFile(input);
      let splitTime: number | undefined;
      if (explicit.has("split_time")) splitTime = flags.split_time;
      else if (explicit.has("split_step"))
        splitTime = (flags.split_step * 60) / firstQpm(ns) / STEPS_PER_QUARTER;
      const opts: PianoRollOptions = {
        width: flags.width,
        height: flags.height || undefined,
        splitTime,
        title: flags.title ?? basename(input),
      };
      const outputs =
        flags.output !== undefined ? [flags.output] : [".svg", ".png"].map((e) => stripExtension(input) + e);
      for (const out of outputs) {
        const data = extname(out).toLowerCase() === ".png" ? pianoRollPng(ns, opts) : pianoRollSvg(ns, opts);
        await writeOutput(out, data);
      }
      let what = `${ns.notes.length} notes`;
      if (splitTime !== undefined) {
        const primer = ns.notes.filter((n) => noteRole(n, splitTime) === "primer").length;
        what += `: ${primer} primer, ${ns.notes.length - primer} generated, split at ${Math.round(splitTime * 1000) / 1000} s`;
      }
      console.error(`Wrote ${outputs.join(" and ")} (${what}).`);
    } catch (e) {
      if (e instanceof PolyrnnError && !(e instanceof UsageError)) {
        console.error(`error: ${e.message}`);
        failed++;
        continue;
      }
      throw e;
    }
  }
  return failed > 0 ? 1 : 0;
}
