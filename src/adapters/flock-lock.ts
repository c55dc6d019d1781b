import { spawn } from "node:child_process";
import { constants, type Stats } from "node:fs";
import { access, lstat, open, realpath, type FileHandle } from "node:fs/promises";
import { dirname, join, resolve } from "node:path";
import type { HeldLock, Locks } from "../app/ports.js";
import { UsageError } from "../core/errors.js";
import { lockFileName } from "../core/lock-name.js";
import { currentUid, findPrivateDirectory } from "./private-dir.js";
import { flockSeconds, lockDirectoryProblem, lockFileProblem, parseSkipCount, type FileFacts } from "../core/lock.js";

const { O_CREAT, O_NOFOLLOW, O_NONBLOCK, O_RDWR } = constants;

/** util-linux flock(1), by absolute path: cron's PATH is short, and `env -i` has none. */
export const FLOCK_PATHS = ["/usr/bin/flock", "/bin/flock"];

/**
 * wrap --lock, with flock(2) locks. Node has no flock; util-linux's flock(1) takes it for us on
 * a descriptor we opened and hand it as its fd 3 (`flock -n 3`, the `exec 9>lock; flock -n 9`
 * idiom of shell scripts). An flock belongs to the open file description, not to the process
 * that asked: once flock(1) has exited, the lock stays held through the wrapper's own
 * descriptor, and the kernel drops it when that closes, however the wrapper ends (SIGKILL
 * included). Node opens every file close-on-exec, so the job and anything it leaves running
 * never hold it. No process runs beside the job, and nothing stale is ever left to clean up.
 *
 * The file is opened by pushgw itself, never through a symbolic link and only when it is a
 * regular file of the user's with no other name, in a directory nobody else can rename things
 * in (core/lock.ts); flock(1) never sees a path.
 */
export function createFlockLocks(): Locks {
  return {
    async defaultFile(key) {
      const uid = currentUid();
      // Only where no other user can write (core/private-dir.ts): in /run/lock or /tmp anyone
      // could plant a file under the lock's predictable name before the job's first run, and
      // pushgw, which refuses a lock file it does not own, would never run the job again.
      const found = findPrivateDirectory(process.env, "locks", uid);
      if ("why" in found) {
        throw new UsageError(`--lock: no directory of uid ${uid}'s own for the default lock file: ${found.why}`, {
          hint: "name the lock file in a directory only this user can write: --lock FILE (or give the job a HOME or XDG_RUNTIME_DIR)",
        });
      }
      return join(found.dir, lockFileName(key, uid));
    },
    take,
  };
}

async function take(path: string, waitMs: number | undefined): Promise<HeldLock | "busy"> {
  const flock = await findFlock();
  const uid = process.geteuid?.() ?? 0;
  const absolute = resolve(path);
  await checkDirectory(dirname(absolute), uid);
  let handle: FileHandle;
  try {
    handle = await open(absolute, O_RDWR | O_CREAT | O_NOFOLLOW | O_NONBLOCK, 0o600);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === "ELOOP") throw problem(lockFileProblem({ path: absolute, isDirectory: false, isFile: false, isSymbolicLink: true, uid, mode: 0, links: 1 }, uid)!);
    throw new UsageError(`--lock: cannot open ${absolute} (${code ?? String(error)})`, {
      hint: code === "EACCES" ? "it may belong to another user (a directory like /tmp lets nobody else open it): name another file with --lock FILE" : "check the path, or name another file with --lock FILE",
    });
  }
  try {
    const fileProblem = lockFileProblem(factsOf(absolute, await handle.stat()), uid);
    if (fileProblem !== undefined) throw problem(fileProblem);
    const args = waitMs === undefined ? ["-n", "3"] : ["-w", flockSeconds(waitMs), "3"];
    const locked = await runFlock(flock, args, handle.fd);
    if (locked === "busy") {
      await handle.close();
      return "busy";
    }
  } catch (error) {
    await handle.close().catch(() => undefined);
    throw error;
  }
  return held(absolute, handle);
}

function held(path: string, handle: FileHandle): HeldLock {
  let released = false;
  return {
    path,
    async readCount() {
      const buffer = Buffer.alloc(64);
      const { bytesRead } = await handle.read(buffer, 0, buffer.length, 0);
      return parseSkipCount(buffer.subarray(0, bytesRead).toString("utf8"));
    },
    async writeCount(count) {
      await handle.truncate(0);
      await handle.write(`${count}\n`, 0);
    },
    async release() {
      if (released) return;
      released = true;
      // The last descriptor of the open file description: closing it drops the flock.
      await handle.close();
    },
  };
}

/**
 * Runs flock(1) on fd 3: "locked", or "busy" when -n found the lock held (or -w timed out):
 * exit status 1 with nothing said. BusyBox's flock answers the same way, but has no -w.
 */
function runFlock(flock: string, args: readonly string[], fd: number): Promise<"locked" | "busy"> {
  return new Promise((resolvePromise, reject) => {
    // While it waits (--lock-wait) flock(1) holds nothing but a descriptor of the file. Should the
    // wrapper die meanwhile, it takes the lock when it comes free and exits at once, dropping it.
    const child = spawn(flock, args, { stdio: ["ignore", "ignore", "pipe", fd], env: {} });
    let said = "";
    child.stderr!.setEncoding("utf8").on("data", (text: string) => (said += text));
    child.on("error", (error: NodeJS.ErrnoException) => reject(new UsageError(`--lock: cannot run ${flock} (${error.code ?? error.message})`, { hint: "wrap --lock needs util-linux's flock(1)" })));
    child.on("close", (code) => {
      if (code === 0) resolvePromise("locked");
      else if (code === 1 && said.trim() === "") resolvePromise("busy");
      else {
        reject(
          new UsageError(`--lock: ${flock} ${args.join(" ")} failed (exit status ${code ?? "none"}): ${said.trim() || "no message"}`, {
            hint: args[0] === "-w" ? "--lock-wait needs util-linux's flock(1) (BusyBox's has no -w)" : "wrap --lock needs util-linux's flock(1)",
          }),
        );
      }
    });
  });
}

async function findFlock(): Promise<string> {
  for (const candidate of FLOCK_PATHS) {
    if (await access(candidate, constants.X_OK).then(() => true, () => false)) return candidate;
  }
  throw new UsageError(`--lock needs flock(1) from util-linux, and there is none at ${FLOCK_PATHS.join(" or ")}`, {
    hint: "install util-linux (Debian and Ubuntu have it; Alpine: apk add util-linux), or run without --lock",
  });
}

/** The lock's directory and every one above it: nobody but root and this user may rename things in them. */
async function checkDirectory(dir: string, uid: number): Promise<void> {
  let real: string;
  try {
    real = await realpath(dir);
  } catch (error) {
    throw new UsageError(`--lock: the directory ${dir} cannot be used (${(error as NodeJS.ErrnoException).code ?? String(error)})`, {
      hint: "pushgw makes the lock file, not its directory: name a file in an existing directory",
    });
  }
  for (let path = real; ; path = dirname(path)) {
    const found = lockDirectoryProblem(factsOf(path, await lstat(path)), uid);
    if (found !== undefined) throw problem(found);
    if (dirname(path) === path) return;
  }
}

function factsOf(path: string, info: Stats): FileFacts {
  return { path, isDirectory: info.isDirectory(), isFile: info.isFile(), isSymbolicLink: info.isSymbolicLink(), uid: info.uid, mode: info.mode, links: info.nlink };
}

function problem(found: { problem: string; hint: string }): UsageError {
  return new UsageError(`--lock: ${found.problem}`, { hint: found.hint });
}
