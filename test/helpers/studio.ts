/** Starts `polyrnn studio` on a free port for the browser tests (the built CLI: run ensureBuilt first). */
import { type ChildProcess, spawn } from "node:child_process";
import { join } from "node:path";
import { ROOT } from "./cli.js";

export async function startStudio(): Promise<{ server: ChildProcess; url: string }> {
  const server = spawn(process.execPath, [join(ROOT, "dist/cli/polyrnn.js"), "studio", "--port=0"], {
    cwd: ROOT,
  });
  const url = await new Promise<string>((resolve, reject) => {
    let out = "";
    server.stdout?.on("data", (d) => {
      out += d;
      const m = /http:\/\/\S+/.exec(out);
      if (m) resolve(m[0]);
    });
    server.on("exit", (code) => reject(new Error(`polyrnn studio exited with ${code}`)));
  });
  return { server, url };
}
