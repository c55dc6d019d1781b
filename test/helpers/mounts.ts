import { execFileSync } from "node:child_process";
import { mkdirSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

/**
 * Small file systems for the tests of full and read-only directories: a tmpfs mounted by the
 * test. A full disk cannot be faked without one, and root ignores file modes, so a read-only
 * directory needs a read-only mount. Mounting needs root (CI runs as root).
 */
export interface TestMount {
  readonly dir: string;
  unmount(): void;
}

function requireRoot(): void {
  if (process.getuid?.() !== 0) {
    throw new Error("these tests mount small tmpfs file systems (a full disk, a read-only directory) and need root; run the suite as root, as CI does");
  }
}

/** A tmpfs of `sizeKb`, filled to the last byte when `full`. */
export function mountTmpfs(options: { sizeKb?: number; full?: boolean; readOnly?: boolean } = {}): TestMount {
  requireRoot();
  const dir = mkdtempSync(join(tmpdir(), "pushgw-mount-"));
  execFileSync("mount", ["-t", "tmpfs", "-o", `size=${options.sizeKb ?? 256}k,nr_inodes=${options.full ? 16 : 1024},mode=0700`, "tmpfs", dir]);
  if (options.full) {
    // Fill the blocks, then the inodes: nothing more can be created there.
    try {
      execFileSync("dd", ["if=/dev/zero", `of=${join(dir, "filler")}`, "bs=4k"], { stdio: "ignore" });
    } catch {
      // dd stops with "No space left on device": that is the point.
    }
    mkdirSync(join(dir, "inodes"));
    try {
      for (let i = 0; i < 64; i++) writeFileSync(join(dir, "inodes", String(i)), "");
    } catch {
      // Out of inodes (or of space for their entries).
    }
  }
  if (options.readOnly) execFileSync("mount", ["-o", "remount,ro", dir]);
  return {
    dir,
    unmount: () => {
      try {
        execFileSync("umount", ["-l", dir]);
      } catch {
        // Already gone.
      }
    },
  };
}
