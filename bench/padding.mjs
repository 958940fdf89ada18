#!/usr/bin/env node
// Share of real events (not padding) in training batches, by batching: Magenta's random batches against
// polyrnn's length-bucketed ones (`polyrnn train --batching`), on a dataset file. No timing: it counts.
//
//   npm run build && node bench/padding.mjs --file=DIR/training_poly_tracks.tfrecord [--batches=500]
//     [--batch_size=64] [--seed=5]
//
// For each batching it draws the batches the trainer would (TrainingBatches, the same seed) and prints
// the real events over the padded positions (batch length × batch size), and the mean real events per
// batch.
import { dirname, resolve } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { parseFlags } from "./train.mjs";

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const dist = (p) => pathToFileURL(resolve(ROOT, "dist", p)).href;
const { BATCHINGS, ExampleSet, TrainingBatches } = await import(dist("dataset/batches.js"));
const { readTFRecordFile } = await import(dist("io/fs.js"));

const flags = parseFlags(process.argv.slice(2));
if (typeof flags.file !== "string") {
  console.error("usage: node bench/padding.mjs --file=training_poly_tracks.tfrecord [--batches=500]");
  process.exit(2);
}
const batches = Number(flags.batches ?? 500);
const B = Number(flags.batch_size ?? 64);
const seed = Number(flags.seed ?? 5);
const set = await ExampleSet.fromRecords(readTFRecordFile(flags.file), flags.file);
console.log(`${flags.file}: ${set.count} tracks, ${set.tokens} events; ${batches} batches of ${B}`);
for (const batching of BATCHINGS) {
  const stream = new TrainingBatches(set, seed, 0, batching);
  let real = 0;
  let positions = 0;
  for (let i = 0; i < batches; i++) {
    const b = stream.nextBatch(B);
    positions += b.length * B;
    for (const n of b.lengths) real += n;
  }
  console.log(
    `  --batching=${batching.padEnd(6)} ${((100 * real) / positions).toFixed(1)} % real events, ${(real / batches).toFixed(0)} per batch`,
  );
}
