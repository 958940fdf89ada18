import { cpSync, readFileSync } from "node:fs";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { extname, join, normalize } from "node:path";
import { pathToFileURL } from "node:url";
import type { Browser } from "playwright-core";
import type { OutputOptions, RollupOptions } from "rollup";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Configuration, Stats } from "webpack";
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

/** The default export of a bundler configuration in examples/library/ (what the README gives users). */
async function example<T>(name: string): Promise<T> {
  return (await import(pathToFileURL(join(ROOT, "examples/library", name)).href)).default;
}

type Bundler = "esbuild" | "vite" | "webpack" | "rollup";

/**
 * How each bundler builds the fixture app in `project` into `out` (with its index.html), as the README
 * tells a user to.
 */
const BUILDS: Record<Bundler, (project: string, out: string) => Promise<void>> = {
  // esbuild does not copy files named by new URL(…, import.meta.url): the page copies wasm/ itself.
  async esbuild(project, out) {
    const esbuild = await import("esbuild");
    await esbuild.build({
      absWorkingDir: project,
      entryPoints: ["app.js"],
      bundle: true,
      format: "esm",
      platform: "browser",
      outdir: out,
      logLevel: "silent",
    });
    cpSync(join(APP, "index.html"), join(out, "index.html"));
    cpSync(join(project, "node_modules/polyrnn/wasm"), join(out, "static/wasm"), { recursive: true });
  },
  // Vite emits the .wasm files as assets, with no configuration.
  async vite(project, out) {
    const vite = await import("vite");
    await vite.build({
      root: project,
      configFile: false,
      base: "./",
      logLevel: "silent",
      build: { outDir: out, emptyOutDir: true },
    });
  },
  // webpack 5 too, with examples/library/webpack.config.mjs (nothing polyrnn-specific in it).
  async webpack(project, out) {
    const { default: webpack } = await import("webpack");
    const config: Configuration = await example("webpack.config.mjs");
    const stats = await new Promise<Stats | undefined>((resolve, reject) =>
      webpack({ ...config, context: project, output: { ...config.output, path: out } }, (err, s) =>
        err ? reject(err) : resolve(s),
      ),
    );
    if (stats?.hasErrors() || stats?.hasWarnings()) throw new Error(stats.toString("errors-warnings"));
    cpSync(join(APP, "index.html"), join(out, "index.html"));
  },
  // Rollup with examples/library/rollup.config.mjs: node-resolve, commonjs, and a plugin that emits the
  // files named by new URL(…, import.meta.url).
  async rollup(project, out) {
    const { rollup } = await import("rollup");
    const config: RollupOptions & { output: OutputOptions } = await example("rollup.config.mjs");
    const build = await rollup({
      ...config,
      input: join(project, "app.js"),
      onwarn: (w) => {
        throw new Error(w.message);
      },
    });
    await build.write({ ...config.output, dir: out });
    await build.close();
    cpSync(join(APP, "index.html"), join(out, "index.html"));
  },
};

describe.skipIf(!RUN)("polyrnn bundled into a web page, in Chromium", () => {
  const work = tempDir("polyrnn-library-browser-");
  const project = join(work, "project");
  const site = join(work, "site");
  const servers: Server[] = [];
  let plain = "";
  let isolated = "";
  let devServer: { close(): Promise<void> } | undefined;
  /** The Vite dev server's URL (it serves the project's sources, pre-bundling polyrnn on its own). */
  let dev = "";
  let browser: Browser | undefined;
  const expected: Record<string, string> = {};
  let hardwareConcurrency = 1;

  beforeAll(async () => {
    const pkgDir = installPacked(npmPack(work), project);
    cpSync(APP, project, { recursive: true });

    for (const [bundler, build] of Object.entries(BUILDS)) {
      const out = join(site, bundler);
      await build(project, out);
      cpSync(join(pkgDir, "models/bach.safetensors"), join(out, "bach.safetensors"));
    }
    cpSync(join(pkgDir, "models/bach.safetensors"), join(project, "bach.safetensors"));
    // Vite's dev server, with no configuration (it serves the project itself).
    const vite = await import("vite");
    const server = await vite.createServer({
      root: project,
      configFile: false,
      logLevel: "silent",
      server: { host: "127.0.0.1", port: 0 },
    });
    await server.listen();
    devServer = server;
    dev = (server.resolvedUrls?.local[0] ?? "").replace(/\/$/, "");

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
    await devServer?.close();
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

  /** What a page shows: the kernels it got and their threads (0: as many as the page may use). */
  interface Case {
    bundler: Bundler | "vite dev";
    isolated: boolean;
    /** `?wasm=` of the page (esbuild copies no .wasm files: the page passes where it put them). */
    wasm?: string;
    kernels: "reference" | "wasm";
    threads: "one" | "all";
    notice?: RegExp;
  }
  const CASES: [string, Case][] = [
    [
      "esbuild, no special headers, .wasm not copied: the reference kernels, with a notice",
      {
        bundler: "esbuild",
        isolated: false,
        kernels: "reference",
        threads: "one",
        notice: /reference kernels \(slow\).*HTTP 404.*wasmUrl/,
      },
    ],
    [
      "esbuild, no special headers, wasmUrl: the WebAssembly kernels on one thread, no DataCloneError",
      {
        bundler: "esbuild",
        isolated: false,
        wasm: "static/wasm/",
        kernels: "wasm",
        threads: "one",
        notice: /one thread.*cross-origin isolated/,
      },
    ],
    [
      "esbuild, COOP/COEP: the WebAssembly kernels on several threads",
      { bundler: "esbuild", isolated: true, wasm: "static/wasm/", kernels: "wasm", threads: "all" },
    ],
    [
      "Vite, no special headers: finds its .wasm assets on its own; one thread",
      { bundler: "vite", isolated: false, kernels: "wasm", threads: "one", notice: /one thread/ },
    ],
    ["Vite, COOP/COEP: threads", { bundler: "vite", isolated: true, kernels: "wasm", threads: "all" }],
    [
      "webpack, no special headers: emits its .wasm assets on its own; one thread",
      { bundler: "webpack", isolated: false, kernels: "wasm", threads: "one", notice: /one thread/ },
    ],
    ["webpack, COOP/COEP: threads", { bundler: "webpack", isolated: true, kernels: "wasm", threads: "all" }],
    [
      "Rollup with the README's plugins, no special headers: the WebAssembly kernels on one thread",
      { bundler: "rollup", isolated: false, kernels: "wasm", threads: "one", notice: /one thread/ },
    ],
    ["Rollup, COOP/COEP: threads", { bundler: "rollup", isolated: true, kernels: "wasm", threads: "all" }],
    [
      "Vite's dev server, no configuration: the WebAssembly kernels",
      { bundler: "vite dev", isolated: false, kernels: "wasm", threads: "one", notice: /one thread/ },
    ],
  ];

  it.each(CASES)("%s", async (_name, c) => {
    const query = c.wasm ? `?wasm=${c.wasm}` : "";
    const url =
      c.bundler === "vite dev" ? `${dev}/` : `${c.isolated ? isolated : plain}/${c.bundler}/${query}`;
    const { result, errors } = await open(url);
    expect(errors).toEqual([]); // no DataCloneError, nothing thrown
    expect(result.crossOriginIsolated).toBe(c.isolated);
    if (c.kernels === "reference") expect(result.kernels).toBe("reference");
    else expect(result.kernels).toMatch(/^wasm-/);
    expect(result.threads).toBe(c.threads === "one" ? 1 : Math.min(4, hardwareConcurrency));
    // A notice whenever the page gets less than it asked for (more than one thread needs more than one core).
    if (c.notice && (c.kernels === "reference" || hardwareConcurrency > 1)) {
      expect(result.notices.join("\n")).toMatch(c.notice);
    } else {
      expect(result.notices).toEqual([]);
    }
    // The music is what Node makes with the same seed on the same kernels, and the same again with the
    // kernels reused for a second call.
    expect(result.sequence.notes?.length ?? 0).toBeGreaterThan(0);
    expect(JSON.stringify(result.sequence)).toBe(expected[c.kernels]);
    expect(result.same).toBe(true);
  });
});
