/**
 * The piano roll of the Studio: time left to right (beats and bars from the first tempo), pitch bottom to
 * top, primer and generated notes in the colours of `polyrnn plot` (PIANO_ROLL_COLORS in
 * src/render/pianoroll.ts, which the page cannot import: it pulls in the PNG encoder). The playhead is
 * drawn on a second canvas laid over the first, so moving it does not redraw the notes.
 */
import type { Note, NoteSequence } from "../../notesequence.js";

export const ROLL_COLORS = {
  primer: "#1f77b4",
  generated: "#e6550d",
  background: "#ffffff",
  blackKeyRow: "#f1f2f6",
  beat: "#e3e3e8",
  bar: "#a9abb5",
  split: "#303030",
  text: "#606060",
  playhead: "#d62728",
} as const;

const BLACK = new Set([1, 3, 6, 8, 10]);
const LABEL_WIDTH = 34;

export class PianoRoll {
  private ns: NoteSequence | undefined;
  private splitTime: number | undefined;
  private generated: (n: Note) => boolean = () => false;
  private duration = 0;
  private playhead = -1;
  private readonly overlay: HTMLCanvasElement;

  constructor(private readonly canvas: HTMLCanvasElement) {
    const overlay = document.createElement("canvas");
    overlay.className = "roll-overlay";
    overlay.setAttribute("aria-hidden", "true");
    canvas.insertAdjacentElement("afterend", overlay);
    this.overlay = overlay;
    new ResizeObserver(() => this.draw()).observe(canvas);
  }

  /**
   * Notes starting before splitTime are primer notes; undefined = all primer (nothing generated yet).
   * `isModel`, when given, says instead which notes are the model's (the Play tab's two tracks).
   */
  set(ns: NoteSequence | undefined, splitTime: number | undefined, isModel?: (n: Note) => boolean): void {
    this.ns = ns;
    this.splitTime = splitTime;
    this.generated = isModel ?? ((n) => splitTime !== undefined && n.startTime >= splitTime - 1e-6);
    this.duration = ns ? Math.max(ns.totalTime, ...ns.notes.map((n) => n.endTime), 0) : 0;
    this.playhead = -1;
    let primer = 0;
    let generated = 0;
    for (const n of ns?.notes ?? []) {
      if (this.generated(n)) generated++;
      else primer++;
    }
    this.canvas.dataset.primerNotes = String(primer);
    this.canvas.dataset.generatedNotes = String(generated);
    this.canvas.dataset.duration = this.duration.toFixed(3);
    this.draw();
  }

  /** The time at a horizontal position (CSS pixels from the canvas's left edge); undefined left of the notes. */
  timeAt(px: number): number | undefined {
    const { W, seconds } = this.geometry();
    if (px < LABEL_WIDTH) return undefined;
    return ((px - LABEL_WIDTH) / Math.max(1, W - LABEL_WIDTH - 4)) * seconds;
  }

  /** Seconds from the start; negative hides the playhead. */
  setPlayhead(t: number): void {
    this.playhead = t;
    this.canvas.dataset.playhead = t.toFixed(3);
    this.drawOverlay();
  }

  private fit(c: HTMLCanvasElement): CanvasRenderingContext2D {
    const dpr = window.devicePixelRatio || 1;
    const w = Math.max(1, Math.round(this.canvas.clientWidth * dpr));
    const h = Math.max(1, Math.round(this.canvas.clientHeight * dpr));
    if (c.width !== w || c.height !== h) {
      c.width = w;
      c.height = h;
    }
    const ctx = c.getContext("2d") as CanvasRenderingContext2D;
    ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
    return ctx;
  }

  private geometry() {
    const W = this.canvas.clientWidth;
    const H = this.canvas.clientHeight;
    const pitches = this.ns?.notes.map((n) => n.pitch) ?? [];
    let lo = pitches.length ? Math.min(...pitches) - 3 : 48;
    let hi = pitches.length ? Math.max(...pitches) + 3 : 84;
    if (hi - lo < 24) {
      const mid = (hi + lo) / 2;
      lo = Math.floor(mid - 12);
      hi = Math.ceil(mid + 12);
    }
    const seconds = Math.max(this.duration, 1);
    const x = (t: number) => LABEL_WIDTH + (t / seconds) * (W - LABEL_WIDTH - 4);
    const rowH = H / (hi - lo + 1);
    const y = (p: number) => (hi - p) * rowH;
    return { W, H, lo, hi, x, y, rowH, seconds };
  }

  draw(): void {
    const ctx = this.fit(this.canvas);
    const { W, H, lo, hi, x, y, rowH, seconds } = this.geometry();
    ctx.fillStyle = ROLL_COLORS.background;
    ctx.fillRect(0, 0, W, H);
    for (let p = lo; p <= hi; p++) {
      if (BLACK.has(p % 12)) {
        ctx.fillStyle = ROLL_COLORS.blackKeyRow;
        ctx.fillRect(LABEL_WIDTH, y(p), W - LABEL_WIDTH, rowH);
      }
    }
    // Beats and bars at the first tempo (4/4 unless the file says otherwise).
    const qpm = this.ns?.tempos[0]?.qpm || 120;
    const beatsPerBar = this.ns?.timeSignatures[0]?.numerator || 4;
    const beat = 60 / qpm;
    for (let b = 0; b * beat <= seconds + 1e-9; b++) {
      const bar = b % beatsPerBar === 0;
      ctx.fillStyle = bar ? ROLL_COLORS.bar : ROLL_COLORS.beat;
      ctx.fillRect(Math.round(x(b * beat)), 0, 1, H);
    }
    ctx.fillStyle = ROLL_COLORS.text;
    ctx.font = "11px system-ui, -apple-system, 'Segoe UI', Roboto, sans-serif";
    ctx.textBaseline = "middle";
    for (let p = lo; p <= hi; p++) {
      if (p % 12 === 0) ctx.fillText(`C${p / 12 - 1}`, 4, y(p) + rowH / 2);
    }
    if (!this.ns) return;
    const split = this.splitTime;
    for (const n of this.ns.notes) {
      ctx.fillStyle = this.generated(n) ? ROLL_COLORS.generated : ROLL_COLORS.primer;
      ctx.globalAlpha = 0.55 + 0.45 * Math.min(1, n.velocity / 127);
      const x0 = x(n.startTime);
      const w = Math.max(2, x(n.endTime) - x0 - 1);
      ctx.fillRect(x0, y(n.pitch) + 1, w, Math.max(2, rowH - 2));
    }
    ctx.globalAlpha = 1;
    if (split !== undefined && split > 0) {
      ctx.fillStyle = ROLL_COLORS.split;
      ctx.setLineDash([4, 4]);
      ctx.strokeStyle = ROLL_COLORS.split;
      ctx.beginPath();
      ctx.moveTo(Math.round(x(split)) + 0.5, 0);
      ctx.lineTo(Math.round(x(split)) + 0.5, H);
      ctx.stroke();
      ctx.setLineDash([]);
    }
    this.drawOverlay();
  }

  private drawOverlay(): void {
    const ctx = this.fit(this.overlay);
    const { W, H, x } = this.geometry();
    ctx.clearRect(0, 0, W, H);
    if (this.playhead < 0 || !this.ns) return;
    const px = Math.round(x(this.playhead)) + 0.5;
    ctx.strokeStyle = ROLL_COLORS.playhead;
    ctx.lineWidth = 2;
    ctx.beginPath();
    ctx.moveTo(px, 0);
    ctx.lineTo(px, H);
    ctx.stroke();
  }
}
