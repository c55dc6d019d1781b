import { describe, expect, it } from "vitest";
import { JOB_SIGNALS, signalStep } from "../../src/core/job-signals.js";

describe("signalStep: what the wrapper does with a signal, by where the job is", () => {
  it.each([
    ["SIGTERM", "starting", { kind: "hold" }],
    ["SIGUSR2", "starting", { kind: "hold" }],
    ["SIGTSTP", "starting", { kind: "hold" }],
    ["SIGTERM", "running", { kind: "forward", interrupts: true }],
    ["SIGINT", "running", { kind: "forward", interrupts: true }],
    ["SIGHUP", "running", { kind: "forward", interrupts: true }],
    ["SIGQUIT", "running", { kind: "forward", interrupts: true }],
    ["SIGUSR1", "running", { kind: "forward", interrupts: false }],
    ["SIGUSR2", "running", { kind: "forward", interrupts: false }],
    ["SIGALRM", "running", { kind: "forward", interrupts: false }],
    ["SIGWINCH", "running", { kind: "forward", interrupts: false }],
    ["SIGCONT", "running", { kind: "forward", interrupts: false }],
    ["SIGTSTP", "running", { kind: "suspendBoth" }],
    ["SIGTTIN", "running", { kind: "suspendBoth" }],
    ["SIGTTOU", "running", { kind: "suspendBoth" }],
    ["SIGTERM", "ended", { kind: "default" }],
    ["SIGUSR2", "ended", { kind: "ignore" }],
    ["SIGCONT", "ended", { kind: "ignore" }],
    ["SIGTSTP", "ended", { kind: "default" }],
    // Not the wrapper's to take: never held or passed on.
    ["SIGPIPE", "running", { kind: "default" }],
    ["SIGSEGV", "starting", { kind: "default" }],
  ] as const)("%s while the job is %s: %j", (signal, job, step) => {
    expect(signalStep(signal, job)).toEqual(step);
  });

  it("takes no signal Node cannot listen to, nor one the wrapper's own faults raise", () => {
    for (const signal of ["SIGKILL", "SIGSTOP", "SIGPIPE", "SIGSEGV", "SIGBUS", "SIGFPE", "SIGILL", "SIGABRT", "SIGTRAP", "SIGSYS", "SIGCHLD", "SIGXCPU", "SIGXFSZ"]) {
      expect(JOB_SIGNALS[signal], signal).toBeUndefined();
    }
  });
});
