// Training data for primers with fewer voices than a chorale (issue #16: from seed1 or seed2, one or two
// voices, the Bach model kept the texture thin). Copies a training split, and in a FRACTION of its examples
// (chosen by SEED) keeps only one or two voices (the highest, and for half of them also the lowest, note of
// each onset) for the first 8 to 32 steps; the other voices come in at their next onset after that. The
// rest of each example, and every other example, is unchanged (checked: decoding and re-encoding an
// unchanged example gives its events back exactly). The eval split is left as it is.
//
//   node scripts/thin_openings.mjs IN.tfrecord OUT.tfrecord [FRACTION=0.25] [SEED=1]
import { readFileSync, renameSync, writeFileSync } from "node:fs";
import { decodeSequenceExample, encodeSequenceExample } from "../dist/dataset/sequence_example.js";
import {
  decodeIds,
  EventType,
  eventToId,
  fromQuantizedSequence,
  START,
  toNoteSequence,
} from "../dist/events/codec.js";
import { decodeTFRecords, encodeTFRecords } from "../dist/io/tfrecord.js";
import { createNoteSequence } from "../dist/notesequence.js";

const [input, output, fractionText = "0.25", seedText = "1"] = process.argv.slice(2);
if (!input || !output) {
  console.error("usage: node scripts/thin_openings.mjs IN.tfrecord OUT.tfrecord [FRACTION] [SEED]");
  process.exit(2);
}
const fraction = Number(fractionText);
let state = Number(seedText) >>> 0 || 1;
const random = () => {
  state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
  return state / 2 ** 32;
};
const SECONDS_PER_STEP = 0.125; // toNoteSequence's default 120 qpm, 4 steps per quarter
const startId = eventToId(START);

/** An example's notes in steps, and its number of steps. */
function notesOf(labels) {
  const seq = decodeIds([startId, ...labels], 4);
  let steps = 0;
  for (const e of seq.events) if (e.type === EventType.STEP_END) steps++;
  const ns = toNoteSequence(seq);
  const notes = ns.notes.map((n) => ({
    pitch: n.pitch,
    start: Math.round(n.startTime / SECONDS_PER_STEP),
    end: Math.round(n.endTime / SECONDS_PER_STEP),
  }));
  return { notes, steps };
}

function encode(notes, steps) {
  const qns = createNoteSequence({
    quantizationInfo: { stepsPerQuarter: 4 },
    totalQuantizedSteps: steps,
    notes: notes.map((n) => ({ pitch: n.pitch, quantizedStartStep: n.start, quantizedEndStep: n.end })),
  });
  return fromQuantizedSequence(qns).events.map(eventToId).slice(1);
}

const records = [];
let thinned = 0;
let unchangedChecked = 0;
for (const record of decodeTFRecords(readFileSync(input))) {
  const { labels } = decodeSequenceExample(record);
  const thin = random() < fraction;
  const k = 8 + Math.floor(random() * 25);
  const twoVoices = random() < 0.5;
  const { notes, steps } = notesOf(labels);
  if (!thin) {
    // Every 50th unchanged example: its notes encode back to exactly its events.
    if (records.length % 50 === 0) {
      const again = encode(notes, steps);
      if (again.length !== labels.length || again.some((id, i) => id !== labels[i]))
        throw new Error(`example ${records.length}: decoding and re-encoding changed it`);
      unchangedChecked++;
    }
    records.push(record);
    continue;
  }
  const byOnset = new Map();
  for (const n of notes) if (n.start < k) byOnset.set(n.start, [...(byOnset.get(n.start) ?? []), n]);
  const kept = new Set();
  for (const group of byOnset.values()) {
    group.sort((a, b) => b.pitch - a.pitch);
    kept.add(group[0]);
    if (twoVoices) kept.add(group[group.length - 1]);
  }
  const out = notes.filter((n) => n.start >= k || kept.has(n));
  records.push(encodeSequenceExample({ labels: encode(out, steps) }));
  thinned++;
}
writeFileSync(`${output}.tmp`, encodeTFRecords(records));
renameSync(`${output}.tmp`, output);
console.log(
  `Wrote ${output}: ${records.length} examples, ${thinned} with a thin opening (${unchangedChecked} unchanged ones re-encoded exactly).`,
);
