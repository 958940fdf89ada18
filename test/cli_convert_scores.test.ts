/**
 * `polyrnn convert` on a folder of MusicXML, compressed MusicXML, ABC and MIDI files: the good ones
 * (and the good tunes of a tunebook) convert, the bad ones are reported by name and skipped, exit 0.
 */
import { createHash } from "node:crypto";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { strToU8, zipSync } from "fflate";
import { describe, expect, it } from "vitest";
import { decodeNoteSequence } from "../src/io/notesequence_proto.js";
import { decodeTFRecords } from "../src/io/tfrecord.js";
import { ROOT, runCli, tempDir } from "./helpers/cli.js";

const sha1 = (s: string) => createHash("sha1").update(s).digest("hex");

const GOOD_XML = `<?xml version="1.0" encoding="UTF-8"?>
<score-partwise version="4.0">
  <part-list><score-part id="P1"><part-name>Voice</part-name></score-part></part-list>
  <part id="P1">
    <measure number="1">
      <attributes><divisions>1</divisions><time><beats>4</beats><beat-type>4</beat-type></time></attributes>
      <sound tempo="60"/>
      <note><pitch><step>C</step><octave>4</octave></pitch><duration>2</duration><voice>1</voice></note>
      <note><pitch><step>E</step><octave>4</octave></pitch><duration>2</duration><voice>1</voice></note>
    </measure>
  </part>
</score-partwise>`;

const BOOK = `X:1
T:Good tune
L:1/4
K:D
DEF|

X:2
T:Bad tune
J:not a field
K:C
CDE|
`;

describe("convert a folder of scores (MusicXML, .mxl, ABC) and MIDI", () => {
  it("converts the good files and tunes, names the bad ones with the reason, and exits 0", () => {
    const dir = tempDir();
    writeFileSync(join(dir, "good.xml"), GOOD_XML);
    writeFileSync(join(dir, "broken.xml"), GOOD_XML.replace("</part>", "</prt>"));
    writeFileSync(join(dir, "book.abc"), BOOK);
    writeFileSync(join(dir, "noscore.mxl"), zipSync({ "readme.txt": strToU8("no score in here") }));
    writeFileSync(join(dir, "tune.mid"), readFileSync(join(ROOT, "examples/midi/seed1.mid")));
    const out = join(tempDir(), "scores.tfrecord");

    const r = runCli("polyrnn", ["convert", `--input_dir=${dir}`, `--output_file=${out}`, "--jobs=2"]);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stderr).toContain("Converted 3 files to 3 NoteSequences");
    const lineAbout = (name: string) =>
      r.stderr.split("\n").find((l) => l.includes(name) && !l.startsWith("warning"));
    expect(lineAbout("broken.xml")).toMatch(/broken\.xml: malformed XML at line \d+, column \d+: /);
    expect(lineAbout("noscore.mxl")).toContain("noscore.mxl: the zip archive holds no MusicXML score");
    expect(lineAbout("book.abc")).toContain(
      `book.abc: tune 2 (X:2 "Bad tune"): line 9: unknown information field 'J:'; the tune was skipped`,
    );
    expect(r.stderr).not.toContain("not supported");

    const seqs = [...decodeTFRecords(readFileSync(out))].map(decodeNoteSequence);
    const collection = dir.split("/").pop() as string;
    expect(seqs.map((s) => [s.filename, s.id])).toEqual([
      ["book.abc", `/id/abc/${collection}/${sha1("book.abc_1")}`],
      ["good.xml", `/id/musicxml/${collection}/${sha1("good.xml")}`],
      ["tune.mid", `/id/midi/${collection}/${sha1("tune.mid")}`],
    ]);
    const [abc, xml, mid] = seqs;
    expect(abc.notes.map((n) => n.pitch)).toEqual([62, 64, 66]);
    expect(abc.sequenceMetadata?.title).toBe("Good tune");
    expect(xml.notes.map((n) => [n.pitch, n.startTime, n.endTime])).toEqual([
      [60, 0, 2],
      [64, 2, 4],
    ]);
    expect(xml.partInfos).toEqual([{ part: 0, name: "Voice" }]);
    expect(mid.notes.length).toBe(12);
  });
});
