/**
 * polyrnn's library API, for Node and the browser: bytes and objects in, bytes and objects out. The
 * file-system helpers are in `polyrnn/node` (src/node.ts).
 *
 * ```ts
 * import { createKernels, generate, loadBundle, readMidi, writeMidi } from "polyrnn";
 * const kernels = await createKernels();
 * const music = await generate({ bundle: loadBundle(bytes), primer: readMidi(midi), kernels });
 * ```
 *
 * @module polyrnn
 */
export { type Batching, type ExampleIds, ExampleSet, type LoadReport } from "./dataset/batches.js";
export * from "./errors.js";
export { STEPS_PER_QUARTER } from "./events/codec.js";
export { type GenerateOptions, generate, generateMany } from "./generate/api.js";
export type { GenerationSettings } from "./generate/options.js";
export type { PolyphonyResult } from "./generate/polyphony.js";
export { type Primer, primerFromMelody, primerFromPitches } from "./generate/primer.js";
export { AbcError, type AbcTunebook, readAbcTunebook } from "./io/abc.js";
export {
  type ConvertedFiles,
  type ConvertInputFilesOptions,
  type ConvertibleKind,
  convertFiles,
  type InputFile,
  kindOfFileName,
  MAX_INPUT_BYTES,
  type MusicXmlReader,
  noteSequenceId,
} from "./io/convert.js";
export { crc32c, maskedCrc32c } from "./io/crc32c.js";
export { type ReadMidiOptions, readMidi, writeMidi } from "./io/midi.js";
export { readMusicXml } from "./io/musicxml.js";
export {
  type Int64Like,
  type NoteSequenceLike,
  noteSequenceFromJson,
  noteSequenceToJson,
} from "./io/notesequence_json.js";
export { decodeNoteSequence, encodeNoteSequence } from "./io/notesequence_proto.js";
export {
  type DecodedSafetensors,
  decodeSafetensors,
  encodeSafetensors,
  type SafetensorsDtype,
  type SafetensorsTensor,
} from "./io/safetensors.js";
export { decodeTFRecords, encodeTFRecords, frameRecord, readTFRecordStream } from "./io/tfrecord.js";
export {
  type CreateKernelsOptions,
  createKernels,
  KERNEL_KINDS,
  type KernelKind,
} from "./kernels/index.js";
export { createReferenceKernels, type ReferenceKernelOptions } from "./kernels/reference.js";
export type { Kernels } from "./kernels/types.js";
export type { WasmBinaries, WasmKernels } from "./kernels/wasm.js";
export type {
  Batch,
  ForwardOptions,
  ForwardResult,
  HParams,
  NamedTensor,
  OptimizerState,
  PolyphonyModel,
} from "./model/api.js";
export { averageWeights } from "./model/average.js";
export {
  BUNDLE_DTYPES,
  type Bundle,
  type BundleDtype,
  BundleError,
  type BundleInput,
  encodeBundle,
  INT8_SCALE_SUFFIX,
  loadBundle,
} from "./model/bundle.js";
export { DEFAULT_HPARAMS, formatHParams, HPARAM_NAMES, parseHParams } from "./model/hparams.js";
export * from "./notesequence.js";
export { type DatasetOptions, DEFAULT_DATASET_OPTIONS } from "./pipeline/dataset.js";
export type { Histogram, Statistic, Statistics } from "./pipeline/extract.js";
export { type PianoRollOptions, pianoRollPng, pianoRollSvg } from "./render/pianoroll.js";
export { type RenderOptions, renderSamples, renderWav } from "./render/synth.js";
export {
  type Checkpoint,
  CheckpointError,
  decodeCheckpoint,
  encodeCheckpoint,
  type SaveInput,
} from "./train/checkpoint_format.js";
export { type TrainLoopOptions, type TrainLoopResult, trainLoop } from "./train/loop.js";
export { type BatchMetrics, TAGS, trainSummary } from "./train/metrics.js";
export {
  buildDataset,
  type TrainingDataset,
  type TrainModelOptions,
  type TrainModelResult,
  trainModel,
} from "./train/session.js";
export {
  DivergedError,
  type StepMetrics,
  TRAIN_BATCHINGS,
  type TrainBatching,
  Trainer,
  type TrainerOptions,
  TrainingError,
  trainStep,
} from "./train/step.js";
