#!/usr/bin/env node
// Benchmark of `polyrnn convert` over every MIDI file in ../shared/data (or a folder given as argument):
// files/s and MB/s, sequential (one thread, the baseline) and parallel (all cores), measured in one run.
//
//   npm run bench:convert            # builds, then runs this
//   node bench/convert.mjs [DIR] [--repeat N]
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { availableParallelism, cpus, tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { convertDirectory } from "../dist/cli/convert_job.js";

const args = process.argv.slice(2);
const repeatAt = args.indexOf("--repeat");
const repeat = repeatAt >= 0 ? Number(args[repeatAt + 1]) : 3;
const dir = resolve(args.find((a, i) => !a.startsWith("--") && i !== repeatAt + 1) ?? "../shared/data");
if (!existsSync(dir)) {
  console.error(`bench/convert: ${dir} not found (pass a folder of MIDI files)`);
  process.exit(1);
}
const out = mkdtempSync(join(tmpdir(), "polyrnn-bench-"));
const cores = availableParallelism();
console.log(`input: ${dir} (recursive)  cpu: ${cpus()[0].model} × ${cores}  node ${process.version}`);

async function measure(jobs) {
  let best;
  for (let i = 0; i < repeat; i++) {
    const s = await convertDirectory({
      inputDir: dir,
      outputFile: join(out, `j${jobs}.tfrecord`),
      recursive: true,
      jobs,
    });
    if (!best || s.seconds < best.seconds) best = s;
  }
  return best;
}

const rows = [];
for (const jobs of [1, cores]) {
  const s = await measure(jobs);
  rows.push({ jobs, s });
  console.log(
    `${jobs === 1 ? "sequential" : `parallel ×${jobs}`}: ${s.converted} files (${s.failed.length} failed), ` +
      `${(s.inputBytes / 1e6).toFixed(1)} MB, ${s.notes} notes in ${s.seconds.toFixed(2)} s → ` +
      `${(s.converted / s.seconds).toFixed(0)} files/s, ${(s.inputBytes / 1e6 / s.seconds).toFixed(1)} MB/s (best of ${repeat})`,
  );
}
const [seq, par] = rows;
console.log(`parallel / sequential speed-up: ${(seq.s.seconds / par.s.seconds).toFixed(2)}×`);
rmSync(out, { recursive: true, force: true });
