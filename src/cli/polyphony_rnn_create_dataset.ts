#!/usr/bin/env node
/** Magenta's command name: polyphony_rnn_create_dataset --input=FILE --output_dir=DIR [--eval_ratio=0.1] */
import { runDataset } from "./dataset.js";
import { main } from "./main.js";

const NAME = "polyphony_rnn_create_dataset";
main(NAME, (argv) => runDataset(argv, `${NAME} --input=NOTES.tfrecord --output_dir=DIR [--eval_ratio=0.1]`));
