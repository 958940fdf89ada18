#!/usr/bin/env node
/** Magenta's command name: polyphony_rnn_train --run_dir=DIR --sequence_example_file=FILE [--eval] */
import { main } from "./main.js";
import { runTrain } from "./train.js";

const NAME = "polyphony_rnn_train";
main(NAME, (argv) =>
  runTrain(argv, `${NAME} --run_dir=DIR --sequence_example_file=FILE.tfrecord [--hparams=...] [--eval]`),
);
