/**
 * The generation options in one table: each option's flag (the name of `polyrnn generate`'s flag and the
 * id of the Studio's field), type, default, valid range and help. The CLI's flags, the library's
 * `generate()`, the Studio's form and its worker all read it, and every value is checked here, so a
 * default, a range or a message is written once:
 *
 *   const settings = resolveGenerationSettings({ temperature: 0.8, seed: 1 });   // the rest: defaults
 *   checkOption("beamSize", 0);   // UsageError: --beam_size is 0: it must be a whole number of 1 or more
 *
 * Messages name the flag; the Studio shows its field's label in its place. How much work a request may
 * ask for (num_steps, outputs × beams × branches) is a limit, checked where the work starts (LIMITS).
 */
import { UsageError } from "../errors.js";
import { randomSeed } from "./rng.js";

/** What a number must be: whole or not, and its bounds (both inclusive). */
export interface NumberRange {
  whole: boolean;
  min?: number;
  max?: number;
}

interface OptionBase {
  /** The CLI flag (Magenta's name) and the Studio field's id. */
  flag: string;
  /** What it does (the CLI's --help). */
  help: string;
}

/** One row of the table: a number option (whole or not, with its range) or a boolean. */
export type GenerationOption =
  | (OptionBase & { type: "int" | "float"; default?: number; min?: number; max?: number })
  | (OptionBase & { type: "bool"; default: boolean });

/** Every generation option's value; GENERATION_OPTIONS gives each one's flag, default and range. */
export interface GenerationSettings {
  /** --num_outputs: how many pieces to generate (all in one batch). */
  numOutputs: number;
  /** --num_steps: the length in 16th-note steps, the primer included. */
  numSteps: number;
  /** --condition_on_primer: feed the primer to the model before generating. */
  conditionOnPrimer: boolean;
  /** --inject_primer_during_generation: copy the primer's notes into the new music, step by step. */
  injectPrimerDuringGeneration: boolean;
  /** --temperature: the logits are divided by it; 0 = always the likeliest event. */
  temperature: number;
  /** --beam_size: how many sequences the beam search keeps. */
  beamSize: number;
  /** --branch_factor: how many continuations each kept sequence samples per iteration. */
  branchFactor: number;
  /** --steps_per_iteration: events sampled between two prunings of the beam. */
  stepsPerIteration: number;
  /** --seed: the random seed; the same seed gives the same music. */
  seed: number;
  /** --exclude_primer: return only the new music, without the primer. */
  excludePrimer: boolean;
  /** --well_formed: draw only events that keep each step well formed (events/grammar.ts). */
  wellFormed: boolean;
}

/** The table: each option's flag, type, default, range and help, in the order of `--help`. */
export const GENERATION_OPTIONS = {
  numOutputs: {
    flag: "num_outputs",
    type: "int",
    default: 10,
    min: 1,
    help: "Number of MIDI files to generate.",
  },
  numSteps: {
    flag: "num_steps",
    type: "int",
    default: 128,
    min: 1,
    help: "Total length in 16th-note steps, primer included (128 = 8 bars).",
  },
  conditionOnPrimer: {
    flag: "condition_on_primer",
    type: "bool",
    default: false,
    help: "Feed the primer to the model before generating.",
  },
  injectPrimerDuringGeneration: {
    flag: "inject_primer_during_generation",
    type: "bool",
    default: true,
    help: "Copy the primer's notes into the generated music, step by step (harmonisation).",
  },
  temperature: {
    flag: "temperature",
    type: "float",
    default: 1.0,
    min: 0,
    help: "Randomness: logits are divided by it; 0 = always the likeliest event. When not given: the bundle's own, if it records one.",
  },
  beamSize: { flag: "beam_size", type: "int", default: 1, min: 1, help: "Beam search width." },
  branchFactor: {
    flag: "branch_factor",
    type: "int",
    default: 1,
    min: 1,
    help: "Samples per beam entry per iteration.",
  },
  stepsPerIteration: {
    flag: "steps_per_iteration",
    type: "int",
    default: 1,
    min: 1,
    help: "Model events per beam search iteration.",
  },
  seed: {
    flag: "seed",
    type: "int",
    help: "Random seed: the same seed gives the same files. Default: random (printed).",
  },
  excludePrimer: {
    flag: "exclude_primer",
    type: "bool",
    default: false,
    help: "Write only the new music, without the primer.",
  },
  wellFormed: {
    flag: "well_formed",
    type: "bool",
    default: true,
    help:
      "Draw only events that keep each step well formed, as every training piece is: pitches going down " +
      "within a step (a pitch once, or carried on and struck again), a pitch carried on only if it sounded " +
      "in the step before. " +
      "false = Magenta's sampler, which draws from every event (a step can then grow without end).",
  },
} as const satisfies {
  [K in keyof GenerationSettings]: GenerationOption & {
    type: GenerationSettings[K] extends boolean ? "bool" : "int" | "float";
  };
};

/** An option's name in the library (`numSteps`); its flag is GENERATION_OPTIONS[key].flag. */
export type GenerationKey = keyof GenerationSettings;

const option = (key: GenerationKey): GenerationOption => GENERATION_OPTIONS[key];

/** The option whose flag (Studio field id) is `flag`, if any. */
export function optionOfFlag(flag: string): GenerationKey | undefined {
  return (Object.keys(GENERATION_OPTIONS) as GenerationKey[]).find((k) => option(k).flag === flag);
}

/** A number option's range ("whole" for int options). */
export function rangeOf(key: GenerationKey): NumberRange {
  const o = option(key);
  if (o.type === "bool") throw new Error(`internal: --${o.flag} is not a number`);
  return { whole: o.type === "int", min: o.min, max: o.max };
}

/** What a value of this range must be: "a whole number of 1 or more", "a number from 0 to 5". */
export function describeRange(r: NumberRange): string {
  const bounds =
    r.min !== undefined && r.max !== undefined
      ? ` from ${r.min} to ${r.max}`
      : r.min !== undefined
        ? ` of ${r.min} or more`
        : r.max !== undefined
          ? ` up to ${r.max}`
          : "";
  return `${r.whole ? "a whole number" : "a number"}${bounds}`;
}

/** Whether `v` is a number of this range (finite; a safe integer when whole). */
function inRange(v: unknown, r: NumberRange): v is number {
  return (
    typeof v === "number" &&
    Number.isFinite(v) &&
    (!r.whole || Number.isSafeInteger(v)) &&
    (r.min === undefined || v >= r.min) &&
    (r.max === undefined || v <= r.max)
  );
}

/**
 * A number typed into a field or flag called `name`: `text` parsed and checked against `r`. Throws
 * UsageError "NAME is empty: enter …" or "NAME is TEXT: it must be …".
 */
export function numberFromText(name: string, text: string, r: NumberRange): number {
  if (text.trim() === "") throw new UsageError(`${name} is empty: enter ${describeRange(r)}`);
  const v = Number(text);
  if (!inRange(v, r)) throw new UsageError(`${name} is ${text}: it must be ${describeRange(r)}`);
  return v;
}

/** Throws UsageError ("--beam_size is 0: it must be a whole number of 1 or more") unless `value` is valid. */
export function checkOption(key: GenerationKey, value: unknown): void {
  const o = option(key);
  if (o.type === "bool") {
    if (typeof value !== "boolean") throw new UsageError(`--${o.flag} is ${value}: it must be true or false`);
    return;
  }
  const r = rangeOf(key);
  if (!inRange(value, r)) throw new UsageError(`--${o.flag} is ${value}: it must be ${describeRange(r)}`);
}

/** Checks every option of `settings` that is present (undefined ones are skipped). */
export function checkOptions(settings: Partial<Record<GenerationKey, unknown>>): void {
  for (const key of Object.keys(GENERATION_OPTIONS) as GenerationKey[]) {
    if (settings[key] !== undefined) checkOption(key, settings[key]);
  }
}

/**
 * The settings: the given values, checked, and the table's default for every one not given (a random
 * seed when there is none).
 */
export function resolveGenerationSettings(given: Partial<GenerationSettings>): GenerationSettings {
  checkOptions(given);
  const out: Record<string, number | boolean> = {};
  for (const key of Object.keys(GENERATION_OPTIONS) as GenerationKey[]) {
    const o = option(key);
    const fallback = "default" in o ? o.default : undefined;
    out[key] = given[key] ?? fallback ?? randomSeed(); // (only the seed has no default)
  }
  return out as unknown as GenerationSettings;
}
