// examples/notebook.sh (the notebook's four commands on its 15 Schubert pieces) end to end, with tiny step
// counts. Needs ../shared/data/piano-midi.de; skipped with a message where it is absent.
import { spawnSync } from "node:child_process";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { readMidi } from "../src/io/midi.js";
import { ensureBuilt, HAS_SHARED_DATA, ROOT, SHARED_DATA, tempDir } from "./helpers/cli.js";

const suite = HAS_SHARED_DATA ? describe : describe.skip;

suite(
  HAS_SHARED_DATA ? "examples/notebook.sh" : "../shared/data not found: examples/notebook.sh test skipped",
  () => {
    it("runs the four commands: dataset, a trained checkpoint, and 10 MIDI files per generation", () => {
      ensureBuilt();
      const work = tempDir("polyrnn-notebook-");
      const r = spawnSync("bash", [join(ROOT, "examples/notebook.sh")], {
        encoding: "utf8",
        timeout: 300_000,
        env: {
          ...process.env,
          DATA_DIR: join(SHARED_DATA, "piano-midi.de"),
          WORK_DIR: work,
          NUM_TRAINING_STEPS: "2",
          NUM_STEPS_BACH: "48",
        },
      });
      expect(r.status, `${r.stdout}\n${r.stderr}`).toBe(0);
      expect(readdirSync(join(work, "schubert"))).toHaveLength(15);
      for (const f of ["training_poly_tracks.tfrecord", "eval_poly_tracks.tfrecord"]) {
        expect(existsSync(join(work, "polyphony_rnn/sequence_examples", f))).toBe(true);
      }
      expect(existsSync(join(work, "polyphony_rnn/logdir/run1/train/model.ckpt-2.safetensors"))).toBe(true);
      const lengths: Record<string, number> = { schubert_seed1: 32, bach_seed1: 48, bach_seed2: 48 };
      for (const [dir, steps] of Object.entries(lengths)) {
        const files = readdirSync(join(work, "generated", dir)).filter((f) => f.endsWith(".mid"));
        expect(files, dir).toHaveLength(10);
        for (const f of files) {
          const ns = readMidi(readFileSync(join(work, "generated", dir, f)));
          // 120 qpm, 4 steps per quarter: num_steps steps last num_steps / 8 seconds.
          const end = Math.max(0, ...ns.notes.map((n) => n.endTime));
          expect(end, `${dir}/${f}`).toBeLessThanOrEqual(steps / 8 + 1e-6);
          expect(ns.notes.length, `${dir}/${f}`).toBeGreaterThan(0);
        }
      }
      // The Schubert generation injects seed1 (12 notes) at the start of its output.
      const first = readdirSync(join(work, "generated/schubert_seed1")).sort()[0];
      const seq = readMidi(readFileSync(join(work, "generated/schubert_seed1", first)));
      expect(seq.notes.length).toBeGreaterThanOrEqual(12);
      expect(r.stdout).toContain("== 4/4");
    }, 300_000);
  },
);
