/**
 * A progress line on stderr. On a terminal it redraws in place (with rate and ETA); elsewhere (CI,
 * logs) it prints a plain line at most every few seconds so logs stay short.
 */
export interface ProgressOptions {
  label: string;
  total: number;
  unit?: string;
  stream?: NodeJS.WriteStream;
  /** Minimum seconds between lines when not on a terminal. */
  logInterval?: number;
}

function formatDuration(seconds: number): string {
  if (!Number.isFinite(seconds)) return "?";
  if (seconds < 60) return `${seconds.toFixed(0)}s`;
  const m = Math.floor(seconds / 60);
  const s = Math.round(seconds % 60);
  return m < 60
    ? `${m}m${String(s).padStart(2, "0")}s`
    : `${Math.floor(m / 60)}h${String(m % 60).padStart(2, "0")}m`;
}

export class Progress {
  private done = 0;
  private readonly start = performance.now();
  private lastDraw = 0;
  private readonly stream: NodeJS.WriteStream;
  private readonly tty: boolean;
  private status = "";

  constructor(private readonly opts: ProgressOptions) {
    this.stream = opts.stream ?? process.stderr;
    this.tty = Boolean(this.stream.isTTY);
  }

  tick(n = 1, status = ""): void {
    this.done += n;
    this.status = status;
    const now = performance.now();
    const interval = this.tty ? 100 : (this.opts.logInterval ?? 5) * 1000;
    if (now - this.lastDraw >= interval || this.done === this.opts.total) {
      this.lastDraw = now;
      this.draw();
    }
  }

  /** Prints a message without garbling the bar. */
  log(message: string): void {
    if (this.tty) this.stream.write("\r\x1b[K");
    this.stream.write(`${message}\n`);
    if (this.tty && this.done > 0) this.draw();
  }

  private line(): string {
    const { total, label } = this.opts;
    const unit = this.opts.unit ?? "";
    const elapsed = (performance.now() - this.start) / 1000;
    const rate = this.done / Math.max(elapsed, 1e-9);
    const eta = (total - this.done) / rate;
    const pct = total > 0 ? Math.floor((100 * this.done) / total) : 100;
    const width = 24;
    const filled = total > 0 ? Math.round((width * this.done) / total) : width;
    const bar = `[${"#".repeat(filled)}${"-".repeat(width - filled)}]`;
    const tail = this.done < total ? ` eta ${formatDuration(eta)}` : ` ${formatDuration(elapsed)}`;
    const status = this.status ? ` ${this.status}` : "";
    return `${label} ${bar} ${pct}% ${this.done}/${total}${unit} ${rate.toFixed(1)}${unit || " items"}/s${tail}${status}`;
  }

  private draw(): void {
    if (this.tty) this.stream.write(`\r\x1b[K${this.line()}`);
    else this.stream.write(`${this.line()}\n`);
  }

  finish(): void {
    if (this.tty) this.stream.write(`\r\x1b[K${this.line()}\n`);
  }
}
