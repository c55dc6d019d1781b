import { createHash } from "node:crypto";
import { constants, type Stats } from "node:fs";
import { link, lstat, mkdir, open, readFile, readdir, realpath, rename, unlink, type FileHandle } from "node:fs/promises";
import { basename, dirname, join, resolve } from "node:path";
import type { SetAsideNote, Spool, SpoolEntry } from "../app/ports.js";
import { UsageError } from "../core/errors.js";
import { checkSpooledCall, directoryProblem, MAX_SPOOL_FILE_BYTES, MAX_SPOOLED_BODY_BYTES, spoolFolderName, utf8Length, type SpooledCall } from "../core/spool.js";
import { randomHex, readRegularFile, unlinkIfThere } from "./safe-files.js";

const { O_CREAT, O_EXCL, O_NOFOLLOW, O_NONBLOCK, O_RDONLY, O_WRONLY } = constants;

const SET_ASIDE = "set-aside";
/** New files (entries, lock tokens) are written under this prefix, then renamed or linked into place. */
export const TEMP_PREFIX = ".tmp-";
const LOCK = ".lock";
/** The guard a lock takeover holds while it replaces a dead holder's token. */
export const GUARD_PREFIX = ".takeover-";
/** A takeover guard whose holder died is removed only once it is this old. */
const GUARD_GRACE_MS = 3_000;
/** A lock file holding no token (not written by this version of pushgw) waits this long. */
const UNREADABLE_LOCK_GRACE_MS = 5_000;
/** A lock holding only a pid (older pushgw) cannot tell pid reuse: it expires after this. */
const PID_ONLY_LOCK_MS = 10 * 60_000;
let sequence = 0;

/**
 * The spool on disk: `DIR/<host_port>-<hash>/<time>-<pid>-<seq>-<random>.json`, one file per
 * call, mode 0600 in 0700 directories.
 *
 * Nobody but the user running pushgw may have written what it reads, because what it reads it
 * sends, with that user's secrets: DIR and its folders must be real directories owned by the
 * user and writable by nobody else, in parents nobody else can rename things in; entry files
 * are opened without following links and must be regular files owned by the user; and every
 * entry must be exactly what pushgw writes (core/spool.ts). Anything else in a queue is moved
 * to DIR/set-aside/<folder>/ and reported, never sent.
 *
 * Files are created exclusively (O_EXCL|O_NOFOLLOW) under random names, then renamed into
 * place whole, so no planted name or link is ever written through and a crash never leaves a
 * half-written entry that could be sent.
 *
 * Delivery takes a per-gateway lock (see `lock`), so two runs never send the same queue.
 */
export async function createFileSpool(dir: string): Promise<Spool> {
  const uid = process.geteuid?.();
  const absolute = resolve(dir);
  // Nothing is made below a directory others could rename things in.
  await checkParents(await realpath(await nearestExisting(dirname(absolute))), uid);
  await makeDirectory(absolute);
  const root = join(await realpath(dirname(absolute)), basename(absolute));
  await checkParents(dirname(root), uid);
  assertSafeDirectory(root, await lstat(root), uid);
  const selfStart = await startTimeOf(process.pid);

  /** A gateway's folder, checked; undefined when it does not exist and `create` is false. */
  const openFolder = async (name: string, create: boolean, under = root): Promise<string | undefined> => {
    const path = join(under, name);
    if (create) {
      await mkdir(path, { mode: 0o700 }).catch((error: NodeJS.ErrnoException) => {
        if (error.code !== "EEXIST") throw error;
      });
    }
    let info: Stats;
    try {
      info = await lstat(path);
    } catch (error) {
      if (!create && (error as NodeJS.ErrnoException).code === "ENOENT") return undefined;
      throw error;
    }
    assertSafeDirectory(path, info, uid);
    return path;
  };

  /** Moves a file out of its queue to DIR/set-aside/<folder>/; undefined if another run did. */
  const moveAside = async (path: string, folderName: string): Promise<string | undefined> => {
    await openFolder(SET_ASIDE, true);
    const target = join((await openFolder(folderName, true, join(root, SET_ASIDE)))!, basename(path));
    try {
      await rename(path, target);
      return target;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === "ENOENT") return undefined;
      throw error;
    }
  };

  /**
   * Entries this run has read and checked, by path. An entry is never changed in place (it is
   * renamed into place whole, under a name no other is given), so one still there with the same
   * inode, size and mtime is the one read: a run lists a queue several times (before and after
   * taking its lock, after delivering, for each of wrap's pushes) and parses each entry once.
   */
  const checked = new Map<string, { readonly ino: number; readonly size: number; readonly mtimeMs: number; readonly call: SpooledCall }>();

  /** The entries of one folder that may be sent, oldest first; the rest set aside. */
  const readFolder = async (folderName: string, folder: string): Promise<{ entries: SpoolEntry[]; setAside: SetAsideNote[] }> => {
    const entries: SpoolEntry[] = [];
    const setAside: SetAsideNote[] = [];
    const names = (await readdir(folder)).filter((n) => n.endsWith(".json") && !n.startsWith(".")).sort();
    for (const name of names) {
      const path = join(folder, name);
      const seen = checked.get(path);
      if (seen !== undefined) {
        const now = await lstat(path).catch(() => undefined);
        if (now === undefined) {
          checked.delete(path);
          continue;
        }
        if (now.isFile() && now.ino === seen.ino && now.size === seen.size && now.mtimeMs === seen.mtimeMs) {
          entries.push({ id: path, call: seen.call });
          continue;
        }
        checked.delete(path);
      }
      const read = await readEntry(path, () => folderName, uid);
      if (read === "gone") continue;
      if ("call" in read) {
        checked.set(path, { ino: read.ino, size: read.size, mtimeMs: read.mtimeMs, call: read.call });
        entries.push({ id: path, call: read.call });
        continue;
      }
      const where = await moveAside(path, folderName);
      if (where !== undefined) setAside.push({ where, why: read.problem });
    }
    return { entries, setAside };
  };

  return {
    dir,
    async save(call) {
      const folderName = spoolFolderName(call.baseUrl);
      if (call.body !== undefined && utf8Length(call.body) > MAX_SPOOLED_BODY_BYTES) {
        throw new Error(`the push is larger than the ${MAX_SPOOLED_BODY_BYTES / 1024 / 1024} MiB the spool keeps`);
      }
      const checked = checkSpooledCall(call, folderName);
      if ("problem" in checked) throw new Error(`not a call the spool keeps: ${checked.problem}`);
      const folder = (await openFolder(folderName, true))!;
      const name = `${String(call.savedAt).padStart(15, "0")}-${String(process.pid).padStart(8, "0")}-${String(sequence++).padStart(6, "0")}-${randomHex(4)}.json`;
      const temporary = await writeNewFile(folder, JSON.stringify(checked.call));
      try {
        await rename(temporary, join(folder, name));
      } catch (error) {
        await unlink(temporary).catch(() => undefined);
        throw error;
      }
      return join(folder, name);
    },
    async list(baseUrl) {
      const folderName = spoolFolderName(baseUrl);
      const folder = await openFolder(folderName, false);
      return folder === undefined ? { entries: [], setAside: [] } : readFolder(folderName, folder);
    },
    async gateways() {
      const found = new Set<string>();
      const setAside: SetAsideNote[] = [];
      // Only real directories: a link or a file among them is nothing pushgw wrote, and is left alone.
      for (const item of await readdir(root, { withFileTypes: true })) {
        if (!item.isDirectory() || item.name === SET_ASIDE || item.name.startsWith(".")) continue;
        const folder = await openFolder(item.name, false);
        if (folder === undefined) continue;
        const read = await readFolder(item.name, folder);
        for (const entry of read.entries) found.add(entry.call.baseUrl);
        for (const note of read.setAside) setAside.push(note);
      }
      return { baseUrls: [...found].sort(), setAside };
    },
    async remove(entry) {
      checked.delete(entry.id);
      await unlink(entry.id).catch((error: NodeJS.ErrnoException) => {
        if (error.code !== "ENOENT") throw error;
      });
    },
    async setAside(entry) {
      checked.delete(entry.id);
      const folderName = basename(dirname(entry.id));
      return (await moveAside(entry.id, folderName)) ?? join(root, SET_ASIDE, folderName, basename(entry.id));
    },
    async restoreSetAside() {
      const asideRoot = await openFolder(SET_ASIDE, false);
      if (asideRoot === undefined) return { restored: 0, kept: [] };
      let restored = 0;
      const kept: SetAsideNote[] = [];
      const putBack = async (path: string, folderOf: (value: unknown) => string): Promise<void> => {
        const read = await readEntry(path, folderOf, uid);
        if (read === "gone") return;
        if ("problem" in read) {
          kept.push({ where: path, why: read.problem });
          return;
        }
        const folder = (await openFolder(spoolFolderName(read.call.baseUrl), true))!;
        await rename(path, join(folder, basename(path)));
        restored++;
      };
      for (const item of await readdir(asideRoot, { withFileTypes: true })) {
        if (item.isDirectory()) {
          const folder = (await openFolder(item.name, false, asideRoot))!;
          for (const name of (await readdir(folder)).filter((n) => n.endsWith(".json") && !n.startsWith(".")).sort()) {
            await putBack(join(folder, name), () => item.name);
          }
        } else if (item.name.endsWith(".json") && !item.name.startsWith(".")) {
          // Set aside by an older pushgw, which kept no folder: the gateway it names decides.
          await putBack(join(asideRoot, item.name), (value) => spoolFolderName(String((value as { baseUrl?: unknown } | null)?.baseUrl)));
        }
      }
      return { restored, kept };
    },
    async lock(baseUrl) {
      const folder = (await openFolder(spoolFolderName(baseUrl), true))!;
      return takeLock(folder, `${process.pid} ${selfStart ?? "-"} ${randomHex(8)}`, selfStart);
    },
  };
}

/**
 * The delivery lock of one folder: `.lock`, holding `pid start-time random` (start time from
 * /proc/<pid>/stat, so a pid reused by another process is told apart). It is placed whole with
 * link(2), which fails when a lock exists: one winner, never a half-written lock.
 *
 * A lock whose holder is gone is taken over, and only one run may do that: removing it is done
 * while holding `.takeover-<hash of the stale token>` (again placed with link), after reading
 * the lock once more and finding the same stale token. Nobody else can change the lock in
 * between (a new lock cannot be placed while it exists, and another taker needs the same
 * guard), so a live lock is never removed. A guard left by a run that died while holding it
 * (its holder gone, older than a few seconds) is removed the same way, under a guard of its
 * own token.
 */
export async function takeLock(folder: string, me: string, selfStart: string | undefined, lockName = LOCK): Promise<(() => Promise<void>) | undefined> {
  const lockPath = join(folder, lockName);
  for (let attempt = 0; attempt < 5; attempt++) {
    if (await placeToken(folder, lockPath, me)) {
      return async () => {
        if ((await readToken(lockPath)) === me) await unlinkIfThere(lockPath);
      };
    }
    const held = await readToken(lockPath);
    if (held === undefined) continue;
    if (!(await isStale(lockPath, held, 0, selfStart))) return undefined;
    if (!(await removeStale(folder, lockPath, held, me, selfStart, 0))) return undefined;
  }
  return undefined;
}

/** Removes `path` if it still holds the stale `observed`; false when another run is at it. */
export async function removeStale(folder: string, path: string, observed: string, me: string, selfStart: string | undefined, depth: number): Promise<boolean> {
  const guard = join(folder, `${GUARD_PREFIX}${createHash("sha256").update(observed).digest("hex").slice(0, 16)}`);
  if (await placeToken(folder, guard, me)) {
    try {
      if ((await readToken(path)) === observed) await unlinkIfThere(path);
    } finally {
      if ((await readToken(guard)) === me) await unlinkIfThere(guard);
    }
    return true;
  }
  if (depth >= 2) return false;
  const guardHeld = await readToken(guard);
  if (guardHeld === undefined) return true;
  if (!(await isStale(guard, guardHeld, GUARD_GRACE_MS, selfStart))) return false;
  await removeStale(folder, guard, guardHeld, me, selfStart, depth + 1);
  return true;
}

/** Writes `token` to a new file and links it as `target`, which must not exist yet. */
async function placeToken(folder: string, target: string, token: string): Promise<boolean> {
  const temporary = await writeNewFile(folder, token);
  try {
    await link(temporary, target);
    return true;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "EEXIST") return false;
    throw error;
  } finally {
    await unlinkIfThere(temporary);
  }
}

/**
 * The token in a lock or guard file; undefined when there is none. Anything but a regular file
 * of this user's is read as a token naming no process, unique to that file.
 */
export async function readToken(path: string): Promise<string | undefined> {
  let handle: FileHandle;
  try {
    handle = await open(path, O_RDONLY | O_NOFOLLOW | O_NONBLOCK);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return undefined;
    const info = await lstat(path).catch(() => undefined);
    return info === undefined ? undefined : `foreign ${info.ino} ${info.mtimeMs}`;
  }
  try {
    const info = await handle.stat();
    const uid = process.geteuid?.();
    if (!info.isFile() || (uid !== undefined && info.uid !== uid)) return `foreign ${info.ino} ${info.mtimeMs}`;
    const buffer = Buffer.alloc(256);
    const { bytesRead } = await handle.read(buffer, 0, buffer.length, 0);
    return buffer.subarray(0, bytesRead).toString("utf8");
  } finally {
    await handle.close();
  }
}

/** True when the run named by `token` is gone (and the file is at least `minAgeMs` old). */
export async function isStale(path: string, token: string, minAgeMs: number, selfStart: string | undefined): Promise<boolean> {
  const info = await lstat(path).catch(() => undefined);
  if (info === undefined) return true;
  const age = Date.now() - info.mtimeMs;
  if (age < minAgeMs) return false;
  const full = /^(\d+) (\d+|-) [0-9a-f]+$/.exec(token);
  if (full !== null) return !(await isRunning(Number(full[1]), full[2] === "-" ? undefined : full[2], selfStart));
  if (/^\d+$/.test(token.trim())) return age > PID_ONLY_LOCK_MS || !(await isRunning(Number(token.trim()), undefined, selfStart));
  return age > UNREADABLE_LOCK_GRACE_MS;
}

export async function isRunning(pid: number, startTime: string | undefined, selfStart: string | undefined): Promise<boolean> {
  if (!Number.isSafeInteger(pid) || pid <= 0) return false;
  if (pid === process.pid) return startTime === undefined || startTime === selfStart;
  try {
    process.kill(pid, 0);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ESRCH") return false;
  }
  const stat = await readProcStat(pid);
  if (stat === undefined) return true;
  // A zombie has ended; its parent has not yet collected it.
  if (stat.state === "Z") return false;
  return startTime === undefined || stat.startTime === startTime;
}

export async function startTimeOf(pid: number): Promise<string | undefined> {
  return (await readProcStat(pid))?.startTime;
}

/** State and start time (clock ticks after boot) from /proc/<pid>/stat; undefined off Linux. */
async function readProcStat(pid: number): Promise<{ state: string; startTime: string } | undefined> {
  try {
    const text = await readFile(`/proc/${pid}/stat`, "utf8");
    // The command name in parentheses may hold spaces and parentheses: fields follow the last ")".
    const fields = text.slice(text.lastIndexOf(")") + 2).split(" ");
    const state = fields[0];
    const startTime = fields[19];
    return state !== undefined && startTime !== undefined && /^\d+$/.test(startTime) ? { state, startTime } : undefined;
  } catch {
    return undefined;
  }
}

/**
 * A spool entry read back: opened without following a link (nor blocking on a FIFO), and used
 * only when it is a regular file of this user's holding exactly what pushgw writes.
 */
async function readEntry(path: string, folderOf: (value: unknown) => string, uid: number | undefined): Promise<({ call: SpooledCall } & FileIdentity) | { problem: string } | "gone"> {
  const read = await readRegularFile(path, { owner: uid, maxBytes: MAX_SPOOL_FILE_BYTES, tooLarge: (size) => `it is larger (${size} bytes) than any call pushgw keeps` });
  if (read === "gone") return "gone";
  if ("why" in read) return { problem: read.why };
  let value: unknown;
  try {
    value = JSON.parse(read.bytes.toString("utf8"));
  } catch {
    return { problem: "it is not JSON" };
  }
  const result = checkSpooledCall(value, folderOf(value));
  return "call" in result ? { call: result.call, ino: read.ino, size: read.size, mtimeMs: read.mtimeMs } : result;
}

/** What tells one file from another at a path, as fstat gave it when the file was read. */
interface FileIdentity {
  readonly ino: number;
  readonly size: number;
  readonly mtimeMs: number;
}

/** A new file with a random name in `folder`, created exclusively and never through a link. */
async function writeNewFile(folder: string, text: string): Promise<string> {
  for (let attempt = 0; ; attempt++) {
    const path = join(folder, `${TEMP_PREFIX}${randomHex(12)}`);
    let handle: FileHandle;
    try {
      handle = await open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW, 0o600);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === "EEXIST" && attempt < 5) continue;
      throw error;
    }
    try {
      await handle.writeFile(text);
      await handle.datasync();
    } catch (error) {
      await handle.close().catch(() => undefined);
      await unlinkIfThere(path);
      throw error;
    }
    await handle.close();
    return path;
  }
}

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

async function nearestExisting(path: string): Promise<string> {
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
async function makeDirectory(dir: string): Promise<void> {
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
