/** Every export of `polyrnn` and `polyrnn/node` has a TSDoc comment (what editors show and API docs list). */
import { join } from "node:path";
import ts from "typescript";
import { expect, it } from "vitest";
import { ROOT } from "./helpers/cli.js";

it("documents every export of the package's entry points", () => {
  const config = ts.readConfigFile(join(ROOT, "tsconfig.json"), ts.sys.readFile).config;
  const { options } = ts.parseJsonConfigFileContent(config, ts.sys, ROOT);
  const entries = ["src/index.ts", "src/node.ts"].map((f) => join(ROOT, f));
  const program = ts.createProgram(entries, { ...options, noEmit: true });
  const checker = program.getTypeChecker();
  const undocumented: string[] = [];
  let count = 0;
  for (const entry of entries) {
    const module = checker.getSymbolAtLocation(program.getSourceFile(entry) as ts.SourceFile) as ts.Symbol;
    for (const sym of checker.getExportsOfModule(module)) {
      count++;
      const target = sym.flags & ts.SymbolFlags.Alias ? checker.getAliasedSymbol(sym) : sym;
      if (ts.displayPartsToString(target.getDocumentationComment(checker)).trim() === "") {
        undocumented.push(`${sym.name} (${target.declarations?.[0]?.getSourceFile().fileName})`);
      }
    }
  }
  expect(count).toBeGreaterThan(200); // both entries, counted separately
  expect(undocumented).toEqual([]);
});
