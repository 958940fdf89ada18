/** Runs the built CLI (dist/) as a user would, building it first if needed. */
import { execFileSync, spawnSync } from "node:child_process";
import { existsSync, mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";

export const ROOT = resolve(import.meta.dirname, "../..");
export const SHARED_DATA = resolve(ROOT, "../shared/data");
export const HAS_SHARED_DATA = existsSync(SHARED_DATA);

let built = false;
export function ensureBuilt(): void {
  if (built) return;
  if (!existsSync(join(ROOT, "dist/cli/polyrnn.js"))) {
    execFileSync("npm", ["run", "build"], { cwd: ROOT, stdio: "inherit" });
  }
  built = true;
}

export interface RunResult {
  status: number | null;
  stdout: string;
  stderr: string;
  /** The signal that ended it: SIGKILL when it ran past `timeoutMs`, SIGABRT/SIGTRAP when Node aborted. */
  signal: NodeJS.Signals | null;
}

export function runCli(bin: string, args: string[], cwd = ROOT, timeoutMs = 120_000): RunResult {
  ensureBuilt();
  const r = spawnSync(process.execPath, [join(ROOT, "dist/cli", `${bin}.js`), ...args], {
    cwd,
    encoding: "utf8",
    timeout: timeoutMs,
    // SIGTERM asks train to stop after its step; a run past its time must end whatever it is doing.
    killSignal: "SIGKILL",
  });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr, signal: r.signal };
}

export function tempDir(prefix = "polyrnn-test-"): string {
  return mkdtempSync(join(tmpdir(), prefix));
}
