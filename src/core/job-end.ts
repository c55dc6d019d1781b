import type { JobOutcome } from "./wrap-metrics.js";

/** What the job runner saw of a job's end: facts only (adapters/execa-runner.ts gathers them). */
export interface JobEndFacts {
  /** The error code the start failed with (ENOENT, EACCES, …), if it failed. */
  readonly startError?: string | undefined;
  /** What the process library said, for a job that neither started nor ended in a known way. */
  readonly startMessage?: string | undefined;
  /** pushgw stopped it after --max-runtime. */
  readonly timedOut: boolean;
  /** The signal the wrapper got and passed on to the job. */
  readonly interruptedBy?: string | undefined;
  readonly code: number | null;
  readonly signal: string | null;
}

/** Why a command could not be started, in words, for the errors a mistyped path or a limit gives. */
const START_FAILURES: Readonly<Record<string, string>> = {
  ENOTDIR: "a part of its path is a file, not a directory",
  ELOOP: "its path goes round a loop of symbolic links",
  ENAMETOOLONG: "its path is too long",
  E2BIG: "its arguments and environment are too long for the system",
  EMFILE: "pushgw had no file descriptor left to start it with (ulimit -n)",
  ENFILE: "the system had no file descriptor left (fs.file-max)",
  EAGAIN: "the system would not start another process (ulimit -u, or too many processes)",
  ENOMEM: "there was not enough memory to start it",
};

/**
 * How a job's end becomes its outcome. A start that failed wins over everything; then what
 * pushgw did (--max-runtime, a signal passed on), since the job's death by SIGTERM is then
 * pushgw's doing; then the signal that killed it, then its exit status.
 */
export function jobOutcome(facts: JobEndFacts, signalNumber: (signal: string) => number): JobOutcome {
  if (facts.startError === "ENOENT") return { kind: "notFound", reason: "no such file or command" };
  if (facts.startError === "EACCES") return { kind: "notExecutable", reason: "permission denied (not executable, or a directory)" };
  const known = facts.startError === undefined ? undefined : START_FAILURES[facts.startError];
  if (known !== undefined) return { kind: "notExecutable", reason: `${known} (${facts.startError})` };
  if (facts.timedOut) return { kind: "timedOut" };
  if (facts.interruptedBy !== undefined) return { kind: "interrupted", signal: facts.interruptedBy, signalNumber: signalNumber(facts.interruptedBy) };
  if (facts.signal) return { kind: "signaled", signal: facts.signal, signalNumber: signalNumber(facts.signal) };
  if (facts.code !== null) return { kind: "exited", code: facts.code };
  return { kind: "notExecutable", reason: facts.startMessage ?? "it could not be started" };
}
