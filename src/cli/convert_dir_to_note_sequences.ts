#!/usr/bin/env node
/** Magenta's command name: convert_dir_to_note_sequences --input_dir=DIR --output_file=FILE [--recursive] */
import { runConvert } from "./convert.js";
import { main } from "./main.js";

const NAME = "convert_dir_to_note_sequences";
main(NAME, (argv) => runConvert(argv, `${NAME} --input_dir=DIR --output_file=FILE.tfrecord [--recursive]`));
