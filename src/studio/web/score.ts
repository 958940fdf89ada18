/**
 * The score view: the shown take as notation (our MusicXML writer's piano score, drawn by the vendored
 * OpenSheetMusicDisplay in web/vendor, loaded on first use), with a cursor that follows the playhead.
 */
import { noteSequenceToMusicXml } from "../../io/musicxml_write.js";
import type { NoteSequence } from "../../notesequence.js";

/** The parts of OpenSheetMusicDisplay's API used here (its UMD build sets `window.opensheetmusicdisplay`). */
interface Osmd {
  load(xml: string): Promise<void>;
  render(): void;
  clear(): void;
  cursor: {
    show(): void;
    hide(): void;
    reset(): void;
    next(): void;
    /** Redraws the cursor where its iterator is (next() is a move and an update). */
    update(): void;
    cursorElement: HTMLElement;
    Iterator: {
      EndReached: boolean;
      currentTimeStamp: { RealValue: number };
      moveToNextVisibleVoiceEntry(notesOnly: boolean): void;
    };
  };
}
type OsmdClass = new (container: HTMLElement, options: Record<string, unknown>) => Osmd;

const OSMD_URL = "/web/vendor/opensheetmusicdisplay/opensheetmusicdisplay.min.js";
let osmdClass: Promise<OsmdClass> | undefined;

/** Loads the vendored UMD build once (a classic script: the page's CSP allows our own origin). */
function loadOsmd(): Promise<OsmdClass> {
  osmdClass ??= new Promise<OsmdClass>((resolve, reject) => {
    const script = document.createElement("script");
    script.src = OSMD_URL;
    script.onload = () => {
      const lib = (window as unknown as { opensheetmusicdisplay?: { OpenSheetMusicDisplay: OsmdClass } })
        .opensheetmusicdisplay;
      if (lib) resolve(lib.OpenSheetMusicDisplay);
      else reject(new Error("the notation renderer did not load"));
    };
    script.onerror = () => reject(new Error(`cannot load ${OSMD_URL}`));
    document.head.append(script);
  });
  return osmdClass;
}

export class ScoreView {
  private osmd: Osmd | undefined;
  /** Quarter notes per second of the shown score (its tempo): the cursor's clock. */
  private quartersPerSecond = 2;
  /** Where the cursor can stop, in quarter notes from the start; `stop` is the index it is at. */
  private stops: number[] = [0];
  private stop = 0;
  private shown: NoteSequence | undefined;
  /** Bumped by every show(): a slower earlier render does not overwrite a later one. */
  private generation = 0;

  constructor(
    private readonly container: HTMLElement,
    private readonly onMessage: (text: string) => void,
  ) {
    // Redrawn for the new width after a resize (OSMD's own autoResize would also redraw a cleared score).
    let timer: ReturnType<typeof setTimeout> | undefined;
    window.addEventListener("resize", () => {
      clearTimeout(timer);
      timer = setTimeout(() => {
        if (this.container.dataset.state === "ready" && this.container.offsetWidth > 0) this.drawn();
      }, 200);
    });
  }

  /** Draws the sequence as a score (or clears the view for undefined). Never throws. */
  async show(ns: NoteSequence | undefined): Promise<void> {
    if (ns === this.shown) return;
    this.shown = ns;
    const generation = ++this.generation;
    if (!ns || ns.notes.length === 0) {
      this.osmd?.clear();
      this.container.dataset.state = "empty";
      this.onMessage("The score of the take you generate or show appears here.");
      return;
    }
    this.container.dataset.state = "loading";
    try {
      const xml = noteSequenceToMusicXml(ns, { title: "" });
      const Osmd = await loadOsmd();
      if (generation !== this.generation) return;
      this.osmd ??= new Osmd(this.container, {
        autoResize: false,
        backend: "svg",
        drawTitle: false,
        drawSubtitle: false,
        drawComposer: false,
        drawPartNames: false,
        drawingParameters: "compacttight",
        followCursor: false,
      });
      await this.osmd.load(xml);
      if (generation !== this.generation) return;
      this.quartersPerSecond = (ns.tempos[0]?.qpm ?? 120) / 60;
      this.drawn();
      this.container.dataset.state = "ready";
      this.onMessage("");
    } catch (e) {
      this.container.dataset.state = "error";
      this.onMessage(`The score cannot be drawn: ${(e as Error).message}`);
    }
  }

  /** Draws the loaded score and lists the cursor's stops; the cursor goes back to the start. */
  private drawn(): void {
    if (!this.osmd) return;
    this.osmd.render();
    const cursor = this.osmd.cursor;
    cursor.show();
    cursor.reset();
    this.stops = [];
    // The iterator moves without redrawing the cursor at each stop (thousands in a long take).
    while (!cursor.Iterator.EndReached) {
      this.stops.push(cursor.Iterator.currentTimeStamp.RealValue * 4);
      cursor.Iterator.moveToNextVisibleVoiceEntry(false);
    }
    if (this.stops.length === 0) this.stops.push(0);
    cursor.reset();
    this.stop = 0;
  }

  /** Moves the cursor to the note sounding at `seconds` and keeps it in view. */
  setPlayhead(seconds: number): void {
    const cursor = this.osmd?.cursor;
    if (!cursor || this.container.dataset.state !== "ready") return;
    const target = seconds * this.quartersPerSecond + 1e-6;
    // The last cursor stop at or before the target (binary search).
    let lo = 0;
    let hi = this.stops.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (this.stops[mid] <= target) lo = mid;
      else hi = mid - 1;
    }
    if (lo === this.stop) return;
    if (lo < this.stop) {
      cursor.reset();
      this.stop = 0;
    }
    for (; this.stop < lo; this.stop++) cursor.Iterator.moveToNextVisibleVoiceEntry(false);
    cursor.update();
    this.scrollToCursor();
  }

  private scrollToCursor(): void {
    const el = this.osmd?.cursor.cursorElement;
    if (!el) return;
    const box = this.container.getBoundingClientRect();
    const r = el.getBoundingClientRect();
    if (r.top < box.top || r.bottom > box.bottom) {
      this.container.scrollTop += r.top - box.top - 8;
    }
  }
}
