import { mkdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import type { Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { readMidi } from "../src/io/midi.js";
import type { Note, NoteSequence } from "../src/notesequence.js";
import { runBrowserTests } from "./helpers/chromium.js";
import { ensureBuilt, ROOT, tempDir } from "./helpers/cli.js";
import { openStudioPage, rollColours, type StudioPage } from "./helpers/studio.js";

const ARTIFACTS = join(ROOT, "test-artifacts", "studio");
const RUN = runBrowserTests("studio Play tab tests");

let studio: StudioPage | undefined;
let page: Page;
const work = tempDir("polyrnn-studio-play-");

/** The stand-in for Web MIDI (test only): one input the test plays, one output that records what it gets. */
function midiStandIn(): void {
  if (typeof Navigator === "undefined") return;
  const sent: { data: number[]; timeStamp: number }[] = [];
  let calls = 0;
  const input = {
    id: "stand-in-in",
    name: "Stand-in keyboard",
    manufacturer: "polyrnn test",
    type: "input",
    state: "connected",
    connection: "open",
    onmidimessage: null as null | ((e: { data: Uint8Array; timeStamp: number }) => void),
  };
  const output = {
    id: "stand-in-out",
    name: "Stand-in synth",
    manufacturer: "polyrnn test",
    type: "output",
    state: "connected",
    connection: "open",
    send(data: number[], timeStamp?: number) {
      sent.push({ data: Array.from(data), timeStamp: timeStamp ?? performance.now() });
    },
  };
  const access = {
    inputs: new Map([[input.id, input]]),
    outputs: new Map([[output.id, output]]),
    sysexEnabled: false,
    onstatechange: null,
  };
  Object.defineProperty(Navigator.prototype, "requestMIDIAccess", {
    configurable: true,
    value: () => {
      calls++;
      return Promise.resolve(access);
    },
  });
  (window as unknown as { midiStandIn: unknown }).midiStandIn = {
    calls: () => calls,
    sent,
    play: (bytes: number[]) =>
      input.onmidimessage?.({ data: new Uint8Array(bytes), timeStamp: performance.now() }),
  };
}

type StandIn = { calls(): number; sent: { data: number[]; timeStamp: number }[]; play(b: number[]): void };

async function view(): Promise<Record<string, string>> {
  return page.evaluate(
    () => ({ ...(document.getElementById("play-view") as HTMLElement).dataset }) as Record<string, string>,
  );
}

/** Waits until the Play view's data attribute `key` satisfies `test`; on a timeout, says what it showed. */
async function waitView(key: string, test: (v: number) => boolean, timeout = 30_000): Promise<void> {
  const t0 = Date.now();
  for (;;) {
    const v = await view();
    if (test(Number(v[key]))) return;
    if (Date.now() - t0 > timeout) {
      const status = await page.textContent("#status");
      throw new Error(`play-view ${key} never passed the test: ${JSON.stringify(v)}; status: ${status}`);
    }
    await page.waitForTimeout(50);
  }
}

/** Presses a key by position (KeyboardEvent.code) for `ms`, then waits `gap` ms. */
async function tap(code: string, ms = 180, gap = 60): Promise<void> {
  await page.keyboard.down(code);
  await page.waitForTimeout(ms);
  await page.keyboard.up(code);
  await page.waitForTimeout(gap);
}

/** Leaves any field, so the letters play. */
async function focusPage(): Promise<void> {
  await page.evaluate(() => (document.activeElement as HTMLElement | null)?.blur());
}

async function downloadTake(name: string): Promise<NoteSequence> {
  const [dl] = await Promise.all([page.waitForEvent("download"), page.click("#p_download")]);
  expect(dl.suggestedFilename()).toMatch(/^polyrnn_play_.*\.mid$/);
  const path = join(work, name);
  await dl.saveAs(path);
  return readMidi(readFileSync(path));
}

/** Notes of one track of a downloaded take, by the track's name. */
function track(ns: NoteSequence, name: "player" | "polyrnn"): Note[] {
  const info = ns.instrumentInfos.find((i) => i.name === name);
  expect(info, `no "${name}" track in ${JSON.stringify(ns.instrumentInfos)}`).toBeDefined();
  return ns.notes.filter((n) => n.instrument === info?.instrument).sort((a, b) => a.startTime - b.startTime);
}

async function setup(mode: string, fields: Record<string, string>): Promise<void> {
  await page.click("#p_clear");
  await page.check(`input[name="p_mode"][value="${mode}"]`);
  for (const [id, value] of Object.entries(fields)) {
    if (id === "p_pause") await page.selectOption("#p_pause", value);
    else await page.fill(`#${id}`, value);
  }
  await focusPage();
}

describe.skipIf(!RUN)("studio Play tab in Chromium", () => {
  beforeAll(async () => {
    ensureBuilt();
    mkdirSync(ARTIFACTS, { recursive: true });
    studio = await openStudioPage({ viewport: { width: 1366, height: 820 }, initScript: midiStandIn });
    page = studio.page;
    await page.keyboard.press("3");
    await page.waitForSelector("body[data-tab=play]", { state: "attached" });
  });

  afterAll(async () => {
    await studio?.close();
  });

  it("plays from the computer keys (octave shift, sustain), answers after the pause, and records both tracks", async () => {
    await setup("answer", { p_qpm: "120", p_pause: "4", p_bars: "1" });
    // C4 D4 E4 on A S D; X shifts an octave up: A is C5; Z back; F (F4) with Space held (sustain).
    await tap("KeyA");
    await tap("KeyS");
    await tap("KeyD");
    await tap("KeyX", 20, 20);
    expect(await page.textContent("#p_octave")).toBe("C5–F6");
    await tap("KeyA");
    await tap("KeyZ", 20, 20);
    await page.keyboard.down("Space");
    await tap("KeyF", 60, 400);
    await page.keyboard.up("Space");
    expect(Number((await view()).playerNotes)).toBe(5);
    await waitView("answers", (n) => n === 1);
    await waitView("modelNotes", (n) => n > 0);
    const v = await view();
    // The answer starts when the pause (one bar after the phrase's end, on the 16th grid) ends, or later.
    expect(Number(v.answerStart)).toBeGreaterThanOrEqual(Number(v.pauseEnd));
    expect(Number(v.answerGenMs)).toBeGreaterThan(0);
    expect(await page.textContent("#p_stats")).toMatch(/^Last answer: \d+ notes, generated in \d+ ms/);
    // The roll shows the phrase in blue and the answer in orange.
    const colours = await rollColours(page, "play-roll");
    expect(colours.blue).toBeGreaterThan(50);
    expect(colours.orange).toBeGreaterThan(50);
    await page.waitForTimeout(2200); // the whole answer (one bar at 120 qpm) has played
    await page.screenshot({ path: join(ARTIFACTS, "play-answer.png") });

    const ns = await downloadTake("answer.mid");
    expect(ns.tempos[0].qpm).toBeCloseTo(120, 3);
    const mine = track(ns, "player");
    expect(mine.map((n) => n.pitch)).toEqual([60, 62, 64, 72, 65]);
    // Held keys last as long as they were held; the pedal holds F4 well past its key's release.
    for (const n of mine.slice(0, 4)) expect(n.endTime - n.startTime).toBeGreaterThan(0.1);
    expect(mine[4].endTime - mine[4].startTime).toBeGreaterThan(0.3);
    const model = track(ns, "polyrnn");
    expect(model.length).toBe(Number((await view()).modelNotes));
    const start = Number(v.answerStart);
    for (const n of model) {
      expect(n.startTime).toBeGreaterThanOrEqual(start - 0.01);
      expect(n.endTime).toBeLessThanOrEqual(start + 2 + 0.01); // one bar at 120 qpm
    }
    expect(start).toBeGreaterThan(mine[4].endTime + 1);
  });

  it("stops the answer when the player cuts in: no model note after that", async () => {
    // A pause of two bars: no new answer comes in the second after the cut.
    await setup("answer", { p_pause: "8", p_bars: "8" });
    await tap("KeyG");
    await tap("KeyH");
    await tap("KeyJ");
    await waitView("answers", (n) => n === 1);
    await waitView("modelNotes", (n) => n >= 2);
    await page.waitForTimeout(250); // they are handed to the synth a little ahead: now both sound
    await tap("KeyK", 100, 0);
    const cut = await view();
    expect(cut.state).not.toBe("answering");
    await page.waitForTimeout(1000); // an 8-bar answer would still be playing
    expect((await view()).modelNotes).toBe(cut.modelNotes);
    const ns = await downloadTake("cut.mid");
    const cutAt = track(ns, "player")[3].startTime;
    const model = track(ns, "polyrnn");
    expect(model.length).toBeGreaterThanOrEqual(2);
    for (const n of model) {
      expect(n.startTime).toBeLessThan(cutAt + 0.02);
      expect(n.endTime).toBeLessThanOrEqual(cutAt + 0.02);
    }
  });

  it("harmonises: the played melody comes back in the answer, on its beats, with other voices", async () => {
    await setup("harmonise", { p_pause: "4", p_bars: "1" });
    for (const code of ["KeyA", "KeyD", "KeyG", "KeyK"]) await tap(code, 200, 50);
    await waitView("answers", (n) => n === 1);
    await page.waitForTimeout(2300);
    const v = await view();
    const ns = await downloadTake("harmonise.mid");
    const step = 60 / 120 / 4;
    const melody = track(ns, "player");
    const answer = track(ns, "polyrnn");
    const start = Number(v.answerStart);
    // The answer starts on a bar line; each melody note is in it, as many steps from that bar line as it
    // was from the phrase's.
    expect(start / (16 * step)).toBeCloseTo(Math.round(start / (16 * step)), 6);
    const from = Math.floor(Math.round(melody[0].startTime / step) / 16) * 16;
    for (const m of melody) {
      const at = start + (Math.round(m.startTime / step) - from) * step;
      const found = answer.find((n) => n.pitch === m.pitch && Math.abs(n.startTime - at) < step / 2);
      expect(found, `melody ${m.pitch} at ${at.toFixed(3)} s not in the answer`).toBeDefined();
    }
    expect(answer.length).toBeGreaterThan(melody.length);
  });

  it("accompanies: the model plays along a bar ahead while the player plays", async () => {
    await setup("accompany", { p_qpm: "240" });
    await page.check("#p_metronome");
    await focusPage();
    const codes = ["KeyA", "KeyD", "KeyG", "KeyD"];
    for (let i = 0; i < 40; i++) {
      await tap(codes[i % codes.length], 150, 80);
      const v = await view();
      if (Number(v.accompanied) >= 2 && Number(v.modelNotes) > 0) break;
    }
    const v = await view();
    expect(Number(v.accompanied)).toBeGreaterThanOrEqual(2);
    expect(Number(v.modelNotes)).toBeGreaterThan(0);
    await page.screenshot({ path: join(ARTIFACTS, "play-accompany.png") });
    const ns = await downloadTake("accompany.mid");
    // The metronome started the take (a bar is 1 s at 240 qpm); the model joins on a bar line after the
    // player's first note, never before it.
    const first = track(ns, "player")[0].startTime;
    for (const n of track(ns, "polyrnn")) expect(n.startTime).toBeGreaterThanOrEqual(Math.ceil(first) - 0.01);
    await page.uncheck("#p_metronome");
  });

  it("asks for MIDI only on Connect, plays a MIDI input (with its pedal), and sends the answer to a MIDI output", async () => {
    expect(
      await page.evaluate(() => (window as unknown as { midiStandIn: StandIn }).midiStandIn.calls()),
    ).toBe(0);
    await page.click("#p_midi_connect");
    await page.waitForFunction(() =>
      /Stand-in keyboard/.test(document.getElementById("p_midi_info")?.textContent ?? ""),
    );
    expect(
      await page.evaluate(() => (window as unknown as { midiStandIn: StandIn }).midiStandIn.calls()),
    ).toBe(1);
    expect(await page.textContent("#status")).toContain("MIDI connected: Stand-in keyboard plays");
    await setup("answer", { p_qpm: "120", p_pause: "2", p_bars: "1" });
    await page.selectOption("#p_midi_out", "stand-in-out");
    const play = (bytes: number[]) =>
      page.evaluate((b) => (window as unknown as { midiStandIn: StandIn }).midiStandIn.play(b), bytes);
    await play([0x90, 67, 90]);
    await page.waitForTimeout(200);
    await play([0x80, 67, 0]);
    await play([0xb0, 64, 127]); // pedal down
    await play([0x91, 69, 70]); // note on, channel 2
    await page.waitForTimeout(50);
    await play([0x91, 69, 0]); // note off as a velocity-0 note on
    await page.waitForTimeout(300);
    await play([0xb0, 64, 0]); // pedal up
    await waitView("answers", (n) => n === 1);
    await page.waitForTimeout(2300);
    const ns = await downloadTake("midi.mid");
    const mine = track(ns, "player");
    expect(mine.map((n) => [n.pitch, n.velocity])).toEqual([
      [67, 90],
      [69, 70],
    ]);
    expect(mine[1].endTime - mine[1].startTime).toBeGreaterThan(0.25);
    const model = track(ns, "polyrnn");
    expect(model.length).toBeGreaterThan(0);
    // The output got the player's notes and the model's: every note-on, then its note-off, none before it.
    const sent = await page.evaluate(() => (window as unknown as { midiStandIn: StandIn }).midiStandIn.sent);
    const ons = sent.filter((m) => (m.data[0] & 0xf0) === 0x90 && m.data[2] > 0);
    expect(ons.map((m) => m.data[1]).slice(0, 2)).toEqual([67, 69]);
    expect(ons.length).toBe(mine.length + model.length);
    for (const on of ons) {
      const off = sent.find(
        (m) =>
          (m.data[0] & 0xf0) === 0x80 && m.data[1] === on.data[1] && m.timeStamp >= on.timeStamp && m !== on,
      );
      expect(off, `no note-off after note-on ${on.data}`).toBeDefined();
    }
    await page.selectOption("#p_midi_out", "");
  });

  it("makes the take the Generate tab's primer, which generates", async () => {
    await page.keyboard.press("3");
    await page.click("#p_use");
    await page.waitForSelector("body[data-tab=generate]", { state: "attached" });
    await page.waitForFunction(() =>
      /^polyrnn_play_.*\.mid: first \d+ of \d+ bars/.test(
        document.getElementById("primer-info")?.textContent ?? "",
      ),
    );
    const before = Number((await page.getAttribute("body", "data-generations")) ?? 0);
    await page.click("#generate");
    await page.waitForSelector(`body[data-generations='${before + 1}']`, {
      state: "attached",
      timeout: 60_000,
    });
    expect(Number(await page.getAttribute("#roll", "data-generated-notes"))).toBeGreaterThan(0);
  });

  it("fits 1280×720 and a 390 px phone without sideways scrolling", async () => {
    await page.keyboard.press("3");
    for (const [w, h, name] of [
      [1280, 720, "play-1280x720"],
      [390, 844, "play-390"],
    ] as const) {
      await page.setViewportSize({ width: w, height: h });
      await page.waitForTimeout(200);
      const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
      expect(overflow, `${name}: the page is wider than the window`).toBeLessThanOrEqual(0);
      await page.screenshot({ path: join(ARTIFACTS, `${name}.png`), fullPage: true });
    }
    await page.setViewportSize({ width: 1366, height: 820 });
  });

  it("logged no errors", () => {
    expect(studio?.pageErrors, studio?.pageErrors.join("\n")).toEqual([]);
  });
});
