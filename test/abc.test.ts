/**
 * ABC reader: hand-written tunes, one group of features each, with the NoteSequences worked out by
 * hand. Most tunes set Q:1/4=60, so that a quarter note lasts one second.
 */
import { createHash } from "node:crypto";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { AbcError, readAbcTunebook } from "../src/io/abc.js";
import { convertFileBytes } from "../src/io/convert.js";
import { EncodingType, KeyMode, type NoteSequence, Parser, SourceType } from "../src/notesequence.js";

/** The single tune of `text` (which must convert without errors). */
function tune(text: string): NoteSequence {
  const book = readAbcTunebook(text);
  expect(book.errors).toEqual([]);
  expect(book.tunes).toHaveLength(1);
  return book.tunes[0];
}

/** [pitch, start, end] of each note, times rounded to 1e-6. */
function notes(ns: NoteSequence): [number, number, number][] {
  const r = (x: number) => Math.round(x * 1e6) / 1e6;
  return ns.notes.map((n) => [n.pitch, r(n.startTime), r(n.endTime)]);
}

/** One note per second from `start`: pitches → [pitch, t, t + 1]. */
const seconds = (pitches: number[], start = 0): [number, number, number][] =>
  pitches.map((p, i) => [p, start + i, start + i + 1]);

describe("readAbcTunebook: headers and metadata", () => {
  const ns = tune(`X:7
T:Changes
T:Second title
C:Someone
M:4/4
L:1/4
Q:1/4=60
R:reel
K:C
"C" C !p! D {g}E .F |[M:3/4][Q:1/4=120][L:1/8] "G7" G2 !ff! A2 ~B2 |]
`);

  it("has ABC source info, the reference number, titles and composer", () => {
    expect(ns.sourceInfo).toEqual({
      sourceType: SourceType.SCORE_BASED,
      encodingType: EncodingType.ABC,
      parser: Parser.MAGENTA_ABC,
    });
    expect(ns.ticksPerQuarter).toBe(220);
    expect(ns.referenceNumber).toBe(7);
    expect(ns.sequenceMetadata).toEqual({
      title: "Changes; Second title",
      artist: "Someone",
      genre: [],
      composers: ["Someone"],
    });
  });

  it("reads M:, L:, Q: in the header and inline, dynamics, chord symbols; drops grace notes", () => {
    expect(notes(ns)).toEqual([
      [60, 0, 1],
      [62, 1, 2],
      [64, 2, 3], // {g} is dropped and takes no time
      [65, 3, 4],
      // From here 3/4 at 120 qpm with L:1/8: G2 is a quarter = 0.5 s.
      [67, 4, 4.5],
      [69, 4.5, 5],
      [71, 5, 5.5],
    ]);
    expect(ns.notes.map((n) => n.velocity)).toEqual([90, 60, 60, 60, 60, 120, 120]);
    expect(ns.tempos).toEqual([
      { time: 0, qpm: 60 },
      { time: 4, qpm: 120 },
    ]);
    expect(ns.timeSignatures).toEqual([
      { time: 0, numerator: 4, denominator: 4 },
      { time: 4, numerator: 3, denominator: 4 },
    ]);
    expect(ns.keySignatures).toEqual([{ time: 0, key: 0, mode: KeyMode.MAJOR }]);
    expect(ns.textAnnotations).toEqual([
      { time: 0, quantizedStep: 0, text: "C", annotationType: 1 },
      { time: 4, quantizedStep: 0, text: "G7", annotationType: 1 },
    ]);
    expect(ns.totalTime).toBe(5.5);
    expect(ns.notes.map((n) => `${n.numerator}/${n.denominator}`)).toEqual([
      "1/4",
      "1/4",
      "1/4",
      "1/4",
      "1/4",
      "1/4",
      "1/4",
    ]);
  });

  it("reads every Q: form; without Q: the tempo is 120", () => {
    const qpm = (fields: string) => tune(`X:1\n${fields ? `${fields}\n` : ""}K:C\nC|`).tempos;
    expect(qpm("L:1/8\nQ:1/4=100")).toEqual([{ time: 0, qpm: 100 }]);
    expect(qpm("M:6/8\nQ:3/8=40")).toEqual([{ time: 0, qpm: 60 }]);
    expect(qpm("Q:1/4 1/8=60")).toEqual([{ time: 0, qpm: 90 }]);
    expect(qpm('Q:"Allegro" 1/4=132')).toEqual([{ time: 0, qpm: 132 }]);
    expect(qpm('Q:"Allegro"')).toEqual([{ time: 0, qpm: 120 }]);
    // Deprecated forms count in unit lengths (L:1/8 here, given after Q:).
    expect(qpm("Q:100\nL:1/8")).toEqual([{ time: 0, qpm: 50 }]);
    expect(qpm("Q:C=100\nL:1/8")).toEqual([{ time: 0, qpm: 50 }]);
    expect(qpm("Q:C2=100\nL:1/8")).toEqual([{ time: 0, qpm: 100 }]);
    expect(qpm("")).toEqual([{ time: 0, qpm: 120 }]);
  });

  it("reads C and C| meters, composite meters and M:none", () => {
    const ts = (m: string) => tune(`X:1\nM:${m}\nK:C\nC|`).timeSignatures;
    expect(ts("C")).toEqual([{ time: 0, numerator: 4, denominator: 4 }]);
    expect(ts("C|")).toEqual([{ time: 0, numerator: 2, denominator: 2 }]);
    expect(ts("2+3/8")).toEqual([{ time: 0, numerator: 5, denominator: 8 }]);
    expect(ts("(2+2+3)/8")).toEqual([{ time: 0, numerator: 7, denominator: 8 }]);
    expect(ts("none")).toEqual([]);
  });

  it("derives L: from the meter: 1/16 below 3/4, else 1/8", () => {
    const first = (header: string) =>
      notes(tune(`X:1\n${header ? `${header}\n` : ""}Q:1/4=60\nK:C\nC|`))[0][2];
    expect(first("M:2/4")).toBe(0.25);
    expect(first("M:3/4")).toBe(0.5);
    expect(first("M:6/8")).toBe(0.5);
    expect(first("")).toBe(0.5);
    expect(first("M:2/4\nL:1/4")).toBe(1);
  });
});

describe("readAbcTunebook: pitches, accidentals and lengths", () => {
  it("reads octaves and bar-scoped accidentals (same letter, same octave)", () => {
    const ns = tune(`X:1
L:1/4
Q:1/4=60
K:C
C, C c c' | ^C C c _c | =C ^^D __E z |
`);
    expect(notes(ns)).toEqual(seconds([48, 60, 72, 84, 61, 61, 72, 71, 60, 64, 62]));
    expect(ns.totalTime).toBe(12); // the final rest counts
  });

  it("reads lengths: multipliers, /, //, /n, 3/2 and 3/", () => {
    // M:2/4 → L:1/16, a quarter of a second at 60 qpm.
    const ns = tune(`X:1
M:2/4
Q:1/4=60
K:C
A2 A A/ A// A3/2 A3/ A/2 |
`);
    const lengths = [0.5, 0.25, 0.125, 0.0625, 0.375, 0.375, 0.125];
    let t = 0;
    const expected = lengths.map((len): [number, number, number] => {
      const note: [number, number, number] = [69, t, t + len];
      t += len;
      return note;
    });
    expect(notes(ns)).toEqual(expected);
  });

  it("reads keys with modes, explicit accidentals, K:none, and key changes in the body", () => {
    const ns = tune(`X:1
L:1/4
Q:1/4=60
K:G
F f |[K:Dm] B b |[K:Ador] F c |
K:D exp _b ^f
B F C |
K:Bbmix
E e B |
K:none
F B |
K:D =c
C F |
`);
    expect(ns.notes.map((n) => n.pitch)).toEqual([
      66, 78, 70, 82, 66, 72, 70, 66, 60, 63, 75, 70, 65, 71, 60, 66,
    ]);
    expect(ns.keySignatures).toEqual([
      { time: 0, key: 7, mode: KeyMode.MAJOR },
      { time: 2, key: 2, mode: KeyMode.MINOR },
      { time: 4, key: 9, mode: KeyMode.DORIAN },
      { time: 6, key: 2, mode: KeyMode.MAJOR },
      { time: 9, key: 10, mode: KeyMode.MIXOLYDIAN },
      // K:none has no key signature; K:D =c is D major again.
      { time: 14, key: 2, mode: KeyMode.MAJOR },
    ]);
  });

  it("reads rests: z, invisible x, and whole-bar Z", () => {
    const ns = tune(`X:1
M:3/4
L:1/8
Q:1/4=60
K:C
z2 C2 x2 | Z | Z2 | C6 |]
`);
    expect(notes(ns)).toEqual([
      [60, 1, 2],
      [60, 12, 15],
    ]);
  });
});

describe("readAbcTunebook: chords, ties, tuplets and broken rhythm", () => {
  it("reads chords (each note keeps its length, the chord advances by the first) and ties", () => {
    const ns = tune(`X:1
M:3/4
L:1/8
Q:1/4=60
K:C
z2 [CEG]2 [C2E] | Z | x2 A2- A2 | [CE]-[CE] E-F G2- | G6 |]
`);
    expect(notes(ns)).toEqual([
      [60, 1, 2],
      [64, 1, 2],
      [67, 1, 2],
      [60, 2, 3],
      [64, 2, 2.5],
      [69, 7, 9], // A2- A2: one note over the tie
      [60, 9, 10], // [CE]-[CE]
      [64, 9, 10],
      [64, 10, 10.5], // E-F: a tie to another pitch ties nothing
      [65, 10.5, 11],
      [67, 11, 15], // G2- | G6 across the bar line
    ]);
    expect(ns.totalTime).toBe(15);
  });

  it("reads tuplets (3, (5, (p:q:r and (2 in compound meter", () => {
    const ns = tune(`X:1
M:4/4
L:1/8
Q:1/4=60
K:C
(3CDE F2 | (5CDEFG (3:2:2A2B z2 |
`);
    const third = 1 / 3;
    expect(notes(ns)).toEqual([
      [60, 0, 0.333333],
      [62, 0.333333, 0.666667],
      [64, 0.666667, 1],
      [65, 1, 2],
      // (5: five eighths in the time of two (simple meter): 0.2 s each.
      [60, 2, 2.2],
      [62, 2.2, 2.4],
      [64, 2.4, 2.6],
      [65, 2.6, 2.8],
      [67, 2.8, 3],
      // (3:2:2: the next two notes at 2/3 of their length.
      [69, 3, +(3 + 2 * third).toFixed(6)],
      [71, +(3 + 2 * third).toFixed(6), 4],
    ]);
    const compound = tune(`X:1
M:6/8
Q:1/4=60
K:C
(2AB c3 |
`);
    // (2 in 6/8: two eighths in the time of three.
    expect(notes(compound)).toEqual([
      [69, 0, 0.75],
      [71, 0.75, 1.5],
      [72, 1.5, 3],
    ]);
  });

  it("reads broken rhythm > < >> on notes, chords and rests", () => {
    const ns = tune(`X:1
L:1/8
Q:1/4=60
K:C
C>D E<F G>>A [CE]>z B2 |
`);
    expect(notes(ns)).toEqual([
      [60, 0, 0.75],
      [62, 0.75, 1],
      [64, 1, 1.25],
      [65, 1.25, 2],
      [67, 2, 2.875],
      [69, 2.875, 3],
      [60, 3, 3.75],
      [64, 3, 3.75],
      // the rest takes 3.75 - 4
      [71, 4, 5],
    ]);
  });
});

describe("readAbcTunebook: repeats and endings, expanded in playing order", () => {
  const pitchesOf = (body: string) => tune(`X:1\nL:1/4\nQ:1/4=60\nK:C\n${body}\n`).notes.map((n) => n.pitch);
  const C = 60;
  const D = 62;
  const E = 64;
  const F = 65;
  const G = 67;
  const A = 69;
  const B = 71;

  it("plays |: :| twice and goes back to the start or the last double bar without |:", () => {
    expect(pitchesOf("|: C D :| E")).toEqual([C, D, C, D, E]);
    expect(pitchesOf("C D :| E")).toEqual([C, D, C, D, E]);
    expect(pitchesOf("C || D E :| F")).toEqual([C, D, E, D, E, F]);
    expect(pitchesOf("|: C :: D :|")).toEqual([C, C, D, D]);
  });

  it("plays first and second endings, [1 and |1 forms, and three endings", () => {
    expect(pitchesOf("|: C D |1 E :|2 F |]")).toEqual([C, D, E, C, D, F]);
    expect(pitchesOf("|: C D [1 E :|[2 F G |]")).toEqual([C, D, E, C, D, F, G]);
    expect(pitchesOf("|: C [1 D :|[2 E :|[3 F |]")).toEqual([C, D, C, E, C, F]);
    expect(pitchesOf("|: C [1,3 D :|[2 E :|")).toEqual([C, D, C, E, C, D]);
  });

  it("expands a tune of several repeated sections, with times in playing order", () => {
    const ns = tune(`X:1
L:1/4
Q:1/4=60
K:C
|: C D :| E F |1 G :|2 A |] B c :: d e :| f [1 g :|[2 a |]
`);
    const c = 72;
    expect(notes(ns)).toEqual(
      seconds([
        C,
        D,
        C,
        D,
        E,
        F,
        G,
        E,
        F,
        A,
        B,
        c,
        B,
        c,
        c + 2,
        c + 4,
        c + 2,
        c + 4,
        c + 5,
        c + 7,
        c + 5,
        c + 9,
      ]),
    );
    expect(ns.totalTime).toBe(22);
    expect(pitchesOf("|: A B :|")).toEqual([A, B, A, B]);
  });
});

describe("readAbcTunebook: tunebooks and errors", () => {
  const book = readAbcTunebook(`%abc-2.1
C:Book composer
%%MIDI program 1

X:1
T:First
K:C
CDEF|

This is free text between the tunes; it is not a tune.

X:2
T:Broken
Y:unknown field
K:C
CDEF|

X:3
T:Third
K:G
GABc|

X:3
T:Same number
K:C
C|

X:4
T:Voices
V:1
K:C
C|

X:5
T:Bad key
K:Q
C|

X:6
T:Bad character
K:C
C # D|
`);

  it("returns one NoteSequence per good tune, with the file header applied", () => {
    expect(book.tunes.map((t) => t.referenceNumber)).toEqual([1, 3]);
    expect(book.tunes.map((t) => t.sequenceMetadata?.title)).toEqual(["First", "Third"]);
    for (const t of book.tunes) expect(t.sequenceMetadata?.composers).toEqual(["Book composer"]);
  });

  it("reports each bad tune by position, X: number and title, and says what is wrong", () => {
    expect(book.errors).toEqual([
      { index: 2, message: `tune 2 (X:2 "Broken"): line 14: unknown information field 'Y:'` },
      {
        index: 4,
        message: `tune 4 (X:3 "Same number"): the reference number X:3 is used by an earlier tune`,
      },
      { index: 5, message: `tune 5 (X:4 "Voices"): line 30: multi-voice tunes (V:) are not supported` },
      { index: 6, message: `tune 6 (X:5 "Bad key"): line 36: cannot read the key K:Q` },
      { index: 7, message: `tune 7 (X:6 "Bad character"): line 42: unexpected character '#'` },
    ]);
  });

  it("reports unclosed constructs, zero lengths and a dangling broken rhythm", () => {
    const errors = (body: string) => readAbcTunebook(`X:1\nK:C\n${body}\n`).errors.map((e) => e.message);
    expect(errors('"Am C D')).toEqual([
      "tune 1 (X:1): line 3: a chord symbol or annotation has no closing quote",
    ]);
    expect(errors("[CE D")).toEqual(["tune 1 (X:1): line 3: a chord [ has no closing ]"]);
    expect(errors("C>")).toEqual([
      "tune 1 (X:1): line 3: a broken rhythm at the end of the tune has no second note",
    ]);
    expect(errors("C0")).toEqual(["tune 1 (X:1): line 3: a note length of 0 (0)"]);
  });

  it("convertFileBytes gives ABC ids from <filename>_<X:> and the tune errors as warnings", () => {
    const bytes = new TextEncoder().encode("X:1\nK:C\nC|\n\nX:2\nE:bad\nK:C\nC|\n\nX:9\nK:C\nD|\n");
    const { sequences, warnings } = convertFileBytes(bytes, "abc", "sub/book.abc", "folk");
    const sha = (s: string) => createHash("sha1").update(s).digest("hex");
    expect(sequences.map((s) => s.id)).toEqual([
      `/id/abc/folk/${sha("sub/book.abc_1")}`,
      `/id/abc/folk/${sha("sub/book.abc_9")}`,
    ]);
    for (const s of sequences) expect(s).toMatchObject({ filename: "sub/book.abc", collectionName: "folk" });
    expect(warnings).toEqual([`tune 2 (X:2): line 6: unknown information field 'E:'; the tune was skipped`]);
    // A book with no readable tune is an error for the whole file.
    expect(() =>
      convertFileBytes(new TextEncoder().encode("X:1\nE:bad\nK:C\nC|\n"), "abc", "b.abc", "c"),
    ).toThrow(AbcError);
    expect(() => convertFileBytes(new TextEncoder().encode("just some text\n"), "abc", "b.abc", "c")).toThrow(
      "no tunes: no section starts with an X: line",
    );
    // Latin-1 files (not valid UTF-8) are read as Windows-1252.
    const latin = Uint8Array.from("X:1\nT:Caf\u00e9\nK:C\nC|\n", (c) => c.charCodeAt(0));
    expect(convertFileBytes(latin, "abc", "l.abc", "c").sequences[0].sequenceMetadata?.title).toBe(
      "Caf\u00e9",
    );
  });
});

describe("readAbcTunebook: any text", () => {
  it("never throws: every problem is a per-tune error, and every note has a positive length", () => {
    const alphabet = "ABCDEFGabcdefgzxZX|:[]()<>-^_=,'/0123456789 \"!{}+~.HKLMQTVw\n%&#;$*".split("");
    fc.assert(
      fc.property(
        fc.constantFrom("C", "Dm", "none", "Ador", "G exp ^f", ""),
        fc.constantFrom("", "M:6/8\n", "M:none\n", "L:1/16\n"),
        fc.array(fc.constantFrom(...alphabet), { maxLength: 60 }),
        (key, header, body) => {
          const book = readAbcTunebook(`X:1\n${header}K:${key}\n${body.join("")}\n`);
          expect(book.tunes.length + book.errors.length).toBe(1);
          for (const t of book.tunes) for (const n of t.notes) expect(n.endTime).toBeGreaterThan(n.startTime);
        },
      ),
      { numRuns: 2000 },
    );
  });
});
