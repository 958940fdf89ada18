// Trains a small model on a folder of MIDI (or MusicXML, ABC) files with polyrnn's library API, then
// generates from it and writes the result as a MIDI file.
//
//   node train_and_generate.mjs <folder of MIDI files> [steps]
import {
  buildDataset,
  convertFiles,
  createKernels,
  DEFAULT_DATASET_OPTIONS,
  generate,
  loadBundle,
  parseHParams,
  trainModel,
} from "polyrnn";
import { readInputFiles, writeMidiFile } from "polyrnn/node";

const [dir = "midi", steps = "20"] = process.argv.slice(2);
const { sequences, skipped } = convertFiles(await readInputFiles(dir, { recursive: true }), "midi");
for (const s of skipped) console.error(`skipped ${s.name}: ${s.reason}`);
const data = buildDataset(sequences, { ...DEFAULT_DATASET_OPTIONS, evalRatio: 0 });

const kernels = await createKernels(); // WebAssembly (threads), else the TypeScript reference
const result = await trainModel({
  kernels,
  hparams: parseHParams("batch_size=4,rnn_layer_sizes=[32]"),
  tracks: data.training,
  numSteps: Number(steps),
  onStep: (m) => console.error(`step ${m.step}: loss ${m.loss.toFixed(3)}`),
});
const music = await generate({ bundle: loadBundle(result.bundle), numSteps: 64, seed: 1, kernels });
await writeMidiFile("generated.mid", music);
kernels.dispose();
console.log(JSON.stringify({ step: result.step, notes: music.notes.length, kernels: kernels.name }));
