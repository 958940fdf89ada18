#!/usr/bin/env node
// Seconds for `polyrnn convert` + `polyrnn dataset` (Magenta's defaults: eval_ratio 0.1, transpositions
// -4..4, 80..512 steps) over the 498 Bach chorales and over piano-midi.de (recursive), as a user runs them.
//
//   npm run bench:dataset
//   node bench/dataset.mjs [--repeat N]
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { availableParallelism, cpus, tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { convertDirectory } from "../dist/cli/convert_job.js";
import { createDatasetFromNoteSequences } from "../dist/cli/dataset_job.js";
import { DEFAULT_DATASET_OPTIONS } from "../dist/pipeline/dataset.js";

const args = process.argv.slice(2);
const repeat = args.includes("--repeat") ? Number(args[args.indexOf("--repeat") + 1]) : 3;
const data = resolve("../shared/data");
const corpora = [
  ["bach-chorales-midi", join(data, "bach-chorales-midi"), false],
  ["piano-midi.de", join(data, "piano-midi.de"), true],
];
if (!existsSync(data)) {
  console.error(`bench/dataset: ${data} not found`);
  process.exit(1);
}
const tmp = mkdtempSync(join(tmpdir(), "polyrnn-bench-"));
console.log(
  `cpu: ${cpus()[0].model} × ${availableParallelism()}  node ${process.version}  best of ${repeat}`,
);
for (const [name, dir, recursive] of corpora) {
  let best;
  for (let i = 0; i < repeat; i++) {
    const notes = join(tmp, `${name}.tfrecord`);
    const t0 = performance.now();
    const conv = await convertDirectory({ inputDir: dir, outputFile: notes, recursive });
    const t1 = performance.now();
    const ds = await createDatasetFromNoteSequences(notes, {
      ...DEFAULT_DATASET_OPTIONS,
      seed: 1,
      includeInputs: false,
      outputDir: join(tmp, name),
    });
    const t2 = performance.now();
    const run = { convert: (t1 - t0) / 1000, dataset: (t2 - t1) / 1000, conv, ds };
    if (!best || run.convert + run.dataset < best.convert + best.dataset) best = run;
  }
  const { conv, ds } = best;
  console.log(
    `${name}: ${conv.converted} files → ${ds.outputs.training} training + ${ds.outputs.eval} eval tracks; ` +
      `convert ${best.convert.toFixed(2)} s + dataset ${best.dataset.toFixed(2)} s = ${(best.convert + best.dataset).toFixed(2)} s`,
  );
}
rmSync(tmp, { recursive: true, force: true });
