/**
 * Piano-roll benchmark data (../shared/data/benchmarks) → quantized NoteSequences, one frame = one step.
 * The benchmark convention (benchmarks/README.md) is that a pitch is CONTINUED iff it sounded in the
 * previous frame; making a note out of each run of consecutive frames holding a pitch gives exactly that
 * event stream under the ordinary Polyphony RNN encoding, so the rest of the pipeline is shared.
 */
import { PolyrnnError } from "../errors.js";
import { STEPS_PER_QUARTER } from "../events/codec.js";
import { createNote, createNoteSequence, type Note, type NoteSequence } from "../notesequence.js";

export class FrameDataError extends PolyrnnError {
  override name = "FrameDataError";
}

function quantizedSequence(notes: Note[], steps: number, stepsPerQuarter: number, id: string): NoteSequence {
  const secondsPerStep = 60 / 120 / stepsPerQuarter;
  for (const n of notes) {
    n.startTime = n.quantizedStartStep * secondsPerStep;
    n.endTime = n.quantizedEndStep * secondsPerStep;
    n.velocity = 100;
  }
  return createNoteSequence({
    id,
    ticksPerQuarter: 220,
    tempos: [{ time: 0, qpm: 120 }],
    timeSignatures: [{ time: 0, numerator: 4, denominator: 4 }],
    notes,
    totalTime: steps * secondsPerStep,
    totalQuantizedSteps: steps,
    quantizationInfo: { stepsPerQuarter, stepsPerSecond: 0 },
  });
}

function checkPitch(p: unknown, where: string): number {
  if (typeof p !== "number" || !Number.isInteger(p) || p < 0 || p > 127) {
    throw new FrameDataError(`${where}: ${JSON.stringify(p)} is not a MIDI pitch (0..127)`);
  }
  return p;
}

/** A list of frames, each a list of sounding pitches. */
export function framesToQuantizedSequence(
  frames: unknown,
  id = "",
  stepsPerQuarter = STEPS_PER_QUARTER,
): NoteSequence {
  if (!Array.isArray(frames)) throw new FrameDataError(`${id || "sequence"}: not a list of frames`);
  const notes: Note[] = [];
  let open = new Map<number, Note>();
  frames.forEach((frame, t) => {
    if (!Array.isArray(frame)) throw new FrameDataError(`${id} frame ${t}: not a list of pitches`);
    const next = new Map<number, Note>();
    for (const raw of frame) {
      const p = checkPitch(raw, `${id} frame ${t}`);
      if (next.has(p)) continue; // a pitch listed twice in one frame sounds once
      const held = open.get(p);
      if (held) {
        held.quantizedEndStep = t + 1;
        next.set(p, held);
      } else {
        const n = createNote({ pitch: p, quantizedStartStep: t, quantizedEndStep: t + 1 });
        notes.push(n);
        next.set(p, n);
      }
    }
    open = next;
  });
  return quantizedSequence(notes, frames.length, stepsPerQuarter, id);
}

/**
 * Four-voice chorales at 16th-note steps (jsb16_satb.json): each step lists soprano, alto, tenor and bass
 * pitches, -1 for a rest; a voice repeating its pitch holds the note.
 */
export function satbToQuantizedSequence(
  steps: unknown,
  id = "",
  stepsPerQuarter = STEPS_PER_QUARTER,
): NoteSequence {
  if (!Array.isArray(steps)) throw new FrameDataError(`${id || "sequence"}: not a list of steps`);
  const notes: Note[] = [];
  const current: (Note | undefined)[] = [];
  steps.forEach((voices, t) => {
    if (!Array.isArray(voices)) throw new FrameDataError(`${id} step ${t}: not a list of voice pitches`);
    voices.forEach((raw, v) => {
      if (raw === -1) {
        current[v] = undefined;
        return;
      }
      const p = checkPitch(raw, `${id} step ${t} voice ${v}`);
      const held = current[v];
      if (held && held.pitch === p) {
        held.quantizedEndStep = t + 1;
      } else {
        const n = createNote({ pitch: p, quantizedStartStep: t, quantizedEndStep: t + 1, voice: v });
        notes.push(n);
        current[v] = n;
      }
    });
    for (let v = voices.length; v < current.length; v++) current[v] = undefined;
  });
  return quantizedSequence(notes, steps.length, stepsPerQuarter, id);
}

export interface FrameSplits {
  train: NoteSequence[];
  valid: NoteSequence[];
}

/** Parses a benchmark JSON file's contents: `{"train": [...], "valid": [...]}`. */
export function parseFrameBenchmark(json: unknown, name: string, satb: boolean): FrameSplits {
  if (json === null || typeof json !== "object") throw new FrameDataError(`${name}: not a JSON object`);
  const obj = json as Record<string, unknown>;
  const toSeqs = (split: "train" | "valid") => {
    const list = obj[split];
    if (!Array.isArray(list)) throw new FrameDataError(`${name}: missing the "${split}" list`);
    return list.map((s, i) =>
      satb
        ? satbToQuantizedSequence(s, `${name}/${split}/${i}`)
        : framesToQuantizedSequence(s, `${name}/${split}/${i}`),
    );
  };
  return { train: toSeqs("train"), valid: toSeqs("valid") };
}
