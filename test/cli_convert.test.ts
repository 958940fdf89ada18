import { createHash } from "node:crypto";
import {
  chmodSync,
  copyFileSync,
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  writeFileSync,
} from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { decodeNoteSequence } from "../src/io/notesequence_proto.js";
import { decodeTFRecords } from "../src/io/tfrecord.js";
import { ROOT, runCli, tempDir } from "./helpers/cli.js";

const EXAMPLES = join(ROOT, "examples/midi");
const SEEDS = readdirSync(EXAMPLES)
  .filter((f) => f.endsWith(".mid"))
  .sort();

function readOutput(file: string) {
  return [...decodeTFRecords(readFileSync(file))].map(decodeNoteSequence);
}

function folderWith(files: Record<string, Uint8Array | string>): string {
  const dir = tempDir();
  for (const [name, data] of Object.entries(files)) {
    mkdirSync(join(dir, name, ".."), { recursive: true });
    writeFileSync(join(dir, name), data);
  }
  return dir;
}

describe("convert_dir_to_note_sequences / polyrnn convert", () => {
  it("converts the example folder with Magenta's ids, collection name and filenames", () => {
    const out = join(tempDir(), "nested/dir/notes.tfrecord");
    const r = runCli("convert_dir_to_note_sequences", [`--input_dir=${EXAMPLES}`, `--output_file=${out}`]);
    expect(r.stderr).toContain(`Converted ${SEEDS.length} files`);
    expect(r.status).toBe(0);
    const seqs = readOutput(out);
    expect(seqs.map((s) => s.filename)).toEqual(SEEDS);
    for (const s of seqs) {
      expect(s.collectionName).toBe("midi");
      const sha = createHash("sha1").update(s.filename).digest("hex");
      expect(s.id).toBe(`/id/midi/midi/${sha}`);
      expect(s.notes.length).toBeGreaterThan(0);
      expect(s.ticksPerQuarter).toBe(1024);
    }
    expect(seqs.find((s) => s.filename === "seed1.mid")?.notes.length).toBe(12);
  });

  it("takes flags as `--flag value` too, and the parallel and sequential paths write the same bytes", () => {
    const dir = tempDir();
    const a = join(dir, "a.tfrecord");
    const b = join(dir, "b.tfrecord");
    expect(
      runCli("polyrnn", ["convert", "--input_dir", EXAMPLES, "--output_file", a, "--jobs", "1"]).status,
    ).toBe(0);
    expect(
      runCli("polyrnn", ["convert", "--input_dir", EXAMPLES, "--output_file", b, "--jobs", "2"]).status,
    ).toBe(0);
    expect(readFileSync(a).equals(readFileSync(b))).toBe(true);
    const none = runCli("polyrnn", ["convert", "--input_dir", EXAMPLES, "--output_file", a, "--jobs=0"]);
    expect(none.status).toBe(2);
    expect(none.stderr).toContain("--jobs is 0: it must be a whole number of 1 or more");
  });

  it("reports bad files with the reason, converts the rest and exits 0", () => {
    const good = readFileSync(join(EXAMPLES, "seed1.mid"));
    const dir = folderWith({
      "good.mid": good,
      "truncated.mid": good.subarray(0, 40),
      "empty.mid": new Uint8Array(0),
      "notmidi.MID": "hello, this is text",
      "readme.txt": "not music",
    });
    const out = join(dir, "out.tfrecord");
    const r = runCli("polyrnn", ["convert", `--input_dir=${dir}`, `--output_file=${out}`]);
    expect(r.status).toBe(0);
    expect(r.stderr).toMatch(/Skipped 3 file\(s\)/);
    for (const name of ["truncated.mid", "empty.mid", "notmidi.MID"]) {
      const line = r.stderr.split("\n").find((l) => l.includes(name) && !l.startsWith("warning"));
      expect(line, `a line about ${name}`).toBeDefined();
      expect(line?.length ?? 0).toBeGreaterThan(name.length + 10);
    }
    expect(r.stderr).toContain("readme.txt: no converter for this file type");
    expect(readOutput(out).map((s) => s.filename)).toEqual(["good.mid"]);
  });

  it("only enters sub-folders with --recursive, and names files by their relative path", () => {
    const good = readFileSync(join(EXAMPLES, "seed2.mid"));
    const dir = folderWith({ "top.mid": good, "sub/inner.mid": good, "sub/deeper/deep.midi": good });
    const out = join(dir, "..", `${Date.now()}-out.tfrecord`);
    const flat = runCli("polyrnn", [
      "convert",
      `--input_dir=${dir}`,
      `--output_file=${out}`,
      "--norecursive",
    ]);
    expect(flat.status).toBe(0);
    expect(flat.stderr).toContain("use --recursive");
    expect(readOutput(out).map((s) => s.filename)).toEqual(["top.mid"]);
    const deep = runCli("polyrnn", ["convert", `--input_dir=${dir}`, `--output_file=${out}`, "--recursive"]);
    expect(deep.status).toBe(0);
    expect(readOutput(out).map((s) => s.filename)).toEqual([
      "top.mid",
      "sub/inner.mid",
      "sub/deeper/deep.midi",
    ]);
  });

  it("a folder with no music is one clear error and writes nothing", () => {
    const dir = folderWith({ "notes.txt": "x" });
    const out = join(dir, "out.tfrecord");
    const r = runCli("polyrnn", ["convert", `--input_dir=${dir}`, `--output_file=${out}`]);
    expect(r.status).toBe(1);
    expect(r.stderr).toContain(`no MIDI files (.mid, .midi) found in ${dir}`);
    expect(existsSync(out)).toBe(false);
  });

  it("a folder where every file is bad exits 1 and writes nothing", () => {
    const dir = folderWith({ "bad.mid": "MThd garbage" });
    const out = join(dir, "out.tfrecord");
    const r = runCli("polyrnn", ["convert", `--input_dir=${dir}`, `--output_file=${out}`]);
    expect(r.status).toBe(1);
    expect(r.stderr).toContain("bad.mid");
    expect(existsSync(out)).toBe(false);
    expect(readdirSync(dir)).toEqual(["bad.mid"]);
  });

  it("an output path that cannot be written is one clear error", () => {
    const dir = folderWith({ "a.mid": readFileSync(join(EXAMPLES, "seed2.mid")) });
    const blocker = join(dir, "file");
    writeFileSync(blocker, "x");
    const r = runCli("polyrnn", [
      "convert",
      `--input_dir=${dir}`,
      `--output_file=${join(blocker, "out.tfrecord")}`,
    ]);
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/^error: cannot \w+ .*file.*: (EEXIST|ENOTDIR)/m);
    expect(r.stderr).not.toContain("    at ");
    if (process.getuid?.() !== 0) {
      const ro = tempDir();
      chmodSync(ro, 0o500);
      const r2 = runCli("polyrnn", [
        "convert",
        `--input_dir=${dir}`,
        `--output_file=${join(ro, "out.tfrecord")}`,
      ]);
      expect(r2.status).toBe(1);
      expect(r2.stderr).toContain("EACCES");
    }
  });

  it("a missing input folder, a missing flag and an unknown flag are usage errors", () => {
    const missing = runCli("polyrnn", [
      "convert",
      "--input_dir=/nonexistent/x",
      "--output_file=/tmp/x.tfrecord",
    ]);
    expect(missing.status).toBe(1);
    expect(missing.stderr).toContain("/nonexistent/x");
    const noFlag = runCli("polyrnn", ["convert", "--input_dir=/tmp"]);
    expect(noFlag.status).toBe(2);
    expect(noFlag.stderr).toContain("--output_file is required");
    const unknown = runCli("polyrnn", ["convert", "--input_dir=/tmp", "--output_file=x", "--bogus=1"]);
    expect(unknown.status).toBe(2);
    expect(unknown.stderr).toContain(
      "unknown flag --bogus; valid flags: --input_dir, --output_file, --recursive",
    );
  });

  it("--help lists every flag the command parses", () => {
    for (const [bin, args] of [
      ["polyrnn", ["convert", "--help"]],
      ["convert_dir_to_note_sequences", ["--help"]],
    ] as const) {
      const r = runCli(bin, [...args]);
      expect(r.status).toBe(0);
      for (const flag of ["--input_dir", "--output_file", "--recursive", "--jobs", "--log"]) {
        expect(r.stdout).toContain(flag);
      }
    }
    const top = runCli("polyrnn", ["--help"]);
    expect(top.status).toBe(0);
    expect(top.stdout).toContain("convert");
  });

  it("a copied corpus folder with one corrupt file still converts the rest in parallel", () => {
    const dir = tempDir();
    for (const f of SEEDS) copyFileSync(join(EXAMPLES, f), join(dir, f));
    const bad = readFileSync(join(EXAMPLES, "seed1.mid"));
    bad[20] = 0xff; // corrupt the first track's length
    writeFileSync(join(dir, "corrupt.mid"), bad);
    const out = join(dir, "out.tfrecord");
    const r = runCli("polyrnn", ["convert", `--input_dir=${dir}`, `--output_file=${out}`, "--jobs=2"]);
    expect(r.status).toBe(0);
    expect(r.stderr).toContain("corrupt.mid");
    expect(readOutput(out)).toHaveLength(SEEDS.length);
  });
});
