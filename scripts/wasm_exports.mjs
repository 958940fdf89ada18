#!/usr/bin/env node
// The TypeScript view of the WebAssembly kernels' exports, src/kernels/wasm_exports.ts, generated from the
// AssemblyScript sources: the functions assembly/index.ts exports (declared there or re-exported from its
// modules), their parameter names and types, read with the TypeScript parser (syntax only).
//
//   node scripts/wasm_exports.mjs --check   (run by `npm run build`) fails, naming what changed, when the
//                                           committed file no longer matches assembly/
//   node scripts/wasm_exports.mjs --write   rewrites it (after a change of an exported signature)
//
// With the view regenerated, tsc checks every call the wrapper (src/kernels/wasm.ts, wasm_pool.ts) makes:
// a parameter added, dropped or renamed in assembly/ fails the build, not a run. Each function's
// AssemblyScript signature is kept in a comment, so a type change that JavaScript cannot see (i32 to f32,
// both numbers) is a change of the file too.
import { readFileSync, writeFileSync } from "node:fs";
import { dirname, join, relative } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import ts from "typescript";

export const ROOT = join(dirname(fileURLToPath(import.meta.url)), "..");
export const ENTRY = join(ROOT, "assembly/index.ts");
export const VIEW = join(ROOT, "src/kernels/wasm_exports.ts");

const LINE_WIDTH = 110; // biome.json's
const NUMBER_TYPES = new Set([
  "i8",
  "i16",
  "i32",
  "u8",
  "u16",
  "u32",
  "f32",
  "f64",
  "isize",
  "usize",
  "bool",
]);
const BIGINT_TYPES = new Set(["i64", "u64"]);

let root = ROOT; // file names in messages and in the view are relative to it
const rel = (file) => relative(root, file).split("\\").join("/");

function where(file, sf, node) {
  const { line } = sf.getLineAndCharacterOfPosition(node.getStart(sf));
  return `${rel(file)}:${line + 1}`;
}

const parsed = new Map();
function parse(file) {
  let sf = parsed.get(file);
  if (!sf) {
    let text;
    try {
      text = readFileSync(file, "utf8");
    } catch (e) {
      throw new Error(`${rel(file)}: cannot read it (${e.code ?? e.message})`);
    }
    sf = ts.createSourceFile(file, text, ts.ScriptTarget.Latest, true, ts.ScriptKind.TS);
    parsed.set(file, sf);
  }
  return sf;
}

const isExported = (node) => (ts.getCombinedModifierFlags(node) & ts.ModifierFlags.Export) !== 0;

function moduleFile(from, sf, decl) {
  const spec = decl.moduleSpecifier.text;
  if (!spec.startsWith("."))
    throw new Error(`${where(from, sf, decl)}: re-export from "${spec}" is not a file`);
  return join(dirname(from), spec.endsWith(".ts") ? spec : `${spec}.ts`);
}

/** JavaScript's type for an AssemblyScript type (a TypeNode), or an error naming it. */
function jsType(file, sf, fnName, what, typeNode, isReturn) {
  if (!typeNode)
    throw new Error(
      `${where(file, sf, what)}: ${fnName}: ${isReturn ? "the return type" : "a parameter's type"} is not written out`,
    );
  const name = typeNode.getText(sf);
  if (isReturn && name === "void") return { as: name, js: "void" };
  if (NUMBER_TYPES.has(name)) return { as: name, js: "number" };
  if (BIGINT_TYPES.has(name)) return { as: name, js: "bigint" };
  throw new Error(`${where(file, sf, typeNode)}: ${fnName}: type ${name} cannot cross to JavaScript`);
}

/** The exported function `name` of `file` (declared there or re-exported), as { name, file, params, result }. */
function findFunction(file, name, exportedAs) {
  const sf = parse(file);
  for (const st of sf.statements) {
    if (ts.isFunctionDeclaration(st) && st.name?.text === name && isExported(st)) {
      return describeFunction(file, sf, st, exportedAs);
    }
    if (
      ts.isExportDeclaration(st) &&
      st.moduleSpecifier &&
      st.exportClause &&
      ts.isNamedExports(st.exportClause)
    ) {
      for (const spec of st.exportClause.elements) {
        if (spec.name.text === name)
          return findFunction(moduleFile(file, sf, st), (spec.propertyName ?? spec.name).text, exportedAs);
      }
    }
  }
  throw new Error(`${rel(file)}: exports no function ${name}`);
}

function describeFunction(file, sf, fn, exportedAs) {
  const name = fn.name.text;
  if (fn.typeParameters?.length) throw new Error(`${where(file, sf, fn)}: ${name} is generic`);
  const params = fn.parameters.map((p) => {
    const pname = p.name.getText(sf);
    if (p.dotDotDotToken || p.initializer || p.questionToken) {
      throw new Error(
        `${where(file, sf, p)}: ${name}: parameter ${pname} is optional (JavaScript passes every argument)`,
      );
    }
    return { name: pname, ...jsType(file, sf, name, p, p.type, false) };
  });
  return { name: exportedAs, file: rel(file), params, result: jsType(file, sf, name, fn, fn.type, true) };
}

/**
 * Every function the entry module exports, sorted by name, as { name, file, params: [{ name, as, js }],
 * result: { as, js } }; file names relative to `base` (the folder that holds assembly/).
 */
export function readExports(entry = ENTRY, base = ROOT) {
  root = base;
  parsed.clear();
  const sf = parse(entry);
  const out = [];
  for (const st of sf.statements) {
    if (ts.isFunctionDeclaration(st) && isExported(st)) {
      out.push(describeFunction(entry, sf, st, st.name.text));
    } else if (ts.isExportDeclaration(st)) {
      if (st.isTypeOnly) continue;
      if (!st.moduleSpecifier)
        throw new Error(
          `${where(entry, sf, st)}: a local export list; export functions by declaration or re-export`,
        );
      const from = moduleFile(entry, sf, st);
      if (!st.exportClause) {
        for (const s of parse(from).statements) {
          if (ts.isFunctionDeclaration(s) && isExported(s))
            out.push(findFunction(from, s.name.text, s.name.text));
        }
      } else if (ts.isNamedExports(st.exportClause)) {
        for (const spec of st.exportClause.elements) {
          if (spec.isTypeOnly) continue;
          out.push(findFunction(from, (spec.propertyName ?? spec.name).text, spec.name.text));
        }
      } else {
        throw new Error(`${where(entry, sf, st)}: a namespace re-export; export functions by name`);
      }
    } else if (isExported(st) && !ts.isInterfaceDeclaration(st) && !ts.isTypeAliasDeclaration(st)) {
      throw new Error(`${where(entry, sf, st)}: exports something other than a function`);
    }
  }
  const seen = new Set();
  for (const f of out) {
    if (seen.has(f.name)) throw new Error(`${rel(entry)}: exports ${f.name} twice`);
    seen.add(f.name);
  }
  return out.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}

/** `text` cut into lines of at most `width` characters after its commas, each prefixed with `prefix`. */
function wrap(text, prefix, width) {
  const lines = [];
  let line = prefix;
  for (const word of text.split(/(?<=,) /)) {
    if (line !== prefix && line.length + 1 + word.length > width) {
      lines.push(line);
      line = `${prefix}${word}`;
    } else line = line === prefix ? `${prefix}${word}` : `${line} ${word}`;
  }
  lines.push(line);
  return lines;
}

/** A list `open item, item close` on one line when it fits, else one item a line (as biome formats it). */
function list(indent, open, items, close, width = LINE_WIDTH) {
  const flat = `${indent}${open}${items.join(", ")}${close}`;
  if (flat.length <= width) return [flat];
  return [`${indent}${open}`, ...items.map((i) => `${indent}  ${i},`), `${indent}${close}`];
}

/** The text of src/kernels/wasm_exports.ts for these exports. */
export function renderView(fns) {
  const out = [
    "// Generated from assembly/index.ts by scripts/wasm_exports.mjs: do not edit. `npm run build` fails when",
    "// this file no longer matches assembly/; `node scripts/wasm_exports.mjs --write` rewrites it.",
    "",
    "/**",
    " * The functions wasm/kernels*.wasm export, as JavaScript calls them: integers, floats, bools and pointers",
    " * (byte offsets into the shared memory) are numbers. Above each, its AssemblyScript signature.",
    " */",
    "export interface WasmExports {",
  ];
  for (const f of fns) {
    const sig = `${f.file}: ${f.name}(${f.params.map((p) => `${p.name}: ${p.as}`).join(", ")}): ${f.result.as}`;
    const doc = wrap(sig, "   * ", LINE_WIDTH);
    if (doc.length === 1 && doc[0].length + 3 <= LINE_WIDTH) out.push(`  /** ${sig} */`);
    else out.push("  /**", ...doc, "   */");
    out.push(
      ...list(
        "  ",
        `${f.name}(`,
        f.params.map((p) => `${p.name}: ${p.js}`),
        `): ${f.result.js};`,
      ),
    );
  }
  out.push("}", "", "/** Each export's parameter names, in order. */", "export const WASM_EXPORT_PARAMS = {");
  for (const f of fns)
    out.push(
      ...list(
        "  ",
        `${f.name}: [`,
        f.params.map((p) => JSON.stringify(p.name)),
        "],",
      ),
    );
  out.push("} as const satisfies { readonly [F in keyof WasmExports]: readonly string[] };", "");
  return out.join("\n");
}

/** null when the view's text `have` is `want`, else a message naming the lines that differ. */
export function viewMismatch(have, want) {
  if (have === want) return null;
  const haveLines = new Set(have.split("\n"));
  const wantLines = new Set(want.split("\n"));
  const diff = [
    ...[...haveLines].filter((l) => !wantLines.has(l)).map((l) => `  - ${l.trim()}`),
    ...[...wantLines].filter((l) => !haveLines.has(l)).map((l) => `  + ${l.trim()}`),
  ];
  return (
    `${relative(ROOT, VIEW)} does not match the exports of ${relative(ROOT, ENTRY)}${have === "" ? " (it is missing)" : ""}:\n` +
    `${diff.slice(0, 20).join("\n")}${diff.length > 20 ? `\n  … ${diff.length - 20} more lines` : ""}\n` +
    "run `node scripts/wasm_exports.mjs --write`, then `npm run build`: tsc names the calls that no longer fit"
  );
}

/** The committed view against one generated from assembly/ now: null when equal, else what differs. */
export function checkView() {
  const want = renderView(readExports());
  let have = "";
  try {
    have = readFileSync(VIEW, "utf8");
  } catch {
    // missing: every line differs
  }
  return viewMismatch(have, want);
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const mode = process.argv[2];
  try {
    if (mode === "--write") {
      writeFileSync(VIEW, renderView(readExports()));
      console.log(`${rel(VIEW)} written from ${rel(ENTRY)}`);
    } else if (mode === "--check") {
      const problem = checkView();
      if (problem) {
        console.error(problem);
        process.exit(1);
      }
    } else {
      console.error("usage: node scripts/wasm_exports.mjs --check | --write");
      process.exit(2);
    }
  } catch (e) {
    console.error(`scripts/wasm_exports.mjs: ${e.message}`);
    process.exit(1);
  }
}
