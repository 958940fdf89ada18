// The committed wasm/kernels*.wasm must be what `npm run build:wasm` makes from assembly/ now.
//   npx vitest run test/wasm_artifact.test.ts
// The toolchain is the assemblyscript devDependency (pinned by package-lock.json, so every machine builds
// the same bytes); without it (a production install) the check is skipped with a message.
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { fileURLToPath, pathToFileURL } from "node:url";
import { describe, expect, it } from "vitest";

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
