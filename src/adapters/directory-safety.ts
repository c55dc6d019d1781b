import type { Stats } from "node:fs";
import { lstat, mkdir } from "node:fs/promises";
import { dirname } from "node:path";
import { UsageError } from "../core/errors.js";
import { directoryProblem } from "../core/spool.js";

/**
 * The checks on a directory pushgw reads what it sends from (the spool) or writes what others
 * read (the textfile directory): the directory itself (core/spool.ts directoryProblem says
 * what is wrong), and every directory above it.
 */

export function assertSafeDirectory(path: string, info: Stats, uid: number | undefined, role: "spool" | "textfile" = "spool"): void {
  const facts = { path, isDirectory: info.isDirectory(), isSymbolicLink: info.isSymbolicLink(), uid: info.uid, mode: info.mode };
  // Without user ids (Windows) only the kind of file can be checked.
  const problem = uid === undefined ? directoryProblem({ ...facts, uid: 0, mode: 0o700 }, 0, role) : directoryProblem(facts, uid, role);
  // ENOTDIR: what a file where the spool should be has always been reported as.
  if (problem !== undefined) throw Object.assign(new UsageError(problem.problem, { hint: problem.hint }), facts.isDirectory || facts.isSymbolicLink ? {} : { code: "ENOTDIR" });
}

/** Every directory above the spool (or the textfile directory): nobody but root and this user may rename things in them. */
export async function checkParents(realParent: string, uid: number | undefined, below = "the spool"): Promise<void> {
  if (uid === undefined) return;
  for (let path = realParent; ; path = dirname(path)) {
    const info = await lstat(path);
    const problem = directoryProblem({ path, isDirectory: info.isDirectory(), isSymbolicLink: info.isSymbolicLink(), uid: info.uid, mode: info.mode }, uid, "parent", below);
    if (problem !== undefined) throw new UsageError(problem.problem, { hint: problem.hint });
    if (dirname(path) === path) return;
  }
}

export async function nearestExisting(path: string): Promise<string> {
  for (;;) {
    try {
      await lstat(path);
      return path;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== "ENOENT" || dirname(path) === path) return path;
      path = dirname(path);
    }
  }
}

/**
 * mkdir -p, but with the real reason when it fails: Node's recursive mkdir says ENOENT for a
 * read-only or full file system.
 */
export async function makeDirectory(dir: string): Promise<void> {
  try {
    await mkdir(dir, { mode: 0o700 });
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === "EEXIST") return;
    if (code !== "ENOENT") throw error;
    await makeDirectory(dirname(dir));
    await mkdir(dir, { mode: 0o700 }).catch((again: NodeJS.ErrnoException) => {
      if (again.code !== "EEXIST") throw again;
    });
  }
}
