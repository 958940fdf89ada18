// Rollup configuration for a web page that imports polyrnn (app.js → public/app.js):
//
//   npm install polyrnn rollup @rollup/plugin-node-resolve @rollup/plugin-commonjs
//   npx rollup --config rollup.config.mjs
//
// @rollup/plugin-node-resolve with `browser: true` picks the package's browser build, and
// @rollup/plugin-commonjs reads its one CommonJS dependency (saxes, the MusicXML parser). Rollup leaves
// `new URL("…", import.meta.url)` alone, so the files the package names that way (its .wasm kernels)
// would be looked for next to the bundle and not found; the small plugin below copies each such file
// into the output as an asset and points the URL at the copy, as webpack and Vite do on their own.
// test/library_browser.test.ts builds its page with this file.
import { readFile } from "node:fs/promises";
import { basename } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import commonjs from "@rollup/plugin-commonjs";
import { nodeResolve } from "@rollup/plugin-node-resolve";

/** Emits each file named by `new URL("./relative/path", import.meta.url)` as an asset of the build. */
export function importMetaUrlAssets() {
  return {
    name: "import-meta-url-assets",
    async transform(code, id) {
      if (!code.includes("import.meta.url")) return null;
      const calls = []; // in source order
      const walk = (node) => {
        if (!node || typeof node !== "object") return;
        if (Array.isArray(node)) return node.forEach(walk);
        const [path, base] =
          node.type === "NewExpression" && node.callee.name === "URL" ? node.arguments : [];
        const isMetaUrl = base?.type === "MemberExpression" && base.object.type === "MetaProperty";
        if (isMetaUrl && /^\.\.?\//.test(path?.value)) calls.push({ node, path: path.value });
        else for (const key in node) walk(node[key]);
      };
      walk(this.parse(code));
      let out = code;
      for (const { node, path } of calls.reverse()) {
        const file = fileURLToPath(new URL(path, pathToFileURL(id)));
        const ref = this.emitFile({ type: "asset", name: basename(file), source: await readFile(file) });
        out = `${out.slice(0, node.start)}new URL(import.meta.ROLLUP_FILE_URL_${ref})${out.slice(node.end)}`;
      }
      return calls.length ? { code: out, map: null } : null;
    },
  };
}

export default {
  input: "app.js",
  output: { dir: "public", format: "es" },
  plugins: [nodeResolve({ browser: true }), commonjs(), importMetaUrlAssets()],
};
