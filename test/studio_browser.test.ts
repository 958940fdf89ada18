/**
 * The Studio in a real Chromium (Debian's `chromium`, driven by playwright-core; no browser is downloaded):
 * generate from seed1 with the default bundle, play it, train on three small MIDI files and generate with
 * the result, in the page as a user would, with keyboard shortcuts. Screenshots of each state go to
 * test-artifacts/studio/.
 *
 * Without Chromium the tests are skipped with a message, except under CI=true, where they fail.
 * POLYRNN_CHROMIUM names another Chromium binary.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { existsSync, mkdirSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import type { Browser, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DEFAULT_BUNDLES } from "../src/cli/generate.js";
import { readMidi } from "../src/io/midi.js";
import { loadBundle } from "../src/model/bundle.js";
import { writeTinyPieces } from "./browser/fixtures.js";
import { launchChromium, runBrowserTests } from "./helpers/chromium.js";
import { ensureBuilt, ROOT, runCli, tempDir } from "./helpers/cli.js";

const ARTIFACTS = join(ROOT, "test-artifacts", "studio");
const RUN = runBrowserTests("studio browser tests");

/** The bundle `polyrnn generate` uses by default: models/bach.safetensors once it exists, else schubert. */
const DEFAULT_BUNDLE = DEFAULT_BUNDLES.find((u) => existsSync(u));

let server: ChildProcess | undefined;
let url = "";
let browser: Browser | undefined;
let page: Page;
const offOrigin: string[] = [];
const pageErrors: string[] = [];
const work = tempDir("polyrnn-studio-browser-");

/** Waits for `selector`; on a timeout, the error says what the page showed (status line, engine, state). */
async function waitFor(selector: string, timeout = 30_000): Promise<void> {
  try {
    await page.waitForSelector(selector, { timeout, state: "attached" });
  } catch (e) {
    const seen = await page
      .evaluate(() => ({
        status: document.getElementById("status")?.textContent,
        engine: document.getElementById("engine")?.textContent,
        progress: (document.getElementById("gen-progress") as HTMLProgressElement | null)?.value,
        body: { ...document.body.dataset },
        focus: document.activeElement?.id,
      }))
      .catch(() => "(page unreachable)");
    throw new Error(`${(e as Error).message.split("\n")[0]}; the page showed ${JSON.stringify(seen)}`);
  }
}

async function shot(name: string): Promise<void> {
  await page.screenshot({ path: join(ARTIFACTS, `${name}.png`) });
}

/** Pixels of the roll that are clearly primer blue and clearly generated orange. */
function rollColours(): Promise<{ blue: number; orange: number }> {
  return page.evaluate(() => {
    const c = document.getElementById("roll") as HTMLCanvasElement;
    const d = (c.getContext("2d") as CanvasRenderingContext2D).getImageData(0, 0, c.width, c.height).data;
    let blue = 0;
    let orange = 0;
    for (let i = 0; i < d.length; i += 4) {
      const [r, g, b] = [d[i], d[i + 1], d[i + 2]];
      if (b > r + 60 && b > g + 20) blue++;
      else if (r > 180 && r > b + 90 && g < r - 40) orange++;
    }
    return { blue, orange };
  });
}

describe.skipIf(!RUN)("studio in Chromium", () => {
  beforeAll(async () => {
    ensureBuilt();
    mkdirSync(ARTIFACTS, { recursive: true });
    server = spawn(process.execPath, [join(ROOT, "dist/cli/polyrnn.js"), "studio", "--port=0"], {
      cwd: ROOT,
    });
    url = await new Promise<string>((resolve, reject) => {
      let out = "";
      server?.stdout?.on("data", (d) => {
        out += d;
        const m = /http:\/\/\S+/.exec(out);
        if (m) resolve(m[0]);
      });
      server?.on("exit", (code) => reject(new Error(`polyrnn studio exited with ${code}`)));
    });
    browser = await launchChromium();
    const context = await browser.newContext({
      viewport: { width: 1366, height: 820 },
      acceptDownloads: true,
    });
    page = await context.newPage();
    page.setDefaultTimeout(20_000);
    page.on("request", (r) => {
      if (!r.url().startsWith(url) && !/^(blob|data):/.test(r.url())) offOrigin.push(r.url());
    });
    page.on("pageerror", (e) => pageErrors.push(e.message));
    page.on("console", (m) => {
      if (m.type() === "error") pageErrors.push(m.text());
    });
    await page.goto(url);
    await waitFor("body[data-ready=true]", 30_000);
  });

  afterAll(async () => {
    await browser?.close();
    server?.kill("SIGTERM");
  });

  it("generates from seed1 with the default bundle: notes in both colours, a MIDI file of 128 steps", async () => {
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
    // The WebAssembly kernels ran, on threads (the page is cross-origin isolated).
    expect(await page.getAttribute("body", "data-kernels")).toMatch(/^wasm/);
    const primerNotes = Number(await page.getAttribute("#roll", "data-primer-notes"));
    const generatedNotes = Number(await page.getAttribute("#roll", "data-generated-notes"));
    expect(primerNotes).toBeGreaterThan(0);
    expect(generatedNotes).toBeGreaterThan(0);
    const colours = await rollColours();
    expect(colours.blue).toBeGreaterThan(100);
    expect(colours.orange).toBeGreaterThan(100);
    await shot("generate");
    await page.keyboard.press("Escape"); // leave the seed field: D and Space are shortcuts outside it

    const [dl] = await Promise.all([page.waitForEvent("download"), page.keyboard.press("d")]);
    const midiPath = join(work, dl.suggestedFilename());
    await dl.saveAs(midiPath);
    const ns = readMidi(readFileSync(midiPath));
    const seed1 = readMidi(readFileSync(join(ROOT, "examples/midi/seed1.mid")));
    const qpm = seed1.tempos[0]?.qpm ?? 120;
    // 128 steps: a MIDI file ends with its last note, so at most 16 s (less when the last steps are silent),
    // and well past the 2.2 s primer.
    const seconds = (128 * 60) / qpm / 4;
    expect(ns.totalTime).toBeLessThanOrEqual(seconds + 1e-3);
    expect(ns.totalTime).toBeGreaterThan(seconds / 2);
    expect(ns.notes.length).toBe(primerNotes + generatedNotes);
  });

  it("plays: the AudioContext runs and the playhead moves", async () => {
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
    await page.setInputFiles("#bundle-file", join(work, bundle as string));
    await page.waitForFunction(() =>
      /\(dropped\)/.test(document.querySelector("#model option:checked")?.textContent ?? ""),
    );
    // A MIDI primer picked in the page; too few steps for it is an error in the status line.
    await page.setInputFiles("#midi-file", join(ROOT, "examples/midi/seed2.mid"));
    await page.waitForFunction(() =>
      /^4 notes/.test(document.getElementById("primer-info")?.textContent ?? ""),
    );
    await page.fill("#num_steps", "4");
    await page.keyboard.press("Control+Enter");
    await page.waitForFunction(() =>
      /Generation failed: .*num_steps/.test(document.getElementById("status")?.textContent ?? ""),
    );
    // A chord from the on-screen keyboard, primer left out of the output: every note is new.
    await page.fill("#num_steps", "64");
    await page.check('input[name="primer"][value="keys"]');
    for (const p of [60, 64, 67]) await page.click(`.key[data-pitch="${p}"]`);
    await page.waitForFunction(() =>
      /^3 notes/.test(document.getElementById("primer-info")?.textContent ?? ""),
    );
    await page.check("#exclude_primer");
    await page.keyboard.press("g");
    await waitFor("body[data-generations='3']", 60_000);
    expect(await page.getAttribute("#roll", "data-primer-notes")).toBe("0");
    expect(Number(await page.getAttribute("#roll", "data-generated-notes"))).toBeGreaterThan(0);
    await page.keyboard.press("?");
    await waitFor("dialog#help[open]");
    expect(await page.textContent("dialog#help")).toContain("Play / stop");
    await shot("shortcuts");
    await page.keyboard.press("Escape");
  });

  it("fetched nothing from elsewhere and logged no errors", () => {
    expect(offOrigin).toEqual([]);
    expect(pageErrors).toEqual([]);
  });
});
