import { formatDuration } from "./duration.js";
import { GatewayError, UsageError } from "./errors.js";
import { groupingLabelMap, groupingLabelPairs, shownLabelName, type GroupingKey } from "./grouping-key.js";

/** One group as the gateway's JSON API (`/api/v1/metrics`, gateway 1.2+) reports it. */
export interface Group {
  /** The exact grouping key, `job` included. */
  readonly labels: Readonly<Record<string, string>>;
  /** Unix seconds of the last successful push, or null if none ever succeeded. */
  readonly lastPushTime: number | null;
  /** Unix seconds of the last failed push, or null. */
  readonly lastFailureTime: number | null;
  readonly lastPushSuccessful: boolean;
  /** Pushed family names, sorted; the gateway's own push_* timestamps left out. */
  readonly metrics: readonly string[];
  /** wrap --expect-every, when the group carries it: seconds of interval plus grace. */
  readonly expectedWithinSeconds: number | null;
  /** Unix seconds of the group's last success as wrap reported it, if it did. */
  readonly lastJobSuccessTime: number | null;
  /** wrap said the job started and has not yet said it ended. */
  readonly running: boolean;
  /** Unix seconds of the job's last start as wrap reported it. */
  readonly lastJobStartTime: number | null;
  /** wrap --max-runtime plus --kill-grace, in seconds, when the group carries it. */
  readonly maxRuntimeSeconds: number | null;
  /** The exit status of the job's last run as wrap reported it (128+N: signal N, 124: --max-runtime). */
  readonly lastExitCode: number | null;
  /** Unix seconds the job's last run ended, as wrap reported it. */
  readonly lastCompletionTime: number | null;
  /** Unix seconds of the last run wrap --lock skipped because another held the lock. */
  readonly lastSkippedTime: number | null;
  /** What the job's last run cost as wrap measured it: CPU seconds and peak resident bytes. */
  readonly lastCpuUserSeconds: number | null;
  readonly lastCpuSystemSeconds: number | null;
  readonly lastMaxRssBytes: number | null;
  /** Each pushed family's type (COUNTER, GAUGE, …) and HELP text as the gateway holds them. */
  readonly families: Readonly<Record<string, FamilyShape>>;
}

export interface FamilyShape {
  readonly type: string;
  readonly help: string | undefined;
}

const GATEWAY_FAMILIES = new Set(["push_time_seconds", "push_failure_time_seconds"]);

interface FamilyJson {
  type?: unknown;
  help?: unknown;
  metrics?: Array<{ labels?: Record<string, string>; value?: string }>;
}

/**
 * Decodes `/api/v1/metrics`. A pushed family that happens to be named `labels` or
 * `last_push_successful` overwrites those keys in the gateway's JSON; the key is then
 * recovered from the push_time_seconds sample, which carries the grouping labels (plus an
 * `instance=""` the gateway adds when the key has no instance: there the two cannot be told
 * apart, and the key without an instance is assumed). Anything else that is not the API's
 * shape comes back as a GatewayError, never as an exception.
 */
export function decodeGroups(body: string, url: string): Group[] | GatewayError {
  const groups: Group[] = [];
  // Group by group, never the whole answer at once: a list of 100,000 wrapped groups is about
  // 290 MB, and one JSON.parse of it held gigabytes of objects at the same time.
  const problem = forEachDataElement(body, (text, index) => {
    if (index >= MAX_GROUPS) return `it lists more than ${MAX_GROUPS.toLocaleString("en-US")} groups, more than any real gateway holds`;
    let raw: unknown;
    try {
      raw = JSON.parse(text);
    } catch {
      return "the answer is not JSON";
    }
    if (!isObject(raw)) return `group ${index + 1} is ${raw === null ? "null" : `a ${typeof raw}`}, not an object`;
    const group = decodeGroup(raw);
    if (typeof group === "string") return `group ${index + 1}: ${group}`;
    groups.push(group);
    return undefined;
  });
  return problem === undefined ? groups : notTheApi(url, problem);
}

/** More groups than this in one answer is no gateway's list (100,000 wrapped groups are a large one). */
export const MAX_GROUPS = 500_000;

/**
 * Calls `each` with the text of every element of the top-level object's "data" array, in order,
 * until it returns a problem; returns that problem, or why the answer is not such an object.
 * Only the skeleton is walked here; JSON.parse checks each element.
 */
function forEachDataElement(body: string, each: (text: string, index: number) => string | undefined): string | undefined {
  const notJson = "the answer is not JSON";
  let at = skipSpace(body, 0);
  if (body[at] !== "{") {
    try {
      JSON.parse(body);
    } catch {
      return notJson;
    }
    return 'it has no "data" array';
  }
  at = skipSpace(body, at + 1);
  let sawData = false;
  while (body[at] !== "}") {
    if (body[at] !== '"') return notJson;
    const keyEnd = skipString(body, at);
    if (keyEnd < 0) return notJson;
    const key = body.slice(at + 1, keyEnd - 1);
    at = skipSpace(body, keyEnd);
    if (body[at] !== ":") return notJson;
    at = skipSpace(body, at + 1);
    if (key === "data" && body[at] === "[") {
      if (sawData) return 'it has two "data" members';
      sawData = true;
      at = skipSpace(body, at + 1);
      for (let index = 0; body[at] !== "]"; index++) {
        const end = skipValue(body, at);
        if (end < 0) return notJson;
        const problem = each(body.slice(at, end), index);
        if (problem !== undefined) return problem;
        at = skipSpace(body, end);
        if (body[at] === ",") at = skipSpace(body, at + 1);
        else if (body[at] !== "]") return notJson;
      }
      at++;
    } else {
      if (key === "data") return 'it has no "data" array';
      const end = skipValue(body, at);
      if (end < 0) return notJson;
      at = end;
    }
    at = skipSpace(body, at);
    if (body[at] === ",") at = skipSpace(body, at + 1);
    else if (body[at] !== "}") return notJson;
  }
  if (skipSpace(body, at + 1) !== body.length) return notJson;
  return sawData ? undefined : 'it has no "data" array';
}

function skipSpace(text: string, at: number): number {
  while (at < text.length) {
    const c = text.charCodeAt(at);
    if (c !== 0x20 && c !== 0x0a && c !== 0x0d && c !== 0x09) break;
    at++;
  }
  return at;
}

/** The index after the string starting at `at` (a `"`), or -1 when it does not end. */
function skipString(text: string, at: number): number {
  for (let i = at + 1; ; ) {
    const quote = text.indexOf('"', i);
    if (quote < 0) return -1;
    let backslashes = 0;
    while (text.charCodeAt(quote - 1 - backslashes) === 0x5c) backslashes++;
    if (backslashes % 2 === 0) return quote + 1;
    i = quote + 1;
  }
}

/** The index after the JSON value starting at `at`, or -1 when it does not end. */
function skipValue(text: string, at: number): number {
  const first = text[at];
  if (first === '"') return skipString(text, at);
  if (first !== "{" && first !== "[") {
    let i = at;
    while (i < text.length && !',]} \n\r\t'.includes(text[i]!)) i++;
    return i === at ? -1 : i;
  }
  let depth = 0;
  for (let i = at; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 0x22) {
      i = skipString(text, i) - 1;
      if (i < 0) return -1;
    } else if (c === 0x7b || c === 0x5b) depth++;
    else if (c === 0x7d || c === 0x5d) {
      depth--;
      if (depth === 0) return i + 1;
    }
  }
  return -1;
}

function notTheApi(url: string, why: string): GatewayError {
  return new GatewayError(`GET ${url}: the answer is not the Pushgateway's JSON API (${why})`, {
    hint: "list, prune and delete --match need Pushgateway 1.2 or newer; check that --gateway points at one",
  });
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** One group of the JSON API (also how a textfile group is read: see core/textfile.ts). */
export function decodeGroup(raw: Record<string, unknown>): Group | string {
  const pushTime = sampleValue(raw["push_time_seconds"]);
  const failureTime = sampleValue(raw["push_failure_time_seconds"]);
  let labels: unknown = raw["labels"];
  if (!isObject(labels) || Array.isArray((labels as FamilyJson).metrics)) {
    const fromSample = (raw["push_time_seconds"] as FamilyJson | undefined)?.metrics?.[0]?.labels;
    if (!isObject(fromSample)) return "it has no grouping labels";
    labels = { ...fromSample };
    if ((labels as Record<string, unknown>)["instance"] === "") delete (labels as Record<string, unknown>)["instance"];
  }
  // No prototype: a label a hostile gateway names __proto__ stays a label, and is not lost (a
  // DELETE by the key without it would name another group).
  const stringLabels: Record<string, string> = Object.create(null) as Record<string, string>;
  for (const [name, value] of Object.entries(labels as Record<string, unknown>)) {
    if (typeof value !== "string") return `label ${name} is not a string`;
    stringLabels[name] = value;
  }
  if (typeof stringLabels["job"] !== "string") return "it has no job label";
  const successful = raw["last_push_successful"];
  const metrics = Object.keys(raw)
    .filter((name) => !GATEWAY_FAMILIES.has(name) && isFamily(raw[name]))
    .sort();
  const wrapped = wrapFamilies(raw);
  const interval = wrapped("_expected_interval_seconds");
  const grace = wrapped("_expected_grace_seconds");
  return {
    labels: stringLabels,
    lastPushTime: pushTime === undefined || pushTime === 0 ? null : pushTime,
    lastFailureTime: failureTime === undefined || failureTime === 0 ? null : failureTime,
    lastPushSuccessful: typeof successful === "boolean" ? successful : (failureTime ?? 0) <= (pushTime ?? 0),
    metrics,
    expectedWithinSeconds: interval === undefined ? null : interval + (grace ?? 0),
    lastJobSuccessTime: wrapped("_last_success_timestamp_seconds") ?? null,
    running: wrapped("_running") === 1,
    lastJobStartTime: wrapped("_last_start_timestamp_seconds") ?? null,
    maxRuntimeSeconds: wrapped("_max_runtime_seconds") ?? null,
    lastExitCode: wrapped("_exit_code") ?? null,
    lastCompletionTime: wrapped("_last_completion_timestamp_seconds") ?? null,
    lastSkippedTime: wrapped("_last_skipped_timestamp_seconds") ?? null,
    lastCpuUserSeconds: wrapped("_last_cpu_user_seconds") ?? null,
    lastCpuSystemSeconds: wrapped("_last_cpu_system_seconds") ?? null,
    lastMaxRssBytes: wrapped("_last_max_rss_bytes") ?? null,
    families: Object.fromEntries(metrics.map((name) => [name, familyShape(raw[name] as FamilyJson)])),
  };
}

function familyShape(family: FamilyJson): FamilyShape {
  return { type: typeof family.type === "string" ? family.type : "UNKNOWN", help: typeof family.help === "string" && family.help !== "" ? family.help : undefined };
}

function isFamily(value: unknown): boolean {
  return isObject(value) && Array.isArray((value as FamilyJson).metrics);
}

function sampleValue(family: unknown): number | undefined {
  if (!isFamily(family)) return undefined;
  const first: unknown = (family as FamilyJson).metrics?.[0];
  const value = isObject(first) ? first["value"] : undefined;
  const n = value === undefined ? NaN : Number(value);
  return Number.isFinite(n) ? n : undefined;
}

/**
 * Reads wrap's own families by their suffix, under the prefix wrap pushed them with (`job`,
 * or --prefix): the P for which P_running and P_last_start_timestamp_seconds are both there
 * (every run pushes both), else P_last_skipped_timestamp_seconds beside P_skipped_overlap_total
 * (a run --lock skipped). A family the job pushed itself that merely ends the same way
 * (db_dump_exit_code, apache_workers_running) is never read as wrap's.
 */
function wrapFamilies(raw: Record<string, unknown>): (suffix: string) => number | undefined {
  const prefixes: string[] = [];
  for (const name of Object.keys(raw)) {
    if (name.endsWith("_running") && isFamily(raw[`${name.slice(0, -8)}_last_start_timestamp_seconds`])) prefixes.push(name.slice(0, -8));
  }
  if (prefixes.length === 0) {
    for (const name of Object.keys(raw)) {
      const p = name.endsWith("_skipped_overlap_total") ? name.slice(0, -22) : undefined;
      if (p !== undefined && isFamily(raw[`${p}_last_skipped_timestamp_seconds`])) prefixes.push(p);
    }
  }
  const prefix = prefixes.includes("job") ? "job" : prefixes.sort()[0];
  return (suffix) => (prefix === undefined ? undefined : sampleValue(raw[`${prefix}${suffix}`]));
}

/** True when the group's labels are exactly this key (job and every grouping label, nothing more). */
export function groupHasKey(group: Group, key: GroupingKey): boolean {
  const wanted = groupingLabelMap(key);
  const names = Object.keys(group.labels);
  return names.length === wanted.size && names.every((name) => wanted.get(name) === group.labels[name]);
}

/** A set of labels as one string, their order aside: the same string for the same grouping key. */
export function labelSetId(labels: Readonly<Record<string, string>> | ReadonlyArray<readonly [string, string]>): string {
  const entries = Array.isArray(labels) ? [...labels] : Object.entries(labels);
  return JSON.stringify(entries.sort(([a], [b]) => compareStrings(a, b)));
}

/** The same, as Prometheus tells series apart: a label with an empty value is no label. */
export function seriesLabelSetId(labels: Readonly<Record<string, string>> | ReadonlyArray<readonly [string, string]>): string {
  const entries = Array.isArray(labels) ? labels : Object.entries(labels);
  return labelSetId(entries.filter(([, value]) => value !== ""));
}

/**
 * The groups that differ from `key` only by labels with empty values: to Prometheus the same
 * series, so the gateway cannot hold both (see docs/grouping-key.md).
 */
export function emptyValueTwins(groups: readonly Group[], key: GroupingKey): Group[] {
  const ours = seriesLabelSetId(groupingLabelPairs(key));
  return groups.filter((g) => !groupHasKey(g, key) && seriesLabelSetId(g.labels) === ours);
}

/** The key to DELETE the group by, exactly as the gateway holds it. */
export function groupingKeyOf(group: Group): GroupingKey {
  const { job, ...rest } = group.labels;
  return { job: job ?? "", labels: Object.entries(rest) };
}

/** `pushgw delete --job x --instance h --label a=b`: the command that deletes exactly this group. */
export function deleteCommandFor(group: Group): string {
  return `pushgw delete ${groupFlags(group.labels)}`;
}

/** `[--gateway URL] --job x --instance h --label a=b`: exactly this group, for a pushgw command. */
export function groupFlags(labels: Readonly<Record<string, string>>, gateway?: string): string {
  const { job, ...rest } = labels;
  const flags = gateway === undefined ? [] : [`--gateway ${shellWord(gateway)}`];
  flags.push(`--job ${shellWord(job ?? "")}`);
  if (rest["instance"] === undefined) flags.push("--no-instance");
  for (const [name, value] of Object.entries(rest)) flags.push(name === "instance" ? `--instance ${shellWord(value)}` : `--label ${shellWord(`${name}=${value}`)}`);
  return flags.join(" ");
}

/** A word as a POSIX shell reads it back: bare when safe, else single-quoted. */
export function shellWord(text: string): string {
  return /^[A-Za-z0-9_./=:@%+-]+$/.test(text) ? text : `'${text.replace(/'/g, "'\\''")}'`;
}

/** `{job="x", instance="h"}`, job first, then the other labels by name. */
export function formatGroupLabels(labels: Readonly<Record<string, string>>): string {
  const entries = Object.entries(labels).sort(([a], [b]) => (a === "job" ? -1 : b === "job" ? 1 : a < b ? -1 : a > b ? 1 : 0));
  return `{${entries.map(([n, v]) => `${shownLabelName(n)}=${JSON.stringify(v)}`).join(", ")}}`;
}

/** Sorted by job, then by the other labels: the gateway's own order is random. */
export function sortGroups(groups: readonly Group[]): Group[] {
  return [...groups].sort((a, b) => compareStrings(sortKey(a), sortKey(b)));
}

function sortKey(group: Group): string {
  const { job, ...rest } = group.labels;
  const others = Object.keys(rest)
    .sort()
    .map((name) => `${name}\u0001${rest[name]}`)
    .join("\u0002");
  return `${job ?? ""}\u0000${others}`;
}

function compareStrings(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

// --- selectors -------------------------------------------------------------------------

export type Matcher =
  | { readonly name: string; readonly op: "=" | "!="; readonly value: string }
  | { readonly name: string; readonly op: "=~" | "!~"; readonly value: string; readonly regex: RegExp };

// A name is a legacy one, any other text up to the operator (`service.name=x`), or quoted (`"a=b"=x`).
// A bare name holds no brace or comma: `{job!="x"}` (PromQL's selector) would otherwise be a
// matcher on a label "{job" that no group has, and its != would match every group.
const SELECTOR = /^("(?:[^"\\]|\\.)+"|[^\s"=!~{},]+)\s*(=~|!~|!=|=)(.*)$/s;

/**
 * `name=value`, `name!=value`, `name=~regex`, `name!~regex`, as in PromQL (regexes anchored).
 * `where` names the selector's source in messages (`--match`).
 */
export function parseSelector(text: string, where: string): Matcher {
  const match = SELECTOR.exec(text);
  if (!match) {
    throw new UsageError(`${where} "${text}": expected name=value, name!=value, name=~regex or name!~regex`, { hint: "for example --match job=backup or --match instance=~'db-.*'" });
  }
  const [, written, op, rawValue] = match as unknown as [string, string, Matcher["op"], string];
  const name = written.startsWith('"') ? unquoteName(written) : written;
  if (name === undefined) throw new UsageError(`${where} "${text}": the quoted name ${written} has an escape JSON does not know`, { hint: 'write the name in double quotes, with \\" for a quote and \\\\ for a backslash' });
  const value = unquote(rawValue.trim());
  if (op === "=~" || op === "!~") {
    try {
      return { name, op, value, regex: new RegExp(`^(?:${value})$`, "u") };
    } catch (error) {
      // V8 says "Invalid regular expression: /^(?:()$/u: Unterminated group": keep the reason,
      // not the pattern as wrapped here.
      const reason = (error as Error).message.replace(/^Invalid regular expression: \/.*\/\w*: /s, "");
      throw new UsageError(`${where} "${text}": ${JSON.stringify(value)} is not a valid regular expression (${reason.charAt(0).toLowerCase()}${reason.slice(1)})`, {
        hint: "the value is a regular expression anchored at both ends, as in PromQL; put \\ before ( ) [ ] . * + ? to match them as they are",
      });
    }
  }
  return { name, op, value };
}

function unquoteName(quoted: string): string | undefined {
  try {
    return JSON.parse(quoted) as string;
  } catch {
    return undefined;
  }
}

function unquote(value: string): string {
  if (value.length >= 2 && ((value.startsWith('"') && value.endsWith('"')) || (value.startsWith("'") && value.endsWith("'")))) {
    return value.slice(1, -1);
  }
  return value;
}

/** All matchers must hold; a label the group lacks counts as the empty string. */
export function matchesAll(labels: Readonly<Record<string, string>>, matchers: readonly Matcher[]): boolean {
  return matchers.every((m) => {
    const actual = labels[m.name] ?? "";
    switch (m.op) {
      case "=":
        return actual === m.value;
      case "!=":
        return actual !== m.value;
      case "=~":
        return m.regex.test(actual);
      case "!~":
        return !m.regex.test(actual);
    }
  });
}

// --- staleness -------------------------------------------------------------------------

/**
 * The time a group last did something useful: its last successful push, or, for a group
 * whose pushes all failed, its last failure.
 */
export function lastActivity(group: Group): number | null {
  return group.lastPushTime ?? group.lastFailureTime;
}

/** Groups whose last successful push (or, lacking one, last failure) is older than `olderThanMs`. */
export function selectStaleGroups(groups: readonly Group[], nowMs: number, olderThanMs: number): Group[] {
  const cutoff = (nowMs - olderThanMs) / 1000;
  return groups.filter((g) => {
    const last = lastActivity(g);
    return last === null || last < cutoff;
  });
}

/**
 * True when a wrapped job with --expect-every has not succeeded within interval + grace. A job
 * that never succeeded is measured from its start (the last one the group holds: the first is
 * not kept), so a first run that fails is a failure, not yet overdue.
 */
export function isOverdue(group: Group, nowMs: number): boolean {
  if (group.expectedWithinSeconds === null) return false;
  const since = group.lastJobSuccessTime ?? group.lastJobStartTime ?? lastActivity(group);
  return since === null || nowMs / 1000 - since > group.expectedWithinSeconds;
}

/** What the last run of a wrapped job came to, as `pushgw list` tells it. */
export type RunState = "running" | "stuck" | "succeeded" | "failed" | "timed-out" | "killed" | "not-executable" | "not-found" | "unknown";

export interface LastRun {
  readonly state: RunState;
  readonly exitCode: number | null;
  /** SIGKILL and the like, for state "killed". */
  readonly signal: string | null;
  readonly lastStartTime: number | null;
  readonly lastCompletionTime: number | null;
  readonly lastSuccessTime: number | null;
  readonly lastSkippedTime: number | null;
  readonly cpuUserSeconds: number | null;
  readonly cpuSystemSeconds: number | null;
  readonly maxRssBytes: number | null;
  readonly overdue: boolean;
}

/** Linux's signal numbers (x86 and arm), for an exit status of 128+N. */
const SIGNALS = [
  "", "SIGHUP", "SIGINT", "SIGQUIT", "SIGILL", "SIGTRAP", "SIGABRT", "SIGBUS", "SIGFPE", "SIGKILL", "SIGUSR1", "SIGSEGV", "SIGUSR2", "SIGPIPE", "SIGALRM", "SIGTERM",
  "SIGSTKFLT", "SIGCHLD", "SIGCONT", "SIGSTOP", "SIGTSTP", "SIGTTIN", "SIGTTOU", "SIGURG", "SIGXCPU", "SIGXFSZ", "SIGVTALRM", "SIGPROF", "SIGWINCH", "SIGIO", "SIGPWR", "SIGSYS",
];

/** The last run of a group wrap pushed (null for a group wrap did not push). */
export function lastRunOf(group: Group, nowMs: number): LastRun | null {
  if (group.lastExitCode === null && group.lastJobStartTime === null) return null;
  const code = group.lastExitCode;
  const signal = code !== null && code > 128 && code - 128 < SIGNALS.length ? SIGNALS[code - 128]! : null;
  const state: RunState = isStuck(group, nowMs)
    ? "stuck"
    : group.running
      ? "running"
      : code === null || !Number.isInteger(code) || code < 0 || code > 255
        ? "unknown"
        : code === 0
          ? "succeeded"
          : code === 124 && group.maxRuntimeSeconds !== null
            ? "timed-out"
            : code === 126
              ? "not-executable"
              : code === 127
                ? "not-found"
                : signal !== null
                  ? "killed"
                  : "failed";
  return {
    state,
    exitCode: code,
    signal: state === "killed" ? signal : null,
    lastStartTime: group.lastJobStartTime,
    lastCompletionTime: group.lastCompletionTime,
    lastSuccessTime: group.lastJobSuccessTime,
    lastSkippedTime: group.lastSkippedTime,
    cpuUserSeconds: group.lastCpuUserSeconds,
    cpuSystemSeconds: group.lastCpuSystemSeconds,
    maxRssBytes: group.lastMaxRssBytes,
    overdue: isOverdue(group, nowMs),
  };
}

/** `failed with exit status 3 5m ago`, `running for 2h`, `killed by SIGKILL 1d ago`. */
export function describeLastRun(run: LastRun, nowMs: number): string {
  const ended = formatAge(run.lastCompletionTime, nowMs);
  const story = {
    running: `running for ${formatAge(run.lastStartTime, nowMs).replace(/ ago$/, "")}`,
    stuck: `stuck running since ${formatAge(run.lastStartTime, nowMs)} (wrapper killed, or the job hangs)`,
    succeeded: `succeeded ${ended}`,
    failed: `failed with exit status ${run.exitCode} ${ended}`,
    "timed-out": `stopped by --max-runtime (exit status 124) ${ended}`,
    // 126 and 127 are the shell's words for a command it could not run: the job's or one inside it.
    "not-executable": `failed with exit status 126 (not executable) ${ended}`,
    "not-found": `failed with exit status 127 (command not found) ${ended}`,
    killed: `killed by ${run.signal} (exit status ${run.exitCode}) ${ended}`,
    unknown: `ended ${ended}, its exit status not known`,
  }[run.state];
  const notes = [story];
  const failed = run.state === "failed" || run.state === "timed-out" || run.state === "killed" || run.state === "not-executable" || run.state === "not-found";
  if (failed && run.lastSuccessTime === null) notes.push("never succeeded");
  if (run.lastSkippedTime !== null && run.lastSkippedTime > (run.lastStartTime ?? 0)) notes.push(`a later run skipped (lock held) ${formatAge(run.lastSkippedTime, nowMs)}`);
  if (run.overdue && run.state !== "stuck") notes.push("overdue (no success within --expect-every)");
  return notes.join("; ");
}

/**
 * A run that said it started and never said it ended, for longer than it may run: its wrapper
 * was killed (SIGKILL, a reboot) before it could push the outcome, or the job hangs.
 */
export function isStuck(group: Group, nowMs: number): boolean {
  if (!group.running || group.lastJobStartTime === null) return false;
  const running = nowMs / 1000 - group.lastJobStartTime;
  // The wrapper pushes the outcome at most a minute after --max-runtime plus --kill-grace.
  if (group.maxRuntimeSeconds !== null && running > group.maxRuntimeSeconds + 60) return true;
  return group.expectedWithinSeconds !== null && running > group.expectedWithinSeconds;
}

export function formatAge(unixSeconds: number | null, nowMs: number): string {
  if (unixSeconds === null) return "never";
  const ms = nowMs - unixSeconds * 1000;
  return ms < 1000 ? "just now" : `${formatDuration(ms)} ago`;
}
