/**
 * `polyrnn eval --music=GENERATED --reference=TRAINING`: objective statistics of generated music beside
 * the music it learned from (src/eval/music.ts defines them). No model is involved.
 */
import { readFile, stat } from "node:fs/promises";
import { basename, extname } from "node:path";
import { describeError, PolyrnnError, readError, UsageError } from "../errors.js";
import {
  addPiece,
  emptyTally,
  histogramDistance,
  type MusicStats,
  type MusicTally,
  musicStats,
  stepNotes,
} from "../eval/music.js";
import { convertFileBytes } from "../io/convert.js";
import { listInputDir, readInputFile, readTFRecordFile, sourceKindOf } from "../io/fs.js";
import { decodeNoteSequence } from "../io/notesequence_proto.js";
import type { NoteSequence } from "../notesequence.js";

export interface MusicEvalOptions {
  music?: string;
  reference?: string;
  json: boolean;
}

/** Flags of the other modes, refused with --music. */
const MODEL_FLAGS = [
  "bundle_file",
  "run_dir",
  "sequence_example_file",
  "frames",
  "split",
  "satb",
  "batch_size",
  "dropout",
  "num_eval_examples",
  "seed",
  "kernels",
  "threads",
];

interface Collection {
  spec: string;
  tally: MusicTally;
  skipped: string[];
}

async function* sequencesOf(path: string, skipped: string[]): AsyncGenerator<NoteSequence> {
  let info: Awaited<ReturnType<typeof stat>>;
  try {
    info = await stat(path);
  } catch (e) {
    throw readError(path, e, "file or folder");
  }
  if (info.isDirectory()) {
    const listing = await listInputDir(path, true);
    for (const f of listing.files) {
      if (!f.kind) continue;
      try {
        yield* convertFileBytes(await readFile(f.path), f.kind, f.filename, basename(path)).sequences;
      } catch (e) {
        skipped.push(describeError(f.path, e));
      }
    }
    return;
  }
  if (extname(path).toLowerCase() === ".tfrecord") {
    let i = 0;
    for await (const record of readTFRecordFile(path)) {
      try {
        yield decodeNoteSequence(record);
      } catch (e) {
        skipped.push(describeError(`${path} record ${i}`, e));
      }
      i++;
    }
    return;
  }
  const kind = sourceKindOf(path);
  if (!kind) throw new PolyrnnError(`${path}: not a folder, a .tfrecord, or a MIDI/MusicXML/ABC file`);
  try {
    yield* convertFileBytes(await readInputFile(path), kind, basename(path), "").sequences;
  } catch (e) {
    skipped.push(describeError(path, e));
  }
}

async function collect(spec: string): Promise<Collection> {
  const tally = emptyTally();
  const skipped: string[] = [];
  for (const path of spec.split(",").filter((p) => p.length > 0)) {
    for await (const ns of sequencesOf(path, skipped)) {
      try {
        addPiece(tally, stepNotes(ns));
      } catch (e) {
        skipped.push(describeError(ns.filename || path, e));
      }
    }
  }
  if (tally.pieces === 0) throw new PolyrnnError(`${spec}: no music found`);
  return { spec, tally, skipped };
}

function fmt(x: number, digits: number): string {
  return Number.isFinite(x) ? x.toFixed(digits) : "-";
}

function row(name: string, a: string, b?: string): string {
  return `  ${name.padEnd(26)}${a.padStart(12)}${b === undefined ? "" : b.padStart(12)}`;
}

function statsJson(s: MusicStats): Record<string, unknown> {
  const finite = (x: number) => (Number.isFinite(x) ? x : null);
  return {
    pieces: s.pieces,
    notes: s.notes,
    pitch_class_histogram: s.pitchClassHistogram,
    key_histogram: s.keyHistogram,
    in_key_share: finite(s.inKeyShare),
    polyphony: finite(s.polyphony),
    silent_share: finite(s.silentShare),
    notes_per_quarter: finite(s.notesPerQuarter),
    mean_pitch: finite(s.meanPitch),
    pitch_std: finite(s.pitchStd),
  };
}

export async function runMusicEval(opts: MusicEvalOptions, explicit: Set<string>): Promise<number> {
  if (opts.music === undefined) throw new UsageError("--reference goes with --music=FILES");
  for (const name of MODEL_FLAGS) {
    if (explicit.has(name)) throw new UsageError(`--${name} does not go with --music (no model is used)`);
  }
  const music = await collect(opts.music);
  const reference = opts.reference === undefined ? undefined : await collect(opts.reference);
  const a = musicStats(music.tally);
  const b = reference ? musicStats(reference.tally) : undefined;
  const distance = b ? histogramDistance(a.pitchClassHistogram, b.pitchClassHistogram) : undefined;
  const keyDistance = b ? histogramDistance(a.keyHistogram, b.keyHistogram) : undefined;
  for (const c of [music, reference]) {
    for (const line of c?.skipped ?? []) console.error(`skipped ${line}`);
  }
  if (opts.json) {
    console.log(
      JSON.stringify({
        music: { spec: music.spec, skipped: music.skipped.length, ...statsJson(a) },
        reference:
          reference && b
            ? { spec: reference.spec, skipped: reference.skipped.length, ...statsJson(b) }
            : null,
        pitch_class_distance: distance ?? null,
        key_histogram_distance: keyDistance ?? null,
      }),
    );
    return 0;
  }
  const lines = [row("", "music", b ? "reference" : undefined)];
  const add = (name: string, f: (s: MusicStats) => string) =>
    lines.push(row(name, f(a), b ? f(b) : undefined));
  add("pieces", (s) => String(s.pieces));
  add("notes", (s) => String(s.notes));
  add("notes in the key", (s) => `${fmt(s.inKeyShare * 100, 1)} %`);
  add("polyphony (pitches per sounding step)", (s) => fmt(s.polyphony, 2));
  add("silent steps", (s) => `${fmt(s.silentShare * 100, 1)} %`);
  add("notes per quarter", (s) => fmt(s.notesPerQuarter, 2));
  add("mean pitch", (s) => fmt(s.meanPitch, 1));
  add("pitch std", (s) => fmt(s.pitchStd, 1));
  const names = ["C", "C#", "D", "Eb", "E", "F", "F#", "G", "Ab", "A", "Bb", "B"];
  lines.push("  pitch classes (% of notes)");
  names.forEach((n, i) => {
    add(`    ${n}`, (s) => fmt(s.pitchClassHistogram[i] * 100, 1));
  });
  lines.push("  degrees above the tonic (% of notes)");
  for (let i = 0; i < 12; i++) add(`    +${i}`, (s) => fmt(s.keyHistogram[i] * 100, 1));
  lines.unshift(`Music: ${music.spec}${reference ? `\nReference: ${reference.spec}` : ""}`);
  if (distance !== undefined) {
    lines.push(
      `Pitch-class histogram distance (total variation, 0 = same, 1 = disjoint): ${distance.toFixed(4)}`,
    );
  }
  if (keyDistance !== undefined) {
    lines.push(
      `Key-normalised histogram distance (degrees above each piece's tonic): ${keyDistance.toFixed(4)}`,
    );
  }
  console.log(lines.join("\n"));
  return 0;
}
