/**
 * `polyrnn plot FILE.mid`: a piano-roll picture of a MIDI file, as SVG and PNG, with the primer and the
 * generated notes in two colours when the end of the primer is given.
 *   polyrnn plot out/2024-01-01_120000_01.mid --split_step=32
 */
import { readFile } from "node:fs/promises";
import { basename, extname } from "node:path";
import { PolyrnnError, UsageError } from "../errors.js";
import { writeFileAtomic } from "../io/fs.js";
import { readMidi } from "../io/midi.js";
import type { NoteSequence } from "../notesequence.js";
import { noteRole, type PianoRollOptions, pianoRollPng, pianoRollSvg } from "../render/pianoroll.js";
import { type FlagTable, formatHelp, parseArgs } from "./args.js";

export const PLOT_FLAGS = {
  output: {
    type: "string",
    help: "Picture to write, .svg or .png. Default: FILE.svg and FILE.png next to each input.",
  },
  split_time: {
    type: "float",
    help: "End of the primer in seconds: notes starting before it are drawn as primer, the rest as generated.",
  },
  split_step: {
    type: "int",
    help: "End of the primer in 16th-note steps (4 per quarter note, at the file's first tempo), as polyrnn generate counts them.",
  },
  width: { type: "int", default: 1200, help: "Picture width in pixels." },
  height: { type: "int", default: 0, help: "Picture height in pixels; 0 = from the pitch range." },
  title: { type: "string", help: "Title of the picture. Default: the file's name." },
} satisfies FlagTable;

export const PLOT_DESCRIPTION = `Draws a piano roll of MIDI files: time in seconds left to right with beat and bar lines, pitch bottom
to top with every C labelled, one bar per note with its velocity as opacity. The end of the primer is
not stored in a MIDI file, so all notes are drawn in one colour unless --split_time or --split_step says
where it is; then primer and generated notes get two colours.`;

/** Steps per quarter note of Polyphony RNN's sequences. */
const STEPS_PER_QUARTER = 4;

export function firstQpm(ns: NoteSequence): number {
  let best: { time: number; qpm: number } | undefined;
  for (const t of ns.tempos) if (!best || t.time < best.time) best = t;
  return best && best.qpm > 0 ? best.qpm : 120;
}

/** Reads and parses a MIDI file; every failure is a PolyrnnError whose message names the file. */
export async function readMidiFile(path: string): Promise<NoteSequence> {
  let bytes: Uint8Array;
  try {
    bytes = await readFile(path);
  } catch (e) {
    const err = e as NodeJS.ErrnoException;
    const why =
      err.code === "ENOENT"
        ? "no such file"
        : err.code === "EISDIR"
          ? "is a folder"
          : (err.code ?? err.message);
    throw new PolyrnnError(`cannot read ${path}: ${why}`);
  }
  try {
    return readMidi(bytes);
  } catch (e) {
    if (e instanceof PolyrnnError) throw new PolyrnnError(`${path}: ${e.message}`);
    throw e;
  }
}

/** Writes a file; a failure is a PolyrnnError naming it. */
export async function writeOutput(path: string, data: Uint8Array | string): Promise<void> {
  try {
    await writeFileAtomic(path, data);
  } catch (e) {
    const err = e as NodeJS.ErrnoException;
    throw new PolyrnnError(`cannot write ${path}: ${err.code ?? err.message}`);
  }
}

function stripExtension(path: string): string {
  const ext = extname(path);
  return ext ? path.slice(0, -ext.length) : path;
}

export async function runPlot(argv: string[], usage: string): Promise<number> {
  const { flags, positionals, help, explicit } = parseArgs(argv, PLOT_FLAGS);
  if (help) {
    console.log(formatHelp(usage, PLOT_DESCRIPTION, PLOT_FLAGS));
    return 0;
  }
  if (positionals.length === 0) throw new UsageError("give a MIDI file to plot, e.g. polyrnn plot FILE.mid");
  if (flags.output !== undefined && positionals.length > 1)
    throw new UsageError("--output takes one input file; without it each picture goes next to its input");
  if (flags.output !== undefined && ![".svg", ".png"].includes(extname(flags.output).toLowerCase()))
    throw new UsageError(`--output must end in .svg or .png, got ${flags.output}`);
  if (explicit.has("split_time") && explicit.has("split_step"))
    throw new UsageError("give --split_time or --split_step, not both");
  if (explicit.has("split_time") && !(flags.split_time >= 0))
    throw new UsageError(`--split_time must be 0 or more, got ${flags.split_time}`);
  if (explicit.has("split_step") && flags.split_step < 0)
    throw new UsageError(`--split_step must be 0 or more, got ${flags.split_step}`);
  if (flags.width < 200 || flags.width > 20000)
    throw new UsageError(`--width must be from 200 to 20000, got ${flags.width}`);
  if (flags.height !== 0 && (flags.height < 120 || flags.height > 20000))
    throw new UsageError(`--height must be 0 (automatic) or from 120 to 20000, got ${flags.height}`);
  if (flags.width * flags.height > 40e6)
    throw new UsageError(`--width × --height is over 40 million pixels (${flags.width}×${flags.height})`);

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
