/**
 * polyrnn's library API. Everything here is pure (bytes and objects in, bytes and objects out) and runs
 * in Node and in a browser; file-system helpers live in `polyrnn/fs` style modules under src/io/fs.ts.
 */
export * from "./errors.js";
export { type GenerateOptions, generate, generateMany } from "./generate/api.js";
export { primerFromMelody, primerFromPitches } from "./generate/primer.js";
export { AbcError, readAbcTunebook } from "./io/abc.js";
export { noteSequenceId } from "./io/convert.js";
export { crc32c, maskedCrc32c } from "./io/crc32c.js";
export { readMidi, writeMidi } from "./io/midi.js";
export { readMusicXml } from "./io/musicxml.js";
export { noteSequenceFromJson, noteSequenceToJson } from "./io/notesequence_json.js";
export { decodeNoteSequence, encodeNoteSequence } from "./io/notesequence_proto.js";
export { decodeSafetensors, encodeSafetensors } from "./io/safetensors.js";
export { decodeTFRecords, encodeTFRecords, frameRecord, readTFRecordStream } from "./io/tfrecord.js";
export { createReferenceKernels } from "./kernels/reference.js";
export type { Kernels } from "./kernels/types.js";
export type { HParams, NamedTensor } from "./model/api.js";
export { type Bundle, encodeBundle, loadBundle } from "./model/bundle.js";
export { DEFAULT_HPARAMS, formatHParams, parseHParams } from "./model/hparams.js";
export * from "./notesequence.js";
export { pianoRollPng, pianoRollSvg } from "./render/pianoroll.js";
export { renderSamples, renderWav } from "./render/synth.js";
