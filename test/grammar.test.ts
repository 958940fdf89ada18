import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import {
  END,
  EventType,
  eventToId,
  NUM_CLASSES,
  noteEvent,
  type PolyEvent,
  START,
  STEP_END,
} from "../src/events/codec.js";
import { wellFormedNext } from "../src/events/grammar.js";
import { readMidi } from "../src/io/midi.js";
import { extractPolyphonicSequences } from "../src/pipeline/extract.js";
import { quantizeNoteSequence } from "../src/pipeline/quantize.js";

const NEW = (p: number) => noteEvent(EventType.NEW_NOTE, p);
const CONT = (p: number) => noteEvent(EventType.CONTINUED_NOTE, p);

function allowedAfter(events: PolyEvent[]): Set<string> {
  const mask = new Uint8Array(NUM_CLASSES);
  wellFormedNext(events, mask);
  const out = new Set<string>();
  for (const e of [START, END, STEP_END]) if (mask[eventToId(e)]) out.add(e.type === 2 ? "|" : "other");
  for (let p = 0; p < 128; p++) {
    if (mask[eventToId(NEW(p))]) out.add(`N${p}`);
    if (mask[eventToId(CONT(p))]) out.add(`C${p}`);
  }
  return out;
}

describe("well-formed next events (events/grammar.ts)", () => {
  it("after START: any new note or a step end; nothing to carry on, never START or END", () => {
    const a = allowedAfter([START]);
    expect(a.has("|")).toBe(true);
    expect(a.has("other")).toBe(false);
    expect(a.has("N0") && a.has("N127")).toBe(true);
    expect([...a].some((x) => x.startsWith("C"))).toBe(false);
    expect(a.size).toBe(129);
  });

  it("within a step pitches go down; a carried-on pitch may be struck again; only sounding pitches go on", () => {
    // Step 0: 67, 64, 60 struck. Step 1 so far: 67 carried on.
    const events = [START, NEW(67), NEW(64), NEW(60), STEP_END, CONT(67)];
    const a = allowedAfter(events);
    expect(a.has("N67")).toBe(true); // re-struck after being carried on
    expect(a.has("C67") || a.has("N68") || a.has("C72")).toBe(false);
    expect(a.has("C64") && a.has("C60") && a.has("N66") && a.has("N0")).toBe(true);
    expect(a.has("C62")).toBe(false); // did not sound in step 0
    expect(a.has("|")).toBe(true);
    // After a NEW 64 in the step: nothing at 64 again, 60 may go on.
    const b = allowedAfter([...events, NEW(64)]);
    expect(b.has("N64") || b.has("C64")).toBe(false);
    expect(b.has("C60") && b.has("N63")).toBe(true);
    // After a step end, the step before is step 1 (67 carried on, 64 struck).
    const c = allowedAfter([...events, NEW(64), STEP_END]);
    expect(c.has("C67") && c.has("C64")).toBe(true);
    expect(c.has("C60")).toBe(false);
  });

  it("a step cannot grow without end: at most each pitch carried on and struck again, 256 note events", () => {
    const all = Array.from({ length: 128 }, (_, i) => NEW(127 - i));
    const events: PolyEvent[] = [START, ...all, STEP_END];
    let longest = 0;
    for (;;) {
      const mask = new Uint8Array(NUM_CLASSES);
      wellFormedNext(events, mask);
      // The longest step: always the highest allowed pitch, carried on before struck.
      let next: PolyEvent | undefined;
      for (let p = 127; p >= 0 && !next; p--) {
        if (mask[eventToId(CONT(p))]) next = CONT(p);
        else if (mask[eventToId(NEW(p))]) next = NEW(p);
      }
      if (!next) break;
      events.push(next);
      longest++;
      expect(longest).toBeLessThanOrEqual(256);
    }
    expect(longest).toBe(256);
  });

  it("every event of the encoded example pieces is allowed where it stands, but unison duplicates", () => {
    let checked = 0;
    let duplicates = 0;
    for (const name of [
      "seed1.mid",
      "seed2.mid",
      "startSchubert_contBach_10.mid",
      "startSchubertShort_08.mid",
    ]) {
      const ns = readMidi(readFileSync(join("examples/midi", name)));
      const { sequences } = extractPolyphonicSequences(quantizeNoteSequence(ns, 4), {
        minSteps: 0,
        maxSteps: Number.POSITIVE_INFINITY,
      });
      for (const seq of sequences) {
        const events = seq.events;
        // (The last event is END, which the generator never draws: the length is asked for.)
        for (let i = 1; i < events.length - 1; i++) {
          const mask = new Uint8Array(NUM_CLASSES);
          wellFormedNext(events.slice(0, i), mask);
          const e = events[i];
          const prev = events[i - 1];
          const duplicate = prev.type === e.type && prev.pitch === e.pitch && e.type !== EventType.STEP_END;
          if (duplicate) duplicates++;
          else expect(mask[eventToId(e)], `${name} event ${i}`).toBe(1);
          checked++;
        }
      }
    }
    expect(checked).toBeGreaterThan(1000);
    expect(duplicates).toBeLessThan(checked / 100);
  });
});
