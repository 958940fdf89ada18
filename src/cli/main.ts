/**
 * Shared entry-point wrapper: runs a command, turns usage errors into one line and exit status 2,
 * and never shows a stack trace for a user's mistake.
 */
import { UsageError } from "../errors.js";

export async function main(name: string, run: (argv: string[]) => Promise<number>): Promise<void> {
  try {
    process.exitCode = await run(process.argv.slice(2));
  } catch (e) {
    if (e instanceof UsageError) {
      console.error(`${name}: ${e.message}\nTry '${name} --help'.`);
      process.exitCode = 2;
      return;
    }
    console.error(`${name}: internal error: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}`);
    process.exitCode = 70;
  }
}
