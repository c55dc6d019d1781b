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

/** Why a command could not be started, in words, and what to look at, for the errors a path or a limit gives. */
const START_FAILURES: Readonly<Record<string, { readonly reason: string; readonly hint: string }>> = {
  ENOTDIR: { reason: "a part of its path is a file, not a directory", hint: "check the command's path: a part of it before the last / is a file" },
  ELOOP: { reason: "its path goes round a loop of symbolic links", hint: "check the symbolic links on the command's path, and a script's #! line" },
  ENAMETOOLONG: { reason: "its path is too long", hint: "check the command's path" },
  E2BIG: { reason: "its arguments and environment are too long for the system", hint: "pass the job less: a smaller environment, or fewer and shorter arguments" },
  EMFILE: { reason: "pushgw had no file descriptor left to start it with (ulimit -n)", hint: "raise the wrapper's limit of open files (ulimit -n; LimitNOFILE= under systemd)" },
  ENFILE: { reason: "the system had no file descriptor left (fs.file-max)", hint: "close files elsewhere, or raise the system's limit (sysctl fs.file-max)" },
  EAGAIN: { reason: "the system would not start another process (ulimit -u, or too many processes)", hint: "raise the limit of processes (ulimit -u; TasksMax= under systemd), or end stray processes" },
  ENOMEM: { reason: "there was not enough memory to start it", hint: "free memory, or raise the wrapper's memory limit" },
};

const NOT_FOUND_HINT = "check the command's path and PATH (cron's PATH is short: use a full path), and a script's #! line";
const NOT_EXECUTABLE_HINT = "check that the file is executable (chmod +x), is not a directory, and is not on a filesystem mounted noexec";
const UNKNOWN_START_HINT = "check the command and the file it names";

/**
 * How a job's end becomes its outcome. A start that failed wins over everything; then what
 * pushgw did (--max-runtime, a signal passed on), since the job's death by SIGTERM is then
 * pushgw's doing; then the signal that killed it, then its exit status.
 */
export function jobOutcome(facts: JobEndFacts, signalNumber: (signal: string) => number): JobOutcome {
  if (facts.startError === "ENOENT") return { kind: "notFound", reason: "no such file or command", hint: NOT_FOUND_HINT };
  if (facts.startError === "EACCES") return { kind: "notExecutable", reason: "permission denied (not executable, or a directory)", hint: NOT_EXECUTABLE_HINT };
  const known = facts.startError === undefined ? undefined : START_FAILURES[facts.startError];
  if (known !== undefined) return { kind: "notExecutable", reason: `${known.reason} (${facts.startError})`, hint: known.hint };
  if (facts.timedOut) return { kind: "timedOut" };
  if (facts.interruptedBy !== undefined) return { kind: "interrupted", signal: facts.interruptedBy, signalNumber: signalNumber(facts.interruptedBy) };
  if (facts.signal) return { kind: "signaled", signal: facts.signal, signalNumber: signalNumber(facts.signal) };
  if (facts.code !== null) return { kind: "exited", code: facts.code };
  return { kind: "notExecutable", reason: facts.startMessage ?? "it could not be started", hint: UNKNOWN_START_HINT };
}
