/**
 * Event generation as Magenta's EventSequenceRnnModel._generate_events + common/beam_search.py (spec §5.5,
 * §5.6), for several independent requests at once: every beam entry of every request is stepped in one
 * batched call of the RNN, and each request draws its samples from its own random stream, so a request's
 * result does not depend on what else is in the batch.
 *
 * Stochastic beam search: extensions are SAMPLED, scores are cumulative tempered log-likelihoods (the
 * primer's included). beam 1 × branch 1 × steps_per_iteration 1 is plain ancestral sampling.
 */

import { PolyrnnError } from "../errors.js";
import { type EventId, eventToId, idToEvent, type PolyEvent } from "../events/codec.js";
import type { Rng } from "./rng.js";
import type { EventRnn, RnnState } from "./rnn.js";

export class GenerationError extends PolyrnnError {
  override name = "GenerationError";
}

/**
 * One sequence being extended: its events, the model state, the inputs still to feed, and its score.
 * An entry's `events` list is handed on to its first extension, which appends to it (copy-on-write for
 * beam branches): read an entry's events when it is passed to you, not after the search went on.
 */
export interface BeamEntry {
  events: PolyEvent[];
  state: RnnState;
  pending: EventId[];
  score: number;
}

/**
 * Magenta's modify_events_callback: called with an entry after its inputs were built (first step) and
 * after every sampled event; may append events to `entry.events` and their ids to `entry.pending`.
 */
export type ModifyEvents = (entry: BeamEntry) => void;

export interface SearchOptions {
  temperature: number;
  beamSize: number;
  branchFactor: number;
  stepsPerIteration: number;
  modifyEvents?: ModifyEvents;
  /** Observes each pruning of request `request`'s beam (before → kept); for tests and logs. */
  onPrune?: (request: number, before: readonly BeamEntry[], kept: readonly BeamEntry[]) => void;
}

export interface SearchRequest {
  /** The primer events (START …); must be non-empty. */
  primer: PolyEvent[];
  /** Number of model steps (sampled events) to add: Magenta's `num_steps - len(primer)`. */
  numSteps: number;
  rng: Rng;
  /**
   * Where a previous search that returned exactly `primer` left off (its result's `resume`): the primer is
   * then not fed again from a zero state. Same distribution, same score up to float rounding (the state
   * was reached step by step instead of in one pass).
   */
  resume?: ResumePoint;
}

/** A search result's best entry, to continue from: its state, the inputs it had not fed yet, its score. */
export interface ResumePoint {
  /** Length of the event list it belongs to. */
  events: number;
  state: RnnState;
  pending: EventId[];
  score: number;
}

export interface SearchResult {
  events: PolyEvent[];
  score: number;
  resume: ResumePoint;
}

/** Picks the next event from one row of log-probabilities: a sample, or the argmax at temperature 0. */
export function chooseEvent(
  logProbs: Float32Array,
  offset: number,
  classes: number,
  temperature: number,
  rng: Rng,
): number {
  return pickEvent(logProbs, offset, classes, temperature === 0 ? -1 : rng.next());
}

/**
 * chooseEvent with the draw u already made (u < 0: the argmax). The kernels' sampleClasses computes the
 * same thing (src/kernels/types.ts), bit for bit.
 */
function pickEvent(logProbs: Float32Array, offset: number, classes: number, u: number): number {
  if (u < 0) {
    let best = 0;
    for (let k = 1; k < classes; k++) if (logProbs[offset + k] > logProbs[offset + best]) best = k;
    return best;
  }
  let cumulative = 0;
  let last = 0;
  for (let k = 0; k < classes; k++) {
    const p = Math.exp(logProbs[offset + k]);
    if (p > 0) last = k;
    cumulative += p;
    if (u < cumulative) return k;
  }
  return last; // u fell past the rounded total: the last class with any mass.
}

/** An RNN that can also step and sample in one call (createLstmRnn's `sampleNext`). */
interface SamplingRnn extends EventRnn {
  sampleNext(
    states: readonly RnnState[],
    inputs: readonly EventId[],
    temperature: number,
    uniforms: ArrayLike<number> | null,
  ): { classes: ArrayLike<number>; logProbs: ArrayLike<number>; states: RnnState[] };
}

function canSample(rnn: EventRnn): rnn is SamplingRnn {
  return typeof (rnn as Partial<SamplingRnn>).sampleNext === "function";
}

const TWO_32 = 4294967296;

/**
 * Magenta's `_generate_step` for a flat list of entries (from all requests): feed each entry its pending
 * inputs, add the log-likelihood of the already-known events among them, sample one event, then let the
 * callback inject. `rngs[i]` is the random stream of entry i's request: one draw per entry, in order (none
 * at temperature 0).
 *
 * When every entry has exactly one input pending and the RNN can sample (the LSTM), feeding, log-softmax
 * and sampling are one call on the kernels, with the same draws and the same arithmetic as below.
 *
 * Event lists are shared copy-on-write: the first child of an entry extends its parent's list in place,
 * the others (beam branches) copy it; each list has one owner after a step, and no step copies a list of
 * an entry with a single child (plain sampling never copies).
 */
function generateStep(rnn: EventRnn, entries: BeamEntry[], rngs: Rng[], opts: SearchOptions): BeamEntry[] {
  const n = entries.length;
  const classes = rnn.numClasses;
  const greedy = opts.temperature === 0;
  const draws: number[] = greedy ? [] : rngs.map((rng) => rng.next());
  let ids: ArrayLike<number>;
  let chosenLogProbs: ArrayLike<number>;
  let states: RnnState[];
  const scores = entries.map((e) => e.score);
  const fast =
    canSample(rnn) &&
    entries.every((e) => e.pending.length === 1) &&
    draws.every((u) => u >= 0 && u < 1 && Number.isInteger(u * TWO_32));
  if (fast) {
    const r = rnn.sampleNext(
      entries.map((e) => e.state),
      entries.map((e) => e.pending[0]),
      opts.temperature,
      greedy ? null : draws.map((u) => u * TWO_32),
    );
    ids = r.classes;
    chosenLogProbs = r.logProbs;
    states = r.states;
  } else {
    const r = rnn.run(
      entries.map((e) => e.state),
      entries.map((e) => e.pending),
      opts.temperature,
    );
    const picked: number[] = [];
    const picks: number[] = [];
    entries.forEach((entry, i) => {
      const rows = entry.pending.length;
      const lp = r.logProbs[i];
      // Positions 0 … rows-2 predict events that are already in the sequence (the primer, injected notes).
      const known = entry.events.length - (rows - 1);
      for (let q = 0; q < rows - 1; q++) scores[i] += lp[q * classes + eventToId(entry.events[known + q])];
      const id = pickEvent(lp, (rows - 1) * classes, classes, greedy ? -1 : draws[i]);
      picked.push(id);
      picks.push(lp[(rows - 1) * classes + id]);
    });
    ids = picked;
    chosenLogProbs = picks;
    states = r.states;
  }
  const lengths = entries.map((e) => e.events.length);
  const owned = new Set<PolyEvent[]>();
  const out: BeamEntry[] = [];
  for (let i = 0; i < n; i++) {
    const entry = entries[i];
    const id = ids[i];
    let events = entry.events;
    if (owned.has(events) || events.length !== lengths[i]) events = events.slice(0, lengths[i]);
    else owned.add(events);
    events.push(idToEvent(id));
    const next: BeamEntry = { events, state: states[i], pending: [id], score: scores[i] + chosenLogProbs[i] };
    opts.modifyEvents?.(next);
    out.push(next);
  }
  return out;
}

/** Branch every entry `branchFactor` times (Magenta: `beam_entries * branch_factor`, copies in that order). */
function branch(beam: BeamEntry[], branchFactor: number): BeamEntry[] {
  if (branchFactor === 1) return beam; // (beams are never mutated in place)
  const out: BeamEntry[] = [];
  for (let b = 0; b < branchFactor; b++) for (const e of beam) out.push(e);
  return out;
}

/** The k highest scores, highest first; ties keep the earlier entry first (heapq.nlargest is stable). */
export function pruneBeam(beam: BeamEntry[], k: number): BeamEntry[] {
  if (beam.length === 1 && k >= 1) return [beam[0]]; // plain sampling: nothing to sort
  return beam
    .map((e, i) => ({ e, i }))
    .sort((x, y) => y.e.score - x.e.score || x.i - y.i)
    .slice(0, k)
    .map((x) => x.e);
}

export function beamSearch(rnn: EventRnn, requests: SearchRequest[], opts: SearchOptions): SearchResult[] {
  for (const [name, v] of [
    ["beam_size", opts.beamSize],
    ["branch_factor", opts.branchFactor],
    ["steps_per_iteration", opts.stepsPerIteration],
  ] as const) {
    if (!Number.isInteger(v) || v < 1)
      throw new GenerationError(`${name} must be a whole number ≥ 1, got ${v}`);
  }
  if (!(opts.temperature >= 0)) throw new GenerationError(`temperature must be ≥ 0, got ${opts.temperature}`);
  for (const r of requests) {
    if (r.primer.length === 0) throw new GenerationError("primer sequence must have non-zero length");
    if (r.numSteps < 1) throw new GenerationError("primer sequence must be shorter than num_steps");
  }

  // The initial inputs are the whole primer (full length), then the callback may inject.
  let beams: BeamEntry[][] = requests.map((r) => {
    const resume = r.resume?.events === r.primer.length ? r.resume : undefined;
    const first: BeamEntry = resume
      ? { events: [...r.primer], state: resume.state, pending: [...resume.pending], score: resume.score }
      : { events: [...r.primer], state: rnn.zeroState(), pending: r.primer.map(eventToId), score: 0 };
    opts.modifyEvents?.(first);
    return Array.from({ length: opts.beamSize }, () => first);
  });

  // Requests may have different step counts; each runs its own schedule, stepping together when they can.
  const schedules = requests.map((r) => {
    const first = ((r.numSteps - 1) % opts.stepsPerIteration) + 1;
    const iterations = (r.numSteps - first) / opts.stepsPerIteration;
    return [first, ...Array.from({ length: iterations }, () => opts.stepsPerIteration)];
  });
  const rounds = Math.max(...schedules.map((s) => s.length));
  for (let round = 0; round < rounds; round++) {
    const active = requests.map((_, g) => round < schedules[g].length);
    beams = beams.map((beam, g) => {
      if (!active[g]) return beam;
      if (round === 0) return branch(beam, opts.branchFactor);
      const kept = pruneBeam(beam, opts.beamSize);
      opts.onPrune?.(g, beam, kept);
      return branch(kept, opts.branchFactor);
    });
    const stepsThisRound = schedules.map((s) => s[round] ?? 0);
    for (let step = 0; step < Math.max(...stepsThisRound); step++) {
      const flat: BeamEntry[] = [];
      const rngs: Rng[] = [];
      const owners: number[] = [];
      beams.forEach((beam, g) => {
        if (step >= stepsThisRound[g]) return;
        for (const e of beam) {
          flat.push(e);
          rngs.push(requests[g].rng);
          owners.push(g);
        }
      });
      const stepped = generateStep(rnn, flat, rngs, opts);
      const next = beams.map((beam, g) => (step >= stepsThisRound[g] ? beam : ([] as BeamEntry[])));
      for (let i = 0; i < stepped.length; i++) next[owners[i]].push(stepped[i]);
      beams = next;
    }
  }
  return beams.map((beam, g) => {
    const [best] = pruneBeam(beam, 1);
    opts.onPrune?.(g, beam, [best]);
    return {
      events: best.events,
      score: best.score,
      resume: {
        events: best.events.length,
        state: best.state,
        pending: [...best.pending],
        score: best.score,
      },
    };
  });
}

/** Plain ancestral sampling, written out without beams: the reference that beam 1 × branch 1 must equal. */
export function sampleEvents(
  rnn: EventRnn,
  request: SearchRequest,
  temperature: number,
  modifyEvents?: ModifyEvents,
): SearchResult {
  let entry: BeamEntry = {
    events: [...request.primer],
    state: rnn.zeroState(),
    pending: request.primer.map(eventToId),
    score: 0,
  };
  modifyEvents?.(entry);
  const opts: SearchOptions = {
    temperature,
    beamSize: 1,
    branchFactor: 1,
    stepsPerIteration: 1,
    modifyEvents,
  };
  for (let i = 0; i < request.numSteps; i++) [entry] = generateStep(rnn, [entry], [request.rng], opts);
  const resume = {
    events: entry.events.length,
    state: entry.state,
    pending: [...entry.pending],
    score: entry.score,
  };
  return { events: entry.events, score: entry.score, resume };
}
