import { createHash } from "node:crypto";
import fc from "fast-check";
import { expect, it } from "vitest";
import { noteSequenceId } from "../src/io/convert.js";
import { sha1Hex } from "../src/io/sha1.js";

it("sha1Hex equals Node's SHA-1 for any bytes, across block boundaries", () => {
  expect(sha1Hex(new TextEncoder().encode("abc"))).toBe("a9993e364706816aba3e25717850c26c9cd0d89d");
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 300 }), (bytes) => {
      expect(sha1Hex(bytes)).toBe(createHash("sha1").update(bytes).digest("hex"));
    }),
    { numRuns: 300 },
  );
});

it("NoteSequence ids are Magenta's /id/<kind>/<collection>/<sha1 of filename>", () => {
  expect(noteSequenceId("midi", "schubert", "schu_143_3.mid")).toBe(
    `/id/midi/schubert/${createHash("sha1").update("schu_143_3.mid").digest("hex")}`,
  );
});
