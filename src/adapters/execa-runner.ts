import { execFile } from "node:child_process";
import { closeSync, constants as fsConstants, fstatSync, lstatSync, mkdirSync, mkdtempSync, openSync, readFileSync, readSync, rmdirSync, rmSync, symlinkSync, unlinkSync, writeFileSync, writeSync } from "node:fs";
import { constants, tmpdir } from "node:os";
import { Socket } from "node:net";
import { join } from "node:path";
import { promisify } from "node:util";
import { execa, type Options } from "execa";
import type { CapturedOutput, JobResult, JobRunner, JobSpec, ScratchFile } from "../app/ports.js";
import { LONGEST_TIMER_MS } from "../core/duration.js";
import { MAX_INPUT_BYTES } from "../core/exposition/utf8.js";
import { jobOutcome, type JobEndFacts } from "../core/job-end.js";
import { currentUid, findPrivateDirectory } from "./private-dir.js";
import { takeJobSignals, type JobSignals } from "./job-signals.js";
import { monotonicMs, readChildCpuTicks, startRssSampler } from "./proc-usage.js";
import { runCost, type ChildCpuTicks } from "../core/run-cost.js";

const execFileAsync = promisify(execFile);

/** --quiet-success keeps this much output in memory before spilling it to a file. */
export const CAPTURE_MEMORY_LIMIT = 4 * 1024 * 1024;

/**
 * After the job has exited, how long --quiet-success goes on reading pipes that something the
 * job started (a daemon) still holds open. The job's status is known; the wrapper must not
 * wait for that process too.
 */
export const PIPE_DRAIN_AFTER_EXIT_MS = 2_000;


export function createExecaRunner(): JobRunner {
  return { run: runJob, createScratchFile };
}

/**
 * The job's private directory (mode 0700) and the metrics file in it, in a directory no other
 * user can write to (adapters/private-dir.ts): never under the shared TMPDIR, where, once the
 * directory is removed and a process the job left behind still holds its path, another user
 * could make it again with a link in the file's place, or a socket or a `pushgw` of their own.
 *
 * Synchronous, as is all this file does with files: a few calls on tiny files, each quicker than
 * a trip through libuv's thread pool (which the first asynchronous call must also start); and no
 * node:fs/promises, which loads readline's interface. Before the spawn, every wait delays the job.
 */
async function createScratchFile(): Promise<ScratchFile> {
  const base = findPrivateDirectory(process.env, "run");
  if ("why" in base) throw new Error(`no directory only uid ${currentUid()} can write (${base.why}); give it an XDG_RUNTIME_DIR or a HOME of its own`);
  const dir = mkdtempSync(join(base.dir, "pushgw-"));
  const made = lstatSync(dir);
  const path = join(dir, "metrics.prom");
  try {
    writeFileSync(path, "", { mode: 0o600, flag: "wx" });
  } catch (error) {
    removeQuietly(dir);
    throw error;
  }
  return {
    path,
    dir,
    read: async () => readScratchFile(path),
    remove: async () => removePrivateDirectory(dir, path, made),
  };
}

/**
 * rm -rf of the job's private directory. When only the metrics file is left (the relay's socket
 * went when it closed), two calls do it; anything else the job left there (or a file it
 * replaced by a directory) goes the long way. The short way only while the directory is still
 * the one made for the job: a job that swapped it for a link to another directory would have
 * the file of that name there unlinked (rm -rf removes just the link).
 */
function removePrivateDirectory(dir: string, file: string, made: { readonly dev: number; readonly ino: number }): void {
  try {
    const now = lstatSync(dir);
    if (now.isDirectory() && now.dev === made.dev && now.ino === made.ino) {
      unlinkSync(file);
      rmdirSync(dir);
      return;
    }
  } catch {
    // Not only the file: everything goes, as below.
  }
  rmSync(dir, { recursive: true, force: true });
}

/** What the job wrote to its metrics file; nothing when it deleted the file. */
function readScratchFile(path: string): Uint8Array {
  let fd: number;
  try {
    // Non-blocking: a FIFO the job left in the file's place must not hang the wrapper.
    fd = openSync(path, fsConstants.O_RDONLY | fsConstants.O_NONBLOCK);
  } catch (error) {
    // The job may delete the file; that just means it has nothing to add.
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return new Uint8Array();
    throw error;
  }
  try {
    const info = fstatSync(fd);
    // A link to /dev/zero or a FIFO would be read forever; a huge file, whole into memory.
    if (!info.isFile()) throw new Error(`${path} is not a regular file`);
    if (info.size > MAX_INPUT_BYTES) throw new Error(`${path} holds ${info.size} bytes, more than the ${MAX_INPUT_BYTES} pushgw reads`);
    return readFileSync(fd);
  } finally {
    closeSync(fd);
  }
}

/** rm -rf, for clearing up after something that has already failed. */
function removeQuietly(dir: string): void {
  try {
    rmSync(dir, { recursive: true, force: true });
  } catch {
    // Left behind: nothing more can be done about it.
  }
}

async function runJob(spec: JobSpec): Promise<JobResult> {
  const notes: string[] = [];
  const internalErrors: unknown[] = [];
  // The safety net: while the job runs, no error in pushgw's own machinery may end this
  // process (Node would exit, and the job would lose its wrapper). What is caught here is
  // reported once the job has ended.
  const catchError = (error: unknown): void => {
    internalErrors.push(error);
  };
  process.on("uncaughtException", catchError);
  process.on("unhandledRejection", catchError);
  // Before anything is made for the job: from here on no signal can end the wrapper and orphan it.
  const signals = takeJobSignals();
  try {
    return await superviseJob(spec, signals, notes, internalErrors);
  } finally {
    process.off("uncaughtException", catchError);
    process.off("unhandledRejection", catchError);
  }
}

async function superviseJob(spec: JobSpec, signals: JobSignals, notes: string[], internalErrors: unknown[]): Promise<JobResult> {
  const [file, ...args] = spec.argv;
  const capture = spec.captureOutput ? new OutputCapture(notes) : undefined;
  const env: Record<string, string | undefined> = { ...spec.env };
  for (const name of spec.unsetEnv ?? []) env[name] = undefined;
  const self = spec.privateDir === undefined ? undefined : reachableSelf(spec.privateDir);
  if (self) env["PATH"] = self.path;
  // When the wrapper's stdout and stderr are one file (cron's mail, `> log 2>&1`), the job gets
  // one FIFO for both, so its output is replayed in the order it was written; from two pipes
  // only each stream's own order survives.
  const oneStream = capture !== undefined && stdoutIsStderr();
  const fifos = capture ? await openFifos(oneStream ? ["output"] : ["stdout", "stderr"]) : [];
  const [outFifo] = fifos;
  const errFifo = oneStream ? undefined : fifos[1];
  const errWriteFd = oneStream ? outFifo?.writeFd : errFifo?.writeFd;
  let child: ReturnType<typeof startJob>;
  // Read after every other child of the wrapper (flock, mkfifo) has been reaped, and nothing
  // else is started while the job runs: what cutime/cstime gain from here on is the job's.
  const cpuBefore = readChildCpuTicks();
  let cpuAfter: ChildCpuTicks | undefined;
  try {
    child = startJob(file as string, args, env, capture === undefined ? "inherit" : (outFifo?.writeFd ?? "pipe"), capture === undefined ? "inherit" : (errWriteFd ?? "pipe"));
  } catch (error) {
    for (const fifo of fifos) fifo?.reader.destroy();
    signals.started(undefined);
    return { outcome: jobOutcome(await spawnFailure(error, internalErrors), signalNumber), output: capture, notes, internalErrors, cost: undefined };
  } finally {
    // The job has its own copies of the write ends: the wrapper's would keep the pipes open.
    for (const fifo of fifos) if (fifo) closeSync(fifo.writeFd);
  }
  signals.started(child.pid);
  const rss = child.pid ? startRssSampler(child.pid) : undefined;
  let maxRssBytes: number | undefined;
  const outputs = [outFifo?.reader ?? child.stdout, oneStream && outFifo ? undefined : (errFifo?.reader ?? child.stderr)] as const;
  // A job that never started (a path through a file, a symlink loop: spawn throws) has no
  // pipes to wait for: execa hands back stand-in streams that are never closed, and waiting for
  // them left nothing to keep Node running, which then ended with 0 and the outcome unpushed.
  if (!child.pid) for (const stream of outputs) stream?.destroy();
  const outputsClosed = Promise.all(outputs.map((stream) => (stream === null || stream === undefined || stream.closed ? undefined : new Promise((resolve) => stream.once("close", resolve)))));
  if (capture) {
    // While the output passes straight through, a slow reader holds the job up, as it would
    // unwrapped: the pipe is not read on until the wrapper's own write has gone out.
    const take = (stream: 1 | 2, source: NodeJS.ReadableStream) => (chunk: Buffer) => {
      const written = capture.add(stream, chunk);
      if (written === undefined) return;
      source.pause();
      void written.then(() => source.resume());
    };
    if (outputs[0]) outputs[0].on("data", take(1, outputs[0]));
    if (outputs[1]) outputs[1].on("data", take(2, outputs[1]));
  }


  let timedOut = false;
  let exited: { code: number | null; signal: NodeJS.Signals | null } | undefined;
  const timers: Array<{ cancel(): void }> = [];
  const signalJob = (signal: NodeJS.Signals): void => signals.send(signal);
  if (spec.maxRuntimeMs !== undefined) {
    timers.push(
      longTimeout(() => {
        timedOut = true;
        signalJob("SIGTERM");
        timers.push(longTimeout(() => signalJob("SIGKILL"), spec.killGraceMs));
      }, spec.maxRuntimeMs),
    );
  }
  // The job's own exit decides its outcome and ends --max-runtime's clock, not the closing of
  // its pipes, which a daemon it started may hold open for hours.
  child.once("exit", (code, signal) => {
    // Node has reaped the job: its CPU, and its waited-for descendants', is in cutime/cstime.
    cpuAfter = readChildCpuTicks();
    // What the job left running past its end is no longer the run's.
    maxRssBytes = rss?.stop();
    exited = { code, signal };
    signals.ended();
    for (const timer of timers) timer.cancel();
    if (!capture) return;
    let drain: NodeJS.Timeout | undefined;
    const stopReading = (): void => {
      // Output passing through to a slow reader is the job's own, still in the pipe: the
      // 2 seconds count from the last time the wrapper waited for that reader.
      const heldUp = capture.heldUpByReaderWithin(PIPE_DRAIN_AFTER_EXIT_MS);
      if (heldUp > 0) {
        drain = setTimeout(stopReading, heldUp);
        drain.unref();
        return;
      }
      if (outputs.some((stream) => stream?.readableEnded === false)) {
        notes.push(
          `the job exited, but a process it started still holds its output open; pushgw stopped reading it after ${PIPE_DRAIN_AFTER_EXIT_MS / 1000}s ` +
            "(send a background process's output elsewhere, e.g. `cmd >/dev/null 2>&1 &`)",
        );
        for (const stream of outputs) stream?.destroy();
      }
    };
    drain = setTimeout(stopReading, PIPE_DRAIN_AFTER_EXIT_MS);
    drain.unref();
    timers.push({ cancel: () => clearTimeout(drain) });
  });

  let result: Awaited<typeof child>;
  try {
    result = await child;
  } catch (error) {
    // reject: false makes execa resolve; this is the last line of defence.
    internalErrors.push(error);
    result = { exitCode: exited?.code ?? undefined, signal: exited?.signal ?? undefined } as Awaited<typeof child>;
  }
  // execa waits for the pipes it made; the FIFOs are the wrapper's own to wait for.
  await outputsClosed;
  for (const timer of timers) timer.cancel();
  capture?.finish();
  if (exited === undefined) maxRssBytes = rss?.stop();
  const cost = child.pid === undefined ? undefined : runCost(cpuBefore, cpuAfter ?? readChildCpuTicks(), maxRssBytes);

  const code = exited?.code ?? (typeof result.exitCode === "number" ? result.exitCode : null);
  const signal = exited?.signal ?? result.signal ?? null;
  const outcome = jobOutcome({ startError: result.code, startMessage: result.shortMessage, timedOut, interruptedBy: signals.interruptedBy, code, signal }, signalNumber);
  return { outcome, output: capture, notes, internalErrors, cost };
}

/**
 * Why execa threw instead of handing back a job. With no file descriptor left (EMFILE, ENFILE),
 * Node gives up on a spawn before it makes the job's pipes, and execa trips over the pipes that
 * are not there (a TypeError). Node's own error for the spawn comes a tick later, as an 'error'
 * nobody listens to, which runJob's safety net catches: that one says what happened.
 */
async function spawnFailure(thrown: unknown, internalErrors: unknown[]): Promise<JobEndFacts> {
  await new Promise((resolve) => setImmediate(resolve));
  const index = internalErrors.findIndex((error) => typeof (error as NodeJS.ErrnoException).syscall === "string" && (error as NodeJS.ErrnoException).syscall!.startsWith("spawn"));
  const spawnError = index < 0 ? undefined : (internalErrors.splice(index, 1)[0] as NodeJS.ErrnoException);
  if (spawnError === undefined) internalErrors.push(thrown);
  return { startError: spawnError?.code, startMessage: spawnError?.message, timedOut: false, code: null, signal: null };
}

function startJob(file: string, args: readonly string[], env: Record<string, string | undefined>, stdout: "inherit" | "pipe" | number, stderr: "inherit" | "pipe" | number) {
  const options = {
    stdin: "inherit",
    // A file descriptor is passed to the child as it is (execa's types name only 3 to 9).
    stdout: stdout as "pipe",
    stderr: stderr as "pipe",
    env,
    extendEnv: true,
    reject: false,
    buffer: false,
    stripFinalNewline: false,
    // The job leads its own process group, so that a signal the wrapper passes on, and the
    // kill after --max-runtime, reach everything it started (a shell script's children too).
    detached: true,
    cleanup: false,
  } as const satisfies Options;
  return execa(file, args, options);
}

/**
 * Real pipes for the job's stdout and stderr (or one for both) under --quiet-success. Node's own "pipe" is a
 * socket pair, and a socket cannot be opened again by name: the job's `echo … > /dev/stderr`
 * (a shell idiom) would fail with ENXIO, and the job with it. FIFOs made in a private
 * directory, opened, and removed at once can. Without them (no mkfifo, TMPDIR unusable):
 * Node's socket pairs, as before.
 */
async function openFifos(names: readonly string[]): Promise<Array<{ reader: Socket; writeFd: number }>> {
  let dir: string | undefined;
  const opened: number[] = [];
  try {
    dir = mkdtempSync(join(tmpdir(), "pushgw-pipe-"));
    const paths = names.map((name) => join(dir!, name));
    await execFileAsync("mkfifo", ["-m", "600", ...paths]);
    return paths.map((path) => {
      const readFd = openSync(path, fsConstants.O_RDONLY | fsConstants.O_NONBLOCK);
      opened.push(readFd);
      // Opened after the read end, so it does not wait for a reader.
      const writeFd = openSync(path, fsConstants.O_WRONLY);
      opened.push(writeFd);
      return { reader: new Socket({ fd: readFd, readable: true, writable: false }), writeFd };
    });
  } catch {
    for (const fd of opened) closeSync(fd);
    return [];
  } finally {
    if (dir !== undefined) removeQuietly(dir);
  }
}

/** True when the wrapper's fds 1 and 2 are the same file (same device and inode). */
function stdoutIsStderr(): boolean {
  try {
    const out = fstatSync(1);
    const err = fstatSync(2);
    return out.dev === err.dev && out.ino === err.ino;
  } catch {
    return false;
  }
}

/** setTimeout for any duration, chained in steps Node's timers can hold. */
function longTimeout(callback: () => void, ms: number): { cancel(): void } {
  let timer: NodeJS.Timeout | undefined;
  let cancelled = false;
  const wait = (remaining: number): void => {
    if (cancelled) return;
    if (remaining <= LONGEST_TIMER_MS) {
      timer = setTimeout(callback, remaining);
      return;
    }
    timer = setTimeout(() => wait(remaining - LONGEST_TIMER_MS), LONGEST_TIMER_MS);
  };
  wait(ms);
  return {
    cancel: () => {
      cancelled = true;
      clearTimeout(timer);
    },
  };
}

/**
 * The standalone executable (one file, perhaps named pushgw-linux-x64 and on no PATH) makes
 * itself reachable as `pushgw` inside the job, so that a `pushgw add` there runs this same
 * executable: a directory in the job's private directory, holding only a `pushgw` link to it,
 * goes first on the job's PATH (with no PATH, before the default /usr/bin:/bin). Nothing else on
 * the PATH is shadowed. It goes with the private directory when the job ends.
 */
function reachableSelf(privateDir: string): { path: string } | undefined {
  if (!isSingleExecutable()) return undefined;
  const dir = join(privateDir, "bin");
  try {
    mkdirSync(dir, { mode: 0o700 });
    symlinkSync(process.execPath, join(dir, "pushgw"));
  } catch {
    // No room for a link: the job runs as it would without it.
    return undefined;
  }
  return { path: `${dir}:${process.env["PATH"] || "/usr/bin:/bin"}` };
}

/**
 * Whether this is a single executable application. node:sea is asked only when the standalone
 * file's launcher has marked the run (launchStandalone in v8-code-cache.ts): every other wrap is
 * spared the module.
 */
function isSingleExecutable(): boolean {
  return (globalThis as Record<symbol, unknown>)[Symbol.for("pushgw.standalone")] === true && process.getBuiltinModule("node:sea").isSea();
}

function signalNumber(signal: string): number {
  return (constants.signals as Record<string, number>)[signal] ?? 0;
}

/**
 * The job's output under --quiet-success, stdout and stderr interleaved as they came. Past
 * CAPTURE_MEMORY_LIMIT bytes it moves to a temporary file, so a chatty job cannot make the
 * wrapper run out of memory. When no file can hold it (TMPDIR full, read-only, missing), the
 * output is never dropped: what was kept is written out at once and the rest passes straight
 * through, as if --quiet-success had not been given, and a note says so.
 */
class OutputCapture implements CapturedOutput {
  private records: Array<{ stream: 1 | 2; chunk: Buffer }> = [];
  private bytes = 0;
  private spill: { dir: string; path: string; fd: number } | undefined;
  /** Once the output passes straight through: the writes still going out, one after another. */
  private passing: Promise<void> | undefined;
  private waitingForReader = false;
  private lastWaitedForReader = -Infinity;

  constructor(private readonly notes: string[]) {}

  /** Keeps the chunk; once the output passes through, returns when it has been written. */
  add(stream: 1 | 2, chunk: Buffer): Promise<void> | undefined {
    if (this.passing) return this.passThrough([{ stream, chunk }]);
    if (this.spill) {
      try {
        this.writeRecord(stream, chunk);
      } catch (error) {
        return this.giveUpKeeping(error, { stream, chunk });
      }
      return undefined;
    }
    this.records.push({ stream, chunk });
    this.bytes += chunk.length;
    return this.bytes > CAPTURE_MEMORY_LIMIT ? this.startSpill() : undefined;
  }

  private passThrough(records: Iterable<{ stream: 1 | 2; chunk: Buffer }>): Promise<void> {
    this.passing = (this.passing ?? Promise.resolve()).then(async () => {
      for (const { stream, chunk } of records) {
        this.waitingForReader = true;
        if (await write(stream, chunk)) this.lastWaitedForReader = monotonicMs();
        this.waitingForReader = false;
      }
    });
    return this.passing;
  }

  /**
   * How long from now the reader still counts as holding the output up (it is being waited
   * for, or was within the last `ms`); 0 when it is not.
   */
  heldUpByReaderWithin(ms: number): number {
    if (this.waitingForReader) return ms;
    return Math.max(0, Math.ceil(this.lastWaitedForReader + ms - monotonicMs()));
  }

  finish(): void {
    if (this.spill && this.spill.fd >= 0) {
      closeSync(this.spill.fd);
      this.spill.fd = -1;
    }
  }

  private startSpill(): Promise<void> | undefined {
    try {
      const dir = mkdtempSync(join(tmpdir(), "pushgw-output-"));
      this.spill = { dir, path: join(dir, "output"), fd: -1 };
      this.spill.fd = openSync(this.spill.path, "wx", 0o600);
      for (const { stream, chunk } of this.records) this.writeRecord(stream, chunk);
      this.records = [];
      return undefined;
    } catch (error) {
      return this.giveUpKeeping(error);
    }
  }

  /** Writes out everything kept so far, in order, then lets the rest through as it comes. */
  private giveUpKeeping(error: unknown, pending?: { stream: 1 | 2; chunk: Buffer }): Promise<void> {
    const code = (error as NodeJS.ErrnoException).code ?? (error as Error).message;
    this.notes.push(`--quiet-success: the job's output could not be kept in a temporary file (${code}; check TMPDIR), so it was passed through as it came`);
    const kept = this.spill ? [...this.readSpill(), ...this.records] : this.records;
    this.discardSpillSync();
    this.records = [];
    return this.passThrough(pending ? [...kept, pending] : kept);
  }

  private writeRecord(stream: 1 | 2, chunk: Buffer): void {
    const header = Buffer.alloc(5);
    header.writeUInt8(stream, 0);
    header.writeUInt32BE(chunk.length, 1);
    writeAll(this.spill!.fd, header);
    writeAll(this.spill!.fd, chunk);
  }

  /** The whole records in the spill file, one at a time; a record cut short by a failed write is left out. */
  private *readSpill(): Generator<{ stream: 1 | 2; chunk: Buffer }> {
    if (!this.spill) return;
    let fd = -1;
    try {
      fd = openSync(this.spill.path, "r");
      const header = Buffer.alloc(5);
      while (readSync(fd, header, 0, 5, null) === 5) {
        const length = header.readUInt32BE(1);
        const chunk = Buffer.alloc(length);
        if (readSync(fd, chunk, 0, length, null) !== length) break;
        yield { stream: header.readUInt8(0) as 1 | 2, chunk };
      }
    } catch {
      // What could be read is all there is.
    } finally {
      if (fd >= 0) closeSync(fd);
    }
  }

  private discardSpillSync(): void {
    if (!this.spill) return;
    if (this.spill.fd >= 0) closeSync(this.spill.fd);
    rmSync(this.spill.dir, { recursive: true, force: true });
    this.spill = undefined;
  }

  async replay(): Promise<void> {
    await this.passing;
    const records = this.spill ? this.readSpill() : this.records;
    for (const { stream, chunk } of records) await write(stream, chunk);
    return this.discard();
  }

  async discard(): Promise<void> {
    await this.passing;
    this.records = [];
    if (this.spill) removeQuietly(this.spill.dir);
    this.spill = undefined;
  }
}

function writeAll(fd: number, buffer: Buffer): void {
  let offset = 0;
  while (offset < buffer.length) offset += writeSync(fd, buffer, offset, buffer.length - offset);
}

/**
 * Writes to the wrapper's own stdout or stderr, and settles once the chunk is in the pipe or file:
 * Node queues what a full pipe cannot take yet and calls a write below its high-water mark done
 * at once, and what was still queued when the wrapper ended was lost. Waiting for each chunk
 * also keeps the order of stdout's and stderr's chunks when both go to one pipe (cron's mail).
 * True when it had to wait for the reader. A closed reader (EPIPE) ends the replay, never the
 * wrapper: terminal-output.ts listens for the stream's errors.
 */
function write(stream: 1 | 2, chunk: Buffer): Promise<boolean> {
  const target = stream === 1 ? process.stdout : process.stderr;
  if (target.destroyed || !target.writable) return Promise.resolve(false);
  // The callback comes after write() has returned, so `waited` is set by then.
  return new Promise((resolve) => {
    const waited = !target.write(chunk, () => resolve(waited));
  });
}
