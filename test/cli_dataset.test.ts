import { existsSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { decodeSequenceExample } from "../src/dataset/sequence_example.js";
import { readMidi } from "../src/io/midi.js";
import { encodeNoteSequence } from "../src/io/notesequence_proto.js";
import { decodeTFRecords, encodeTFRecords } from "../src/io/tfrecord.js";
import { cloneNoteSequence } from "../src/notesequence.js";
import { ROOT, runCli, tempDir } from "./helpers/cli.js";

const EXAMPLES = join(ROOT, "examples/midi");

function examplesTfrecord(): string {
  const dir = tempDir();
  const file = join(dir, "notes.tfrecord");
  const r = runCli("polyrnn", ["convert", `--input_dir=${EXAMPLES}`, `--output_file=${file}`]);
  expect(r.status).toBe(0);
  return file;
}

function readExamples(file: string) {
  return [...decodeTFRecords(readFileSync(file))].map(decodeSequenceExample);
}

describe("polyphony_rnn_create_dataset / polyrnn dataset", () => {
  it("writes Magenta's two files and prints Magenta's statistics", () => {
    const input = examplesTfrecord();
    const out = join(tempDir(), "ds");
    // The example files are short, so let everything through to get tracks.
    const r = runCli("polyphony_rnn_create_dataset", [
      `--input=${input}`,
      `--output_dir=${out}`,
      "--eval_ratio=0",
      "--min_steps=1",
    ]);
    expect(r.status, r.stderr).toBe(0);
    expect(readdirSync(out).sort()).toEqual(["eval_poly_tracks.tfrecord", "training_poly_tracks.tfrecord"]);
    expect(r.stderr).toContain("Processed 5 inputs total.");
    expect(r.stderr).toContain("DAGPipeline_RandomPartition_training_poly_tracks_count: 5");
    expect(r.stderr).toMatch(/DAGPipeline_TranspositionPipeline_training_transpositions_generated: 45\n/);
    const training = readExamples(join(out, "training_poly_tracks.tfrecord"));
    expect(training.length).toBe(45);
    expect(readExamples(join(out, "eval_poly_tracks.tfrecord"))).toEqual([]);
    for (const ex of training) {
      expect(ex.inputs).toBeUndefined();
      expect(ex.labels.at(-1)).toBe(1); // END
      expect(ex.labels.filter((l) => l === 0)).toEqual([]); // START is only an input
    }
  });

  it("--include_inputs adds Magenta's one-hot inputs: the labels shifted right behind START", () => {
    const input = examplesTfrecord();
    const out = tempDir();
    const r = runCli("polyrnn", [
      "dataset",
      `--input=${input}`,
      `--output_dir=${out}`,
      "--eval_ratio=0",
      "--min_steps=1",
      "--transpose_range=0,0",
      "--include_inputs",
    ]);
    expect(r.status, r.stderr).toBe(0);
    const examples = readExamples(join(out, "training_poly_tracks.tfrecord"));
    expect(examples.length).toBe(5);
    for (const ex of examples) expect(ex.inputs).toEqual([0, ...ex.labels.slice(0, -1)]);
  });

  it("--seed makes the eval split reproducible", () => {
    const input = examplesTfrecord();
    const runs = ["1", "1", "2"].map((seed) => {
      const out = tempDir();
      const r = runCli("polyrnn", [
        "dataset",
        `--input=${input}`,
        `--output_dir=${out}`,
        "--eval_ratio=0.5",
        "--min_steps=1",
        `--seed=${seed}`,
      ]);
      expect(r.status).toBe(0);
      return readFileSync(join(out, "eval_poly_tracks.tfrecord"));
    });
    expect(runs[0].equals(runs[1])).toBe(true);
  });

  it("input that is not TFRecord, a bad CRC, and an empty file are one-line errors that write nothing", () => {
    const dir = tempDir();
    const notTf = join(dir, "notes.mid");
    writeFileSync(notTf, readFileSync(join(EXAMPLES, "seed1.mid")));
    const good = readFileSync(examplesTfrecord());
    const badCrc = join(dir, "bad.tfrecord");
    const corrupted = Buffer.from(good);
    const secondRecord = 12 + Number(corrupted.readBigUInt64LE(0)) + 4;
    corrupted[secondRecord + 12 + 5] ^= 0xff; // a byte inside the second record's data
    writeFileSync(badCrc, corrupted);
    const empty = join(dir, "empty.tfrecord");
    writeFileSync(empty, "");
    const cases: [string, RegExp][] = [
      [notTf, /notes\.mid: not a TFRecord file, or corrupt: bad length checksum at byte 0/],
      [badCrc, new RegExp(`bad\\.tfrecord: bad data checksum in the record at byte ${secondRecord}`)],
      [empty, /empty\.tfrecord: holds no records/],
      [join(dir, "missing.tfrecord"), /cannot read .*missing\.tfrecord: no such file$/m],
      [dir, new RegExp(`cannot read ${dir}: is a folder$`, "m")],
    ];
    for (const [input, message] of cases) {
      const out = join(dir, "out");
      const r = runCli("polyrnn", ["dataset", `--input=${input}`, `--output_dir=${out}`]);
      expect(r.status).toBe(1);
      expect(r.stderr).toMatch(message);
      expect(r.stderr).not.toContain("    at ");
      expect(existsSync(out) ? readdirSync(out) : []).toEqual([]);
    }
  });

  it("records that are not NoteSequences are reported; a file of only those is an error", () => {
    const dir = tempDir();
    const seed1 = readMidi(readFileSync(join(EXAMPLES, "seed1.mid")));
    const junk = new Uint8Array([0x9a, 0x01, 0x02]); // field 19, wire type 2, truncated
    const mixed = join(dir, "mixed.tfrecord");
    writeFileSync(mixed, encodeTFRecords([junk, encodeNoteSequence(seed1)]));
    const r = runCli("polyrnn", [
      "dataset",
      `--input=${mixed}`,
      `--output_dir=${join(dir, "a")}`,
      "--min_steps=1",
    ]);
    expect(r.status).toBe(0);
    expect(r.stderr).toMatch(/mixed\.tfrecord: record 0 is not a NoteSequence/);
    expect(r.stderr).toContain("Processed 1 inputs total.");
    const onlyJunk = join(dir, "junk.tfrecord");
    writeFileSync(onlyJunk, encodeTFRecords([junk, junk]));
    const r2 = runCli("polyrnn", ["dataset", `--input=${onlyJunk}`, `--output_dir=${join(dir, "b")}`]);
    expect(r2.status).toBe(1);
    expect(r2.stderr).toMatch(/junk\.tfrecord: none of its 2 records is a NoteSequence/);
    expect(readdirSync(join(dir, "b"))).toEqual([]);
  });

  it("an output folder that cannot be written fails before any work", () => {
    const dir = tempDir();
    const blocker = join(dir, "file");
    writeFileSync(blocker, "x");
    const r = runCli("polyrnn", [
      "dataset",
      `--input=${examplesTfrecord()}`,
      `--output_dir=${join(blocker, "ds")}`,
    ]);
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/^error: cannot \w+ .*file.*: (EEXIST|ENOTDIR)/m);
    expect(r.stderr).not.toContain("Processing");
  });

  it("refuses bad flags with a clear message", () => {
    const bad: [string[], string][] = [
      [["--output_dir=x"], "give exactly one of --input, --from_frames or --from_satb"],
      [
        ["--input=a", "--output_dir=x", "--eval_ratio=2"],
        "--eval_ratio is 2: it must be a number from 0 to 1",
      ],
      [["--input=a", "--output_dir=x", "--transpose_range=4,-4"], "--transpose_range 4,-4: need LOW <= HIGH"],
      [["--input=a", "--output_dir=x", "--transpose_range=3"], "--transpose_range takes LOW,HIGH"],
    ];
    for (const [args, message] of bad) {
      const r = runCli("polyrnn", ["dataset", ...args]);
      expect(r.status).toBe(2);
      expect(r.stderr).toContain(message);
    }
  });

  it("--from_frames follows the benchmark convention: CONTINUED iff sounding in the previous frame", () => {
    const dir = tempDir();
    const file = join(dir, "bench.json");
    writeFileSync(file, JSON.stringify({ train: [[[60, 64], [60], [], [60], [60, 67]]], valid: [[[72]]] }));
    const out = join(dir, "ds");
    const r = runCli("polyrnn", ["dataset", `--from_frames=${file}`, `--output_dir=${out}`]);
    expect(r.status, r.stderr).toBe(0);
    const [train] = readExamples(join(out, "training_poly_tracks.tfrecord"));
    // START, NEW 64, NEW 60, STEP_END, CONT 60, STEP_END, STEP_END, NEW 60, STEP_END, NEW 67, CONT 60, STEP_END, END
    expect([0, ...train.labels]).toEqual([0, 67, 63, 2, 191, 2, 2, 63, 2, 70, 191, 2, 1]);
    const [valid] = readExamples(join(out, "eval_poly_tracks.tfrecord"));
    expect([0, ...valid.labels]).toEqual([0, 75, 2, 1]);
  });

  it("--from_satb holds a voice's repeated pitch and rests on -1", () => {
    const dir = tempDir();
    const file = join(dir, "satb.json");
    const steps = [
      [72, 67, 64, 48],
      [72, 67, 64, 48],
      [74, -1, 64, 48],
      [74, 67, 64, 48],
    ];
    writeFileSync(file, JSON.stringify({ train: [steps], valid: [] }));
    const out = join(dir, "ds");
    const r = runCli("polyrnn", ["dataset", `--from_satb=${file}`, `--output_dir=${out}`]);
    expect(r.status, r.stderr).toBe(0);
    const [train] = readExamples(join(out, "training_poly_tracks.tfrecord"));
    const N = (p: number) => 3 + p;
    const C = (p: number) => 131 + p;
    expect([0, ...train.labels]).toEqual([
      0,
      ...[N(72), N(67), N(64), N(48), 2],
      ...[C(72), C(67), C(64), C(48), 2],
      ...[N(74), C(64), C(48), 2],
      ...[C(74), N(67), C(64), C(48), 2],
      1,
    ]);
    const bad = join(dir, "bad.json");
    writeFileSync(bad, JSON.stringify({ train: [[[72, 200]]], valid: [] }));
    const r2 = runCli("polyrnn", ["dataset", `--from_satb=${bad}`, `--output_dir=${join(dir, "x")}`]);
    expect(r2.status).toBe(1);
    expect(r2.stderr).toContain("bad/train/0 step 0 voice 1: 200 is not a MIDI pitch (0..127)");
  });
});

it("cloneNoteSequence is a deep copy equal to structuredClone", () => {
  const ns = readMidi(readFileSync(join(EXAMPLES, "seed1.mid")));
  ns.sequenceMetadata = { title: "t", artist: "", genre: ["g"], composers: [] };
  ns.sectionGroups = [
    { sections: [{ sectionId: 1 }, { sectionGroup: { sections: [], numTimes: 2 } }], numTimes: 1 },
  ];
  const copy = cloneNoteSequence(ns);
  expect(copy).toEqual(structuredClone(ns));
  copy.notes[0].pitch++;
  copy.tempos[0].qpm++;
  copy.sequenceMetadata?.genre.push("x");
  expect(ns.notes[0].pitch).toBe(copy.notes[0].pitch - 1);
  expect(ns.tempos[0].qpm).toBe(copy.tempos[0].qpm - 1);
  expect(ns.sequenceMetadata.genre).toEqual(["g"]);
});
