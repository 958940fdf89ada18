/**
 * Magenta's PolyphonyRnnSequenceGenerator._generate (spec §5.3) with the melody-injection callback
 * (§5.4), for several outputs at once. The timing rules are Magenta's, including the one-step gap after
 * a primer that ends on a step boundary (the start step is quantized with cutoff 0).
 */
import {
  createPolyphonicSequence,
  EventType,
  eventToId,
  numSteps,
  type PolyEvent,
  type PolyphonicSequence,
  STEPS_PER_QUARTER,
  setLength,
  toNoteSequence,
  trimTrailingEndEvents,
} from "../events/codec.js";
import { midiTempoProblem } from "../io/midi_write.js";
import { checkLimit, LIMITS } from "../limits.js";
import { cloneNoteSequence, type NoteSequence } from "../notesequence.js";
import { extractPolyphonicSequences } from "../pipeline/extract.js";
import {
  quantizeNoteSequence,
  quantizeToStep,
  stepsPerQuarterToStepsPerSecond,
} from "../pipeline/quantize.js";
import {
  type BeamEntry,
  beamSearch,
  GenerationError,
  type ModifyEvents,
  type ResumePoint,
} from "./beam_search.js";
import { checkOptions, type GenerationSettings } from "./options.js";
import { createRng } from "./rng.js";
import type { EventRnn } from "./rnn.js";

export const DEFAULT_QPM = 120;

/** A request: the primer, every generation option (options.ts; all checked), and progress callbacks. */
export interface PolyphonyOptions extends GenerationSettings {
  /** The primer (may be empty: no notes). Its first tempo is the output's tempo (120 if none). */
  primer: NoteSequence;
  /** Called for each round of RNN steps (Magenta logs "Need to generate …"). */
  onRound?: (info: { output: number; stepsToGenerate: number; rnnSteps: number }) => void;
  /** Called after each RNN step of a round (one sampled event per sequence). */
  onStep?: () => void;
}

/** What `generateMany` returns: the sequences, their scores and the timeline of the request. */
export interface PolyphonyResult {
  /** The outputs, primer included unless excludePrimer. */
  sequences: NoteSequence[];
  /** Beam-search score (tempered log-likelihood) of each output's final round. */
  scores: number[];
  /** The step (16th note) where the new music starts: the one after the primer's end. */
  generateStartStep: number;
  /** The step where it ends (exclusive): numSteps. */
  generateEndStep: number;
  /** The tempo of the outputs: the primer's first, else 120. */
  qpm: number;
}

/** The timeline of a request (spec §5.2–5.3), separated so it can be checked without a model. */
export function generationTimeline(primer: NoteSequence, numSteps: number) {
  const qpm = primer.tempos[0]?.qpm || DEFAULT_QPM;
  const tempoProblem = midiTempoProblem(qpm);
  if (tempoProblem) throw new GenerationError(`the output's ${tempoProblem}`);
  const secondsPerStep = 60 / qpm / STEPS_PER_QUARTER;
  const startTime = primer.totalTime;
  const endTime = numSteps * secondsPerStep;
  if (startTime >= endTime) {
    throw new GenerationError(
      `the primer (${startTime.toFixed(3)} s) is not shorter than the ${numSteps} steps requested ` +
        `(${endTime.toFixed(3)} s at ${qpm} qpm): raise --num_steps`,
    );
  }
  const lastEnd = primer.notes.reduce((t, n) => Math.max(t, n.endTime), 0);
  if (lastEnd > startTime) {
    throw new GenerationError(
      `a primer note ends at ${lastEnd} s, after the primer's total_time ${startTime} s`,
    );
  }
  const sps = stepsPerQuarterToStepsPerSecond(STEPS_PER_QUARTER, qpm);
  return {
    qpm,
    startTime,
    endTime,
    generateStartStep: generateStartStep(primer),
    generateEndStep: quantizeToStep(endTime, sps, 1.0),
  };
}

/** The step where new music starts: the one after the primer's end (Magenta's cutoff-0 quantization). */
export function generateStartStep(primer: NoteSequence): number {
  const qpm = primer.tempos[0]?.qpm || DEFAULT_QPM;
  return quantizeToStep(primer.totalTime, stepsPerQuarterToStepsPerSecond(STEPS_PER_QUARTER, qpm), 0);
}

/** The numSteps (primer included) that asks for `newSteps` steps of new music after `primer`. */
export function totalStepsFor(primer: NoteSequence, newSteps: number): number {
  return generateStartStep(primer) + newSteps;
}

/** `_inject_melody`: at the start of each step, append the melody's events of that step (spec §5.4). */
export function injectMelody(melody: readonly PolyEvent[], startStep: number): ModifyEvents {
  return (entry: BeamEntry) => {
    const seq = entry.events;
    const last = seq[seq.length - 1];
    if (!(last.type === EventType.STEP_END || (last.type === EventType.START && seq.length === 1))) return;
    let current = 0;
    for (const e of seq) if (e.type === EventType.STEP_END) current++;
    let melodyStep = startStep;
    for (let j = 0; j < melody.length; j++) {
      if (melody[j].type === EventType.STEP_END) melodyStep++;
      if (melodyStep === current) {
        for (let pos = j + 1; pos < melody.length && melody[pos].type !== EventType.STEP_END; pos++) {
          seq.push(melody[pos]);
          entry.pending.push(eventToId(melody[pos]));
        }
        break;
      }
    }
  };
}

/** Refuses a request past LIMITS before anything runs: memory grows with sequences × steps. */
function checkRequestSize(opts: PolyphonyOptions): void {
  checkLimit("num_steps", opts.numSteps, LIMITS.generateSteps);
  const sequences = opts.numOutputs * opts.beamSize * opts.branchFactor;
  checkLimit(
    "num_outputs × beam_size × branch_factor (sequences generated together)",
    sequences,
    LIMITS.generateSequences,
  );
  checkLimit(
    "num_outputs × beam_size × branch_factor × num_steps",
    sequences * opts.numSteps,
    LIMITS.generateSequenceSteps,
  );
}

export function generatePolyphony(rnn: EventRnn, opts: PolyphonyOptions): PolyphonyResult {
  checkOptions(opts);
  checkRequestSize(opts);
  const timeline = generationTimeline(opts.primer, opts.numSteps);
  const { qpm, generateStartStep, generateEndStep } = timeline;

  // Quantize the primer and extract its track; a primer with several programs gives none (as Magenta).
  const quantized = quantizeNoteSequence(opts.primer, STEPS_PER_QUARTER);
  const extracted = extractPolyphonicSequences(quantized, {
    minSteps: 0,
    maxSteps: Number.POSITIVE_INFINITY,
  });
  let polySeq: PolyphonicSequence =
    extracted.sequences[0] ?? createPolyphonicSequence(STEPS_PER_QUARTER, generateStartStep);
  polySeq = trimTrailingEndEvents(setLength(polySeq, generateStartStep - polySeq.startStep));

  let modifyEvents: ModifyEvents | undefined;
  if (opts.injectPrimerDuringGeneration) {
    const injectStartStep = opts.conditionOnPrimer ? numSteps(polySeq) : 0;
    modifyEvents = injectMelody([...polySeq.events], injectStartStep);
  }
  if (!opts.conditionOnPrimer) polySeq = createPolyphonicSequence(STEPS_PER_QUARTER, generateStartStep);
  const totalSteps = numSteps(polySeq) + (generateEndStep - generateStartStep);

  const seqs: PolyphonicSequence[] = Array.from({ length: opts.numOutputs }, () => polySeq);
  const rngs = seqs.map((_, i) => createRng(opts.seed, i));
  const scores = seqs.map(() => 0);
  const resumes: (ResumePoint | undefined)[] = seqs.map(() => undefined);
  // A model that (almost) never ends a step would loop for ever: give up past LIMITS.eventsPerStep.
  const eventsAsked = seqs.map(() => 0);
  const maxEvents = LIMITS.eventsPerStep * Math.max(1, totalSteps - numSteps(polySeq));
  for (;;) {
    const todo = seqs.map((_s, i) => i).filter((i) => numSteps(seqs[i]) < totalSteps);
    if (todo.length === 0) break;
    // Magenta asks for 5 RNN events per missing step and re-primes from a zero state each round; a later
    // round continues from the state the last one ended in instead (the same numbers, without feeding the
    // whole sequence again: a model that rarely ends a step needs many rounds).
    const requests = todo.map((i) => {
      const stepsToGenerate = totalSteps - numSteps(seqs[i]);
      eventsAsked[i] += 5 * stepsToGenerate;
      if (eventsAsked[i] > maxEvents) {
        throw new GenerationError(
          `the model ended only ${totalSteps - stepsToGenerate} of ${totalSteps} steps in ${eventsAsked[i] - 5 * stepsToGenerate} ` +
            `sampled events (limit: ${LIMITS.eventsPerStep} per step): it almost never samples a step end`,
        );
      }
      opts.onRound?.({ output: i, stepsToGenerate, rnnSteps: 5 * stepsToGenerate });
      return { primer: [...seqs[i].events], numSteps: 5 * stepsToGenerate, rng: rngs[i], resume: resumes[i] };
    });
    const results = beamSearch(rnn, requests, {
      temperature: opts.temperature,
      beamSize: opts.beamSize,
      branchFactor: opts.branchFactor,
      stepsPerIteration: opts.stepsPerIteration,
      wellFormed: opts.wellFormed,
      modifyEvents,
      onStep: opts.onStep,
    });
    todo.forEach((i, k) => {
      if (Number.isNaN(results[k].score)) {
        throw new GenerationError(
          "the model's probabilities are NaN (its weights overflow): it cannot generate",
        );
      }
      seqs[i] = { ...seqs[i], events: results[k].events };
      scores[i] = results[k].score;
      resumes[i] = results[k].resume;
    });
  }

  const sequences = seqs.map((s) => {
    const finished = setLength(s, totalSteps);
    const ns = opts.conditionOnPrimer
      ? toNoteSequence(finished, { qpm })
      : toNoteSequence(finished, { qpm, baseNoteSequence: cloneNoteSequence(opts.primer) });
    if (Math.abs(ns.totalTime - timeline.endTime) > 1e-5 && ns.totalTime > timeline.endTime) {
      throw new GenerationError(
        `internal: output is ${ns.totalTime} s, longer than the ${timeline.endTime} s asked for`,
      );
    }
    return opts.excludePrimer ? onlyNewMusic(ns, generateStartStep * (60 / qpm / STEPS_PER_QUARTER)) : ns;
  });
  return { sequences, scores, generateStartStep, generateEndStep, qpm };
}

/** Notes from `start` seconds on (clipped), shifted to begin at 0 (polyrnn's --exclude_primer). */
function onlyNewMusic(ns: NoteSequence, start: number): NoteSequence {
  const out = cloneNoteSequence(ns);
  out.notes = out.notes
    .filter((n) => n.endTime > start + 1e-9)
    .map((n) => ({ ...n, startTime: Math.max(0, n.startTime - start), endTime: n.endTime - start }));
  out.totalTime = Math.max(0, ns.totalTime - start);
  out.tempos = [{ time: 0, qpm: ns.tempos[0]?.qpm ?? DEFAULT_QPM }];
  out.timeSignatures = out.timeSignatures
    .filter((t) => t.time <= start)
    .map((t) => ({ ...t, time: 0 }))
    .slice(-1);
  out.keySignatures = out.keySignatures
    .filter((k) => k.time <= start)
    .map((k) => ({ ...k, time: 0 }))
    .slice(-1);
  out.pitchBends = [];
  out.controlChanges = [];
  return out;
}
