import type { Stats } from "node:fs";
import { lstat, mkdir, readdir, realpath, rename, unlink } from "node:fs/promises";
import { basename, dirname, join, resolve } from "node:path";
import type { SetAsideNote, Spool, SpoolEntry } from "../app/ports.js";
import { checkSpooledCall, MAX_SPOOL_FILE_BYTES, MAX_SPOOLED_BODY_BYTES, spoolFolderName, utf8Length, type SpooledCall } from "../core/spool.js";
import { assertSafeDirectory, checkParents, makeDirectory, nearestExisting } from "./directory-safety.js";
import { randomHex, readRegularFile, writeNewFile } from "./safe-files.js";
import { startTimeOf, takeLock } from "./token-lock.js";

const SET_ASIDE = "set-aside";
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
