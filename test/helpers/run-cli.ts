import { spawn, type ChildProcess } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

export const BIN = fileURLToPath(new URL("../../bin/pushgw", import.meta.url));
/** The Node that runs the CLI: this one, or PUSHGW_TEST_NODE (CI runs the suite on Node 22 and 24 too). */
export const NODE = process.env["PUSHGW_TEST_NODE"] ?? process.execPath;

let runtimeDir: string | undefined;
/**
 * The XDG_RUNTIME_DIR every run gets unless the test names its own (or none, with
 * `XDG_RUNTIME_DIR: undefined`): a 0700 directory of this process's, so that a wrap run as root
 * keeps what it hands the job here and never in the machine's real /run/pushgw.
 */
export function testRuntimeDir(): string {
  if (runtimeDir === undefined) {
    const made = mkdtempSync(join(tmpdir(), "pushgw-test-runtime-"));
    runtimeDir = made;
    process.once("exit", () => rmSync(made, { recursive: true, force: true }));
  }
  return runtimeDir;
}

export interface CliRun {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly stdout: string;
  readonly stderr: string;
}

export interface RunOptions {
  /** Added to a minimal environment (PATH and a test's XDG_RUNTIME_DIR), the way cron runs things. */
  readonly env?: Record<string, string | undefined>;
  /** Written to stdin, then closed; without it stdin is /dev/null. */
  readonly input?: string | Buffer;
  readonly cwd?: string;
  readonly timeoutMs?: number;
}

/** Runs the built, bundled CLI as users do: a separate process, no terminal. */
export function runCli(args: readonly string[], options: RunOptions = {}): Promise<CliRun> {
  return startCli(args, options).done;
}

/** The same, handing back the process so a test can signal it while it runs. */
export function startCli(args: readonly string[], options: RunOptions = {}): { child: ChildProcess; done: Promise<CliRun> } {
  const env: Record<string, string> = { PATH: process.env["PATH"] ?? "/usr/bin:/bin" };
  if (!Object.hasOwn(options.env ?? {}, "XDG_RUNTIME_DIR")) env["XDG_RUNTIME_DIR"] = testRuntimeDir();
  for (const [k, v] of Object.entries(options.env ?? {})) if (v !== undefined) env[k] = v;
  const child = spawn(NODE, [BIN, ...args], {
    env,
    cwd: options.cwd,
    stdio: [options.input === undefined ? "ignore" : "pipe", "pipe", "pipe"],
  });
  let stdout = "";
  let stderr = "";
  child.stdout!.setEncoding("utf8").on("data", (c: string) => (stdout += c));
  child.stderr!.setEncoding("utf8").on("data", (c: string) => (stderr += c));
  if (options.input !== undefined) child.stdin!.end(options.input);
  const timer = setTimeout(() => child.kill("SIGKILL"), options.timeoutMs ?? 30_000);
  const done = new Promise<CliRun>((resolve, reject) => {
    child.on("error", reject);
    child.on("close", (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout, stderr });
    });
  });
  return { child, done };
}
