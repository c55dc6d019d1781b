import { constants } from "node:fs";
import { open, rename, unlink } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { isBelowAny } from "../core/private-dir.js";
import type { ReceiverMemoryFile } from "../app/ports.js";
import { privateCacheDirectory } from "./cache-directory.js";

const FILE = "receivers.json";
/** Far more than 64 receivers' facts take: a larger file is not pushgw's. */
const MAX_BYTES = 64 * 1024;

/**
 * receivers.json in pushgw's cache directory, only when that directory is private (it and
 * every directory above it writable by this user or root alone) and not below a temporary
 * directory: what it says decides which input is sent where. Never read or written through a
 * link; written whole (a new file renamed over it).
 */
export function createReceiverMemory(env: NodeJS.ProcessEnv): ReceiverMemoryFile {
  let directory: string | undefined | null = null;
  const where = (): string | undefined => {
    if (directory !== null) return directory;
    const found = privateCacheDirectory(env);
    directory = found === undefined || isBelowAny(found, [tmpdir(), env["TMPDIR"], "/tmp", "/var/tmp", "/dev/shm"]) ? undefined : found;
    return directory;
  };
  return {
    async read() {
      const dir = where();
      if (dir === undefined) return undefined;
      try {
        const handle = await open(join(dir, FILE), constants.O_RDONLY | constants.O_NOFOLLOW);
        try {
          const buffer = Buffer.alloc(MAX_BYTES + 1);
          const { bytesRead } = await handle.read(buffer, 0, buffer.length, 0);
          return bytesRead > MAX_BYTES ? undefined : buffer.toString("utf8", 0, bytesRead);
        } finally {
          await handle.close();
        }
      } catch {
        return undefined;
      }
    },
    async write(text) {
      const dir = where();
      if (dir === undefined) return;
      const temporary = join(dir, `.${FILE}.${process.pid}.${Math.random().toString(36).slice(2)}`);
      try {
        const handle = await open(temporary, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW, 0o600);
        try {
          await handle.writeFile(text);
        } finally {
          await handle.close();
        }
        await rename(temporary, join(dir, FILE));
      } catch {
        await unlink(temporary).catch(() => undefined);
      }
    },
  };
}
