// `polyrnn dataset --thin_openings` for a dataset already made: copies a training split, giving a FRACTION
// of its examples (chosen by a linear congruential generator seeded with SEED, in file order) a thin
// opening (src/pipeline/thin.ts: one or two voices for the first 8 to 32 steps). The other examples are
// copied as they are. This is how the Bach bundle's thin-opening data was made (models/README.md).
//
//   node scripts/thin_openings.mjs IN.tfrecord OUT.tfrecord [FRACTION=0.25] [SEED=1]
import { readFileSync, renameSync, writeFileSync } from "node:fs";
import { decodeSequenceExample, encodeSequenceExample } from "../dist/dataset/sequence_example.js";
import { START_ID, toTrainingExample } from "../dist/events/codec.js";
import { decodeTFRecords, encodeTFRecords } from "../dist/io/tfrecord.js";
import { THIN_OPENING_STEPS, thinOpening } from "../dist/pipeline/thin.js";

const [input, output, fractionText = "0.25", seedText = "1"] = process.argv.slice(2);
if (!input || !output) {
  console.error("usage: node scripts/thin_openings.mjs IN.tfrecord OUT.tfrecord [FRACTION] [SEED]");
  process.exit(2);
}
const fraction = Number(fractionText);
if (!(fraction >= 0 && fraction <= 1)) {
  console.error(`FRACTION ${fractionText}: expected a number from 0 to 1`);
  process.exit(2);
}
let state = Number(seedText) >>> 0 || 1;
const random = () => {
  state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
  return state / 2 ** 32;
};
const span = THIN_OPENING_STEPS.max - THIN_OPENING_STEPS.min + 1;

const records = [];
let thinned = 0;
for (const record of decodeTFRecords(readFileSync(input))) {
  const thin = random() < fraction;
  const steps = THIN_OPENING_STEPS.min + Math.floor(random() * span);
  const voices = random() < 0.5 ? 2 : 1; // (the reverse of thin.ts's mapping; kept: the Bach data was made so)
  if (!thin) {
    records.push(record);
    continue;
  }
  const { labels, inputs } = decodeSequenceExample(record);
  const ids = thinOpening([START_ID, ...labels], steps, voices);
  // A record with one-hot inputs (--include_inputs) keeps them: the events shifted right behind START.
  records.push(encodeSequenceExample(inputs ? toTrainingExample(ids) : { labels: ids.slice(1) }));
  thinned++;
}
writeFileSync(`${output}.tmp`, encodeTFRecords(records));
renameSync(`${output}.tmp`, output);
console.log(`Wrote ${output}: ${records.length} examples, ${thinned} with a thin opening.`);
