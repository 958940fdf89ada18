/**
 * Training-curve pictures from the `metrics.jsonl` files that `polyrnn train` writes (`RUN_DIR/train/` and,
 * with --eval, `RUN_DIR/eval/`): `parseMetricsJsonl` reads one, `trainingCurvesSvg` draws the loss and the
 * accuracy against the step, train and eval, in two panels, with optional labelled reference lines (say,
 * the values a published run reached). Pure: no file system, runs in Node and in browsers. SVG only.
 */
import { PolyrnnError } from "../errors.js";
import { escapeXml } from "../io/xml_escape.js";

/** One summary line of a metrics.jsonl file: its step and its finite numeric fields (null/NaN ones left out). */
export interface MetricsPoint {
  step: number;
  values: Record<string, number>;
}

/**
 * Parses a metrics.jsonl text: one JSON object per line with a whole-number `step`; blank lines are skipped.
 * A bad line is a PolyrnnError `FILE:LINE: …`. A last line with no newline after it that does not parse is
 * taken to be a record that training is still writing, and is left out.
 */
export function parseMetricsJsonl(text: string, fileNameForErrors: string): MetricsPoint[] {
  const lines = text.split("\n");
  const points: MetricsPoint[] = [];
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i].trim();
    if (line === "") continue;
    const where = `${fileNameForErrors}:${i + 1}`;
    const isUnfinishedLast = i === lines.length - 1 && line.startsWith("{");
    let record: unknown;
    try {
      record = JSON.parse(line);
    } catch {
      if (isUnfinishedLast) break;
      const shown = line.length > 40 ? `${line.slice(0, 40)}…` : line;
      throw new PolyrnnError(`${where}: not a JSON line: ${shown}`);
    }
    if (typeof record !== "object" || record === null || Array.isArray(record))
      throw new PolyrnnError(`${where}: expected a JSON object, got ${JSON.stringify(record).slice(0, 40)}`);
    const fields = record as Record<string, unknown>;
    const step = fields.step;
    if (typeof step !== "number" || !Number.isInteger(step) || step < 0)
      throw new PolyrnnError(
        `${where}: "step" must be a whole number of 0 or more, got ${step === undefined ? "none" : JSON.stringify(step)}`,
      );
    const values: Record<string, number> = {};
    for (const [key, v] of Object.entries(fields))
      if (key !== "step" && typeof v === "number" && Number.isFinite(v)) values[key] = v;
    points.push({ step, values });
  }
  return points;
}

export interface TrainingCurveSeries {
  train?: MetricsPoint[];
  eval?: MetricsPoint[];
}

export interface TrainingCurvesOptions {
  /** Picture width in pixels (default 1200). */
  width?: number;
  /** Picture height in pixels (default: 460 side by side, 820 stacked). */
  height?: number;
  /** Panels side by side (default when width ≥ 700) or loss above accuracy. */
  layout?: "side-by-side" | "stacked";
  /** Title at the top left (default "Training curves"). */
  title?: string;
  /** Horizontal dashed reference lines, labelled "LABEL: loss 0.425" and "LABEL: accuracy 0.857". */
  reference?: { loss?: number; accuracy?: number; label?: string };
  /** The fields to plot (defaults "loss" and "metrics/accuracy"). */
  lossKey?: string;
  accuracyKey?: string;
  /**
   * What `MetricsPoint.step` holds, for the x axis and the legend (default "step"); for instance "seconds"
   * when the points are placed by wall-clock time.
   */
  xLabel?: string;
  /** Legend names of the two series (defaults "train" and "eval"), e.g. two runs' eval curves. */
  seriesLabels?: { train?: string; eval?: string };
}

export const CURVE_COLORS = {
  train: "#1f77b4",
  eval: "#e6550d",
  reference: "#303030",
  background: "#ffffff",
  grid: "#e6e7ec",
  frame: "#505050",
  text: "#202020",
  mutedText: "#606060",
} as const;

export interface NiceTicks {
  lo: number;
  hi: number;
  step: number;
  ticks: number[];
  /** Decimals that show every tick exactly. */
  decimals: number;
}

/** Round ticks (1, 2 or 5 × 10^k apart), about `target` of them, with a domain widened to whole ticks. */
export function niceTicks(lo: number, hi: number, target = 6): NiceTicks {
  if (!(hi > lo)) {
    const pad = lo === 0 ? 1 : Math.abs(lo) * 0.1;
    lo -= pad;
    hi += pad;
  }
  const raw = (hi - lo) / Math.max(1, target);
  const mag = 10 ** Math.floor(Math.log10(raw));
  const norm = raw / mag;
  const step = (norm < 1.5 ? 1 : norm < 3 ? 2 : norm < 7 ? 5 : 10) * mag;
  const decimals = Math.max(0, -Math.floor(Math.log10(step) + 1e-9));
  const round = (v: number) => Number(v.toFixed(decimals));
  const niceLo = round(Math.floor(lo / step + 1e-9) * step);
  const niceHi = round(Math.ceil(hi / step - 1e-9) * step);
  const ticks: number[] = [];
  const n = Math.round((niceHi - niceLo) / step);
  for (let i = 0; i <= n; i++) ticks.push(round(niceLo + i * step));
  return { lo: niceLo, hi: niceHi, step, ticks, decimals };
}

/** A tick label: fixed decimals, thousands grouped with commas (35,000). */
export function formatTick(v: number, decimals: number): string {
  const [int, frac] = Math.abs(v).toFixed(decimals).split(".");
  const grouped = int.replace(/\B(?=(\d{3})+(?!\d))/g, ",");
  const sign = v < 0 && Number(v.toFixed(decimals)) !== 0 ? "-" : "";
  return `${sign}${grouped}${frac !== undefined ? `.${frac}` : ""}`;
}

/** A value in a label: up to 4 significant digits, no exponent for everyday sizes. */
function formatValue(v: number): string {
  if (v === 0) return "0";
  const digits = Math.max(0, 3 - Math.floor(Math.log10(Math.abs(v))));
  return String(Number(v.toFixed(Math.min(digits, 8))));
}

/** About how wide Helvetica text is. */
function textWidth(s: string, size: number): number {
  return s.length * size * 0.5;
}

const r1 = (v: number) => Math.round(v * 10) / 10;

/** The points of one series that have `key`, in step order; a step seen twice keeps its last value. */
function curve(points: MetricsPoint[] | undefined, key: string): [number, number][] {
  if (!points) return [];
  const byStep = new Map<number, number>();
  for (const p of points) {
    const v = p.values[key];
    if (v !== undefined) {
      byStep.delete(p.step);
      byStep.set(p.step, v);
    }
  }
  return [...byStep.entries()].sort((a, b) => a[0] - b[0]);
}

interface Panel {
  name: "loss" | "accuracy";
  heading: string;
  key: string;
  reference?: number;
  x: number;
  y: number;
  w: number;
  h: number;
}

const SERIES_NAMES = ["train", "eval"] as const;

/** The training curves as an SVG document: a loss panel and an accuracy panel, both against the step. */
export function trainingCurvesSvg(series: TrainingCurveSeries, opts: TrainingCurvesOptions = {}): string {
  const width = Math.round(opts.width ?? 1200);
  const layout = opts.layout ?? (width >= 700 ? "side-by-side" : "stacked");
  const title = opts.title ?? "Training curves";
  const lossKey = opts.lossKey ?? "loss";
  const accuracyKey = opts.accuracyKey ?? "metrics/accuracy";
  const ref = opts.reference ?? {};
  const refLabel = ref.label ?? "reference";
  const xLabel = opts.xLabel ?? "step";
  const C = CURVE_COLORS;

  const curves = {
    loss: { train: curve(series.train, lossKey), eval: curve(series.eval, lossKey) },
    accuracy: { train: curve(series.train, accuracyKey), eval: curve(series.eval, accuracyKey) },
  };
  const present = SERIES_NAMES.filter((s) => curves.loss[s].length > 0 || curves.accuracy[s].length > 0);

  // One step axis for both panels, from 0.
  let maxStep = 0;
  for (const c of [curves.loss, curves.accuracy])
    for (const s of SERIES_NAMES) for (const [step] of c[s]) maxStep = Math.max(maxStep, step);
  const xTicks = niceTicks(0, maxStep, layout === "side-by-side" ? Math.max(3, Math.round(width / 220)) : 8);

  // The legend's entries: each series with its last values, then the reference lines.
  const padLeft = 58;
  const legend: { cls: string; color: string; dashed: boolean; text: string; x: number; y: number }[] = [];
  const addLegend = (cls: string, color: string, dashed: boolean, text: string) =>
    legend.push({ cls, color, dashed, text, x: 0, y: 0 });
  for (const s of present) {
    const lastLoss = curves.loss[s].at(-1);
    const lastAcc = curves.accuracy[s].at(-1);
    const lastStep = Math.max(lastLoss?.[0] ?? 0, lastAcc?.[0] ?? 0);
    const parts = [
      lastLoss ? `loss ${formatValue(lastLoss[1])}` : undefined,
      lastAcc ? `accuracy ${formatValue(lastAcc[1])}` : undefined,
    ].filter((p) => p !== undefined);
    const name = opts.seriesLabels?.[s] ?? s;
    addLegend(s, C[s], false, `${name} (${xLabel} ${formatTick(lastStep, 0)}: ${parts.join(", ")})`);
  }
  if (ref.loss !== undefined || ref.accuracy !== undefined)
    addLegend("reference", C.reference, true, refLabel);
  let lx = padLeft;
  let rows = 1;
  for (const item of legend) {
    const w = 30 + textWidth(item.text, 12);
    if (lx > padLeft && lx + w > width - 16) {
      lx = padLeft;
      rows++;
    }
    item.x = r1(lx);
    item.y = 50 + (rows - 1) * 18;
    lx += w + 22;
  }

  // Layout: title row, legend rows, then the panels.
  const headerH = 64 + (rows - 1) * 18;
  const height = Math.round(opts.height ?? (layout === "side-by-side" ? 460 : 820) + (rows - 1) * 18);
  const padRight = 24;
  const padBottom = 44;
  const panelTop = 26;
  const gap = 24;
  const panels: Panel[] = [];
  const base = {
    loss: { name: "loss" as const, heading: `Loss (${lossKey})`, key: lossKey, reference: ref.loss },
    accuracy: {
      name: "accuracy" as const,
      heading: `Accuracy (${accuracyKey})`,
      key: accuracyKey,
      reference: ref.accuracy,
    },
  };
  if (layout === "side-by-side") {
    const cellW = (width - gap) / 2;
    const h = height - headerH - panelTop - padBottom;
    panels.push({ ...base.loss, x: padLeft, y: headerH + panelTop, w: cellW - padLeft - padRight, h });
    panels.push({
      ...base.accuracy,
      x: cellW + gap + padLeft,
      y: headerH + panelTop,
      w: cellW - padLeft - padRight,
      h,
    });
  } else {
    const cellH = (height - headerH) / 2;
    const h = cellH - panelTop - padBottom;
    panels.push({ ...base.loss, x: padLeft, y: headerH + panelTop, w: width - padLeft - padRight, h });
    panels.push({
      ...base.accuracy,
      x: padLeft,
      y: headerH + cellH + panelTop,
      w: width - padLeft - padRight,
      h,
    });
  }

  const out: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" ` +
      `viewBox="0 0 ${width} ${height}" font-family="Helvetica, Arial, sans-serif">`,
    `<title>${escapeXml(title)}</title>`,
    `<rect x="0" y="0" width="${width}" height="${height}" fill="${C.background}"/>`,
    `<text class="title" x="${padLeft}" y="28" font-size="18" font-weight="bold" fill="${C.text}">${escapeXml(title)}</text>`,
  ];

  // Legend, rows under the title wrapped to the width: a line sample and a name per series.
  for (const item of legend) {
    const { x, y } = item;
    const dash = item.dashed ? ` stroke-dasharray="6 4"` : "";
    out.push(
      `<g class="legend ${item.cls}"><line x1="${x}" y1="${y - 4}" x2="${x + 24}" y2="${y - 4}" stroke="${item.color}" stroke-width="${item.dashed ? 1.5 : 2.5}"${dash}/>` +
        `<text x="${x + 30}" y="${y}" font-size="12" fill="${C.text}">${escapeXml(item.text)}</text></g>`,
    );
  }
  if (present.length === 0)
    out.push(`<text class="empty" x="${padLeft}" y="50" font-size="12" fill="${C.mutedText}">no data</text>`);

  for (const p of panels) {
    const data = SERIES_NAMES.map((s) => ({ name: s, points: curves[p.name][s] }));
    let lo = Number.POSITIVE_INFINITY;
    let hi = Number.NEGATIVE_INFINITY;
    for (const d of data)
      for (const [, v] of d.points) {
        lo = Math.min(lo, v);
        hi = Math.max(hi, v);
      }
    if (p.reference !== undefined) {
      lo = Math.min(lo, p.reference);
      hi = Math.max(hi, p.reference);
    }
    if (!Number.isFinite(lo)) {
      lo = 0;
      hi = 1;
    }
    if (p.name === "loss" && lo >= 0) lo = 0;
    const yTicks = niceTicks(lo, hi, Math.max(3, Math.round(p.h / 55)));
    if (p.name === "accuracy" && yTicks.lo < 0 && lo >= 0) yTicks.ticks = yTicks.ticks.filter((t) => t >= 0);
    const yLo = p.name === "accuracy" && lo >= 0 ? Math.max(0, yTicks.lo) : yTicks.lo;
    const yHi = yTicks.hi;
    const sx = (step: number) => p.x + ((step - xTicks.lo) / (xTicks.hi - xTicks.lo)) * p.w;
    const sy = (v: number) => p.y + p.h - ((v - yLo) / (yHi - yLo)) * p.h;

    out.push(`<g class="panel ${p.name}">`);
    out.push(
      `<text class="heading" x="${p.x}" y="${p.y - 10}" font-size="14" font-weight="bold" fill="${C.text}">${escapeXml(p.heading)}</text>`,
    );
    for (const t of xTicks.ticks) {
      const x = r1(sx(t));
      out.push(
        `<line class="grid x" x1="${x}" y1="${p.y}" x2="${x}" y2="${p.y + p.h}" stroke="${C.grid}"/>`,
        `<text class="tick x" x="${x}" y="${p.y + p.h + 16}" font-size="11" text-anchor="middle" fill="${C.mutedText}">${formatTick(t, xTicks.decimals)}</text>`,
      );
    }
    for (const t of yTicks.ticks) {
      const y = r1(sy(t));
      out.push(
        `<line class="grid y" x1="${p.x}" y1="${y}" x2="${p.x + p.w}" y2="${y}" stroke="${C.grid}"/>`,
        `<text class="tick y" x="${p.x - 6}" y="${y + 4}" font-size="11" text-anchor="end" fill="${C.mutedText}">${formatTick(t, yTicks.decimals)}</text>`,
      );
    }
    out.push(
      `<rect class="frame" x="${p.x}" y="${p.y}" width="${r1(p.w)}" height="${r1(p.h)}" fill="none" stroke="${C.frame}"/>`,
      `<text class="axis-label" x="${r1(p.x + p.w / 2)}" y="${p.y + p.h + 34}" font-size="12" text-anchor="middle" fill="${C.text}">${escapeXml(xLabel)}</text>`,
    );
    for (const d of data) {
      if (d.points.length === 0) continue;
      const pts = d.points.map(([s, v]) => `${r1(sx(s))},${r1(sy(v))}`).join(" ");
      out.push(
        `<polyline class="series ${d.name}" points="${pts}" fill="none" stroke="${C[d.name]}" stroke-width="1.8" stroke-linejoin="round" stroke-linecap="round"/>`,
      );
      // Few points (an eval every checkpoint): mark each one.
      if (d.points.length <= 40)
        for (const [s, v] of d.points)
          out.push(
            `<circle class="marker ${d.name}" cx="${r1(sx(s))}" cy="${r1(sy(v))}" r="3" fill="${C[d.name]}"/>`,
          );
    }
    if (p.reference !== undefined) {
      const y = r1(sy(p.reference));
      const label = `${refLabel}: ${p.name} ${formatValue(p.reference)}`;
      // Loss falls towards its reference from above and accuracy rises from below, late in training: the
      // label goes at the left, on the other side of the line (unless the frame is too close there), with
      // a white halo in case a curve crosses it.
      const below = p.name === "loss" ? y + 18 <= p.y + p.h : y - 18 < p.y;
      const ty = below ? y + 15 : y - 6;
      out.push(
        `<line class="reference ${p.name}" x1="${p.x}" y1="${y}" x2="${r1(p.x + p.w)}" y2="${y}" stroke="${C.reference}" stroke-width="1.5" stroke-dasharray="6 4"/>`,
        `<text class="reference-label ${p.name}" x="${r1(p.x + 6)}" y="${r1(ty)}" font-size="12" fill="${C.reference}" stroke="${C.background}" stroke-width="3" paint-order="stroke">${escapeXml(label)}</text>`,
      );
    }
    out.push("</g>");
  }
  out.push("</svg>");
  return `${out.join("\n")}\n`;
}
