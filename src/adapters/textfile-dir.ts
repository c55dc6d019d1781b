import { constants } from "node:fs";
import { lstat, open, readdir, realpath, rename, unlink } from "node:fs/promises";
import { basename, dirname, join, resolve } from "node:path";
import type { PromFileBytes, TextfileDirectory } from "../app/ports.js";
import { GatewayError, UsageError } from "../core/errors.js";
import { randomHex, readRegularFile, TEMP_PREFIX as TOKEN_TEMP_PREFIX, unlinkIfThere } from "./safe-files.js";
import { assertSafeDirectory, checkParents } from "./directory-safety.js";
import { GUARD_PREFIX, isRunning, isStale, readToken, removeStale, startTimeOf, takeLock } from "./token-lock.js";

const { O_CREAT, O_DIRECTORY, O_EXCL, O_NOFOLLOW, O_RDONLY, O_WRONLY } = constants;

/** `.pushgw-tmp-<pid>-<start time>-<random>`: no `.prom` suffix, so node_exporter never reads one. */
const TEMP_PREFIX = ".pushgw-tmp-";
/** The lock of `x.prom` is `.x.prom.lock`. */
const LOCK_SUFFIX = ".lock";
/** A token file whose writer died is removed only once it is this old. */
const TOKEN_GRACE_MS = 3_000;
/** No file pushgw writes is larger; a larger `*.prom` is left out of the checks. */
const MAX_FILE_BYTES = 64 * 1024 * 1024;
const LARGER_THAN_ANY = (): string => `it is larger than ${MAX_FILE_BYTES} bytes`;
/**
 * The most bytes all `*.prom` files together may hold for a run to read them (each is checked
 * against a new file). node_exporter reads them all at every scrape, so a directory a real
 * installation scrapes holds far less; past it the run stops reading before it holds too much.
 */
const MAX_DIRECTORY_BYTES = 256 * 1024 * 1024;
const OVER_BUDGET = "over the directory's budget";
/** Between two looks at a taken lock: from the first to the second, doubling, with jitter, so that 30 waiting runs do not move in step. */
const LOCK_POLL_MS = [2, 50] as const;

/**
 * The textfile directory on disk. node_exporter reads every `*.prom` file in it at each scrape;
 * pushgw writes one file per group and nothing else that ends in `.prom`.
 *
 * Nothing is followed or trusted that another user could have placed: the directory must pass
 * the spool's checks (core/spool.ts `directoryProblem`, role "textfile"); a group's file is
 * opened without following a link and used only when it is a regular file of this user's with
 * one name; new text goes to a temporary file created exclusively (O_EXCL|O_NOFOLLOW), synced,
 * and renamed over the old one, so node_exporter sees the old file or the new, never half.
 *
 * Each file has its own lock (`.<name>.lock`, the spool's lock: one winner, a dead holder's lock
 * taken over by one run only), so concurrent pushgw runs on one group never lose an update.
 * A temporary file or lock left by a pushgw that died is removed by the next write.
 */
export async function createTextfileDir(dir: string): Promise<TextfileDirectory> {
  const uid = process.geteuid?.();
  const absolute = resolve(dir);
  const info = await lstat(absolute).catch((error: NodeJS.ErrnoException) => {
    if (error.code === "ENOENT") {
      throw new UsageError(`--textfile-dir ${dir}: no such directory`, {
        hint: "give the directory node_exporter reads (its --collector.textfile.directory); pushgw does not make it, so that a typo is not written to where nobody reads",
      });
    }
    throw new UsageError(`--textfile-dir ${dir}: cannot look at it (${error.code ?? error.message})`);
  });
  assertSafeDirectory(absolute, info, uid, "textfile");
  const root = join(await realpath(dirname(absolute)), basename(absolute));
  await checkParents(dirname(root), uid, "the textfile directory");
  const selfStart = await startTimeOf(process.pid);
  // The token this run places while it removes what dead runs left (removeDebris).
  const sweeper = `${process.pid} ${selfStart ?? "-"} ${randomHex(8)}`;

  const waitForLock = async (name: string, waitMs: number): Promise<() => Promise<void>> => {
    const deadline = Date.now() + waitMs;
    const lockPath = join(root, `.${name}${LOCK_SUFFIX}`);
    // A token of its own for each hold: two writes of one group in this process (wrap's own
    // push and one relayed from its job) wait for each other like two processes.
    const me = `${process.pid} ${selfStart ?? "-"} ${randomHex(8)}`;
    for (let pause: number = LOCK_POLL_MS[0]; ; pause = Math.min(pause * 2, LOCK_POLL_MS[1])) {
      // Placing a token costs a synced file: while a live run holds the lock, only look.
      const held = await readToken(lockPath);
      if (held === undefined || (await isStale(lockPath, held, 0, selfStart))) {
        const release = await takeLock(root, me, selfStart, `.${name}${LOCK_SUFFIX}`);
        if (release !== undefined) return release;
      }
      if (Date.now() >= deadline) {
        const holder = (await readToken(lockPath))?.split(" ")[0];
        throw new GatewayError(`${join(root, name)}: not written: another pushgw${holder && /^\d+$/.test(holder) ? ` (pid ${holder})` : ""} held its lock for longer than ${waitMs} ms`, {
          hint: "a pushgw writing that group hangs, or very many write it at once: try again, or give a longer --timeout",
        });
      }
      await new Promise((r) => setTimeout(r, Math.min(pause * (0.5 + Math.random()), Math.max(0, deadline - Date.now()))));
    }
  };

  return {
    dir: root,
    async readAll(except) {
      const files: PromFileBytes[] = [];
      const skipped: Array<{ name: string; why: string }> = [];
      let total = 0;
      for (const name of (await readdir(root)).sort()) {
        if (!name.endsWith(".prom") || name === except) continue;
        // A file that would take the total past the budget is not read at all.
        const left = MAX_DIRECTORY_BYTES - total;
        const read = await readRegularFile(join(root, name), { maxBytes: Math.min(MAX_FILE_BYTES, left), tooLarge: (size) => (size > MAX_FILE_BYTES ? LARGER_THAN_ANY() : OVER_BUDGET) });
        if (read === "gone") continue;
        if ("why" in read && read.why === OVER_BUDGET) {
          throw new GatewayError(`${root}: its *.prom files hold more than ${MAX_DIRECTORY_BYTES} bytes (256 MiB) together; pushgw reads them all to check what it writes against them, and stopped at ${name}`, {
            hint: "node_exporter reads every *.prom file at each scrape: remove the files that are not needed, or give pushgw a directory of its own",
          });
        }
        if ("why" in read) skipped.push({ name, why: read.why });
        else {
          total += read.bytes.length;
          files.push({ name, bytes: read.bytes });
        }
      }
      return { files, skipped };
    },
    async update(name, waitMs, decide) {
      if (name.includes("/") || name.startsWith(".") || !name.endsWith(".prom")) throw new Error(`not a textfile name: ${name}`);
      const path = join(root, name);
      const release = await waitForLock(name, waitMs);
      try {
        await removeDebris(root, sweeper, selfStart);
        const current = await readOwnFile(path, uid);
        const decision = await decide(current);
        if (typeof decision.write === "string") await replaceFile(root, name, decision.write, selfStart);
        else if (decision.write === null) {
          await unlink(path).catch((error: NodeJS.ErrnoException) => {
            if (error.code !== "ENOENT") throw error;
          });
          await syncDirectory(root);
        }
        return decision.result;
      } finally {
        await release().catch(() => undefined);
      }
    },
  };
}

/**
 * The group's file as it is now: undefined when there is none; its text when it is a regular
 * file of this user's with no other name; otherwise a GatewayError, and nothing is written.
 */
async function readOwnFile(path: string, uid: number | undefined): Promise<string | undefined> {
  const read = await readRegularFile(path, { owner: uid, singleName: true, maxBytes: MAX_FILE_BYTES, tooLarge: LARGER_THAN_ANY });
  if (read === "gone") return undefined;
  if ("why" in read) {
    throw new GatewayError(`${path}: left alone: ${read.why}`, {
      hint: "pushgw writes over only its own files: look at what is there, and remove it if it is not needed",
    });
  }
  try {
    return new TextDecoder("utf-8", { fatal: true }).decode(read.bytes);
  } catch {
    throw new GatewayError(`${path}: left alone: it is not UTF-8 text, so pushgw did not write it`, { hint: "look at what is there, and remove it if it is not needed" });
  }
}

/** Writes `text` to a new temporary file, syncs it, and renames it over `name`. */
async function replaceFile(root: string, name: string, text: string, selfStart: string | undefined): Promise<void> {
  const temporary = join(root, `${TEMP_PREFIX}${process.pid}-${selfStart ?? "-"}-${randomHex(8)}`);
  const handle = await open(temporary, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW, 0o644);
  try {
    try {
      // The umask may have taken bits away; node_exporter runs as another user and must read it.
      await handle.chmod(0o644);
      await handle.writeFile(text);
      await handle.datasync();
    } finally {
      await handle.close();
    }
    await rename(temporary, join(root, name));
  } catch (error) {
    await unlink(temporary).catch(() => undefined);
    throw error;
  }
  await syncDirectory(root);
}

/** Makes a rename or unlink in the directory survive a crash of the machine. */
async function syncDirectory(root: string): Promise<void> {
  const handle = await open(root, O_RDONLY | O_DIRECTORY).catch(() => undefined);
  if (handle === undefined) return;
  try {
    await handle.sync().catch(() => undefined);
  } finally {
    await handle.close();
  }
}

/**
 * What pushgw runs that died left behind: temporary files of gone processes, the spool lock's
 * token files and takeover guards of gone processes, and locks whose holder is gone. Best
 * effort: a failure here never stops a write.
 */
async function removeDebris(root: string, me: string, selfStart: string | undefined): Promise<void> {
  let names: string[];
  try {
    names = await readdir(root);
  } catch {
    return;
  }
  for (const name of names) {
    const path = join(root, name);
    try {
      if (name.startsWith(TEMP_PREFIX)) {
        const [pid, start] = name.slice(TEMP_PREFIX.length).split("-");
        if (!(await isRunning(Number(pid), start === "-" ? undefined : start, selfStart))) await unlinkIfThere(path);
      } else if (name.startsWith(TOKEN_TEMP_PREFIX)) {
        const token = await readToken(path);
        if (token !== undefined && (await isStale(path, token, TOKEN_GRACE_MS, selfStart))) await unlinkIfThere(path);
      } else if ((name.startsWith(GUARD_PREFIX) || (name.startsWith(".") && name.endsWith(`.prom${LOCK_SUFFIX}`))) && (await lstat(path)).isFile()) {
        const token = await readToken(path);
        if (token !== undefined && (await isStale(path, token, name.startsWith(GUARD_PREFIX) ? TOKEN_GRACE_MS : 0, selfStart))) await removeStale(root, path, token, me, selfStart, 0);
      }
    } catch {
      // Gone meanwhile, or not ours to remove: left alone.
    }
  }
}
