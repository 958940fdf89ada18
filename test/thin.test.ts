import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { decodeSequenceExample } from "../src/dataset/sequence_example.js";
import {
  type EventId,
  EventType,
  encodeIds,
  eventToId,
  fromQuantizedSequence,
  idToEvent,
  START,
} from "../src/events/codec.js";
import { readMidi } from "../src/io/midi.js";
import { decodeTFRecords } from "../src/io/tfrecord.js";
import { createNote, createNoteSequence } from "../src/notesequence.js";
import { DEFAULT_DATASET_OPTIONS, processNoteSequence } from "../src/pipeline/dataset.js";
import { THIN_OPENING_STEPS, thinOpening, thinOpenings } from "../src/pipeline/thin.js";
import { buildDataset } from "../src/train/session.js";
import { ROOT, runCli, tempDir } from "./helpers/cli.js";

/** A quantized four-voice texture: each voice a note every `every[v]` steps, 40 steps long. */
function fourVoices(): EventId[] {
  const voices = [
    { pitches: [72, 74, 76, 74, 72], every: 8 },
    { pitches: [67, 65, 67, 69, 67], every: 8 },
    { pitches: [64, 62, 60, 62, 64], every: 8 },
    { pitches: [48, 43, 45, 41, 48], every: 8 },
  ];
  const notes = voices.flatMap((v, i) =>
    v.pitches.map((pitch, k) =>
      // The alto moves 4 steps after the others, so that onsets differ.
      createNote({
        pitch,
        quantizedStartStep: k * v.every + (i === 1 ? 4 : 0),
        quantizedEndStep: Math.min(40, (k + 1) * v.every + (i === 1 ? 4 : 0)),
      }),
    ),
  );
  const qns = createNoteSequence({
    quantizationInfo: { stepsPerQuarter: 4, stepsPerSecond: 0 },
    totalQuantizedSteps: 40,
    notes: notes.filter((n) => n.quantizedStartStep < 40),
  });
  return encodeIds(fromQuantizedSequence(qns));
}

/** Per step, the pitches struck (NEW) and held (CONTINUED). */
function steps(ids: readonly EventId[]): { struck: number[]; held: number[] }[] {
  const out: { struck: number[]; held: number[] }[] = [{ struck: [], held: [] }];
  for (const id of ids) {
    const e = idToEvent(id);
    if (e.type === EventType.NEW_NOTE) out[out.length - 1].struck.push(e.pitch);
    if (e.type === EventType.CONTINUED_NOTE) out[out.length - 1].held.push(e.pitch);
    if (e.type === EventType.STEP_END) out.push({ struck: [], held: [] });
  }
  return out.slice(0, -1);
}

describe("thin openings (polyrnn dataset --thin_openings)", () => {
  it("keeps the highest (and lowest) note of each onset in the first steps; the other voices enter at their next onset", () => {
    const ids = fourVoices();
    const one = steps(thinOpening(ids, 12, 1));
    const full = steps(ids);
    expect(one).toHaveLength(full.length);
    // Steps 0–11: the highest note of each onset only (the soprano at 0 and 8; the alto's 67 at 4 is the
    // highest note struck there, so it is kept too and sounds beside the soprano).
    expect(one[0]).toEqual({ struck: [72], held: [] });
    expect(one[4]).toEqual({ struck: [67], held: [72] });
    expect(one[8]).toEqual({ struck: [74], held: [67] });
    // The alto's 67 (4–12) ends; tenor and bass come in at their next onset (16), the alto at 12.
    expect(one[12]).toEqual({ struck: [65], held: [74] });
    expect(one[16]).toEqual(full[16]);
    for (let s = 16; s < full.length; s++) expect(one[s]).toEqual(full[s]);
    const two = steps(thinOpening(ids, 12, 2));
    expect(two[0]).toEqual({ struck: [72, 48], held: [] });
    expect(two[8]).toEqual({ struck: [74, 43], held: [67] });
  });

  it("a window cut before its piece's end (no END) is thinned alike and stays without END", () => {
    const ids = fourVoices();
    const cut = ids.slice(0, -1);
    expect(idToEvent(cut.at(-1) ?? -1).type).toBe(EventType.STEP_END);
    const thinned = thinOpening(cut, 12, 2);
    expect(thinned).toEqual(thinOpening(ids, 12, 2).slice(0, -1));
    expect(thinned.map(idToEvent).some((e) => e.type === EventType.END)).toBe(false);
    expect(thinOpening(cut, 0, 1)).toEqual(cut);
  });

  it("with no steps, and on every track of the example files, a zero-length opening gives the events back", () => {
    expect(thinOpening(fourVoices(), 0, 1)).toEqual(fourVoices());
    let tracks = 0;
    for (const name of ["seed1.mid", "seed2.mid", "startSchubert_contBach_10.mid"]) {
      const ns = readMidi(readFileSync(join(ROOT, "examples/midi", name)));
      const p = processNoteSequence(
        ns,
        "training",
        { ...DEFAULT_DATASET_OPTIONS, minSteps: 1, transposeRange: [0] },
        {},
      );
      for (const ids of p.tracks) {
        expect(thinOpening(ids, 0, 2)).toEqual(ids);
        tracks++;
      }
    }
    expect(tracks).toBeGreaterThan(0);
  });

  it("chooses the tracks, lengths and voices by a hash of seed, input and track", () => {
    const many = () => Array.from({ length: 400 }, () => fourVoices());
    const a = many();
    const { thinned: n, failed } = thinOpenings(a, "piece", 0.25, 1);
    expect(failed).toBe(0);
    expect(n).toBeGreaterThan(70);
    expect(n).toBeLessThan(130);
    const again = many();
    expect(thinOpenings(again, "piece", 0.25, 1).thinned).toBe(n);
    expect(again).toEqual(a);
    const other = many();
    thinOpenings(other, "piece", 0.25, 2);
    expect(other).not.toEqual(a);
    const none = many();
    expect(thinOpenings(none, "piece", 0, 1)).toEqual({ thinned: 0, failed: 0 });
    expect(none).toEqual(many());
    const all = many();
    expect(thinOpenings(all, "piece", 1, 1)).toEqual({ thinned: 400, failed: 0 });
    // Every opening lasts 8 to 32 steps: step 0 has one or two voices, step 32 the full four.
    for (const ids of all) {
      const s = steps(ids);
      expect(s[0].struck.length).toBeLessThanOrEqual(2);
      expect(s[32].struck.length + s[32].held.length).toBe(4);
    }
    expect(THIN_OPENING_STEPS).toEqual({ min: 8, max: 32 });
    // In the first 8 steps (the shortest opening) no step strikes more than two notes.
    for (const ids of all)
      for (const s of steps(ids).slice(0, 8)) expect(s.struck.length).toBeLessThanOrEqual(2);
  });

  it("buildDataset (the library's and the Studio's dataset) thins with thinOpenings, and counts them", () => {
    const ns = readMidi(readFileSync(join(ROOT, "examples/midi", "startSchubert_contBach_10.mid")));
    const opts = { ...DEFAULT_DATASET_OPTIONS, minSteps: 1, evalRatio: 0 };
    const plain = buildDataset([ns], opts);
    const thin = buildDataset([ns], { ...opts, thinOpenings: 1 });
    expect(thin.training).toHaveLength(plain.training.length);
    expect(thin.stats.polyrnn_thin_openings_training).toBe(plain.training.length);
    expect(thin.training).not.toEqual(plain.training);
    expect(plain.stats.polyrnn_thin_openings_training).toBeUndefined();
  });

  it("a track the decoder refuses stays as it was and counts as failed", () => {
    const broken = [eventToId(START), eventToId({ type: EventType.NEW_NOTE, pitch: 60 })]; // never ends
    const tracks = [broken, fourVoices()];
    expect(thinOpenings(tracks, "piece", 1, 1)).toEqual({ thinned: 1, failed: 1 });
    expect(tracks[0]).toEqual(broken);
    expect(tracks[1]).not.toEqual(fourVoices());
  });

  it("polyrnn dataset --thin_openings thins training tracks only, and refuses a share outside 0..1", () => {
    const dir = tempDir();
    const notes = join(dir, "notes.tfrecord");
    expect(
      runCli("polyrnn", ["convert", `--input_dir=${join(ROOT, "examples/midi")}`, `--output_file=${notes}`])
        .status,
    ).toBe(0);
    const make = (name: string, ...more: string[]) => {
      const out = join(dir, name);
      const r = runCli("polyrnn", [
        "dataset",
        `--input=${notes}`,
        `--output_dir=${out}`,
        "--eval_ratio=0.4",
        "--seed=3",
        "--min_steps=1",
        ...more,
      ]);
      expect(r.status, r.stderr).toBe(0);
      const read = (f: string) =>
        [...decodeTFRecords(readFileSync(join(out, f)))].map((b) => decodeSequenceExample(b).labels);
      return {
        stderr: r.stderr,
        training: read("training_poly_tracks.tfrecord"),
        eval: read("eval_poly_tracks.tfrecord"),
      };
    };
    const plain = make("plain");
    const thin = make("thin", "--thin_openings=1");
    expect(plain.eval.length).toBeGreaterThan(0);
    expect(thin.eval).toEqual(plain.eval);
    expect(thin.training).toHaveLength(plain.training.length);
    expect(thin.training).not.toEqual(plain.training);
    expect(thin.stderr).toContain(`polyrnn_thin_openings_training: ${plain.training.length}`);
    expect(plain.stderr).not.toContain("polyrnn_thin_openings");
    const bad = runCli("polyrnn", [
      "dataset",
      `--input=${notes}`,
      `--output_dir=${join(dir, "bad")}`,
      "--thin_openings=1.5",
    ]);
    expect(bad.status).toBe(2);
    expect(bad.stderr).toContain("--thin_openings is 1.5: it must be a number from 0 to 1");
  });
});
