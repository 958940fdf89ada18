/** The Studio for the browser tests: `polyrnn studio` on a free port, and waiting on the page. */
import { type ChildProcess, spawn } from "node:child_process";
import { join } from "node:path";
import type { Browser, Page } from "playwright-core";
import { launchChromium } from "./chromium.js";
import { ROOT } from "./cli.js";

/** Starts `polyrnn studio` on a free port (the built CLI: run ensureBuilt first). */
export async function startStudio(): Promise<{ server: ChildProcess; url: string }> {
  const server = spawn(process.execPath, [join(ROOT, "dist/cli/polyrnn.js"), "studio", "--port=0"], {
    cwd: ROOT,
  });
  const url = await new Promise<string>((resolve, reject) => {
    let out = "";
    server.stdout?.on("data", (d) => {
      out += d;
      const m = /http:\/\/\S+/.exec(out);
      if (m) resolve(m[0]);
    });
    server.on("exit", (code) => reject(new Error(`polyrnn studio exited with ${code}`)));
  });
  return { server, url };
}

/** A Studio server and one Chromium page on it, with what the page reported. */
export interface StudioPage {
  server: ChildProcess;
  browser: Browser;
  page: Page;
  url: string;
  /** Uncaught page errors and console errors, in order. */
  pageErrors: string[];
  /** Requests the page made to anywhere but the Studio's own server (blob: and data: aside). */
  offOrigin: string[];
  /** Closes the browser and stops the server. */
  close(): Promise<void>;
}

/**
 * Starts the Studio and opens it in Chromium at `viewport` (downloads accepted, 20 s default timeout),
 * with `initScript` run in the page before its own scripts, and waits until the page is ready.
 */
export async function openStudioPage(opts: {
  viewport: { width: number; height: number };
  initScript?: () => void;
}): Promise<StudioPage> {
  const { server, url } = await startStudio();
  let browser: Browser | undefined;
  try {
    browser = await launchChromium();
    const context = await browser.newContext({ viewport: opts.viewport, acceptDownloads: true });
    if (opts.initScript) await context.addInitScript(opts.initScript);
    const page = await context.newPage();
    page.setDefaultTimeout(20_000);
    const pageErrors: string[] = [];
    const offOrigin: string[] = [];
    page.on("request", (r) => {
      if (!r.url().startsWith(url) && !/^(blob|data):/.test(r.url())) offOrigin.push(r.url());
    });
    page.on("pageerror", (e) => pageErrors.push(e.message));
    page.on("console", (m) => {
      if (m.type() === "error") pageErrors.push(m.text());
    });
    await page.goto(url);
    await waitForStudio(page, "body[data-ready=true]", 30_000);
    const opened = browser;
    return {
      server,
      browser: opened,
      page,
      url,
      pageErrors,
      offOrigin,
      close: async () => {
        await opened.close();
        server.kill("SIGTERM");
      },
    };
  } catch (e) {
    await browser?.close();
    server.kill("SIGTERM");
    throw e;
  }
}

/** Waits for `selector`; on a timeout, the error says what the page showed (status line, engine, state). */
export async function waitForStudio(page: Page, selector: string, timeout = 30_000): Promise<void> {
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

/** Pixels of a piano-roll canvas that are clearly primer/player blue and clearly generated orange. */
export function rollColours(page: Page, canvasId: string): Promise<{ blue: number; orange: number }> {
  return page.evaluate((id) => {
    const c = document.getElementById(id) as HTMLCanvasElement;
    const d = (c.getContext("2d") as CanvasRenderingContext2D).getImageData(0, 0, c.width, c.height).data;
    let blue = 0;
    let orange = 0;
    for (let i = 0; i < d.length; i += 4) {
      const [r, g, b] = [d[i], d[i + 1], d[i + 2]];
      if (b > r + 60 && b > g + 20) blue++;
      else if (r > 180 && r > b + 90 && g < r - 40) orange++;
    }
    return { blue, orange };
  }, canvasId);
}
