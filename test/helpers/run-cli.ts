import { spawn, type ChildProcess } from "node:child_process";
import { fileURLToPath } from "node:url";

export const BIN = fileURLToPath(new URL("../../bin/pushgw", import.meta.url));
/** The Node that runs the CLI: this one, or PUSHGW_TEST_NODE (CI runs the suite on Node 22 and 24 too). */
export const NODE = process.env["PUSHGW_TEST_NODE"] ?? process.execPath;

export interface CliRun {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly stdout: string;
  readonly stderr: string;
}

export interface RunOptions {
  /** Added to a minimal environment (PATH only), the way cron runs things. */
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
