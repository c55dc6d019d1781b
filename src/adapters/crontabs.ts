import { constants, existsSync, realpathSync, statSync } from "node:fs";
import { lstat, mkdtemp, open, rename, stat, type FileHandle } from "node:fs/promises";
import { homedir, userInfo } from "node:os";
import { basename, dirname, join, resolve } from "node:path";
import { isSea } from "node:sea";
import { execa } from "execa";
import type { Crontabs } from "../app/ports.js";
import { UsageError, WriteError } from "../core/errors.js";
import { ensurePrivateDirectory, privateDirectory } from "./private-dir.js";
import { randomHex, unlinkIfThere } from "./safe-files.js";

const { O_NOFOLLOW, O_NONBLOCK, O_RDONLY, O_WRONLY, O_CREAT, O_EXCL } = constants;
/** Larger than any crontab; a bigger "crontab" is something else. */
const MAX_CRONTAB_BYTES = 4 * 1024 * 1024;

export function createCrontabs(env: Readonly<Record<string, string | undefined>>): Crontabs {
  const uid = process.getuid?.() ?? 0;
  const pushgwPath = isSea() ? process.execPath : resolve(process.argv[1] ?? process.execPath);
  return {
    readUserCrontab: async (user) => {
      // As large as a crontab file may be, no more: a user's crontab is that user's to fill.
      const run = await execa("crontab", [...userArgs(user), "-l"], { reject: false, stripFinalNewline: false, env: { LC_ALL: "C" }, maxBuffer: MAX_CRONTAB_BYTES });
      if (run.isMaxBuffer) throw new UsageError(`crontab -l${user ? ` -u ${user}` : ""}: more than ${MAX_CRONTAB_BYTES} bytes is no crontab`);
      if (run.exitCode === 0) return run.stdout;
      if (/no crontab for/i.test(run.stderr)) return "";
      throw new UsageError(`crontab -l${user ? ` -u ${user}` : ""} failed: ${(String(run.stderr ?? "") || (run.message ?? "")).trim()}`, { hint: user ? "only root may read another user's crontab" : "is cron installed (the crontab command)?" });
    },
    writeUserCrontab: async (user, text) => {
      if (uid === 0) await pastTheSecondOf(await stat(join(CRONTAB_SPOOL, user ?? userName())).catch(() => undefined));
      const run = await execa("crontab", [...userArgs(user), "-"], { reject: false, input: text, env: { LC_ALL: "C" } });
      if (run.exitCode !== 0) throw new WriteError(`crontab -${user ? ` -u ${user}` : ""} refused the new crontab: ${(String(run.stderr ?? "") || (run.message ?? "")).trim()}`);
    },
    readFile: async (path) => {
      await checkPlace(path, uid);
      let handle: FileHandle;
      try {
        handle = await open(path, O_RDONLY | O_NOFOLLOW | O_NONBLOCK);
      } catch (error) {
        throw new UsageError(`${path}: ${explain(error)}`, { hint: "give a crontab file: /etc/crontab, /etc/cron.d/NAME, or --crontab FILE" });
      }
      try {
        const info = await handle.stat();
        if (!info.isFile()) throw new UsageError(`${path}: not a regular file`);
        if (info.size > MAX_CRONTAB_BYTES) throw new UsageError(`${path}: ${info.size} bytes is no crontab`);
        checkWriters(path, info, uid);
        return (await handle.readFile()).toString("utf8");
      } finally {
        await handle.close();
      }
    },
    replaceFile: async (path, text) => {
      const before = await checkPlace(path, uid);
      const temp = join(dirname(path), `.${basename(path)}.pushgw-${randomHex(6)}`);
      let handle: FileHandle | undefined;
      try {
        await pastTheSecondOf(before);
        // A name with a dot: cron skips it in /etc/cron.d until the rename.
        handle = await open(temp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW, 0o600);
        await handle.writeFile(text);
        await handle.chown(before.uid, before.gid);
        await handle.chmod(before.mode & 0o7777);
        // Stamped from the system's clock, which the wait above went by.
        const stamp = new Date();
        await handle.utimes(stamp, stamp);
        await handle.sync();
        await handle.close();
        handle = undefined;
        // Still the file that was checked, not a link put in its place since.
        const now = await lstat(path);
        if (now.isSymbolicLink() || now.ino !== before.ino || now.dev !== before.dev) throw new WriteError(`${path} was replaced by something else while pushgw worked; not written`);
        await rename(temp, path);
        const dir = await open(dirname(path), O_RDONLY);
        await dir.sync().finally(() => dir.close());
      } catch (error) {
        await handle?.close().catch(() => undefined);
        await unlinkIfThere(temp).catch(() => undefined);
        if (error instanceof WriteError || error instanceof UsageError) throw error;
        throw new WriteError(`${path}: not written: ${explain(error)}`);
      }
    },
    saveBackup: async (dir, files) => {
      const wanted = resolve(dir ?? defaultBackupDir(uid, env));
      // Crontabs hold secrets, and root writes here: the directory and every one above it must be
      // private (core/private-dir.ts), or another user could swap a directory below for a link.
      const checked = ensurePrivateDirectory(wanted, "/", uid);
      if ("why" in checked) {
        throw new WriteError(`the backup could not be saved in ${wanted}: ${checked.why}; nothing was changed`, { hint: "give a directory only you can write, and the ones above it, with --backup-dir DIR" });
      }
      const parent = checked.dir;
      try {
        const made = await mkdtemp(join(parent, `${new Date().toISOString().replace(/[:.]/g, "")}-`));
        const info = await stat(made);
        if (info.uid !== uid || (info.mode & 0o077) !== 0) throw new WriteError(`${made}: not a private directory`);
        for (const file of files) {
          const handle = await open(join(made, file.name), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW, 0o600);
          try {
            await handle.writeFile(file.text);
            await handle.sync();
          } finally {
            await handle.close();
          }
        }
        return made;
      } catch (error) {
        if (error instanceof WriteError) throw error;
        throw new WriteError(`the backup could not be saved in ${parent}: ${explain(error)}; nothing was changed`, { hint: "give a directory pushgw can write with --backup-dir DIR" });
      }
    },
    pushgwPath,
    pushgwPathProblem: uid === 0 ? pathProblemForRoot(pushgwPath) : undefined,
    nodeMissingFromCronPath: !isSea() && !["/usr/bin/node", "/bin/node"].some((node) => existsSync(node)),
    localZone: env["TZ"] && !env["TZ"].startsWith(":") ? env["TZ"] : Intl.DateTimeFormat().resolvedOptions().timeZone,
  };
}

/** Where Debian's cron keeps users' crontabs (readable by root only). */
const CRONTAB_SPOOL = "/var/spool/cron/crontabs";

/**
 * Cron rereads a crontab only when its modification time changed, in whole seconds: a file
 * written within the same second as the one it replaces may never be read, and the job would
 * run unwrapped. So the new file is written in a later second than the old one: a wait of at
 * most a second, and only when the old file is that new. The margin is for the file system's
 * clock, which lags the system's by a few milliseconds.
 */
async function pastTheSecondOf(old: { readonly mtimeMs: number } | undefined): Promise<void> {
  if (!old) return;
  const wait = (Math.floor(old.mtimeMs / 1000) + 1) * 1000 + FS_CLOCK_MARGIN_MS - Date.now();
  if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
}
const FS_CLOCK_MARGIN_MS = 50;

function userName(): string {
  return userInfo().username;
}

function userArgs(user: string | undefined): string[] {
  return user === undefined ? [] : ["-u", user];
}

function defaultBackupDir(uid: number, env: Readonly<Record<string, string | undefined>>): string {
  if (uid === 0) return "/var/backups/pushgw-cron";
  const state = env["XDG_STATE_HOME"]?.startsWith("/") ? env["XDG_STATE_HOME"] : join(env["HOME"] ?? homedir(), ".local", "state");
  return join(state, "pushgw", "cron-backups");
}

interface Checked {
  readonly mtimeMs: number;
  readonly uid: number;
  readonly gid: number;
  readonly mode: number;
  readonly ino: number;
  readonly dev: number;
}

/**
 * A crontab pushgw may rewrite as root: no link, no other user able to write it or to put
 * another file in its place (a directory they can write, unless it is sticky and theirs is not
 * the file).
 */
async function checkPlace(path: string, uid: number): Promise<Checked> {
  let info;
  try {
    info = await lstat(path);
  } catch (error) {
    throw new UsageError(`${path}: ${explain(error)}`, { hint: "give a crontab file: /etc/crontab, /etc/cron.d/NAME, or --crontab FILE" });
  }
  if (info.isSymbolicLink()) throw new UsageError(`${path} is a symbolic link: pushgw does not read or write crontabs through links`, { hint: "give the file it points to, if that is the crontab meant" });
  if (!info.isFile()) throw new UsageError(`${path}: not a regular file`);
  checkWriters(path, info, uid);
  for (let dir = dirname(resolve(path)); ; dir = dirname(dir)) {
    const d = await stat(dir);
    const sticky = (d.mode & 0o1000) !== 0;
    if ((d.uid !== 0 && d.uid !== uid) || (!sticky && ((d.mode & 0o002) !== 0 || ((d.mode & 0o020) !== 0 && d.gid !== 0)))) {
      throw new UsageError(`${path}: another user can replace files in ${dir} (owner uid ${d.uid}, mode ${(d.mode & 0o7777).toString(8)})`, { hint: "pushgw rewrites crontabs only where no other user can change them" });
    }
    if (dir === "/") break;
  }
  return { uid: info.uid, gid: info.gid, mode: info.mode, ino: info.ino, dev: info.dev, mtimeMs: info.mtimeMs };
}

function checkWriters(path: string, info: { uid: number; gid: number; mode: number }, uid: number): void {
  if (info.uid !== 0 && info.uid !== uid) throw new UsageError(`${path} belongs to uid ${info.uid}, who could change it after pushgw read it`, { hint: "pushgw rewrites only files that are root's or yours" });
  if ((info.mode & 0o002) !== 0 || ((info.mode & 0o020) !== 0 && info.gid !== 0)) {
    throw new UsageError(`${path} can be written by other users (mode ${(info.mode & 0o777).toString(8)})`, { hint: `cron itself ignores such a file in /etc/cron.d; chmod go-w ${path}` });
  }
}

function explain(error: unknown): string {
  const code = (error as NodeJS.ErrnoException).code;
  if (code === "ENOENT") return "no such file";
  if (code === "EACCES" || code === "EPERM") return "permission denied";
  if (code === "ELOOP") return "a symbolic link";
  if (code === "ENOSPC") return "no space left on the device";
  if (code === "EROFS") return "read-only file system";
  return code ?? (error instanceof Error ? error.message : String(error));
}

/**
 * Root's cron will run what is at this path for good: it and every directory above it must be
 * root's alone (an npm prefix under another user's home, a group-writable /usr/local would let
 * that user replace it).
 */
function pathProblemForRoot(path: string): string | undefined {
  let real: string;
  try {
    real = realpathSync.native(path);
  } catch (error) {
    return `${path} cannot be resolved (${(error as NodeJS.ErrnoException).code ?? String(error)})`;
  }
  const dir = privateDirectory(dirname(real), 0, true);
  if ("why" in dir) return dir.why;
  const info = statSync(real);
  if (info.uid !== 0 || (info.mode & 0o022) !== 0) return `${real} is owned by uid ${info.uid} or writable by others (mode ${(info.mode & 0o7777).toString(8)})`;
  return undefined;
}
