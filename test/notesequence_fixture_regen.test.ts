// The wire-compatibility fixture must be what Google's protobuf writes today, not a file we edited:
// where Debian's protoc and python3-protobuf are installed (CI installs them), regenerate it and compare.
import { spawnSync } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { ROOT, tempDir } from "./helpers/cli.js";

const PYTHON = "/usr/bin/python3";
const available =
  existsSync(PYTHON) &&
  spawnSync(PYTHON, ["-c", "import google.protobuf"]).status === 0 &&
  spawnSync("protoc", ["--version"]).status === 0;

describe.skipIf(!available)(
  "NoteSequence fixture (needs Debian's protobuf-compiler and python3-protobuf)",
  () => {
    it("regenerates byte for byte with Google's protobuf", () => {
      const out = tempDir();
      const r = spawnSync(PYTHON, [join(ROOT, "scripts/make_notesequence_fixture.py"), out], {
        encoding: "utf8",
      });
      expect(r.status, r.stderr).toBe(0);
      for (const name of ["sequences.tfrecord", "sequences.json"]) {
        const fresh = readFileSync(join(out, name));
        const committed = readFileSync(join(ROOT, "test/fixtures/notesequence", name));
        expect(fresh.equals(committed), name).toBe(true);
      }
    });
  },
);
