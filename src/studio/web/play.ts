/**
 * The Studio's Play tab: the player plays (a MIDI keyboard, the computer keys, the on-screen keys, all at
 * once) and the model answers, harmonises or plays along, generating in its own worker (gen_worker.ts, the
 * WebAssembly kernels). Every note is kept in a take of two tracks (player, polyrnn) that downloads as MIDI
 * or becomes the Generate tab's primer.
 *
 * Timing: the take's clock is the AudioContext's (its 0 is the first note, or the metronome's start); the
 * model's notes are handed to the synth or the MIDI output a little ahead of that clock (play_out.ts), so
 * they sound on the grid. In answer and harmonise modes the answer is asked for as soon as the player has
 * been silent for a beat (or half the pause, if shorter), and starts when the pause ends, so the pause
 * hides the generation; a note played before then throws that answer away (the phrase goes on).
 */
import { GENERATION_OPTIONS, rangeOf } from "../../generate/options.js";
import { totalStepsFor } from "../../generate/polyphony.js";
import { randomSeed } from "../../generate/rng.js";
import { writeMidi } from "../../io/midi.js";
import type { NoteSequence } from "../../notesequence.js";
import { ComputerKeys, type KeyAction, keyLabel } from "./keys.js";
import { noteName, pianoKeys } from "./keys_view.js";
import { type MidiEvent, MidiPorts } from "./play_midi.js";
import { midiSink, NoteQueue, type Sink, synthSink } from "./play_out.js";
import {
  MODEL,
  type Phrase,
  PLAYER,
  phraseSince,
  placeAnswer,
  primerOnGrid,
  STEPS_PER_BAR,
  stepSeconds,
  Take,
} from "./play_record.js";
import type { GenerateSettings, GenReply, GenRequest } from "./protocol.js";
import { PianoRoll } from "./roll.js";
import type { Synth, Voice } from "./synth.js";

/** What the Play tab needs from the page. */
export interface PlayHost {
  synth: Synth;
  /** The model picked on the Generate tab (its bundle's bytes), once loaded. */
  model(): { bytes: Uint8Array; label: string } | undefined;
  status(text: string, kind?: "info" | "error"): void;
  /** A number field's value checked against its limits (throws naming the field). */
  fieldNumber(id: string, fallback?: number): number;
  download(bytes: Uint8Array, name: string, type: string): void;
  stamp(): string;
  /** Makes a MIDI file the Generate tab's primer and shows that tab. */
  usePrimer(name: string, bytes: Uint8Array): void;
}

type Mode = "answer" | "harmonise" | "accompany" | "off";

/** Seconds of the model's notes handed to the output ahead of the clock; the clock's tick. */
const LOOKAHEAD = 0.12;
const TICK_MS = 25;
/** An answer that is late starts this far ahead of the clock (on the next 16th). */
const LATE_MARGIN = 0.04;
const MAX_PHRASE_BARS = 8;
/** Bars of the take (both tracks) the accompaniment hears. */
const ACCOMPANY_BARS = 4;
/** Bars the roll shows: four gone (a phrase, the pause and the answer), the current one, one ahead. */
const ROLL_BARS = 6;
/** The on-screen keys: two octaves and a fourth from the computer keys' C (their whole range). */
const SCREEN_KEYS = 29;

/** A generation asked of the worker. */
interface Job {
  kind: "answer" | "accompany";
  take: Take;
  /** The player's phrase count when asked (answers); a later note makes the answer stale. */
  version: number;
  primer: Phrase["primer"];
  /** Where the model's music starts (take steps), and how many steps it is. */
  atStep: number;
  steps: number;
  /** Answers: the step the pause ends on. */
  pauseEndStep: number;
  settings: GenerateSettings;
  id?: number;
  sentAt?: number;
}

function $<T extends HTMLElement = HTMLElement>(id: string): T {
  const el = document.getElementById(id);
  if (!el) throw new Error(`#${id} is missing from the page`);
  return el as T;
}

export class PlayTab {
  private take: Take | undefined;
  /** Audio time of the take's 0. */
  private origin = 0;
  private readonly keys = new ComputerKeys(60);
  private readonly queue = new NoteQueue();
  /** The player's sounding voices, by pitch. */
  private readonly live = new Map<number, Voice>();
  /** Pointers down on the on-screen keys, and the pitch each plays. */
  private readonly pointers = new Map<number, number>();
  private readonly midi: MidiPorts;
  private outputId = "";
  private readonly roll: PianoRoll;
  private keyEls: HTMLButtonElement[] = [];

  private worker: Worker | undefined;
  private genId = 0;
  private inFlight: Job | undefined;
  private next: Job | undefined;

  /** Counts the player's notes: an answer asked for an older count is stale. */
  private version = 0;
  private asked = -1;
  /** The current phrase is the player's notes from here (take seconds). */
  private phraseFrom = 0;
  private answer: { start: number; end: number; pauseEnd: number; started: boolean } | undefined;
  private answers = 0;
  /** The last bar the accompaniment was asked for, and how many bars it played. */
  private accompanied = -1;
  private accompaniedBars = 0;
  private lastGenSeconds = 0;
  private nextBeat = 0;
  private timer: ReturnType<typeof setInterval> | undefined;
  private visible = false;
  private frame = 0;
  private drawn = { from: -1, revision: -1 };
  private audio: Promise<AudioContext> | undefined;

  constructor(private readonly host: PlayHost) {
    this.roll = new PianoRoll($<HTMLCanvasElement>("play-roll"));
    this.midi = new MidiPorts(
      (e, timeStamp) => this.input(e, timeStamp),
      () => this.renderMidi(),
    );
    this.buildKeys();
    // The temperature field's default and limits come from the one table of generation options.
    const temperature = $<HTMLInputElement>("p_temperature");
    const { min, max } = rangeOf("temperature");
    if (min !== undefined) temperature.min = String(min);
    if (max !== undefined) temperature.max = String(max);
    temperature.value = String(GENERATION_OPTIONS.temperature.default);
    window.addEventListener("keydown", (e) => this.onKey(e, true), { capture: true });
    window.addEventListener("keyup", (e) => this.onKey(e, false), { capture: true });
    window.addEventListener("blur", () => {
      for (const a of this.keys.releaseAll()) this.input(a);
    });
    for (const r of Array.from(document.querySelectorAll<HTMLInputElement>('input[name="p_mode"]'))) {
      r.addEventListener("change", () => this.modeChanged());
    }
    $("p_metronome").addEventListener("change", () => this.metronomeChanged());
    $("p_qpm").addEventListener("change", () => {
      if (this.take && this.take.count(PLAYER) + this.take.count(MODEL) > 0) {
        this.host.status("The new tempo applies to the next take: Clear starts one.");
      } else {
        // Nothing played yet: the take starts again at the new tempo (with the metronome, if it is on).
        this.take = undefined;
        this.metronomeChanged();
      }
    });
    $("p_midi_connect").addEventListener("click", () => void this.connectMidi());
    $<HTMLSelectElement>("p_midi_out").addEventListener("change", () => {
      this.outputId = $<HTMLSelectElement>("p_midi_out").value;
    });
    $("p_download").addEventListener("click", () => this.downloadTake());
    $("p_use").addEventListener("click", () => this.useAsPrimer());
    $("p_clear").addEventListener("click", () => this.clear());
    this.renderState();
  }

  /** The tab is shown (or hidden): its keys play only while it is shown. */
  show(visible: boolean): void {
    this.visible = visible;
    if (!visible) {
      for (const a of this.keys.releaseAll()) this.input(a);
      return;
    }
    this.worker ??= this.startWorker();
    this.timer ??= setInterval(() => this.tick(), TICK_MS);
    void this.startAudio().catch(() => undefined); // a click or key on the tab starts it otherwise
    const model = this.host.model();
    $("p_model").textContent = model
      ? `Model: ${model.label} (pick another on the Generate tab)`
      : "No model loaded yet: pick one on the Generate tab.";
    this.drawn.revision = -1;
    this.draw();
  }

  // -------------------------------------------------------------------------------------------------
  // Input

  private startAudio(): Promise<AudioContext> {
    const ctx = this.host.synth.ctx;
    if (ctx?.state === "running") return Promise.resolve(ctx);
    this.audio ??= this.host.synth.start().finally(() => {
      this.audio = undefined;
    });
    return this.audio;
  }

  private onKey(e: KeyboardEvent, down: boolean): void {
    if (!this.visible || e.ctrlKey || e.metaKey || e.altKey) return;
    const target = e.target as HTMLElement;
    const typing =
      /^(SELECT|TEXTAREA)$/.test(target.tagName) ||
      (target.tagName === "INPUT" && !["checkbox", "radio"].includes((target as HTMLInputElement).type));
    if (typing) return;
    if (down && e.code === "Escape" && this.answer?.started) {
      this.cutIn(this.now());
      this.host.status("Answer stopped.");
      e.stopPropagation();
      return;
    }
    if (!this.keys.handles(e.code)) return;
    e.preventDefault();
    e.stopPropagation();
    if (down && e.repeat) return;
    const action = down ? this.keys.down(e.code) : this.keys.up(e.code);
    if (action) this.input(action, e.timeStamp);
  }

  private buildKeys(): void {
    const box = $("play-keys");
    this.keyEls = pianoKeys(box, this.keys.base, this.keys.base + SCREEN_KEYS);
    for (const key of this.keyEls) {
      const semitone = Number(key.dataset.pitch) - this.keys.base;
      const letter = keyLabel(semitone);
      if (letter) {
        const span = document.createElement("span");
        span.className = "key-letter";
        span.textContent = letter;
        key.append(span);
      }
      key.addEventListener("pointerdown", (e) => {
        e.preventDefault();
        const pitch = Number(key.dataset.pitch);
        this.pointers.set(e.pointerId, pitch);
        this.input({ type: "on", pitch, velocity: 100 }, e.timeStamp);
      });
      const release = (e: PointerEvent) => {
        const pitch = this.pointers.get(e.pointerId);
        if (pitch === undefined) return;
        this.pointers.delete(e.pointerId);
        this.input({ type: "off", pitch }, e.timeStamp);
      };
      key.addEventListener("pointerup", release);
      key.addEventListener("pointerleave", release);
      key.addEventListener("pointercancel", release);
    }
    $("p_octave").textContent = `${noteName(this.keys.base)}–${noteName(this.keys.base + 17)}`;
  }

  /** One input event; `timeStamp` is when it happened (performance.now() milliseconds). */
  private input(e: KeyAction | MidiEvent, timeStamp?: number): void {
    if (e.type === "octave") {
      this.buildKeys();
      return;
    }
    const ctx = this.host.synth.ctx;
    if (ctx?.state !== "running") {
      // The first note starts the audio (a key press or click may); it plays as soon as that is done.
      this.startAudio().then(
        () => this.input(e, timeStamp),
        (err) => this.host.status(`No sound: ${(err as Error).message}`, "error"),
      );
      return;
    }
    let at = ctx.currentTime;
    if (timeStamp !== undefined) at -= Math.max(0, (performance.now() - timeStamp) / 1000);
    if (e.type === "on") {
      const take = this.ensureTake(at);
      const t = Math.max(0, at - this.origin);
      this.playerNote(t);
      take.noteOn(e.pitch, "velocity" in e ? e.velocity : 100, t);
      this.live.get(e.pitch)?.stop(at);
      this.live.set(e.pitch, this.sink().start(e.pitch, "velocity" in e ? e.velocity : 100, at));
    } else if (this.take) {
      const t = Math.max(0, at - this.origin);
      if (e.type === "off") this.take.noteOff(e.pitch, t);
      else this.take.sustain(e.down, t);
    }
    // A voice sounds while its note does (the pedal holds it).
    for (const [pitch, voice] of [...this.live]) {
      if (!this.take?.isOpen(pitch)) {
        voice.stop(at);
        this.live.delete(pitch);
      }
    }
    if (e.type === "sustain") $("p_sustain").hidden = !e.down;
    this.renderState();
  }

  private ensureTake(at: number): Take {
    if (this.take) return this.take;
    let qpm = 120;
    try {
      qpm = this.host.fieldNumber("p_qpm");
    } catch (err) {
      this.host.status(`${(err as Error).message} This take plays at 120 qpm.`, "error");
    }
    this.take = new Take(qpm);
    this.origin = at;
    this.nextBeat = 0;
    this.phraseFrom = 0;
    this.accompanied = -1;
    this.accompaniedBars = 0;
    this.answers = 0;
    this.drawn = { from: -1, revision: -1 };
    return this.take;
  }

  /** The player starts a note at take time `t`: a waiting answer is dropped, a playing one stops. */
  private playerNote(t: number): void {
    this.version++;
    if (!this.answer) return;
    const started = this.answer.start <= t;
    this.cutIn(t);
    // Before the pause ends the phrase goes on; during the answer, this note starts the next one.
    if (started) {
      this.phraseFrom = t;
      this.host.status("You cut in: the answer stopped. Pause to hear the next one.");
    }
  }

  /** Stops the model at take time `t`: nothing more of it sounds, and the take keeps what it played. */
  private cutIn(t: number): void {
    this.queue.stop(this.origin + t, (x) => this.origin + x);
    this.take?.cutModel(t);
    this.answer = undefined;
    this.version++;
    this.renderState();
  }

  private sink(): Sink {
    const out = this.outputId ? this.midi.output(this.outputId) : undefined;
    if (!out) return synthSink(this.host.synth);
    const ctx = this.host.synth.ctx as AudioContext;
    return midiSink(out, (audioTime) => performance.now() + (audioTime - ctx.currentTime) * 1000);
  }

  // -------------------------------------------------------------------------------------------------
  // The clock

  /** Take time now (0 before a take). */
  private now(): number {
    const ctx = this.host.synth.ctx;
    return this.take && ctx ? ctx.currentTime - this.origin : 0;
  }

  private mode(): Mode {
    return ((document.querySelector('input[name="p_mode"]:checked') as HTMLInputElement | null)?.value ??
      "answer") as Mode;
  }

  private tick(): void {
    const take = this.take;
    const ctx = this.host.synth.ctx;
    if (take && ctx) {
      const now = ctx.currentTime - this.origin;
      const horizon = now + LOOKAHEAD;
      const beat = 4 * stepSeconds(take.qpm);
      if ($<HTMLInputElement>("p_metronome").checked) {
        for (; this.nextBeat * beat < horizon; this.nextBeat++) {
          const t = this.nextBeat * beat;
          if (t >= now - 0.02) this.host.synth.click(this.origin + t, this.nextBeat % 4 === 0);
        }
      } else this.nextBeat = Math.ceil(now / beat);
      const sink = this.sink();
      const started = this.queue.run(
        horizon,
        (n) => sink.start(n.pitch, n.velocity, this.origin + n.startTime),
        (t) => this.origin + t,
      );
      take.addModel(started);
      const mode = this.mode();
      if (mode === "answer" || mode === "harmonise") this.answerTick(take, now);
      else if (mode === "accompany") this.accompanyTick(take, now);
      if (started.length > 0) this.renderState();
    }
    if (this.visible && this.frame === 0) {
      this.frame = requestAnimationFrame(() => {
        this.frame = 0;
        this.draw();
      });
    }
  }

  private answerTick(take: Take, now: number): void {
    const a = this.answer;
    if (a && !a.started && now >= a.start - 1e-3) {
      a.started = true;
      this.phraseFrom = a.start;
      this.answers++;
      this.renderState();
    }
    if (a && now >= a.end) {
      this.answer = undefined;
      this.renderState();
    }
    if (this.answer || take.sounding || this.asked === this.version) return;
    const step = stepSeconds(take.qpm);
    const beat = 4 * step;
    let pauseBeats: number;
    let settings: ReturnType<PlayTab["settings"]>;
    try {
      pauseBeats = Number($<HTMLSelectElement>("p_pause").value);
      settings = this.settings();
    } catch (e) {
      this.asked = this.version;
      this.host.status((e as Error).message, "error");
      return;
    }
    // Silent for a beat (or half the pause, if shorter): ask now, so the pause hides the generation.
    if (now - take.lastPlayerEnd() < Math.min(beat, (pauseBeats * beat) / 2)) return;
    const phrase = phraseSince(take.notesAt(now), take.qpm, this.phraseFrom, MAX_PHRASE_BARS);
    this.asked = this.version;
    if (!phrase) return;
    const harmonise = this.mode() === "harmonise";
    // Harmonising plays the whole phrase again from its first bar line (the injected melody starts with the
    // new music), in whole bars however short the chosen length, starting on a bar line so that its beats
    // fall where they were played. An answer continues the phrase a pause after it.
    const phraseBars = Math.ceil((phrase.endStep - phrase.fromStep) / STEPS_PER_BAR);
    const steps = STEPS_PER_BAR * (harmonise ? Math.max(settings.bars, phraseBars) : settings.bars);
    const pauseEnd = phrase.endStep + pauseBeats * 4;
    this.ask({
      kind: "answer",
      take,
      version: this.version,
      primer: phrase.primer,
      atStep: phrase.endStep,
      steps,
      pauseEndStep: harmonise ? Math.ceil(pauseEnd / STEPS_PER_BAR) * STEPS_PER_BAR : pauseEnd,
      settings: this.generateSettings(phrase.primer, steps, settings, harmonise),
    });
  }

  private accompanyTick(take: Take, now: number): void {
    const bar = STEPS_PER_BAR * stepSeconds(take.qpm);
    const next = Math.floor(now / bar) + 1;
    if (next <= this.accompanied) return;
    // Ask early enough for the generation to be done (twice the last one's time), at least half a bar.
    const lead = Math.min(bar, Math.max(bar / 2, 2 * this.lastGenSeconds + 0.1));
    if (now < next * bar - lead) return;
    this.accompanied = next;
    // The model plays along while the player plays (something in the last two bars).
    if (take.lastPlayerActivity(now) < now - 2 * bar || take.count(PLAYER) === 0) return;
    let settings: ReturnType<PlayTab["settings"]>;
    try {
      settings = this.settings();
    } catch (e) {
      this.host.status((e as Error).message, "error");
      return;
    }
    const heard = [...take.notesAt(now), ...this.queue.pending];
    const atStep = next * STEPS_PER_BAR;
    const primer = primerOnGrid(
      heard,
      take.qpm,
      Math.max(0, atStep - ACCOMPANY_BARS * STEPS_PER_BAR),
      atStep,
    );
    this.ask({
      kind: "accompany",
      take,
      version: this.version,
      primer,
      atStep,
      steps: STEPS_PER_BAR,
      pauseEndStep: atStep,
      settings: this.generateSettings(primer, STEPS_PER_BAR, settings, false),
    });
  }

  private settings(): { temperature: number; bars: number; condition: boolean } {
    return {
      temperature: this.host.fieldNumber("p_temperature"),
      bars: this.host.fieldNumber("p_bars"),
      condition: $<HTMLInputElement>("p_condition").checked,
    };
  }

  private generateSettings(
    primer: Phrase["primer"],
    steps: number,
    s: { temperature: number; condition: boolean },
    inject: boolean,
  ): GenerateSettings {
    return {
      numSteps: totalStepsFor(primer, steps),
      temperature: s.temperature,
      beamSize: GENERATION_OPTIONS.beamSize.default,
      branchFactor: GENERATION_OPTIONS.branchFactor.default,
      stepsPerIteration: GENERATION_OPTIONS.stepsPerIteration.default,
      conditionOnPrimer: s.condition,
      injectPrimerDuringGeneration: inject,
      excludePrimer: true,
      wellFormed: GENERATION_OPTIONS.wellFormed.default,
      seed: randomSeed(),
    };
  }

  // -------------------------------------------------------------------------------------------------
  // The worker

  private startWorker(): Worker {
    const w = new Worker(new URL("./gen_worker.js", import.meta.url), { type: "module" });
    w.onmessage = (e: MessageEvent) => this.onReply(e.data as GenReply);
    w.onerror = (e) => {
      w.terminate();
      if (this.worker === w) this.worker = undefined;
      this.inFlight = undefined;
      this.host.status(
        `The Play tab's generation worker failed: ${e.message || "it did not load"}.`,
        "error",
      );
    };
    w.postMessage({ type: "init" });
    return w;
  }

  /** One generation at a time: a job asked while one runs waits (a newer one replaces it). */
  private ask(job: Job): void {
    if (this.inFlight) {
      this.next = job;
      return;
    }
    const model = this.host.model();
    if (!model) {
      this.host.status("No model to answer with: pick one on the Generate tab.", "error");
      return;
    }
    this.worker ??= this.startWorker();
    job.id = ++this.genId;
    job.sentAt = performance.now();
    this.inFlight = job;
    const bundle = model.bytes.slice();
    const req: GenRequest = {
      type: "generate",
      id: job.id,
      bundle,
      primer: job.primer,
      settings: job.settings,
    };
    this.worker.postMessage(req, [bundle.buffer]);
    this.renderState();
  }

  private onReply(m: GenReply): void {
    if (m.type === "ready") {
      if (m.notice) this.host.status(m.notice, "error");
      return;
    }
    const job = this.inFlight;
    if (m.type === "progress" || !job || m.id !== job.id) return;
    this.inFlight = undefined;
    const ms = performance.now() - (job.sentAt ?? 0);
    this.lastGenSeconds = ms / 1000;
    if (m.type === "error") this.host.status(`The model could not answer: ${m.message}`, "error");
    else this.deliver(job, m.sequence, ms);
    const next = this.next;
    this.next = undefined;
    if (next) this.ask(next);
    this.renderState();
  }

  /** The model's music (from 0) for `job`, generated in `ms`: queued at its place, unless stale. */
  private deliver(job: Job, music: NoteSequence, ms: number): void {
    const take = this.take;
    if (job.take !== take || !take) return;
    const step = stepSeconds(take.qpm);
    const now = this.now();
    const length = job.steps * step;
    if (job.kind === "accompany") {
      if (this.mode() !== "accompany") return;
      const notes = placeAnswer(music, job.atStep * step, length).filter((n) => n.startTime >= now + 0.01);
      this.queue.add(notes);
      this.accompaniedBars++;
      this.stats(`Accompaniment for bar ${job.atStep / STEPS_PER_BAR + 1} generated in ${Math.round(ms)} ms`);
      return;
    }
    if (job.version !== this.version || (this.mode() !== "answer" && this.mode() !== "harmonise")) return;
    const pauseEnd = job.pauseEndStep * step;
    // On time, it starts when the pause ends; late, on the next 16th.
    const start = pauseEnd >= now + LATE_MARGIN ? pauseEnd : Math.ceil((now + LATE_MARGIN) / step) * step;
    const notes = placeAnswer(music, start, length);
    this.queue.add(notes);
    this.answer = { start, end: start + length, pauseEnd, started: false };
    const view = $("play-view").dataset;
    view.answerGenMs = ms.toFixed(0);
    view.answerLateMs = ((start - pauseEnd) * 1000).toFixed(0);
    view.answerFirstMs = notes.length ? ((notes[0].startTime - pauseEnd) * 1000).toFixed(0) : "";
    view.answerStart = start.toFixed(3);
    view.pauseEnd = pauseEnd.toFixed(3);
    this.stats(
      `Last answer: ${notes.length} notes, generated in ${Math.round(ms)} ms, starting ` +
        (start > pauseEnd + 1e-6
          ? `${Math.round((start - pauseEnd) * 1000)} ms after the pause`
          : "as the pause ended"),
    );
    this.tick();
  }

  private stats(text: string): void {
    $("p_stats").textContent = text;
  }

  // -------------------------------------------------------------------------------------------------
  // Controls

  private modeChanged(): void {
    if (this.take) this.cutIn(this.now());
    this.accompanied = Math.floor(this.now() / (STEPS_PER_BAR * stepSeconds(this.take?.qpm ?? 120)));
    this.phraseFrom = this.now();
    const mode = this.mode();
    this.host.status(
      {
        answer: "Answer: play a phrase and pause; the model continues it.",
        harmonise: "Harmonise: play a melody and pause; the model plays it back with the other voices.",
        accompany: "Accompany: play, and the model plays along a bar ahead (the metronome helps).",
        off: "Just play: nothing answers; the take records what you play.",
      }[mode],
    );
    this.renderState();
  }

  private metronomeChanged(): void {
    if (!$<HTMLInputElement>("p_metronome").checked || this.take) return;
    // The metronome starts a take: its first beat is the take's 0.
    void this.startAudio().then((ctx) => {
      this.ensureTake(ctx.currentTime + 0.1);
      this.renderState();
    });
  }

  private async connectMidi(): Promise<void> {
    try {
      await this.midi.connect();
      const inputs = this.midi.inputNames();
      this.host.status(
        inputs.length
          ? `MIDI connected: ${inputs.join(", ")} play${inputs.length === 1 ? "s" : ""}.`
          : "MIDI connected, but no input device is plugged in (one plugged in later plays).",
      );
    } catch (e) {
      this.host.status(`No MIDI: ${(e as Error).message}.`, "error");
    }
  }

  private renderMidi(): void {
    const inputs = this.midi.inputNames();
    $("p_midi_info").textContent = this.midi.connected
      ? `Inputs: ${inputs.length ? inputs.join(", ") : "none plugged in"}`
      : "";
    const select = $<HTMLSelectElement>("p_midi_out");
    const options = [new Option("Built-in synth", "")];
    for (const o of this.midi.outputs()) options.push(new Option(`MIDI out: ${o.name || o.id}`, o.id));
    select.replaceChildren(...options);
    select.value = this.midi.output(this.outputId) ? this.outputId : "";
    this.outputId = select.value;
    select.disabled = options.length === 1;
  }

  private takeFile(): { name: string; bytes: Uint8Array } | undefined {
    if (!this.take || this.take.count(PLAYER) + this.take.count(MODEL) === 0) {
      this.host.status("Nothing played yet: play some notes first.", "error");
      return undefined;
    }
    return {
      name: `polyrnn_play_${this.host.stamp()}.mid`,
      bytes: writeMidi(this.take.sequence(this.now())),
    };
  }

  private downloadTake(): void {
    const file = this.takeFile();
    if (!file) return;
    this.host.download(file.bytes, file.name, "audio/midi");
    this.host.status(`Downloaded ${file.name}: your notes and the model's, in two tracks.`);
  }

  private useAsPrimer(): void {
    const file = this.takeFile();
    if (file) this.host.usePrimer(file.name, file.bytes);
  }

  private clear(): void {
    if (this.take) this.cutIn(this.now());
    for (const v of this.live.values()) v.stop(this.host.synth.ctx?.currentTime ?? 0);
    this.live.clear();
    this.take = undefined;
    this.answer = undefined;
    this.asked = this.version;
    this.next = undefined;
    this.stats("");
    this.host.status("A new take: play.");
    this.renderState();
    this.draw();
  }

  // -------------------------------------------------------------------------------------------------
  // The view

  private renderState(): void {
    const take = this.take;
    const view = $("play-view");
    const mode = this.mode();
    const state = !take
      ? "idle"
      : this.answer?.started
        ? "answering"
        : this.answer || (this.inFlight && this.inFlight.kind === "answer")
          ? "thinking"
          : "listening";
    view.dataset.state = state;
    view.dataset.answers = String(this.answers);
    view.dataset.accompanied = String(this.accompaniedBars);
    view.dataset.playerNotes = String(take?.count(PLAYER) ?? 0);
    view.dataset.modelNotes = String(take?.count(MODEL) ?? 0);
    const what =
      mode === "off"
        ? "Recording what you play."
        : mode === "accompany"
          ? "The model plays along as you play."
          : {
              idle: "Play a phrase, then pause: the model answers.",
              listening: "Listening… pause to hear the answer.",
              thinking: "Listening… the answer comes when the pause ends.",
              answering: "The model answers (play to cut in).",
            }[state];
    $("p_state").textContent = what;
    const empty = !take || take.count(PLAYER) + take.count(MODEL) === 0;
    $<HTMLButtonElement>("p_download").disabled = empty;
    $<HTMLButtonElement>("p_use").disabled = empty;
  }

  private draw(): void {
    const take = this.take;
    if (!take) {
      if (this.drawn.revision !== 0) this.roll.set(undefined, undefined);
      this.drawn = { from: -1, revision: 0 };
      this.lightKeys(() => false, new Set());
      return;
    }
    const now = this.now();
    const bar = STEPS_PER_BAR * stepSeconds(take.qpm);
    const from = Math.max(0, Math.floor(now / bar) - (ROLL_BARS - 2)) * bar;
    const to = from + ROLL_BARS * bar;
    if (from !== this.drawn.from || take.revision !== this.drawn.revision || take.sounding) {
      const shown = take.sequence(now);
      shown.notes = shown.notes
        .filter((n) => n.endTime > from && n.startTime < to)
        .map((n) => ({
          ...n,
          startTime: Math.max(0, n.startTime - from),
          endTime: Math.min(to, n.endTime) - from,
        }));
      shown.totalTime = to - from;
      this.roll.set(shown, undefined, (n) => n.instrument === MODEL);
      this.drawn = { from, revision: take.revision };
    }
    this.roll.setPlayhead(now - from);
    this.lightKeys((p) => take.isOpen(p), this.queue.sounding(now));
  }

  private lightKeys(player: (pitch: number) => boolean, model: Set<number>): void {
    for (const key of this.keyEls) {
      const p = Number(key.dataset.pitch);
      const pressed = String(player(p));
      if (key.getAttribute("aria-pressed") !== pressed) key.setAttribute("aria-pressed", pressed);
      const m = String(model.has(p));
      if (key.dataset.model !== m) key.dataset.model = m;
    }
  }
}
