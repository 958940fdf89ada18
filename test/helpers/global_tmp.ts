/**
 * Vitest global setup: the whole run writes its temporary files under one fresh folder (TMPDIR, which
 * os.tmpdir() and the child processes the tests start both honour), removed when the run ends.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

export default function setup(): () => void {
  const dir = mkdtempSync(join(tmpdir(), "polyrnn-tests-"));
  process.env.TMPDIR = dir;
  return () => {
    if (process.env.POLYRNN_KEEP_TEST_TMP) {
      console.log(`test files kept in ${dir}`);
      return;
    }
    rmSync(dir, { recursive: true, force: true });
  };
}
