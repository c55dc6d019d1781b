import { describe, expect, it } from "vitest";
import { jobOutcome, type JobEndFacts } from "../../src/core/job-end.js";

const numbers: Record<string, number> = { SIGTERM: 15, SIGKILL: 9, SIGINT: 2 };
const signalNumber = (signal: string) => numbers[signal] ?? 0;
const ended = (facts: Partial<JobEndFacts>): JobEndFacts => ({ timedOut: false, code: null, signal: null, ...facts });

describe("jobOutcome: how a job's end becomes its outcome", () => {
  it.each([
    ["exit 0", ended({ code: 0 }), { kind: "exited", code: 0 }],
    ["exit 3", ended({ code: 3 }), { kind: "exited", code: 3 }],
    ["killed by a signal nobody in pushgw sent", ended({ signal: "SIGKILL" }), { kind: "signaled", signal: "SIGKILL", signalNumber: 9 }],
    ["stopped after --max-runtime (its SIGTERM is pushgw's)", ended({ timedOut: true, signal: "SIGTERM" }), { kind: "timedOut" }],
    ["stopped after --max-runtime, though it exited by itself", ended({ timedOut: true, code: 0 }), { kind: "timedOut" }],
    ["a signal the wrapper got and passed on", ended({ interruptedBy: "SIGINT", signal: "SIGINT" }), { kind: "interrupted", signal: "SIGINT", signalNumber: 2 }],
    ["passed on, and the job exited by itself on it", ended({ interruptedBy: "SIGTERM", code: 1 }), { kind: "interrupted", signal: "SIGTERM", signalNumber: 15 }],
    ["--max-runtime wins over a signal passed on", ended({ timedOut: true, interruptedBy: "SIGINT" }), { kind: "timedOut" }],
    ["no such command", ended({ startError: "ENOENT" }), { kind: "notFound", reason: "no such file or command", hint: "check the command's path and PATH (cron's PATH is short: use a full path), and a script's #! line" }],
    ["not executable", ended({ startError: "EACCES", code: 1 }), { kind: "notExecutable", reason: "permission denied (not executable, or a directory)", hint: "check that the file is executable (chmod +x), is not a directory, and is not on a filesystem mounted noexec" }],
    ["a path through a file", ended({ startError: "ENOTDIR", startMessage: "Command failed with ENOTDIR: /bin/sh/x" }), { kind: "notExecutable", reason: "a part of its path is a file, not a directory (ENOTDIR)", hint: "check the command's path: a part of it before the last / is a file" }],
    ["a loop of symbolic links", ended({ startError: "ELOOP" }), { kind: "notExecutable", reason: "its path goes round a loop of symbolic links (ELOOP)", hint: "check the symbolic links on the command's path, and a script's #! line" }],
    ["a path too long", ended({ startError: "ENAMETOOLONG" }), { kind: "notExecutable", reason: "its path is too long (ENAMETOOLONG)", hint: "check the command's path" }],
    ["arguments too long", ended({ startError: "E2BIG" }), { kind: "notExecutable", reason: "its arguments and environment are too long for the system (E2BIG)", hint: "pass the job less: a smaller environment, or fewer and shorter arguments" }],
    ["no file descriptor left", ended({ startError: "EMFILE", startMessage: "spawn /bin/sh EMFILE" }), { kind: "notExecutable", reason: "pushgw had no file descriptor left to start it with (ulimit -n) (EMFILE)", hint: "raise the wrapper's limit of open files (ulimit -n; LimitNOFILE= under systemd)" }],
    ["no process left", ended({ startError: "EAGAIN" }), { kind: "notExecutable", reason: "the system would not start another process (ulimit -u, or too many processes) (EAGAIN)", hint: "raise the limit of processes (ulimit -u; TasksMax= under systemd), or end stray processes" }],
    ["neither started nor ended in a known way", ended({ startError: "ETXTBSY", startMessage: "Command failed with ETXTBSY: /tmp/x\nspawn ETXTBSY" }), { kind: "notExecutable", reason: "Command failed with ETXTBSY: /tmp/x\nspawn ETXTBSY", hint: "check the command and the file it names" }],
    ["nothing known at all", ended({}), { kind: "notExecutable", reason: "it could not be started", hint: "check the command and the file it names" }],
  ])("%s", (_, facts, outcome) => {
    expect(jobOutcome(facts, signalNumber)).toEqual(outcome);
  });
});
