import { JOB_SIGNALS, signalStep } from "../core/job-signals.js";

/** The wrapper's hold on the signals it passes on to the job (src/core/job-signals.ts says which, and how). */
export interface JobSignals {
  /** The job has a process now (or none, when it could not be started): what was held goes to it, in order. */
  started(pid: number | undefined): void;
  /** The job has ended: from now on the wrapper only pushes its outcome. */
  ended(): void;
  /** Sends `signal` to the job's process group (to the job alone if it has none); nothing once it has ended. */
  send(signal: NodeJS.Signals): void;
  /** The first signal passed on that stops the run (SIGTERM, SIGINT, SIGHUP, SIGQUIT). */
  readonly interruptedBy: NodeJS.Signals | undefined;
}

/**
 * Takes every signal of the table at once, before the job is started: a signal that came while
 * the job was being started used to end the wrapper and leave the job running unwrapped. The
 * listeners stay until the wrapper exits, so that a signal after the job's end cannot stop the
 * outcome push either (`pass` signals are ignored then).
 */
export function takeJobSignals(): JobSignals {
  let job: "starting" | "running" | "ended" = "starting";
  let pid: number | undefined;
  let interruptedBy: NodeJS.Signals | undefined;
  // As the kernel keeps a standard signal pending once, however often it is sent.
  const held = new Set<NodeJS.Signals>();
  const listeners = new Map<NodeJS.Signals, () => void>();

  const send = (signal: NodeJS.Signals): void => {
    if (job !== "running" || pid === undefined) return;
    try {
      process.kill(-pid, signal);
    } catch {
      try {
        process.kill(pid, signal);
      } catch {
        // Gone already.
      }
    }
  };
  const act = (signal: NodeJS.Signals): void => {
    const step = signalStep(signal, job);
    switch (step.kind) {
      case "hold":
        held.add(signal);
        return;
      case "forward":
        if (step.interrupts) interruptedBy ??= signal;
        send(signal);
        return;
      case "suspendBoth":
        send("SIGSTOP");
        process.kill(process.pid, "SIGSTOP");
        return;
      case "default": {
        // Without a listener Node leaves the signal to its default action (end, or stop).
        const listener = listeners.get(signal);
        if (listener) process.off(signal, listener);
        listeners.delete(signal);
        process.kill(process.pid, signal);
        return;
      }
      case "ignore":
        return;
    }
  };
  for (const signal of Object.keys(JOB_SIGNALS) as NodeJS.Signals[]) {
    const listener = (): void => act(signal);
    listeners.set(signal, listener);
    process.on(signal, listener);
  }
  return {
    started(startedPid) {
      pid = startedPid;
      job = startedPid === undefined ? "ended" : "running";
      // A job that never started has nothing to pass a signal on to, and the wrapper exits soon.
      if (startedPid === undefined) held.clear();
      for (const signal of held) act(signal);
      held.clear();
    },
    ended() {
      job = "ended";
    },
    send,
    get interruptedBy() {
      return interruptedBy;
    },
  };
}
