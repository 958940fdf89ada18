#!/usr/bin/env node
/** Magenta's command name: polyphony_rnn_generate --bundle_file=B --output_dir=DIR --primer_pitches="[67,64,60]" */
import { runGenerate } from "./generate.js";
import { main } from "./main.js";

const NAME = "polyphony_rnn_generate";
main(NAME, (argv) =>
  runGenerate(argv, `${NAME} (--bundle_file=B | --run_dir=DIR) [--output_dir=DIR] [--primer_pitches=...]`),
);
