/**
 * `wrap --lock`: at most one run of a group at a time on this host. The lock is an flock(2) on
 * an open file, which the kernel drops when the wrapper's last descriptor of it closes, however
 * the wrapper ends (SIGKILL, OOM, reboot); nothing stale is ever left to clean up. What lives
 * here decides names and trust; the adapter (adapters/flock-lock.ts) opens and locks.
 */

/** The wrapper's exit status when the lock is held and the job was skipped: EX_TEMPFAIL, as lckdo(1). */
export const SKIPPED_EXIT_CODE = 75;

/** The file beside the lock that counts the runs skipped, guarded by its own lock. */
export function skipCountFile(lockFile: string): string {
  return `${lockFile}.skipped`;
}

/** What lstat/fstat says about a lock file or its directory. */
export interface FileFacts {
  readonly path: string;
  readonly isDirectory: boolean;
  readonly isFile: boolean;
  readonly isSymbolicLink: boolean;
  readonly uid: number;
  readonly mode: number;
  readonly links: number;
}

export interface LockProblem {
  readonly problem: string;
  readonly hint: string;
}

/**
 * Why a directory must not hold a lock file, or undefined when it may. Anyone who can rename or
 * replace what lies in it could swap the lock for another file and run a second copy of the
 * job (or keep it from ever running): it must be owned by root or by the user, and a directory
 * others may write to needs the sticky bit (/tmp, /run/lock).
 */
export function lockDirectoryProblem(facts: FileFacts, uid: number): LockProblem | undefined {
  const mode = `mode ${(facts.mode & 0o7777).toString(8).padStart(4, "0")}`;
  if (!facts.isDirectory) return { problem: `${facts.path} is not a directory`, hint: "--lock FILE names a file in an existing directory" };
  if (facts.uid !== 0 && facts.uid !== uid) {
    return { problem: `the lock's directory ${facts.path} belongs to uid ${facts.uid}, neither root nor uid ${uid} running pushgw`, hint: "its owner could replace the lock file: put the lock in a directory of your own (--lock FILE)" };
  }
  if ((facts.mode & 0o002) !== 0 && (facts.mode & 0o1000) === 0) {
    return { problem: `the lock's directory ${facts.path} is writable by others without the sticky bit (${mode})`, hint: `anyone could replace the lock file: chmod o-w ${facts.path} (or chmod +t, as /tmp), or use another directory (--lock FILE)` };
  }
  return undefined;
}

/**
 * Why an opened lock (or skip count) file must not be used, or undefined when it may: a regular
 * file of the user's own with no other name. A file someone else planted under the lock's name
 * could be held by them forever; a second hard link would let the count be written elsewhere.
 */
export function lockFileProblem(facts: FileFacts, uid: number): LockProblem | undefined {
  if (facts.isSymbolicLink) return { problem: `${facts.path} is a symbolic link`, hint: "pushgw never follows a link to a lock file: remove it, or name the real file with --lock FILE" };
  if (!facts.isFile) return { problem: `${facts.path} is not a regular file`, hint: "remove it, or name another file with --lock FILE" };
  if (facts.uid !== uid) {
    return { problem: `the lock file ${facts.path} belongs to uid ${facts.uid}, not to uid ${uid} running pushgw`, hint: "whoever owns it could hold the lock and keep the job from running: remove it, or name another file with --lock FILE" };
  }
  if (facts.links !== 1) return { problem: `the lock file ${facts.path} has ${facts.links} names (hard links)`, hint: "a lock file is pushgw's alone: remove it, or name another file with --lock FILE" };
  return undefined;
}

/** The skip count kept in its file: a whole number, else 0 (an empty or damaged file starts again). */
export function parseSkipCount(text: string): number {
  const trimmed = text.trim();
  return /^\d{1,15}$/.test(trimmed) ? Number(trimmed) : 0;
}

/** `--lock-wait` for flock(1)'s -w: seconds, with up to three decimals. */
export function flockSeconds(ms: number): string {
  return String(Math.max(0, Math.round(ms) / 1000));
}
