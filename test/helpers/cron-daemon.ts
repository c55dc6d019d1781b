import { spawn, spawnSync, type ChildProcess } from "node:child_process";

/**
 * Debian's real cron daemon (`cron -f`) in a mount namespace of its own: empty tmpfs over
 * /etc/cron.d, /var/spool/cron/crontabs and /run, and `systemCrontab` bound over /etc/crontab,
 * so that it neither reads nor touches the machine's crontabs. `inside` runs a command in the
 * same namespace (the real `crontab` command works there, writing the private spool).
 */
export interface CronDaemon {
  readonly pid: number;
  inside(command: string, args: readonly string[], options?: { input?: string; env?: Record<string, string> }): { status: number | null; stdout: string; stderr: string };
  stop(): Promise<void>;
}

const SETUP = `
set -e
mount -t tmpfs -o mode=0755 tmpfs /etc/cron.d
mount -t tmpfs -o mode=1730 tmpfs /var/spool/cron/crontabs
chgrp crontab /var/spool/cron/crontabs
mount --bind "$1" /etc/crontab
mount -t tmpfs -o mode=0755 tmpfs /run
echo ready
exec cron -f
`;

export async function startCronDaemon(systemCrontab: string): Promise<CronDaemon> {
  if (process.getuid?.() !== 0) throw new Error("the cron daemon tests mount tmpfs in a mount namespace and need root; run the suite as root, as CI does");
  const child: ChildProcess = spawn("unshare", ["-m", "--propagation", "private", "sh", "-c", SETUP, "sh", systemCrontab], { stdio: ["ignore", "pipe", "pipe"] });
  let log = "";
  child.stderr!.on("data", (c: Buffer) => (log += c.toString()));
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`the cron namespace was not ready in 30 s:\n${log}`)), 30_000);
    child.stdout!.on("data", (c: Buffer) => {
      if (c.toString().includes("ready")) {
        clearTimeout(timer);
        resolve();
      }
    });
    child.on("exit", (code) => {
      clearTimeout(timer);
      reject(new Error(`the cron namespace ended (${code}) before cron started:\n${log}`));
    });
  });
  const pid = child.pid!;
  return {
    pid,
    inside: (command, args, options = {}) => {
      const run = spawnSync("nsenter", ["-t", String(pid), "-m", "--", command, ...args], {
        input: options.input,
        encoding: "utf8",
        env: { PATH: "/usr/sbin:/usr/bin:/sbin:/bin", ...options.env },
        // spawnSync holds the worker: a stuck command must not hold it past vitest's own timeouts.
        timeout: 60_000,
        killSignal: "SIGKILL",
      });
      if (run.error) throw run.error;
      return { status: run.status, stdout: run.stdout, stderr: run.stderr };
    },
    stop: () =>
      new Promise<void>((resolve) => {
        if (child.exitCode !== null || child.signalCode !== null) return resolve();
        child.once("exit", () => resolve());
        child.kill("SIGTERM");
      }),
  };
}
