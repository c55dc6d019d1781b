import { randomBytes } from "node:crypto";
import { constants } from "node:fs";
import { open, unlink, type FileHandle } from "node:fs/promises";
import { join } from "node:path";

const { O_CREAT, O_EXCL, O_NOFOLLOW, O_NONBLOCK, O_RDONLY, O_WRONLY } = constants;

/** New files (entries, lock tokens) are written under this prefix, then renamed or linked into place. */
export const TEMP_PREFIX = ".tmp-";

/** What a file must be for readRegularFile to hand out its bytes. */
export interface RegularFileRules {
  /** The most bytes it may hold; `tooLarge` says why a larger one is refused. */
  readonly maxBytes: number;
  readonly tooLarge: (size: number) => string;
  /** When given, it must belong to this user. */
  readonly owner?: number | undefined;
  /** It must have no other name (a second hard link could be written through elsewhere). */
  readonly singleName?: boolean;
}

/**
 * A file's bytes, for the spool and the textfile directory, where someone else may have planted
 * what lies there: opened without following a link (nor blocking on a FIFO), and read only when
 * it is a regular file that keeps `rules`; otherwise why not. "gone" when there is none.
 */
export async function readRegularFile(path: string, rules: RegularFileRules): Promise<{ bytes: Buffer; ino: number; size: number; mtimeMs: number } | { why: string } | "gone"> {
  let handle: FileHandle;
  try {
    handle = await open(path, O_RDONLY | O_NOFOLLOW | O_NONBLOCK);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === "ENOENT") return "gone";
    return { why: code === "ELOOP" ? "it is a symbolic link" : `it cannot be opened (${code ?? String(error)})` };
  }
  try {
    const info = await handle.stat();
    if (!info.isFile()) return { why: "it is not a regular file" };
    if (rules.owner !== undefined && info.uid !== rules.owner) return { why: `it belongs to uid ${info.uid}, not to uid ${rules.owner} running pushgw` };
    if (rules.singleName && info.nlink > 1) return { why: `it has ${info.nlink} names (hard links)` };
    if (info.size > rules.maxBytes) return { why: rules.tooLarge(info.size) };
    return { bytes: await handle.readFile(), ino: info.ino, size: info.size, mtimeMs: info.mtimeMs };
  } finally {
    await handle.close();
  }
}

export async function unlinkIfThere(path: string): Promise<void> {
  await unlink(path).catch((error: NodeJS.ErrnoException) => {
    if (error.code !== "ENOENT") throw error;
  });
}

export function randomHex(bytes: number): string {
  return randomBytes(bytes).toString("hex");
}

/** A new file with a random name in `folder`, created exclusively and never through a link. */
export async function writeNewFile(folder: string, text: string): Promise<string> {
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
