/**
 * The dataset pipeline on real corpora of ../shared/data:
 * 1. Bach chorales: quantized piece → PolyphonicSequence → event ids → NoteSequence gives back every
 *    note on its quantized steps (exactly where the encoding can say which note is which).
 * 2. Bach chorales through the whole job (convertDirectory + createDatasetFromNoteSequences): the output
 *    records and Magenta's statistics agree with an independent count from the quantized pieces, and a
 *    seeded split is reproducible.
 * 3. The notebook's 15 Schubert pieces (expressive MIDI, a tempo change every few notes): Magenta's
 *    default keeps almost nothing; --quantize_on_beats (with split long tracks) keeps almost everything.
 */
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { convertDirectory } from "../src/cli/convert_job.js";
import { createDatasetFromNoteSequences, type DatasetSummary, OUTPUT_NAMES } from "../src/cli/dataset_job.js";
import { decodeSequenceExample } from "../src/dataset/sequence_example.js";
import {
  DEFAULT_QPM,
  decodeIds,
  EventType,
  encodeIds,
  eventToId,
  NUM_CLASSES,
  numSteps,
  type PolyEvent,
  toNoteSequence,
} from "../src/events/codec.js";
import { MAX_UNISON, wellFormedNext } from "../src/events/grammar.js";
import { readMidi } from "../src/io/midi.js";
import { decodeNoteSequence } from "../src/io/notesequence_proto.js";
import { decodeTFRecords } from "../src/io/tfrecord.js";
import type { NoteSequence } from "../src/notesequence.js";
import {
  choosePartition,
  type DatasetOptions,
  DEFAULT_DATASET_OPTIONS,
  type Mode,
  processNoteSequence,
} from "../src/pipeline/dataset.js";
import { extractPolyphonicSequences, type Histogram, type Statistics } from "../src/pipeline/extract.js";
import {
  BadTimeSignatureError,
  MultipleTempoError,
  MultipleTimeSignatureError,
  quantizeNoteSequence,
  quantizeNoteSequenceOnBeats,
} from "../src/pipeline/quantize.js";
import {
  splitNoteSequenceOnTimeChanges,
  splitNoteSequenceOnTimeSignatureChanges,
} from "../src/pipeline/split.js";
import { transposeNoteSequence } from "../src/pipeline/transpose.js";

const dataDir = resolve(import.meta.dirname, "../../shared/data");
const haveData = existsSync(dataDir);
const bachDir = join(dataDir, "bach-chorales-midi");
const schubertDir = join(dataDir, "piano-midi.de");

const SPQ = 4;
const STEP_END_LABEL = 2;
/** Magenta's polyphonic_track_lengths_in_bars buckets (spec §1.4). */
const LENGTH_BUCKETS = [0, 1, 10, 20, 30, 40, 50, 100, 200, 500, 1000];

const tmpDirs: string[] = [];
function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), "polyrnn-dataset-corpus-"));
  tmpDirs.push(dir);
  return dir;
}
afterAll(() => {
  for (const dir of tmpDirs) rmSync(dir, { recursive: true, force: true });
});

function bachFiles(): string[] {
  return readdirSync(bachDir)
    .filter((f) => f.endsWith(".mid"))
    .sort();
}

/** split → quantize, skipping the pieces Magenta's Quantizer drops (and counting them). */
function quantizedPieces(ns: NoteSequence): { pieces: NoteSequence[]; dropped: number } {
  const pieces: NoteSequence[] = [];
  let dropped = 0;
  for (const piece of splitNoteSequenceOnTimeChanges(ns)) {
    try {
      pieces.push(quantizeNoteSequence(piece, SPQ));
    } catch (e) {
      if (
        e instanceof MultipleTimeSignatureError ||
        e instanceof MultipleTempoError ||
        e instanceof BadTimeSignatureError
      ) {
        dropped++;
        continue;
      }
      throw e;
    }
  }
  return { pieces, dropped };
}

type Span = [start: number, end: number];

function spansByPitch(notes: { pitch: number; start: number; end: number }[]): Map<number, Span[]> {
  const m = new Map<number, Span[]>();
  for (const n of notes) {
    const list = m.get(n.pitch);
    if (list) list.push([n.start, n.end]);
    else m.set(n.pitch, [[n.start, n.end]]);
  }
  for (const list of m.values()) list.sort((a, b) => a[0] - b[0] || a[1] - b[1]);
  return m;
}

function sortedNumbers(xs: number[]): number[] {
  return [...xs].sort((a, b) => a - b);
}

/** Two notes of one pitch sounding at the same time (not merely end == next start). */
function hasSamePitchOverlap(byPitch: Map<number, Span[]>): boolean {
  for (const spans of byPitch.values()) {
    let maxEnd = Number.NEGATIVE_INFINITY;
    for (const [s, e] of spans) {
      if (s < maxEnd) return true;
      maxEnd = Math.max(maxEnd, e);
    }
  }
  return false;
}

function stepsPerBar(q: NoteSequence): number {
  const ts = q.timeSignatures[0] ?? { numerator: 4, denominator: 4 };
  return SPQ * (4 / ts.denominator) * ts.numerator;
}

function bucketIndex(value: number): number {
  let i = 0;
  while (i < LENGTH_BUCKETS.length && LENGTH_BUCKETS[i] <= value) i++;
  return i;
}

function readRecords(path: string): Uint8Array[] {
  return [...decodeTFRecords(readFileSync(path))];
}

/** Steps of each track (STEP_END labels) in an output file, in record order. */
function trackSteps(path: string): number[] {
  return readRecords(path).map((r) => {
    const { labels } = decodeSequenceExample(r);
    return labels.reduce((n, id) => n + (id === STEP_END_LABEL ? 1 : 0), 0);
  });
}

const suite = haveData ? describe : describe.skip;

suite(
  haveData
    ? "dataset pipeline on the corpora of ../shared/data"
    : "../shared/data not found: corpus tests skipped",
  () => {
    it("Bach chorales: every extracted track decodes back to the notes of its quantized piece", () => {
      const files = bachFiles();
      expect(files).toHaveLength(498);
      // toNoteSequence writes seconds at its qpm (default 120), not quantized steps (it leaves
      // quantizedStartStep/EndStep at 0), so the decoded steps are derived from the seconds.
      const secondsPerStep = 60 / DEFAULT_QPM / SPQ;
      let offGrid = 0;
      const toStep = (seconds: number) => {
        const step = seconds / secondsPerStep;
        if (!Number.isInteger(step)) offGrid++;
        return step;
      };
      let filesWithTracks = 0;
      let tracks = 0;
      let notes = 0;
      let exactPieces = 0;
      let overlapPieces = 0;
      for (const file of files) {
        const { pieces } = quantizedPieces(readMidi(readFileSync(join(bachDir, file))));
        let fileTracks = 0;
        for (const q of pieces) {
          for (const amount of [0, 3]) {
            const transposed = transposeNoteSequence(q, amount);
            expect(transposed, `${file} +${amount}`).toBeDefined();
            const { sequences } = extractPolyphonicSequences(transposed as NoteSequence);
            expect(sequences.length).toBeLessThanOrEqual(1);
            for (const seq of sequences) {
              const ids = encodeIds(seq);
              const back = decodeIds(ids, seq.stepsPerQuarter, seq.startStep);
              expect(back.events).toEqual(seq.events);
              // One STEP_END per quantized step, trailing silence included.
              expect(numSteps(back)).toBe(q.totalQuantizedSteps);
              const decoded = toNoteSequence(back);
              expect(decoded.totalTime).toBe(q.totalQuantizedSteps * secondsPerStep);
              for (const n of decoded.notes) {
                if (n.quantizedStartStep !== 0 || n.quantizedEndStep !== 0) {
                  expect([n.quantizedStartStep, n.quantizedEndStep]).toEqual([
                    toStep(n.startTime),
                    toStep(n.endTime),
                  ]);
                }
              }
              const got = spansByPitch(
                decoded.notes.map((n) => ({
                  pitch: n.pitch,
                  start: toStep(n.startTime),
                  end: toStep(n.endTime),
                })),
              );
              const want = spansByPitch(
                q.notes.map((n) => ({
                  pitch: n.pitch + amount,
                  start: n.quantizedStartStep,
                  end: n.quantizedEndStep,
                })),
              );
              expect(decoded.notes.length).toBe(q.notes.length);
              expect([...got.keys()].sort()).toEqual([...want.keys()].sort());
              // The events say only "pitch p sounds / starts here", not which note of a pitch goes on. When
              // two notes of one pitch overlap with different ends (unison voices, very common in the
              // chorales) Magenta's decoder closes the OLDEST open note first, so only the multisets of
              // start and end steps per pitch are recoverable, not the pairing.
              for (const [pitch, spans] of want) {
                const g = got.get(pitch) as Span[];
                expect(sortedNumbers(g.map((s) => s[0])), `${file} pitch ${pitch} starts`).toEqual(
                  sortedNumbers(spans.map((s) => s[0])),
                );
                expect(sortedNumbers(g.map((s) => s[1])), `${file} pitch ${pitch} ends`).toEqual(
                  sortedNumbers(spans.map((s) => s[1])),
                );
                // Oldest-first closing is exactly "the k-th start pairs with the k-th end": predict it.
                const starts = sortedNumbers(spans.map((s) => s[0]));
                const ends = sortedNumbers(spans.map((s) => s[1]));
                const fifo = starts.map((s, k): Span => [s, ends[k]]);
                expect(g, `${file} pitch ${pitch} oldest-first pairing`).toEqual(
                  fifo.sort((a, b) => a[0] - b[0] || a[1] - b[1]),
                );
              }
              // Without same-pitch overlaps the notes themselves come back, (pitch, start, end) exactly.
              if (!hasSamePitchOverlap(want)) {
                expect(got, file).toEqual(want);
                exactPieces++;
              } else {
                overlapPieces++;
              }
              notes += decoded.notes.length;
              fileTracks++;
            }
          }
        }
        tracks += fileTracks;
        if (fileTracks > 0) filesWithTracks++;
      }
      console.log(
        `Bach round trip: ${filesWithTracks}/${files.length} files gave tracks; ${tracks} tracks ` +
          `(transpositions 0 and +3), ${notes} notes; ${exactPieces} tracks without same-pitch overlap ` +
          `(exact notes), ${overlapPieces} with (start/end multisets per pitch)`,
      );
      expect(offGrid).toBe(0);
      expect(filesWithTracks).toBeGreaterThan(400);
      expect(tracks).toBeGreaterThan(800);
      expect(exactPieces).toBeGreaterThan(0);
    });

    it("Bach chorales: the well-formed mask allows every event, voices in unison included", () => {
      let events = 0;
      let forbidden = 0;
      let unisons = 0; // events repeating the one before (a further voice on its pitch)
      let longestRun = 0;
      const mask = new Uint8Array(NUM_CLASSES);
      for (const file of bachFiles()) {
        for (const q of quantizedPieces(readMidi(readFileSync(join(bachDir, file)))).pieces) {
          for (const seq of extractPolyphonicSequences(q).sequences) {
            const prefix: PolyEvent[] = [seq.events[0]];
            let run = 1;
            // (The last event is END, which the generator never draws.)
            for (let i = 1; i < seq.events.length - 1; i++) {
              const e = seq.events[i];
              const prev = seq.events[i - 1];
              run =
                e.type !== EventType.STEP_END && e.type === prev.type && e.pitch === prev.pitch ? run + 1 : 1;
              if (run > 1) unisons++;
              longestRun = Math.max(longestRun, run);
              wellFormedNext(prefix, mask);
              if (!mask[eventToId(e)]) forbidden++;
              prefix.push(e);
              events++;
            }
          }
        }
      }
      expect(events).toBeGreaterThan(500_000);
      expect(unisons).toBeGreaterThan(events / 100);
      expect(longestRun).toBeLessThanOrEqual(MAX_UNISON);
      expect(forbidden).toBe(0);
    });

    it("Bach chorales: the dataset job's records and statistics match an independent count", async () => {
      const work = tempDir();
      const nsFile = join(work, "bach.tfrecord");
      const converted = await convertDirectory({
        inputDir: bachDir,
        outputFile: nsFile,
        recursive: false,
        jobs: 1,
      });
      expect(converted.converted).toBe(498);
      expect(converted.failed).toEqual([]);

      const evalRatio = 0.1;
      const run = (seed: number, outputDir: string) =>
        createDatasetFromNoteSequences(nsFile, {
          ...DEFAULT_DATASET_OPTIONS,
          evalRatio,
          seed,
          includeInputs: false,
          outputDir,
        });
      const out7 = join(work, "seed7");
      const summary: DatasetSummary = await run(7, out7);
      expect(summary.inputs).toBe(498);
      expect(summary.skippedRecords).toEqual([]);
      const stats: Statistics = summary.stats;
      const stat = (name: string) => (stats[name] as number | undefined) ?? 0;

      // Independent expectation, input by input, in processing order. A track's steps are the piece's
      // totalQuantizedSteps: fromQuantizedSequence emits one STEP_END per step in [0, total) (trailing
      // silence included), and transposition moves pitches only, so all 9 versions have that length. A
      // transposition exists iff every non-drum pitch stays in 0…127.
      const opts: DatasetOptions = DEFAULT_DATASET_OPTIONS;
      const expected: Record<Mode, { steps: number[]; spb: number[] }> = {
        training: { steps: [], spb: [] },
        eval: { steps: [], spb: [] },
      };
      const count = {
        training: {
          inputs: 0,
          pieces: 0,
          generated: 0,
          skipped: 0,
          short: 0,
          long: 0,
          programs: 0,
          qdrop: 0,
        },
        eval: { inputs: 0, pieces: 0, generated: 0, skipped: 0, short: 0, long: 0, programs: 0, qdrop: 0 },
      };
      const filenames: string[] = [];
      for (const record of readRecords(nsFile)) {
        const ns = decodeNoteSequence(record);
        filenames.push(ns.filename);
        const mode = choosePartition(ns, evalRatio, 7);
        const c = count[mode];
        c.inputs++;
        const { pieces, dropped } = quantizedPieces(ns);
        c.qdrop += dropped;
        for (const q of pieces) {
          c.pieces++;
          const pitches = q.notes.filter((n) => !n.isDrum).map((n) => n.pitch);
          const lo = Math.min(...pitches);
          const hi = Math.max(...pitches);
          const oneProgram = new Set(q.notes.map((n) => n.program)).size <= 1;
          for (const amount of opts.transposeRange) {
            if (pitches.length > 0 && (lo + amount < 0 || hi + amount > 127)) {
              c.skipped++;
              continue;
            }
            c.generated++;
            const steps = q.totalQuantizedSteps;
            if (!oneProgram) c.programs++;
            else if (steps < opts.minSteps) c.short++;
            else if (steps > opts.maxSteps) c.long++;
            else {
              expected[mode].steps.push(steps);
              expected[mode].spb.push(stepsPerBar(q));
            }
          }
        }
      }
      expect(filenames).toEqual(bachFiles());
      const quantizedPieceCount = count.training.pieces + count.eval.pieces;
      expect(quantizedPieceCount).toBeGreaterThanOrEqual(498);

      const report: Record<string, unknown> = {};
      for (const mode of ["training", "eval"] as const) {
        const c = count[mode];
        const steps = trackSteps(join(out7, OUTPUT_NAMES[mode]));
        expect(steps.length).toBe(summary.outputs[mode]);
        for (const n of steps) {
          expect(n).toBeGreaterThanOrEqual(80);
          expect(n).toBeLessThanOrEqual(512);
        }
        // Record by record, the lengths the independent count predicts.
        expect(steps).toEqual(expected[mode].steps);

        expect(stat(`DAGPipeline_RandomPartition_${mode}_poly_tracks_count`)).toBe(c.inputs);
        const generated = stat(`DAGPipeline_TranspositionPipeline_${mode}_transpositions_generated`);
        const skipped = stat(`DAGPipeline_TranspositionPipeline_${mode}_skipped_due_to_range_exceeded`);
        expect(generated + skipped).toBe(9 * c.pieces);
        expect([generated, skipped]).toEqual([c.generated, c.skipped]);
        const extractor = `DAGPipeline_PolyExtractor_${mode}_polyphonic_`;
        expect(stat(`${extractor}tracks_discarded_too_short`)).toBe(c.short);
        expect(stat(`${extractor}tracks_discarded_too_long`)).toBe(c.long);
        expect(stat(`${extractor}tracks_discarded_more_than_1_program`)).toBe(c.programs);
        const quantizerDrops =
          stat(`DAGPipeline_Quantizer_${mode}_sequences_discarded_because_multiple_time_signatures`) +
          stat(`DAGPipeline_Quantizer_${mode}_sequences_discarded_because_multiple_tempos`) +
          stat(`DAGPipeline_Quantizer_${mode}_sequences_discarded_because_bad_time_signature`);
        expect(quantizerDrops).toBe(c.qdrop);

        // Histogram of steps // steps-per-bar, bar length from each record's own piece (the chorales
        // are not all 4/4: 3/4, 3/2, 12/8, 9/8, 6/8, 2/2, 2/4 occur). Then the 4/4-only cross-check.
        const hist = stats[`${extractor}track_lengths_in_bars`] as Histogram;
        expect(hist.buckets).toEqual(LENGTH_BUCKETS);
        const mine = new Array(LENGTH_BUCKETS.length + 1).fill(0);
        steps.forEach((n, i) => {
          mine[bucketIndex(Math.floor(n / expected[mode].spb[i]))]++;
        });
        expect(hist.counts).toEqual(mine);
        expect(hist.counts.reduce((a, b) => a + b, 0)).toBe(steps.length);
        const fourFour = new Array(LENGTH_BUCKETS.length + 1).fill(0);
        steps.forEach((n, i) => {
          if (expected[mode].spb[i] === 16) fourFour[bucketIndex(Math.floor(n / 16))]++;
        });
        for (let b = 0; b < fourFour.length; b++) expect(hist.counts[b]).toBeGreaterThanOrEqual(fourFour[b]);

        report[mode] = {
          inputs: c.inputs,
          pieces: c.pieces,
          records: steps.length,
          generated,
          skipped,
          tooShort: c.short,
          tooLong: c.long,
          histogram: Object.fromEntries(
            hist.counts
              .map((n, b) => [b === 0 ? "<0" : `[${LENGTH_BUCKETS[b - 1]},${LENGTH_BUCKETS[b] ?? "inf"})`, n])
              .filter(([, n]) => n),
          ),
        };
      }
      expect(count.training.inputs + count.eval.inputs).toBe(498);
      // A 10% split of 498 inputs: nowhere near empty nor half.
      expect(count.eval.inputs).toBeGreaterThan(20);
      expect(count.eval.inputs).toBeLessThan(90);
      console.log("Bach dataset (seed 7):", JSON.stringify(report));

      // Same seed → byte-identical files; another seed → another eval split.
      const again = join(work, "seed7-again");
      await run(7, again);
      const seed8 = join(work, "seed8");
      const summary8 = await run(8, seed8);
      for (const mode of ["training", "eval"] as const) {
        expect(
          Buffer.compare(
            readFileSync(join(again, OUTPUT_NAMES[mode])),
            readFileSync(join(out7, OUTPUT_NAMES[mode])),
          ),
        ).toBe(0);
      }
      expect(
        Buffer.compare(
          readFileSync(join(seed8, OUTPUT_NAMES.eval)),
          readFileSync(join(out7, OUTPUT_NAMES.eval)),
        ),
      ).not.toBe(0);
      expect(summary8.outputs.training + summary8.outputs.eval).toBe(
        summary.outputs.training + summary.outputs.eval,
      );
      const evalIds = (seed: number) =>
        readRecords(nsFile)
          .map((r) => decodeNoteSequence(r))
          .filter((ns) => choosePartition(ns, evalRatio, seed) === "eval")
          .map((ns) => ns.id);
      expect(evalIds(8)).not.toEqual(evalIds(7));
      expect(stat("DAGPipeline_RandomPartition_eval_poly_tracks_count")).toBe(evalIds(7).length);
      expect(summary8.stats.DAGPipeline_RandomPartition_eval_poly_tracks_count).toBe(evalIds(8).length);
    });

    it("Schubert (notebook's 15 pieces): quantize_on_beats + split_long_tracks keeps the music, Magenta's default does not", () => {
      const names = readFileSync(join(schubertDir, "schubert15.txt"), "utf8")
        .split(/\r?\n/)
        .map((l) => l.trim())
        .filter(Boolean);
      expect(names).toHaveLength(15);
      const base: DatasetOptions = { ...DEFAULT_DATASET_OPTIONS, transposeRange: [0] };
      const variants = {
        default: base,
        onBeats: { ...base, quantizeOnBeats: true },
        onBeatsSplit: { ...base, quantizeOnBeats: true, splitLongTracks: true },
      };
      const rows: Record<string, string | number>[] = [];
      const total = { input: 0, defaultNotes: 0, onBeatsNotes: 0, splitNotes: 0, splitNewNotes: 0 };
      for (const name of names) {
        const ns = readMidi(readFileSync(join(schubertDir, "schubert", name)));
        const row: Record<string, string | number> = { file: name, inputNotes: ns.notes.length };
        const kept: Record<string, { notes: number; keptNotes: number; steps: number; tracks: number }> = {};
        for (const [variant, opts] of Object.entries(variants)) {
          const stats: Statistics = {};
          const p = processNoteSequence(ns, "training", opts, stats);
          let newNotes = 0;
          let steps = 0;
          for (const ids of p.tracks) {
            for (const id of ids) {
              if (id === STEP_END_LABEL) steps++;
              else if (id >= 3 && id < 131) newNotes++;
            }
          }
          // Without split windows no note is re-struck, so every NEW_NOTE is a kept note.
          if (!opts.splitLongTracks) expect(p.keptNotes).toBe(newNotes);
          expect(p.keptSteps).toBe(steps);
          kept[variant] = { notes: newNotes, keptNotes: p.keptNotes, steps, tracks: p.tracks.length };
        }
        // Independent count of the notes that reach the dataset on beats: quantize each time-signature
        // piece on beats, cut at every 512 steps, keep windows of ≥ 80 steps; a note counts once, in the
        // window where it starts. A note sounding across a window start is re-struck (a NEW_NOTE in both
        // windows), so the tracks' NEW_NOTE count is that plus the re-struck notes.
        let distinct = 0;
        let restruck = 0;
        for (const piece of splitNoteSequenceOnTimeSignatureChanges(ns)) {
          const q = quantizeNoteSequenceOnBeats(piece, SPQ);
          const n = q.totalQuantizedSteps;
          const windows: Span[] = [];
          for (let from = 0; from < n; from += 512) {
            if (Math.min(from + 512, n) - from >= 80) windows.push([from, Math.min(from + 512, n)]);
          }
          for (const note of q.notes) {
            for (const [from, to] of windows) {
              if (note.quantizedStartStep >= from && note.quantizedStartStep < to) distinct++;
              else if (note.quantizedStartStep < from && note.quantizedEndStep > from && from < to)
                restruck++;
            }
          }
        }
        expect(kept.onBeatsSplit.notes).toBe(distinct + restruck);
        expect(kept.onBeatsSplit.keptNotes).toBe(distinct);
        // Every piece is longer than 512 steps on beats, so without splitting all of it is dropped.
        expect(kept.onBeats.notes).toBe(0);
        expect(kept.default.notes).toBeLessThan(ns.notes.length / 2);
        Object.assign(row, {
          defaultSteps: kept.default.steps,
          onBeatsSteps: kept.onBeats.steps,
          onBeatsSplitSteps: kept.onBeatsSplit.steps,
          onBeatsSplitTracks: kept.onBeatsSplit.tracks,
          keptNotes: distinct,
          restruck,
        });
        rows.push(row);
        total.input += ns.notes.length;
        total.defaultNotes += kept.default.notes;
        total.onBeatsNotes += kept.onBeats.notes;
        total.splitNotes += distinct;
        total.splitNewNotes += kept.onBeatsSplit.notes;
      }
      const header = [
        "file",
        "input notes",
        "steps kept (default)",
        "steps kept (on beats)",
        "steps kept (on beats + split)",
        "notes kept (on beats + split)",
      ];
      const lines = [
        `| ${header.join(" | ")} |`,
        `|${header.map(() => "---").join("|")}|`,
        ...rows.map(
          (r) =>
            `| ${r.file} | ${r.inputNotes} | ${r.defaultSteps} | ${r.onBeatsSteps} | ${r.onBeatsSplitSteps} | ${r.keptNotes} |`,
        ),
        `| total | ${total.input} | ${rows.reduce((n, r) => n + (r.defaultSteps as number), 0)} | ` +
          `${rows.reduce((n, r) => n + (r.onBeatsSteps as number), 0)} | ` +
          `${rows.reduce((n, r) => n + (r.onBeatsSplitSteps as number), 0)} | ${total.splitNotes} |`,
      ];
      console.log(`Schubert 15, transposition 0 only:\n${lines.join("\n")}\n${JSON.stringify(total)}`);
      // Plain on-beats keeps nothing: each piece is one track of > 512 steps (max_steps), dropped whole.
      // The honest measure of quantize_on_beats is therefore with split_long_tracks.
      expect(total.onBeatsNotes).toBe(0);
      expect(total.splitNotes / total.input).toBeGreaterThanOrEqual(0.95);
      expect(total.defaultNotes / total.input).toBeLessThan(0.5);
    });
  },
);
