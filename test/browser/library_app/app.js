// A web page that uses polyrnn as a package (test/library_browser.test.ts bundles it with esbuild, Vite,
// webpack and Rollup): loads the Bach bundle, creates kernels once, generates twice with them, and
// publishes what happened on window.result. `?wasm=URL` passes wasmUrl (for bundlers that do not copy the .wasm files).
import { createKernels, generate, loadBundle, noteSequenceToJson } from "polyrnn";

async function run() {
  const params = new URLSearchParams(location.search);
  const notices = [];
  const bytes = new Uint8Array(await (await fetch("bach.safetensors")).arrayBuffer());
  const bundle = loadBundle(bytes);
  const wasmUrl = params.get("wasm");
  const kernels = await createKernels("auto", {
    notice: (m) => notices.push(m),
    ...(wasmUrl ? { wasmUrl: new URL(wasmUrl, location.href) } : {}),
  });
  const numSteps = Number(params.get("steps") ?? 32);
  const first = await generate({ bundle, numSteps, seed: 7, kernels });
  const again = await generate({ bundle, numSteps, seed: 7, kernels });
  kernels.dispose();
  return {
    kernels: kernels.name,
    threads: kernels.threads ?? 1,
    crossOriginIsolated: globalThis.crossOriginIsolated === true,
    notices,
    sequence: noteSequenceToJson(first),
    same: JSON.stringify(noteSequenceToJson(again)) === JSON.stringify(noteSequenceToJson(first)),
  };
}

run().then(
  (r) => {
    window.result = r;
  },
  (e) => {
    window.result = { error: `${e.name}: ${e.message}` };
  },
);
