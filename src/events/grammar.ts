/**
 * Which events may come next in a well-formed PolyphonicSequence: the order every encoded piece has
 * (spec §1.2), written as a mask over the event ids, for a sampler that should draw only such events.
 *
 * Within a step the note events go by pitch, highest first, and end with STEP_END. A CONTINUED_NOTE carries
 * on a pitch that sounded in the step before; a pitch that is both carried on and struck again is CONTINUED
 * then NEW. START opens the sequence and END closes it, so neither is ever drawn in the middle. The encoding
 * also keeps duplicates (two voices in unison: NEW p, NEW p; 17 % of the Bach chorales' steps hold one),
 * which only sound as one note; the mask allows each pitch at most once as CONTINUED and once as NEW per step, so a step holds at most 257 events and
 * every draw sequence ends its steps. Magenta's sampler draws from every event; the model's share of the
 * masked events is what it has not learned (a trained model gives them almost nothing).
 *
 *   const allowed = new Uint8Array(NUM_CLASSES);
 *   wellFormedNext(events, allowed);   // allowed[id] = 1 where id may follow `events`
 */
import { EventType, eventToId, NUM_CLASSES, noteEvent, type PolyEvent } from "./codec.js";

const NO_PITCH = 128;
const NEW_BASE = eventToId(noteEvent(EventType.NEW_NOTE, 0));
const CONTINUED_BASE = eventToId(noteEvent(EventType.CONTINUED_NOTE, 0));

/**
 * Sets allowed[id] to 1 for each event id that may follow `events` (a sequence beginning with START) in a
 * well-formed sequence, 0 for the others. STEP_END is always allowed.
 */
export function wellFormedNext(events: readonly PolyEvent[], allowed: Uint8Array): void {
  if (allowed.length !== NUM_CLASSES) throw new Error(`internal: a mask has ${NUM_CLASSES} entries`);
  allowed.fill(0);
  allowed[EventType.STEP_END] = 1;
  // The current step: the events after the last STEP_END; the one before: those before it, back to the
  // STEP_END before that (or START).
  let end = events.length - 1;
  let bound = NO_PITCH; // NEW and CONTINUED pitches must be below this …
  let newAtBound = false; // … except NEW at `bound` after a CONTINUED of it
  for (; end >= 0 && events[end].type !== EventType.STEP_END; end--) {
    const e = events[end];
    if (bound === NO_PITCH && (e.type === EventType.NEW_NOTE || e.type === EventType.CONTINUED_NOTE)) {
      bound = e.pitch;
      newAtBound = e.type === EventType.CONTINUED_NOTE;
    }
  }
  allowed.fill(1, NEW_BASE, NEW_BASE + bound + (newAtBound ? 1 : 0));
  for (let i = end - 1; i >= 0 && events[i].type !== EventType.STEP_END; i--) {
    const e = events[i];
    if ((e.type === EventType.NEW_NOTE || e.type === EventType.CONTINUED_NOTE) && e.pitch < bound) {
      allowed[CONTINUED_BASE + e.pitch] = 1;
    }
  }
}
