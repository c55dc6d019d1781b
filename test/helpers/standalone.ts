import { spawn, spawnSync } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

export const ROOT = fileURLToPath(new URL("../../", import.meta.url));
export const VERSION = (JSON.parse(readFileSync(join(ROOT, "package.json"), "utf8")) as { version: string }).version;
export const STANDALONE = {
  x64: join(ROOT, "dist/standalone/pushgw-linux-x64"),
  arm64: join(ROOT, "dist/standalone/pushgw-linux-arm64"),
} as const;
export const DEBS = {
  amd64: join(ROOT, `dist/deb/pushgw_${VERSION}_amd64.deb`),
  arm64: join(ROOT, `dist/deb/pushgw_${VERSION}_arm64.deb`),
} as const;

/** The arm64 C libraries for qemu-user (Debian's cross packages, no multiarch needed). */
export const ARM64_LIBRARIES = "/usr/aarch64-linux-gnu";

/** Installs a Debian package when a file it holds is missing (as root on Debian), else fails naming it. */
export function ensureDebianFile(path: string, debianPackage: string): void {
  if (existsSync(path)) return;
  if (process.getuid?.() === 0 && spawnSync("sh", ["-c", "command -v apt-get"]).status === 0) {
    const env = { ...process.env, DEBIAN_FRONTEND: "noninteractive" };
    spawnSync("apt-get", ["update", "-qq"], { stdio: "inherit", env });
    spawnSync("apt-get", ["install", "-y", "-qq", "--no-install-recommends", debianPackage], { stdio: "inherit", env });
    if (existsSync(path)) return;
  }
  throw new Error(`These tests need ${path}, which was not found. On Debian or Ubuntu: sudo apt-get install ${debianPackage}`);
}

export interface Run {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs a program with exactly `env` (nothing inherited: `{}` is `env -i`), stdin /dev/null. */
export function run(command: string, args: readonly string[], env: Record<string, string> = {}, timeoutMs = 60_000): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { env, stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stdout.setEncoding("utf8").on("data", (c: string) => (stdout += c));
    child.stderr.setEncoding("utf8").on("data", (c: string) => (stderr += c));
    const timer = setTimeout(() => child.kill("SIGKILL"), timeoutMs);
    child.on("error", reject);
    child.on("close", (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}
