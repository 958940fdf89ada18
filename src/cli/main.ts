/**
 * Shared entry-point wrapper: runs a command, turns usage errors into one line and exit status 2, other
 * PolyrnnErrors (a bad file, a bad model: they name it) into `error: …` and exit status 1, and never shows
 * a stack trace for a user's mistake.
 */
import { PolyrnnError, UsageError } from "../errors.js";

export async function main(name: string, run: (argv: string[]) => Promise<number>): Promise<void> {
  try {
    process.exitCode = await run(process.argv.slice(2));
  } catch (e) {
    if (e instanceof UsageError) {
      console.error(`${name}: ${e.message}\nTry '${name} --help'.`);
      process.exitCode = 2;
      return;
    }
    if (e instanceof PolyrnnError) {
      console.error(`error: ${e.message}`);
      process.exitCode = 1;
      return;
    }
    console.error(`${name}: internal error: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}`);
    process.exitCode = 70;
  }
}
