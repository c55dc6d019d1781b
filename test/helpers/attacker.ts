import { spawn, spawnSync, type ChildProcess, type SpawnOptions } from "node:child_process";
import { chmodSync, chownSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

/**
 * The attacker of the threat model: a second local user with no rights, on the machine where
 * pushgw runs as root. Tests run the attacker's steps as that user for real (setpriv drops every
 * id and group), so root's habit of ignoring file modes cannot make an attack look harmless.
 * The uid needs no /etc/passwd entry.
 */
export const ATTACKER_UID = 64001;
export const ATTACKER_GID = 64001;

function requireRoot(): void {
  if (process.getuid?.() !== 0) {
    throw new Error("the local-attacker tests run pushgw as root and the attacker as uid 64001 (setpriv); run the suite as root, as CI does");
  }
}

const SETPRIV = ["--reuid", String(ATTACKER_UID), "--regid", String(ATTACKER_GID), "--clear-groups", "--"];
const ATTACKER_ENV = { PATH: "/usr/local/bin:/usr/bin:/bin", HOME: "/nonexistent", LANG: "C.UTF-8" };

/** Runs `command args` as the attacker and waits for it; throws with its stderr when it fails. */
export function asAttacker(command: string, args: readonly string[] = [], options: { cwd?: string; input?: string } = {}): string {
  requireRoot();
  const result = spawnSync("setpriv", [...SETPRIV, command, ...args], {
    cwd: options.cwd ?? "/",
    env: ATTACKER_ENV,
    input: options.input,
    encoding: "utf8",
  });
  if (result.error) throw result.error;
  if (result.status !== 0) throw new Error(`as uid ${ATTACKER_UID}: ${command} ${args.join(" ")} exited ${result.status}: ${result.stderr}`);
  return result.stdout;
}

/** A shell script run as the attacker: `asAttackerSh('ln -s /etc/shadow "$1"', path)`. */
export function asAttackerSh(script: string, ...args: string[]): string {
  return asAttacker("sh", ["-c", script, "attacker", ...args]);
}

/** Starts a long-running attacker process (a loop that re-creates a path, a fake server). */
export function spawnAsAttacker(command: string, args: readonly string[] = [], options: SpawnOptions = {}): ChildProcess {
  requireRoot();
  return spawn("setpriv", [...SETPRIV, command, ...args], { cwd: "/", env: ATTACKER_ENV, stdio: "ignore", ...options });
}

/** A directory the attacker owns (mode 0755), under the shared temp directory; removed by `cleanup`. */
export function attackerDir(prefix = "pushgw-attacker-"): { dir: string; cleanup: () => void } {
  requireRoot();
  const dir = mkdtempSync(join(tmpdir(), prefix));
  chownSync(dir, ATTACKER_UID, ATTACKER_GID);
  chmodSync(dir, 0o755);
  return { dir, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}
