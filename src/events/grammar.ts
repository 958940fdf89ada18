/**
 * Which events may come next in a well-formed PolyphonicSequence: the order every encoded piece has
 * (spec §1.2), written as a mask over the event ids, for a sampler that should draw only such events.
 *
 * Within a step the note events go by pitch, highest first, and end with STEP_END. A CONTINUED_NOTE carries
 * on a pitch that sounded in the step before; a pitch that is both carried on and struck again is CONTINUED
 * then NEW. START opens the sequence and END closes it, so neither is ever drawn in the middle.
 *
 * Voices in unison are one event each (two voices striking p: NEW p, NEW p; in the 498 Bach chorales
 * 22,607 of the 577,814 events repeat the one before), so a pitch may repeat: struck by up to MAX_UNISON
 * voices, and carried on by as many voices as sounded it in the step before (up to MAX_UNISON). A step
 * therefore holds at most 2 × MAX_UNISON events per pitch, and every draw sequence ends its steps. Magenta's sampler draws from
 * every event; the model's share of the masked events is what it has not learned (a trained model gives
 * them almost nothing).
 *
 *   const allowed = new Uint8Array(NUM_CLASSES);
 *   wellFormedNext(events, allowed);   // allowed[id] = 1 where id may follow `events`
 */
import { EventType, eventToId, NUM_CLASSES, noteEvent, type PolyEvent } from "./codec.js";

/**
 * The most voices that strike one pitch in one step, and the most that carry it on: four each, as in the
 * chorales' four parts (no chorale has more of either: test/dataset_corpus.test.ts).
 */
export const MAX_UNISON = 4;

const NO_PITCH = 128;
const NEW_BASE = eventToId(noteEvent(EventType.NEW_NOTE, 0));
const CONTINUED_BASE = eventToId(noteEvent(EventType.CONTINUED_NOTE, 0));

const isNote = (e: PolyEvent) => e.type === EventType.NEW_NOTE || e.type === EventType.CONTINUED_NOTE;

/**
 * Sets allowed[id] to 1 for each event id that may follow `events` (a sequence beginning with START) in a
 * well-formed sequence, 0 for the others. STEP_END is always allowed.
 */
export function wellFormedNext(events: readonly PolyEvent[], allowed: Uint8Array): void {
  if (allowed.length !== NUM_CLASSES) throw new Error(`internal: a mask has ${NUM_CLASSES} entries`);
  allowed.fill(0);
  allowed[EventType.STEP_END] = 1;
  // The current step: the events after the last STEP_END. Its last note event sets the bound: lower
  // pitches may follow, and at the bound itself only a repeat (or NEW after CONTINUED).
  let end = events.length - 1;
  let bound = NO_PITCH;
  let lastType: EventType = EventType.NEW_NOTE;
  let newAtBound = 0; // NEW and CONTINUED events of the bound pitch in this step
  let continuedAtBound = 0;
  for (; end >= 0 && events[end].type !== EventType.STEP_END; end--) {
    const e = events[end];
    if (!isNote(e)) continue;
    if (bound === NO_PITCH) {
      bound = e.pitch;
      lastType = e.type;
    }
    if (e.pitch === bound) {
      if (e.type === EventType.NEW_NOTE) newAtBound++;
      else continuedAtBound++;
    }
  }
  allowed.fill(1, NEW_BASE, NEW_BASE + bound);
  // The step before: back to the STEP_END before it (or START). Voices per pitch, for CONTINUED.
  let voicesAtBound = 0;
  for (let i = end - 1; i >= 0 && events[i].type !== EventType.STEP_END; i--) {
    const e = events[i];
    if (!isNote(e)) continue;
    if (e.pitch < bound) allowed[CONTINUED_BASE + e.pitch] = 1;
    else if (e.pitch === bound) voicesAtBound++;
  }
  if (bound === NO_PITCH) return;
  if (newAtBound < MAX_UNISON) allowed[NEW_BASE + bound] = 1;
  if (lastType === EventType.CONTINUED_NOTE && continuedAtBound < Math.min(voicesAtBound, MAX_UNISON)) {
    allowed[CONTINUED_BASE + bound] = 1;
  }
}
