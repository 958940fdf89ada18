// The committed wasm/kernels*.wasm must be what `npm run build:wasm` makes from assembly/ now, and the
// committed TypeScript view of their exports (src/kernels/wasm_exports.ts) what scripts/wasm_exports.mjs
// makes from assembly/ now.
//   npx vitest run test/wasm_artifact.test.ts
// The toolchain is the assemblyscript devDependency (pinned by package-lock.json, so every machine builds
// the same bytes); without it (a production install) the check is skipped with a message.
import { cpSync, readFileSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { describe, expect, it } from "vitest";
import { tempDir } from "./helpers/cli.js";

const BUILD_SCRIPT = fileURLToPath(new URL("../assembly/build.mjs", import.meta.url));
const WASM_DIR = new URL("../wasm/", import.meta.url);

function toolchainPresent(): boolean {
  try {
    createRequire(import.meta.url).resolve("assemblyscript/package.json");
    return true;
  } catch {
    return false;
  }
}

const present = toolchainPresent();
if (!present) {
  console.warn(
    "wasm_artifact: skipped — the assemblyscript devDependency is not installed (npm ci installs it)",
  );
}

describe.skipIf(!present)("committed WebAssembly kernels", () => {
  it("are byte-identical to a fresh build of assembly/ (run `npm run build:wasm` and commit wasm/ if not)", async () => {
    const specifier: string = pathToFileURL(BUILD_SCRIPT).href;
    const { buildWasm, TARGETS } = (await import(specifier)) as {
      buildWasm: () => Promise<Record<string, Uint8Array>>;
      TARGETS: Record<string, string[]>;
    };
    const built = await buildWasm();
    expect(Object.keys(built).sort()).toEqual(Object.keys(TARGETS).sort());
    for (const [name, bytes] of Object.entries(built)) {
      const committed = new Uint8Array(readFileSync(new URL(name, WASM_DIR)));
      expect(committed.length, `wasm/${name} size`).toBe(bytes.length);
      expect(Buffer.compare(Buffer.from(committed), Buffer.from(bytes)), `wasm/${name} is stale`).toBe(0);
    }
  });
});

describe("the TypeScript view of the kernels' exports (src/kernels/wasm_exports.ts)", async () => {
  const specifier: string = pathToFileURL(
    fileURLToPath(new URL("../scripts/wasm_exports.mjs", import.meta.url)),
  ).href;
  interface Fn {
    name: string;
    params: { name: string; as: string; js: string }[];
  }
  const { readExports, renderView, viewMismatch, checkView, VIEW } = (await import(specifier)) as {
    readExports: (entry?: string, base?: string) => Fn[];
    renderView: (fns: Fn[]) => string;
    viewMismatch: (have: string, want: string) => string | null;
    checkView: () => string | null;
    VIEW: string;
  };

  it("is what scripts/wasm_exports.mjs makes from assembly/ now (`npm run build` checks it too)", () => {
    expect(checkView()).toBeNull();
  });

  it("no longer matches when an exported signature changes in assembly/, and says which", () => {
    const base = tempDir("polyrnn-exports-");
    cpSync(fileURLToPath(new URL("../assembly/", import.meta.url)), join(base, "assembly"), {
      recursive: true,
    });
    const pointwise = join(base, "assembly/pointwise.ts");
    const before = "export function add(n: i32, x: usize, y: usize): void {";
    const source = readFileSync(pointwise, "utf8");
    expect(source).toContain(before);
    writeFileSync(
      pointwise,
      source.replace(before, "export function add(n: i32, x: usize, y: f32, z: usize): void {"),
    );
    const fns = readExports(join(base, "assembly/index.ts"), base);
    const add = fns.find((f) => f.name === "add");
    expect(add?.params.map((p) => `${p.name}: ${p.as} → ${p.js}`)).toEqual([
      "n: i32 → number",
      "x: usize → number",
      "y: f32 → number",
      "z: usize → number",
    ]);
    const problem = viewMismatch(readFileSync(VIEW, "utf8"), renderView(fns));
    expect(problem).toContain("- add(n: number, x: number, y: number): void;");
    expect(problem).toContain("+ add(n: number, x: number, y: number, z: number): void;");
    expect(problem).toContain(
      "+ /** assembly/pointwise.ts: add(n: i32, x: usize, y: f32, z: usize): void */",
    );
    expect(problem?.split("\n").filter((l) => /^ {2}[-+] /.test(l))).toHaveLength(6); // interface, params table
  });
});
