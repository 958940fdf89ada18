/**
 * Command-line flags in the style of Magenta's absl flags, so Magenta's command lines work verbatim:
 * `--name=value` and `--name value`, booleans as `--name`, `--noname`, `--name=true|false`.
 * Unknown flags and bad values are errors that list what is valid; `--help` text is generated from
 * the same table, so it cannot drift from what is parsed.
 */
import { UsageError } from "../errors.js";
import { describeRange } from "../generate/options.js";
import { overLimit } from "../limits.js";

export type FlagType = "string" | "bool" | "int" | "float";

export interface FlagSpec {
  type: FlagType;
  help: string;
  default?: string | number | boolean;
  required?: boolean;
  /** Smallest value of a number flag; a smaller one is refused. */
  min?: number;
  /** Largest valid value of a number flag, the end of its range (not a limit); a larger one is refused. */
  upTo?: number;
  /** Largest value of a number flag (limits.ts); a larger one is refused naming the limit. */
  max?: number;
}

export type FlagTable = Record<string, FlagSpec>;

export type FlagValues<T extends FlagTable> = {
  [K in keyof T]: T[K]["type"] extends "bool"
    ? boolean
    : T[K]["type"] extends "int" | "float"
      ? number
      : T[K]["required"] extends true
        ? string
        : T[K] extends { default: string }
          ? string
          : string | undefined;
};

export interface ParsedArgs<T extends FlagTable> {
  flags: FlagValues<T>;
  positionals: string[];
  help: boolean;
  /** Flags given on the command line (as opposed to defaulted). */
  explicit: Set<string>;
}

function withinRange(name: string, spec: FlagSpec, n: number): number {
  // The generation options' wording ("--beam_size is 0: it must be a whole number of 1 or more"), so every
  // flag's range message reads alike.
  if ((spec.min !== undefined && n < spec.min) || (spec.upTo !== undefined && n > spec.upTo)) {
    const range = describeRange({ whole: spec.type === "int", min: spec.min, max: spec.upTo });
    throw new UsageError(`--${name} is ${n}: it must be ${range}`);
  }
  const problem = spec.max === undefined ? undefined : overLimit(n, spec.max);
  if (problem) throw new UsageError(`--${name} ${problem}`);
  return n;
}

function parseValue(name: string, spec: FlagSpec, raw: string): string | number | boolean {
  switch (spec.type) {
    case "bool": {
      const v = raw.toLowerCase();
      if (["true", "1", "yes"].includes(v)) return true;
      if (["false", "0", "no"].includes(v)) return false;
      throw new UsageError(`--${name} takes true or false, got "${raw}"`);
    }
    case "int": {
      if (!/^[-+]?\d+$/.test(raw.trim()))
        throw new UsageError(`--${name} takes a whole number, got "${raw}"`);
      if (!Number.isSafeInteger(Number(raw)))
        throw new UsageError(`--${name} takes a whole number below 2^53, got "${raw}"`);
      return withinRange(name, spec, Number(raw));
    }
    case "float": {
      const n = Number(raw);
      if (raw.trim() === "" || !Number.isFinite(n))
        throw new UsageError(`--${name} takes a number, got "${raw}"`);
      return withinRange(name, spec, n);
    }
    default:
      // An empty value where one is needed (`--run_dir=`) would silently mean the current folder.
      if (raw === "" && spec.default !== "")
        throw new UsageError(`--${name} is empty; give a value or leave the flag out`);
      return raw;
  }
}

export function parseArgs<T extends FlagTable>(argv: string[], table: T): ParsedArgs<T> {
  const values: Record<string, string | number | boolean | undefined> = {};
  for (const [name, spec] of Object.entries(table)) values[name] = spec.default;
  const positionals: string[] = [];
  let help = false;
  const explicit = new Set<string>();
  const unknown = (flag: string): never => {
    throw new UsageError(
      `unknown flag ${flag}; valid flags: ${Object.keys(table)
        .map((n) => `--${n}`)
        .join(", ")}`,
    );
  };

  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (arg === "--") {
      positionals.push(...argv.slice(i + 1));
      break;
    }
    if (arg === "--help" || arg === "-h" || arg === "--helpfull") {
      help = true;
      continue;
    }
    if (!arg.startsWith("-") || arg === "-") {
      positionals.push(arg);
      continue;
    }
    const body = arg.replace(/^--?/, "");
    const eq = body.indexOf("=");
    let name = eq >= 0 ? body.slice(0, eq) : body;
    let raw: string | undefined = eq >= 0 ? body.slice(eq + 1) : undefined;
    let spec = table[name];
    if (!spec && raw === undefined && name.startsWith("no") && table[name.slice(2)]?.type === "bool") {
      name = name.slice(2);
      spec = table[name];
      raw = "false";
    }
    if (!spec) unknown(`--${name}`);
    if (raw === undefined) {
      if (spec.type === "bool") {
        // `--flag true` is accepted too, but only when the next word is a boolean word.
        const next = argv[i + 1]?.toLowerCase();
        if (next !== undefined && ["true", "false"].includes(next)) raw = argv[++i];
        else raw = "true";
      } else {
        if (i + 1 >= argv.length) throw new UsageError(`--${name} needs a value`);
        raw = argv[++i];
      }
    }
    values[name] = parseValue(name, spec, raw);
    explicit.add(name);
  }

  if (!help) {
    for (const [name, spec] of Object.entries(table)) {
      if (spec.required && (values[name] === undefined || values[name] === "")) {
        throw new UsageError(`--${name} is required (${spec.help})`);
      }
    }
  }
  return { flags: values as FlagValues<T>, positionals, help, explicit };
}

export function formatHelp(usage: string, description: string, table: FlagTable): string {
  const lines = [`Usage: ${usage}`, "", description, "", "Flags:"];
  for (const [name, spec] of Object.entries(table)) {
    const kind = spec.type === "bool" ? "" : `=<${spec.type}>`;
    const extra = spec.required
      ? " (required)"
      : spec.default !== undefined && spec.default !== ""
        ? ` (default: ${spec.default})`
        : "";
    lines.push(`  --${name}${kind}`);
    lines.push(`      ${spec.help}${extra}`);
  }
  lines.push("  --help", "      Show this help and exit.");
  return lines.join("\n");
}
