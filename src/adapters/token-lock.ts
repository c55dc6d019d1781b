import { createHash } from "node:crypto";
import { constants } from "node:fs";
import { link, lstat, open, readFile, type FileHandle } from "node:fs/promises";
import { join } from "node:path";
import { unlinkIfThere, writeNewFile } from "./safe-files.js";

const { O_NOFOLLOW, O_NONBLOCK, O_RDONLY } = constants;

const LOCK = ".lock";
/** The guard a lock takeover holds while it replaces a dead holder's token. */
export const GUARD_PREFIX = ".takeover-";
/** A takeover guard whose holder died is removed only once it is this old. */
const GUARD_GRACE_MS = 3_000;
/** A lock file holding no token (not written by this version of pushgw) waits this long. */
const UNREADABLE_LOCK_GRACE_MS = 5_000;
/** A lock holding only a pid (older pushgw) cannot tell pid reuse: it expires after this. */
const PID_ONLY_LOCK_MS = 10 * 60_000;

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
