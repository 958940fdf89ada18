#!/usr/bin/env node
/**
 * polyrnn <verb> [flags]
 *   polyrnn convert --input_dir=DIR --output_file=FILE.tfrecord [--recursive]
 *   polyrnn dataset --input=NOTES.tfrecord --output_dir=DIR [--eval_ratio=0.1]
 *   polyrnn train --run_dir=DIR --sequence_example_file=FILE.tfrecord [--hparams=...] [--eval]
 *   polyrnn studio [--port=8080] [--bundle_file=B] [--run_dir=DIR]
 */
import { readFileSync } from "node:fs";
import { runConvert } from "./convert.js";
import { runDataset } from "./dataset.js";
import { runEval } from "./eval.js";
import { runGenerate } from "./generate.js";
import { main } from "./main.js";
import { runPlot } from "./plot.js";
import { runRender } from "./render.js";
import { runStudio } from "./studio.js";
import { runTrain } from "./train.js";

const VERBS: Record<string, { summary: string; run: (argv: string[]) => Promise<number> }> = {
  convert: {
    summary: "MIDI folder → TFRecord of NoteSequences (Magenta's convert_dir_to_note_sequences)",
    run: (argv) =>
      runConvert(argv, "polyrnn convert --input_dir=DIR --output_file=FILE.tfrecord [--recursive]"),
  },
  dataset: {
    summary: "NoteSequences → training/eval SequenceExamples (Magenta's polyphony_rnn_create_dataset)",
    run: (argv) =>
      runDataset(argv, "polyrnn dataset --input=NOTES.tfrecord --output_dir=DIR [--eval_ratio=0.1]"),
  },
  train: {
    summary: "SequenceExamples → trained model checkpoints (Magenta's polyphony_rnn_train)",
    run: (argv) =>
      runTrain(
        argv,
        "polyrnn train --run_dir=DIR --sequence_example_file=FILE.tfrecord [--hparams=...] [--eval]",
      ),
  },
  generate: {
    summary: "a trained model + a primer → new MIDI files (Magenta's polyphony_rnn_generate)",
    run: (argv) =>
      runGenerate(
        argv,
        "polyrnn generate [--bundle_file=B | --run_dir=DIR] [--primer_pitches=...] [--num_steps=128]",
      ),
  },
  eval: {
    summary:
      "a trained model's metrics on SequenceExamples or frame NLL on a benchmark split; --music: statistics of MIDI files",
    run: (argv) =>
      runEval(
        argv,
        "polyrnn eval (--bundle_file=B | --run_dir=DIR) (--sequence_example_file=F | --frames=BENCH.json [--split=valid] [--satb])\n       polyrnn eval --music=GENERATED [--reference=TRAINING]",
      ),
  },
  plot: {
    summary:
      "a MIDI file → piano-roll picture (SVG and PNG), primer and generated notes in two colours; --metrics=RUN_DIR → training curves",
    run: (argv) =>
      runPlot(argv, "polyrnn plot FILE.mid [--output=FILE.svg|.png] [--split_time=S | --split_step=N]"),
  },
  render: {
    summary: "a MIDI file → WAV, played by a built-in synthesizer (no downloads)",
    run: (argv) => runRender(argv, "polyrnn render FILE.mid [--output=FILE.wav] [--sample_rate=44100]"),
  },
  studio: {
    summary: "a web page to generate, hear and train in the browser (local server, nothing to install)",
    run: (argv) =>
      runStudio(argv, "polyrnn studio [--port=8080] [--host=127.0.0.1] [--bundle_file=B] [--run_dir=DIR]"),
  },
};

function version(): string {
  const pkg = JSON.parse(readFileSync(new URL("../../package.json", import.meta.url), "utf8"));
  return pkg.version;
}

function usage(): string {
  const lines = ["Usage: polyrnn <command> [flags]", "", "Commands:"];
  for (const [verb, { summary }] of Object.entries(VERBS)) lines.push(`  ${verb.padEnd(10)} ${summary}`);
  lines.push("", "Run 'polyrnn <command> --help' for the flags of a command.");
  return lines.join("\n");
}

main("polyrnn", async (argv) => {
  const [verb, ...rest] = argv;
  if (verb === undefined || verb === "--help" || verb === "-h" || verb === "help") {
    console.log(usage());
    return verb === undefined ? 2 : 0;
  }
  if (verb === "--version") {
    console.log(version());
    return 0;
  }
  const command = VERBS[verb];
  if (!command) {
    console.error(`polyrnn: unknown command '${verb}'\n\n${usage()}`);
    return 2;
  }
  return command.run(rest);
});
