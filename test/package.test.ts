/**
 * The npm package as published: `npm pack` of this checkout — its size, what it ships and leaves out (the
 * benchmark models, the API reference built in docs/api), its exports, source maps and README links — and
 * a Node script in a fresh project with the tarball installed that trains a small model from MIDI files
 * with the exported API and generates from it (examples/library/train_and_generate.mjs).
 */
import { execFileSync } from "node:child_process";
import { cpSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { readMidi } from "../src/io/midi.js";
import { tinyPieceMidi } from "./browser/fixtures.js";
import { ROOT, tempDir } from "./helpers/cli.js";
import { installPacked, npmPack, type Packed } from "./helpers/pack.js";

const pkg = JSON.parse(readFileSync(join(ROOT, "package.json"), "utf8"));

/** Every target path of an exports/imports map (wildcards as prefixes). */
function targets(map: unknown): string[] {
  if (typeof map === "string") return [map];
  if (map && typeof map === "object") return Object.values(map).flatMap(targets);
  return [];
}

describe("the npm package", () => {
  const work = tempDir("polyrnn-package-");
  let packed: Packed;
  let shipped: Set<string>;

  beforeAll(() => {
    packed = npmPack(work);
    shipped = new Set(packed.files.map((f) => f.path));
  });

  it("is under 8 MB, ships the default models and the kernels, not the benchmark models", () => {
    expect(packed.size).toBeLessThan(8_000_000);
    for (const f of [
      "models/bach.safetensors",
      "models/schubert.safetensors",
      "wasm/kernels.wasm",
      "README.md",
    ]) {
      expect(shipped.has(f), f).toBe(true);
    }
    expect([...shipped].filter((f) => /bench-/.test(f))).toEqual([]);
  });

  it("leaves the API reference (docs/api, `npm run docs`), the training logs (docs/results/run-*) and the benchmark models out by its files rules", () => {
    // On a stub tree with package.json's "files": a checkout may not have docs/api built.
    const stub = join(work, "files-rules");
    const tree = [
      "dist/index.js",
      "docs/api/index.html",
      "docs/api/functions/polyrnn.generate.html",
      "docs/results/eval_bach.json",
      "docs/results/run-bach/train/metrics.jsonl",
      "models/bach.safetensors",
      "models/bench-small.safetensors",
    ];
    for (const f of tree) {
      mkdirSync(dirname(join(stub, f)), { recursive: true });
      writeFileSync(join(stub, f), "x");
    }
    writeFileSync(
      join(stub, "package.json"),
      JSON.stringify({ name: "stub", version: "0.0.0", files: pkg.files }),
    );
    const listed = JSON.parse(
      execFileSync("npm", ["pack", "--dry-run", "--json"], { cwd: stub, encoding: "utf8" }),
    )[0].files as { path: string }[];
    expect(listed.map((f) => f.path).sort()).toEqual([
      "dist/index.js",
      "docs/results/eval_bach.json",
      "models/bach.safetensors",
      "package.json",
    ]);
    expect([...shipped].filter((f) => f.startsWith("docs/api/"))).toEqual([]);
  });

  it("exports what it names, runs nothing at install, and says it has no side effects", () => {
    for (const t of [...targets(pkg.exports), ...targets(pkg.imports)]) {
      const path = t.replace(/^\.\//, "");
      if (path.endsWith("*"))
        expect(
          [...shipped].some((f) => f.startsWith(path.slice(0, -1))),
          t,
        ).toBe(true);
      else expect(shipped.has(path), t).toBe(true);
    }
    for (const s of ["prepare", "preinstall", "install", "postinstall"])
      expect(pkg.scripts[s], s).toBeUndefined();
    expect(pkg.sideEffects).toBe(false);
    expect(pkg.keywords.length).toBeGreaterThan(3);
  });

  it("ships source maps with their sources", () => {
    const maps = [...shipped].filter((f) => f.endsWith(".js.map"));
    expect(maps.length).toBeGreaterThan(20);
    for (const m of maps) {
      const map = JSON.parse(readFileSync(join(ROOT, m), "utf8"));
      expect(map.sourcesContent?.length, m).toBe(map.sources.length);
      expect(
        map.sourcesContent.every((s: unknown) => typeof s === "string" && s.length > 0),
        m,
      ).toBe(true);
    }
  });

  it("has README links to shipped files or the web only", () => {
    const readme = readFileSync(join(ROOT, "README.md"), "utf8");
    const links = [...readme.matchAll(/\]\(([^)\s]+)\)/g)].map((m) => m[1]);
    expect(links.length).toBeGreaterThan(5);
    for (const link of links) {
      if (/^(https?:|#|mailto:)/.test(link)) continue;
      const path = link.replace(/#.*$/, "").replace(/^\.\//, "");
      const ok = shipped.has(path) || [...shipped].some((f) => f.startsWith(`${path.replace(/\/$/, "")}/`));
      expect(ok, link).toBe(true);
    }
  });

  it("installed in a fresh project, trains from MIDI files with the exported API and generates", () => {
    const project = join(work, "project");
    const pkgDir = installPacked(packed, project);
    mkdirSync(join(project, "midi"));
    for (const k of [0, 1, 2]) writeFileSync(join(project, "midi", `piece_${k}.mid`), tinyPieceMidi(k));
    cpSync(join(ROOT, "examples/library/train_and_generate.mjs"), join(project, "train.mjs"));
    const out = execFileSync(process.execPath, ["train.mjs", "midi", "5"], {
      cwd: project,
      encoding: "utf8",
    });
    const r = JSON.parse(out.trim().split("\n").at(-1) as string);
    expect(r.step).toBe(5);
    expect(r.kernels).toMatch(/^wasm/);
    const music = readMidi(readFileSync(join(project, "generated.mid")));
    expect(music.notes.length).toBe(r.notes);
    // The subpath exports resolve from the project.
    const resolved = execFileSync(
      process.execPath,
      [
        "--input-type=module",
        "-e",
        `for (const s of ["polyrnn/package.json", "polyrnn/models/bach.safetensors", "polyrnn/wasm/kernels.wasm", "polyrnn/node"]) console.log(import.meta.resolve(s));`,
      ],
      { cwd: project, encoding: "utf8" },
    );
    expect(
      resolved
        .trim()
        .split("\n")
        .map((u) => new URL(u).pathname.slice(pkgDir.length + 1)),
    ).toEqual(["package.json", "models/bach.safetensors", "wasm/kernels.wasm", "dist/node.js"]);
    expect(readdirSync(join(pkgDir, "models")).filter((f) => f.startsWith("bench-"))).toEqual([]);
  });

  it("bundles only what a page imports (sideEffects: false)", async () => {
    const project = join(work, "treeshake");
    installPacked(packed, project);
    const esbuild = await import("esbuild");
    const size = async (code: string) => {
      writeFileSync(join(project, "entry.js"), code);
      const r = await esbuild.build({
        absWorkingDir: project,
        entryPoints: ["entry.js"],
        bundle: true,
        minify: true,
        format: "esm",
        platform: "browser",
        write: false,
        logLevel: "silent",
      });
      return r.outputFiles[0].text;
    };
    const small = await size(
      `import { encodeNoteSequence } from "polyrnn"; console.log(encodeNoteSequence);`,
    );
    const all = await size(`import * as p from "polyrnn"; console.log(p);`);
    expect(small.length).toBeLessThan(all.length / 10);
    expect(small).not.toMatch(/kernels\.wasm/);
    expect(all).toMatch(/kernels\.wasm/);
  });
});
