/**
 * The one table of generation options (src/generate/options.ts): the CLI's flags, the library's
 * generate() and the Studio (test/studio_browser.test.ts checks its form) take their defaults, ranges and
 * messages from it.
 */
import { describe, expect, it } from "vitest";
import { GENERATE_FLAGS } from "../src/cli/generate.js";
import { UsageError } from "../src/errors.js";
import { generate } from "../src/generate/api.js";
import {
  checkOption,
  describeRange,
  GENERATION_OPTIONS,
  type GenerationKey,
  numberFromText,
  optionOfFlag,
  rangeOf,
  resolveGenerationSettings,
} from "../src/generate/options.js";
import type { Bundle } from "../src/model/bundle.js";

const KEYS = Object.keys(GENERATION_OPTIONS) as GenerationKey[];

describe("generation options", () => {
  it("every option is a `polyrnn generate` flag with the table's type, default and help", () => {
    for (const key of KEYS) {
      const o = GENERATION_OPTIONS[key];
      const flag = (GENERATE_FLAGS as Record<string, { type: string; default?: unknown; help: string }>)[
        o.flag
      ];
      expect(flag, o.flag).toBeDefined();
      expect(flag.type, o.flag).toBe(o.type);
      expect(flag.default, o.flag).toBe("default" in o ? o.default : undefined);
      expect(flag.help, o.flag).toBe(o.help);
      expect(optionOfFlag(o.flag)).toBe(key);
    }
    expect(optionOfFlag("output_dir")).toBeUndefined();
  });

  it("resolves to the table's defaults, a random seed when none is given, and keeps given values", () => {
    const a = resolveGenerationSettings({});
    for (const key of KEYS) {
      const o = GENERATION_OPTIONS[key];
      if ("default" in o) expect(a[key], key).toBe(o.default);
    }
    expect(Number.isSafeInteger(a.seed)).toBe(true);
    const b = resolveGenerationSettings({ temperature: 0, beamSize: 3, conditionOnPrimer: true, seed: 9 });
    expect([b.temperature, b.beamSize, b.conditionOnPrimer, b.seed]).toEqual([0, 3, true, 9]);
  });

  it("refuses values out of range with one message naming the flag", () => {
    const cases: [GenerationKey, unknown, string][] = [
      ["beamSize", 0, "--beam_size is 0: it must be a whole number of 1 or more"],
      ["numSteps", 2.5, "--num_steps is 2.5: it must be a whole number of 1 or more"],
      ["temperature", -1, "--temperature is -1: it must be a number of 0 or more"],
      ["temperature", Number.NaN, "--temperature is NaN: it must be a number of 0 or more"],
      ["seed", 2 ** 60, `--seed is ${2 ** 60}: it must be a whole number`],
      ["excludePrimer", "yes", "--exclude_primer is yes: it must be true or false"],
    ];
    for (const [key, value, message] of cases) {
      expect(() => checkOption(key, value)).toThrow(UsageError);
      expect(() => checkOption(key, value)).toThrow(message);
    }
    expect(() => checkOption("temperature", 0)).not.toThrow();
    expect(() => resolveGenerationSettings({ stepsPerIteration: 0 })).toThrow("--steps_per_iteration is 0");
  });

  it("phrases ranges and typed-in values the same way for every field", () => {
    expect(describeRange(rangeOf("temperature"))).toBe("a number of 0 or more");
    expect(describeRange({ whole: true, min: 20, max: 300 })).toBe("a whole number from 20 to 300");
    expect(describeRange({ whole: false, max: 5 })).toBe("a number up to 5");
    expect(numberFromText("“Beam size”", " 4 ", rangeOf("beamSize"))).toBe(4);
    expect(() => numberFromText("“Beam size”", "", rangeOf("beamSize"))).toThrow(
      "“Beam size” is empty: enter a whole number of 1 or more",
    );
    expect(() => numberFromText("“qpm”", "0", { whole: true, min: 20, max: 300 })).toThrow(
      "“qpm” is 0: it must be a whole number from 20 to 300",
    );
  });

  it("the library's generate() refuses a bad option before it runs anything", async () => {
    const bundle = { weights: [] } as unknown as Bundle; // never read: the options are checked first
    await expect(generate({ bundle, beamSize: 0 })).rejects.toThrow("--beam_size is 0");
    await expect(generate({ bundle, temperature: -2 })).rejects.toThrow("--temperature is -2");
  });
});
