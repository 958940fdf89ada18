/**
 * The API reference: `npm run docs` (TypeDoc, typedoc.json) builds it from the TSDoc comments of the
 * package's entry points, and TypeDoc's validation finds nothing to say: every export of `polyrnn` and
 * `polyrnn/node` and every member of them is documented (notDocumented), every type they use is exported
 * (notExported), and every {@link} resolves (invalidLink). Any warning fails.
 */
import { spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { expect, it } from "vitest";
import { ROOT, tempDir } from "./helpers/cli.js";

/** A TypeDoc warning, shortened: `<file>: <name>` for an undocumented export, else as TypeDoc says it. */
function shorten(warning: string): string {
  const undocumented = /^(\S+) \(\w+\), defined in polyrnn\/(\S+), does not have any documentation$/.exec(
    warning,
  );
  if (undocumented) return `${undocumented[2]}: ${undocumented[1].replace(/^polyrnn\./, "")}`;
  const unexported =
    /^(\S+), defined in polyrnn\/(\S+), is referenced by (\S+) but not included in the documentation$/.exec(
      warning,
    );
  if (unexported)
    return `${unexported[2]}: ${unexported[1]} (not exported; used by ${unexported[3].replace(/^polyrnn\./, "")})`;
  return warning;
}

it("`npm run docs` builds the API reference, every export documented", () => {
  const out = join(tempDir("polyrnn-docs-"), "api");
  const r = spawnSync("npm", ["run", "docs", "--", "--out", out], { cwd: ROOT, encoding: "utf8" });
  // biome-ignore lint/suspicious/noControlCharactersInRegex: TypeDoc colours its output
  const log = `${r.stdout}${r.stderr}`.replace(/\x1b\[[0-9;]*m/g, "");
  expect(r.status, log).toBe(0);
  const warnings = [...log.matchAll(/^\[warning\] (.*)$/gm)]
    .map((m) => m[1])
    .filter((w) => !/^Found \d+ errors and \d+ warnings$/.test(w))
    .map(shorten);
  expect(warnings, "exports without TSDoc (or types used but not exported)").toEqual([]);

  // The pages: one per entry point, with its module comment, and one per export with its comment.
  expect(readFileSync(join(out, "modules/polyrnn.html"), "utf8")).toMatch(/bytes and objects in/);
  expect(readFileSync(join(out, "modules/polyrnn_node.html"), "utf8")).toMatch(
    /helpers that read\s+and write files/,
  );
  expect(readFileSync(join(out, "functions/polyrnn_node.loadBundleFile.html"), "utf8")).toMatch(
    /A bundle file, or a/,
  );
  expect(readFileSync(join(out, "enums/polyrnn.KeyMode.html"), "utf8")).toMatch(/Dorian/);
});
