// Thin primers for choosing a Bach bundle's generation settings (scripts/bach_quality.sh PRIMERS=thin):
// one or two voices cut from chorales of the EVAL split, shaped like the reported primers seed1.mid and
// seed2.mid (a quarter of silence, then a short line), but never those primers and never training data.
//
//   node scripts/thin_primers.mjs EVAL_SPLIT.tfrecord OUT_DIR [COUNT=20]
//
// From COUNT examples spaced evenly through the file: primer i starts at an onset a multiple of 16 steps
// (a 4/4 bar) after the example's first onset (the (7·i mod n)-th of the n such onsets), keeps the highest
// note struck at each onset and, for odd i, also the lowest (held notes may overlap the next), for 2 quarters (i mod 4 < 2) or 4 quarters, shifted
// to start after one quarter of silence at 120 qpm. Writes OUT_DIR/thinNN.mid and prints one line per primer.
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { decodeSequenceExample } from "../dist/dataset/sequence_example.js";
import { decodeIds, encodeIds, numSteps, setLength, toNoteSequence } from "../dist/events/codec.js";
import { writeMidi } from "../dist/io/midi.js";
import { decodeTFRecords } from "../dist/io/tfrecord.js";
import { thinOpening } from "../dist/pipeline/thin.js";

const [file, outDir, countText = "20"] = process.argv.slice(2);
if (!file || !outDir) {
  console.error("usage: node scripts/thin_primers.mjs EVAL_SPLIT.tfrecord OUT_DIR [COUNT]");
  process.exit(2);
}
const count = Number(countText);
const examples = [...decodeTFRecords(readFileSync(file))].map((r) => decodeSequenceExample(r));
if (examples.length < count) throw new Error(`${file}: ${examples.length} examples, fewer than ${count}`);
mkdirSync(outDir, { recursive: true });
const QUARTER = 0.5; // seconds at 120 qpm
for (let i = 0; i < count; i++) {
  const k = Math.floor((i * examples.length) / count);
  const ex = examples[k];
  const ids = [ex.inputs?.[0] ?? 0, ...ex.labels];
  const decoded = decodeIds(ids, 4);
  const steps = numSteps(decoded);
  const seq = setLength(decoded, steps);
  const ns = toNoteSequence(seq);
  // Windows start on an onset a whole number of bars after the example's first one, and fit in it.
  const quarters = i % 4 < 2 ? 2 : 4;
  const first = Math.min(...ns.notes.map((n) => n.startTime));
  const starts = [...new Set(ns.notes.map((n) => n.startTime))].filter(
    (t) => (t - first) % (4 * QUARTER) === 0 && t + quarters * QUARTER <= ns.totalTime,
  );
  if (starts.length === 0) throw new Error(`example ${k}: shorter than ${quarters} quarters`);
  const from = starts.sort((a, b) => a - b)[(i * 7) % starts.length];
  const to = from + quarters * QUARTER;
  // The whole example thinned as `polyrnn dataset --thin_openings` thins an opening, then the window.
  const thin = toNoteSequence(decodeIds(thinOpening(encodeIds(seq), steps, i % 2 ? 2 : 1), 4));
  const kept = thin.notes.filter((n) => n.startTime >= from && n.startTime < to);
  const notes = kept.map((n) => ({
    ...n,
    startTime: n.startTime - from + QUARTER,
    endTime: Math.min(n.endTime, to) - from + QUARTER,
  }));
  if (notes.length === 0) throw new Error(`example ${k}: no notes in its window`);
  const totalTime = Math.max(...notes.map((n) => n.endTime));
  const name = `thin${String(i).padStart(2, "0")}.mid`;
  writeFileSync(join(outDir, name), writeMidi({ ...ns, notes, totalTime }));
  const line = notes
    .sort((a, b) => a.startTime - b.startTime || b.pitch - a.pitch)
    .map((n) => `${n.pitch}@${((n.startTime - QUARTER) / (QUARTER / 4)).toFixed(0)}`);
  console.log(`${name}: example ${k}, ${i % 2 ? 2 : 1} voice(s), ${quarters} quarters: ${line.join(" ")}`);
}
