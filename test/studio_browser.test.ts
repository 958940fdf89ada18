import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { GENERATION_OPTIONS } from "../src/generate/options.js";
import { readMidi } from "../src/io/midi.js";
import { DEFAULT_BUNDLES } from "../src/io/model_files.js";
import { readMusicXml } from "../src/io/musicxml.js";
import { encodeBundle, loadBundle } from "../src/model/bundle.js";
import type { NoteSequence } from "../src/notesequence.js";
import { quantizeNoteSequence } from "../src/pipeline/quantize.js";
import { writeTinyPieces } from "./browser/fixtures.js";
import { runBrowserTests } from "./helpers/chromium.js";
import { ensureBuilt, ROOT, runCli, tempDir } from "./helpers/cli.js";
import { openStudioPage, rollColours, type StudioPage, waitForStudio } from "./helpers/studio.js";

const ARTIFACTS = join(ROOT, "test-artifacts", "studio");
const RUN = runBrowserTests("studio browser tests");

/** The bundle `polyrnn generate` uses by default: models/bach.safetensors once it exists, else schubert. */
const DEFAULT_BUNDLE = DEFAULT_BUNDLES.find((u) => existsSync(u));

let studio: StudioPage | undefined;
let page: Page;
const work = tempDir("polyrnn-studio-browser-");

function waitFor(selector: string, timeout = 30_000): Promise<void> {
  return waitForStudio(page, selector, timeout);
}

/** Index of the first model served by the Studio (after the models trained in the page). */
function firstServerModel(): Promise<number> {
  return page.$$eval("#model option", (os) =>
    os.findIndex((o) => !/trained here|saved in this browser|dropped/.test(o.textContent ?? "")),
  );
}

async function shot(name: string): Promise<void> {
  await page.screenshot({ path: join(ARTIFACTS, `${name}.png`) });
}

describe.skipIf(!RUN)("studio in Chromium", () => {
  beforeAll(async () => {
    ensureBuilt();
    mkdirSync(ARTIFACTS, { recursive: true });
    studio = await openStudioPage({ viewport: { width: 1366, height: 820 } });
    page = studio.page;
  });

  afterAll(async () => {
    await studio?.close();
  });

  it("generates from seed1 with the default bundle: notes in both colours, 128 new steps after the primer, the seed in the take and the file name", async () => {
    expect(await page.evaluate(() => globalThis.crossOriginIsolated)).toBe(true);
    const bundleName = DEFAULT_BUNDLE?.pathname.split("/").pop();
    expect(bundleName).toBeDefined();
    expect(await page.$eval("#model option:checked", (o) => o.textContent)).toBe(bundleName);
    expect(await page.$eval("#example option:checked", (o) => o.textContent)).toBe("seed1.mid");
    await page.waitForFunction(() => /LSTM/.test(document.getElementById("model-info")?.textContent ?? ""));
    await page.fill("#seed", "1");
    // Ctrl+Enter generates from anywhere (G only outside text fields: the focus is in #seed).
    await page.keyboard.press("Control+Enter");
    await waitFor("body[data-generations='1']", 60_000);
    // The fast path: the relaxed-SIMD WebAssembly kernels loaded, on threads (the page is cross-origin
    // isolated), and the take was generated on them: the model and the sampler (no JavaScript fallback).
    expect(await page.getAttribute("body", "data-kernels")).toMatch(/^wasm-relaxed-simd/);
    expect(await page.getAttribute(".take[data-take='1']", "data-kernels")).toMatch(/^wasm-relaxed-simd/);
    const primerNotes = Number(await page.getAttribute("#roll", "data-primer-notes"));
    const generatedNotes = Number(await page.getAttribute("#roll", "data-generated-notes"));
    expect(primerNotes).toBeGreaterThan(0);
    expect(generatedNotes).toBeGreaterThan(0);
    const colours = await rollColours(page, "roll");
    expect(colours.blue).toBeGreaterThan(100);
    expect(colours.orange).toBeGreaterThan(100);
    await shot("generate");
    await page.keyboard.press("Escape"); // leave the seed field: D and Space are shortcuts outside it

    const [dl] = await Promise.all([page.waitForEvent("download"), page.keyboard.press("d")]);
    expect(dl.suggestedFilename()).toMatch(/^polyrnn_take1_seed1_.*\.mid$/);
    expect(await page.getAttribute(".take[data-take='1']", "data-seed")).toBe("1");
    expect(await page.textContent("#status")).toContain("Downloaded polyrnn_take1_seed1_");
    const midiPath = join(work, dl.suggestedFilename());
    await dl.saveAs(midiPath);
    const ns = readMidi(readFileSync(midiPath));
    const seed1 = readMidi(readFileSync(join(ROOT, "examples/midi/seed1.mid")));
    const qpm = seed1.tempos[0]?.qpm ?? 120;
    // 128 new steps after the primer (and the step after its end): a MIDI file ends with its last note,
    // so at most that (less when the last steps are silent), and well past the primer.
    const step = 60 / qpm / 4;
    const start = Math.floor(seed1.totalTime / step) + 1; // the step after the primer's end
    expect(ns.totalTime).toBeLessThanOrEqual((start + 1 + 128) * step + 1e-3);
    expect(ns.totalTime).toBeGreaterThan(seed1.totalTime + 64 * step);
    expect(ns.notes.length).toBe(primerNotes + generatedNotes);
  });

  it("plays: the AudioContext runs and the playhead moves; Stop then Play resumes; a click on the roll seeks", async () => {
    await page.keyboard.press("Space");
    await waitFor("body[data-playing=true]");
    expect(await page.getAttribute("body", "data-audio")).toBe("running");
    expect(
      await page.evaluate(() => (window as unknown as { AudioContext: unknown }).AudioContext !== undefined),
    ).toBe(true);
    await page.waitForFunction(() => Number(document.getElementById("roll")?.dataset.playhead) > 0.2);
    const t1 = Number(await page.getAttribute("#roll", "data-playhead"));
    await page.waitForTimeout(400);
    const t2 = Number(await page.getAttribute("#roll", "data-playhead"));
    expect(t2).toBeGreaterThan(t1 + 0.2);
    await shot("play");
    await page.keyboard.press("Space");
    await waitFor("body[data-playing=false]");
    // Play again: it continues from where it stopped, not from 0.
    const stoppedAt = Number(await page.getAttribute("#roll", "data-playhead"));
    expect(stoppedAt).toBeGreaterThan(t2 - 0.01);
    await page.keyboard.press("Space");
    await waitFor("body[data-playing=true]");
    await page.waitForTimeout(100);
    expect(Number(await page.getAttribute("#roll", "data-playhead"))).toBeGreaterThanOrEqual(stoppedAt);
    await page.keyboard.press("Space");
    await waitFor("body[data-playing=false]");
    // A click three quarters along the roll puts the playhead there; the clock never passes the end.
    const box = await page.locator("#roll").boundingBox();
    if (!box) throw new Error("no roll");
    await page.mouse.click(box.x + box.width * 0.75, box.y + box.height / 2);
    const duration = Number(await page.getAttribute("#roll", "data-duration"));
    const seek = Number(await page.getAttribute("#roll", "data-playhead"));
    expect(seek).toBeGreaterThan(duration * 0.6);
    expect(seek).toBeLessThan(duration * 0.8);
    const [shownTime, total] = ((await page.textContent("#time")) ?? "").split(" / ");
    expect(shownTime <= total).toBe(true);
    await page.mouse.click(box.x + box.width - 2, box.y + box.height / 2);
    await page.keyboard.press("Space");
    await waitFor("body[data-playing=false]", 10_000);
    const [end, total2] = ((await page.textContent("#time")) ?? "").split(" / ");
    expect(end <= total2).toBe(true);
  });

  it("shows the take as a score (OpenSheetMusicDisplay's SVG) whose cursor follows the playhead, and downloads it as MusicXML", async () => {
    await page.click(".take[data-take='1'] .take-show");
    await waitFor("#score[data-state=ready]", 30_000);
    expect(await page.locator("#score svg").count()).toBeGreaterThan(0);
    const drawnNotes = await page.locator("#score svg .vf-stavenote").count();
    expect(drawnNotes).toBeGreaterThan(20);
    // The renderer came from the Studio's own server (a CDN would show in "fetched nothing from elsewhere").
    expect(
      await page.evaluate(() => typeof (window as { opensheetmusicdisplay?: unknown }).opensheetmusicdisplay),
    ).toBe("object");
    const cursorX = () =>
      page.evaluate(() => document.querySelector("#score img")?.getBoundingClientRect().left ?? Number.NaN);
    const x0 = await cursorX();
    expect(Number.isFinite(x0)).toBe(true);
    await page.click("#play");
    await page.waitForFunction(
      (x) => (document.querySelector("#score img")?.getBoundingClientRect().left ?? x) > x + 50,
      x0,
      { timeout: 10_000 },
    );
    await page.click("#play"); // stop
    await shot("score");

    const [xmlDl] = await Promise.all([page.waitForEvent("download"), page.click("#download-musicxml")]);
    expect(xmlDl.suggestedFilename()).toMatch(/^polyrnn_take1_seed1_.*\.musicxml$/);
    expect(await page.textContent("#status")).toContain(`Downloaded ${xmlDl.suggestedFilename()}`);
    const [midDl] = await Promise.all([page.waitForEvent("download"), page.click("#download-midi")]);
    const xmlPath = join(work, xmlDl.suggestedFilename());
    const midPath = join(work, `score-${midDl.suggestedFilename()}`);
    await xmlDl.saveAs(xmlPath);
    await midDl.saveAs(midPath);
    // The score holds the take's notes on the 16th grid. Not exactly those of its MIDI file: this take
    // strikes some pitches two to four times at once with different lengths, which a MIDI file pairs up
    // differently and a score of four voices a staff merges (test/musicxml_write.test.ts covers the
    // writer's exact round trip on generated pieces).
    const grid = (ns: NoteSequence) =>
      quantizeNoteSequence(ns, 4)
        .notes.map((n) => `${n.pitch}@${n.quantizedStartStep}-${n.quantizedEndStep}`)
        .sort();
    const fromScore = readMusicXml(readFileSync(xmlPath));
    const fromMidi = readMidi(readFileSync(midPath));
    expect(fromMidi.notes.length).toBeGreaterThan(20);
    const kept = new Set(grid(fromScore));
    const midiNotes = grid(fromMidi);
    expect(midiNotes.filter((n) => kept.has(n)).length).toBeGreaterThan(0.9 * midiNotes.length);
  });

  it("trains on three MIDI files (loss falls), stops and resumes, and its bundle generates from the CLI", async () => {
    const files = writeTinyPieces(work, 3);
    await page.keyboard.press("2");
    await waitFor("#panel-train:not([hidden])");
    await page.setInputFiles("#train-files", files);
    await waitFor("body[data-train-files='3']");
    await page.fill("#t_batch_size", "4");
    await page.fill("#t_layers", "[16]");
    await page.fill("#t_learning_rate", "0.01");
    await page.fill("#t_keep", "1.0");
    await page.fill("#t_steps", "150");
    await page.click("#train-start");
    // Stop once some steps are on the chart, then resume to the end.
    await page.waitForFunction(
      () => Number(document.getElementById("chart")?.dataset.steps) >= 10,
      undefined,
      {
        timeout: 60_000,
      },
    );
    await page.click("#train-stop");
    await waitFor("body[data-train=paused]");
    const pausedAt = Number(await page.getAttribute("#chart", "data-steps"));
    await page.waitForTimeout(300);
    expect(Number(await page.getAttribute("#chart", "data-steps"))).toBe(pausedAt);
    await page.click("#train-resume");
    await waitFor("body[data-train=finished]", 90_000);
    expect(Number(await page.getAttribute("#chart", "data-steps"))).toBe(150);
    const first = Number(await page.getAttribute("#chart", "data-first-loss"));
    const last = Number(await page.getAttribute("#chart", "data-last-loss"));
    expect(last).toBeLessThan(first - 0.5);
    expect(await page.textContent("#train-log")).toContain("Converted 3 of 3 files; 27 training tracks");
    await shot("train");

    const [dl] = await Promise.all([page.waitForEvent("download"), page.click("#train-download")]);
    const bundlePath = join(work, dl.suggestedFilename());
    await dl.saveAs(bundlePath);
    const bundle = loadBundle(readFileSync(bundlePath));
    expect(bundle.step).toBe(150);
    expect(bundle.hparams.rnnLayerSizes).toEqual([16]);
    const out = join(work, "cli-out");
    const r = runCli("polyrnn", [
      "generate",
      `--bundle_file=${bundlePath}`,
      `--output_dir=${out}`,
      "--num_outputs=1",
      "--num_steps=64",
      "--primer_midi=examples/midi/seed1.mid",
      "--seed=2",
    ]);
    expect(r.status, r.stderr).toBe(0);
    expect(readdirSync(out)).toHaveLength(1);

    // Generate in the page with the new model.
    await page.click("#train-use");
    await waitFor("body[data-tab=generate]");
    await page.waitForFunction(() =>
      /16 LSTM, step 150/.test(document.getElementById("model-info")?.textContent ?? ""),
    );
    await page.keyboard.press("g");
    await waitFor("body[data-generations='2']", 60_000);
    expect(Number(await page.getAttribute("#roll", "data-generated-notes"))).toBeGreaterThan(0);
    await shot("trained-generate");
  });

  it("takes a dropped bundle, a MIDI file or the on-screen keyboard as input, and says what is wrong", async () => {
    // A bundle file picked in the page (the one the Studio just trained and downloaded).
    const bundle = readdirSync(work).find((n) => n.endsWith(".safetensors"));
    expect(bundle).toBeDefined();
    // First a copy that records its own temperature: both temperature fields take it.
    const hot = join(tempDir(), "hot.safetensors");
    writeFileSync(
      hot,
      encodeBundle({ ...loadBundle(readFileSync(join(work, bundle as string))), temperature: 1.3 }),
    );
    await page.setInputFiles("#bundle-file", hot);
    await page.waitForFunction(() =>
      /temperature 1\.3/.test(document.getElementById("model-info")?.textContent ?? ""),
    );
    expect([await page.inputValue("#temperature"), await page.inputValue("#p_temperature")]).toEqual([
      "1.3",
      "1.3",
    ]);
    // A temperature the user typed stays; the one left alone goes back to the table's with the next bundle.
    await page.fill("#temperature", "0.9");
    await page.setInputFiles("#bundle-file", join(work, bundle as string));
    await page.waitForFunction(
      () =>
        /\(dropped\)/.test(document.querySelector("#model option:checked")?.textContent ?? "") &&
        !/temperature/.test(document.getElementById("model-info")?.textContent ?? ""),
    );
    expect([await page.inputValue("#temperature"), await page.inputValue("#p_temperature")]).toEqual([
      "0.9",
      String(GENERATION_OPTIONS.temperature.default),
    ]);
    await page.fill("#temperature", String(GENERATION_OPTIONS.temperature.default));
    // A MIDI primer picked in the page: its name is shown.
    await page.setInputFiles("#midi-file", join(ROOT, "examples/midi/seed2.mid"));
    await page.waitForFunction(() =>
      /^seed2\.mid: .*4 notes/.test(document.getElementById("primer-info")?.textContent ?? ""),
    );
    expect(await page.textContent("#midi-drop-name")).toContain("seed2.mid");
    // A chord from the on-screen keyboard, primer left out of the output: every note is new.
    await page.fill("#num_steps", "64");
    await page.check('input[name="primer"][value="keys"]');
    for (const p of [60, 64, 67]) await page.click(`.key[data-pitch="${p}"]`);
    await page.waitForFunction(() =>
      /^Chord C4 E4 G4: 3 notes/.test(document.getElementById("primer-info")?.textContent ?? ""),
    );
    await page.check("#exclude_primer");
    await page.keyboard.press("g");
    await waitFor("body[data-generations='3']", 60_000);
    expect(await page.textContent("#primer-info")).toContain("Chord C4 E4 G4");
    expect(await page.getAttribute("#roll", "data-primer-notes")).toBe("0");
    expect(Number(await page.getAttribute("#roll", "data-generated-notes"))).toBeGreaterThan(0);
    await page.keyboard.press("?");
    await waitFor("dialog#help[open]");
    expect(await page.textContent("dialog#help")).toContain("Play / stop");
    await shot("shortcuts");
    await page.keyboard.press("Escape");
  });

  it("trains on expressive piano files with the defaults: rubato detected, read on the beats, said in the log and status", async () => {
    const files = writeTinyPieces(work, 5, true);
    await page.keyboard.press("2");
    await waitFor("#panel-train:not([hidden])");
    expect(await page.$eval("#d_on_beats", (s) => (s as HTMLSelectElement).value)).toBe("auto");
    await page.setInputFiles("#train-files", files);
    await waitFor("body[data-train-files='5']");
    // Only the model's size is made small (for the test's time); the dataset settings are the defaults.
    await page.fill("#t_layers", "[16]");
    await page.fill("#t_steps", "20");
    await page.click("#train-start");
    await waitFor("body[data-train=finished]", 90_000);
    const logText = (await page.textContent("#train-log")) ?? "";
    expect(logText).toMatch(
      /5 of 5 files play with rubato \(an expressive tempo map: rubato_0\.mid 31 tempo changes/,
    );
    expect(logText).toContain("reading the notes on the beat grid");
    const tracks = Number(/; (\d+) training tracks/.exec(logText)?.[1]);
    expect(tracks).toBeGreaterThan(0);
    expect(await page.textContent("#status")).toMatch(/Training finished at step 20.*on the beat grid/);
    // The previous run (three pieces, 150 steps) was not wiped: its model is in the list.
    expect(logText).toMatch(/The previous run \(step 150\) is kept as “trained here #\d+ \(step 150\)”/);
    expect(
      await page.$$eval("#model option", (os) =>
        os.some((o) => /trained here #\d+ \(step 150\)/.test(o.textContent ?? "")),
      ),
    ).toBe(true);
    // The training messages stay on the Train tab.
    await page.keyboard.press("1");
    expect(await page.textContent("#status")).not.toMatch(/Training/);
    await page.keyboard.press("2");
    expect(await page.textContent("#status")).toMatch(/Training finished/);
    // A bundle download is confirmed.
    const [dl] = await Promise.all([page.waitForEvent("download"), page.click("#train-download")]);
    expect(dl.suggestedFilename()).toBe("studio_model_step20.safetensors");
    await page.waitForFunction(() =>
      /Downloaded studio_model_step20\.safetensors/.test(
        document.getElementById("status")?.textContent ?? "",
      ),
    );
    await shot("train-rubato");
  });

  it("keeps a held-out eval split, and a reload keeps the last run (IndexedDB)", async () => {
    // 3 pieces with half held out: the split is by a hash of the seed and each file's id.
    await page.setInputFiles("#train-files", writeTinyPieces(work, 6));
    await waitFor("body[data-train-files='6']");
    await page.click("#train-ds summary");
    await page.fill("#d_eval_ratio", "0.5");
    await page.fill("#d_thin_openings", "0.5");
    await page.fill("#t_steps", "25");
    await page.click("#train-start");
    await waitFor("body[data-train-saved='25']", 90_000);
    const logText = (await page.textContent("#train-log")) ?? "";
    const held = Number(/(\d+) tracks held out for evaluation/.exec(logText)?.[1]);
    expect(held).toBeGreaterThan(0);
    const thinned = Number(/(\d+) training tracks open with one or two voices/.exec(logText)?.[1]);
    const tracks = Number(/(\d+) training tracks \(/.exec(logText)?.[1]);
    expect(thinned).toBeGreaterThan(0);
    expect(thinned).toBeLessThan(tracks);
    expect(logText).toMatch(/Held-out files at step 25: loss \d/);
    expect(Number(await page.getAttribute("#chart", "data-evals"))).toBeGreaterThanOrEqual(2);
    const steps = await page.getAttribute("#chart", "data-steps");

    await page.reload();
    await waitFor("body[data-ready=true]", 30_000);
    await page.keyboard.press("2");
    expect(await page.textContent("#train-log")).toContain(
      "Restored from this browser after a reload (step 25)",
    );
    expect(await page.getAttribute("#chart", "data-steps")).toBe(steps);
    expect(await page.isEnabled("#train-use")).toBe(true);
    await page.click("#train-use");
    await waitFor("body[data-tab=generate]");
    expect(await page.$eval("#model option:checked", (o) => o.textContent)).toMatch(/saved in this browser/);
  });

  it("generates from each shipped example with the defaults; a rubato piece is a primer of its first bars", async () => {
    await page.click("#tab-generate");
    await page.fill("#seed", "");
    await page.check('input[name="primer"][value="example"]');
    await page.selectOption("#model", { index: await firstServerModel() });
    const names = await page.$$eval("#example option", (os) => os.map((o) => o.textContent ?? ""));
    expect(names.length).toBeGreaterThanOrEqual(5);
    let generations = Number(await page.getAttribute("body", "data-generations"));
    const takesBefore = Number(await page.getAttribute("body", "data-takes"));
    for (const name of names) {
      await page.selectOption("#example", { label: name });
      await page.waitForFunction(
        (n) => document.getElementById("primer-info")?.textContent?.startsWith(`${n}: first `),
        name,
      );
      await page.click("#generate");
      await waitFor(`body[data-generations='${++generations}']`, 120_000);
      expect(await page.getAttribute("#status", "class")).not.toContain("error");
    }
    // Every take is kept, each with its own (random) seed, through the changes of example above.
    expect(Number(await page.getAttribute("body", "data-takes"))).toBe(takesBefore + names.length);
    const seeds = await page.$$eval(".take", (ts) => ts.map((t) => (t as HTMLElement).dataset.seed));
    expect(new Set(seeds).size).toBe(seeds.length);

    // A piece played with rubato (a tempo change on every beat) as the primer: its first 2 bars.
    await page.setInputFiles("#midi-file", join(work, "rubato_1.mid"));
    await page.waitForFunction(() =>
      /^rubato_1\.mid: first \d+ of 8 bars \(auto\).*tempo changes read on the beats/.test(
        document.getElementById("primer-info")?.textContent ?? "",
      ),
    );
    await page.fill("#primer_bars", "2");
    await page.press("#primer_bars", "Tab");
    await page.waitForFunction(() =>
      /^rubato_1\.mid: first 2 of 8 bars,/.test(document.getElementById("primer-info")?.textContent ?? ""),
    );
    expect(Number(await page.getAttribute("#roll", "data-duration"))).toBeGreaterThan(0);
    await page.click("#generate");
    await waitFor(`body[data-generations='${++generations}']`, 120_000);
    expect(await page.getAttribute("#status", "class")).not.toContain("error");
  });

  it("keeps every take through primer changes and broken files; plays, downloads and removes one", async () => {
    const before = Number(await page.getAttribute("body", "data-takes"));
    expect(before).toBeGreaterThanOrEqual(3);
    // A broken file: the primer error is shown in red, the takes stay.
    const broken = join(work, "broken.mid");
    writeFileSync(broken, "not a MIDI file");
    await page.setInputFiles("#midi-file", broken);
    await page.waitForFunction(() =>
      /^Cannot use this primer/.test(document.getElementById("primer-info")?.textContent ?? ""),
    );
    expect(await page.getAttribute("#primer-info", "class")).toContain("error");
    await page.keyboard.press("g");
    await page.waitForFunction(() =>
      /primer is not usable/.test(document.getElementById("status")?.textContent ?? ""),
    );
    expect(Number(await page.getAttribute("body", "data-takes"))).toBe(before);
    // A good file clears the stale error.
    await page.setInputFiles("#midi-file", join(ROOT, "examples/midi/seed1.mid"));
    await page.waitForFunction(() =>
      /^seed1\.mid:/.test(document.getElementById("primer-info")?.textContent ?? ""),
    );
    expect(await page.getAttribute("#primer-info", "class")).not.toContain("error");
    expect(await page.getAttribute("#status", "class")).not.toContain("error");
    expect(await page.textContent("#status")).toMatch(/takes are kept under Takes/);
    // The keyboard primer, a chord: still every take.
    await page.check('input[name="primer"][value="keys"]');
    await page.click('.key[data-pitch="62"]');
    expect(Number(await page.getAttribute("body", "data-takes"))).toBe(before);
    // An older take: shown, downloaded under its seed, removed.
    const take = page.locator(".take").last();
    const n = await take.getAttribute("data-take");
    const seed = await take.getAttribute("data-seed");
    await take.locator(".take-show").click();
    expect(await take.getAttribute("aria-current")).toBe("true");
    const [dl] = await Promise.all([page.waitForEvent("download"), take.locator(".take-download").click()]);
    expect(dl.suggestedFilename()).toMatch(new RegExp(`^polyrnn_take${n}_seed${seed}_.*\\.mid$`));
    await take.locator(".take-remove").click();
    expect(Number(await page.getAttribute("body", "data-takes"))).toBe(before - 1);
    expect(await page.locator(`.take[data-take='${n}']`).count()).toBe(0);
  });

  it("checks every setting against its limits and names the field", async () => {
    await page.check('input[name="primer"][value="none"]');
    // Defaults and limits are the CLI's, from the one table (src/generate/options.ts); a fresh page shows
    // them (this one may have been edited by now).
    const fresh = await page.context().newPage();
    await fresh.goto(studio?.url ?? "");
    await fresh.waitForSelector("body[data-ready=true]", { timeout: 30_000 });
    // The temperature is the selected model's own when its bundle records one (the shipped bach bundle).
    await fresh.waitForFunction(() => /LSTM/.test(document.getElementById("model-info")?.textContent ?? ""));
    const bundleTemperature = DEFAULT_BUNDLE
      ? loadBundle(readFileSync(DEFAULT_BUNDLE)).temperature
      : undefined;
    for (const o of Object.values(GENERATION_OPTIONS)) {
      const field = fresh.locator(`#${o.flag}`);
      if ((await field.count()) === 0) continue; // num_outputs: the page makes one take at a time
      const shown = await field.evaluate((el: HTMLInputElement) => ({
        value: el.type === "checkbox" ? el.checked : el.value,
        min: el.min,
        max: el.max,
      }));
      const expected =
        o.flag === "temperature" && bundleTemperature !== undefined
          ? String(bundleTemperature)
          : "default" in o
            ? o.type === "bool"
              ? o.default
              : String(o.default)
            : "";
      expect(shown.value, o.flag).toBe(expected);
      if (o.type !== "bool") {
        expect(shown.min, o.flag).toBe("min" in o ? String(o.min) : "");
        expect(shown.max, o.flag).toBe("max" in o ? String(o.max) : "");
      }
    }
    await fresh.close();
    const cases: [string, string, RegExp][] = [
      ["#temperature", "", /“Temperature” is empty: enter a number of 0 or more/],
      ["#temperature", "-1", /“Temperature” is -1: it must be a number of 0 or more/],
      ["#num_steps", "0", /“New music \(16ths\)” is 0: it must be a whole number of 1 or more/],
      ["#beam_size", "1.5", /“Beam size” is 1.5: it must be a whole number of 1 or more/],
    ];
    const generations = await page.getAttribute("body", "data-generations");
    for (const [field, value, message] of cases) {
      const old = await page.inputValue(field);
      await page.fill(field, value);
      await page.keyboard.press("Control+Enter");
      await page.waitForFunction(
        (re) => new RegExp(re).test(document.getElementById("status")?.textContent ?? ""),
        message.source,
      );
      expect(await page.getAttribute("#status", "class")).toContain("error");
      await page.fill(field, old);
    }
    expect(await page.getAttribute("body", "data-generations")).toBe(generations);
    // qpm 0 on the keyboard primer is an error, not 120.
    await page.check('input[name="primer"][value="keys"]');
    await page.fill("#qpm", "0");
    await page.press("#qpm", "Tab");
    await page.waitForFunction(() =>
      /“qpm” is 0: it must be a whole number from 20 to 300/.test(
        document.getElementById("primer-info")?.textContent ?? "",
      ),
    );
    await page.fill("#qpm", "120");
    await page.press("#qpm", "Tab");
    // A very wide beam search warns before it runs (and Esc cancels it).
    await page.fill("#beam_size", "64");
    await page.fill("#branch_factor", "64");
    await page.keyboard.press("Control+Enter");
    await page.waitForFunction(() =>
      /4096 continuations scored per step: this can take many minutes/.test(
        document.getElementById("status")?.textContent ?? "",
      ),
    );
    await page.keyboard.press("Escape");
    await page.waitForFunction(() => /cancelled/.test(document.getElementById("status")?.textContent ?? ""));
    await page.fill("#beam_size", "1");
    await page.fill("#branch_factor", "1");
  });

  it("fits 1280×720 and a 390 px phone without sideways scrolling; Generate covers no checkbox", async () => {
    for (const [w, h, name] of [
      [1280, 720, "fit-1280x720"],
      [390, 844, "fit-390"],
    ] as const) {
      await page.setViewportSize({ width: w, height: h });
      await page.click("#tab-generate");
      await page.waitForTimeout(200);
      const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
      expect(overflow, `${name}: the page is wider than the window`).toBeLessThanOrEqual(0);
      await shot(name);
    }
    await page.setViewportSize({ width: 1280, height: 720 });
    await page.waitForTimeout(200);
    // Scroll the side panel so the last checkbox is just above the sticky Generate button.
    await page.locator("#exclude_primer").scrollIntoViewIfNeeded();
    const button = await page.locator(".sticky-action").boundingBox();
    for (const id of ["#condition_on_primer", "#inject_primer_during_generation", "#exclude_primer"]) {
      const box = await page.locator(id).boundingBox();
      if (!box || !button) throw new Error("missing box");
      const overlaps = box.y < button.y + button.height && box.y + box.height > button.y;
      expect(overlaps, `${id} is under the Generate button`).toBe(false);
    }
    await page.setViewportSize({ width: 1366, height: 820 });
  });

  it("fetched nothing from elsewhere and logged no errors", () => {
    expect(studio?.offOrigin).toEqual([]);
    expect(studio?.pageErrors, studio?.pageErrors.join("\n")).toEqual([]);
  });
});
