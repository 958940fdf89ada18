/**
 * The Studio's web server: the page (web/), the compiled browser modules (dist/), the WebAssembly kernels
 * (wasm/), and, read-only, the models and example primers it was started with. Nothing is uploaded:
 * dropped MIDI files and bundles are read inside the page.
 *
 *   const studio = await startStudioServer({ bundleFiles: ["my.safetensors"], runDirs: ["run"] });
 *   console.log(studio.url);   // http://127.0.0.1:8080/
 *
 * Safety. Only GET and HEAD. Static files are looked up under three fixed folders with every path segment
 * decoded and checked (no `..`, no encoded slash, no empty segment, no NUL or backslash) and the resolved
 * real path checked to stay inside its folder; models and examples are addressed by their index in a list
 * made at start-up, never by a path. Requests whose Host header is not the address we listen on are
 * refused (DNS rebinding), unless the server listens on a wildcard address. Every response carries the
 * cross-origin-isolation headers (COOP same-origin, COEP require-corp) that shared WebAssembly memory
 * needs, and a Content-Security-Policy that allows only our own origin.
 */
import { existsSync, readdirSync, realpathSync, statSync } from "node:fs";
import { readFile } from "node:fs/promises";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { basename, extname, isAbsolute, join, resolve, sep } from "node:path";
import { fileURLToPath } from "node:url";
import { PolyrnnError } from "../errors.js";
import { DEFAULT_BUNDLES, readBundleFile, readRunDir } from "../io/model_files.js";
import { encodeBundle } from "../model/bundle.js";
import { formatHParams } from "../model/hparams.js";

/** The package root (this file is src/studio/server.ts or dist/studio/server.js). */
export const PACKAGE_ROOT = fileURLToPath(new URL("../../", import.meta.url));

export interface StudioOptions {
  /** Default 127.0.0.1 (loopback only). */
  host?: string;
  /** Default 8080; 0 = any free port. */
  port?: number;
  /** Bundles given on the command line (offered first). */
  bundleFiles?: string[];
  /** Training folders given on the command line: their newest checkpoint, read at each request. */
  runDirs?: string[];
  /** Package root holding web/, dist/, wasm/, models/, examples/midi (default: this package). */
  root?: string;
}

export interface StudioModel {
  id: string;
  /** Shown in the page. */
  name: string;
  kind: "shipped" | "bundle" | "run";
  path: string;
}

export interface StudioServer {
  server: Server;
  url: string;
  host: string;
  port: number;
  models: StudioModel[];
  close(): Promise<void>;
}

const MIME: Record<string, string> = {
  ".html": "text/html; charset=utf-8",
  ".css": "text/css; charset=utf-8",
  ".js": "text/javascript; charset=utf-8",
  ".svg": "image/svg+xml",
  ".png": "image/png",
  ".wasm": "application/wasm",
  ".json": "application/json; charset=utf-8",
  ".mid": "audio/midi",
  ".midi": "audio/midi",
  ".safetensors": "application/octet-stream",
};

/** Headers on every response. */
export const SECURITY_HEADERS: Record<string, string> = {
  "Cross-Origin-Opener-Policy": "same-origin",
  "Cross-Origin-Embedder-Policy": "require-corp",
  "Cross-Origin-Resource-Policy": "same-origin",
  "X-Content-Type-Options": "nosniff",
  "Referrer-Policy": "no-referrer",
  "Cache-Control": "no-cache",
  "Content-Security-Policy": [
    "default-src 'self'",
    // WebAssembly compilation, and the kernels' worker threads (started from Blob URLs).
    "script-src 'self' 'wasm-unsafe-eval' blob:",
    "worker-src 'self' blob:",
    "style-src 'self'",
    "img-src 'self' data: blob:",
    "media-src 'self' blob:",
    "connect-src 'self'",
    "font-src 'self'",
    "object-src 'none'",
    "base-uri 'none'",
    "form-action 'none'",
    "frame-ancestors 'none'",
  ].join("; "),
};

/** Largest file the server sends (a 3×512 bundle is ~40 MB). */
const MAX_FILE_BYTES = 512 * 2 ** 20;

class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

/**
 * Splits a request path into decoded segments, refusing anything that could leave a folder:
 * `..` and `.` (raw or percent-encoded), empty segments (`//`), encoded slashes or backslashes, NUL,
 * and malformed percent-encoding. The query string is ignored.
 */
export function safeSegments(rawUrl: string): string[] {
  if (!rawUrl.startsWith("/")) throw new HttpError(400, "the request path must start with /");
  const path = rawUrl.split(/[?#]/, 1)[0];
  if (path === "/") return [];
  const parts = path.slice(1).split("/");
  return parts.map((raw) => {
    let seg: string;
    try {
      seg = decodeURIComponent(raw);
    } catch {
      throw new HttpError(400, "malformed percent-encoding");
    }
    if (seg === "" || seg === "." || seg === ".." || /[/\\\0]/.test(seg) || isAbsolute(seg)) {
      throw new HttpError(404, "not found");
    }
    return seg;
  });
}

/** A file under `dir` named by checked segments, or a 404; symbolic links may not lead outside. */
function fileUnder(dir: string, segments: string[]): string {
  const base = realpathSync(dir);
  const candidate = resolve(base, ...segments);
  if (!candidate.startsWith(base + sep)) throw new HttpError(404, "not found");
  let real: string;
  try {
    real = realpathSync(candidate);
  } catch {
    throw new HttpError(404, "not found");
  }
  if (!real.startsWith(base + sep) || !statSync(real).isFile()) throw new HttpError(404, "not found");
  return real;
}

function listModels(root: string, opts: StudioOptions): StudioModel[] {
  const models: StudioModel[] = [];
  for (const file of opts.bundleFiles ?? []) {
    models.push({ id: "", name: basename(file), kind: "bundle", path: resolve(file) });
  }
  for (const dir of opts.runDirs ?? []) {
    models.push({ id: "", name: `${basename(resolve(dir))} (run dir)`, kind: "run", path: resolve(dir) });
  }
  // Shipped bundles: the default order of `polyrnn generate` first, then any other in models/.
  const shipped = new Set<string>();
  const modelsDir = join(root, "models");
  const preferred = DEFAULT_BUNDLES.map((u) => join(modelsDir, basename(fileURLToPath(u))));
  const others = existsSync(modelsDir)
    ? readdirSync(modelsDir)
        .filter((n) => n.endsWith(".safetensors"))
        .sort()
        .map((n) => join(modelsDir, n))
    : [];
  for (const path of [...preferred, ...others]) {
    if (shipped.has(path) || !existsSync(path)) continue;
    shipped.add(path);
    models.push({ id: "", name: basename(path), kind: "shipped", path });
  }
  return models.map((m, i) => ({ ...m, id: String(i) }));
}

function listExamples(root: string): { name: string; path: string }[] {
  const dir = join(root, "examples", "midi");
  if (!existsSync(dir)) return [];
  return readdirSync(dir)
    .filter((n) => /\.midi?$/i.test(n))
    .sort((a, b) => {
      // seed1, seed2 … first: they are the primers.
      const sa = a.startsWith("seed") ? 0 : 1;
      const sb = b.startsWith("seed") ? 0 : 1;
      return sa - sb || a.localeCompare(b);
    })
    .map((name) => ({ name, path: join(dir, name) }));
}

/** A model's bytes as a bundle: a bundle file as it is, a run dir's newest checkpoint re-encoded. */
async function modelBytes(m: StudioModel): Promise<Uint8Array> {
  if (m.kind === "run") {
    const src = await readRunDir(m.path);
    return encodeBundle({
      weights: src.weights,
      hparams: src.hparams,
      step: src.step,
      description: `${basename(m.path)}, step ${src.step}`,
    });
  }
  const st = statSync(m.path);
  if (st.size > MAX_FILE_BYTES) throw new HttpError(413, `${m.name} is larger than the limit`);
  return readFile(m.path);
}

async function describeModel(m: StudioModel) {
  try {
    const src = m.kind === "run" ? await readRunDir(m.path) : await readBundleFile(m.path);
    return {
      id: m.id,
      name: m.name,
      kind: m.kind,
      hparams: formatHParams(src.hparams),
      layers: src.hparams.rnnLayerSizes,
      step: src.step,
      description: src.description,
    };
  } catch (e) {
    return { id: m.id, name: m.name, kind: m.kind, error: (e as Error).message };
  }
}

const LOOPBACK = new Set(["127.0.0.1", "localhost", "::1", "[::1]"]);
const WILDCARD = new Set(["0.0.0.0", "::", "[::]"]);

function hostAllowed(header: string | undefined, host: string): boolean {
  if (WILDCARD.has(host)) return true;
  if (!header) return false;
  const name = header.startsWith("[") ? header.slice(0, header.indexOf("]") + 1) : header.split(":")[0];
  const bare = name.toLowerCase();
  return LOOPBACK.has(bare) || bare === host.toLowerCase() || `[${host.toLowerCase()}]` === bare;
}

export async function startStudioServer(opts: StudioOptions = {}): Promise<StudioServer> {
  const root = resolve(opts.root ?? PACKAGE_ROOT);
  const host = opts.host ?? "127.0.0.1";
  for (const f of opts.bundleFiles ?? []) await readBundleFile(f); // fail at start, with the file name
  for (const d of opts.runDirs ?? []) await readRunDir(d);
  const models = listModels(root, opts);
  const examples = listExamples(root);
  const webDir = join(root, "web");
  const distDir = join(root, "dist");
  const wasmDir = join(root, "wasm");
  if (!existsSync(join(distDir, "studio", "web", "main.js"))) {
    throw new PolyrnnError(`${distDir} has no studio page modules: run npm run build first`);
  }

  async function route(req: IncomingMessage, res: ServerResponse): Promise<void> {
    if (req.method !== "GET" && req.method !== "HEAD") {
      res.setHeader("Allow", "GET, HEAD");
      throw new HttpError(405, "only GET and HEAD");
    }
    if (!hostAllowed(req.headers.host, host)) throw new HttpError(421, "unexpected Host header");
    const segs = safeSegments(req.url ?? "");
    const [first, ...rest] = segs;
    if (segs.length === 0) return sendFile(res, req, fileUnder(webDir, ["index.html"]));
    if (first === "web") return sendFile(res, req, fileUnder(webDir, rest));
    if (first === "dist") {
      // Only the browser's modules: JavaScript outside the command line and the server.
      if (
        !rest[rest.length - 1]?.endsWith(".js") ||
        rest[0] === "cli" ||
        rest.join("/") === "studio/server.js"
      )
        throw new HttpError(404, "not found");
      return sendFile(res, req, fileUnder(distDir, rest));
    }
    if (first === "wasm" && rest.length === 1 && /^kernels(-relaxed)?\.wasm$/.test(rest[0])) {
      return sendFile(res, req, fileUnder(wasmDir, rest));
    }
    if (first === "api") {
      if (rest.length === 1 && rest[0] === "models") {
        return sendJson(res, req, await Promise.all(models.map(describeModel)));
      }
      if (rest.length === 2 && rest[0] === "models") {
        const m = models.find((x) => x.id === rest[1]);
        if (!m) throw new HttpError(404, "no such model");
        let bytes: Uint8Array;
        try {
          bytes = await modelBytes(m);
        } catch (e) {
          if (e instanceof HttpError) throw e;
          throw new HttpError(500, (e as Error).message);
        }
        return send(res, req, 200, MIME[".safetensors"], bytes);
      }
      if (rest.length === 1 && rest[0] === "examples") {
        return sendJson(
          res,
          req,
          examples.map((e, i) => ({ id: String(i), name: e.name })),
        );
      }
      if (rest.length === 2 && rest[0] === "examples") {
        const e = examples[Number(rest[1])];
        if (!/^\d+$/.test(rest[1]) || !e) throw new HttpError(404, "no such example");
        return send(res, req, 200, MIME[".mid"], await readFile(e.path));
      }
    }
    throw new HttpError(404, "not found");
  }

  const server = createServer((req, res) => {
    for (const [k, v] of Object.entries(SECURITY_HEADERS)) res.setHeader(k, v);
    route(req, res).catch((e) => {
      const status = e instanceof HttpError ? e.status : 500;
      const message = e instanceof HttpError ? e.message : "internal error";
      if (!res.headersSent) send(res, req, status, "text/plain; charset=utf-8", Buffer.from(`${message}\n`));
      else res.destroy();
    });
  });
  // Nothing is uploaded: a request body is never read, and headers are capped by Node (16 KB).
  server.requestTimeout = 30_000;
  await new Promise<void>((ok, fail) => {
    server.once("error", fail);
    server.listen(opts.port ?? 8080, host, () => {
      server.off("error", fail);
      ok();
    });
  });
  const port = (server.address() as AddressInfo).port;
  const shown = WILDCARD.has(host) ? "127.0.0.1" : host.includes(":") ? `[${host}]` : host;
  return {
    server,
    url: `http://${shown}:${port}/`,
    host,
    port,
    models,
    close: () =>
      new Promise<void>((ok) => {
        server.closeAllConnections();
        server.close(() => ok());
      }),
  };
}

async function sendFile(res: ServerResponse, req: IncomingMessage, path: string): Promise<void> {
  const st = statSync(path);
  if (st.size > MAX_FILE_BYTES) throw new HttpError(413, "file too large");
  const type = MIME[extname(path).toLowerCase()] ?? "application/octet-stream";
  send(res, req, 200, type, await readFile(path));
}

function sendJson(res: ServerResponse, req: IncomingMessage, value: unknown): void {
  send(res, req, 200, MIME[".json"], Buffer.from(JSON.stringify(value)));
}

function send(
  res: ServerResponse,
  req: IncomingMessage,
  status: number,
  type: string,
  body: Uint8Array,
): void {
  res.statusCode = status;
  res.setHeader("Content-Type", type);
  res.setHeader("Content-Length", body.length);
  res.end(req.method === "HEAD" ? undefined : body);
}
