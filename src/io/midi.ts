/**
 * Standard MIDI Files ⇄ NoteSequence. Pure functions over bytes (no file system): they run in Node and in
 * the browser.
 *
 * - `readMidi(bytes)`: Magenta's reader (note_seq over pretty_midi over mido), strict on broken files:
 *   every problem is a `MidiError` with a one-line message.
 * - `writeMidi(ns)`: a type-1 file in the shape pretty_midi writes; readMidi(writeMidi(readMidi(f)))
 *   keeps every note on its tick.
 */
export { MAX_TICK, type ReadMidiOptions, readMidi, TempoMap } from "./midi_read.js";
export { writeMidi } from "./midi_write.js";
