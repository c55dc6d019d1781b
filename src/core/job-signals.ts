/**
 * What `wrap` does with each signal sent to the wrapper. The job runs in a process group of its
 * own (so that --max-runtime's kill reaches everything it started), so a signal meant for the
 * job reaches the wrapper alone, and the wrapper must pass it on: a signal that killed the
 * wrapper instead would orphan the job and lose its outcome.
 *
 * - `stop`: passed on to the job's group; the run counts as stopped by it (exit 128+N), whatever
 *   the job then does. Once the job has ended, it ends the wrapper as it would any program.
 * - `pass`: passed on; the job's own exit status stands. Once the job has ended, ignored, so
 *   that the outcome is still pushed.
 * - `suspend` (Ctrl-Z, a background read or write on the terminal): the job's group is stopped
 *   with SIGSTOP, then the wrapper stops itself; SIGCONT (`fg`, `bg`) continues both.
 *
 * Not in the table, and why:
 * - SIGPIPE stays ignored, as Node has it: the kernel raises it for the wrapper's own write to a
 *   closed pipe, which must never reach the job.
 * - SIGKILL and SIGSTOP cannot be caught: SIGKILL ends the wrapper alone (the job runs on,
 *   unwrapped), SIGSTOP stops it alone.
 * - SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGABRT, SIGTRAP, SIGSYS are faults of the wrapper itself;
 *   SIGXCPU and SIGXFSZ its own resource limits; SIGCHLD is the job's own end.
 * - The real-time signals (SIGRTMIN…SIGRTMAX) cannot be listened to in Node: one still ends the
 *   wrapper.
 */
export type JobSignalAction = "stop" | "pass" | "suspend";

export const JOB_SIGNALS: Readonly<Record<string, JobSignalAction>> = {
  SIGHUP: "stop",
  SIGINT: "stop",
  SIGQUIT: "stop",
  SIGTERM: "stop",
  SIGUSR1: "pass",
  SIGUSR2: "pass",
  SIGALRM: "pass",
  SIGVTALRM: "pass",
  SIGPROF: "pass",
  SIGIO: "pass",
  SIGPWR: "pass",
  SIGSTKFLT: "pass",
  SIGWINCH: "pass",
  SIGURG: "pass",
  SIGCONT: "pass",
  SIGTSTP: "suspend",
  SIGTTIN: "suspend",
  SIGTTOU: "suspend",
};

/** What the wrapper does now with `signal`, given whether the job has been started or has ended. */
export type SignalStep =
  /** Not started yet: kept, and sent to the job once it has a process. */
  | { readonly kind: "hold" }
  | { readonly kind: "forward"; readonly interrupts: boolean }
  /** SIGSTOP to the job's group, then SIGSTOP to the wrapper itself. */
  | { readonly kind: "suspendBoth" }
  /** The job has ended: the wrapper takes the signal's default action (ends, or stops). */
  | { readonly kind: "default" }
  | { readonly kind: "ignore" };

export function signalStep(signal: string, job: "starting" | "running" | "ended"): SignalStep {
  const action = JOB_SIGNALS[signal];
  if (action === undefined) return { kind: "default" };
  if (job === "starting") return { kind: "hold" };
  if (job === "running") return action === "suspend" ? { kind: "suspendBoth" } : { kind: "forward", interrupts: action === "stop" };
  return action === "pass" ? { kind: "ignore" } : { kind: "default" };
}
