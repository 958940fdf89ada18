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
  it("refuses a number below a flag's min, naming the flag, the bound and the value", () => {
    const table = {
      jobs: { type: "int", default: 2, min: 1, help: "jobs" },
      secs: { type: "float", default: 60, min: 0, help: "secs" },
    } as const;
    expect(parseArgs(["--jobs=1", "--secs=0"], table).flags).toEqual({ jobs: 1, secs: 0 });
    expect(() => parseArgs(["--jobs=0"], table)).toThrow(
      new UsageError("--jobs is 0: it must be a whole number of 1 or more"),
    );
    expect(() => parseArgs(["--secs", "-0.5"], table)).toThrow(
      new UsageError("--secs is -0.5: it must be a number of 0 or more"),
    );
  });
  it("refuses a number outside a flag's range (min to upTo) with the range, at either end", () => {
    const table = {
      port: { type: "int", default: 8080, min: 0, upTo: 65535, help: "port" },
      share: { type: "float", min: 0, upTo: 1, help: "share" },
    } as const;
    expect(parseArgs(["--port=65535", "--share=1"], table).flags).toEqual({ port: 65535, share: 1 });
    const range = new UsageError("--port is 65536: it must be a whole number from 0 to 65535");
    expect(() => parseArgs(["--port=65536"], table)).toThrow(range);
    expect(() => parseArgs(["--port=-1"], table)).toThrow(
      new UsageError("--port is -1: it must be a whole number from 0 to 65535"),
    );
    expect(() => parseArgs(["--share=1.5"], table)).toThrow(
      new UsageError("--share is 1.5: it must be a number from 0 to 1"),
    );
  });
  it("--help skips the required check and the help text names every flag with its default", () => {
    expect(parseArgs(["--help"], TABLE).help).toBe(true);
    const text = formatHelp("cmd", "does things", TABLE);
    expect(text).toContain("--input=<string>\n      in (required)");
    expect(text).toContain("--eval_ratio=<float>\n      ratio (default: 0.1)");
    expect(text).toContain("--recursive\n      rec (default: false)");
  });
});
