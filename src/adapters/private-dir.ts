import { accessSync, constants, lstatSync, mkdirSync, realpathSync } from "node:fs";
import { basename, dirname, join } from "node:path";
import type { DirectoryFacts } from "../core/spool.js";
import { privateChainProblem, privateDirectoryCandidates } from "../core/private-dir.js";

/**
 * Finds (and makes) the directories core/private-dir.ts allows. Synchronous, because the
 * Node 20 launcher and bin/pushgw check the code cache's directory with it before anything
 * else has loaded; a check is a realpath and one lstat per directory up to /.
 */

/** The effective uid pushgw runs as (root's files are what matters on a system without uids). */
export function currentUid(): number {
  return process.geteuid?.() ?? 0;
}

/**
 * The real path of `dir` when it is private to `uid` (core/private-dir.ts), else why not. The
 * directories above it are followed to their real paths; `dir` itself must not be a symbolic
 * link unless `followLink` (a place pushgw only makes directories below).
 */
export function privateDirectory(dir: string, uid: number, followLink = false): { dir: string } | { why: string } {
  let real: string;
  try {
    real = followLink || dirname(dir) === dir ? realpathSync.native(dir) : join(realpathSync.native(dirname(dir)), basename(dir));
  } catch (error) {
    return { why: `${dir} cannot be used (${(error as NodeJS.ErrnoException).code ?? String(error)})` };
  }
  const chain: DirectoryFacts[] = [];
  for (let path = real; ; path = dirname(path)) {
    let info;
    try {
      info = lstatSync(path);
    } catch (error) {
      return { why: `${dir} cannot be used (${(error as NodeJS.ErrnoException).code ?? String(error)})` };
    }
    chain.push({ path, isDirectory: info.isDirectory(), isSymbolicLink: info.isSymbolicLink(), uid: info.uid, mode: info.mode });
    if (dirname(path) === path) break;
  }
  const why = privateChainProblem(chain, uid);
  return why === undefined ? { dir: real } : { why: real === dir ? why : `${dir} (${real}): ${why}` };
}

/**
 * `dir` when it is private to `uid`; when missing and `madeBelow` is given, made (mode 0700)
 * below that directory, which must exist. Nothing is ever made in a directory another user
 * could write to: the nearest existing one must be private itself.
 */
export function ensurePrivateDirectory(dir: string, madeBelow: string | undefined, uid: number): { dir: string } | { why: string } {
  if (madeBelow !== undefined && !exists(dir)) {
    if (!exists(madeBelow)) return { why: `${madeBelow} does not exist` };
    const below = privateDirectory(nearestExisting(dir), uid, true);
    if ("why" in below) return below;
    try {
      makeDirectories(dir);
    } catch (error) {
      return { why: `${dir} cannot be made (${(error as NodeJS.ErrnoException).code ?? String(error)})` };
    }
  }
  const found = privateDirectory(dir, uid);
  if ("why" in found) return found;
  try {
    accessSync(found.dir, constants.W_OK | constants.X_OK);
  } catch (error) {
    return { why: `${dir} is not writable by uid ${uid} (${(error as NodeJS.ErrnoException).code ?? String(error)})` };
  }
  return found;
}

/**
 * The first private directory for `purpose` (core/private-dir.ts privateDirectoryCandidates),
 * or why there is none, every candidate's reason said.
 */
export function findPrivateDirectory(env: Readonly<Record<string, string | undefined>>, purpose: "locks" | "run", uid = currentUid()): { dir: string } | { why: string } {
  const reasons: string[] = [];
  for (const { dir, madeBelow } of privateDirectoryCandidates(env, uid, purpose)) {
    const found = ensurePrivateDirectory(dir, madeBelow, uid);
    if ("dir" in found) return found;
    reasons.push(found.why);
  }
  if (reasons.length === 0) return { why: "XDG_RUNTIME_DIR, XDG_CACHE_HOME and HOME are unset (or not absolute paths)" };
  return { why: reasons.join("; ") };
}

/**
 * mkdir -p, mode 0700, one directory at a time from the nearest one that exists. Not Node's
 * recursive mkdir, which loops for ever below a directory such as /proc/self (HOME=/proc), where
 * a name exists and one below it cannot be made.
 */
function makeDirectories(dir: string): void {
  const missing: string[] = [];
  for (let path = dir; !exists(path) && dirname(path) !== path; path = dirname(path)) missing.unshift(path);
  for (const path of missing) {
    try {
      mkdirSync(path, { mode: 0o700 });
    } catch (error) {
      // Made meanwhile by a concurrent run: the check of the whole chain that follows judges it.
      if ((error as NodeJS.ErrnoException).code !== "EEXIST") throw error;
    }
  }
}

function exists(path: string): boolean {
  try {
    lstatSync(path);
    return true;
  } catch {
    return false;
  }
}

/** `path`, or the nearest directory above it that exists. */
function nearestExisting(path: string): string {
  while (!exists(path) && dirname(path) !== path) path = dirname(path);
  return path;
}
