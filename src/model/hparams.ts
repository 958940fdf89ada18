/**
 * Polyphony RNN's hyper-parameters (spec §4.1): the defaults, Magenta's `--hparams` string syntax, and the
 * JSON kept in checkpoint metadata.
 *
 *   parseHParams("batch_size=32,rnn_layer_sizes=[128,128]")   // the rest from DEFAULT_HPARAMS
 *   formatHParams(h)  // "batch_size=32,rnn_layer_sizes=[128,128],dropout_keep_prob=0.5,clip_norm=5,learning_rate=0.001"
 *
 * Like Magenta's HParams.parse: `name=value` pairs separated by commas, lists in brackets, values typed by
 * the field, unknown names and repeated names are errors. Magenta's other config names (attention,
 * residual connections, cuDNN) are accepted at the values that mean "off" so that Magenta command lines
 * still work, and refused otherwise: polyrnn does not implement them.
 */
import { PolyrnnError, UsageError } from "../errors.js";
import { LIMITS, modelSizeProblem, overLimit } from "../limits.js";
import type { HParams } from "./api.js";

/** Magenta's default hparams of the polyphony model (3×256 LSTM, batch 64). */
export const DEFAULT_HPARAMS: HParams = Object.freeze({
  batchSize: 64,
  rnnLayerSizes: Object.freeze([256, 256, 256]) as number[],
  dropoutKeepProb: 0.5,
  clipNorm: 5,
  learningRate: 0.001,
});

type Kind = "int" | "float" | "intList" | "bool";
type Value = number | number[] | boolean;

interface Field {
  kind: Kind;
  /** The HParams property, or absent for Magenta names accepted only at their "off" value. */
  key?: keyof HParams;
  /** Returns an error message for a value of the right type but out of range. */
  check: (v: Value) => string | undefined;
}

const positiveInt = (v: Value) => ((v as number) >= 1 ? undefined : "must be ≥ 1");

const FIELDS: Record<string, Field> = {
  batch_size: {
    kind: "int",
    key: "batchSize",
    check: (v) => positiveInt(v) ?? overLimit(v as number, LIMITS.batchSize),
  },
  rnn_layer_sizes: {
    kind: "intList",
    key: "rnnLayerSizes",
    check: (v) =>
      (v as number[]).length === 0
        ? "needs at least one layer"
        : (v as number[]).every((n) => n >= 1)
          ? modelSizeProblem(v as number[])
          : "sizes must be ≥ 1",
  },
  dropout_keep_prob: {
    kind: "float",
    key: "dropoutKeepProb",
    check: (v) => ((v as number) > 0 && (v as number) <= 1 ? undefined : "must be in (0, 1]"),
  },
  clip_norm: {
    kind: "float",
    key: "clipNorm",
    check: (v) => ((v as number) >= 0 ? undefined : "must be ≥ 0 (0 turns clipping off)"),
  },
  learning_rate: {
    kind: "float",
    key: "learningRate",
    check: (v) => ((v as number) > 0 ? undefined : "must be > 0"),
  },
  attn_length: {
    kind: "int",
    check: (v) => (v === 0 ? undefined : "is not supported: polyrnn has no attention (only attn_length=0)"),
  },
  residual_connections: {
    kind: "bool",
    check: (v) =>
      v === false ? undefined : "is not supported: polyrnn has no residual connections (only false)",
  },
  use_cudnn: {
    kind: "bool",
    check: (v) => (v === false ? undefined : "is not supported: polyrnn has no cuDNN LSTM (only false)"),
  },
};

const VALID_NAMES =
  "batch_size, rnn_layer_sizes, dropout_keep_prob, clip_norm, learning_rate " +
  "(and Magenta's attn_length=0, residual_connections=false, use_cudnn=false, accepted as no-ops)";

const INT = /^[+-]?\d+$/;
const FLOAT = /^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/;

/** Parses one value of a field from Magenta's syntax; returns an error message on failure. */
function parseValue(field: Field, text: string): Value | string {
  const t = text.trim();
  const bracketed = t.startsWith("[") && t.endsWith("]");
  switch (field.kind) {
    case "int":
      return INT.test(t) ? Number(t) : `expects an integer, got "${t}"`;
    case "float":
      return FLOAT.test(t) ? Number(t) : `expects a number, got "${t}"`;
    case "bool":
      if (t === "true" || t === "True") return true;
      if (t === "false" || t === "False") return false;
      return INT.test(t) ? Number(t) !== 0 : `expects true or false, got "${t}"`;
    case "intList": {
      if (!bracketed) return `expects a list like [256,256], got "${t}"`;
      const inner = t.slice(1, -1).trim();
      const items = inner === "" ? [] : inner.split(",").map((s) => s.trim());
      if (!items.every((s) => INT.test(s))) return `expects a list of integers, got "${t}"`;
      return items.map(Number);
    }
  }
}

/** Checks a typed value (from the string syntax or from JSON); returns an error message or undefined. */
function checkValue(field: Field, v: unknown): string | undefined {
  const isInt = (x: unknown) => typeof x === "number" && Number.isSafeInteger(x);
  switch (field.kind) {
    case "int":
      if (!isInt(v)) return `expects an integer, got ${JSON.stringify(v)}`;
      break;
    case "float":
      if (typeof v !== "number" || !Number.isFinite(v)) return `expects a number, got ${JSON.stringify(v)}`;
      break;
    case "bool":
      if (typeof v !== "boolean") return `expects true or false, got ${JSON.stringify(v)}`;
      break;
    case "intList":
      if (!Array.isArray(v) || !v.every(isInt)) return `expects a list of integers, got ${JSON.stringify(v)}`;
      break;
  }
  return field.check(v as Value);
}

function copyHParams(h: HParams): HParams {
  return { ...h, rnnLayerSizes: [...h.rnnLayerSizes] };
}

function assign(out: HParams, field: Field, v: Value): void {
  if (field.key === undefined) return; // an accepted no-op
  (out as unknown as Record<string, Value>)[field.key] = Array.isArray(v) ? [...v] : v;
}

/** Splits "a=1,b=[1,2]" at the commas outside brackets. */
function splitPairs(text: string): string[] {
  const parts: string[] = [];
  let depth = 0;
  let start = 0;
  for (let i = 0; i < text.length; i++) {
    const ch = text[i];
    if (ch === "[") depth++;
    else if (ch === "]") depth--;
    else if (ch === "," && depth === 0) {
      parts.push(text.slice(start, i));
      start = i + 1;
    }
  }
  parts.push(text.slice(start));
  // Magenta's parser allows one trailing comma.
  if (parts.length > 1 && parts[parts.length - 1].trim() === "") parts.pop();
  return parts;
}

/** Parses Magenta's `--hparams` syntax over `base`. Throws UsageError naming the bad pair. */
export function parseHParams(text: string, base: HParams = DEFAULT_HPARAMS): HParams {
  const out = copyHParams(base);
  if (text.trim() === "") return out;
  const seen = new Set<string>();
  for (const pair of splitPairs(text)) {
    const eq = pair.indexOf("=");
    if (eq < 0) throw new UsageError(`--hparams: "${pair.trim()}" is not name=value`);
    const name = pair.slice(0, eq).trim();
    if (!Object.hasOwn(FIELDS, name)) {
      throw new UsageError(`--hparams: unknown name "${name}"; valid names: ${VALID_NAMES}`);
    }
    const field = FIELDS[name];
    if (seen.has(name)) throw new UsageError(`--hparams: ${name} is set more than once`);
    seen.add(name);
    const parsed = parseValue(field, pair.slice(eq + 1));
    const problem = typeof parsed === "string" ? parsed : checkValue(field, parsed);
    if (problem !== undefined) throw new UsageError(`--hparams: ${name} ${problem}`);
    assign(out, field, parsed as Value);
  }
  return out;
}

/** Magenta's syntax, every field: parseHParams(formatHParams(h)) equals h. */
export function formatHParams(h: HParams): string {
  return [
    `batch_size=${h.batchSize}`,
    `rnn_layer_sizes=[${h.rnnLayerSizes.join(",")}]`,
    `dropout_keep_prob=${h.dropoutKeepProb}`,
    `clip_norm=${h.clipNorm}`,
    `learning_rate=${h.learningRate}`,
  ].join(",");
}

/** JSON with Magenta's snake_case names, for checkpoint metadata. */
export function hparamsToJson(h: HParams): string {
  return JSON.stringify({
    batch_size: h.batchSize,
    rnn_layer_sizes: h.rnnLayerSizes,
    dropout_keep_prob: h.dropoutKeepProb,
    clip_norm: h.clipNorm,
    learning_rate: h.learningRate,
  });
}

/**
 * Reads `hparamsToJson`'s output (e.g. from a checkpoint). Every implemented field must be present;
 * unknown names and bad values throw PolyrnnError.
 */
export function hparamsFromJson(text: string): HParams {
  let obj: unknown;
  try {
    obj = JSON.parse(text);
  } catch (e) {
    throw new PolyrnnError(`hparams metadata is not JSON: ${(e as Error).message}`);
  }
  if (typeof obj !== "object" || obj === null || Array.isArray(obj)) {
    throw new PolyrnnError("hparams metadata is not a JSON object");
  }
  const out = copyHParams(DEFAULT_HPARAMS);
  const record = obj as Record<string, unknown>;
  for (const [name, value] of Object.entries(record)) {
    if (!Object.hasOwn(FIELDS, name)) {
      throw new PolyrnnError(`hparams metadata: unknown name "${name}"; valid names: ${VALID_NAMES}`);
    }
    const problem = checkValue(FIELDS[name], value);
    if (problem !== undefined) throw new PolyrnnError(`hparams metadata: ${name} ${problem}`);
    assign(out, FIELDS[name], value as Value);
  }
  for (const [name, field] of Object.entries(FIELDS)) {
    if (field.key !== undefined && !Object.hasOwn(record, name)) {
      throw new PolyrnnError(`hparams metadata: ${name} is missing`);
    }
  }
  return out;
}
