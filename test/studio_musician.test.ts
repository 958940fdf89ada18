import { mkdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import type { Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { readMidi } from "../src/io/midi.js";
import { stepTicks } from "../src/studio/web/chart.js";
import { ROLL_COLORS } from "../src/studio/web/roll.js";
import { formatDuration, TrainClock } from "../src/studio/web/train_clock.js";
import { writeTinyPieces } from "./browser/fixtures.js";
import { runBrowserTests } from "./helpers/chromium.js";
import { ensureBuilt, ROOT, tempDir } from "./helpers/cli.js";
import { openStudioPage, type StudioPage, waitForStudio } from "./helpers/studio.js";

const ARTIFACTS = join(ROOT, "test-artifacts", "studio");
const RUN = runBrowserTests("studio musician tests");

let studio: StudioPage | undefined;
let page: Page;
const work = tempDir("polyrnn-studio-musician-");

const waitFor = (selector: string, timeout?: number) => waitForStudio(page, selector, timeout);

/** Records the frequency of every oscillator the page starts (test only). */
function recordOscillators(): void {
  if (typeof OscillatorNode === "undefined") return;
  const started: number[] = [];
  const start = OscillatorNode.prototype.start;
  OscillatorNode.prototype.start = function (this: OscillatorNode, ...args: [number?]) {
    started.push(this.frequency.value);
    return start.apply(this, args);
  };
  (window as unknown as { oscillators: number[] }).oscillators = started;
}

const oscillators = () =>
  page.evaluate(() => (window as unknown as { oscillators: number[] }).oscillators.slice());
const hz = (pitch: number) => 440 * 2 ** ((pitch - 69) / 12);

/** The roll's state as it publishes it (what it drew). */
async function roll(): Promise<{
  beatPx: number;
  viewStart: number;
  viewEnd: number;
  duration: number;
  playhead: number;
}> {
  const d = await page.evaluate(() => ({ ...(document.getElementById("roll") as HTMLElement).dataset }));
  return {
    beatPx: Number(d.beatPx),
    viewStart: Number(d.viewStart),
    viewEnd: Number(d.viewEnd),
    duration: Number(d.duration),
    playhead: Number(d.playhead),
  };
}

/** Share of the roll's note area painted in the grid's colours (a wash of lines is most of it). */
function gridShare(): Promise<number> {
  const colours = [ROLL_COLORS.beat, ROLL_COLORS.bar].map((c) =>
    [1, 3, 5].map((i) => Number.parseInt(c.slice(i, i + 2), 16)),
  );
  return page.evaluate((grid) => {
    const c = document.getElementById("roll") as HTMLCanvasElement;
    const dpr = c.width / c.clientWidth;
    const x0 = Math.ceil(40 * dpr);
    const d = (c.getContext("2d") as CanvasRenderingContext2D).getImageData(
      x0,
      0,
      c.width - x0,
      c.height,
    ).data;
    let n = 0;
    for (let i = 0; i < d.length; i += 4) {
      if (grid.some(([r, g, b]) => d[i] === r && d[i + 1] === g && d[i + 2] === b)) n++;
    }
    return n / (d.length / 4);
  }, colours);
}

/** The clock's two times in seconds ("0:16.3 / 0:16.0"). */
async function clock(): Promise<[number, number]> {
  const text = (await page.textContent("#time")) ?? "";
  const [a, b] = text.split(" / ").map((s) => {
    const [m, sec] = s.split(":");
    return Number(m) * 60 + Number(sec);
  });
  return [a, b];
}

describe("studio training clock and chart axis (no browser)", () => {
  it("counts running time only, and the time left at the pace since the last start", () => {
    let now = 0;
    const c = new TrainClock(() => now);
    c.run();
    now = 5_000; // reading the files: no step yet
    c.step(1);
    expect(c.left(1, 101)).toBeUndefined();
    now = 15_000;
    c.step(21); // 20 steps in 10 s
    expect(c.left(21, 101)).toBeCloseTo(40, 6);
    expect(c.elapsed()).toBeCloseTo(15, 6);
    c.pause();
    now = 100_000; // paused: not counted
    expect(c.elapsed()).toBeCloseTo(15, 6);
    c.run();
    now = 102_000;
    expect(c.elapsed()).toBeCloseTo(17, 6);
    expect(c.left(101, 101)).toBeUndefined();
    c.reset();
    expect(c.elapsed()).toBe(0);
    expect(formatDuration(7)).toBe("0:07");
    expect(formatDuration(754)).toBe("12:34");
    expect(formatDuration(3723)).toBe("1:02:03");
  });

  it("labels the step axis at round numbers", () => {
    expect(stepTicks(0, 500, 10)).toEqual([50, 100, 150, 200, 250, 300, 350, 400, 450, 500]);
    expect(stepTicks(0, 7, 10)).toEqual([1, 2, 3, 4, 5, 6, 7]);
    expect(stepTicks(0, 1234, 6)).toEqual([500, 1000]);
    expect(stepTicks(99, 160, 4)).toEqual([100, 120, 140, 160]);
  });
});

describe.skipIf(!RUN)("studio for musicians in Chromium", () => {
  beforeAll(async () => {
    ensureBuilt();
    mkdirSync(ARTIFACTS, { recursive: true });
    studio = await openStudioPage({ viewport: { width: 1280, height: 720 }, initScript: recordOscillators });
    page = studio.page;
  });

  afterAll(async () => {
    await studio?.close();
  });

  it("shows the default take beside its score (the picture of the README), and a 16-bar take whole", async () => {
    await page.fill("#seed", "1");
    await page.keyboard.press("Control+Enter");
    await waitFor("body[data-generations='1']", 90_000);
    await waitFor("#score[data-state=ready]", 60_000);
    await page.keyboard.press("Escape");
    await page.keyboard.press("Space");
    await page.waitForFunction(() => Number(document.getElementById("roll")?.dataset.playhead) > 3);
    await page.screenshot({ path: join(ARTIFACTS, "readme.png") });
    await page.keyboard.press("Space");
    await waitFor("body[data-playing=false]");
    // A take of 8 new bars after an 8-bar primer shows whole, at 1280×720.
    await page.selectOption("#example", { label: "startSchubert_contBach_10.mid" });
    await page.waitForFunction(() =>
      /first 8 of/.test(document.getElementById("primer-info")?.textContent ?? ""),
    );
    await page.keyboard.press("g");
    await waitFor("body[data-generations='2']", 90_000);
    const r = await roll();
    expect(r.duration).toBeGreaterThan(30);
    expect(r.viewStart).toBe(0);
    expect(r.viewEnd).toBeCloseTo(r.duration, 2);
    await page.selectOption("#example", { label: "seed1.mid" });
  });

  it("draws a 4,096-step piece readably, zooms (buttons, keys, Ctrl+wheel), scrolls, and follows the playhead", async () => {
    await page.fill("#num_steps", "4096");
    await page.fill("#seed", "2");
    await page.keyboard.press("Control+Enter");
    await waitFor("body[data-generations='3']", 240_000);
    await page.keyboard.press("Escape");
    // Shown at a readable zoom (a 16th at least 3 px), from the start, not squeezed into the width.
    let r = await roll();
    expect(r.duration).toBeGreaterThan(500);
    expect(r.beatPx / 4).toBeGreaterThanOrEqual(3);
    expect(r.viewStart).toBe(0);
    expect(r.viewEnd).toBeLessThan(r.duration / 10);
    expect(await gridShare()).toBeLessThan(0.12);
    expect(Number(await page.getAttribute("#roll", "data-drawn-notes"))).toBeGreaterThan(20);
    await page.screenshot({ path: join(ARTIFACTS, "long-piece.png") });
    // 0 shows it all: the grid thins out to bars (every few bars) rather than becoming a grey wash.
    await page.keyboard.press("0");
    r = await roll();
    expect(r.viewEnd).toBeCloseTo(r.duration, 0);
    expect(await gridShare()).toBeLessThan(0.15);
    await page.screenshot({ path: join(ARTIFACTS, "long-piece-fit.png") });
    // A click anywhere seeks at once, score cursor included (it moved note by note, redrawn at each: 2 s).
    await waitFor("#score[data-state=ready]", 120_000);
    const wide = await page.locator("#roll").boundingBox();
    if (!wide) throw new Error("no roll");
    for (const at of [0.99, 0.05, 0.6]) {
      const t0 = Date.now();
      await page.mouse.click(wide.x + wide.width * at, wide.y + wide.height / 3);
      await page.evaluate(() => new Promise(requestAnimationFrame));
      expect(Date.now() - t0, `a seek to ${at} of the roll`).toBeLessThan(700);
    }
    // + and the button zoom in by 1.5 each, − out; the shortcuts are listed in the help.
    const fit = r.beatPx;
    await page.keyboard.press("+");
    expect((await roll()).beatPx).toBeCloseTo(fit * 1.5, 1);
    await page.click("#zoom-in");
    expect((await roll()).beatPx).toBeCloseTo(fit * 2.25, 1);
    await page.keyboard.press("-");
    expect((await roll()).beatPx).toBeCloseTo(fit * 1.5, 1);
    await page.keyboard.press("?");
    await waitFor("dialog#help[open]");
    expect(await page.textContent("dialog#help")).toMatch(/Zoom the piano roll in \/ out/);
    await page.keyboard.press("Escape");
    // Ctrl+wheel over the roll zooms the roll (around the pointer), not the page.
    const box = await page.locator("#roll").boundingBox();
    if (!box) throw new Error("no roll");
    await page.mouse.move(box.x + box.width / 2, box.y + box.height / 2);
    const before = await roll();
    await page.keyboard.down("Control");
    for (let i = 0; i < 6; i++) await page.mouse.wheel(0, -100);
    await page.keyboard.up("Control");
    await page.waitForTimeout(200);
    r = await roll();
    expect(r.beatPx).toBeGreaterThan(before.beatPx * 5);
    const middle = (before.viewStart + before.viewEnd) / 2;
    expect(r.viewStart).toBeLessThan(middle);
    expect(r.viewEnd).toBeGreaterThan(middle);
    expect(await page.evaluate(() => window.visualViewport?.scale ?? 1)).toBe(1);
    // A sideways wheel (or Shift+wheel) scrolls it.
    await page.mouse.wheel(300, 0);
    await page.waitForTimeout(200);
    const scrolled = await roll();
    expect(scrolled.viewStart).toBeGreaterThan(r.viewStart);
    // Play from a click near the right of the view: the view pages on with the playhead.
    await page.mouse.click(box.x + box.width * 0.85, box.y + box.height / 3);
    const from = (await roll()).playhead;
    expect(from).toBeGreaterThan(scrolled.viewStart);
    await page.keyboard.press("Space");
    await waitFor("body[data-playing=true]");
    await page.waitForFunction(
      (start) => Number(document.getElementById("roll")?.dataset.viewStart) > start + 0.5,
      scrolled.viewStart,
      { timeout: 10_000 },
    );
    r = await roll();
    expect(r.playhead).toBeGreaterThanOrEqual(r.viewStart);
    expect(r.playhead).toBeLessThanOrEqual(r.viewEnd);
    await page.screenshot({ path: join(ARTIFACTS, "long-piece-follow.png") });
    await page.keyboard.press("Space");
    await waitFor("body[data-playing=false]");
  });

  it("plays to the end with a clock that never passes the piece's length, then starts again from 0", async () => {
    await page.keyboard.press("0");
    const box = await page.locator("#roll").boundingBox();
    if (!box) throw new Error("no roll");
    await page.mouse.click(box.x + box.width - 6, box.y + box.height / 3);
    const [at, total] = await clock();
    expect(at).toBeGreaterThan(total - 6);
    await page.keyboard.press("Space");
    await waitFor("body[data-playing=true]");
    const seen: [number, number][] = [];
    while ((await page.getAttribute("body", "data-playing")) === "true") {
      seen.push(await clock());
      await page.waitForTimeout(30);
    }
    expect(seen.length).toBeGreaterThan(3);
    for (const [t, end] of seen) expect(t).toBeLessThanOrEqual(end);
    expect(await clock()).toEqual([0, total]);
    // At the end, Play starts from the beginning.
    await page.keyboard.press("Space");
    await waitFor("body[data-playing=true]");
    await page.waitForTimeout(300);
    const [t] = await clock();
    expect(t).toBeLessThan(2);
    await page.keyboard.press("Space");
    await waitFor("body[data-playing=false]");
  });

  it("chord keyboard: names every C, sounds a key while it is held, and holds the chord as long as asked", async () => {
    await page.check('input[name="primer"][value="keys"]');
    // Each C's name is on its own key, visible without hovering.
    const names = await page.$$eval("#keyboard .key", (keys) =>
      keys
        .filter((k) => k.querySelector(".key-name"))
        .map((k) => {
          const key = k.getBoundingClientRect();
          const label = (k.querySelector(".key-name") as HTMLElement).getBoundingClientRect();
          return {
            text: k.textContent,
            inside:
              label.left >= key.left - 0.5 && label.right <= key.right + 0.5 && label.bottom <= key.bottom,
            visible:
              label.width > 0 &&
              getComputedStyle(k.querySelector(".key-name") as HTMLElement).visibility === "visible",
          };
        }),
    );
    expect(names.map((n) => n.text)).toEqual(["C3", "C4", "C5"]);
    for (const n of names) expect(n, JSON.stringify(n)).toMatchObject({ inside: true, visible: true });
    // A key sounds as it is pressed (its pitch's oscillator starts), over nothing else.
    const before = (await oscillators()).length;
    await page.click('#keyboard .key[data-pitch="60"]');
    await page.waitForFunction(
      (n) => (window as unknown as { oscillators: number[] }).oscillators.length > n,
      before,
    );
    expect((await oscillators()).slice(before)).toContainEqual(expect.closeTo(hz(60), 2));
    const held = (await oscillators()).length;
    const key = await page.locator('#keyboard .key[data-pitch="67"]').boundingBox();
    if (!key) throw new Error("no key");
    await page.mouse.move(key.x + key.width / 2, key.y + key.height - 5);
    await page.mouse.down();
    await page.waitForFunction(
      (n) => (window as unknown as { oscillators: number[] }).oscillators.length > n,
      held,
    );
    await page.mouse.up();
    expect((await oscillators()).slice(held)).toContainEqual(expect.closeTo(hz(67), 2));
    await page.click('#keyboard .key[data-pitch="64"]');
    await page.waitForFunction(() =>
      /^Chord C4 E4 G4: 3 notes, held 1 beat/.test(document.getElementById("primer-info")?.textContent ?? ""),
    );
    // Two bars: the primer is 4 s at 120 qpm, and the take's chord lasts that long.
    await page.selectOption("#chord_length", "8");
    await page.waitForFunction(() =>
      /held 2 bars · 4\.00 s/.test(document.getElementById("primer-info")?.textContent ?? ""),
    );
    await page.fill("#num_steps", "32");
    await page.fill("#seed", "3");
    await page.keyboard.press("Control+Enter");
    await waitFor("body[data-generations='4']", 90_000);
    await page.keyboard.press("Escape");
    const [dl] = await Promise.all([page.waitForEvent("download"), page.keyboard.press("d")]);
    const path = join(work, dl.suggestedFilename());
    await dl.saveAs(path);
    const chord = readMidi(readFileSync(path))
      .notes.filter((n) => n.startTime === 0)
      .sort((a, b) => a.pitch - b.pitch);
    expect(chord.map((n) => n.pitch)).toEqual([60, 64, 67]);
    for (const n of chord) expect(n.endTime).toBeCloseTo(4, 2);
    expect(await page.textContent(".take[data-take='4'] .what")).toContain("chord C4 E4 G4, 2 bars");
  });

  it("training: the chart has step ticks, the stats say the time trained and the time left", async () => {
    const files = writeTinyPieces(work, 3);
    await page.keyboard.press("2");
    await waitFor("#panel-train:not([hidden])");
    await page.setInputFiles("#train-files", files);
    await waitFor("body[data-train-files='3']");
    await page.fill("#t_layers", "[16]");
    await page.fill("#t_steps", "400");
    await page.click("#train-start");
    await page.waitForFunction(
      () => Number(document.getElementById("chart")?.dataset.steps) >= 30,
      undefined,
      {
        timeout: 90_000,
      },
    );
    const ticks = ((await page.getAttribute("#chart", "data-x-ticks")) ?? "").split(",").map(Number);
    expect(ticks.length).toBeGreaterThanOrEqual(3);
    const gap = ticks[1] - ticks[0];
    expect([1, 2, 5, 10, 20, 50].includes(gap), `ticks ${ticks}`).toBe(true);
    for (const t of ticks) expect(t % gap).toBe(0);
    const stats = (await page.textContent("#train-stats")) ?? "";
    expect(stats).toMatch(/^step \d+\/400 .* · \d+:\d\d elapsed · about \d+:\d\d left$/);
    expect(Number(await page.getAttribute("#train-stats", "data-left"))).toBeGreaterThan(0);
    await page.screenshot({ path: join(ARTIFACTS, "train-clock.png") });
    await page.click("#train-stop");
    await waitFor("body[data-train=paused]");
    // Stopped: no time left is claimed; the time trained stays.
    const paused = (await page.textContent("#train-stats")) ?? "";
    expect(paused).toMatch(/\d+:\d\d elapsed$/);
    expect(Number(await page.getAttribute("#train-stats", "data-elapsed"))).toBeGreaterThan(0);
    await page.keyboard.press("1");
  });

  it("logged no errors", () => {
    expect(studio?.pageErrors, studio?.pageErrors.join("\n")).toEqual([]);
  });
});
