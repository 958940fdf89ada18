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
import { MAX_UNISON, wellFormedNext } from "../src/events/grammar.js";
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
    // After a NEW 64 in the step: 64 only struck again (a second voice in unison), never carried on;
    // 60 may go on.
    const b = allowedAfter([...events, NEW(64)]);
    expect(b.has("N64")).toBe(true);
    expect(b.has("C64") || b.has("N65")).toBe(false);
    expect(b.has("C60") && b.has("N63")).toBe(true);
    // After a step end, the step before is step 1 (67 carried on, 64 struck).
    const c = allowedAfter([...events, NEW(64), STEP_END]);
    expect(c.has("C67") && c.has("C64")).toBe(true);
    expect(c.has("C60")).toBe(false);
  });

  it("voices in unison: as many carried on as sounded before, at most MAX_UNISON struck", () => {
    // Step 0: two voices strike 64, one strikes 60.
    const step0 = [START, NEW(64), NEW(64), NEW(60), STEP_END];
    expect(allowedAfter(step0.slice(0, 2)).has("N64")).toBe(true);
    const once = allowedAfter([...step0, CONT(64)]);
    expect(once.has("C64") && once.has("N64") && once.has("C60")).toBe(true);
    const twice = allowedAfter([...step0, CONT(64), CONT(64)]);
    expect(twice.has("C64")).toBe(false); // only two voices sounded 64
    expect(twice.has("N64")).toBe(true);
    const oneVoice = allowedAfter([...step0, CONT(64), NEW(60), STEP_END, CONT(60)]);
    expect(oneVoice.has("C60")).toBe(false);
    // Six voices on 60 in the step before (two carried on, four struck): still at most MAX_UNISON carried on.
    const six = [START, NEW(60), NEW(60), STEP_END, CONT(60), CONT(60), ...Array(4).fill(NEW(60)), STEP_END];
    const carried = (n: number) => allowedAfter([...six, ...Array(n).fill(CONT(60))]);
    expect(carried(MAX_UNISON - 1).has("C60")).toBe(true);
    expect(carried(MAX_UNISON).has("C60")).toBe(false);
    expect(carried(MAX_UNISON).has("N60")).toBe(true);
    const struck = Array.from({ length: MAX_UNISON }, () => NEW(60));
    expect(allowedAfter([START, ...struck.slice(1)]).has("N60")).toBe(true);
    expect(allowedAfter([START, ...struck]).has("N60")).toBe(false);
  });

  it("a step cannot grow without end: at most 2 × MAX_UNISON note events per pitch", () => {
    // The step before: MAX_UNISON voices on every pitch, so each may be carried on by all of them.
    const all = Array.from({ length: 128 }, (_, i) =>
      Array.from({ length: MAX_UNISON }, () => NEW(127 - i)),
    ).flat();
    const events: PolyEvent[] = [START, ...all, STEP_END];
    const bound = 2 * MAX_UNISON * 128;
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
      expect(longest).toBeLessThanOrEqual(bound);
    }
    expect(longest).toBe(bound);
  });

  it("every event of the encoded example pieces is allowed where it stands", () => {
    let checked = 0;
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
          expect(mask[eventToId(events[i])], `${name} event ${i}`).toBe(1);
          checked++;
        }
      }
    }
    expect(checked).toBeGreaterThan(1000);
  });
});
