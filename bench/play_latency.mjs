#!/usr/bin/env node
// The Studio's Play tab, call and response: how soon the model's answer starts after the player's pause
// ends, in the page as a player uses it (Debian's Chromium driven by playwright-core, the computer keys
// pressed with real key events, the default 3×256 bundle, answers of 2 bars, a pause of 1 bar at 120 qpm).
//
//   npm run build && node bench/play_latency.mjs [--trials=6] [--json=out/play-latency.json]
//   POLYRNN_CHROMIUM=/path/to/chromium node bench/play_latency.mjs
//
// Each trial clears the take and plays a one-bar phrase (eight eighth notes), then waits for the answer.
// Reported, from the page's own clock (the AudioContext's) and its Performance timeline:
//   late        when the answer starts after the end of the pause (0: on the pause's last beat exactly)
//   first note  when its first note sounds after the end of the pause (an answer may open with a rest)
//   generation  the worker's round trip for the answer (request to reply): what the lateness would be if
//               the page waited for the pause to end before asking (it asks once the player has been silent
//               for a beat, so the pause hides the generation)
//   main thread the longest gap between two 10 ms timer ticks of the page during the trial (the page stays
//               responsive while the worker generates: a gap well over 10 ms would be a stall), beside the
//               same probe over 3 s of the page doing nothing (what the machine's load alone costs)
// The first trial also compiles the kernels' code paths and is reported apart (warm-up). The machine may
// be shared: the 1-minute load average at the start and end is printed.
import { spawn } from "node:child_process";
import { existsSync, mkdirSync, writeFileSync } from "node:fs";
import { availableParallelism, loadavg } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const ROOT = join(dirname(fileURLToPath(import.meta.url)), "..");
const args = Object.fromEntries(
  process.argv.slice(2).map((a) => {
    const m = /^--([a-z_]+)=(.*)$/.exec(a);
    if (!m) throw new Error(`bench/play_latency.mjs: unknown argument ${a} (--trials=N, --json=PATH)`);
    return [m[1], m[2]];
  }),
);
const TRIALS = Number(args.trials ?? 6);
if (!Number.isInteger(TRIALS) || TRIALS < 2)
  throw new Error("bench/play_latency.mjs: --trials must be 2 or more");
const CHROMIUM = process.env.POLYRNN_CHROMIUM ?? "/usr/bin/chromium";
if (!existsSync(CHROMIUM))
  throw new Error(`bench/play_latency.mjs: no Chromium at ${CHROMIUM} (set POLYRNN_CHROMIUM)`);
if (!existsSync(join(ROOT, "dist/studio/web/play.js")))
  throw new Error("bench/play_latency.mjs: run npm run build first");

const { chromium } = await import("playwright-core");
const load0 = loadavg()[0];
const server = spawn(process.execPath, [join(ROOT, "dist/cli/polyrnn.js"), "studio", "--port=0"], {
  cwd: ROOT,
});
const url = await new Promise((resolve, reject) => {
  let out = "";
  server.stdout.on("data", (d) => {
    out += d;
    const m = /http:\/\/\S+/.exec(out);
    if (m) resolve(m[0]);
  });
  server.on("exit", (code) => reject(new Error(`polyrnn studio exited with ${code}`)));
});
const browser = await chromium.launch({
  executablePath: CHROMIUM,
  headless: true,
  args: ["--no-sandbox", "--disable-gpu", "--mute-audio", "--no-first-run"],
});
try {
  const page = await browser.newPage({ viewport: { width: 1280, height: 720 } });
  const errors = [];
  page.on("pageerror", (e) => errors.push(e.message));
  await page.goto(url);
  await page.waitForSelector("body[data-ready=true]", { state: "attached", timeout: 60_000 });
  const model = await page.textContent("#model-info");
  const engine = await page.textContent("#engine");
  if (!/256×256×256 LSTM/.test(model ?? "")) throw new Error(`the default model is not 3×256: ${model}`);
  await page.keyboard.press("3");
  await page.check('input[name="p_mode"][value="answer"]');
  await page.fill("#p_qpm", "120");
  await page.selectOption("#p_pause", "4");
  await page.fill("#p_bars", "2");
  // A probe of the page's main thread: the longest gap between 10 ms ticks since the last reset.
  await page.evaluate(() => {
    const probe = { last: performance.now(), max: 0 };
    setInterval(() => {
      const now = performance.now();
      probe.max = Math.max(probe.max, now - probe.last);
      probe.last = now;
    }, 10);
    window.benchProbe = probe;
  });
  // The same probe over 3 s of the page doing nothing: what the machine's load alone costs the main thread.
  await page.waitForTimeout(3000);
  const idleGap = Math.round(
    await page.evaluate(() => {
      const max = window.benchProbe.max;
      window.benchProbe.max = 0;
      return max;
    }),
  );
  console.log(`idle page, 3 s: main-thread gap ${idleGap} ms`);
  const rows = [];
  for (let trial = 0; trial < TRIALS; trial++) {
    await page.click("#p_clear");
    await page.evaluate(() => document.activeElement?.blur());
    await page.evaluate(() => {
      window.benchProbe.max = 0;
    });
    for (const code of ["KeyA", "KeyD", "KeyG", "KeyD", "KeyF", "KeyS", "KeyA", "KeyG"]) {
      await page.keyboard.down(code);
      await page.waitForTimeout(200);
      await page.keyboard.up(code);
      await page.waitForTimeout(50);
    }
    await page.waitForSelector("#play-view[data-answers='1']", { state: "attached", timeout: 60_000 });
    const v = await page.evaluate(() => ({
      ...document.getElementById("play-view").dataset,
      gap: window.benchProbe.max,
    }));
    rows.push({
      trial,
      lateMs: Number(v.answerLateMs),
      firstNoteMs: v.answerFirstMs === "" ? null : Number(v.answerFirstMs),
      generationMs: Number(v.answerGenMs),
      mainThreadGapMs: Math.round(v.gap),
    });
    console.log(
      `trial ${trial}${trial === 0 ? " (warm-up)" : ""}: late ${v.answerLateMs} ms, first note ${v.answerFirstMs} ms, ` +
        `generation ${v.answerGenMs} ms, main-thread gap ${Math.round(v.gap)} ms`,
    );
  }
  const measured = rows.slice(1);
  const median = (xs) => {
    const s = [...xs].sort((a, b) => a - b);
    return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
  };
  const summary = {
    model,
    engine,
    cores: availableParallelism(),
    load: [load0, loadavg()[0]],
    trials: measured.length,
    lateMs: {
      median: median(measured.map((r) => r.lateMs)),
      max: Math.max(...measured.map((r) => r.lateMs)),
    },
    firstNoteMs: { median: median(measured.filter((r) => r.firstNoteMs !== null).map((r) => r.firstNoteMs)) },
    generationMs: {
      median: median(measured.map((r) => r.generationMs)),
      max: Math.max(...measured.map((r) => r.generationMs)),
    },
    mainThreadGapMs: { max: Math.max(...measured.map((r) => r.mainThreadGapMs)), idle: idleGap },
    rows,
    errors,
  };
  console.log(
    `\n${model} · ${engine} · ${summary.cores} cores, load ${load0.toFixed(2)} → ${loadavg()[0].toFixed(2)}\n` +
      `answer start after the pause: median ${summary.lateMs.median} ms, max ${summary.lateMs.max} ms ` +
      `(first note: median ${summary.firstNoteMs.median} ms)\n` +
      `generation of the 2-bar answer (worker round trip): median ${summary.generationMs.median} ms, max ${summary.generationMs.max} ms\n` +
      `longest main-thread gap: ${summary.mainThreadGapMs.max} ms (idle page: ${idleGap} ms)` +
      (errors.length ? `\npage errors: ${errors.join("; ")}` : ""),
  );
  if (args.json) {
    mkdirSync(dirname(args.json), { recursive: true });
    writeFileSync(args.json, `${JSON.stringify(summary, null, 2)}\n`);
  }
} finally {
  await browser.close();
  server.kill("SIGTERM");
}
