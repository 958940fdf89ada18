/**
 * Issue 19, class 4: waste and leftovers. Temporary files of a killed convert or dataset are removed by
 * the next run; a resumed training run logs no step twice; a corrupt newest checkpoint is passed over.
 */
import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync, readdirSync, readFileSync, truncateSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { CheckpointManager, loadLatestCheckpoint } from "../src/io/checkpoint_files.js";
import { removeStaleTemps } from "../src/io/fs.js";
import { dropMetricsAfter } from "../src/io/run_logs.js";
import { hparamsToJson } from "../src/model/hparams.js";
import { runCli, tempDir } from "./helpers/cli.js";
import { smf } from "./helpers/smf.js";
import { tinyWeights } from "./helpers/tiny_model.js";

const hparams = { batchSize: 4, rnnLayerSizes: [8], dropoutKeepProb: 0.5, clipNorm: 5, learningRate: 0.001 };
let dir: string;
/** The pid of a process that has ended: its temporary files are stale. */
let deadPid: number;
const cli = (...args: string[]) => runCli("polyrnn", args, undefined, 60_000);

beforeAll(() => {
  dir = tempDir();
  deadPid = spawnSync(process.execPath, ["-e", ""]).pid as number;
});

describe("no leftovers (issue 19: waste and leftovers)", () => {
  it("convert and dataset remove the temporary outputs a killed run left, and say so", () => {
    const input = join(dir, "midi");
    mkdirSync(input);
    const notes = Array.from({ length: 40 }, (_, i) => [
      [0, 0x90, 60 + (i % 12), 64],
      [48, 0x80, 60 + (i % 12), 0],
    ]).flat();
    writeFileSync(join(input, "a.mid"), smf(96, notes));
    const out = join(dir, "out");
    mkdirSync(out);
    const staleConvert = join(out, `.notes.tfrecord.tmp-${deadPid}-abc123`);
    const staleDataset = join(out, `.training_poly_tracks.tfrecord.tmp-${deadPid}-def456`);
    const someoneElses = join(out, `.other.tfrecord.tmp-${deadPid}-ghi789`);
    for (const f of [staleConvert, staleDataset, someoneElses]) writeFileSync(f, "");

    const c = cli(
      "convert",
      `--input_dir=${input}`,
      `--output_file=${join(out, "notes.tfrecord")}`,
      "--jobs=1",
    );
    expect(c.status, c.stderr).toBe(0);
    expect(c.stderr).toContain(`Removed ${staleConvert}, left by an interrupted convert.`);
    const d = cli(
      "dataset",
      `--input=${join(out, "notes.tfrecord")}`,
      `--output_dir=${out}`,
      "--min_steps=8",
    );
    expect(d.status, d.stderr).toBe(0);
    expect(d.stderr).toContain(`Removed ${staleDataset}, left by an interrupted dataset run.`);
    // Only the files of the outputs being written are touched.
    expect(existsSync(someoneElses)).toBe(true);
    expect(readdirSync(out).filter((n) => n.includes(".tmp-"))).toEqual([
      `.other.tfrecord.tmp-${deadPid}-ghi789`,
    ]);
  });

  it("a live writer's temporary file is kept", async () => {
    const d = join(dir, "live");
    mkdirSync(d);
    writeFileSync(join(d, ".x.tfrecord.tmp-1-bbbbbb"), ""); // pid 1 is alive
    const removed = await removeStaleTemps(d);
    expect(readdirSync(d)).toContain(".x.tfrecord.tmp-1-bbbbbb");
    expect(removed).not.toContain(".x.tfrecord.tmp-1-bbbbbb");
  });

  it("after a resume, metrics.jsonl holds each step once", async () => {
    const path = join(dir, "metrics.jsonl");
    const line = (step: number) => `${JSON.stringify({ step, loss: 1 / step })}\n`;
    writeFileSync(path, [10, 20, 30, 40, 50].map(line).join(""));
    // The checkpoint was at step 30: steps 40 and 50 will be trained (and logged) again.
    expect(await dropMetricsAfter(path, 30)).toBe(2);
    expect(readFileSync(path, "utf8")).toBe([10, 20, 30].map(line).join(""));
    expect(await dropMetricsAfter(path, 30)).toBe(0);
    expect(await dropMetricsAfter(join(dir, "absent.jsonl"), 0)).toBe(0);
  });

  it("a corrupt newest checkpoint is passed over with a warning; the one before it is used", async () => {
    const trainDir = join(dir, "run", "train");
    const weights = tinyWeights(hparams);
    const manager = new CheckpointManager(trainDir, { keep: 0 });
    const metadata = { hparams_json: hparamsToJson(hparams) };
    await manager.save({ step: 10, weights, metadata });
    const newest = await manager.save({ step: 20, weights, metadata });
    truncateSync(newest, 100); // a disk that filled up, a copy cut short
    const warnings: string[] = [];
    const ckpt = await loadLatestCheckpoint(trainDir, (m) => warnings.push(m));
    expect(ckpt?.step).toBe(10);
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatch(
      /^warning: .*model\.ckpt-20\.safetensors: .*; using .*model\.ckpt-10\.safetensors instead$/,
    );
    // The commands that read a run do the same.
    const g = cli(
      "generate",
      `--run_dir=${join(dir, "run")}`,
      `--output_dir=${join(dir, "gen")}`,
      "--kernels=reference",
      "--num_outputs=1",
      "--num_steps=8",
    );
    expect(g.status, g.stderr).toBe(0);
    expect(g.stderr).toMatch(/warning: .*ckpt-20.*using .*ckpt-10\.safetensors instead/);
    // When none loads, the newest one's problem is the error.
    truncateSync(join(trainDir, "model.ckpt-10.safetensors"), 50);
    await expect(loadLatestCheckpoint(trainDir, () => {})).rejects.toThrow(/model\.ckpt-20\.safetensors/);
  });
});
