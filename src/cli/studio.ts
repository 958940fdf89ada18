/**
 * `polyrnn studio`: starts the Studio web page on this machine and prints its address.
 *   polyrnn studio                                   # http://127.0.0.1:8080/
 *   polyrnn studio --bundle_file=my.safetensors --run_dir=runs/bach --port=9000
 */
import { PolyrnnError, UsageError } from "../errors.js";
import { startStudioServer } from "../studio/server.js";
import { type FlagTable, formatHelp, parseArgs } from "./args.js";

export const STUDIO_FLAGS = {
  host: {
    type: "string",
    default: "127.0.0.1",
    help: "Address to listen on. The default is loopback only; give 0.0.0.0 to let other machines in.",
  },
  port: { type: "int", default: 8080, min: 0, upTo: 65535, help: "Port to listen on (0 = any free port)." },
  bundle_file: { type: "string", help: "A bundle (.safetensors) to offer in the page, besides models/." },
  run_dir: {
    type: "string",
    help: "A training folder to offer in the page: its newest checkpoint, re-read each time it is picked.",
  },
} satisfies FlagTable;

export const STUDIO_DESCRIPTION = `Starts the Studio: a web page to generate, see and hear music, and to train a model on your own MIDI
files, all inside the browser (the models run there, on the same WebAssembly kernels as the command
line). The server sends only the page, its scripts, the shipped models and example primers, and the
--bundle_file / --run_dir given here; nothing is uploaded and nothing is fetched from the internet.
Stop it with Ctrl-C.`;

export async function runStudio(argv: string[], usage: string): Promise<number> {
  const { flags, help, positionals } = parseArgs(argv, STUDIO_FLAGS);
  if (help) {
    console.log(formatHelp(usage, STUDIO_DESCRIPTION, STUDIO_FLAGS));
    return 0;
  }
  if (positionals.length > 0) throw new UsageError(`unexpected argument ${positionals[0]}`);
  let studio: Awaited<ReturnType<typeof startStudioServer>>;
  try {
    studio = await startStudioServer({
      host: flags.host,
      port: flags.port,
      bundleFiles: flags.bundle_file ? [flags.bundle_file] : [],
      runDirs: flags.run_dir ? [flags.run_dir] : [],
    });
  } catch (e) {
    const err = e as NodeJS.ErrnoException;
    if (err.code === "EADDRINUSE") {
      console.error(`error: port ${flags.port} is in use; pick another with --port (0 = any free port)`);
      return 1;
    }
    if (e instanceof PolyrnnError) {
      console.error(`error: ${e.message}`);
      return 1;
    }
    // Any other refusal of the system (a name it cannot resolve, EINVAL, EACCES): one line.
    if (typeof err.code === "string") {
      console.error(`error: cannot listen on --host=${flags.host} --port=${flags.port}: ${err.code}`);
      return 1;
    }
    throw e;
  }
  console.log(`polyrnn studio: ${studio.url}`);
  console.error(
    `Models: ${studio.models.map((m) => m.name).join(", ") || "none (drop a bundle in the page)"}. Ctrl-C stops.`,
  );
  if (flags.host !== "127.0.0.1" && flags.host !== "localhost" && flags.host !== "::1") {
    console.error(`note: listening on ${flags.host}: other machines on the network can open the page.`);
  }
  await new Promise<void>((done) => {
    const stop = () => done();
    process.once("SIGINT", stop);
    process.once("SIGTERM", stop);
  });
  await studio.close();
  return 0;
}
