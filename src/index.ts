/**
 * polyrnn's library API. Everything here is pure (bytes and objects in, bytes and objects out) and runs
 * in Node and in a browser; file-system helpers live in `polyrnn/fs` style modules under src/io/fs.ts.
 */
export * from "./errors.js";
export { noteSequenceId } from "./io/convert.js";
export { crc32c, maskedCrc32c } from "./io/crc32c.js";
export { readMidi, writeMidi } from "./io/midi.js";
export { noteSequenceFromJson, noteSequenceToJson } from "./io/notesequence_json.js";
export { decodeNoteSequence, encodeNoteSequence } from "./io/notesequence_proto.js";
export { decodeTFRecords, encodeTFRecords, frameRecord, readTFRecordStream } from "./io/tfrecord.js";
export * from "./notesequence.js";
