import { cpSync, readFileSync } from "node:fs";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { extname, join, normalize } from "node:path";
import type { Browser } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { generate } from "../src/generate/api.js";
import { noteSequenceToJson } from "../src/io/notesequence_json.js";
import { createKernels } from "../src/kernels/index.js";
import { loadBundle } from "../src/model/bundle.js";
import { launchChromium, runBrowserTests } from "./helpers/chromium.js";
import { ROOT, tempDir } from "./helpers/cli.js";
import { installPacked, npmPack } from "./helpers/pack.js";

const RUN = runBrowserTests("library browser tests");
const APP = join(ROOT, "test/browser/library_app");
const BACH = join(ROOT, "models/bach.safetensors");
const STEPS = 32;
const SEED = 7; // as app.js

interface PageResult {
  error?: string;
  kernels: string;
  threads: number;
  crossOriginIsolated: boolean;
  notices: string[];
  sequence: { notes?: unknown[] };
  same: boolean;
}

const TYPES: Record<string, string> = {
  ".html": "text/html",
  ".js": "text/javascript",
  ".wasm": "application/wasm",
};

/** A static file server for `root`, with or without the headers of cross-origin isolation. */
function serve(root: string, isolated: boolean): Promise<{ server: Server; url: string }> {
  const server = createServer((req, res) => {
    const path = normalize(decodeURIComponent(new URL(req.url ?? "/", "http://x").pathname));
    const headers: Record<string, string> = isolated
      ? { "Cross-Origin-Opener-Policy": "same-origin", "Cross-Origin-Embedder-Policy": "require-corp" }
      : {};
    try {
      const file = join(root, path.endsWith("/") ? `${path}index.html` : path);
      const body = readFileSync(file);
      res.writeHead(200, { ...headers, "Content-Type": TYPES[extname(file)] ?? "application/octet-stream" });
      res.end(body);
    } catch {
      res.writeHead(404, headers);
      res.end("not found");
    }
  });
  return new Promise((resolve) =>
    server.listen(0, "127.0.0.1", () =>
      resolve({ server, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}` }),
    ),
  );
}

describe.skipIf(!RUN)("polyrnn bundled into a web page, in Chromium", () => {
  const work = tempDir("polyrnn-library-browser-");
  const project = join(work, "project");
  const site = join(work, "site");
  const servers: Server[] = [];
  let plain = "";
  let isolated = "";
  let browser: Browser | undefined;
  const expected: Record<string, string> = {};
  let hardwareConcurrency = 1;

  beforeAll(async () => {
    const pkgDir = installPacked(npmPack(work), project);
    cpSync(APP, project, { recursive: true });

    // esbuild: it does not copy files named by new URL(…, import.meta.url); the page copies wasm/ itself.
    const esbuild = await import("esbuild");
    await esbuild.build({
      absWorkingDir: project,
      entryPoints: ["app.js"],
      bundle: true,
      format: "esm",
      platform: "browser",
      outdir: join(site, "esbuild"),
      logLevel: "silent",
    });
    cpSync(join(APP, "index.html"), join(site, "esbuild/index.html"));
    cpSync(join(pkgDir, "wasm"), join(site, "esbuild/static/wasm"), { recursive: true });
    // Vite (build): it emits the .wasm files as assets.
    const vite = await import("vite");
    await vite.build({
      root: project,
      configFile: false,
      base: "./",
      logLevel: "silent",
      build: { outDir: join(site, "vite"), emptyOutDir: true },
    });
    for (const dir of ["esbuild", "vite"])
      cpSync(join(pkgDir, "models/bach.safetensors"), join(site, dir, "bach.safetensors"));

    for (const iso of [false, true]) {
      const s = await serve(site, iso);
      servers.push(s.server);
      if (iso) isolated = s.url;
      else plain = s.url;
    }
    browser = await launchChromium();

    // What Node makes with the same seed, per kind of kernels.
    const bundle = loadBundle(readFileSync(BACH));
    for (const kind of ["reference", "wasm"] as const) {
      const kernels = await createKernels(kind, { threads: 1 });
      const ns = await generate({ bundle, numSteps: STEPS, seed: SEED, kernels });
      expected[kind] = JSON.stringify(noteSequenceToJson(ns));
      kernels.dispose();
    }
  });

  afterAll(async () => {
    await browser?.close();
    for (const s of servers) s.close();
  });

  async function open(url: string): Promise<{ result: PageResult; errors: string[] }> {
    const page = await (browser as Browser).newPage();
    const errors: string[] = [];
    page.on("pageerror", (e) => errors.push(e.message));
    page.on("console", (m) => {
      if (m.type() === "error") errors.push(m.text());
    });
    await page.goto(url);
    await page.waitForFunction(() => "result" in window, undefined, { timeout: 90_000 });
    const result = (await page.evaluate(
      () => (window as unknown as { result: PageResult }).result,
    )) as PageResult;
    hardwareConcurrency = await page.evaluate(() => navigator.hardwareConcurrency);
    await page.close();
    expect(result.error).toBeUndefined();
    return { result, errors: errors.filter((e) => !/404/.test(e)) };
  }

  function expectMusic(r: PageResult, kind: "reference" | "wasm"): void {
    expect(r.sequence.notes?.length ?? 0).toBeGreaterThan(0);
    expect(JSON.stringify(r.sequence)).toBe(expected[kind]);
    expect(r.same).toBe(true); // the kernels were reused for a second call
  }

  it("esbuild, no special headers, .wasm not copied: the reference kernels, with a notice", async () => {
    const { result, errors } = await open(`${plain}/esbuild/`);
    expect(result.crossOriginIsolated).toBe(false);
    expect(result.kernels).toBe("reference");
    expect(result.notices.join("\n")).toMatch(/reference kernels \(slow\).*HTTP 404.*wasmUrl/);
    expect(errors).toEqual([]);
    expectMusic(result, "reference");
  });

  it("esbuild, no special headers, wasmUrl: the WebAssembly kernels on one thread, no DataCloneError", async () => {
    const { result, errors } = await open(`${plain}/esbuild/?wasm=static/wasm/`);
    expect(result.crossOriginIsolated).toBe(false);
    expect(result.kernels).toMatch(/^wasm/);
    expect(result.threads).toBe(1);
    if (hardwareConcurrency > 1)
      expect(result.notices.join("\n")).toMatch(/one thread.*cross-origin isolated/);
    expect(errors).toEqual([]);
    expectMusic(result, "wasm");
  });

  it("esbuild, COOP/COEP: the WebAssembly kernels on several threads", async () => {
    const { result, errors } = await open(`${isolated}/esbuild/?wasm=static/wasm/`);
    expect(result.crossOriginIsolated).toBe(true);
    expect(result.kernels).toMatch(/^wasm/);
    expect(result.threads).toBe(Math.min(4, hardwareConcurrency));
    expect(result.notices).toEqual([]);
    expect(errors).toEqual([]);
    expectMusic(result, "wasm");
  });

  it("Vite, no special headers: finds its .wasm assets on its own", async () => {
    const { result, errors } = await open(`${plain}/vite/`);
    expect(result.kernels).toMatch(/^wasm/);
    expect(result.threads).toBe(1);
    expect(errors).toEqual([]);
    expectMusic(result, "wasm");
  });

  it("Vite, COOP/COEP: threads", async () => {
    const { result, errors } = await open(`${isolated}/vite/`);
    expect(result.crossOriginIsolated).toBe(true);
    expect(result.kernels).toMatch(/^wasm/);
    expect(result.threads).toBe(Math.min(4, hardwareConcurrency));
    expectMusic(result, "wasm");
    expect(errors).toEqual([]);
  });
});
