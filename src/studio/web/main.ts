/**
 * The Studio page: picks a model and a primer, runs generation in a worker, draws and plays the result,
 * and trains a new model from dropped MIDI files in a second worker. Everything the page needs comes from
 * the Studio server (src/studio/server.ts); dropped files are read here and never uploaded.
 */
import { primerFromFlags, primerFromPitches } from "../../generate/primer.js";
import type { InputFile } from "../../io/convert_core.js";
import { writeMidi } from "../../io/midi.js";
import { type Bundle, loadBundle } from "../../model/bundle.js";
import { parseHParams } from "../../model/hparams.js";
import type { NoteSequence } from "../../notesequence.js";
import { type DatasetOptions, DEFAULT_DATASET_OPTIONS } from "../../pipeline/dataset.js";
import { TrainChart } from "./chart.js";
import type { GenerateSettings, GenReply, TrainReply, TrainRequest } from "./protocol.js";
import { PianoRoll } from "./roll.js";
import { Synth } from "./synth.js";

// ---------------------------------------------------------------------------------------------------
// Small helpers

function $<T extends HTMLElement = HTMLElement>(id: string): T {
  const el = document.getElementById(id);
  if (!el) throw new Error(`#${id} is missing from the page`);
  return el as T;
}
const input = (id: string) => $<HTMLInputElement>(id);
const num = (id: string) => Number(input(id).value);

function status(message: string, kind: "info" | "error" = "info"): void {
  const el = $("status");
  el.textContent = message;
  el.className = `status ${kind}`;
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
  return `${layers} LSTM, step ${b.step}${b.description ? ` — ${b.description}` : ""}`;
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
    if (currentModel === m) info.textContent = describeBundle(m.bundle);
  } catch (e) {
    info.textContent = `cannot load: ${(e as Error).message}`;
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
  } catch (e) {
    status(`${file.name}: ${(e as Error).message}`, "error");
  }
}

// ---------------------------------------------------------------------------------------------------
// Primer

let primer: NoteSequence | undefined;
let primerLabel = "";
let droppedPrimer: { name: string; bytes: Uint8Array } | undefined;
const examples: { id: string; name: string; bytes?: Uint8Array }[] = [];
const chord = new Set<number>();

function primerKind(): string {
  return (document.querySelector('input[name="primer"]:checked') as HTMLInputElement | null)?.value ?? "none";
}

async function updatePrimer(): Promise<void> {
  const kind = primerKind();
  for (const el of Array.from(document.querySelectorAll<HTMLElement>("[data-primer]"))) {
    el.hidden = el.dataset.primer !== kind;
  }
  try {
    if (kind === "example") {
      const ex = examples.find((e) => e.id === $<HTMLSelectElement>("example").value);
      if (!ex) throw new Error("no example primers on this server");
      if (!ex.bytes) {
        const r = await fetch(`/api/examples/${ex.id}`);
        if (!r.ok) throw new Error(`HTTP ${r.status}`);
        ex.bytes = new Uint8Array(await r.arrayBuffer());
      }
      primer = primerFromFlags({ primerMidi: { path: ex.name, bytes: ex.bytes } }).sequence;
      primerLabel = ex.name;
    } else if (kind === "midi") {
      if (!droppedPrimer) {
        primer = undefined;
        $("primer-info").textContent = "Drop a MIDI file above.";
        showPrimer();
        return;
      }
      primer = primerFromFlags({
        primerMidi: { path: droppedPrimer.name, bytes: droppedPrimer.bytes },
      }).sequence;
      primerLabel = droppedPrimer.name;
    } else if (kind === "keys") {
      primer = primerFromPitches(
        [...chord].sort((a, b) => a - b),
        num("qpm") || 120,
      );
      primerLabel = chord.size ? "chord" : "empty";
    } else {
      primer = primerFromFlags({}).sequence;
      primerLabel = "empty";
    }
    const qpm = primer.tempos[0]?.qpm ?? 120;
    $("primer-info").textContent =
      `${primer.notes.length} notes, ${primer.totalTime.toFixed(2)} s (${Math.round((primer.totalTime * qpm) / 15)} steps) at ${Math.round(qpm)} qpm`;
  } catch (e) {
    primer = undefined;
    $("primer-info").textContent = `cannot use this primer: ${(e as Error).message}`;
  }
  showPrimer();
}

function buildKeyboard(): void {
  const kb = $("keyboard");
  const BLACK = new Set([1, 3, 6, 8, 10]);
  const names = ["C", "C♯", "D", "D♯", "E", "F", "F♯", "G", "G♯", "A", "A♯", "B"];
  for (let p = 48; p < 84; p++) {
    const key = document.createElement("button");
    key.type = "button";
    key.className = BLACK.has(p % 12) ? "key black" : "key white";
    key.title = `${names[p % 12]}${Math.floor(p / 12) - 1} (MIDI ${p})`;
    key.dataset.pitch = String(p);
    key.setAttribute("aria-pressed", "false");
    key.addEventListener("click", () => {
      if (chord.has(p)) chord.delete(p);
      else chord.add(p);
      key.setAttribute("aria-pressed", String(chord.has(p)));
      preview(p);
      void updatePrimer();
    });
    kb.append(key);
  }
}

function preview(pitch: number): void {
  // A clicked key sounds, unless the piece is playing (the preview would stop it).
  if (!chord.has(pitch) || document.body.dataset.playing === "true") return;
  void synth.play(primerFromPitches([pitch], 120));
}

// ---------------------------------------------------------------------------------------------------
// Generation

const roll = new PianoRoll($<HTMLCanvasElement>("roll"));
const synth = new Synth();
let genWorker: Worker | undefined;
let genId = 0;
let generating = false;
let result: { sequence: NoteSequence; splitTime: number; name: string } | undefined;
let generations = 0;

function showPrimer(): void {
  if (generating) return;
  stopPlayback();
  result = undefined;
  roll.set(primer, undefined);
  $<HTMLButtonElement>("play").disabled = !primer || primer.notes.length === 0;
  $<HTMLButtonElement>("download-midi").disabled = true;
  updateTime(0);
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
  const excluded = input("exclude_primer").checked;
  result = {
    sequence: m.sequence,
    splitTime: excluded ? 0 : m.generateStartStep * secondsPerStep,
    name: `polyrnn_${stamp()}.mid`,
  };
  generations++;
  document.body.dataset.generations = String(generations);
  roll.set(result.sequence, result.splitTime);
  $<HTMLButtonElement>("play").disabled = false;
  $<HTMLButtonElement>("download-midi").disabled = false;
  updateTime(0);
  status(
    `Generated ${m.sequence.notes.length} notes (${m.sequence.totalTime.toFixed(2)} s) in ${m.seconds.toFixed(2)} s; ` +
      `log-likelihood ${m.score.toFixed(2)}. Space plays, D downloads.`,
  );
}

function finishGeneration(): void {
  generating = false;
  $<HTMLButtonElement>("generate").disabled = false;
  $<HTMLProgressElement>("gen-progress").hidden = true;
  document.body.dataset.busy = "false";
}

function readSettings(): GenerateSettings {
  const intIn = (id: string, lo: number) => {
    const v = num(id);
    if (!Number.isInteger(v) || v < lo)
      throw new Error(`${id.replaceAll("_", " ")} must be a whole number ≥ ${lo}`);
    return v;
  };
  const temperature = num("temperature");
  if (!(temperature >= 0)) throw new Error("temperature must be 0 or more");
  const seedText = input("seed").value.trim();
  return {
    numSteps: intIn("num_steps", 1),
    temperature,
    beamSize: intIn("beam_size", 1),
    branchFactor: intIn("branch_factor", 1),
    stepsPerIteration: intIn("steps_per_iteration", 1),
    conditionOnPrimer: input("condition_on_primer").checked,
    injectPrimerDuringGeneration: input("inject_primer_during_generation").checked,
    excludePrimer: input("exclude_primer").checked,
    seed: seedText === "" ? Math.floor(Math.random() * 2 ** 31) : Number(seedText),
  };
}

async function generate(): Promise<void> {
  if (generating) return;
  if (!currentModel?.bytes) {
    status("Pick a model first (or wait until it has loaded).", "error");
    return;
  }
  if (!primer) {
    status("The primer is not usable; pick another.", "error");
    return;
  }
  let settings: GenerateSettings;
  try {
    settings = readSettings();
  } catch (e) {
    status((e as Error).message, "error");
    return;
  }
  stopPlayback();
  generating = true;
  document.body.dataset.busy = "true";
  $<HTMLButtonElement>("generate").disabled = true;
  const bar = $<HTMLProgressElement>("gen-progress");
  bar.hidden = false;
  bar.value = 0;
  status(`Generating ${settings.numSteps} steps from ${primerLabel} (seed ${settings.seed})… Esc cancels.`);
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

function shown(): NoteSequence | undefined {
  return result?.sequence ?? primer;
}

function updateTime(t: number): void {
  const total = shown()?.totalTime ?? 0;
  $("time").textContent = `${fmtTime(t)} / ${fmtTime(total)}`;
}

function stopPlayback(): void {
  synth.stop();
  cancelAnimationFrame(raf);
  roll.setPlayhead(-1);
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
  await synth.play(ns, 0, () => stopPlayback());
  document.body.dataset.audio = synth.state;
  document.body.dataset.playing = "true";
  $("play-label").textContent = "Stop";
  const tick = () => {
    const t = synth.position();
    if (t < 0) return;
    roll.setPlayhead(t);
    updateTime(t);
    raf = requestAnimationFrame(tick);
  };
  raf = requestAnimationFrame(tick);
}

function downloadMidi(): void {
  if (!result) return;
  download(writeMidi(result.sequence), result.name, "audio/midi");
}

// ---------------------------------------------------------------------------------------------------
// Training

const chart = new TrainChart($<HTMLCanvasElement>("chart"));
let trainWorker: Worker | undefined;
let trainFiles: InputFile[] = [];
let trainState: "idle" | "running" | "paused" | "finished" | "error" = "idle";
let trainStep = 0;
let trainTarget = 0;
let trainedModels = 0;
const bundleWaiters: ((m: { bytes: Uint8Array; step: number }) => void)[] = [];

function log(line: string): void {
  const el = $("train-log");
  el.textContent += `${line}\n`;
  el.scrollTop = el.scrollHeight;
}

function setTrainState(s: typeof trainState): void {
  trainState = s;
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
    case "dataset":
      log(
        `Converted ${m.converted} of ${m.files} files; ${m.tracks} training tracks (${m.events} events), ` +
          `${m.keptNotes} of ${m.inputNotes} notes kept (untransposed).`,
      );
      for (const s of m.skipped) log(`skipped ${s.name}: ${s.reason}`);
      for (const w of m.warnings) log(`note: ${w}`);
      break;
    case "metrics": {
      chart.add(m.points);
      const last = m.points[m.points.length - 1];
      trainStep = last.step;
      $("train-stats").textContent =
        `step ${last.step}/${trainTarget} · loss ${last.loss.toFixed(3)} · accuracy ${(100 * last.accuracy).toFixed(1)}% · ` +
        `${Math.round(m.tokensPerSec)} events/s`;
      if (trainStep > 0) {
        $<HTMLButtonElement>("train-use").disabled = false;
        $<HTMLButtonElement>("train-download").disabled = false;
      }
      break;
    }
    case "paused":
      trainStep = m.step;
      setTrainState("paused");
      log(`Stopped at step ${m.step}. Resume continues from here.`);
      status(`Training stopped at step ${m.step}.`);
      break;
    case "finished":
      trainStep = m.step;
      setTrainState("finished");
      log(`Finished ${m.step} steps.`);
      status(`Training finished at step ${m.step}: “Generate with it” or “Download bundle”.`);
      break;
    case "bundle":
      bundleWaiters.shift()?.({ bytes: m.bytes, step: m.step });
      break;
    case "error":
      setTrainState("error");
      log(`error: ${m.message}`);
      status(`Training failed: ${m.message}`, "error");
      break;
  }
}

function datasetOptions(): DatasetOptions {
  const lo = num("d_tlow");
  const hi = num("d_thigh");
  if (!Number.isInteger(lo) || !Number.isInteger(hi) || lo > hi) throw new Error("bad transpose range");
  const range: number[] = [];
  for (let t = lo; t <= hi; t++) range.push(t);
  return {
    ...DEFAULT_DATASET_OPTIONS,
    evalRatio: 0,
    minSteps: num("d_min_steps"),
    maxSteps: num("d_max_steps"),
    transposeRange: range,
    splitLongTracks: input("d_split_long").checked,
    quantizeOnBeats: input("d_on_beats").checked,
    mergePrograms: input("d_merge_programs").checked,
  };
}

function startTraining(): void {
  if (trainFiles.length === 0) {
    status("Drop some MIDI files (or a folder of them) first.", "error");
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
      hparams,
      numSteps: steps,
      seed: Math.max(0, Math.floor(num("t_seed") || 0)),
    };
  } catch (e) {
    status((e as Error).message.replace(/^--hparams: /, ""), "error");
    return;
  }
  trainWorker?.terminate();
  trainWorker = new Worker(new URL("./train_worker.js", import.meta.url), { type: "module" });
  trainWorker.onmessage = (e: MessageEvent) => onTrainReply(e.data as TrainReply);
  trainWorker.onerror = (e) => onTrainReply({ type: "error", message: e.message || "the worker failed" });
  chart.clear();
  $("train-log").textContent = "";
  trainStep = 0;
  trainTarget = req.numSteps;
  setTrainState("running");
  status(`Training on ${trainFiles.length} files…`);
  trainWorker.postMessage(req);
}

function resumeTraining(): void {
  if (!trainWorker) return;
  if (trainState === "finished") trainTarget = trainStep + Math.max(1, num("t_steps") || 100);
  setTrainState("running");
  status(`Training to step ${trainTarget}…`);
  trainWorker.postMessage({ type: "resume", numSteps: trainTarget } satisfies TrainRequest);
}

function trainedBundle(): Promise<{ bytes: Uint8Array; step: number }> {
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
  const bundle = loadBundle(bytes);
  const key = `trained:${++trainedModels}`;
  models.unshift({ key, label: `trained here #${trainedModels} (step ${step})`, bytes, bundle });
  renderModelSelect(key);
  await selectModel(key);
  showTab("generate");
  status(`Generating with the model trained here (step ${step}): press G.`);
}

async function downloadTrained(): Promise<void> {
  const { bytes, step } = await trainedBundle();
  download(bytes, `studio_model_step${step}.safetensors`, "application/octet-stream");
}

// ---------------------------------------------------------------------------------------------------
// Tabs, shortcuts, start-up

function showTab(which: "generate" | "train"): void {
  for (const t of ["generate", "train"] as const) {
    $(`tab-${t}`).setAttribute("aria-selected", String(t === which));
    $(`panel-${t}`).hidden = t !== which;
  }
  $("roll-wrap").hidden = which !== "generate";
  $("transport-generate").hidden = which !== "generate";
  $("train-view").hidden = which !== "train";
  document.body.dataset.tab = which;
  if (which === "train") chart.draw();
  else roll.draw();
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
    case "?":
      $<HTMLDialogElement>("help").showModal();
      break;
  }
}

async function init(): Promise<void> {
  // A file dropped outside the drop zones must not navigate away from the page.
  window.addEventListener("dragover", (e) => e.preventDefault());
  window.addEventListener("drop", (e) => e.preventDefault());
  document.addEventListener("keydown", onKey);

  $("tab-generate").addEventListener("click", () => showTab("generate"));
  $("tab-train").addEventListener("click", () => showTab("train"));
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
    if (!f) return;
    droppedPrimer = { name: f.name, bytes: new Uint8Array(await f.arrayBuffer()) };
    (document.querySelector('input[name="primer"][value="midi"]') as HTMLInputElement).checked = true;
    await updatePrimer();
  };
  input("midi-file").addEventListener("change", () => void takeMidi(input("midi-file").files?.[0]));
  dropZone($("midi-drop"), (dt) => void takeMidi(dt.files[0]));
  buildKeyboard();
  $("keys-clear").addEventListener("click", () => {
    chord.clear();
    for (const k of Array.from(document.querySelectorAll(".key"))) k.setAttribute("aria-pressed", "false");
    void updatePrimer();
  });
  input("qpm").addEventListener("change", () => void updatePrimer());
  $("generate").addEventListener("click", () => void generate());
  $("play").addEventListener("click", () => void togglePlay());
  $("download-midi").addEventListener("click", downloadMidi);

  input("train-files").addEventListener(
    "change",
    () => void setTrainFiles(Array.from(input("train-files").files ?? [])),
  );
  input("train-folder").addEventListener(
    "change",
    () => void setTrainFiles(Array.from(input("train-folder").files ?? [])),
  );
  dropZone($("train-drop"), (dt) => void droppedFiles(dt).then(setTrainFiles));
  $("train-start").addEventListener("click", startTraining);
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
  document.body.dataset.ready = "true";
  status("Ready. G generates, Space plays, ? shows every shortcut.");
}

init().catch((e) => status(`The Studio did not start: ${(e as Error).message}`, "error"));
