/**
 * The Studio page: picks a model and a primer, runs generation in a worker, draws and plays the result,
 * and trains a new model from dropped MIDI files in a second worker. Everything the page needs comes from
 * the Studio server (src/studio/server.ts); dropped files are read here and never uploaded.
 */
import {
  GENERATION_OPTIONS,
  type GenerationKey,
  type NumberRange,
  numberFromText,
  optionOfFlag,
  rangeOf,
} from "../../generate/options.js";
import { generateStartStep, totalStepsFor } from "../../generate/polyphony.js";
import { primerFirstBars, primerFromFlags, primerFromPitches } from "../../generate/primer.js";
import { randomSeed } from "../../generate/rng.js";
import type { InputFile } from "../../io/convert_core.js";
import { writeMidi } from "../../io/midi.js";
import { noteSequenceToMusicXml } from "../../io/musicxml_write.js";
import { type Bundle, loadBundle } from "../../model/bundle.js";
import { parseHParams } from "../../model/hparams.js";
import type { NoteSequence } from "../../notesequence.js";
import { type DatasetOptions, DEFAULT_DATASET_OPTIONS } from "../../pipeline/dataset.js";
import type { StepMetrics } from "../../train/session.js";
import { TrainChart } from "./chart.js";
import { noteName, pianoKeys } from "./keys_view.js";
import { PlayTab } from "./play.js";
import type { GenerateSettings, GenReply, OnBeats, TrainReply, TrainRequest } from "./protocol.js";
import { PianoRoll, ZOOM_STEP } from "./roll.js";
import { ScoreView } from "./score.js";
import { Synth, type Voice } from "./synth.js";
import { formatDuration, TrainClock } from "./train_clock.js";

// ---------------------------------------------------------------------------------------------------
// Small helpers

function $<T extends HTMLElement = HTMLElement>(id: string): T {
  const el = document.getElementById(id);
  if (!el) throw new Error(`#${id} is missing from the page`);
  return el as T;
}
const input = (id: string) => $<HTMLInputElement>(id);
const num = (id: string) => Number(input(id).value);

type Tab = "generate" | "train" | "play";
let currentTab: Tab = "generate";
/** Each tab has its own message line: a message about training is not shown under the piano roll. */
const messages: Record<Tab, { text: string; kind: "info" | "error" }> = {
  generate: { text: "", kind: "info" },
  train: { text: "", kind: "info" },
  play: { text: "", kind: "info" },
};

function status(message: string, kind: "info" | "error" = "info", tab: Tab = "generate"): void {
  messages[tab] = { text: fieldNames(message), kind };
  if (tab === currentTab) renderStatus();
}

function renderStatus(): void {
  const el = $("status");
  el.textContent = messages[currentTab].text;
  el.className = `status ${messages[currentTab].kind}`;
}

/** Clears the tab's message if it is an error (the thing it was about has been fixed). */
function clearError(tab: Tab = "generate"): void {
  if (messages[tab].kind === "error") status("", "info", tab);
}

/** The name a field has on the page (its label's own text). */
function fieldLabel(id: string): string | undefined {
  const el = document.getElementById(id);
  const label = el?.closest("label");
  if (!label) return undefined;
  const text = Array.from(label.childNodes)
    .filter((n) => n.nodeType === Node.TEXT_NODE)
    .map((n) => n.textContent ?? "")
    .join(" ")
    .replace(/\s+/g, " ")
    .trim();
  return text || undefined;
}

/** Messages from the library name command-line flags (--num_steps); the page names its own fields. */
function fieldNames(message: string): string {
  return message.replace(/--([a-z_]+)/g, (flag, id: string) => {
    const label = fieldLabel(id);
    return label ? `“${label}”` : flag;
  });
}

/**
 * A number field's value, checked against its range: a generation option's from the one table
 * (GENERATION_OPTIONS, whose limits `showGenerationOptions` put on the field), any other field's from its
 * own min, max and step (whole numbers unless the step has a fraction). `fallback` is used when the field
 * is empty; without one, empty is an error.
 */
function fieldNumber(id: string, fallback?: number): number {
  const el = input(id);
  if (el.value.trim() === "" && fallback !== undefined) return fallback;
  const key = optionOfFlag(id);
  const range: NumberRange = key
    ? rangeOf(key)
    : {
        whole: el.step === "" || Number.isInteger(Number(el.step)),
        min: el.min === "" ? undefined : Number(el.min),
        max: el.max === "" ? undefined : Number(el.max),
      };
  return numberFromText(`“${fieldLabel(id) ?? id}”`, el.value, range);
}

/** The generation fields' defaults and limits, from the one table. */
function showGenerationOptions(): void {
  for (const key of Object.keys(GENERATION_OPTIONS) as GenerationKey[]) {
    const o = GENERATION_OPTIONS[key];
    const el = document.getElementById(o.flag) as HTMLInputElement | null;
    if (!el) continue;
    if (o.type === "bool") {
      el.checked = o.default;
      continue;
    }
    const { min, max } = rangeOf(key);
    if (min !== undefined) el.min = String(min);
    if (max !== undefined) el.max = String(max);
    if ("default" in o) el.value = String(o.default);
  }
}

/** The temperature the fields show unless the user typed another: the model's own, else the table's. */
let shownTemperature = String(GENERATION_OPTIONS.temperature.default);

/** A bundle's own temperature (`Bundle.temperature`) into both temperature fields the user left alone. */
function showBundleTemperature(bundle: Bundle | undefined): void {
  const t = String(bundle?.temperature ?? GENERATION_OPTIONS.temperature.default);
  for (const id of ["temperature", "p_temperature"]) {
    const el = input(id);
    if (el.value === shownTemperature) el.value = t;
  }
  shownTemperature = t;
}

function fmtTime(t: number): string {
  const s = Math.max(0, t);
  return `${Math.floor(s / 60)}:${(s % 60).toFixed(1).padStart(4, "0")}`;
}

function download(bytes: Uint8Array, name: string, type: string): void {
  const url = URL.createObjectURL(new Blob([bytes as BlobPart], { type }));
  const a = document.createElement("a");
  a.href = url;
  a.download = name;
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}

function stamp(): string {
  const d = new Date();
  const p = (n: number) => String(n).padStart(2, "0");
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())}_${p(d.getHours())}${p(d.getMinutes())}${p(d.getSeconds())}`;
}

function describeBundle(b: Bundle): string {
  const layers = b.hparams.rnnLayerSizes.join("×");
  const t = b.temperature === undefined ? "" : `, temperature ${b.temperature}`;
  return `${layers} LSTM, step ${b.step}${t}${b.description ? ` — ${b.description}` : ""}`;
}

/** Drop handling on a label wrapping a file input. */
function dropZone(zone: HTMLElement, onFiles: (items: DataTransfer) => void): void {
  zone.addEventListener("dragover", (e) => {
    e.preventDefault();
    zone.classList.add("over");
  });
  zone.addEventListener("dragleave", () => zone.classList.remove("over"));
  zone.addEventListener("drop", (e) => {
    e.preventDefault();
    e.stopPropagation();
    zone.classList.remove("over");
    if (e.dataTransfer) onFiles(e.dataTransfer);
  });
}

/** Every file of a drop, folders walked recursively; names are paths relative to what was dropped. */
async function droppedFiles(dt: DataTransfer): Promise<File[]> {
  type Entry = FileSystemEntry & { fullPath: string };
  const entries = Array.from(dt.items)
    .map((i) => i.webkitGetAsEntry?.() as Entry | null)
    .filter((e): e is Entry => !!e);
  if (entries.length === 0) return Array.from(dt.files);
  const out: File[] = [];
  const walk = async (entry: FileSystemEntry, prefix: string): Promise<void> => {
    if (entry.isFile) {
      const file = await new Promise<File>((ok, fail) => (entry as FileSystemFileEntry).file(ok, fail));
      out.push(new File([file], `${prefix}${entry.name}`, { type: file.type }));
    } else if (entry.isDirectory) {
      const reader = (entry as FileSystemDirectoryEntry).createReader();
      for (;;) {
        const batch = await new Promise<FileSystemEntry[]>((ok, fail) => reader.readEntries(ok, fail));
        if (batch.length === 0) break;
        for (const child of batch) await walk(child, `${prefix}${entry.name}/`);
      }
    }
  };
  for (const e of entries) await walk(e, "");
  return out;
}

// ---------------------------------------------------------------------------------------------------
// Models

interface ModelChoice {
  key: string;
  label: string;
  /** Bytes, once fetched (server models are fetched when picked). */
  bytes?: Uint8Array;
  bundle?: Bundle;
  serverId?: string;
  /** A run dir is fetched again each time it is picked: its newest checkpoint may have changed. */
  refetch?: boolean;
  error?: string;
}

const models: ModelChoice[] = [];
let currentModel: ModelChoice | undefined;

function renderModelSelect(selectKey?: string): void {
  const sel = $<HTMLSelectElement>("model");
  sel.replaceChildren(
    ...models.map((m) => {
      const o = document.createElement("option");
      o.value = m.key;
      o.textContent = m.label + (m.error ? " (unreadable)" : "");
      o.disabled = !!m.error;
      return o;
    }),
  );
  if (selectKey) sel.value = selectKey;
}

async function selectModel(key: string): Promise<void> {
  const m = models.find((x) => x.key === key);
  if (!m) return;
  currentModel = m;
  $<HTMLSelectElement>("model").value = key;
  const info = $("model-info");
  try {
    if ((!m.bytes || m.refetch) && m.serverId !== undefined) {
      info.textContent = "loading…";
      const r = await fetch(`/api/models/${m.serverId}`);
      if (!r.ok) throw new Error((await r.text()).trim() || `HTTP ${r.status}`);
      m.bytes = new Uint8Array(await r.arrayBuffer());
      m.bundle = undefined;
    }
    if (!m.bytes) throw new Error("no bytes");
    m.bundle ??= loadBundle(m.bytes);
    if (currentModel === m) {
      info.textContent = describeBundle(m.bundle);
      showBundleTemperature(m.bundle);
    }
  } catch (e) {
    info.textContent = `cannot load: ${(e as Error).message}`;
    showBundleTemperature(undefined);
  }
}

async function addBundleFile(file: File): Promise<void> {
  try {
    const bytes = new Uint8Array(await file.arrayBuffer());
    const bundle = loadBundle(bytes);
    const key = `drop:${file.name}:${Date.now()}`;
    models.unshift({ key, label: `${file.name} (dropped)`, bytes, bundle });
    renderModelSelect(key);
    await selectModel(key);
    status(`Loaded ${file.name}: ${describeBundle(bundle)}.`);
    $("bundle-drop-name").textContent = file.name;
  } catch (e) {
    status(`${file.name}: ${(e as Error).message}`, "error");
  }
}

// ---------------------------------------------------------------------------------------------------
// Primer

let primer: NoteSequence | undefined;
let primerLabel = "";
/** What the roll shows of the primer (a change of it shows the new primer; takes stay in their list). */
let primerKey = "";
let droppedPrimer: { name: string; bytes: Uint8Array } | undefined;
const examples: { id: string; name: string; bytes?: Uint8Array }[] = [];
const chord = new Set<number>();

/** A MIDI file (dropped, picked, or the Play tab's take) as the primer. */
async function useMidiPrimer(name: string, bytes: Uint8Array): Promise<void> {
  droppedPrimer = { name, bytes };
  $("midi-drop-name").textContent = `Loaded: ${name}`;
  (document.querySelector('input[name="primer"][value="midi"]') as HTMLInputElement).checked = true;
  await updatePrimer();
}

function primerKind(): string {
  return (document.querySelector('input[name="primer"]:checked') as HTMLInputElement | null)?.value ?? "none";
}

async function updatePrimer(): Promise<void> {
  const kind = primerKind();
  for (const el of Array.from(document.querySelectorAll<HTMLElement>("[data-primer]"))) {
    el.hidden = el.dataset.primer !== kind;
  }
  const info = $("primer-info");
  $("primer-bars-field").hidden = kind !== "example" && kind !== "midi";
  let key = kind;
  try {
    let file: { name: string; bytes: Uint8Array } | undefined;
    if (kind === "example") {
      const ex = examples.find((e) => e.id === $<HTMLSelectElement>("example").value);
      if (!ex) throw new Error("no example primers on this server");
      if (!ex.bytes) {
        const r = await fetch(`/api/examples/${ex.id}`);
        if (!r.ok) throw new Error(`HTTP ${r.status}`);
        ex.bytes = new Uint8Array(await r.arrayBuffer());
      }
      file = { name: ex.name, bytes: ex.bytes };
    } else if (kind === "midi") {
      if (!droppedPrimer) {
        primer = undefined;
        info.textContent = "Drop a MIDI file above.";
        info.classList.remove("error");
        showPrimer("midi:none");
        return;
      }
      file = droppedPrimer;
    }
    let text: string;
    if (file) {
      const raw = primerFromFlags({ primerMidi: { path: file.name, bytes: file.bytes } }).sequence;
      // The first N bars, read on the beats of the file's tempo map (a performance's rubato is no error).
      const whole = primerFirstBars(raw);
      const asked = fieldNumber("primer_bars", 0);
      const newSteps = Number(input("num_steps").value) || 128;
      const auto = Math.max(1, Math.floor(newSteps / whole.stepsPerBar));
      const trimmed = primerFirstBars(raw, asked || auto);
      primer = trimmed.sequence;
      primerLabel = `${file.name} (${trimmed.bars === 1 ? "1 bar" : `${trimmed.bars} bars`})`;
      key = `${kind}:${file.name}:${file.bytes.length}:${trimmed.bars}`;
      text =
        `${file.name}: first ${trimmed.bars} of ${trimmed.totalBars} bars${asked ? "" : " (auto)"}, ` +
        `${primer.notes.length} notes` +
        (trimmed.tempoChanges > 0
          ? `, ${trimmed.tempoChanges} tempo changes read on the beats and played at ${Math.round(primer.tempos[0].qpm)} qpm`
          : "");
    } else if (kind === "keys") {
      const qpm = fieldNumber("qpm", 120);
      const length = $<HTMLSelectElement>("chord_length");
      primer = chordPrimer(qpm, Number(length.value));
      const held = length.selectedOptions[0]?.textContent ?? "";
      primerLabel = chord.size ? `chord ${chordName()}, ${held}` : "empty";
      key = `keys:${[...chord].join(",")}:${qpm}:${length.value}`;
      text = chord.size
        ? `Chord ${chordName()}: ${chord.size} note${chord.size === 1 ? "" : "s"}, held ${held}`
        : "No keys chosen: click keys above";
    } else {
      primer = primerFromFlags({}).sequence;
      primerLabel = "no primer";
      key = "none";
      text = "No primer: the model starts from silence";
    }
    const qpm = primer.tempos[0]?.qpm ?? 120;
    info.textContent = `${text} · ${primer.totalTime.toFixed(2)} s, ${generateStartStep(primer) - 1} steps at ${Math.round(qpm)} qpm`;
    info.classList.remove("error");
    clearError();
  } catch (e) {
    primer = undefined;
    key = `${key}:error`;
    info.textContent = `Cannot use this primer: ${fieldNames((e as Error).message)}`;
    info.classList.add("error");
  }
  showPrimer(key);
}

const chordName = () =>
  [...chord]
    .sort((a, b) => a - b)
    .map(noteName)
    .join(" ");

/** The chord of the on-screen keys held `beats` beats (primerFromPitches, as --primer_pitches, holds one). */
function chordPrimer(qpm: number, beats: number): NoteSequence {
  const ns = primerFromPitches(
    [...chord].sort((a, b) => a - b),
    qpm,
  );
  const end = (Math.max(1, beats) * 60) / qpm;
  for (const n of ns.notes) n.endTime = end;
  if (ns.notes.length > 0) ns.totalTime = end;
  return ns;
}

/** How long a key pressed from the computer keyboard (Enter or Space on it) sounds, in seconds. */
const KEY_TAP = 0.4;

function buildKeyboard(): void {
  for (const key of pianoKeys($("keyboard"), 48, 84)) {
    const p = Number(key.dataset.pitch);
    // A key sounds while it is held down, like the Play tab's keys, over any playback.
    let voice: Voice | undefined;
    let held = false;
    const release = () => {
      held = false;
      const v = voice;
      voice = undefined;
      v?.stop(Math.max(synth.ctx?.currentTime ?? 0, v.start + 0.12));
    };
    const sound = (tap: boolean) => {
      synth.start().then(
        (ctx) => {
          voice?.stop(ctx.currentTime);
          const v = synth.note(p, 90, ctx.currentTime);
          // Released before the audio had started (the first press of the page), it still sounds briefly.
          if (tap || !held) v.stop(ctx.currentTime + KEY_TAP);
          else voice = v;
        },
        (e) => status(`No sound: ${(e as Error).message}`, "error"),
      );
    };
    key.addEventListener("pointerdown", () => {
      held = true;
      sound(false);
    });
    for (const up of ["pointerup", "pointerleave", "pointercancel"]) key.addEventListener(up, release);
    key.addEventListener("click", (e) => {
      if (chord.has(p)) chord.delete(p);
      else chord.add(p);
      key.setAttribute("aria-pressed", String(chord.has(p)));
      if (e.detail === 0) sound(true); // pressed from the keyboard: no pointer held it
      void updatePrimer();
    });
  }
}

// ---------------------------------------------------------------------------------------------------
// Generation

const roll = new PianoRoll($<HTMLCanvasElement>("roll"), { zoomable: true, onSeek: seek });
const score = new ScoreView($("score"), (text) => {
  $("score-info").textContent =
    text || "The shown take in notation; the cursor follows the playhead. Download MusicXML for MuseScore.";
});
const synth = new Synth();
const playTab = new PlayTab({
  synth,
  model: () =>
    currentModel?.bytes
      ? {
          bytes: currentModel.bytes,
          label: $<HTMLSelectElement>("model").selectedOptions[0]?.textContent ?? "",
        }
      : undefined,
  status: (text, kind) => status(text, kind, "play"),
  fieldNumber,
  download,
  stamp,
  usePrimer: (name, bytes) => {
    showTab("generate");
    void useMidiPrimer(name, bytes);
  },
});
let genWorker: Worker | undefined;
let genId = 0;
let generating = false;
let generations = 0;

/** A generated piece with what made it: kept until the user removes it. */
interface Take {
  n: number;
  sequence: NoteSequence;
  splitTime: number;
  name: string;
  seed: number;
  settings: GenerateSettings;
  newSteps: number;
  primerLabel: string;
  model: string;
  /** The kernels that generated it (the worker's `Kernels.name`). */
  kernels: string;
}
const takes: Take[] = [];
/** The take the roll shows; undefined while it shows the primer. */
let result: Take | undefined;
/** Settings of the generation in flight (the worker's reply carries only the music). */
let pending: { settings: GenerateSettings; newSteps: number; primerLabel: string; model: string } | undefined;

function showPrimer(key: string): void {
  if (key === primerKey && !result) return;
  const changed = key !== primerKey;
  primerKey = key;
  if (!changed || generating) return;
  stopPlayback();
  result = undefined;
  renderTakes();
  roll.set(primer, undefined);
  void score.show(undefined);
  $<HTMLButtonElement>("play").disabled = !primer || primer.notes.length === 0;
  $<HTMLButtonElement>("download-midi").disabled = true;
  $<HTMLButtonElement>("download-musicxml").disabled = true;
  playFrom = 0;
  updateTime(0);
  if (takes.length > 0) {
    status(
      `The roll shows the new primer. Your ${takes.length === 1 ? "take is" : `${takes.length} takes are`} ` +
        "kept under Takes: click one to see and hear it.",
    );
  }
}

function selectTake(take: Take | undefined): void {
  stopPlayback();
  result = take;
  playFrom = 0;
  if (take) roll.set(take.sequence, take.splitTime);
  else roll.set(primer, undefined);
  $<HTMLButtonElement>("play").disabled = !shown()?.notes.length;
  $<HTMLButtonElement>("download-midi").disabled = !take;
  $<HTMLButtonElement>("download-musicxml").disabled = !take;
  void score.show(take?.sequence);
  updateTime(0);
  renderTakes();
}

function renderTakes(): void {
  const list = $("takes");
  list.replaceChildren(
    ...takes
      .slice()
      .reverse()
      .map((t) => {
        const li = document.createElement("li");
        li.className = "take";
        li.dataset.take = String(t.n);
        li.dataset.seed = String(t.seed);
        li.dataset.kernels = t.kernels;
        li.setAttribute("aria-current", String(t === result));
        const what = document.createElement("span");
        what.className = "what";
        const s = t.settings;
        what.textContent =
          `Take ${t.n} · seed ${t.seed} · ${t.primerLabel} · ${t.newSteps} new steps · ` +
          `temperature ${s.temperature}${s.beamSize > 1 ? ` · beam ${s.beamSize}×${s.branchFactor}` : ""} · ` +
          `${fmtTime(t.sequence.totalTime)} · ${t.model}`;
        const button = (label: string, title: string, run: () => void) => {
          const b = document.createElement("button");
          b.type = "button";
          b.textContent = label;
          b.title = title;
          b.className = `take-${label.toLowerCase().split(" ")[0]}`;
          b.addEventListener("click", run);
          return b;
        };
        li.append(
          what,
          button("Play", "Show this take and play it", () => {
            if (result !== t) selectTake(t);
            void togglePlay();
          }),
          button("Show", "Show this take in the piano roll", () => selectTake(t)),
          button("Download", `Download ${t.name}`, () => downloadTake(t)),
          button("Remove", "Remove this take from the list", () => {
            takes.splice(takes.indexOf(t), 1);
            if (result === t) selectTake(undefined);
            else renderTakes();
            status(`Take ${t.n} removed.`);
          }),
        );
        return li;
      }),
  );
  $("takes-count").textContent =
    takes.length === 0
      ? "none yet: every piece you generate is kept here"
      : `${takes.length} kept until you remove them`;
  document.body.dataset.takes = String(takes.length);
}

function startGenWorker(): Worker {
  const w = new Worker(new URL("./gen_worker.js", import.meta.url), { type: "module" });
  w.onmessage = (e: MessageEvent) => onGenReply(e.data as GenReply);
  w.onerror = (e) => {
    // A worker that failed (to load, or later) is dropped; the next Generate starts a fresh one.
    w.terminate();
    if (genWorker === w) genWorker = undefined;
    finishGeneration();
    status(
      `The generation worker failed: ${e.message || "it did not load"}. Generate again to retry.`,
      "error",
    );
  };
  w.postMessage({ type: "init" });
  return w;
}

function engine(kernels: string, threads: number, notice?: string): void {
  const el = $("engine");
  const pretty = kernels.startsWith("wasm")
    ? `WebAssembly ${kernels === "wasm-relaxed-simd" ? "relaxed SIMD" : "SIMD"}`
    : "reference kernels (slow)";
  el.textContent = `${pretty} · ${threads} thread${threads === 1 ? "" : "s"}`;
  el.title = notice ?? `cross-origin isolated: ${globalThis.crossOriginIsolated}`;
  el.classList.toggle("warn", !!notice);
  document.body.dataset.kernels = kernels;
}

function onGenReply(m: GenReply): void {
  if (m.type === "ready") {
    engine(m.kernels, m.threads, m.notice);
    if (m.notice) status(m.notice, "error");
    return;
  }
  if (m.id !== genId) return;
  if (m.type === "progress") {
    $<HTMLProgressElement>("gen-progress").value = m.fraction;
    return;
  }
  finishGeneration();
  if (m.type === "error") {
    status(`Generation failed: ${m.message}`, "error");
    return;
  }
  const secondsPerStep = 60 / m.qpm / 4;
  const p = pending as NonNullable<typeof pending>;
  generations++;
  const take: Take = {
    n: generations,
    sequence: m.sequence,
    splitTime: p.settings.excludePrimer ? 0 : m.generateStartStep * secondsPerStep,
    name: `polyrnn_take${generations}_seed${p.settings.seed}_${stamp()}.mid`,
    seed: p.settings.seed,
    settings: p.settings,
    newSteps: p.newSteps,
    primerLabel: p.primerLabel,
    model: p.model,
    kernels: m.kernels,
  };
  takes.push(take);
  document.body.dataset.generations = String(generations);
  selectTake(take);
  $("seed-used").textContent = `Last seed: ${take.seed}`;
  status(
    `Take ${take.n}: ${m.sequence.notes.length} notes (${m.sequence.totalTime.toFixed(2)} s) in ${m.seconds.toFixed(2)} s, ` +
      `seed ${take.seed} (type it in Seed to make this take again); how likely the model finds it: ` +
      `${m.score.toFixed(2)} (log-likelihood; nearer 0 is more expected). Space plays, D downloads.`,
  );
}

function finishGeneration(): void {
  generating = false;
  $<HTMLButtonElement>("generate").disabled = false;
  $<HTMLProgressElement>("gen-progress").hidden = true;
  document.body.dataset.busy = "false";
}

function readSettings(): { settings: GenerateSettings; newSteps: number } {
  const newSteps = fieldNumber("num_steps");
  const settings: GenerateSettings = {
    numSteps: totalStepsFor(primer ?? primerFromFlags({}).sequence, newSteps),
    temperature: fieldNumber("temperature"),
    beamSize: fieldNumber("beam_size"),
    branchFactor: fieldNumber("branch_factor"),
    stepsPerIteration: fieldNumber("steps_per_iteration"),
    conditionOnPrimer: input("condition_on_primer").checked,
    injectPrimerDuringGeneration: input("inject_primer_during_generation").checked,
    excludePrimer: input("exclude_primer").checked,
    wellFormed: input("well_formed").checked,
    seed: fieldNumber("seed", randomSeed()),
  };
  return { settings, newSteps };
}

/** Candidates scored per step above which a search takes minutes on a laptop: the page warns. */
const SLOW_SEARCH = 256;

async function generate(): Promise<void> {
  if (generating) return;
  if (currentTab !== "generate") showTab("generate");
  if (!currentModel?.bytes) {
    status("Pick a model first (or wait until it has loaded).", "error");
    return;
  }
  if (!primer) {
    status(`The primer is not usable (${$("primer-info").textContent}); pick another.`, "error");
    return;
  }
  let read: ReturnType<typeof readSettings>;
  try {
    read = readSettings();
  } catch (e) {
    status((e as Error).message, "error");
    return;
  }
  const { settings, newSteps } = read;
  stopPlayback();
  generating = true;
  document.body.dataset.busy = "true";
  $<HTMLButtonElement>("generate").disabled = true;
  const bar = $<HTMLProgressElement>("gen-progress");
  bar.hidden = false;
  bar.value = 0;
  pending = {
    settings,
    newSteps,
    primerLabel,
    model: $<HTMLSelectElement>("model").selectedOptions[0]?.textContent ?? "",
  };
  $("seed-used").textContent = `Seed of this take: ${settings.seed}`;
  const work = settings.beamSize * settings.branchFactor;
  const slow =
    work >= SLOW_SEARCH
      ? ` Beam size × branch factor = ${work} continuations scored per step: this can take many minutes.`
      : "";
  status(
    `Generating ${newSteps} new steps after ${primerLabel} (seed ${settings.seed})…${slow} Esc cancels.`,
    slow ? "error" : "info",
  );
  genWorker ??= startGenWorker();
  genWorker.postMessage({
    type: "generate",
    id: ++genId,
    bundle: currentModel.bytes.slice(),
    primer,
    settings,
  });
}

function cancelGeneration(): void {
  if (!generating) return;
  genWorker?.terminate();
  genWorker = startGenWorker();
  genId++;
  finishGeneration();
  status("Generation cancelled.");
}

// ---------------------------------------------------------------------------------------------------
// Playback

let raf = 0;
/** Where Play starts: where the last Stop left off, or where the roll was clicked. */
let playFrom = 0;

function shown(): NoteSequence | undefined {
  return result?.sequence ?? primer;
}

function updateTime(t: number): void {
  const total = shown()?.totalTime ?? 0;
  $("time").textContent = `${fmtTime(Math.min(t, total))} / ${fmtTime(total)}`;
  score.setPlayhead(t);
}

function stopPlayback(): void {
  if (synth.playing) {
    const total = shown()?.totalTime ?? 0;
    const t = synth.position();
    playFrom = t < total - 0.05 ? t : 0;
  }
  synth.stop();
  cancelAnimationFrame(raf);
  roll.setPlayhead(playFrom > 0 ? playFrom : -1);
  updateTime(playFrom);
  $("play-label").textContent = "Play";
  document.body.dataset.playing = "false";
}

async function togglePlay(): Promise<void> {
  if (synth.playing) {
    stopPlayback();
    return;
  }
  const ns = shown();
  if (!ns || ns.notes.length === 0) return;
  await synth.play(ns, playFrom, () => {
    playFrom = 0;
    stopPlayback();
    playFrom = 0;
    roll.setPlayhead(-1);
    updateTime(0);
  });
  document.body.dataset.audio = synth.state;
  document.body.dataset.playing = "true";
  $("play-label").textContent = "Stop";
  roll.reveal(playFrom);
  const tick = () => {
    const t = Math.min(synth.position(), ns.totalTime);
    if (t < 0) return;
    roll.setPlayhead(t, true);
    updateTime(t);
    raf = requestAnimationFrame(tick);
  };
  raf = requestAnimationFrame(tick);
}

/** Click to seek: play continues (or will start) from time `t` of the shown piece. */
function seek(t: number): void {
  const total = shown()?.totalTime ?? 0;
  if (total <= 0) return;
  const playing = synth.playing;
  if (playing) stopPlayback();
  playFrom = Math.min(Math.max(0, t), total);
  roll.setPlayhead(playFrom);
  updateTime(playFrom);
  if (playing) void togglePlay();
}

function downloadTake(t: Take): void {
  download(writeMidi(t.sequence), t.name, "audio/midi");
  status(`Downloaded ${t.name}.`);
}

function downloadMusicXml(): void {
  if (!result) {
    status("Nothing to download yet: generate a take first (G).", "error");
    return;
  }
  const name = `${result.name.replace(/\.midi?$/i, "")}.musicxml`;
  try {
    const xml = noteSequenceToMusicXml(result.sequence, { title: name.replace(/\.musicxml$/, "") });
    download(new TextEncoder().encode(xml), name, "application/vnd.recordare.musicxml+xml");
    status(`Downloaded ${name}: open it in MuseScore or another notation program.`);
  } catch (e) {
    status(`Cannot write the score: ${(e as Error).message}`, "error");
  }
}

function downloadMidi(): void {
  if (result) downloadTake(result);
  else status("Nothing to download yet: generate a take first (G).", "error");
}

// ---------------------------------------------------------------------------------------------------
// Training

const chart = new TrainChart($<HTMLCanvasElement>("chart"));
const trainClock = new TrainClock();
/** The last step's numbers, shown with the time trained and the time left. */
let lastMetrics: { step: number; loss: number; accuracy: number; tokensPerSec: number } | undefined;
let trainWorker: Worker | undefined;
let trainFiles: InputFile[] = [];
let trainState: "idle" | "running" | "paused" | "finished" | "error" | "restored" = "idle";
let trainStep = 0;
let trainTarget = 0;
let trainedModels = 0;
/** Counts training runs (a model kept from a run is named by run and step). */
let trainRun = 0;
/** What the page decided about the dataset (said again in the status line when training ends). */
let trainNotice = "";
const bundleWaiters: ((m: { bytes: Uint8Array; step: number }) => void)[] = [];

function log(line: string): void {
  const el = $("train-log");
  el.textContent += `${line}\n`;
  el.scrollTop = el.scrollHeight;
}

function setTrainState(s: typeof trainState): void {
  trainState = s;
  if (s === "running") trainClock.run();
  else trainClock.pause();
  renderTrainStats();
  document.body.dataset.train = s;
  $<HTMLButtonElement>("train-start").disabled = s === "running";
  $<HTMLButtonElement>("train-stop").disabled = s !== "running";
  $<HTMLButtonElement>("train-resume").disabled = s !== "paused" && s !== "finished";
  $<HTMLButtonElement>("train-resume").textContent = s === "finished" ? "Train more" : "Resume";
  const haveModel = trainStep > 0 && s !== "error";
  $<HTMLButtonElement>("train-use").disabled = !haveModel;
  $<HTMLButtonElement>("train-download").disabled = !haveModel;
}

async function setTrainFiles(files: File[]): Promise<void> {
  const midi = files.filter((f) => /\.midi?$/i.test(f.name));
  trainFiles = await Promise.all(
    midi.map(async (f) => ({
      name: (f as File & { webkitRelativePath?: string }).webkitRelativePath || f.name,
      bytes: new Uint8Array(await f.arrayBuffer()),
    })),
  );
  const bytes = trainFiles.reduce((n, f) => n + f.bytes.length, 0);
  const other = files.length - midi.length;
  $("train-files-info").textContent =
    `${trainFiles.length} MIDI file${trainFiles.length === 1 ? "" : "s"} (${(bytes / 1024).toFixed(0)} KB)` +
    (other ? `; ${other} other file${other === 1 ? "" : "s"} ignored` : "");
  document.body.dataset.trainFiles = String(trainFiles.length);
}

function onTrainReply(m: TrainReply): void {
  switch (m.type) {
    case "ready":
      log(
        `Kernels: ${m.kernels}, ${m.threads} thread${m.threads === 1 ? "" : "s"}.${m.notice ? ` ${m.notice}` : ""}`,
      );
      break;
    case "dataset": {
      if (m.expressive.length > 0) {
        const what =
          `${m.expressive.length} of ${m.converted} files play with rubato (an expressive tempo map: ` +
          m.expressive.map((f) => `${f.name.split("/").pop()} ${f.tempoChanges} tempo changes`).join(", ") +
          ")";
        const line = m.onBeats
          ? `${what}: reading the notes on the beat grid (Timing: on the beats) so none are lost.`
          : `${what}: most of their notes are lost. Choose Timing “On the beats” to keep them.`;
        log(line);
        trainNotice = line;
        status(`Training on ${m.converted} files… ${line}`, m.onBeats ? "info" : "error", "train");
      }
      log(
        `Converted ${m.converted} of ${m.files} files; ${m.tracks} training tracks (${m.events} events), ` +
          `${m.keptNotes} of ${m.inputNotes} notes kept (untransposed)` +
          (m.onBeats ? ", timing on the beats." : "."),
      );
      log(
        m.evalTracks > 0
          ? `${m.evalTracks} tracks held out for evaluation (the model never trains on them).`
          : "No file fell in the held-out part: no evaluation (more files, or a larger “Held out for evaluation”).",
      );
      if (m.thinned > 0)
        log(
          `${m.thinned} training tracks open with one or two voices (thin openings), the others come in later.`,
        );
      for (const s of m.skipped) log(`skipped ${s.name}: ${s.reason}`);
      for (const w of m.warnings) log(`note: ${w}`);
      break;
    }
    case "eval":
      chart.addEval(m);
      log(
        `Held-out files at step ${m.step}: loss ${m.loss.toFixed(3)}, accuracy ${(100 * m.accuracy).toFixed(1)}%.`,
      );
      break;
    case "metrics": {
      chart.add(m.points);
      const last = m.points[m.points.length - 1];
      if (!last) break; // a flush with no new steps (seen under load: it threw on last.step)
      trainStep = last.step;
      trainClock.step(last.step);
      lastMetrics = {
        step: last.step,
        loss: last.loss,
        accuracy: last.accuracy,
        tokensPerSec: m.tokensPerSec,
      };
      renderTrainStats();
      if (trainStep > 0) {
        $<HTMLButtonElement>("train-use").disabled = false;
        $<HTMLButtonElement>("train-download").disabled = false;
      }
      break;
    }
    case "paused":
      trainStep = m.step;
      setTrainState("paused");
      void saveRun();
      log(`Stopped at step ${m.step}. Resume continues from here.`);
      status(`Training stopped at step ${m.step}.`, "info", "train");
      break;
    case "finished":
      trainStep = m.step;
      setTrainState("finished");
      void saveRun();
      log(`Finished ${m.step} steps.`);
      status(
        `Training finished at step ${m.step}: “Generate with it” or “Download bundle”.${trainNotice ? ` ${trainNotice}` : ""}`,
        "info",
        "train",
      );
      break;
    case "bundle":
      bundleWaiters.shift()?.({ bytes: m.bytes, step: m.step });
      break;
    case "error":
      setTrainState("error");
      log(`error: ${m.message}`);
      status(`Training failed: ${m.message}`, "error", "train");
      break;
  }
}

/** The Train tab's line over the chart: step of the target, loss, accuracy, speed, time trained and left. */
function renderTrainStats(): void {
  const m = lastMetrics;
  const el = $("train-stats");
  if (!m) {
    el.textContent = "";
    return;
  }
  const left = trainState === "running" ? trainClock.left(m.step, trainTarget) : undefined;
  el.textContent =
    `step ${m.step}/${trainTarget} · loss ${m.loss.toFixed(3)} · accuracy ${(100 * m.accuracy).toFixed(1)}% · ` +
    `${Math.round(m.tokensPerSec)} events/s · ${formatDuration(trainClock.elapsed())} elapsed` +
    (left !== undefined ? ` · about ${formatDuration(left)} left` : "");
  el.dataset.elapsed = trainClock.elapsed().toFixed(1);
  if (left !== undefined) el.dataset.left = left.toFixed(1);
  else delete el.dataset.left;
}

function datasetOptions(): DatasetOptions {
  const lo = num("d_tlow");
  const hi = num("d_thigh");
  if (!Number.isInteger(lo) || !Number.isInteger(hi) || lo > hi) throw new Error("bad transpose range");
  const range: number[] = [];
  for (let t = lo; t <= hi; t++) range.push(t);
  return {
    ...DEFAULT_DATASET_OPTIONS,
    evalRatio: num("d_eval_ratio"),
    seed: Math.max(0, Math.floor(num("t_seed") || 0)),
    minSteps: num("d_min_steps"),
    maxSteps: num("d_max_steps"),
    transposeRange: range,
    splitLongTracks: input("d_split_long").checked,
    quantizeOnBeats: false,
    mergePrograms: input("d_merge_programs").checked,
    thinOpenings: Math.min(1, Math.max(0, num("d_thin_openings") || 0)),
  };
}

// The last run is saved in the browser (IndexedDB) when it stops or finishes, so a reload keeps it.
const DB = { name: "polyrnn-studio", store: "runs", key: "last" };
interface SavedRun {
  bytes: Uint8Array;
  step: number;
  points: StepMetrics[];
  evals: { step: number; loss: number; accuracy: number }[];
  log: string;
  files: number;
}
let savedRun: SavedRun | undefined;

function openDb(): Promise<IDBDatabase> {
  return new Promise((resolve, reject) => {
    const r = indexedDB.open(DB.name, 1);
    r.onupgradeneeded = () => r.result.createObjectStore(DB.store);
    r.onsuccess = () => resolve(r.result);
    r.onerror = () => reject(r.error);
  });
}

async function dbRequest<T>(mode: IDBTransactionMode, run: (s: IDBObjectStore) => IDBRequest): Promise<T> {
  const db = await openDb();
  try {
    return await new Promise<T>((resolve, reject) => {
      const r = run(db.transaction(DB.store, mode).objectStore(DB.store));
      r.onsuccess = () => resolve(r.result as T);
      r.onerror = () => reject(r.error);
    });
  } finally {
    db.close();
  }
}

async function saveRun(): Promise<void> {
  if (!trainWorker || trainStep === 0) return;
  const { bytes, step } = await trainedBundle();
  savedRun = {
    bytes,
    step,
    points: chart.points,
    evals: chart.evals,
    log: $("train-log").textContent ?? "",
    files: trainFiles.length,
  };
  try {
    await dbRequest("readwrite", (s) => s.put(savedRun, DB.key));
    document.body.dataset.trainSaved = String(step);
  } catch (e) {
    log(`Could not keep this run in the browser: ${(e as Error).message}`);
  }
}

async function restoreRun(): Promise<void> {
  const run = await dbRequest<SavedRun | undefined>("readonly", (s) => s.get(DB.key)).catch(() => undefined);
  if (!run) return;
  savedRun = run;
  chart.clear();
  chart.add(run.points);
  for (const e of run.evals) chart.addEval(e);
  $("train-log").textContent = `${run.log}Restored from this browser after a reload (step ${run.step}).\n`;
  trainStep = run.step;
  trainTarget = run.step;
  keepTrained(run.bytes, run.step, "saved in this browser");
  setTrainState("restored");
  status(
    `Your last training run (step ${run.step}) was restored: “Generate with it”, “Download bundle”, or train again.`,
    "info",
    "train",
  );
}

/** Adds a trained bundle to the model list (once per run and step); returns its key. */
function keepTrained(bytes: Uint8Array, step: number, how = "trained here"): string {
  const known = models.find((m) => m.key.startsWith(`trained:${trainRun}:${step}:`));
  if (known) return known.key;
  const key = `trained:${trainRun}:${step}:${++trainedModels}`;
  models.unshift({
    key,
    label: `${how} #${trainedModels} (step ${step})`,
    bytes,
    bundle: loadBundle(bytes),
  });
  renderModelSelect(currentModel?.key);
  return key;
}

async function startTraining(): Promise<void> {
  if (trainFiles.length === 0) {
    status("Drop some MIDI files (or a folder of them) first.", "error", "train");
    return;
  }
  let req: Extract<TrainRequest, { type: "start" }>;
  try {
    const hparams = parseHParams(
      `batch_size=${input("t_batch_size").value},rnn_layer_sizes=${input("t_layers").value},` +
        `learning_rate=${input("t_learning_rate").value},dropout_keep_prob=${input("t_keep").value},` +
        `clip_norm=${input("t_clip").value}`,
    );
    const steps = num("t_steps");
    if (!Number.isInteger(steps) || steps < 1) throw new Error("steps must be a whole number ≥ 1");
    req = {
      type: "start",
      files: trainFiles.map((f) => ({ name: f.name, bytes: f.bytes.slice() })),
      collectionName: "studio",
      dataset: datasetOptions(),
      onBeats: $<HTMLSelectElement>("d_on_beats").value as OnBeats,
      hparams,
      numSteps: steps,
      seed: Math.max(0, Math.floor(num("t_seed") || 0)),
    };
  } catch (e) {
    status((e as Error).message.replace(/^--hparams: /, ""), "error", "train");
    return;
  }
  // A new run never wipes the last one: its model stays in the Generate tab's list.
  const previous = trainStep > 0 && trainState !== "error";
  setTrainState("running");
  if (previous) {
    const before = trainStep;
    const { bytes, step } = await trainedBundle();
    const key = keepTrained(bytes, step);
    const label = models.find((m) => m.key === key)?.label ?? "";
    log(`The previous run (step ${before}) is kept as “${label}” in the Generate tab's model list.`);
  }
  const kept = $("train-log").textContent ?? "";
  delete document.body.dataset.trainSaved;
  trainWorker?.terminate();
  trainRun++;
  trainWorker = new Worker(new URL("./train_worker.js", import.meta.url), { type: "module" });
  trainWorker.onmessage = (e: MessageEvent) => onTrainReply(e.data as TrainReply);
  trainWorker.onerror = (e) => onTrainReply({ type: "error", message: e.message || "the worker failed" });
  chart.clear();
  trainNotice = "";
  $("train-log").textContent = /kept as/.test(kept) ? `${kept.trim().split("\n").pop()}\n` : "";
  trainStep = 0;
  trainClock.reset();
  lastMetrics = undefined;
  trainTarget = req.numSteps;
  setTrainState("running");
  status(`Training on ${trainFiles.length} files…`, "info", "train");
  trainWorker.postMessage(req);
}

function resumeTraining(): void {
  if (!trainWorker) return;
  if (trainState === "finished") trainTarget = trainStep + Math.max(1, num("t_steps") || 100);
  setTrainState("running");
  status(`Training to step ${trainTarget}…`, "info", "train");
  trainWorker.postMessage({ type: "resume", numSteps: trainTarget } satisfies TrainRequest);
}

function trainedBundle(): Promise<{ bytes: Uint8Array; step: number }> {
  if (!trainWorker && savedRun) return Promise.resolve({ bytes: savedRun.bytes, step: savedRun.step });
  return new Promise((resolve) => {
    bundleWaiters.push(resolve);
    trainWorker?.postMessage({
      type: "bundle",
      description: `trained in polyrnn Studio on ${trainFiles.length} MIDI files`,
    } satisfies TrainRequest);
  });
}

async function useTrained(): Promise<void> {
  const { bytes, step } = await trainedBundle();
  const key = keepTrained(bytes, step);
  renderModelSelect(key);
  await selectModel(key);
  showTab("generate");
  status(`Generating with the model trained here (step ${step}): press G.`);
}

async function downloadTrained(): Promise<void> {
  const { bytes, step } = await trainedBundle();
  const name = `studio_model_step${step}.safetensors`;
  download(bytes, name, "application/octet-stream");
  status(
    `Downloaded ${name} (${(bytes.length / 1024).toFixed(0)} KB): \`polyrnn generate --bundle_file=${name}\` or drop it on the Generate tab.`,
    "info",
    "train",
  );
}

// ---------------------------------------------------------------------------------------------------
// Tabs, shortcuts, start-up

function showTab(which: Tab): void {
  currentTab = which;
  renderStatus();
  for (const t of ["generate", "train", "play"] as const) {
    $(`tab-${t}`).setAttribute("aria-selected", String(t === which));
    $(`panel-${t}`).hidden = t !== which;
  }
  $("roll-wrap").hidden = which !== "generate";
  $("transport-generate").hidden = which !== "generate";
  $("takes-wrap").hidden = which !== "generate";
  $("score-wrap").hidden = which !== "generate";
  $("train-view").hidden = which !== "train";
  $("play-view").hidden = which !== "play";
  playTab.show(which === "play");
  document.body.dataset.tab = which;
  if (which === "train") chart.draw();
  else if (which === "generate") roll.draw();
}

function onKey(e: KeyboardEvent): void {
  const target = e.target as HTMLElement;
  const inField = /^(INPUT|SELECT|TEXTAREA)$/.test(target.tagName);
  const typing = inField && !["checkbox", "radio"].includes((target as HTMLInputElement).type);
  if (e.key === "Escape") {
    if (generating) cancelGeneration();
    else if (inField) target.blur();
    return;
  }
  if ((e.ctrlKey || e.metaKey) && e.key === "Enter") {
    e.preventDefault();
    void generate();
    return;
  }
  if (typing || e.ctrlKey || e.metaKey || e.altKey) return;
  switch (e.key) {
    case " ":
      if (inField) return; // Space ticks a checkbox or radio button
      e.preventDefault();
      void togglePlay();
      break;
    case "g":
    case "G":
      void generate();
      break;
    case "d":
    case "D":
      downloadMidi();
      break;
    case "1":
      showTab("generate");
      break;
    case "2":
      showTab("train");
      break;
    case "3":
      showTab("play");
      break;
    case "?":
      $<HTMLDialogElement>("help").showModal();
      break;
    case "+":
    case "=":
      if (currentTab === "generate") roll.zoom(ZOOM_STEP);
      break;
    case "-":
      if (currentTab === "generate") roll.zoom(1 / ZOOM_STEP);
      break;
    case "0":
      if (currentTab === "generate") roll.fit();
      break;
  }
}

async function init(): Promise<void> {
  // A file dropped outside the drop zones must not navigate away from the page.
  window.addEventListener("dragover", (e) => e.preventDefault());
  window.addEventListener("drop", (e) => e.preventDefault());
  document.addEventListener("keydown", onKey);
  showGenerationOptions();

  $("tab-generate").addEventListener("click", () => showTab("generate"));
  $("tab-train").addEventListener("click", () => showTab("train"));
  $("tab-play").addEventListener("click", () => showTab("play"));
  $("help-button").addEventListener("click", () => $<HTMLDialogElement>("help").showModal());
  $("help-close").addEventListener("click", () => $<HTMLDialogElement>("help").close());
  $("model").addEventListener("change", () => void selectModel($<HTMLSelectElement>("model").value));
  input("bundle-file").addEventListener("change", () => {
    const f = input("bundle-file").files?.[0];
    if (f) void addBundleFile(f);
  });
  dropZone($("bundle-drop"), (dt) => {
    const f = dt.files[0];
    if (f) void addBundleFile(f);
  });
  for (const r of Array.from(document.querySelectorAll<HTMLInputElement>('input[name="primer"]'))) {
    r.addEventListener("change", () => void updatePrimer());
  }
  $("example").addEventListener("change", () => void updatePrimer());
  const takeMidi = async (f: File | undefined) => {
    if (f) await useMidiPrimer(f.name, new Uint8Array(await f.arrayBuffer()));
  };
  input("midi-file").addEventListener("change", () => void takeMidi(input("midi-file").files?.[0]));
  dropZone($("midi-drop"), (dt) => void takeMidi(dt.files[0]));
  buildKeyboard();
  $("keys-clear").addEventListener("click", () => {
    chord.clear();
    for (const k of Array.from(document.querySelectorAll(".key"))) k.setAttribute("aria-pressed", "false");
    void updatePrimer();
  });
  $("chord_length").addEventListener("change", () => void updatePrimer());
  for (const id of ["qpm", "primer_bars", "num_steps"]) {
    input(id).addEventListener("change", () => void updatePrimer());
  }
  $("generate").addEventListener("click", () => void generate());
  $("play").addEventListener("click", () => void togglePlay());
  $("zoom-in").addEventListener("click", () => roll.zoom(ZOOM_STEP));
  $("zoom-out").addEventListener("click", () => roll.zoom(1 / ZOOM_STEP));
  $("zoom-fit").addEventListener("click", () => roll.fit());
  $("download-midi").addEventListener("click", downloadMidi);
  $("download-musicxml").addEventListener("click", downloadMusicXml);

  input("train-files").addEventListener(
    "change",
    () => void setTrainFiles(Array.from(input("train-files").files ?? [])),
  );
  input("train-folder").addEventListener(
    "change",
    () => void setTrainFiles(Array.from(input("train-folder").files ?? [])),
  );
  dropZone($("train-drop"), (dt) => void droppedFiles(dt).then(setTrainFiles));
  $("train-start").addEventListener("click", () => void startTraining());
  $("train-stop").addEventListener("click", () =>
    trainWorker?.postMessage({ type: "stop" } satisfies TrainRequest),
  );
  $("train-resume").addEventListener("click", resumeTraining);
  $("train-use").addEventListener("click", () => void useTrained());
  $("train-download").addEventListener("click", () => void downloadTrained());
  setTrainState("idle");
  showTab("generate");

  genWorker = startGenWorker();
  const [serverModels, serverExamples] = await Promise.all([
    fetch("/api/models").then((r) => r.json()),
    fetch("/api/examples").then((r) => r.json()),
  ]);
  for (const m of serverModels as { id: string; name: string; kind: string; error?: string }[]) {
    models.push({
      key: `server:${m.id}`,
      label: m.name,
      serverId: m.id,
      refetch: m.kind === "run",
      error: m.error,
    });
  }
  renderModelSelect();
  const first = models.find((m) => !m.error);
  if (first) await selectModel(first.key);
  else $("model-info").textContent = "No model on the server: drop a bundle, or train one.";

  examples.push(...(serverExamples as { id: string; name: string }[]));
  $<HTMLSelectElement>("example").replaceChildren(
    ...examples.map((e) => {
      const o = document.createElement("option");
      o.value = e.id;
      o.textContent = e.name;
      return o;
    }),
  );
  await updatePrimer();
  await restoreRun();
  document.body.dataset.ready = "true";
  status("Ready. G generates, Space plays, ? shows every shortcut.");
}

init().catch((e) => status(`The Studio did not start: ${(e as Error).message}`, "error"));
