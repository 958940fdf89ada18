/**
 * The library as code uses it: training from files' bytes with progress, stop and checkpoint callbacks
 * (src/train/session.ts), loadBundle on a checkpoint, kernels reused across generate calls, the Node
 * entry's file helpers (src/node.ts), and Magenta.js NoteSequence objects taken as they are.
 *
 * The Magenta.js objects are fixtures in the shapes @magenta/music 1.23 hands out (it is not a dev
 * dependency: it installs hundreds of MB): a plain `INoteSequence` literal as in its README (arrays and
 * fields missing), and what `NoteSequence.create`/`fromObject` return, protobuf.js message instances whose
 * defaults sit on the prototype (int64 fields as `Long {low, high, unsigned}`, sub-messages null).
 */
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import {
  buildDataset,
  convertFiles,
  createKernels,
  DEFAULT_DATASET_OPTIONS,
  generate,
  loadBundle,
  noteSequenceFromJson,
  noteSequenceToJson,
  parseHParams,
  readMidi,
  type StepMetrics,
  trainModel,
  writeMidi,
} from "../src/index.js";
import { loadBundleFile, readInputFiles, readMidiFile, writeMidiFile } from "../src/node.js";
import { createNote, createNoteSequence, type NoteSequence } from "../src/notesequence.js";
import { tinyPieceMidi } from "./browser/fixtures.js";
import { ROOT, tempDir } from "./helpers/cli.js";

const ABC = "X:1\nT:Scale\nM:4/4\nL:1/4\nK:C\nCDEF|GABc|cBAG|FEDC|\n";
const MUSICXML = `<?xml version="1.0"?>
<score-partwise version="3.1"><part-list><score-part id="P1"><part-name>P</part-name></score-part></part-list>
<part id="P1"><measure number="1"><attributes><divisions>1</divisions><time><beats>4</beats><beat-type>4</beat-type></time></attributes>
<note><pitch><step>C</step><octave>4</octave></pitch><duration>2</duration></note>
<note><pitch><step>E</step><octave>4</octave></pitch><duration>2</duration></note></measure></part></score-partwise>`;
const enc = (s: string) => new TextEncoder().encode(s);
const HPARAMS = parseHParams("batch_size=4,rnn_layer_sizes=[16],learning_rate=0.01,dropout_keep_prob=1.0");
const midiFiles = [0, 1, 2].map((k) => ({ name: `piece_${k}.mid`, bytes: tinyPieceMidi(k) }));

/** A protobuf.js Long (the fields Magenta.js's objects carry; `long` is not a dependency). */
function long(value: number) {
  return { low: value | 0, high: Math.floor(value / 2 ** 32), unsigned: false, toNumber: () => value };
}

/** A protobuf.js message instance: own fields as given, defaults on the prototype. */
function message<T extends object>(defaults: object, fields: T): T {
  return Object.assign(Object.create(defaults), fields);
}

const NOTE_DEFAULTS = {
  pitch: 0,
  velocity: 0,
  startTime: 0,
  endTime: 0,
  quantizedStartStep: long(0),
  quantizedEndStep: long(0),
  instrument: 0,
  program: 0,
  isDrum: false,
};
const SEQUENCE_DEFAULTS = {
  id: "",
  filename: "",
  totalTime: 0,
  totalQuantizedSteps: long(0),
  ticksPerQuarter: 0,
  quantizationInfo: null,
  sourceInfo: null,
  subsequenceInfo: null,
  sequenceMetadata: null,
};

/** Magenta.js's README example: notes with pitch and times only; no tempos, no other arrays. */
const TWINKLE = {
  notes: [
    { pitch: 60, startTime: 0.0, endTime: 0.5 },
    { pitch: 60, startTime: 0.5, endTime: 1.0 },
    { pitch: 67, startTime: 1.0, endTime: 1.5 },
    { pitch: 67, startTime: 1.5, endTime: 2.0 },
  ],
  totalTime: 2,
};

/** The same music as NoteSequence.create would hold it after quantizing: Longs and prototype defaults. */
function twinkleCreated() {
  const emptyArrays = {
    tempos: [],
    timeSignatures: [],
    keySignatures: [],
    pitchBends: [],
    controlChanges: [],
    partInfos: [],
    instrumentInfos: [],
    textAnnotations: [],
    sectionAnnotations: [],
    sectionGroups: [],
  };
  return message(SEQUENCE_DEFAULTS, {
    ...emptyArrays,
    notes: TWINKLE.notes.map((n, i) =>
      message(NOTE_DEFAULTS, {
        ...n,
        velocity: 100,
        quantizedStartStep: long(2 * i),
        quantizedEndStep: long(2 * i + 2),
      }),
    ),
    totalTime: 2,
    totalQuantizedSteps: long(8),
    quantizationInfo: { stepsPerQuarter: 4 },
  });
}

describe("Magenta.js NoteSequence objects", () => {
  it("noteSequenceFromJson reads protobuf.js Longs (also negative and above 2³²) and null sub-messages", () => {
    const ns = noteSequenceFromJson(twinkleCreated());
    expect(ns.totalQuantizedSteps).toBe(8);
    expect(ns.notes.map((n) => [n.quantizedStartStep, n.quantizedEndStep])).toEqual([
      [0, 2],
      [2, 4],
      [4, 6],
      [6, 8],
    ]);
    expect(ns.quantizationInfo?.stepsPerQuarter).toBe(4);
    expect(ns.sourceInfo).toBeUndefined();
    const big = noteSequenceFromJson({ totalQuantizedSteps: { low: 5, high: 1, unsigned: false } });
    expect(big.totalQuantizedSteps).toBe(2 ** 32 + 5);
    const negative = noteSequenceFromJson({ totalQuantizedSteps: { low: -3, high: -1, unsigned: false } });
    expect(negative.totalQuantizedSteps).toBe(-3);
  });

  it("is the identity on polyrnn's own NoteSequences", () => {
    for (const f of ["seed1.mid", "startSchubert_contBach_10.mid"]) {
      const ns = readMidi(readFileSync(join(ROOT, "test/fixtures/midi", f)));
      expect(noteSequenceFromJson(ns)).toEqual(ns);
    }
  });

  it("writeMidi takes an INoteSequence literal and a NoteSequence.create object as they are", () => {
    for (const input of [TWINKLE, twinkleCreated()]) {
      const back = readMidi(writeMidi(input));
      expect(back.notes.map((n) => [n.pitch, n.startTime, n.endTime])).toEqual(
        TWINKLE.notes.map((n) => [n.pitch, n.startTime, n.endTime]),
      );
    }
    // The bytes are a BlobPart under TypeScript's DOM types (Uint8Array<ArrayBuffer>).
    const part: BlobPart = writeMidi(TWINKLE);
    expect(part).toBeInstanceOf(Uint8Array);
  });

  it("generate takes a Magenta.js primer and makes what the same polyrnn primer makes", async () => {
    const bundle = loadBundle(readFileSync(join(ROOT, "models/schubert.safetensors")));
    const kernels = await createKernels("reference");
    // The literal, written out as a polyrnn NoteSequence (tempo 120, as Magenta.js assumes without one).
    const own = createNoteSequence({
      notes: TWINKLE.notes.map((n) => createNote(n)),
      tempos: [{ time: 0, qpm: 120 }],
      totalTime: 2,
    });
    const opts = { bundle, numSteps: 32, seed: 3, kernels };
    const expected = await generate({ ...opts, primer: own });
    expect(expected.notes.length).toBeGreaterThan(TWINKLE.notes.length);
    expect(noteSequenceToJson(await generate({ ...opts, primer: TWINKLE }))).toEqual(
      noteSequenceToJson(expected),
    );
    // NoteSequence.create's object differs in velocity and quantization only: the same music.
    const music = (ns: NoteSequence) => ns.notes.map((n) => [n.pitch, n.startTime, n.endTime]);
    expect(music(await generate({ ...opts, primer: twinkleCreated() }))).toEqual(music(expected));
    kernels.dispose();
  });
});

describe("training from code", () => {
  it("converts MIDI, MusicXML and ABC bytes, skipping other files with a reason", () => {
    const r = convertFiles(
      [
        ...midiFiles,
        { name: "scale.abc", bytes: enc(ABC) },
        { name: "two.xml", bytes: enc(MUSICXML) },
        { name: "notes.txt", bytes: enc("hello") },
      ],
      "mixed",
    );
    expect(r.sequences.map((s) => s.filename)).toEqual([
      "piece_0.mid",
      "piece_1.mid",
      "piece_2.mid",
      "scale.abc",
      "two.xml",
    ]);
    expect(r.sequences[3].id).toMatch(/^\/id\/abc\/mixed\/[0-9a-f]{40}$/);
    expect(r.sequences[4].notes.map((n) => n.pitch)).toEqual([60, 64]);
    expect(r.skipped).toEqual([
      { name: "notes.txt", reason: "not a MIDI, MusicXML or ABC file (by its extension)" },
    ]);
  });

  it("trains with progress, stop and checkpoint callbacks; a resumed run ends as the uninterrupted one", async () => {
    const data = buildDataset(convertFiles(midiFiles, "c").sequences, {
      ...DEFAULT_DATASET_OPTIONS,
      evalRatio: 0,
    });
    const kernels = await createKernels("reference");
    const common = { kernels, hparams: HPARAMS, tracks: data.training, seed: 5 };

    const steps: StepMetrics[] = [];
    const checkpoints: { step: number; bytes: Uint8Array }[] = [];
    const full = await trainModel({
      ...common,
      numSteps: 6,
      checkpointEverySteps: 4,
      onStep: (m) => steps.push(m),
      onCheckpoint: (bytes, step) => {
        checkpoints.push({ step, bytes });
      },
    });
    expect(steps.map((m) => m.step)).toEqual([1, 2, 3, 4, 5, 6]);
    expect(steps.every((m) => Number.isFinite(m.loss) && m.tokens > 0)).toBe(true);
    expect(checkpoints.map((c) => c.step)).toEqual([4, 6]); // every 4 steps, and at the end
    expect(full).toMatchObject({ step: 6, stopped: false });

    // Resumed from step 4: the same bundle, byte for byte.
    const resumed = await trainModel({ ...common, numSteps: 6, checkpoint: checkpoints[0].bytes });
    expect(resumed.step).toBe(6);
    expect(resumed.bundle).toEqual(full.bundle);

    // A checkpoint loads where a bundle is expected, with its hparams and step.
    const fromCheckpoint = loadBundle(checkpoints[1].bytes);
    expect(fromCheckpoint.step).toBe(6);
    expect(fromCheckpoint.hparams).toEqual(HPARAMS);
    expect(fromCheckpoint.weights).toEqual(loadBundle(full.bundle).weights);

    // Stopped through the signal after step 2.
    const stop = new AbortController();
    const stopped = await trainModel({
      ...common,
      numSteps: 100,
      signal: stop.signal,
      onStep: (m) => (m.step === 2 ? stop.abort() : undefined),
    });
    expect(stopped).toMatchObject({ step: 2, stopped: true });

    // Generates from the result, on the same kernels, as often as asked.
    const a = await generate({ bundle: loadBundle(full.bundle), numSteps: 32, seed: 1, kernels });
    const b = await generate({ bundle: fromCheckpoint, numSteps: 32, seed: 1, kernels });
    expect(noteSequenceToJson(b)).toEqual(noteSequenceToJson(a));
    kernels.dispose();
  });
});

describe("createKernels", () => {
  it("makes kernels that generate reuses across calls (it does not dispose them)", async () => {
    const bundle = loadBundle(readFileSync(join(ROOT, "models/schubert.safetensors")));
    const kernels = await createKernels("wasm", { threads: 1 });
    const first = noteSequenceToJson(await generate({ bundle, numSteps: 32, seed: 9, kernels }));
    const second = noteSequenceToJson(await generate({ bundle, numSteps: 32, seed: 9, kernels }));
    expect(second).toEqual(first);
    expect(kernels.alloc(16)).toBeGreaterThan(0); // still alive
    kernels.dispose();
  });
});

describe("polyrnn/node", () => {
  it("reads input folders, MIDI files and bundle or checkpoint files, and writes MIDI", async () => {
    const dir = tempDir();
    mkdirSync(join(dir, "in/sub"), { recursive: true });
    writeFileSync(join(dir, "in/a.mid"), midiFiles[0].bytes);
    writeFileSync(join(dir, "in/b.abc"), ABC);
    writeFileSync(join(dir, "in/readme.txt"), "not music");
    writeFileSync(join(dir, "in/sub/c.mid"), midiFiles[1].bytes);
    expect((await readInputFiles(join(dir, "in"))).map((f) => f.name)).toEqual(["a.mid", "b.abc"]);
    expect((await readInputFiles(join(dir, "in"), { recursive: true })).map((f) => f.name)).toEqual([
      "a.mid",
      "b.abc",
      "sub/c.mid",
    ]);
    await expect(readInputFiles(join(dir, "missing"))).rejects.toThrow(/missing: no such folder/);

    await writeMidiFile(join(dir, "twinkle.mid"), TWINKLE);
    const back = await readMidiFile(join(dir, "twinkle.mid"));
    expect(back.notes.map((n) => n.pitch)).toEqual([60, 60, 67, 67]);
    expect(back.filename).toBe("twinkle.mid");

    const bundle = await loadBundleFile(join(ROOT, "models/schubert.safetensors"));
    expect(bundle.hparams.rnnLayerSizes.length).toBeGreaterThan(0);
    writeFileSync(join(dir, "bad.safetensors"), "nope");
    await expect(loadBundleFile(join(dir, "bad.safetensors"))).rejects.toThrow(
      /bad\.safetensors: not a polyrnn bundle/,
    );
  });
});
