import { createHash } from "node:crypto";
import { mkdir, open, readFile, readdir, rename, rm, stat, writeFile } from "node:fs/promises";
import { dirname, join } from "node:path";
import type { Spool, SpoolEntry, SpooledCall } from "../app/ports.js";

/** A lock older than this is taken over even if its process looks alive (pid reuse). */
const STALE_LOCK_MS = 10 * 60_000;
const TEMP_PREFIX = ".tmp-";
let sequence = 0;

/**
 * The spool on disk: `DIR/<host_port>-<hash>/<time>-<pid>-<seq>.json`, one file per call,
 * mode 0600 in 0700 directories. Entries are written to a temporary name and renamed, so a
 * crash never leaves a half-written entry that could be sent. Delivery takes a per-gateway
 * lock file (created exclusively, holding the pid), so two runs never send the same queue.
 */
export async function createFileSpool(dir: string): Promise<Spool> {
  await makeDirectory(dir);
  const gatewayDir = (baseUrl: string): string => {
    const url = new URL(baseUrl);
    const readable = `${url.hostname}_${url.port || (url.protocol === "https:" ? "443" : "80")}`.replace(/[^A-Za-z0-9._-]/g, "_");
    return join(dir, `${readable}-${createHash("sha256").update(baseUrl).digest("hex").slice(0, 12)}`);
  };
  const readEntries = async (folder: string): Promise<SpoolEntry[]> => {
    let names: string[];
    try {
      names = await readdir(folder);
    } catch {
      return [];
    }
    const entries: SpoolEntry[] = [];
    for (const name of names.filter((n) => n.endsWith(".json") && !n.startsWith(TEMP_PREFIX)).sort()) {
      try {
        const call = JSON.parse(await readFile(join(folder, name), "utf8")) as SpooledCall;
        if (call.version === 1) entries.push({ id: join(folder, name), call });
      } catch {
        // Unreadable: leave it for a person rather than guess.
      }
    }
    return entries;
  };
  return {
    dir,
    async save(call) {
      const folder = gatewayDir(call.baseUrl);
      await makeDirectory(folder);
      const name = `${String(call.savedAt).padStart(15, "0")}-${String(process.pid).padStart(8, "0")}-${String(sequence++).padStart(6, "0")}.json`;
      const temporary = join(folder, `${TEMP_PREFIX}${name}`);
      await writeFile(temporary, JSON.stringify(call), { mode: 0o600, flush: true });
      await rename(temporary, join(folder, name));
      return join(folder, name);
    },
    list: (baseUrl) => readEntries(gatewayDir(baseUrl)),
    async gateways() {
      const found = new Set<string>();
      for (const name of await readdir(dir).catch(() => [] as string[])) {
        if (name === "set-aside") continue;
        for (const entry of await readEntries(join(dir, name))) found.add(entry.call.baseUrl);
      }
      return [...found].sort();
    },
    async remove(entry) {
      await rm(entry.id, { force: true });
    },
    async setAside(entry) {
      const folder = join(dir, "set-aside");
      await mkdir(folder, { recursive: true, mode: 0o700 });
      const target = join(folder, entry.id.split("/").pop()!);
      await rename(entry.id, target);
      return target;
    },
    async lock(baseUrl) {
      const folder = gatewayDir(baseUrl);
      await mkdir(folder, { recursive: true, mode: 0o700 });
      const lockFile = join(folder, ".lock");
      for (let attempt = 0; attempt < 2; attempt++) {
        try {
          const handle = await open(lockFile, "wx", 0o600);
          await handle.writeFile(String(process.pid));
          await handle.close();
          return async () => {
            await rm(lockFile, { force: true });
          };
        } catch (error) {
          if ((error as NodeJS.ErrnoException).code !== "EEXIST") throw error;
          if (!(await isStale(lockFile))) return undefined;
          // The holder died (or the lock is ancient): take it over.
          await rm(lockFile, { force: true });
        }
      }
      return undefined;
    },
  };
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
    if (code === "EEXIST") {
      if (!(await stat(dir)).isDirectory()) throw Object.assign(new Error(`${dir} is not a directory`), { code: "ENOTDIR" });
      return;
    }
    if (code !== "ENOENT") throw error;
    await makeDirectory(dirname(dir));
    await mkdir(dir, { mode: 0o700 }).catch((again: NodeJS.ErrnoException) => {
      if (again.code !== "EEXIST") throw again;
    });
  }
}

async function isStale(lockFile: string): Promise<boolean> {
  try {
    const [content, info] = await Promise.all([readFile(lockFile, "utf8"), stat(lockFile)]);
    if (Date.now() - info.mtimeMs > STALE_LOCK_MS) return true;
    const pid = Number(content);
    if (!Number.isInteger(pid) || pid <= 0) return true;
    try {
      process.kill(pid, 0);
      return false;
    } catch (error) {
      return (error as NodeJS.ErrnoException).code === "ESRCH";
    }
  } catch {
    return true;
  }
}
