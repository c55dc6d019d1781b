import { closeSync, mkdtempSync, openSync, readSync, writeSync } from "node:fs";
import { mkdtemp, readFile, rm, symlink, writeFile } from "node:fs/promises";
import { constants, tmpdir } from "node:os";
import { join } from "node:path";
import { isSea } from "node:sea";
import { execa } from "execa";
import type { CapturedOutput, JobResult, JobRunner, JobSpec, ScratchFile } from "../app/ports.js";
import type { JobOutcome } from "../core/wrap.js";

/** Signals the wrapper passes on to the job instead of dying from them. */
const FORWARDED_SIGNALS = ["SIGINT", "SIGTERM", "SIGHUP", "SIGQUIT"] as const;

/** --quiet-success keeps this much output in memory before spilling it to a file. */
export const CAPTURE_MEMORY_LIMIT = 4 * 1024 * 1024;

export function createExecaRunner(): JobRunner {
  return { run: runJob, createScratchFile };
}

async function createScratchFile(): Promise<ScratchFile> {
  const dir = await mkdtemp(join(tmpdir(), "pushgw-"));
  const path = join(dir, "metrics.prom");
  await writeFile(path, "", { mode: 0o600 });
  return {
    path,
    read: async () => {
      try {
        return await readFile(path);
      } catch (error) {
        // The job may delete the file; that just means it has nothing to add.
        if ((error as NodeJS.ErrnoException).code === "ENOENT") return new Uint8Array();
        throw error;
      }
    },
    remove: () => rm(dir, { recursive: true, force: true }),
  };
}

async function runJob(spec: JobSpec): Promise<JobResult> {
  const [file, ...args] = spec.argv;
  const capture = spec.captureOutput ? new OutputCapture() : undefined;
  const self = await reachableSelf();
  const child = execa(file as string, args, {
    stdin: "inherit",
    stdout: capture ? "pipe" : "inherit",
    stderr: capture ? "pipe" : "inherit",
    env: self ? { ...spec.env, PATH: self.path } : spec.env,
    extendEnv: true,
    reject: false,
    buffer: false,
    stripFinalNewline: false,
    // The job leads its own process group, so that a signal the wrapper passes on, and the
    // kill after --max-runtime, reach everything it started (a shell script's children too).
    detached: true,
    cleanup: false,
  });
  if (capture) {
    child.stdout?.on("data", (chunk: Buffer) => capture.add(1, chunk));
    child.stderr?.on("data", (chunk: Buffer) => capture.add(2, chunk));
  }

  let interruptedBy: NodeJS.Signals | undefined;
  let timedOut = false;
  let ended = false;
  const signalJob = (signal: NodeJS.Signals): void => {
    if (ended || child.pid === undefined) return;
    try {
      process.kill(-child.pid, signal);
    } catch {
      child.kill(signal);
    }
  };
  const forwarders = FORWARDED_SIGNALS.map((signal) => {
    const forward = (): void => {
      interruptedBy ??= signal;
      signalJob(signal);
    };
    process.on(signal, forward);
    return [signal, forward] as const;
  });
  // The job never outlives the wrapper, even when the wrapper dies of something unexpected.
  const killOnExit = (): void => signalJob("SIGKILL");
  process.once("exit", killOnExit);
  const timers: NodeJS.Timeout[] = [];
  if (spec.maxRuntimeMs !== undefined) {
    timers.push(
      setTimeout(() => {
        timedOut = true;
        signalJob("SIGTERM");
        timers.push(setTimeout(() => signalJob("SIGKILL"), spec.killGraceMs));
      }, spec.maxRuntimeMs),
    );
  }

  const result = await child;
  ended = true;
  for (const timer of timers) clearTimeout(timer);
  for (const [signal, forward] of forwarders) process.off(signal, forward);
  process.off("exit", killOnExit);
  capture?.finish();
  await self?.remove();

  let outcome: JobOutcome;
  if (result.code === "ENOENT") outcome = { kind: "notFound", reason: "no such file or command" };
  else if (result.code === "EACCES") outcome = { kind: "notExecutable", reason: "permission denied (not executable, or a directory)" };
  else if (timedOut) outcome = { kind: "timedOut" };
  else if (interruptedBy !== undefined) outcome = { kind: "interrupted", signal: interruptedBy, signalNumber: signalNumber(interruptedBy) };
  else if (result.signal) outcome = { kind: "signaled", signal: result.signal, signalNumber: signalNumber(result.signal) };
  else if (typeof result.exitCode === "number") outcome = { kind: "exited", code: result.exitCode };
  else outcome = { kind: "notExecutable", reason: result.shortMessage ?? "it could not be started" };
  return { outcome, output: capture };
}

/**
 * The standalone executable (one file, perhaps named pushgw-linux-x64 and on no PATH) makes
 * itself reachable as `pushgw` inside the job, so that a `pushgw add` there runs this same
 * executable: a private directory holding only a `pushgw` link to it goes first on the job's
 * PATH (with no PATH, before the default /usr/bin:/bin). Nothing else on the PATH is shadowed.
 */
async function reachableSelf(): Promise<{ path: string; remove(): Promise<void> } | undefined> {
  if (!isSea()) return undefined;
  let dir: string | undefined;
  try {
    dir = await mkdtemp(join(tmpdir(), "pushgw-self-"));
    await symlink(process.execPath, join(dir, "pushgw"));
  } catch {
    // No room for a link: the job runs as it would without it.
    if (dir) await rm(dir, { recursive: true, force: true });
    return undefined;
  }
  const made = dir;
  return { path: `${made}:${process.env["PATH"] || "/usr/bin:/bin"}`, remove: () => rm(made, { recursive: true, force: true }) };
}

function signalNumber(signal: string): number {
  return (constants.signals as Record<string, number>)[signal] ?? 0;
}

/**
 * The job's output under --quiet-success, stdout and stderr interleaved as they came.
 * Past CAPTURE_MEMORY_LIMIT bytes it moves to a temporary file, so a chatty job cannot
 * make the wrapper run out of memory.
 */
class OutputCapture implements CapturedOutput {
  private records: Array<{ stream: 1 | 2; chunk: Buffer }> = [];
  private bytes = 0;
  private spill: { dir: string; path: string; fd: number } | undefined;
  private spillFailed = false;

  add(stream: 1 | 2, chunk: Buffer): void {
    if (this.spill) {
      this.writeRecord(stream, chunk);
      return;
    }
    this.records.push({ stream, chunk });
    this.bytes += chunk.length;
    if (this.bytes > CAPTURE_MEMORY_LIMIT && !this.spillFailed) this.startSpill();
  }

  finish(): void {
    if (this.spill) closeSync(this.spill.fd);
  }

  private startSpill(): void {
    try {
      const dir = mkdtempSync(join(tmpdir(), "pushgw-output-"));
      const path = join(dir, "output");
      this.spill = { dir, path, fd: openSync(path, "w", 0o600) };
      for (const { stream, chunk } of this.records) this.writeRecord(stream, chunk);
      this.records = [];
    } catch {
      // No room for a file: keep what is in memory and drop the oldest rather than fail.
      this.spillFailed = true;
    }
  }

  private writeRecord(stream: 1 | 2, chunk: Buffer): void {
    const header = Buffer.alloc(5);
    header.writeUInt8(stream, 0);
    header.writeUInt32BE(chunk.length, 1);
    writeSync(this.spill!.fd, header);
    writeSync(this.spill!.fd, chunk);
  }

  async replay(): Promise<void> {
    if (!this.spill) {
      for (const { stream, chunk } of this.records) await write(stream, chunk);
      return this.discard();
    }
    const fd = openSync(this.spill.path, "r");
    try {
      const header = Buffer.alloc(5);
      while (readSync(fd, header, 0, 5, null) === 5) {
        const length = header.readUInt32BE(1);
        const chunk = Buffer.alloc(length);
        readSync(fd, chunk, 0, length, null);
        await write(header.readUInt8(0) as 1 | 2, chunk);
      }
    } finally {
      closeSync(fd);
    }
    return this.discard();
  }

  async discard(): Promise<void> {
    this.records = [];
    if (this.spill) await rm(this.spill.dir, { recursive: true, force: true });
  }
}

function write(stream: 1 | 2, chunk: Buffer): Promise<void> {
  const target = stream === 1 ? process.stdout : process.stderr;
  // A closed reader (EPIPE) ends the replay, never the wrapper.
  if (target.destroyed || !target.writable) return Promise.resolve();
  return new Promise((resolve) => {
    const done = (): void => {
      target.off("error", done);
      resolve();
    };
    target.once("error", done);
    if (target.write(chunk)) done();
    else target.once("drain", done);
  });
}
