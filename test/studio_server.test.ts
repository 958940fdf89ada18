/**
 * The Studio server (src/studio/server.ts) and `polyrnn studio`: what it serves, the headers that make
 * the page cross-origin isolated, and everything it must refuse — path traversal (raw, percent-encoded,
 * backslashes, absolute paths), foreign Host headers, methods other than GET/HEAD, files outside its lists.
 */
import { spawn } from "node:child_process";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { connect } from "node:net";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CheckpointManager } from "../src/io/checkpoint_files.js";
import { DEFAULT_BUNDLES } from "../src/io/model_files.js";
import { loadBundle } from "../src/model/bundle.js";
import { type StudioServer, startStudioServer } from "../src/studio/server.js";
import { ensureBuilt, ROOT, runCli, tempDir } from "./helpers/cli.js";

/** Sends a raw request line (no client-side normalisation of the path) and returns status, headers, body. */
function raw(port: number, target: string, extra = "", method = "GET") {
  return new Promise<{ status: number; head: string; body: string }>((resolve, reject) => {
    const sock = connect(port, "127.0.0.1");
    let data = "";
    sock.on("data", (d) => {
      data += d.toString("latin1");
    });
    sock.on("end", () => {
      const [head, ...rest] = data.split("\r\n\r\n");
      resolve({ status: Number(head.split(" ")[1]), head, body: rest.join("\r\n\r\n") });
    });
    sock.on("error", reject);
    sock.write(
      `${method} ${target} HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nConnection: close\r\n${extra}\r\n`,
    );
  });
}

const shippedDefault = DEFAULT_BUNDLES.find((u) => {
  try {
    readFileSync(u);
    return true;
  } catch {
    return false;
  }
});

let studio: StudioServer;
let runDir: string;
let bundleCopy: string;

beforeAll(async () => {
  ensureBuilt();
  const dir = tempDir("polyrnn-studio-server-");
  // A bundle given on the command line, and a run dir holding one checkpoint.
  const bundleBytes = readFileSync(new URL("../models/schubert.safetensors", import.meta.url));
  bundleCopy = join(dir, "mine.safetensors");
  writeFileSync(bundleCopy, bundleBytes);
  const b = loadBundle(bundleBytes);
  runDir = join(dir, "run");
  mkdirSync(join(runDir, "train"), { recursive: true });
  await new CheckpointManager(join(runDir, "train"), { keep: 5 }).save({
    step: 42,
    weights: b.weights,
    hparams: b.hparams,
  });
  studio = await startStudioServer({ port: 0, bundleFiles: [bundleCopy], runDirs: [runDir] });
});

afterAll(async () => {
  await studio?.close();
});

describe("studio server", () => {
  it("listens on loopback only by default", () => {
    const addr = studio.server.address();
    expect(typeof addr === "object" && addr?.address).toBe("127.0.0.1");
    expect(studio.url).toBe(`http://127.0.0.1:${studio.port}/`);
  });

  it("serves the page, its modules and the kernels with cross-origin isolation headers", async () => {
    for (const [path, type] of [
      ["/", "text/html"],
      ["/web/studio.css", "text/css"],
      ["/dist/studio/web/main.js", "text/javascript"],
      ["/dist/generate/polyphony.js", "text/javascript"],
      ["/wasm/kernels.wasm", "application/wasm"],
    ] as const) {
      const r = await fetch(new URL(path, studio.url));
      expect(r.status, path).toBe(200);
      expect(r.headers.get("content-type"), path).toContain(type);
      expect(r.headers.get("cross-origin-opener-policy")).toBe("same-origin");
      expect(r.headers.get("cross-origin-embedder-policy")).toBe("require-corp");
      expect(r.headers.get("content-security-policy")).toContain("default-src 'self'");
      expect(r.headers.get("x-content-type-options")).toBe("nosniff");
    }
    const html = await (await fetch(studio.url)).text();
    // Nothing from elsewhere: every src/href is a path on this server (or data:).
    for (const m of html.matchAll(/(?:src|href)="([^"]*)"/g)) expect(m[1]).toMatch(/^(\/|#|data:)/);
  });

  it("lists the models: command-line bundle and run dir first, then the shipped ones in generate's order", async () => {
    const list = (await (await fetch(new URL("/api/models", studio.url))).json()) as {
      id: string;
      name: string;
      kind: string;
      step?: number;
    }[];
    expect(list[0]).toMatchObject({ name: "mine.safetensors", kind: "bundle" });
    expect(list[1]).toMatchObject({ kind: "run", step: 42 });
    const shipped = list.filter((m) => m.kind === "shipped").map((m) => m.name);
    expect(shipped[0]).toBe(shippedDefault?.pathname.split("/").pop());
    // A run dir is served as a bundle of its newest checkpoint.
    const r = await fetch(new URL(`/api/models/${list[1].id}`, studio.url));
    const b = loadBundle(new Uint8Array(await r.arrayBuffer()));
    expect(b.step).toBe(42);
    const ex = (await (await fetch(new URL("/api/examples", studio.url))).json()) as { name: string }[];
    expect(ex.slice(0, 2).map((e) => e.name)).toEqual(["seed1.mid", "seed2.mid"]);
  });

  it("refuses path traversal in every spelling", async () => {
    const attempts = [
      "/../package.json",
      "/web/../package.json",
      "/web/../../../../etc/passwd",
      "/web/%2e%2e/package.json",
      "/web/%2E%2E/%2E%2E/etc/passwd",
      "/web/..%2fpackage.json",
      "/web/%2e%2e%2fpackage.json",
      "/dist/..%2F..%2Fpackage.json",
      "/dist/%2e%2e/package.json",
      "/web/..%5cpackage.json",
      "/web/..\\package.json",
      "/wasm/../package.json",
      "/wasm/%2e%2e%2fpackage.json",
      "//etc/passwd",
      "/web//etc/passwd",
      "/web/%2Fetc%2Fpasswd",
      "/etc/passwd",
      `/web/${encodeURIComponent(join(ROOT, "package.json"))}`,
      "/web/%00",
      "/web/%",
      "/dist/cli/polyrnn.js",
      "/dist/studio/server.js",
      "/dist/../src/studio/server.ts",
      "/api/models/../../package.json",
      "/api/models/99",
      "/api/examples/-1",
      "/api/examples/..%2f..%2fpackage.json",
      "/models/schubert.safetensors",
      "/package.json",
      "/.git/config",
      "http://127.0.0.1/etc/passwd",
      "../package.json",
      "*",
    ];
    for (const target of attempts) {
      const r = await raw(studio.port, target);
      expect(r.status, target).toBeGreaterThanOrEqual(400);
      expect(r.status, target).toBeLessThan(500);
      expect(r.body, target).not.toContain('"name": "polyrnn"');
      expect(r.body, target).not.toContain("root:");
      // (Node's parser answers a request target that is not a path itself, before our handler.)
      if (target.startsWith("/")) {
        expect(r.head.toLowerCase(), target).toContain("cross-origin-embedder-policy: require-corp");
      }
    }
  });

  it("refuses other methods, uploads and foreign Host headers", async () => {
    expect((await raw(studio.port, "/", "Content-Length: 3\r\n", "POST")).status).toBe(405);
    expect((await raw(studio.port, "/api/models", "", "PUT")).status).toBe(405);
    expect((await raw(studio.port, "/", "", "DELETE")).status).toBe(405);
    const rebind = await new Promise<number>((resolve, reject) => {
      const sock = connect(studio.port, "127.0.0.1");
      let data = "";
      sock.on("data", (d) => {
        data += d;
      });
      sock.on("end", () => resolve(Number(data.split(" ")[1])));
      sock.on("error", reject);
      sock.write("GET / HTTP/1.1\r\nHost: evil.example:80\r\nConnection: close\r\n\r\n");
    });
    expect(rebind).toBe(421);
    expect((await raw(studio.port, "/", "", "HEAD")).status).toBe(200);
  });
});

describe("polyrnn studio", () => {
  it("has --help and is listed by polyrnn --help", () => {
    const r = runCli("polyrnn", ["studio", "--help"]);
    expect(r.status).toBe(0);
    expect(r.stdout).toContain("--port");
    expect(r.stdout).toContain("--host");
    expect(r.stdout).toContain("--bundle_file");
    expect(r.stdout).toContain("--run_dir");
    expect(runCli("polyrnn", ["--help"]).stdout).toContain("studio");
  });

  it("names a bad --bundle_file and exits 1", () => {
    const r = runCli("polyrnn", ["studio", "--port=0", "--bundle_file=/nonexistent/x.safetensors"]);
    expect(r.status).toBe(1);
    expect(r.stderr).toContain("/nonexistent/x.safetensors");
  });

  it("prints a loopback address, serves the page, and stops on SIGTERM", async () => {
    ensureBuilt();
    const proc = spawn(process.execPath, [join(ROOT, "dist/cli/polyrnn.js"), "studio", "--port=0"], {
      cwd: ROOT,
    });
    try {
      const url = await new Promise<string>((resolve, reject) => {
        let out = "";
        proc.stdout.on("data", (d) => {
          out += d;
          const m = /http:\/\/\S+/.exec(out);
          if (m) resolve(m[0]);
        });
        proc.on("exit", (code) => reject(new Error(`exited ${code}`)));
      });
      expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/$/);
      expect((await fetch(url)).status).toBe(200);
    } finally {
      const exited = new Promise<number | null>((resolve) => proc.on("exit", (code) => resolve(code)));
      proc.kill("SIGTERM");
      expect(await exited).toBe(0);
    }
  });
});
