/**
 * MusicXML reader: small hand-written scores, one feature each, with the NoteSequence worked out by
 * hand (at 60 qpm a quarter note lasts one second, so times read as quarter notes).
 */

import fc from "fast-check";
import { strToU8, zipSync } from "fflate";
import { describe, expect, it } from "vitest";
import { MusicXmlError } from "../src/errors.js";
import { readMusicXml } from "../src/io/musicxml.js";
import { EncodingType, KeyMode, type NoteSequence, Parser, SourceType } from "../src/notesequence.js";

const enc = (s: string) => new TextEncoder().encode(s);

/** A partwise score; each part is [score-part inner XML, measures XML]. */
function score(parts: [string, string][], doctype = true): string {
  const list = parts.map(([sp], i) => `<score-part id="P${i + 1}">${sp}</score-part>`).join("");
  const body = parts.map(([, m], i) => `<part id="P${i + 1}">${m}</part>`).join("\n");
  return `<?xml version="1.0" encoding="UTF-8" standalone="no"?>
${doctype ? '<!DOCTYPE score-partwise PUBLIC "-//Recordare//DTD MusicXML 4.0 Partwise//EN" "http://www.musicxml.org/dtds/partwise.dtd">' : ""}
<score-partwise version="4.0">
  <part-list>${list}</part-list>
${body}
</score-partwise>`;
}

/** A pitched note; `extra` goes after <voice>. */
function note(step: string, octave: number, duration: number, extra = "", alter = 0, voice = 1): string {
  const alt = alter ? `<alter>${alter}</alter>` : "";
  return `<note><pitch><step>${step}</step>${alt}<octave>${octave}</octave></pitch><duration>${duration}</duration><voice>${voice}</voice>${extra}</note>`;
}

const rest = (duration: number) => `<note><rest/><duration>${duration}</duration><voice>1</voice></note>`;
const attrs = (inner: string) => `<attributes>${inner}</attributes>`;
const tempo60 = `<direction><direction-type><words>Andante</words></direction-type><sound tempo="60"/></direction>`;
const measure = (n: number | string, inner: string) => `<measure number="${n}">${inner}</measure>`;

/** [pitch, start, end] of each note, times rounded to 1e-9. */
function notes(ns: NoteSequence): [number, number, number][] {
  const r = (x: number) => Math.round(x * 1e9) / 1e9;
  return ns.notes.map((n) => [n.pitch, r(n.startTime), r(n.endTime)]);
}

function read(xml: string): NoteSequence {
  return readMusicXml(enc(xml), "test.xml");
}

describe("readMusicXml: one part", () => {
  const xml = score([
    [
      "<part-name>Flute</part-name>",
      measure(
        1,
        attrs(
          "<divisions>2</divisions><key><fifths>-1</fifths><mode>major</mode></key><time><beats>3</beats><beat-type>4</beat-type></time>",
        ) +
          tempo60 +
          note("C", 4, 2) +
          note("D", 4, 1) +
          rest(1) +
          note("E", 4, 2) +
          note("G", 4, 2, "", 0).replace("<pitch>", "<chord/><pitch>"),
      ) + measure(2, note("C", 5, 3, "<dot/>") + note("B", 4, 1, "", -1) + note("A", 4, 2)),
    ],
  ]);
  const ns = read(xml);

  it("has MusicXML source info, ticks per quarter from <divisions>, and the part's name", () => {
    expect(ns.sourceInfo).toEqual({
      sourceType: SourceType.SCORE_BASED,
      encodingType: EncodingType.MUSIC_XML,
      parser: Parser.MAGENTA_MUSIC_XML,
    });
    expect(ns.ticksPerQuarter).toBe(2);
    expect(ns.partInfos).toEqual([{ part: 0, name: "Flute" }]);
    expect(ns.instrumentInfos).toEqual([{ instrument: 0, name: "Flute" }]);
  });

  it("reads tempo, time and key signatures", () => {
    expect(ns.tempos).toEqual([{ time: 0, qpm: 60 }]);
    expect(ns.timeSignatures).toEqual([{ time: 0, numerator: 3, denominator: 4 }]);
    expect(ns.keySignatures).toEqual([{ time: 0, key: 5, mode: KeyMode.MAJOR }]); // one flat: F major
  });

  it("reads notes, rests, chords, dots and alters", () => {
    expect(notes(ns)).toEqual([
      [60, 0, 1],
      [62, 1, 1.5],
      // rest 1.5 - 2
      [64, 2, 3],
      [67, 2, 3], // <chord/>: same onset
      [72, 3, 4.5],
      [70, 4.5, 5],
      [69, 5, 6],
    ]);
    expect(ns.totalTime).toBe(6);
    for (const n of ns.notes) {
      expect(n).toMatchObject({ velocity: 64, voice: 1, part: 0, instrument: 0, program: 0, isDrum: false });
    }
    // Duration as a fraction of a whole note.
    expect(ns.notes.map((n) => `${n.numerator}/${n.denominator}`)).toEqual([
      "1/4",
      "1/8",
      "1/4",
      "1/4",
      "3/8",
      "1/8",
      "1/4",
    ]);
  });

  it("without tempo marks uses 120 qpm", () => {
    const plain = read(
      score([["", measure(1, attrs("<divisions>1</divisions>") + note("C", 4, 1) + note("D", 4, 2))]]),
    );
    expect(plain.tempos).toEqual([{ time: 0, qpm: 120 }]);
    expect(notes(plain)).toEqual([
      [60, 0, 0.5],
      [62, 0.5, 1.5],
    ]);
    expect(plain.keySignatures).toEqual([]);
    expect(plain.timeSignatures).toEqual([]);
  });
});

describe("readMusicXml: parts, instruments, voices and velocities", () => {
  const xml = score([
    [
      "<part-name>Violin</part-name><score-instrument id='P1-I1'><instrument-name>Violin</instrument-name></score-instrument>" +
        "<midi-instrument id='P1-I1'><midi-channel>1</midi-channel><midi-program>41</midi-program></midi-instrument>",
      measure(
        1,
        attrs("<divisions>1</divisions><time><beats>4</beats><beat-type>4</beat-type></time>") +
          tempo60 +
          `<direction><direction-type><dynamics><ff/></dynamics></direction-type></direction>` +
          note("E", 5, 2) +
          note("D", 5, 2) +
          "<backup><duration>4</duration></backup>" +
          note("C", 5, 1, "", 0, 2) +
          "<forward><duration>2</duration></forward>" +
          note("B", 4, 1, "", 0, 2),
      ),
    ],
    [
      "<part-name>Cello</part-name><midi-instrument id='P2-I1'><midi-channel>2</midi-channel><midi-program>43</midi-program></midi-instrument>",
      measure(
        1,
        attrs("<divisions>1</divisions>") +
          `<direction><direction-type><dynamics><p/></dynamics></direction-type><sound dynamics="50"/></direction>` +
          note("C", 3, 2) +
          note("G", 2, 2).replace("<note>", '<note dynamics="100">'),
      ),
    ],
  ]);
  const ns = read(xml);

  it("gives each part its program (0-based), instrument and name", () => {
    expect(ns.partInfos).toEqual([
      { part: 0, name: "Violin" },
      { part: 1, name: "Cello" },
    ]);
    expect(ns.instrumentInfos).toEqual([
      { instrument: 0, name: "Violin" },
      { instrument: 1, name: "Cello" },
    ]);
    const byPart = (p: number) => ns.notes.filter((n) => n.part === p);
    for (const n of byPart(0)) expect(n).toMatchObject({ program: 40, instrument: 0 });
    for (const n of byPart(1)) expect(n).toMatchObject({ program: 42, instrument: 1 });
  });

  it("reads voices through <backup> and <forward>", () => {
    expect(notes(ns).slice(0, 4)).toEqual([
      [76, 0, 2],
      [74, 2, 4],
      [72, 0, 1],
      [71, 3, 4],
    ]);
    expect(ns.notes.slice(0, 4).map((n) => n.voice)).toEqual([1, 1, 2, 2]);
  });

  it("takes velocities from dynamics marks, <sound dynamics> (percent of 90) and the note's dynamics", () => {
    expect(ns.notes.map((n) => n.velocity)).toEqual([120, 120, 120, 120, 45, 90]);
    // Each part starts at the default 64 (the Cello's mark comes with <sound dynamics>, which wins).
    const fresh = read(
      score([
        ["", measure(1, `${attrs("<divisions>1</divisions>")}<sound dynamics="80"/>${note("C", 4, 1)}`)],
        ["", measure(1, attrs("<divisions>1</divisions>") + note("C", 4, 1))],
      ]),
    );
    expect(fresh.notes.map((n) => n.velocity)).toEqual([72, 64]);
  });

  it("uses the tempo of any part for all parts", () => {
    expect(ns.tempos).toEqual([{ time: 0, qpm: 60 }]);
    expect(notes(ns).slice(4)).toEqual([
      [48, 0, 2],
      [43, 2, 4],
    ]);
  });
});

describe("readMusicXml: ties, tuplets, grace and cue notes", () => {
  it("merges tied notes, across bar lines and in chords", () => {
    const tie = (t: string) => `<tie type="${t}"/>`;
    const ns = read(
      score([
        [
          "",
          measure(
            1,
            attrs("<divisions>1</divisions>") +
              tempo60 +
              note("C", 4, 2) +
              note("E", 4, 2, tie("start")) +
              note("G", 4, 2, tie("start")).replace("<pitch>", "<chord/><pitch>"),
          ) +
            measure(
              2,
              note("E", 4, 1, tie("stop") + tie("start")) +
                note("G", 4, 1, tie("stop")).replace("<pitch>", "<chord/><pitch>") +
                note("E", 4, 1, tie("stop")) +
                // A tie stop with nothing to continue is a note of its own.
                note("F", 4, 1, tie("stop")) +
                // <tied> (notation) alone also ties.
                note("A", 4, 1, "<notations><tied type='start'/></notations>"),
            ) +
            measure(3, note("A", 4, 4, "<notations><tied type='stop'/></notations>")),
        ],
      ]),
    );
    expect(notes(ns)).toEqual([
      [60, 0, 2],
      [64, 2, 6],
      [67, 2, 5],
      [65, 6, 7],
      [69, 7, 12],
    ]);
  });

  it("takes tuplets from the durations (3 eighths in the time of 2)", () => {
    const tm =
      "<time-modification><actual-notes>3</actual-notes><normal-notes>2</normal-notes></time-modification>";
    const ns = read(
      score([
        [
          "",
          measure(
            1,
            attrs("<divisions>3</divisions>") +
              tempo60 +
              note("C", 4, 1, `<type>eighth</type>${tm}`) +
              note("D", 4, 1, `<type>eighth</type>${tm}`) +
              note("E", 4, 1, `<type>eighth</type>${tm}`) +
              note("F", 4, 3),
          ),
        ],
      ]),
    );
    expect(notes(ns).map(([p, s, e]) => [p, +s.toFixed(6), +e.toFixed(6)])).toEqual([
      [60, 0, 0.333333],
      [62, 0.333333, 0.666667],
      [64, 0.666667, 1],
      [65, 1, 2],
    ]);
    expect(ns.ticksPerQuarter).toBe(3);
    expect(ns.notes.map((n) => `${n.numerator}/${n.denominator}`)).toEqual(["1/12", "1/12", "1/12", "1/4"]);
  });

  it("drops grace notes (and their chords) and cue notes, which take no time", () => {
    const grace = (step: string, chord = false) =>
      `<note><grace/>${chord ? "<chord/>" : ""}<pitch><step>${step}</step><octave>5</octave></pitch><voice>1</voice><type>eighth</type></note>`;
    const ns = read(
      score([
        [
          "",
          measure(
            1,
            attrs("<divisions>1</divisions>") +
              tempo60 +
              grace("D") +
              grace("F", true) +
              note("C", 5, 1) +
              note("E", 5, 1).replace("<pitch>", "<cue/><pitch>") +
              note("G", 5, 1),
          ),
        ],
      ]),
    );
    expect(notes(ns)).toEqual([
      [72, 0, 1],
      [79, 2, 3],
    ]);
  });

  it("uses <type>, dots and time modification when a note has no <duration>", () => {
    const ns = read(
      score([
        [
          "",
          measure(
            1,
            attrs("<divisions>1</divisions>") +
              tempo60 +
              "<note><pitch><step>C</step><octave>4</octave></pitch><type>quarter</type><dot/></note>" +
              "<note><pitch><step>D</step><octave>4</octave></pitch><type>eighth</type></note>",
          ),
        ],
      ]),
    );
    expect(notes(ns)).toEqual([
      [60, 0, 1.5],
      [62, 1.5, 2],
    ]);
  });
});

describe("readMusicXml: pitch, keys, transposition and time changes", () => {
  it("crosses the octave for altered steps (Cb4 = 59, B#3 = 60) and rounds microtones", () => {
    const ns = read(
      score([
        [
          "",
          measure(
            1,
            attrs("<divisions>1</divisions>") +
              note("C", 4, 1, "", -1) +
              note("B", 3, 1, "", 1) +
              note("E", 4, 1, "", -0.5) +
              note("F", 4, 1, "", 2),
          ),
        ],
      ]),
    );
    expect(ns.notes.map((n) => n.pitch)).toEqual([59, 60, 64, 67]);
  });

  it("plays transposing instruments at sounding pitch, key included", () => {
    const clarinet =
      "<part-name>Clarinet in Bb</part-name><midi-instrument id='P1-I1'><midi-channel>1</midi-channel><midi-program>72</midi-program></midi-instrument>";
    const ns = read(
      score([
        [
          clarinet,
          measure(
            1,
            attrs(
              "<divisions>1</divisions><key><fifths>2</fifths><mode>major</mode></key>" +
                "<transpose><diatonic>-1</diatonic><chromatic>-2</chromatic></transpose>",
            ) + note("D", 4, 1),
          ) +
            measure(
              2,
              attrs(
                "<transpose><diatonic>-1</diatonic><chromatic>-2</chromatic><octave-change>-1</octave-change></transpose>",
              ) + note("D", 4, 1),
            ),
        ],
      ]),
    );
    expect(ns.notes.map((n) => n.pitch)).toEqual([60, 48]);
    expect(ns.notes[0].program).toBe(71);
    expect(ns.keySignatures).toEqual([{ time: 0, key: 0, mode: KeyMode.MAJOR }]); // written D major = concert C
  });

  it("reads key modes and time, key and tempo changes (sound tempo and metronome marks)", () => {
    const metronome =
      "<direction><direction-type><metronome><beat-unit>quarter</beat-unit><beat-unit-dot/><per-minute>40</per-minute></metronome></direction-type></direction>";
    const ns = read(
      score([
        [
          "",
          measure(
            1,
            attrs(
              "<divisions>1</divisions><key><fifths>-3</fifths><mode>minor</mode></key><time><beats>2</beats><beat-type>4</beat-type></time>",
            ) +
              tempo60 +
              note("C", 4, 2),
          ) +
            measure(
              2,
              attrs(
                "<key><fifths>1</fifths><mode>dorian</mode></key><time><beats>6</beats><beat-type>8</beat-type></time>",
              ) +
                metronome +
                note("A", 4, 3),
            ) +
            measure(
              3,
              attrs("<time><beats>3+2</beats><beat-type>8</beat-type></time>") +
                `<sound tempo="120"/>` +
                note("B", 4, 2),
            ),
        ],
      ]),
    );
    expect(ns.keySignatures).toEqual([
      { time: 0, key: 0, mode: KeyMode.MINOR }, // 3 flats, minor: C minor
      { time: 2, key: 9, mode: KeyMode.DORIAN }, // 1 sharp, dorian: A dorian
    ]);
    expect(ns.timeSignatures).toEqual([
      { time: 0, numerator: 2, denominator: 4 },
      { time: 2, numerator: 6, denominator: 8 },
      { time: 5, numerator: 5, denominator: 8 },
    ]);
    // Dotted quarter = 40 is 60 quarters a minute.
    expect(ns.tempos).toEqual([
      { time: 0, qpm: 60 },
      { time: 5, qpm: 120 },
    ]);
    // The metronome's 60 is no change; measure 3 at 120 qpm lasts 2 quarters = 1 s.
    expect(notes(ns)).toEqual([
      [60, 0, 2],
      [69, 2, 5],
      [71, 5, 6],
    ]);
    expect(ns.totalTime).toBe(6);
  });

  it("keeps the parts' measures together when one part pads a short measure with <forward>", () => {
    // Finale writes a one-beat pickup as a rest plus forward padding in resting parts; the measure is
    // one beat long, as the part with notes says.
    const ns = read(
      score([
        [
          "",
          measure(
            1,
            attrs("<divisions>1</divisions><time><beats>3</beats><beat-type>4</beat-type></time>") +
              tempo60 +
              rest(1) +
              "<forward><duration>2</duration></forward>",
          ) + measure(2, note("C", 5, 3)),
        ],
        ["", measure(1, attrs("<divisions>1</divisions>") + note("G", 4, 1)) + measure(2, note("E", 4, 3))],
      ]),
    );
    expect(notes(ns)).toEqual([
      [72, 1, 4],
      [67, 0, 1],
      [64, 1, 4],
    ]);
    // A measure that only <forward> fills in every part keeps its length (hidden rests).
    const hidden = read(
      score([
        [
          "",
          measure(
            1,
            attrs("<divisions>1</divisions>") +
              tempo60 +
              note("C", 4, 1) +
              "<forward><duration>3</duration></forward>",
          ) + measure(2, note("D", 4, 4)),
        ],
      ]),
    );
    expect(notes(hidden)).toEqual([
      [60, 0, 1],
      [62, 4, 8],
    ]);
  });

  it("puts ticks per quarter at the LCM of the parts' divisions", () => {
    const ns = read(
      score([
        ["", measure(1, attrs("<divisions>2</divisions>") + note("C", 4, 2))],
        ["", measure(1, attrs("<divisions>3</divisions>") + note("C", 3, 3))],
      ]),
    );
    expect(ns.ticksPerQuarter).toBe(6);
  });
});

describe("readMusicXml: other encodings", () => {
  it("reads unpitched percussion as drums at its <midi-unpitched> key", () => {
    const drums =
      "<part-name>Drums</part-name><score-instrument id='P1-I36'><instrument-name>Bass Drum</instrument-name></score-instrument>" +
      "<midi-instrument id='P1-I36'><midi-channel>10</midi-channel><midi-program>1</midi-program><midi-unpitched>36</midi-unpitched></midi-instrument>";
    const ns = read(
      score([
        [
          drums,
          measure(
            1,
            attrs("<divisions>1</divisions>") +
              "<note><unpitched><display-step>F</display-step><display-octave>4</display-octave></unpitched><duration>1</duration><instrument id='P1-I36'/><voice>1</voice></note>",
          ),
        ],
      ]),
    );
    expect(ns.notes).toHaveLength(1);
    expect(ns.notes[0]).toMatchObject({ pitch: 35, isDrum: true, program: 0 });
  });

  it("reads chord symbols as text annotations", () => {
    const harmony =
      "<harmony><root><root-step>F</root-step><root-alter>1</root-alter></root><kind>minor-seventh</kind><bass><bass-step>E</bass-step></bass></harmony>";
    const ns = read(
      score([
        [
          "",
          measure(
            1,
            attrs("<divisions>1</divisions>") + tempo60 + note("C", 4, 1) + harmony + note("A", 4, 1),
          ),
        ],
      ]),
    );
    expect(ns.textAnnotations).toEqual([{ time: 1, quantizedStep: 0, text: "F#m7/E", annotationType: 1 }]);
  });

  it("reads timewise scores like partwise ones", () => {
    const partwise = score([
      [
        "<part-name>A</part-name>",
        measure(1, attrs("<divisions>1</divisions>") + note("C", 4, 1)) + measure(2, note("D", 4, 1)),
      ],
      [
        "<part-name>B</part-name>",
        measure(1, attrs("<divisions>1</divisions>") + note("E", 3, 1)) + measure(2, note("F", 3, 1)),
      ],
    ]);
    const timewise = `<?xml version="1.0"?><score-timewise><part-list><score-part id="P1"><part-name>A</part-name></score-part><score-part id="P2"><part-name>B</part-name></score-part></part-list>
      <measure number="1"><part id="P1">${attrs("<divisions>1</divisions>") + note("C", 4, 1)}</part><part id="P2">${attrs("<divisions>1</divisions>") + note("E", 3, 1)}</part></measure>
      <measure number="2"><part id="P1">${note("D", 4, 1)}</part><part id="P2">${note("F", 3, 1)}</part></measure></score-timewise>`;
    expect(read(timewise)).toEqual(read(partwise));
  });

  it("reads UTF-16 files with a byte-order mark and Latin-1 files that say so", () => {
    const xml = score([["<part-name>Fl\u00fbte</part-name>", measure(1, note("C", 4, 1))]], false).replace(
      'encoding="UTF-8"',
      'encoding="UTF-16"',
    );
    const utf16 = new Uint8Array(2 + xml.length * 2);
    utf16.set([0xff, 0xfe]);
    for (let i = 0; i < xml.length; i++) {
      utf16[2 + 2 * i] = xml.charCodeAt(i) & 0xff;
      utf16[3 + 2 * i] = xml.charCodeAt(i) >> 8;
    }
    expect(readMusicXml(utf16).partInfos[0].name).toBe("Fl\u00fbte");
    const latin = xml.replace('encoding="UTF-16"', 'encoding="ISO-8859-1"');
    const latinBytes = Uint8Array.from(latin, (c) => c.charCodeAt(0));
    expect(readMusicXml(latinBytes).partInfos[0].name).toBe("Fl\u00fbte");
  });
});

describe("readMusicXml: compressed .mxl", () => {
  const xml = score([
    ["<part-name>Oboe</part-name>", measure(1, attrs("<divisions>1</divisions>") + note("C", 5, 1))],
  ]);
  const container = `<?xml version="1.0" encoding="UTF-8"?>
<container><rootfiles>
  <rootfile full-path="preview.png" media-type="image/png"/>
  <rootfile full-path="scores/oboe.musicxml" media-type="application/vnd.recordare.musicxml+xml"/>
</rootfiles></container>`;

  it("reads the score that META-INF/container.xml names", () => {
    const mxl = zipSync({
      mimetype: strToU8("application/vnd.recordare.musicxml"),
      "META-INF/container.xml": strToU8(container),
      "scores/oboe.musicxml": strToU8(xml),
      "decoy.xml": strToU8("<not-a-score/>"),
    });
    expect(readMusicXml(mxl, "oboe.mxl")).toEqual(read(xml));
  });

  it("without a container, reads the first .xml outside META-INF", () => {
    const mxl = zipSync({ "META-INF/other.xml": strToU8("<x/>"), "oboe.xml": strToU8(xml) });
    expect(readMusicXml(mxl, "oboe.mxl").notes).toHaveLength(1);
  });

  it("explains a zip without a score, a container naming a missing file and a .mxl that is no zip", () => {
    const noScore = zipSync({
      "readme.txt": strToU8("hello"),
      "META-INF/container.xml": strToU8("<container/>"),
    });
    expect(() => readMusicXml(noScore, "a.mxl")).toThrow(MusicXmlError);
    expect(() => readMusicXml(noScore, "a.mxl")).toThrow(
      "the zip archive holds no MusicXML score (no rootfile in META-INF/container.xml and no .xml or .musicxml file)",
    );
    const missing = zipSync({ "META-INF/container.xml": strToU8(container) });
    expect(() => readMusicXml(missing, "a.mxl")).toThrow(
      "META-INF/container.xml names the score scores/oboe.musicxml, which is not in the zip archive",
    );
    expect(() => readMusicXml(enc(xml), "a.mxl")).toThrow(
      "a .mxl file must be a zip archive, and this one is not",
    );
    const truncated = zipSync({ "oboe.xml": strToU8(xml) }).subarray(0, 60);
    expect(() => readMusicXml(truncated, "a.mxl")).toThrow(MusicXmlError);
    const badInner = zipSync({ "oboe.xml": strToU8("<score-partwise><part>") });
    expect(() => readMusicXml(badInner, "a.mxl")).toThrow(
      /^malformed XML in oboe\.xml \(in the zip archive\) at line 1/,
    );
  });
});

describe("readMusicXml: bad input", () => {
  it("reports malformed XML with its line and column", () => {
    const bad = score([["", measure(1, note("C", 4, 1))]]).replace("</measure>", "</measur>");
    let error: unknown;
    try {
      read(bad);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(MusicXmlError);
    expect((error as Error).message).toMatch(/^malformed XML at line 5, column \d+: /);
    expect(() => read("")).toThrow("the file is empty");
    expect(() => read("just text")).toThrow(/^malformed XML/);
  });

  it("refuses documents that are not scores, and bad values, saying where", () => {
    expect(() => read('<?xml version="1.0"?><html><body/></html>')).toThrow(
      "the root element is <html>, not <score-partwise> or <score-timewise>: not a MusicXML score",
    );
    const badStep = score([["", measure(7, attrs("<divisions>1</divisions>") + note("H", 4, 1))]]);
    expect(() => read(badStep)).toThrow("part P1, measure 7: cannot read the pitch step 'H'");
    const badDivisions = score([["", measure(1, attrs("<divisions>0</divisions>") + note("C", 4, 1))]]);
    expect(() => read(badDivisions)).toThrow("part P1, measure 1: bad <divisions> 0");
    const noPitch = score([["", measure(1, "<note><duration>1</duration></note>")]]);
    expect(() => read(noPitch)).toThrow("a note has no <pitch>, <unpitched> or <rest>");
    const tooHigh = score([["", measure(1, note("C", 10, 1))]]);
    expect(() => read(tooHigh)).toThrow("pitch 132 is outside the MIDI range 0..127");
  });
});

describe("readMusicXml: damaged files", () => {
  it("throws nothing but MusicXmlError for any bytes, zipped or not", () => {
    const xml = enc(
      score([
        [
          "<part-name>P</part-name><midi-instrument id='I1'><midi-program>1</midi-program></midi-instrument>",
          measure(
            1,
            attrs("<divisions>2</divisions><key><fifths>1</fifths></key>") + tempo60 + note("C", 4, 2),
          ) +
            measure(
              2,
              note("D", 4, 1, "<tie type='start'/>") + note("D", 4, 1, "<tie type='stop'/>") + rest(2),
            ),
        ],
      ]),
    );
    const mxl = zipSync({ "score.xml": xml });
    fc.assert(
      fc.property(
        fc.boolean(),
        fc.array(fc.record({ at: fc.nat(), byte: fc.integer({ min: 0, max: 255 }) }), {
          minLength: 1,
          maxLength: 8,
        }),
        (zipped, edits) => {
          const bytes = Uint8Array.from(zipped ? mxl : xml);
          for (const { at, byte } of edits) bytes[at % bytes.length] = byte;
          try {
            const ns = readMusicXml(bytes, zipped ? "s.mxl" : "s.xml");
            for (const n of ns.notes) expect(n.endTime).toBeGreaterThan(n.startTime);
          } catch (e) {
            if (!(e instanceof MusicXmlError)) throw e;
          }
        },
      ),
      { numRuns: 1000 },
    );
  });
});
