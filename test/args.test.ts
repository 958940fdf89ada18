import { describe, expect, it } from "vitest";
import { formatHelp, parseArgs } from "../src/cli/args.js";
import { UsageError } from "../src/errors.js";

const TABLE = {
  input: { type: "string", required: true, help: "in" },
  eval_ratio: { type: "float", default: 0.1, help: "ratio" },
  num_steps: { type: "int", default: 128, help: "steps" },
  recursive: { type: "bool", default: false, help: "rec" },
} as const;

describe("absl-style flags", () => {
  it("accepts --flag=value and --flag value", () => {
    const a = parseArgs(["--input=x", "--eval_ratio=0.25", "--num_steps", "64"], TABLE);
    expect(a.flags).toEqual({ input: "x", eval_ratio: 0.25, num_steps: 64, recursive: false });
  });
  it("booleans: --flag, --noflag, --flag=false, --flag true", () => {
    expect(parseArgs(["--input=x", "--recursive"], TABLE).flags.recursive).toBe(true);
    expect(parseArgs(["--input=x", "--recursive", "--norecursive"], TABLE).flags.recursive).toBe(false);
    expect(parseArgs(["--input=x", "--recursive=false"], TABLE).flags.recursive).toBe(false);
    expect(parseArgs(["--input=x", "--recursive", "true"], TABLE).flags.recursive).toBe(true);
    expect(parseArgs(["--input=x", "--recursive", "pos"], TABLE).positionals).toEqual(["pos"]);
  });
  it("refuses unknown flags, listing the valid ones, and bad values", () => {
    expect(() => parseArgs(["--input=x", "--nope=1"], TABLE)).toThrow(
      new UsageError("unknown flag --nope; valid flags: --input, --eval_ratio, --num_steps, --recursive"),
    );
    expect(() => parseArgs(["--input=x", "--num_steps=1.5"], TABLE)).toThrow(
      /--num_steps takes a whole number/,
    );
    expect(() => parseArgs(["--input=x", "--eval_ratio=abc"], TABLE)).toThrow(/--eval_ratio takes a number/);
    expect(() => parseArgs(["--input=x", "--recursive=maybe"], TABLE)).toThrow(/takes true or false/);
    expect(() => parseArgs(["--num_steps"], TABLE)).toThrow(/--num_steps needs a value/);
    expect(() => parseArgs([], TABLE)).toThrow(/--input is required/);
  });
  it("--help skips the required check and the help text names every flag with its default", () => {
    expect(parseArgs(["--help"], TABLE).help).toBe(true);
    const text = formatHelp("cmd", "does things", TABLE);
    expect(text).toContain("--input=<string>\n      in (required)");
    expect(text).toContain("--eval_ratio=<float>\n      ratio (default: 0.1)");
    expect(text).toContain("--recursive\n      rec (default: false)");
  });
});
