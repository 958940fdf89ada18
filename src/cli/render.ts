/**
 * `polyrnn render FILE.mid`: the MIDI file played by a small built-in synthesizer into a WAV file, to
 * listen without a DAW or a sound font.
 *   polyrnn render out/2024-01-01_120000_01.mid --output=listen.wav
 * or, with --musicxml, as a piano score (MusicXML) for notation programs:
 *   polyrnn render out/2024-01-01_120000_01.mid --musicxml
 */
import { basename, extname } from "node:path";
import { describeError, PolyrnnError, UsageError } from "../errors.js";
import { noteSequenceToMusicXml } from "../io/musicxml_write.js";
import { renderWav } from "../render/synth.js";
import { type FlagTable, formatHelp, parseArgs } from "./args.js";
import { readMidiFile, writeOutput } from "./plot.js";

export const RENDER_FLAGS = {
  output: {
    type: "string",
    help: "File to write. Default: FILE.wav (FILE.musicxml with --musicxml) next to each input.",
  },
  musicxml: {
    type: "bool",
    default: false,
    help: "Write a piano score (MusicXML, treble and bass staves, on the 16th grid) instead of a WAV.",
  },
  sample_rate: {
    type: "int",
    default: 44100,
    min: 8000,
    upTo: 192000,
    help: "Samples per second, 8000 to 192000.",
  },
  tail: {
    type: "float",
    default: 1,
    min: 0,
    upTo: 60,
    help: "Seconds of sound after the last note ends, 0 to 60.",
  },
} satisfies FlagTable;

export const RENDER_DESCRIPTION = `Plays MIDI files with a small built-in synthesizer (a piano-like voice; drum-channel notes as noise
bursts) into 16-bit mono WAV files, to listen to without a DAW. Nothing is downloaded; the same file
always renders to the same bytes. With --musicxml, writes the notes as a MusicXML piano score instead, on the
16th-note grid (expressive tempo maps read on the beats), for MuseScore and other notation programs.`;

function stripExtension(path: string): string {
  const ext = extname(path);
  return ext ? path.slice(0, -ext.length) : path;
}

export async function runRender(argv: string[], usage: string): Promise<number> {
  const { flags, positionals, help } = parseArgs(argv, RENDER_FLAGS);
  if (help) {
    console.log(formatHelp(usage, RENDER_DESCRIPTION, RENDER_FLAGS));
    return 0;
  }
  if (positionals.length === 0)
    throw new UsageError("give a MIDI file to render, e.g. polyrnn render FILE.mid");
  if (flags.output !== undefined && positionals.length > 1)
    throw new UsageError("--output takes one input file; without it each WAV goes next to its input");

  let failed = 0;
  for (const input of positionals) {
    try {
      const ns = await readMidiFile(input);
      if (flags.musicxml) {
        const output = flags.output ?? `${stripExtension(input)}.musicxml`;
        const xml = noteSequenceToMusicXml(ns, { title: basename(stripExtension(input)) });
        await writeOutput(output, xml);
        const bars = xml.match(/<measure /g)?.length ?? 0;
        console.error(`Wrote ${output} (${ns.notes.length} notes, ${bars} bars of MusicXML).`);
        continue;
      }
      const output = flags.output ?? `${stripExtension(input)}.wav`;
      const t0 = performance.now();
      let wav: Uint8Array;
      try {
        wav = renderWav(ns, { sampleRate: flags.sample_rate, tail: flags.tail });
      } catch (e) {
        throw e instanceof PolyrnnError ? new PolyrnnError(describeError(input, e)) : e;
      }
      const seconds = (performance.now() - t0) / 1000;
      await writeOutput(output, wav);
      const duration = (wav.length - 44) / 2 / flags.sample_rate;
      console.error(
        `Wrote ${output} (${ns.notes.length} notes, ${duration.toFixed(2)} s at ${flags.sample_rate} Hz, ` +
          `rendered in ${seconds.toFixed(2)} s).`,
      );
    } catch (e) {
      if (e instanceof PolyrnnError && !(e instanceof UsageError)) {
        console.error(`error: ${e.message}`);
        failed++;
        continue;
      }
      throw e;
    }
  }
  return failed > 0 ? 1 : 0;
}
