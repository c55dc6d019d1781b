import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { cpuBetween, parseChildCpuTicks, parseMemoryStatus, parseSessionId, peakOfSample } from "../../src/core/run-cost.js";

const fixture = (name: string): string => readFileSync(new URL(`../fixtures/proc/${name}`, import.meta.url), "utf8");

describe("parseChildCpuTicks and parseSessionId (/proc/PID/stat)", () => {
  it.each([
    // A real line (pid 1 of the test machine): cutime 531908, cstime 136599, session 0.
    { file: "stat-real.txt", ticks: { userTicks: 531908, systemTicks: 136599 }, session: 0 },
    // A process name holding spaces and parentheses, `my (odd) job) x`: counted from the last `)`.
    { file: "stat-odd-name.txt", ticks: { userTicks: 250, systemTicks: 75 }, session: 4242 },
  ])("$file", ({ file, ticks, session }) => {
    expect(parseChildCpuTicks(fixture(file))).toEqual(ticks);
    expect(parseSessionId(fixture(file))).toBe(session);
  });

  it.each([
    { line: "", why: "empty" },
    { line: "12 (cut short) S 1 12 12", why: "too few fields" },
    { line: "12 no name here", why: "no parentheses" },
    { line: "12 (x) S 1 12 12 0 -1 0 0 0 0 0 0 0 zz 4", why: "not a number" },
  ])("$why: undefined", ({ line }) => {
    expect(parseChildCpuTicks(line)).toBeUndefined();
  });
});

describe("cpuBetween", () => {
  it.each([
    { before: { userTicks: 100, systemTicks: 20 }, after: { userTicks: 137, systemTicks: 25 }, hz: 100, user: 0.37, system: 0.05 },
    { before: { userTicks: 0, systemTicks: 0 }, after: { userTicks: 0, systemTicks: 0 }, hz: 100, user: 0, system: 0 },
    { before: { userTicks: 10, systemTicks: 10 }, after: { userTicks: 1010, systemTicks: 260 }, hz: 250, user: 4, system: 1 },
    // Never negative, whatever the readings say.
    { before: { userTicks: 50, systemTicks: 50 }, after: { userTicks: 40, systemTicks: 40 }, hz: 100, user: 0, system: 0 },
  ])("$before → $after at $hz Hz", ({ before, after, hz, user, system }) => {
    expect(cpuBetween(before, after, hz)).toEqual({ user, system });
  });
});

describe("parseMemoryStatus (/proc/PID/status)", () => {
  it.each([
    { file: "status-real.txt", expected: { rssBytes: 2136 * 1024, hwmBytes: 2136 * 1024 } },
    // A kernel thread has no memory of its own.
    { file: "status-kernel-thread.txt", expected: undefined },
  ])("$file", ({ file, expected }) => {
    expect(parseMemoryStatus(fixture(file))).toEqual(expected);
  });
});

describe("peakOfSample", () => {
  it.each([
    { name: "nothing seen", sample: [], peak: undefined },
    { name: "one process: its own peak beats its RSS now", sample: [{ rssBytes: 10, hwmBytes: 90 }], peak: 90 },
    { name: "a tree: the sum beats any one peak", sample: [{ rssBytes: 40, hwmBytes: 45 }, { rssBytes: 30, hwmBytes: 30 }], peak: 70 },
    { name: "a tree: one process's past peak beats the sum", sample: [{ rssBytes: 5, hwmBytes: 200 }, { rssBytes: 30, hwmBytes: 30 }], peak: 200 },
  ])("$name", ({ sample, peak }) => {
    expect(peakOfSample(sample)).toBe(peak);
  });
});
