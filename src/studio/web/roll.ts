/**
 * The piano roll of the Studio: time left to right (beats and bars from the first tempo), pitch bottom to
 * top, primer and generated notes in the colours of `polyrnn plot` (PIANO_ROLL_COLORS in
 * src/render/pianoroll.ts, which the page cannot import: it pulls in the PNG encoder). The playhead is
 * drawn on a second canvas laid over the first, so moving it does not redraw the notes.
 *
 * A zoomable roll (the Generate tab's) has a horizontal scroller laid over the canvases: the page scrolls
 * it like any other (scroll bar, trackpad, Shift+wheel, a finger), Ctrl+wheel zooms around the pointer,
 * a click seeks, and the view follows the playhead. Only what is in view is drawn, so a piece of thousands
 * of steps costs no more than a short one. A roll that is not zoomable (the Play tab's window of bars)
 * always fits its piece to the width.
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
/** Pixels kept free right of the last note. */
const END_MARGIN = 4;
/** Lines of the grid closer than this (pixels) are thinned out: a dense grid is a grey wash. */
const MIN_LINE_GAP = 7;
/** Bar numbers closer than this (pixels) are thinned out. */
const MIN_LABEL_GAP = 44;
/**
 * A piece first shows whole if a beat is then this wide or wider (a 16th is 3 px; at 1280×720, 17 bars of
 * 4/4 fit: a take of 8 new bars after an 8-bar primer); a longer piece shows at this width, from its start.
 */
const READABLE_BEAT_PX = 12;
/** The narrowest and widest a beat can be zoomed to (the narrowest is also never below fitting the piece). */
const MAX_BEAT_PX = 480;
/** Each zoom step (button, key or wheel notch) scales time by this. */
export const ZOOM_STEP = 1.5;
/** Where the view puts the playhead when it pages to follow it (fraction of the visible width). */
const FOLLOW_AT = 0.1;
/** The view pages when the playhead passes this fraction of the visible width. */
const FOLLOW_PAST = 0.9;

export interface RollOptions {
  /** Zoom, scroll, follow the playhead (the Generate tab); otherwise the piece always fits the width. */
  zoomable?: boolean;
  /** A click on the notes: seek to time `t` (seconds). */
  onSeek?: (t: number) => void;
}

export class PianoRoll {
  private ns: NoteSequence | undefined;
  private splitTime: number | undefined;
  private generated: (n: Note) => boolean = () => false;
  private duration = 0;
  private pitchLo = 48;
  private pitchHi = 84;
  private playhead = -1;
  /** Seconds per beat and beats per bar at the first tempo (4/4 unless the file says otherwise). */
  private beat = 0.5;
  private beatsPerBar = 4;
  /** Pixels per beat chosen with the zoom; undefined = the default for this piece. */
  private beatPx: number | undefined;
  private readonly overlay: HTMLCanvasElement;
  private readonly scroller: HTMLDivElement | undefined;
  private readonly spacer: HTMLDivElement | undefined;
  private frame = 0;

  constructor(
    private readonly canvas: HTMLCanvasElement,
    options: RollOptions = {},
  ) {
    const overlay = document.createElement("canvas");
    overlay.className = "roll-overlay";
    overlay.setAttribute("aria-hidden", "true");
    canvas.insertAdjacentElement("afterend", overlay);
    this.overlay = overlay;
    if (options.zoomable) {
      const scroller = document.createElement("div");
      scroller.className = "roll-scroll";
      scroller.title = "Click to play from there; Ctrl+wheel zooms, Shift+wheel scrolls";
      const spacer = document.createElement("div");
      spacer.className = "roll-spacer";
      scroller.append(spacer);
      overlay.insertAdjacentElement("afterend", scroller);
      scroller.addEventListener("scroll", () => this.redrawSoon());
      scroller.addEventListener("wheel", (e) => this.onWheel(e), { passive: false });
      scroller.addEventListener("click", (e) => {
        const r = canvas.getBoundingClientRect();
        // A click on the scroll bar (below the plot) is not a seek.
        if (e.clientY - r.top > this.plotHeight()) return;
        const t = this.timeAt(e.clientX - r.left);
        if (t !== undefined) options.onSeek?.(Math.min(t, this.duration));
      });
      this.scroller = scroller;
      this.spacer = spacer;
    }
    new ResizeObserver(() => this.draw()).observe(canvas);
  }

  /**
   * Notes starting before splitTime are primer notes; undefined = all primer (nothing generated yet).
   * `isModel`, when given, says instead which notes are the model's (the Play tab's two tracks).
   * A different sequence than the one shown starts at the default zoom, scrolled to its start.
   */
  set(ns: NoteSequence | undefined, splitTime: number | undefined, isModel?: (n: Note) => boolean): void {
    const other = ns !== this.ns;
    this.ns = ns;
    this.splitTime = splitTime;
    this.generated = isModel ?? ((n) => splitTime !== undefined && n.startTime >= splitTime - 1e-6);
    let duration = ns?.totalTime ?? 0;
    let lo = Number.POSITIVE_INFINITY;
    let hi = Number.NEGATIVE_INFINITY;
    let primer = 0;
    let generated = 0;
    for (const n of ns?.notes ?? []) {
      if (n.endTime > duration) duration = n.endTime;
      if (n.pitch < lo) lo = n.pitch;
      if (n.pitch > hi) hi = n.pitch;
      if (this.generated(n)) generated++;
      else primer++;
    }
    this.duration = duration;
    // At least two octaves, three rows of room above and below.
    lo = Number.isFinite(lo) ? lo - 3 : 48;
    hi = Number.isFinite(hi) ? hi + 3 : 84;
    if (hi - lo < 24) {
      const mid = (hi + lo) / 2;
      lo = Math.floor(mid - 12);
      hi = Math.ceil(mid + 12);
    }
    this.pitchLo = lo;
    this.pitchHi = hi;
    this.beat = 60 / (ns?.tempos[0]?.qpm || 120);
    this.beatsPerBar = ns?.timeSignatures[0]?.numerator || 4;
    this.playhead = -1;
    if (other) {
      this.beatPx = undefined;
      if (this.scroller) this.scroller.scrollLeft = 0;
    }
    this.canvas.dataset.primerNotes = String(primer);
    this.canvas.dataset.generatedNotes = String(generated);
    this.canvas.dataset.duration = this.duration.toFixed(3);
    this.draw();
  }

  /** The time at a horizontal position (CSS pixels from the canvas's left edge); undefined left of the notes. */
  timeAt(px: number): number | undefined {
    if (px < LABEL_WIDTH) return undefined;
    const { pxPerSecond, scrollX } = this.geometry();
    return Math.max(0, (px - LABEL_WIDTH + scrollX) / pxPerSecond);
  }

  /**
   * Seconds from the start; negative hides the playhead. With `follow` (while playing) a zoomable roll
   * pages on when the playhead passes the right of the view, unless the user scrolled it out of view.
   */
  setPlayhead(t: number, follow = false): void {
    const was = this.playhead;
    this.playhead = t;
    this.canvas.dataset.playhead = t.toFixed(3);
    if (follow && this.scroller && t >= 0) {
      const { visibleSeconds, start } = this.view();
      const inView = was >= start - 0.05 && was <= start + visibleSeconds;
      if (inView && t > start + FOLLOW_PAST * visibleSeconds) {
        this.scrollToTime(t - FOLLOW_AT * visibleSeconds);
        return; // the scroll redraws
      }
    }
    this.drawOverlay();
  }

  /** Scrolls a zoomable roll so that `t` is in view (where it already is, nothing moves). */
  reveal(t: number): void {
    if (!this.scroller) return;
    const { visibleSeconds, start } = this.view();
    if (t < start || t > start + FOLLOW_PAST * visibleSeconds)
      this.scrollToTime(t - FOLLOW_AT * visibleSeconds);
  }

  /** Zooms by `factor` (above 1: in) keeping the time under `anchorPx` (default: the view's centre) still. */
  zoom(factor: number, anchorPx?: number): void {
    if (!this.scroller) return;
    const g = this.geometry();
    const at = anchorPx ?? LABEL_WIDTH + g.plotW / 2;
    const t = (at - LABEL_WIDTH + g.scrollX) / g.pxPerSecond;
    this.beatPx = this.clampBeatPx(g.pxPerSecond * this.beat * factor, g.plotW);
    const pxPerSecond = this.beatPx / this.beat;
    this.sizeSpacer(pxPerSecond);
    this.scroller.scrollLeft = Math.max(0, t * pxPerSecond - (at - LABEL_WIDTH));
    this.draw();
  }

  /** Shows the whole piece. */
  fit(): void {
    if (!this.scroller) return;
    this.beatPx = 0; // clamped up to fitting the width
    this.scroller.scrollLeft = 0;
    this.draw();
  }

  private onWheel(e: WheelEvent): void {
    if (!(e.ctrlKey || e.metaKey)) return; // scrolling is the scroller's own
    e.preventDefault();
    const r = this.canvas.getBoundingClientRect();
    this.zoom(ZOOM_STEP ** Math.max(-2, Math.min(2, -e.deltaY / 100)), e.clientX - r.left);
  }

  private scrollToTime(t: number): void {
    if (!this.scroller) return;
    this.scroller.scrollLeft = Math.max(0, t * this.geometry().pxPerSecond);
    this.redrawSoon();
  }

  private redrawSoon(): void {
    if (this.frame) return;
    this.frame = requestAnimationFrame(() => {
      this.frame = 0;
      this.draw();
    });
  }

  /** The height of the plot: the canvas less the scroller's scroll bar laid over its bottom. */
  private plotHeight(): number {
    const bar = this.scroller ? this.scroller.offsetHeight - this.scroller.clientHeight : 0;
    return Math.max(1, this.canvas.clientHeight - bar);
  }

  private clampBeatPx(beatPx: number, plotW: number): number {
    const seconds = Math.max(this.duration, 1);
    const fitBeatPx = (plotW / seconds) * this.beat;
    return Math.max(fitBeatPx, Math.min(MAX_BEAT_PX, beatPx));
  }

  private sizeSpacer(pxPerSecond: number): void {
    if (!this.spacer) return;
    const w = `${Math.ceil(LABEL_WIDTH + Math.max(this.duration, 1) * pxPerSecond + END_MARGIN)}px`;
    if (this.spacer.style.width !== w) this.spacer.style.width = w;
  }

  private geometry() {
    const W = this.canvas.clientWidth;
    const H = this.plotHeight();
    const lo = this.pitchLo;
    const hi = this.pitchHi;
    const plotW = Math.max(1, W - LABEL_WIDTH - END_MARGIN);
    const seconds = Math.max(this.duration, 1);
    const beatPx = this.scroller
      ? this.clampBeatPx(this.beatPx ?? READABLE_BEAT_PX, plotW)
      : (plotW / seconds) * this.beat;
    const pxPerSecond = beatPx / this.beat;
    const scrollX = this.scroller?.scrollLeft ?? 0;
    const x = (t: number) => LABEL_WIDTH + t * pxPerSecond - scrollX;
    const rowH = H / (hi - lo + 1);
    const y = (p: number) => (hi - p) * rowH;
    return { W, H, lo, hi, x, y, rowH, seconds, plotW, pxPerSecond, beatPx, scrollX };
  }

  /** The seconds in view: from `start`, `visibleSeconds` long. */
  private view(): { start: number; visibleSeconds: number } {
    const { plotW, pxPerSecond, scrollX } = this.geometry();
    return { start: scrollX / pxPerSecond, visibleSeconds: plotW / pxPerSecond };
  }

  private fit2d(c: HTMLCanvasElement): CanvasRenderingContext2D {
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

  draw(): void {
    const ctx = this.fit2d(this.canvas);
    const g = this.geometry();
    const { W, H, lo, hi, x, y, rowH, seconds, pxPerSecond, beatPx, scrollX } = g;
    this.sizeSpacer(pxPerSecond);
    const start = scrollX / pxPerSecond;
    const end = start + (W - LABEL_WIDTH) / pxPerSecond;
    const d = this.canvas.dataset;
    d.beatPx = beatPx.toFixed(2);
    d.viewStart = start.toFixed(3);
    d.viewEnd = Math.min(end, seconds).toFixed(3);

    ctx.fillStyle = ROLL_COLORS.background;
    ctx.fillRect(0, 0, W, this.canvas.clientHeight);
    ctx.save();
    ctx.beginPath();
    ctx.rect(LABEL_WIDTH, 0, W - LABEL_WIDTH, H);
    ctx.clip();
    for (let p = lo; p <= hi; p++) {
      if (BLACK.has(p % 12)) {
        ctx.fillStyle = ROLL_COLORS.blackKeyRow;
        ctx.fillRect(LABEL_WIDTH, y(p), W - LABEL_WIDTH, rowH);
      }
    }
    // The grid: beats, bars, or every 2nd, 4th… bar, whichever are at least MIN_LINE_GAP apart.
    const barPx = beatPx * this.beatsPerBar;
    const beatLines = beatPx >= MIN_LINE_GAP;
    let barEvery = 1;
    while (barEvery * barPx < MIN_LINE_GAP) barEvery *= 2;
    let labelEvery = 1;
    while (labelEvery * barPx < MIN_LABEL_GAP) labelEvery *= 2;
    const step = beatLines ? 1 : this.beatsPerBar * barEvery;
    const firstBeat = Math.max(0, Math.floor(start / this.beat / step) * step);
    ctx.font = "10px system-ui, -apple-system, 'Segoe UI', Roboto, sans-serif";
    ctx.textBaseline = "top";
    const last = Math.min(end, seconds) + 1e-9;
    let lines = 0;
    for (let b = firstBeat; b * this.beat <= last; b += step) {
      ctx.fillStyle = b % this.beatsPerBar === 0 ? ROLL_COLORS.bar : ROLL_COLORS.beat;
      ctx.fillRect(Math.round(x(b * this.beat)), 0, 1, H);
      lines++;
    }
    d.gridLines = String(lines);
    // Bar numbers (a zoomable roll's landmarks), over the lines.
    if (this.scroller) {
      ctx.fillStyle = ROLL_COLORS.text;
      const every = this.beatsPerBar * labelEvery;
      for (let b = Math.floor(firstBeat / every) * every; b * this.beat <= last; b += every) {
        ctx.fillText(String(b / this.beatsPerBar + 1), Math.round(x(b * this.beat)) + 3, 2);
      }
    }
    let drawn = 0;
    if (this.ns) {
      for (const n of this.ns.notes) {
        if (n.endTime < start || n.startTime > end) continue;
        ctx.fillStyle = this.generated(n) ? ROLL_COLORS.generated : ROLL_COLORS.primer;
        ctx.globalAlpha = 0.55 + 0.45 * Math.min(1, n.velocity / 127);
        const x0 = x(n.startTime);
        const w = Math.max(2, x(n.endTime) - x0 - 1);
        ctx.fillRect(x0, y(n.pitch) + 1, w, Math.max(2, rowH - 2));
        drawn++;
      }
      ctx.globalAlpha = 1;
      const split = this.splitTime;
      if (split !== undefined && split > 0) {
        ctx.strokeStyle = ROLL_COLORS.split;
        ctx.setLineDash([4, 4]);
        ctx.beginPath();
        ctx.moveTo(Math.round(x(split)) + 0.5, 0);
        ctx.lineTo(Math.round(x(split)) + 0.5, H);
        ctx.stroke();
        ctx.setLineDash([]);
      }
    }
    d.drawnNotes = String(drawn);
    ctx.restore();
    // The note names stay at the left edge when the notes scroll.
    ctx.fillStyle = ROLL_COLORS.text;
    ctx.font = "11px system-ui, -apple-system, 'Segoe UI', Roboto, sans-serif";
    ctx.textBaseline = "middle";
    for (let p = lo; p <= hi; p++) {
      if (p % 12 === 0) ctx.fillText(`C${p / 12 - 1}`, 4, y(p) + rowH / 2);
    }
    this.drawOverlay();
  }

  private drawOverlay(): void {
    const ctx = this.fit2d(this.overlay);
    const { W, H, x } = this.geometry();
    ctx.clearRect(0, 0, W, this.canvas.clientHeight);
    if (this.playhead < 0 || !this.ns) return;
    const px = Math.round(x(this.playhead)) + 0.5;
    if (px < LABEL_WIDTH) return;
    ctx.strokeStyle = ROLL_COLORS.playhead;
    ctx.lineWidth = 2;
    ctx.beginPath();
    ctx.moveTo(px, 0);
    ctx.lineTo(px, H);
    ctx.stroke();
  }
}
