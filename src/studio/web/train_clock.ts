/**
 * The Train tab's clock: how long the run has trained (pauses left out) and how long it needs to reach its
 * step count at the pace of the steps since it last started. Pure: the page gives it the time.
 */

export class TrainClock {
  /** When the running stretch began (ms), undefined while paused. */
  private since: number | undefined;
  /** Milliseconds of earlier running stretches. */
  private before = 0;
  /** The first step reported in this stretch (start-up, such as reading the files, is not pace). */
  private mark: { step: number; time: number } | undefined;
  private stepsPerSecond = 0;

  constructor(private readonly now: () => number = () => performance.now()) {}

  /** A new run: nothing elapsed. */
  reset(): void {
    this.since = undefined;
    this.before = 0;
    this.mark = undefined;
    this.stepsPerSecond = 0;
  }

  /** Training runs from now (again: a second call changes nothing). */
  run(): void {
    if (this.since !== undefined) return;
    this.since = this.now();
    this.mark = undefined;
  }

  /** Training stopped (paused, finished or failed). */
  pause(): void {
    if (this.since === undefined) return;
    this.before += this.now() - this.since;
    this.since = undefined;
  }

  /** The step the run has reached, now. */
  step(step: number): void {
    const t = this.now();
    if (!this.mark) this.mark = { step, time: t };
    else if (step > this.mark.step && t > this.mark.time) {
      this.stepsPerSecond = (step - this.mark.step) / ((t - this.mark.time) / 1000);
    }
  }

  /** Seconds of training so far. */
  elapsed(): number {
    return (this.before + (this.since === undefined ? 0 : this.now() - this.since)) / 1000;
  }

  /** Seconds left to reach `target` from `step` at the recent pace; undefined before there is a pace. */
  left(step: number, target: number): number | undefined {
    if (this.stepsPerSecond <= 0 || target <= step) return undefined;
    return (target - step) / this.stepsPerSecond;
  }
}

/** 0:07, 12:34, 1:02:03. */
export function formatDuration(seconds: number): string {
  const s = Math.max(0, Math.round(seconds));
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const ss = String(s % 60).padStart(2, "0");
  return h > 0 ? `${h}:${String(m).padStart(2, "0")}:${ss}` : `${m}:${ss}`;
}
