import type { DirectoryFacts } from "./spool.js";

/**
 * Where pushgw keeps what no other user may touch: what it hands a wrapped job (the metrics
 * file, the relay socket, the standalone executable's PATH entry), the default `wrap --lock`
 * file, and the code caches it runs. A name in a directory another user can write to can be
 * re-created by that user once pushgw has removed it (a process the job left behind still holds
 * the path) or planted before pushgw comes: root would then write through their symbolic link,
 * talk to their socket, run their `pushgw` or their compiled code. Nothing here ever falls back
 * to a shared directory (/tmp, /run/lock): with no private place, the thing is done without.
 */

/**
 * A directory that may hold pushgw's private files. `madeBelow`: pushgw makes it (mode 0700)
 * when missing, but only below this directory, which must exist: a HOME of /nonexistent (a
 * service account's) stays nonexistent. Undefined: it must exist.
 */
export interface PrivateDirectoryCandidate {
  readonly dir: string;
  readonly madeBelow: string | undefined;
}

const absolute = (path: string | undefined): string | undefined => (path !== undefined && path.startsWith("/") ? path : undefined);

function parentOf(path: string): string {
  return path.replace(/\/[^/]*$/, "") || "/";
}

/** `$XDG_CACHE_HOME`, else `$HOME/.cache`; none when neither is an absolute path (cron without HOME). */
export function cacheHome(env: Readonly<Record<string, string | undefined>>): string | undefined {
  const xdg = absolute(env["XDG_CACHE_HOME"]);
  if (xdg !== undefined) return xdg.replace(/(.)\/+$/, "$1");
  const home = absolute(env["HOME"]);
  return home === undefined ? undefined : `${home.replace(/\/+$/, "")}/.cache`;
}

/**
 * The private directories for `purpose`, best first: the user's runtime directory (a login
 * session's, or one a service manager gives); without one, for root, which cron runs most jobs
 * as, /run/pushgw; then `purpose` under pushgw's cache directory. Each is used only when its
 * whole directory chain passes `privateChainProblem`. A runtime directory that is set is what
 * the environment means to be used: /run/pushgw does not stand in for it (so a test, or a
 * second service, can give pushgw a runtime directory of its own).
 */
export function privateDirectoryCandidates(env: Readonly<Record<string, string | undefined>>, uid: number, purpose: "locks" | "run"): PrivateDirectoryCandidate[] {
  const runtime = absolute(env["XDG_RUNTIME_DIR"]);
  const cache = cacheHome(env);
  return [
    ...(runtime === undefined ? [] : [{ dir: runtime, madeBelow: undefined }]),
    ...(uid === 0 && runtime === undefined ? [{ dir: "/run/pushgw", madeBelow: "/run" }] : []),
    ...(cache === undefined ? [] : [{ dir: `${cache}/pushgw/${purpose}`, madeBelow: parentOf(cache) }]),
  ];
}

/**
 * Why a directory is not private to `uid`, or undefined when it is, judged as ssh judges the
 * path to authorized_keys. `chain` is what lstat says about the directory's real path and each
 * directory above it, up to /, the directory first. Every one must be a real directory owned
 * by `uid` or by root (root is trusted: it can do anything anyway). The directory itself must
 * be writable by nobody else, so no one else can create a name in it; a directory above it may
 * be writable by others only with the sticky bit (/tmp), where nobody can rename or remove what
 * another user owns.
 */
export function privateChainProblem(chain: readonly DirectoryFacts[], uid: number): string | undefined {
  for (const [index, facts] of chain.entries()) {
    const what = index === 0 ? facts.path : `its parent ${facts.path}`;
    const mode = `mode ${(facts.mode & 0o7777).toString(8).padStart(4, "0")}`;
    if (facts.isSymbolicLink) return `${what} is a symbolic link`;
    if (!facts.isDirectory) return `${what} is not a directory`;
    if (facts.uid !== uid && facts.uid !== 0) return `${what} belongs to uid ${facts.uid}, neither root nor uid ${uid}`;
    if ((facts.mode & 0o022) === 0) continue;
    const writers = (facts.mode & 0o002) !== 0 ? "others" : "its group";
    if (index === 0) return `${what} is writable by ${writers} (${mode})`;
    if ((facts.mode & 0o1000) === 0) return `${what} is writable by ${writers} without the sticky bit (${mode})`;
  }
  return undefined;
}

/** Whether a socket found at a path handed down by a wrapper may be talked to: its own user's, or root's. */
export function socketOwnerProblem(facts: { readonly path: string; readonly isSocket: boolean; readonly uid: number }, uid: number): string | undefined {
  if (!facts.isSocket) return `${facts.path} is not a socket`;
  if (facts.uid !== uid && facts.uid !== 0) return `${facts.path} belongs to uid ${facts.uid}, neither root nor uid ${uid}`;
  return undefined;
}

/** Whether `path` is one of `dirs` or below one (each absolute; undefined and relative ones are skipped). */
export function isBelowAny(path: string, dirs: ReadonlyArray<string | undefined>): boolean {
  return dirs.some((dir) => {
    if (dir === undefined || !dir.startsWith("/")) return false;
    const trimmed = dir.replace(/\/+$/, "");
    return trimmed === "" || path === trimmed || path.startsWith(`${trimmed}/`);
  });
}
