/**
 * The live training chart: loss (left axis) and accuracy (right axis, 0…1) per step, the raw values faint
 * and an exponential moving average on top, so a falling loss is visible through the batch-to-batch noise.
 */
import type { StepMetrics } from "../../train/session.js";

const COLORS = { loss: "#1f77b4", accuracy: "#2ca02c", grid: "#e3e3e8", text: "#606060" };
/** The x axis has a step label about every this many pixels (at least). */
const TICK_GAP = 70;

/** Steps to label between `from` (exclusive) and `to` (inclusive): multiples of 1, 2 or 5 × 10^k, `gaps` at most. */
export function stepTicks(from: number, to: number, gaps: number): number[] {
  const span = Math.max(1, to - from);
  const raw = span / Math.max(1, gaps);
  const pow = 10 ** Math.floor(Math.log10(raw));
  const every = [1, 2, 5, 10].map((m) => m * pow).find((e) => e >= raw && e >= 1) ?? Math.max(1, 10 * pow);
  const ticks: number[] = [];
  for (let s = Math.floor(from / every + 1) * every; s <= to; s += every) ticks.push(s);
  return ticks;
}

export class TrainChart {
  points: StepMetrics[] = [];
  /** Loss and accuracy on the held-out files, drawn as dots. */
  evals: { step: number; loss: number; accuracy: number }[] = [];

  constructor(private readonly canvas: HTMLCanvasElement) {
    new ResizeObserver(() => this.draw()).observe(canvas);
  }

  clear(): void {
    this.points = [];
    this.evals = [];
    this.draw();
  }

  add(points: StepMetrics[]): void {
    this.points.push(...points);
    this.draw();
  }

  addEval(e: { step: number; loss: number; accuracy: number }): void {
    this.evals.push({ step: e.step, loss: e.loss, accuracy: e.accuracy });
    this.draw();
  }

  /** Mean loss of the first and the last fifth of the steps (what "the loss fell" means here). */
  summary(): { steps: number; firstLoss: number; lastLoss: number } {
    const n = this.points.length;
    const k = Math.max(1, Math.floor(n / 5));
    const mean = (xs: StepMetrics[]) => xs.reduce((s, p) => s + p.loss, 0) / Math.max(1, xs.length);
    return { steps: n, firstLoss: mean(this.points.slice(0, k)), lastLoss: mean(this.points.slice(n - k)) };
  }

  draw(): void {
    const c = this.canvas;
    const dpr = window.devicePixelRatio || 1;
    const W = c.clientWidth;
    const H = c.clientHeight;
    c.width = Math.max(1, Math.round(W * dpr));
    c.height = Math.max(1, Math.round(H * dpr));
    const ctx = c.getContext("2d") as CanvasRenderingContext2D;
    ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
    ctx.clearRect(0, 0, W, H);
    const s = this.summary();
    c.dataset.steps = String(s.steps);
    c.dataset.firstLoss = s.firstLoss.toFixed(4);
    c.dataset.lastLoss = s.lastLoss.toFixed(4);
    c.dataset.evals = String(this.evals.length);

    const left = 44;
    const right = 44;
    const top = 12;
    const bottom = 22;
    const pw = W - left - right;
    const ph = H - top - bottom;
    const pts = this.points;
    const maxStep = Math.max(1, pts.length ? pts[pts.length - 1].step : 1);
    const minStep = pts.length ? pts[0].step - 1 : 0;
    const maxLoss = Math.max(1, ...pts.map((p) => p.loss)) * 1.05;
    const x = (step: number) => left + ((step - minStep) / Math.max(1, maxStep - minStep)) * pw;
    const yl = (v: number) => top + ph - (v / maxLoss) * ph;
    const ya = (v: number) => top + ph - v * ph;

    ctx.font = "11px system-ui, -apple-system, 'Segoe UI', Roboto, sans-serif";
    ctx.fillStyle = COLORS.text;
    ctx.strokeStyle = COLORS.grid;
    ctx.lineWidth = 1;
    for (let i = 0; i <= 4; i++) {
      const yy = Math.round(top + (ph * i) / 4) + 0.5;
      ctx.beginPath();
      ctx.moveTo(left, yy);
      ctx.lineTo(left + pw, yy);
      ctx.stroke();
      ctx.textAlign = "right";
      ctx.fillStyle = COLORS.loss;
      ctx.fillText((maxLoss * (1 - i / 4)).toFixed(2), left - 6, yy + 4);
      ctx.textAlign = "left";
      ctx.fillStyle = COLORS.accuracy;
      ctx.fillText(`${Math.round(100 * (1 - i / 4))}%`, left + pw + 6, yy + 4);
    }
    ctx.fillStyle = COLORS.text;
    ctx.textAlign = "center";
    if (pts.length === 0) {
      c.dataset.xTicks = "";
      ctx.fillText("no steps yet", left + pw / 2, H - 6);
      return;
    }
    // The x axis: a tick and its step at round numbers.
    const ticks = stepTicks(minStep, maxStep, Math.floor(pw / TICK_GAP));
    c.dataset.xTicks = ticks.join(",");
    ctx.strokeStyle = COLORS.text;
    for (const t of ticks) {
      const xx = Math.round(x(t)) + 0.5;
      ctx.beginPath();
      ctx.moveTo(xx, top + ph);
      ctx.lineTo(xx, top + ph + 4);
      ctx.stroke();
      ctx.fillText(String(t), xx, H - 5);
    }
    ctx.textAlign = "right";
    ctx.fillText("step", left - 6, H - 5);

    const series = (value: (p: StepMetrics) => number, y: (v: number) => number, color: string) => {
      ctx.strokeStyle = color;
      ctx.globalAlpha = 0.25;
      ctx.beginPath();
      for (let i = 0; i < pts.length; i++) {
        const p = pts[i];
        if (i === 0) ctx.moveTo(x(p.step), y(value(p)));
        else ctx.lineTo(x(p.step), y(value(p)));
      }
      ctx.stroke();
      ctx.globalAlpha = 1;
      ctx.lineWidth = 2;
      ctx.beginPath();
      // A centred moving average over ~1/25 of the run: smooth, without the lag of a running average.
      const half = Math.floor(pts.length / 50);
      let sum = 0;
      let lo = 0;
      let hi = -1;
      for (let i = 0; i < pts.length; i++) {
        while (hi < Math.min(pts.length - 1, i + half)) sum += value(pts[++hi]);
        while (lo < i - half) sum -= value(pts[lo++]);
        const v = sum / (hi - lo + 1);
        if (i === 0) ctx.moveTo(x(pts[i].step), y(v));
        else ctx.lineTo(x(pts[i].step), y(v));
      }
      ctx.stroke();
      ctx.lineWidth = 1;
    };
    series((p) => p.loss, yl, COLORS.loss);
    series((p) => p.accuracy, ya, COLORS.accuracy);
    for (const e of this.evals) {
      for (const [v, y, color] of [
        [e.loss, yl, COLORS.loss],
        [e.accuracy, ya, COLORS.accuracy],
      ] as const) {
        ctx.fillStyle = "#fff";
        ctx.strokeStyle = color;
        ctx.lineWidth = 2;
        ctx.beginPath();
        ctx.arc(x(e.step), y(v), 4, 0, 2 * Math.PI);
        ctx.fill();
        ctx.stroke();
      }
    }
    ctx.lineWidth = 1;
  }
}
