// How much a model wants to end a piece in the middle of a generation, and how often a generated step is
// silent, by position: for each primer MIDI in a folder, five generations of 128 steps sampled as
// `polyrnn generate` samples them (well-formed by default, which never draws END before the end; with
// `magenta`, from the whole softmax as Magenta does, which keeps a drawn END in the sequence and feeds it to
// the model), then read back: the model's probability of END at each generated step start, teacher-forced on
// the sequence it made. Counted in blocks of 32 generated steps.
//
//   npm run build && node scripts/end_horizon.mjs MODEL.safetensors PRIMER_DIR [TEMPERATURE=1.2] [magenta]
//
// A model trained on windows of N steps that all end with END learns that music stops after N steps: past
// that horizon it puts probability on END, and with END masked it falls silent instead. PRIMER_DIR: e.g. the
// thin tuning primers that `PRIMERS=thin bash scripts/bach_quality.sh` writes to $WORK/thin_primers.
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { END_ID, EventType, eventToId, STEP_END_ID } from "../dist/events/codec.js";
import { beamSearch } from "../dist/generate/beam_search.js";
import { createLstmRnn } from "../dist/generate/lstm_rnn.js";
import { createRng } from "../dist/generate/rng.js";
import { readMidi } from "../dist/io/midi_read.js";
import { createKernels } from "../dist/kernels/index.js";
import { loadBundle } from "../dist/model/bundle.js";
import { extractPolyphonicSequences } from "../dist/pipeline/extract.js";
import { quantizeNoteSequence } from "../dist/pipeline/quantize.js";

const [modelFile, primerDir, temperatureText = "1.2", mode = "well-formed"] = process.argv.slice(2);
if (!modelFile || !primerDir || !["well-formed", "magenta"].includes(mode)) {
  console.error("usage: node scripts/end_horizon.mjs MODEL.safetensors PRIMER_DIR [TEMPERATURE] [magenta]");
  process.exit(2);
}
const STEPS = 128;
const BLOCK = 32;
const OUTPUTS = 5;
const k = await createKernels("wasm", { threads: 1 });
const rnn = createLstmRnn(k, loadBundle(readFileSync(modelFile)).weights);
const blocks = Array.from({ length: STEPS / BLOCK }, () => ({ steps: 0, pEnd: 0, ends: 0, silent: 0 }));
const primers = readdirSync(primerDir).filter((f) => f.endsWith(".mid"));
if (primers.length === 0) throw new Error(`${primerDir}: no .mid files`);

/** The model's probability of END at position p of row r (softmax of the logits, untempered). */
function pEndAt(logits, r) {
  const f = k.f32();
  const row = logits + r * rnn.numClasses;
  let max = Number.NEGATIVE_INFINITY;
  for (let c = 0; c < rnn.numClasses; c++) max = Math.max(max, f[row + c]);
  let z = 0;
  for (let c = 0; c < rnn.numClasses; c++) z += Math.exp(f[row + c] - max);
  return Math.exp(f[row + END_ID] - max) / z;
}

for (const name of primers.sort()) {
  const q = quantizeNoteSequence(readMidi(readFileSync(join(primerDir, name))), 4);
  const track = extractPolyphonicSequences(q, { minSteps: 0, maxSteps: Number.POSITIVE_INFINITY })
    .sequences[0];
  if (!track) throw new Error(`${name}: no track`);
  const primer = track.events.slice(0, -1); // without its END, as generation primes
  const requests = Array.from({ length: OUTPUTS }, (_, i) => ({
    primer,
    numSteps: 5 * (STEPS + 2), // polyrnn generate asks for 5 events a step, in rounds until it has them all
    rng: createRng(2, i),
  }));
  const results = beamSearch(rnn, requests, {
    temperature: Number(temperatureText),
    beamSize: 1,
    branchFactor: 1,
    stepsPerIteration: 1,
    wellFormed: mode === "well-formed",
  });
  // Read back: position p's logits predict event p + 1; a generated step starts after the primer and after
  // each generated STEP_END.
  const seqs = results.map((r) => r.events.map(eventToId));
  const stepOf = seqs.map((ids) => {
    const at = new Int32Array(ids.length).fill(-1);
    let step = 0;
    for (let p = primer.length - 1; p < ids.length - 1 && step < STEPS; p++) {
      if (p === primer.length - 1 || ids[p] === STEP_END_ID) at[p] = step++;
    }
    return at;
  });
  rnn.run(
    seqs.map(() => rnn.zeroState()),
    seqs.map((ids) => ids.slice(0, -1)),
    (p, logits) => {
      seqs.forEach((ids, r) => {
        if (p >= ids.length - 1 || stepOf[r][p] < 0) return;
        blocks[Math.floor(stepOf[r][p] / BLOCK)].pEnd += pEndAt(logits, r);
      });
    },
  );
  for (const r of results) {
    // Pitches sounding, as the decoder reads them: a CONTINUED_NOTE of a pitch that was not sounding is ignored.
    let sounding = [];
    let continued = [];
    let struck = [];
    let step = 0;
    for (const e of r.events.slice(primer.length)) {
      if (step >= STEPS) break;
      const block = blocks[Math.floor(step / BLOCK)];
      if (e.type === EventType.END) block.ends++;
      else if (e.type === EventType.CONTINUED_NOTE) continued.push(e.pitch);
      else if (e.type === EventType.NEW_NOTE) struck.push(e.pitch);
      else if (e.type === EventType.STEP_END) {
        sounding = [...continued.filter((p) => sounding.includes(p)), ...struck];
        block.steps++;
        if (sounding.length === 0) block.silent++;
        continued = [];
        struck = [];
        step++;
      }
    }
  }
}
console.log(
  `${modelFile}, ${primers.length} primers x ${OUTPUTS}, temperature ${temperatureText}, ${mode} sampling`,
);
console.log("generated steps   p(END) at a step start   END drawn per 1,000 steps   silent steps");
blocks.forEach((b, i) => {
  const range = `${i * BLOCK}-${(i + 1) * BLOCK - 1}`.padEnd(16);
  const pEnd = `${((100 * b.pEnd) / b.steps).toFixed(2)} %`.padStart(22);
  const ends = ((1000 * b.ends) / b.steps).toFixed(0).padStart(24);
  console.log(`${range}  ${pEnd}   ${ends}   ${((100 * b.silent) / b.steps).toFixed(1).padStart(10)} %`);
});
