/**
 * `polyrnn generate` = Magenta's `polyphony_rnn_generate` (spec §5.1):
 *   polyrnn generate --bundle_file=models/bach.safetensors --primer_pitches="[67,64,60]" --num_steps=128
 *   polyrnn generate --run_dir=RUN --save_generator_bundle --bundle_file=OUT.safetensors
 */
import { existsSync } from "node:fs";
import { join } from "node:path";
import { PolyrnnError, UsageError } from "../errors.js";
import { createLstmRnn } from "../generate/lstm_rnn.js";
import { GENERATION_OPTIONS, type GenerationKey, resolveGenerationSettings } from "../generate/options.js";
import { generatePolyphony } from "../generate/polyphony.js";
import { primerFromFlags } from "../generate/primer.js";
import { makeDir, readInputFile, writeFileAtomic } from "../io/fs.js";
import { writeMidi } from "../io/midi.js";
import { DEFAULT_BUNDLES, readRunDir } from "../io/model_files.js";
import { createKernels, KERNEL_KINDS, type KernelKind } from "../kernels/index.js";
import { LIMITS } from "../limits.js";
import type { HParams } from "../model/api.js";
import { BUNDLE_DTYPES, encodeBundle } from "../model/bundle.js";
import { parseHParams } from "../model/hparams.js";
import { type FlagTable, formatHelp, parseArgs } from "./args.js";
import { describeModelSource, loadModelSource } from "./model_source.js";

/** The flag of a generation option: its type, help and default from the one table (options.ts). */
function optionFlag<K extends GenerationKey>(key: K) {
  const { type, help, ...rest } = GENERATION_OPTIONS[key];
  return { type, help, ...("default" in rest ? { default: rest.default } : {}) } as {
    type: (typeof GENERATION_OPTIONS)[K]["type"];
    help: string;
    default?: number | boolean;
  };
}

export const GENERATE_FLAGS = {
  run_dir: { type: "string", help: "Training folder: use the latest checkpoint in <run_dir>/train." },
  bundle_file: {
    type: "string",
    help: "Bundle (.safetensors) to generate with (a checkpoint file of polyrnn train also works); or, with --save_generator_bundle, the bundle to write. Default: the model shipped in models/.",
  },
  save_generator_bundle: {
    type: "bool",
    default: false,
    help: "Instead of generating, write --run_dir's latest checkpoint as a bundle to --bundle_file (with --temperature, if given, as the bundle's own).",
  },
  bundle_description: { type: "string", help: "Description stored in a saved bundle." },
  average_checkpoints: {
    type: "int",
    min: 1,
    default: 1,
    max: 100,
    help: "With --save_generator_bundle: the bundle's weights are the mean of the run's newest N checkpoints (they usually score better than the newest alone); the bundle records their steps.",
  },
  bundle_dtype: {
    type: "string",
    default: "float32",
    help: "How a saved bundle stores its weights: float32 (as trained), float16 (half the size, each weight rounded to the nearest float16) or int8 (a quarter of the size: each weight matrix as integers from -127 to 127 with one float32 scale per column; biases float32).",
  },
  config: {
    type: "string",
    default: "polyphony",
    help: "Accepted for Magenta compatibility: only polyphony.",
  },
  output_dir: { type: "string", default: "/tmp/polyphony_rnn/generated", help: "Folder for the MIDI files." },
  num_outputs: optionFlag("numOutputs"),
  num_steps: optionFlag("numSteps"),
  primer_pitches: {
    type: "string",
    help: 'A chord to start from, one quarter note long, e.g. "[67,64,60]".',
  },
  primer_melody: {
    type: "string",
    help: 'A melody to start from, one event per 16th: 0..127 note-on, -1 off, -2 hold, e.g. "[60,-2,62,-2]".',
  },
  primer_midi: { type: "string", help: "A MIDI file to start from (its first tempo overrides --qpm)." },
  condition_on_primer: optionFlag("conditionOnPrimer"),
  inject_primer_during_generation: optionFlag("injectPrimerDuringGeneration"),
  qpm: {
    type: "float",
    help: "Tempo for --primer_pitches, --primer_melody, no primer, and the output (default 120).",
  },
  temperature: optionFlag("temperature"),
  beam_size: optionFlag("beamSize"),
  branch_factor: optionFlag("branchFactor"),
  steps_per_iteration: optionFlag("stepsPerIteration"),
  hparams: {
    type: "string",
    default: "",
    help: "Must agree with the model's (only rnn_layer_sizes matters here).",
  },
  log: { type: "string", default: "INFO", help: "INFO, WARN or ERROR." },
  json: {
    type: "bool",
    default: false,
    help: "Also print one JSON object on stdout: the files written, the seed, the scores (log-likelihoods).",
  },
  seed: optionFlag("seed"),
  exclude_primer: optionFlag("excludePrimer"),
  well_formed: optionFlag("wellFormed"),
  kernels: { type: "string", default: "auto", help: `Kernels: ${KERNEL_KINDS.join(", ")}.` },
  threads: {
    type: "int",
    min: 0,
    default: 0,
    max: LIMITS.threads,
    help: "Threads for the WebAssembly kernels (0 = the cores not busy with other work).",
  },
} satisfies FlagTable;

export const GENERATE_DESCRIPTION = `Generates polyphonic music with a trained model, as Magenta's polyphony_rnn_generate: from a primer
chord, melody or MIDI file (or nothing), --num_outputs MIDI files of --num_steps 16th-note steps each,
named <YYYY-mm-dd_HHMMSS>_<i>.mid. All outputs and beams run as one batch.`;

function timestamp(d = new Date()): string {
  const p = (n: number) => String(n).padStart(2, "0");
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())}_${p(d.getHours())}${p(d.getMinutes())}${p(d.getSeconds())}`;
}

/** Magenta users hit "Key … not found" when --hparams disagreed with the checkpoint (#621, #964): say it plainly. */
function checkHParams(flag: string, model: HParams, source: string): void {
  if (flag.trim() === "") return;
  const given = parseHParams(flag, model);
  const a = given.rnnLayerSizes.join(",");
  const b = model.rnnLayerSizes.join(",");
  if (a !== b) {
    throw new UsageError(
      `--hparams says rnn_layer_sizes=[${a}] but ${source} was trained with rnn_layer_sizes=[${b}]; ` +
        "the model's own hparams are stored with it, so --hparams can be left out",
    );
  }
}

export async function runGenerate(argv: string[], usage: string): Promise<number> {
  const { flags, help, explicit } = parseArgs(argv, GENERATE_FLAGS);
  if (help) {
    console.log(formatHelp(usage, GENERATE_DESCRIPTION, GENERATE_FLAGS));
    return 0;
  }
  const quiet = flags.log === "WARN" || flags.log === "ERROR";
  const info = (msg: string) => {
    if (!quiet) console.error(msg);
  };
  if (flags.config !== "polyphony")
    throw new UsageError(`--config=${flags.config}: only polyphony is supported`);
  if (!KERNEL_KINDS.includes(flags.kernels as KernelKind)) {
    throw new UsageError(`--kernels=${flags.kernels}: valid values are ${KERNEL_KINDS.join(", ")}`);
  }
  const settings = resolveGenerationSettings({
    numOutputs: flags.num_outputs,
    numSteps: flags.num_steps,
    conditionOnPrimer: flags.condition_on_primer,
    injectPrimerDuringGeneration: flags.inject_primer_during_generation,
    temperature: flags.temperature,
    beamSize: flags.beam_size,
    branchFactor: flags.branch_factor,
    stepsPerIteration: flags.steps_per_iteration,
    seed: flags.seed,
    excludePrimer: flags.exclude_primer,
    wellFormed: flags.well_formed,
  });

  if (explicit.has("average_checkpoints") && !flags.save_generator_bundle) {
    throw new UsageError("--average_checkpoints applies to --save_generator_bundle only");
  }
  if (flags.save_generator_bundle) {
    if (!flags.run_dir || !flags.bundle_file) {
      throw new UsageError(
        "--save_generator_bundle needs --run_dir (the checkpoint) and --bundle_file (the output)",
      );
    }
    const dtype = BUNDLE_DTYPES.find((d) => d === flags.bundle_dtype);
    if (!dtype) {
      throw new UsageError(
        `--bundle_dtype=${flags.bundle_dtype}: expected ${BUNDLE_DTYPES.slice(0, -1).join(", ")} or ${BUNDLE_DTYPES.at(-1)}`,
      );
    }
    const run = await readRunDir(flags.run_dir, info, flags.average_checkpoints);
    checkHParams(flags.hparams, run.hparams, run.path);
    if (!flags.bundle_description)
      info("warning: no --bundle_description given; the bundle's description is empty");
    const bytes = encodeBundle({
      weights: run.weights,
      hparams: run.hparams,
      step: run.step,
      description: flags.bundle_description ?? "",
      ...(explicit.has("temperature") ? { temperature: settings.temperature } : {}),
      ...(run.averagedSteps ? { averagedSteps: run.averagedSteps } : {}),
      dtype,
    });
    await writeFileAtomic(flags.bundle_file, bytes);
    const temperature = explicit.has("temperature")
      ? `, generates at temperature ${settings.temperature}`
      : "";
    info(
      `Wrote bundle ${flags.bundle_file} (step ${run.step}${run.averagedSteps ? `, the mean of steps ${run.averagedSteps.join(", ")}` : ""}, ${run.hparams.rnnLayerSizes.join("×")} LSTM${temperature}, ${flags.bundle_dtype} weights, ${bytes.length} bytes).`,
    );
    return 0;
  }
  // No model flag: the Bach bundle shipped in the repository, when there is one.
  const shipped = DEFAULT_BUNDLES.find((u) => existsSync(u));
  const useDefault = !flags.run_dir && !flags.bundle_file && shipped !== undefined;
  const source = await loadModelSource({
    bundleFile: useDefault ? shipped?.pathname : flags.bundle_file,
    runDir: flags.run_dir,
  });
  checkHParams(flags.hparams, source.hparams, source.path);
  const weights = source.weights;
  info(`Model: ${describeModelSource(source)}.`);
  if (!explicit.has("temperature") && source.temperature !== undefined) {
    settings.temperature = source.temperature;
    info(`Temperature ${source.temperature}, the bundle's (--temperature sets another).`);
  }

  const primerMidi = flags.primer_midi
    ? {
        path: flags.primer_midi,
        bytes: await readInputFile(flags.primer_midi),
      }
    : undefined;
  let primer: ReturnType<typeof primerFromFlags>;
  try {
    primer = primerFromFlags({
      primerPitches: flags.primer_pitches,
      primerMelody: flags.primer_melody,
      primerMidi,
      qpm: flags.qpm,
    });
  } catch (e) {
    if (primerMidi && e instanceof PolyrnnError && !(e instanceof UsageError)) {
      throw new PolyrnnError(`${primerMidi.path}: ${e.message}`);
    }
    throw e;
  }
  if (primer.source === "none") info("No priming sequence specified. Defaulting to empty sequence.");
  if (primer.source === "midi") {
    const programs = new Set(primer.sequence.notes.map((n) => n.program));
    if (programs.size > 1) {
      info(
        `warning: ${flags.primer_midi} uses ${programs.size} programs; like Magenta, a primer with several ` +
          (flags.condition_on_primer
            ? "programs is not extracted, so the model is NOT conditioned on it (and it is not in the output)"
            : "programs is not extracted, so nothing is injected; the primer is still copied into the output"),
      );
    }
  }

  await makeDir(flags.output_dir);
  const { seed } = settings;
  const kernels = await createKernels(flags.kernels as KernelKind, {
    threads: flags.threads || undefined,
    notice: info,
  });
  const rnn = createLstmRnn(kernels, weights);
  const t0 = performance.now();
  let result: ReturnType<typeof generatePolyphony>;
  try {
    result = generatePolyphony(rnn, {
      ...settings,
      primer: primer.sequence,
      onRound: ({ output, stepsToGenerate, rnnSteps }) => {
        if (flags.num_outputs === 1 || output === 0) {
          info(
            `Need to generate ${stepsToGenerate} more steps for this sequence, will try asking for ${rnnSteps} RNN steps`,
          );
        }
      },
    });
  } finally {
    rnn.dispose();
    kernels.dispose();
  }
  const seconds = (performance.now() - t0) / 1000;
  const stamp = timestamp();
  const digits = String(flags.num_outputs).length;
  const paths: string[] = [];
  for (let i = 0; i < result.sequences.length; i++) {
    const path = join(flags.output_dir, `${stamp}_${String(i + 1).padStart(digits, "0")}.mid`);
    await writeFileAtomic(path, writeMidi(result.sequences[i]));
    paths.push(path);
  }
  info(
    `Generated steps ${result.generateStartStep}…${result.generateEndStep} at ${result.qpm} qpm with seed ${seed} ` +
      `in ${seconds.toFixed(2)} s; best log-likelihood ${result.scores.reduce((a, b) => Math.max(a, b)).toFixed(2)}.`,
  );
  info(`Wrote ${paths.length} MIDI files to ${flags.output_dir}`);
  if (flags.json) {
    console.log(
      JSON.stringify({
        files: paths.map((path, i) => ({ path, logLikelihood: result.scores[i] })),
        seed,
        generateStartStep: result.generateStartStep,
        generateEndStep: result.generateEndStep,
        qpm: result.qpm,
        seconds,
        model: source.path,
      }),
    );
  }
  return 0;
}
