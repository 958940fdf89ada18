/**
 * Polyphony RNN's hyper-parameters (spec §4.1), from ONE table: each field's Magenta name, type, default
 * and range, from which come the `HParams` type, the defaults, Magenta's `--hparams` string syntax and
 * the JSON kept in bundle and checkpoint metadata. A new field is one row of `FIELDS`.
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

type Kind = "int" | "float" | "intList" | "bool";
/** The TypeScript type of each kind of value. */
interface KindValue {
  int: number;
  float: number;
  intList: number[];
  bool: boolean;
}
type Value = KindValue[Kind];

interface Field<K extends Kind = Kind> {
  /** Magenta's name (`--hparams`, JSON). */
  name: string;
  kind: K;
  default: KindValue[K];
  /** An error message for a value of the right type but out of range. */
  check: (v: KindValue[K]) => string | undefined;
}

/** A field of any kind. */
type AnyField = { [K in Kind]: Field<K> }[Kind];

const field = <K extends Kind>(f: Field<K>): Field<K> => f;
const positiveInt = (v: number) => (v >= 1 ? undefined : "must be ≥ 1");

/**
 * The hparams polyrnn implements, keyed by their `HParams` property, in Magenta's order. Each row's
 * comment is that property's documentation (`HParams` is converted as an interface of these rows).
 */
const FIELDS = {
  /**
   * Sequences per training or evaluation batch (Magenta's `batch_size`, default 64, 1 … 4096). The loss
   * is the mean over every real event of the batch, not per sequence.
   */
  batchSize: field({
    name: "batch_size",
    kind: "int",
    default: 64,
    check: (v) => positiveInt(v) ?? overLimit(v, LIMITS.batchSize),
  }),
  /**
   * Units of each LSTM layer, bottom first (Magenta's `rnn_layer_sizes`, default [256,256,256]): one or
   * more layers of at least 1 unit, within polyrnn's size limits (16 layers, 16,384 units a layer, 64 Mi
   * weights in all).
   */
  rnnLayerSizes: field({
    name: "rnn_layer_sizes",
    kind: "intList",
    default: [256, 256, 256],
    check: (v) =>
      v.length === 0
        ? "needs at least one layer"
        : v.every((n) => n >= 1)
          ? modelSizeProblem(v)
          : "sizes must be ≥ 1",
  }),
  /**
   * Probability of keeping each LSTM layer's output in training and evaluation (Magenta's
   * `dropout_keep_prob`, default 0.5, in (0, 1]; 1 turns dropout off). Generation never drops.
   */
  dropoutKeepProb: field({
    name: "dropout_keep_prob",
    kind: "float",
    default: 0.5,
    check: (v) => (v > 0 && v <= 1 ? undefined : "must be in (0, 1]"),
  }),
  /**
   * Gradient clipping: each gradient tensor is scaled down to this L2 norm when its norm is larger, tensor
   * by tensor as tf_slim does, not by the global norm (Magenta's `clip_norm`, default 5, ≥ 0; 0 turns
   * clipping off).
   */
  clipNorm: field({
    name: "clip_norm",
    kind: "float",
    default: 5,
    check: (v) => (v >= 0 ? undefined : "must be ≥ 0 (0 turns clipping off)"),
  }),
  /** Adam's step size (Magenta's `learning_rate`, default 0.001, > 0; β1 0.9, β2 0.999, ε 1e-8 fixed). */
  learningRate: field({
    name: "learning_rate",
    kind: "float",
    default: 0.001,
    check: (v) => (v > 0 ? undefined : "must be > 0"),
  }),
};

/**
 * Magenta's polyphony hparams (spec §4.1), camelCase; `--hparams` and JSON keep Magenta's snake_case names.
 *
 * @interface
 */
export type HParams = { [P in keyof typeof FIELDS]: KindValue[(typeof FIELDS)[P]["kind"]] };

type Key = keyof HParams;
const KEYS = Object.keys(FIELDS) as Key[];
const fieldOf = (key: Key): AnyField => FIELDS[key];

/** Magenta's config names that polyrnn accepts only at the value that turns them off. */
const NO_OPS: AnyField[] = [
  field({
    name: "attn_length",
    kind: "int",
    default: 0,
    check: (v) => (v === 0 ? undefined : "is not supported: polyrnn has no attention (only attn_length=0)"),
  }),
  field({
    name: "residual_connections",
    kind: "bool",
    default: false,
    check: (v) => (v ? "is not supported: polyrnn has no residual connections (only false)" : undefined),
  }),
  field({
    name: "use_cudnn",
    kind: "bool",
    default: false,
    check: (v) => (v ? "is not supported: polyrnn has no cuDNN LSTM (only false)" : undefined),
  }),
];

/** Every name Magenta's syntax takes: the implemented fields (with their property) and the no-ops. */
const BY_NAME = new Map<string, { field: AnyField; key?: Key }>([
  ...KEYS.map((key) => [fieldOf(key).name, { field: fieldOf(key), key }] as const),
  ...NO_OPS.map((f) => [f.name, { field: f }] as const),
]);

/** The names `--hparams` takes, for help texts: "batch_size, rnn_layer_sizes, …". */
export const HPARAM_NAMES = KEYS.map((key) => fieldOf(key).name).join(", ");

const VALID_NAMES = `${HPARAM_NAMES} (and Magenta's ${NO_OPS.map((f) => `${f.name}=${f.default}`).join(", ")}, accepted as no-ops)`;

function copyValue(v: Value): Value {
  return Array.isArray(v) ? [...v] : v;
}

function copyHParams(h: HParams): HParams {
  return Object.fromEntries(KEYS.map((key) => [key, copyValue(h[key])])) as HParams;
}

/** Magenta's default hparams of the polyphony model (3×256 LSTM, batch 64). */
export const DEFAULT_HPARAMS: HParams = Object.freeze(
  Object.fromEntries(
    KEYS.map((key) => {
      const v = copyValue(fieldOf(key).default);
      return [key, Array.isArray(v) ? Object.freeze(v) : v];
    }),
  ),
) as HParams;

const INT = /^[+-]?\d+$/;
const FLOAT = /^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/;

/** Parses one value of a field from Magenta's syntax; returns an error message on failure. */
function parseValue(f: AnyField, text: string): Value | string {
  const t = text.trim();
  switch (f.kind) {
    case "int":
      return INT.test(t) ? Number(t) : `expects an integer, got "${t}"`;
    case "float":
      return FLOAT.test(t) ? Number(t) : `expects a number, got "${t}"`;
    case "bool":
      if (t === "true" || t === "True") return true;
      if (t === "false" || t === "False") return false;
      return INT.test(t) ? Number(t) !== 0 : `expects true or false, got "${t}"`;
    case "intList": {
      if (!(t.startsWith("[") && t.endsWith("]"))) return `expects a list like [256,256], got "${t}"`;
      const inner = t.slice(1, -1).trim();
      const items = inner === "" ? [] : inner.split(",").map((s) => s.trim());
      if (!items.every((s) => INT.test(s))) return `expects a list of integers, got "${t}"`;
      return items.map(Number);
    }
  }
}

/** Magenta's syntax of one value: `64`, `0.001`, `[256,256]`, `false`. */
function formatValue(v: Value): string {
  return Array.isArray(v) ? `[${v.join(",")}]` : String(v);
}

/** Checks a typed value (from the string syntax or from JSON); returns an error message or undefined. */
function checkValue(f: AnyField, v: unknown): string | undefined {
  const isInt = (x: unknown) => typeof x === "number" && Number.isSafeInteger(x);
  switch (f.kind) {
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
  return (f.check as (v: Value) => string | undefined)(v as Value);
}

function assign(out: HParams, key: Key | undefined, v: Value): void {
  if (key === undefined) return; // an accepted no-op
  (out as Record<Key, Value>)[key] = copyValue(v);
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
    const entry = BY_NAME.get(name);
    if (!entry) throw new UsageError(`--hparams: unknown name "${name}"; valid names: ${VALID_NAMES}`);
    if (seen.has(name)) throw new UsageError(`--hparams: ${name} is set more than once`);
    seen.add(name);
    const parsed = parseValue(entry.field, pair.slice(eq + 1));
    const problem = typeof parsed === "string" ? parsed : checkValue(entry.field, parsed);
    if (problem !== undefined) throw new UsageError(`--hparams: ${name} ${problem}`);
    assign(out, entry.key, parsed as Value);
  }
  return out;
}

/** Magenta's syntax, every field: parseHParams(formatHParams(h)) equals h. */
export function formatHParams(h: HParams): string {
  return KEYS.map((key) => `${fieldOf(key).name}=${formatValue(h[key])}`).join(",");
}

/** Whether two hparams are the same in every field (as Magenta's syntax writes them). */
export function sameHParams(a: HParams, b: HParams): boolean {
  return formatHParams(a) === formatHParams(b);
}

/** The fields where `a` and `b` differ, by Magenta's names, each value in Magenta's syntax. */
export function hparamsDiff(a: HParams, b: HParams): { name: string; from: string; to: string }[] {
  return KEYS.map((key) => ({
    name: fieldOf(key).name,
    from: formatValue(a[key]),
    to: formatValue(b[key]),
  })).filter((d) => d.from !== d.to);
}

/** JSON with Magenta's snake_case names, for bundle and checkpoint metadata. */
export function hparamsToJson(h: HParams): string {
  return JSON.stringify(Object.fromEntries(KEYS.map((key) => [fieldOf(key).name, h[key]])));
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
    const entry = BY_NAME.get(name);
    if (!entry) {
      throw new PolyrnnError(`hparams metadata: unknown name "${name}"; valid names: ${VALID_NAMES}`);
    }
    const problem = checkValue(entry.field, value);
    if (problem !== undefined) throw new PolyrnnError(`hparams metadata: ${name} ${problem}`);
    assign(out, entry.key, value as Value);
  }
  for (const key of KEYS) {
    if (!Object.hasOwn(record, fieldOf(key).name)) {
      throw new PolyrnnError(`hparams metadata: ${fieldOf(key).name} is missing`);
    }
  }
  return out;
}
