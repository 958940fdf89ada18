/**
 * One training example as a `tf.train.SequenceExample` (spec §3.3), the record format of Magenta's
 * `*_poly_tracks.tfrecord` files: no context, feature_lists
 *   "inputs": one Feature(float_list) per step, the 259-float one-hot of the input event;
 *   "labels": one Feature(int64_list) per step holding the single label id.
 *
 * Wire layout (tensorflow/core/example/{example,feature}.proto):
 *   SequenceExample { Features context = 1; FeatureLists feature_lists = 2; }
 *   FeatureLists    { map<string, FeatureList> feature_list = 1; }   entry = { key = 1; value = 2; }
 *   FeatureList     { repeated Feature feature = 1; }
 *   Feature         { oneof { BytesList bytes_list = 1; FloatList float_list = 2; Int64List int64_list = 3; } }
 *   FloatList / Int64List { repeated float / int64 value = 1 [packed = true]; }
 * Map entries are written sorted by key ("inputs" before "labels"), as protobuf's deterministic
 * serialization does, so identical examples give identical bytes.
 */
import { ProtobufError } from "../errors.js";
import { NUM_CLASSES, PolyphonicSequenceError } from "../events/codec.js";
import { ProtoReader, ProtoWriter, WireType } from "../io/protobuf.js";

const { VARINT, LEN, FIXED32 } = WireType;

export interface SequenceExampleIds {
  labels: number[];
  /** Input event ids; on disk each is a one-hot float list of NUM_CLASSES. */
  inputs?: number[];
}

function checkIds(name: string, ids: readonly number[]): void {
  for (let i = 0; i < ids.length; i++) {
    const id = ids[i];
    if (!Number.isInteger(id) || id < 0 || id >= NUM_CLASSES) {
      throw new PolyphonicSequenceError(`${name}[${i}] = ${id} is not an event id (0…${NUM_CLASSES - 1})`);
    }
  }
}

/** Feature{float_list{value: 259 zeros}} as bytes, and where its floats begin. */
let oneHotTemplate: { bytes: Uint8Array; floatsAt: number } | undefined;
function getOneHotTemplate(): { bytes: Uint8Array; floatsAt: number } {
  if (!oneHotTemplate) {
    const w = new ProtoWriter();
    w.message(2, (fl) => {
      fl.tag(1, LEN);
      fl.bytes(new Uint8Array(4 * NUM_CLASSES));
    });
    const bytes = w.finish();
    oneHotTemplate = { bytes, floatsAt: bytes.length - 4 * NUM_CLASSES };
  }
  return oneHotTemplate;
}

function writeInputs(w: ProtoWriter, ids: readonly number[]): void {
  const { bytes, floatsAt } = getOneHotTemplate();
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  for (const id of ids) {
    view.setFloat32(floatsAt + 4 * id, 1, true);
    w.bytesField(1, bytes);
    view.setFloat32(floatsAt + 4 * id, 0, true);
  }
}

function writeLabels(w: ProtoWriter, ids: readonly number[]): void {
  for (const id of ids) {
    w.message(1, (feature) =>
      feature.message(3, (list) =>
        list.message(1, (packed) => {
          packed.varint(id);
        }),
      ),
    );
  }
}

export function encodeSequenceExample(ex: SequenceExampleIds): Uint8Array {
  checkIds("labels", ex.labels);
  const { inputs } = ex;
  if (inputs) {
    checkIds("inputs", inputs);
    if (inputs.length !== ex.labels.length) {
      throw new PolyphonicSequenceError(
        `inputs and labels differ in length (${inputs.length} vs ${ex.labels.length})`,
      );
    }
  }
  const w = new ProtoWriter();
  w.message(2, (lists) => {
    if (inputs) {
      lists.message(1, (entry) => {
        entry.string(1, "inputs");
        entry.message(2, (fl) => writeInputs(fl, inputs));
      });
    }
    lists.message(1, (entry) => {
      entry.string(1, "labels");
      entry.message(2, (fl) => writeLabels(fl, ex.labels));
    });
  });
  return w.finish();
}

class NotASequenceExample extends ProtobufError {
  constructor(what: string) {
    super(`not a SequenceExample: ${what}`);
  }
}

function expectWire(what: string, got: number, want: number): void {
  if (got !== want) throw new NotASequenceExample(`${what} has wire type ${got}, expected ${want}`);
}

/** Each FeatureList's reader, by key (a repeated key: the last one wins, as protobuf maps do). */
function readFeatureLists(bytes: Uint8Array): Map<string, ProtoReader> {
  const lists = new Map<string, ProtoReader>();
  const top = new ProtoReader(bytes);
  top.fields((field, wt) => {
    if (field !== 2) return false; // context (1) and unknown fields are skipped.
    expectWire("feature_lists", wt, LEN);
    // A message field that occurs twice is merged: its map entries add up.
    const fls = top.sub();
    fls.fields((f, w) => {
      if (f !== 1) return false;
      expectWire("feature_list entry", w, LEN);
      const entry = fls.sub();
      let key = "";
      let value = new ProtoReader(bytes, 0, 0); // an absent value is an empty FeatureList
      entry.fields((ef, ew) => {
        if (ef === 1) {
          expectWire("feature_list key", ew, LEN);
          key = entry.string();
        } else if (ef === 2) {
          expectWire("feature_list value", ew, LEN);
          value = entry.sub();
        } else {
          return false;
        }
        return true;
      });
      lists.set(key, value);
      return true;
    });
    return true;
  });
  return lists;
}

/** Calls `onFeature(reader, wireType, kind)` for each step's Feature, after its oneof is resolved. */
function eachFeature(
  name: string,
  list: ProtoReader,
  onFeature: (step: number, f: ProtoReader) => void,
): void {
  let step = 0;
  list.fields((field, wt) => {
    if (field !== 1) return false;
    expectWire(`${name} feature`, wt, LEN);
    onFeature(step++, list.sub());
    return true;
  });
}

const KIND_NAMES = ["", "bytes_list", "float_list", "int64_list"];

/**
 * The value readers of one Feature's list, for the oneof member that wins (the last one present; a
 * member that occurs twice is merged, i.e. its values concatenate).
 */
function featureValues(f: ProtoReader): { kind: number; parts: ProtoReader[] } {
  let kind = 0;
  let parts: ProtoReader[] = [];
  f.fields((field, wt) => {
    if (field < 1 || field > 3) return false;
    expectWire(KIND_NAMES[field], wt, LEN);
    if (field !== kind) parts = [];
    kind = field;
    parts.push(f.sub());
    return true;
  });
  return { kind, parts };
}

function decodeLabels(list: ProtoReader): number[] {
  const labels: number[] = [];
  eachFeature("labels", list, (step, f) => {
    const { kind, parts } = featureValues(f);
    if (kind !== 3) {
      throw new NotASequenceExample(
        `labels step ${step} is ${KIND_NAMES[kind] || "empty"}, expected int64_list`,
      );
    }
    const values: number[] = [];
    for (const p of parts) {
      p.fields((field, wt) => {
        if (field !== 1) return false;
        if (wt !== VARINT && wt !== LEN) expectWire("int64_list value", wt, VARINT);
        p.repeated(wt, () => p.varint(), values);
        return true;
      });
    }
    if (values.length !== 1) {
      throw new NotASequenceExample(`labels step ${step} has ${values.length} values, expected 1`);
    }
    const id = values[0];
    if (!(id >= 0 && id < NUM_CLASSES)) {
      throw new NotASequenceExample(`labels step ${step} is ${id}, not an event id (0…${NUM_CLASSES - 1})`);
    }
    labels.push(id);
  });
  return labels;
}

function decodeOneHotInputs(bytes: Uint8Array, list: ProtoReader): number[] {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const inputs: number[] = [];
  eachFeature("inputs", list, (step, f) => {
    const { kind, parts } = featureValues(f);
    if (kind !== 2) {
      throw new NotASequenceExample(
        `inputs step ${step} is ${KIND_NAMES[kind] || "empty"}, expected float_list`,
      );
    }
    // One pass over the floats: count them, and find the one 1.0 among zeros.
    let n = 0;
    let hot = -1;
    let hotCount = 0;
    const visit = (v: number) => {
      if (v !== 0) {
        if (v !== 1) {
          throw new NotASequenceExample(`inputs step ${step} is not one-hot (value ${v} at ${n})`);
        }
        hot = n;
        hotCount++;
      }
      n++;
    };
    for (const p of parts) {
      p.fields((field, wt) => {
        if (field !== 1) return false;
        if (wt === LEN) {
          const { start, end } = p.lengthDelimited();
          if ((end - start) % 4 !== 0)
            throw new NotASequenceExample(`inputs step ${step}: packed floats cut short`);
          for (let at = start; at < end; at += 4) visit(view.getFloat32(at, true));
        } else {
          expectWire("float_list value", wt, FIXED32);
          visit(p.float());
        }
        return true;
      });
    }
    if (n !== NUM_CLASSES) {
      throw new NotASequenceExample(`inputs step ${step} has ${n} floats, expected ${NUM_CLASSES}`);
    }
    if (hotCount !== 1) {
      throw new NotASequenceExample(`inputs step ${step} is not one-hot (${hotCount} ones)`);
    }
    inputs.push(hot);
  });
  return inputs;
}

/**
 * Reads our label-only records and Magenta's (one-hot `inputs` + `labels`); packed and unpacked
 * repeated fields both. Inputs are returned only when the record has them (a trainer derives missing
 * ones from the labels; they are not invented here).
 */
export function decodeSequenceExample(bytes: Uint8Array): SequenceExampleIds {
  try {
    const lists = readFeatureLists(bytes);
    const labelList = lists.get("labels");
    if (!labelList) throw new NotASequenceExample("no 'labels' feature list");
    const labels = decodeLabels(labelList);
    const inputList = lists.get("inputs");
    if (!inputList) return { labels };
    const inputs = decodeOneHotInputs(bytes, inputList);
    if (inputs.length !== labels.length) {
      throw new NotASequenceExample(`${inputs.length} inputs but ${labels.length} labels`);
    }
    return { inputs, labels };
  } catch (e) {
    if (e instanceof NotASequenceExample) throw e;
    if (e instanceof ProtobufError) throw new NotASequenceExample(e.message);
    throw e;
  }
}
