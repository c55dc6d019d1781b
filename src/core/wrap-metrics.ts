import { escapeHelp } from "./exposition.js";
import { UsageError } from "./errors.js";
import { isValidMetricName } from "./names.js";
import type { RunCost } from "./run-cost.js";

/** How a wrapped job ended, sorted once so every later decision is a lookup. */
export type JobOutcome =
  | { readonly kind: "exited"; readonly code: number }
  /** Killed by a signal nobody in pushgw sent. */
  | { readonly kind: "signaled"; readonly signal: string; readonly signalNumber: number }
  /** Stopped by pushgw after --max-runtime. */
  | { readonly kind: "timedOut" }
  /** The wrapper itself got a signal and passed it on to the job. */
  | { readonly kind: "interrupted"; readonly signal: string; readonly signalNumber: number }
  /** Could not be started: why, and what to look at. */
  | { readonly kind: "notFound"; readonly reason: string; readonly hint: string }
  | { readonly kind: "notExecutable"; readonly reason: string; readonly hint: string };

/**
 * The wrapper's exit status, following the shell and timeout(1): the job's own code,
 * 128+N for a signal, 124 after --max-runtime, 126 cannot execute, 127 not found.
 */
export function wrapperExitCode(outcome: JobOutcome): number {
  switch (outcome.kind) {
    case "exited":
      return outcome.code;
    case "signaled":
    case "interrupted":
      return 128 + outcome.signalNumber;
    case "timedOut":
      return 124;
    case "notExecutable":
      return 126;
    case "notFound":
      return 127;
  }
}

export function describeOutcome(outcome: JobOutcome): string {
  switch (outcome.kind) {
    case "exited":
      return outcome.code === 0 ? "succeeded" : `failed with exit status ${outcome.code}`;
    case "signaled":
      return `was killed by ${outcome.signal}`;
    case "timedOut":
      return "ran past --max-runtime and was stopped";
    case "interrupted":
      return `was interrupted by ${outcome.signal}`;
    case "notFound":
      return `could not start: ${outcome.reason}`;
    case "notExecutable":
      return `could not start: ${outcome.reason}`;
  }
}

/** How often the job should succeed (`--expect-every`, `--grace`), for the generic alert. */
export interface Expectation {
  readonly intervalMs: number;
  readonly graceMs: number;
}

export interface WrapMetricNames {
  readonly running: string;
  readonly lastStart: string;
  readonly lastCompletion: string;
  readonly duration: string;
  readonly exitCode: string;
  readonly success: string;
  readonly lastSuccess: string;
  readonly lastFailure: string;
  readonly expectedInterval: string;
  readonly expectedGrace: string;
  readonly maxRuntime: string;
  readonly skippedOverlap: string;
  readonly lastSkipped: string;
  readonly cpuUser: string;
  readonly cpuSystem: string;
  readonly maxRss: string;
}

export function wrapMetricNames(prefix: string): WrapMetricNames {
  if (!isValidMetricName(prefix)) {
    throw new UsageError(`--prefix: "${prefix}" cannot start a metric name (allowed: [a-zA-Z_:][a-zA-Z0-9_:]*)`);
  }
  return {
    running: `${prefix}_running`,
    lastStart: `${prefix}_last_start_timestamp_seconds`,
    lastCompletion: `${prefix}_last_completion_timestamp_seconds`,
    duration: `${prefix}_duration_seconds`,
    exitCode: `${prefix}_exit_code`,
    success: `${prefix}_success`,
    lastSuccess: `${prefix}_last_success_timestamp_seconds`,
    lastFailure: `${prefix}_last_failure_timestamp_seconds`,
    expectedInterval: `${prefix}_expected_interval_seconds`,
    expectedGrace: `${prefix}_expected_grace_seconds`,
    maxRuntime: `${prefix}_max_runtime_seconds`,
    skippedOverlap: `${prefix}_skipped_overlap_total`,
    lastSkipped: `${prefix}_last_skipped_timestamp_seconds`,
    cpuUser: `${prefix}_last_cpu_user_seconds`,
    cpuSystem: `${prefix}_last_cpu_system_seconds`,
    maxRss: `${prefix}_last_max_rss_bytes`,
  };
}

const HELP: Record<keyof WrapMetricNames, string> = {
  running: "1 while the wrapped job runs, 0 once it has ended.",
  lastStart: "Unix time the wrapped job last started.",
  lastCompletion: "Unix time the wrapped job last ended, whatever the outcome.",
  duration: "How long the last run of the wrapped job took, in seconds.",
  exitCode: "Exit status of the last run, as the wrapper reported it (128+N: signal N, 124: --max-runtime).",
  success: "1 if the last run succeeded, 0 if it failed.",
  lastSuccess: "Unix time the wrapped job last succeeded.",
  lastFailure: "Unix time the wrapped job last failed.",
  expectedInterval: "How often the job is expected to succeed (--expect-every), in seconds.",
  expectedGrace: "Extra time allowed past the expected interval (--grace), in seconds.",
  maxRuntime: "Longest a run may take before the wrapper stops it for good (--max-runtime plus --kill-grace), in seconds.",
  skippedOverlap: "Runs not started because the previous run still held the wrap --lock (counted on this host).",
  lastSkipped: "Unix time a run was last not started because the previous run still held the wrap --lock.",
  cpuUser: "User CPU time of the last run, the job and every descendant it waited for, in seconds.",
  cpuSystem: "System CPU time of the last run, the job and every descendant it waited for, in seconds.",
  maxRss: "Peak resident memory of the last run's process tree, sampled from /proc, in bytes.",
};

/** One family as wrap pushes it: HELP, TYPE (a gauge unless said) and its one sample. */
function family(names: WrapMetricNames, key: keyof WrapMetricNames, value: number, type: "gauge" | "counter" = "gauge"): string {
  const name = names[key];
  return `# HELP ${name} ${escapeHelp(HELP[key])}\n# TYPE ${name} ${type}\n${name} ${formatNumber(value)}\n`;
}

function formatNumber(value: number): string {
  return Number.isInteger(value) ? String(value) : String(Math.round(value * 1000) / 1000);
}

function expectationMetrics(names: WrapMetricNames, expectation: Expectation | undefined): string {
  if (expectation === undefined) return "";
  return family(names, "expectedInterval", expectation.intervalMs / 1000) + family(names, "expectedGrace", expectation.graceMs / 1000);
}

/**
 * Pushed when the job starts: it is running, and since when; and with --max-runtime, how long
 * it may run at most, so that a run whose wrapper was killed (job_running stuck at 1) shows
 * as stuck in `pushgw list` and in the alert rules.
 */
export function renderStartMetrics(names: WrapMetricNames, startedAtMs: number, expectation?: Expectation, maxRuntimeMs?: number): string {
  return family(names, "running", 1) + family(names, "lastStart", startedAtMs / 1000) + expectationMetrics(names, expectation) + maxRuntimeMetric(names, maxRuntimeMs);
}

function maxRuntimeMetric(names: WrapMetricNames, maxRuntimeMs: number | undefined): string {
  return maxRuntimeMs === undefined ? "" : family(names, "maxRuntime", maxRuntimeMs / 1000);
}

export interface RunRecord {
  readonly startedAtMs: number;
  readonly endedAtMs: number;
  readonly durationMs: number;
  readonly exitCode: number;
  /** What the run cost; undefined when it could not be read. */
  readonly cost?: RunCost | undefined;
}

/**
 * Pushed when the job ends. Sent with POST, so the last-success timestamp, present only
 * after a success, survives every later failure.
 */
export function renderEndMetrics(names: WrapMetricNames, run: RunRecord, expectation?: Expectation): string {
  const succeeded = run.exitCode === 0;
  return (
    family(names, "running", 0) +
    family(names, "lastStart", run.startedAtMs / 1000) +
    family(names, "lastCompletion", run.endedAtMs / 1000) +
    family(names, "duration", run.durationMs / 1000) +
    family(names, "exitCode", run.exitCode) +
    family(names, "success", succeeded ? 1 : 0) +
    family(names, succeeded ? "lastSuccess" : "lastFailure", run.endedAtMs / 1000) +
    costMetrics(names, run.cost) +
    expectationMetrics(names, expectation)
  );
}

/** CPU as read; the peak memory only when something was measured (never a made-up 0). */
function costMetrics(names: WrapMetricNames, cost: RunCost | undefined): string {
  if (cost === undefined) return "";
  return (
    family(names, "cpuUser", cost.cpuUserSeconds) +
    family(names, "cpuSystem", cost.cpuSystemSeconds) +
    (cost.maxRssBytes === undefined ? "" : family(names, "maxRss", cost.maxRssBytes))
  );
}

/** The families wrap pushes itself; the job's own metrics may not use them. */
export function ownedFamilies(names: WrapMetricNames): Map<string, string> {
  return new Map(Object.values(names).map((name) => [name, "pushed by pushgw wrap itself; choose another name"]));
}

/**
 * Pushed by a run that found the lock held (wrap --lock) and did not start the job: how many
 * runs were skipped so far, and when the last was. Nothing else in the group is touched (POST).
 */
export function renderSkipMetrics(names: WrapMetricNames, skippedAtMs: number, count: number | undefined): string {
  return (count === undefined ? "" : family(names, "skippedOverlap", count, "counter")) + family(names, "lastSkipped", skippedAtMs / 1000);
}

/** A run whose wrapper died before it could say the job ended, marked ended (`pushgw doctor --fix`). */
export function renderNotRunning(names: WrapMetricNames): string {
  return family(names, "running", 0);
}

/** The help line wrap gives a metric, for a command that pushes the same family by hand. */
export function wrapMetricHelp(key: keyof WrapMetricNames): string {
  return HELP[key];
}
