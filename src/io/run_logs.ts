/**
 * A run's summary files, as `polyrnn train` writes them into `<run_dir>/train` and `<run_dir>/eval`: a
 * TensorBoard event file (src/io/tensorboard.ts's records, appended as they come) and `metrics.jsonl`
 * (one JSON object per summary: step, wall time, Magenta's tags, extras such as tokens_per_sec).
 *
 *   const logs = await RunLogs.open("run/train");
 *   await logs.write(step, trainSummary(metrics), { tokens_per_sec: rate });
 *   await logs.close();
 */
import { appendFile, mkdir, open, readFile } from "node:fs/promises";
import { hostname } from "node:os";
import { join } from "node:path";
import { readError } from "../errors.js";
import { writeFileAtomic } from "./fs.js";
import { type ByteSink, eventFileName, SummaryWriter } from "./tensorboard.js";

/** The byte sink of a TensorBoard event file: appends, each write handed to the OS at once. */
export async function openEventFile(dir: string, wallTime = Date.now() / 1000): Promise<SummaryWriter> {
  await mkdir(dir, { recursive: true });
  // A second run started within the same second gets a suffix instead of appending to the first's file.
  const base = join(dir, eventFileName(wallTime, hostname()));
  let handle: Awaited<ReturnType<typeof open>> | undefined;
  for (let n = 0; !handle; n++) {
    try {
      handle = await open(n === 0 ? base : `${base}.${n}`, "wx");
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== "EEXIST" || n >= 100) throw e;
    }
  }
  const file = handle;
  const sink: ByteSink = {
    append: async (bytes) => {
      await file.write(bytes);
    },
    close: async () => {
      await file.close();
    },
  };
  const writer = new SummaryWriter(sink);
  await writer.start();
  return writer;
}

/** One JSON object per line; NaN and ±Inf (not JSON) become null. */
async function appendJsonLine(path: string, record: Record<string, number | string>): Promise<void> {
  const clean = Object.fromEntries(
    Object.entries(record).map(([k, v]) => [k, typeof v === "number" && !Number.isFinite(v) ? null : v]),
  );
  await appendFile(path, `${JSON.stringify(clean)}\n`);
}

/** The name of the JSON-lines log in a run's `train` or `eval` folder. */
export const METRICS_FILE = "metrics.jsonl";

/** The event file and metrics.jsonl of one folder. */
export class RunLogs {
  private constructor(
    private readonly tb: SummaryWriter,
    private readonly jsonl: string,
  ) {}

  /** Opens a new event file in `dir` (created if need be); metrics.jsonl is appended to. */
  static async open(dir: string): Promise<RunLogs> {
    return new RunLogs(await openEventFile(dir), join(dir, METRICS_FILE));
  }

  /** One summary at `step`: the scalars to TensorBoard, and they and `extra` to metrics.jsonl. */
  async write(
    step: number,
    summary: Record<string, number>,
    extra: Record<string, number> = {},
  ): Promise<void> {
    await this.tb.scalars(summary, step);
    await appendJsonLine(this.jsonl, { step, wall_time: Date.now() / 1000, ...summary, ...extra });
  }

  /** Closes the event file; metrics.jsonl needs no closing (each line is appended on its own). */
  close(): Promise<void> {
    return this.tb.close();
  }
}

/**
 * A resumed run replays the steps after its checkpoint: drops the lines of `<train>/metrics.jsonl` past
 * `step`, so that no step is logged twice. Rewrites the file atomically; an absent file is left absent.
 * Returns the number of lines dropped.
 */
export async function dropMetricsAfter(path: string, step: number): Promise<number> {
  let text: string;
  try {
    text = await readFile(path, "utf8");
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === "ENOENT") return 0;
    throw readError(path, e);
  }
  const lines = text.split("\n").filter((line) => line.trim() !== "");
  const kept = lines.filter((line) => {
    try {
      const s = JSON.parse(line)?.step;
      return !(typeof s === "number" && s > step);
    } catch {
      return true; // not ours to judge: kept as it was
    }
  });
  if (kept.length === lines.length) return 0;
  await writeFileAtomic(path, kept.map((l) => `${l}\n`).join(""));
  return lines.length - kept.length;
}
