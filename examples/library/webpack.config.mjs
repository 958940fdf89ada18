// webpack 5 configuration for a web page that imports polyrnn (app.js → public/app.js):
//
//   npm install polyrnn webpack webpack-cli
//   npx webpack --config webpack.config.mjs
//
// Nothing polyrnn-specific is needed: webpack picks the package's browser build (the `browser` condition
// of its `#wasm-loader` import) and emits the .wasm files it names with `new URL("…wasm", import.meta.url)`
// as assets next to app.js. test/library_browser.test.ts builds its page with this file.
import { resolve } from "node:path";

export default {
  mode: "production",
  entry: "./app.js",
  output: { path: resolve("public"), filename: "app.js" },
};
