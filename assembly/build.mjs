#!/usr/bin/env node
// Builds the WebAssembly kernels from assembly/index.ts:
//   npm run build:wasm          (= node assembly/build.mjs)
// writes wasm/kernels.wasm (WebAssembly SIMD) and wasm/kernels-relaxed.wasm (plus relaxed SIMD: fused
// multiply-add). Both files are committed, so users and browsers need no toolchain; the test
// test/wasm_artifact.test.ts rebuilds them in memory and fails when the committed ones are stale.
import { mkdir, writeFile } from "node:fs/promises";
import { dirname, join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";

export const ROOT = join(dirname(fileURLToPath(import.meta.url)), "..");
export const WASM_DIR = join(ROOT, "wasm");

// Imported shared memory (threads run on it), no runtime, no static data, no memory export.
const COMMON = [
  "assembly/index.ts",
  "--baseDir",
  ROOT,
  "-O3",
  "--noAssert",
  "--runtime",
  "stub",
  "--importMemory",
  "--noExportMemory",
  "--sharedMemory",
  "--initialMemory",
  "1",
  "--maximumMemory",
  "65536",
  "--enable",
  "simd",
  "--enable",
  "threads",
];

export const TARGETS = {
  "kernels.wasm": COMMON,
  "kernels-relaxed.wasm": [...COMMON, "--enable", "relaxed-simd"],
};

/** Compiles every target in memory: { "kernels.wasm": Uint8Array, ... }. */
export async function buildWasm() {
  const { default: asc } = await import("assemblyscript/asc");
  const out = {};
  for (const [name, args] of Object.entries(TARGETS)) {
    let binary = null;
    let log = "";
    const sink = {
      write: (s) => {
        log += s;
      },
    };
    const { error } = await asc.main([...args, "-o", name], {
      stdout: sink,
      stderr: sink,
      writeFile: (file, contents) => {
        if (file.endsWith(".wasm")) binary = contents;
      },
    });
    if (error || !binary) throw new Error(`asc failed for ${name}: ${error?.message ?? "no output"}\n${log}`);
    out[name] = binary;
  }
  return out;
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const built = await buildWasm();
  await mkdir(WASM_DIR, { recursive: true });
  for (const [name, bytes] of Object.entries(built)) {
    await writeFile(join(WASM_DIR, name), bytes);
    console.log(`wasm/${name}: ${bytes.length} bytes`);
  }
}
