/**
 * `npm install polyrnn-<version>.tgz` into a fresh project, without the network: `npm pack` of this
 * checkout (built first), the tarball unpacked into `<project>/node_modules/polyrnn`, and its runtime
 * dependencies linked from this checkout's node_modules.
 */
import { execFileSync } from "node:child_process";
import { mkdirSync, readFileSync, symlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { ensureBuilt, ROOT } from "./cli.js";

export interface PackedFile {
  path: string;
  size: number;
}

export interface Packed {
  /** The tarball's path. */
  tarball: string;
  /** Its size in bytes (compressed). */
  size: number;
  files: PackedFile[];
}

/** Packs this checkout into `dir`. */
export function npmPack(dir: string): Packed {
  ensureBuilt();
  const out = JSON.parse(
    execFileSync("npm", ["pack", "--json", "--pack-destination", dir], { cwd: ROOT, encoding: "utf8" }),
  )[0] as { filename: string; size: number; files: PackedFile[] };
  return { tarball: join(dir, out.filename), size: out.size, files: out.files };
}

function linkDependency(project: string, name: string, seen: Set<string>): void {
  if (seen.has(name)) return;
  seen.add(name);
  const from = join(ROOT, "node_modules", name);
  mkdirSync(join(project, "node_modules", name, ".."), { recursive: true });
  symlinkSync(from, join(project, "node_modules", name), "dir");
  const pkg = JSON.parse(readFileSync(join(from, "package.json"), "utf8"));
  for (const dep of Object.keys(pkg.dependencies ?? {})) linkDependency(project, dep, seen);
}

/** Makes `project` a fresh ESM project with the packed polyrnn installed; returns the package's folder. */
export function installPacked(packed: Packed, project: string): string {
  const pkgDir = join(project, "node_modules", "polyrnn");
  mkdirSync(pkgDir, { recursive: true });
  execFileSync("tar", ["-xzf", packed.tarball, "-C", pkgDir, "--strip-components=1"]);
  const pkg = JSON.parse(readFileSync(join(pkgDir, "package.json"), "utf8"));
  const seen = new Set<string>();
  for (const dep of Object.keys(pkg.dependencies ?? {})) linkDependency(project, dep, seen);
  writeFileSync(
    join(project, "package.json"),
    JSON.stringify({ name: "app", private: true, type: "module" }),
  );
  return pkgDir;
}
