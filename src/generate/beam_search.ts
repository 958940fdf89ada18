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
import { type EventId, eventToId, idToEvent, NUM_CLASSES, type PolyEvent } from "../events/codec.js";
import { wellFormedNext } from "../events/grammar.js";
import { checkOption, type GenerationSettings } from "./options.js";
import type { Rng } from "./rng.js";
import type { EventRnn, RnnState } from "./rnn.js";
import { createSampler, type Sampler } from "./sampler.js";

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

/** The search's generation options (options.ts) and its callbacks. */
export interface SearchOptions
  extends Pick<GenerationSettings, "temperature" | "beamSize" | "branchFactor" | "stepsPerIteration">,
    Partial<Pick<GenerationSettings, "wellFormed">> {
  modifyEvents?: ModifyEvents;
  /** Observes each pruning of request `request`'s beam (before → kept); for tests and logs. */
  onPrune?: (request: number, before: readonly BeamEntry[], kept: readonly BeamEntry[]) => void;
  /** Called after each step of all sequences (one sampled event each): for progress reports. */
  onStep?: () => void;
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

/**
 * Magenta's `_generate_step` for a flat list of entries (from all requests): feed each entry its pending
 * inputs, add the log-likelihood of the already-known events among them, draw one event, then let the
 * callback inject. `rngs[i]` is the random stream of entry i's request: one draw per entry, in order (none
 * when greedy). All entries are fed in one `run`; at each position the sampler turns every row's logits
 * into log-probabilities in the heap, and draws for the entries whose last input that was. When every
 * entry has one input pending (the common case), that is one log-softmax and one draw for all rows.
 *
 * With `wellFormed`, each draw is from the events that keep the entry's sequence well formed
 * (events/grammar.ts); the events already known are scored as the model gives them.
 *
 * Event lists are shared copy-on-write: the first child of an entry extends its parent's list in place,
 * the others (beam branches) copy it; each list has one owner after a step, and no step copies a list of
 * an entry with a single child (plain sampling never copies).
 */
function generateStep(
  rnn: EventRnn,
  entries: BeamEntry[],
  rngs: Rng[],
  sampler: Sampler,
  modifyEvents: ModifyEvents | undefined,
  wellFormed: boolean,
): BeamEntry[] {
  const n = entries.length;
  const classes = rnn.numClasses;
  const k = rnn.kernels;
  const draws = sampler.draws(rngs);
  const pending = entries.map((e) => e.pending);
  // The masks of the draws (each entry draws after its last pending input, which ends its event list).
  const masks = wellFormed ? entries.map((e, i) => wellFormedMask(e.events, i)) : undefined;
  const scores = entries.map((e) => e.score);
  const ids: number[] = new Array(n);
  const chosenLogProbs: number[] = new Array(n);
  const states = rnn.run(
    entries.map((e) => e.state),
    pending,
    (p, logits) => {
      const drawing = masks?.map((m, i) => (p === pending[i].length - 1 ? m : null));
      sampler.logProbs(k, n, classes, logits, drawing);
      const f = k.f32();
      let last = false;
      for (let i = 0; i < n; i++) {
        // Positions before the last predict events that are already in the sequence (primer, injected).
        if (p < pending[i].length - 1) scores[i] += f[logits + i * classes + pending[i][p + 1]];
        else if (p === pending[i].length - 1) last = true;
      }
      if (!last) return;
      const picked = sampler.pick(k, n, classes, logits, draws);
      const g = k.f32();
      for (let i = 0; i < n; i++) {
        if (p !== pending[i].length - 1) continue;
        ids[i] = picked[i];
        chosenLogProbs[i] = g[logits + i * classes + picked[i]];
      }
    },
  );
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
    modifyEvents?.(next);
    out.push(next);
  }
  return out;
}

/** Mask buffers, one per row of a step, reused from step to step (a step reads them before the next). */
const maskPool: Uint8Array[] = [];

function wellFormedMask(events: readonly PolyEvent[], row: number): Uint8Array {
  maskPool[row] ??= new Uint8Array(NUM_CLASSES);
  wellFormedNext(events, maskPool[row]);
  return maskPool[row];
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
  checkOption("beamSize", opts.beamSize);
  checkOption("branchFactor", opts.branchFactor);
  checkOption("stepsPerIteration", opts.stepsPerIteration);
  const sampler = createSampler(opts);
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
      const stepped = generateStep(rnn, flat, rngs, sampler, opts.modifyEvents, opts.wellFormed ?? false);
      opts.onStep?.();
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
  const sampler = createSampler({ temperature });
  for (let i = 0; i < request.numSteps; i++) {
    [entry] = generateStep(rnn, [entry], [request.rng], sampler, modifyEvents, false);
  }
  const resume = {
    events: entry.events.length,
    state: entry.state,
    pending: [...entry.pending],
    score: entry.score,
  };
  return { events: entry.events, score: entry.score, resume };
}
