import { bytesToBase64Url } from "./base64.js";
import { formatDuration } from "./duration.js";
import { buildGroupingPath, existingGroupPath, isPlainLabelName, pushgwCanName, type LabelNaming } from "./grouping-key.js";
import { formatAge, formatGroupLabels, groupFlags, groupingKeyOf, isOverdue, isStuck, labelSetId, selectStaleGroups, seriesLabelSetId, shellWord, sortGroups, type Group } from "./groups.js";
import { renderNotRunning, wrapMetricHelp, wrapMetricNames } from "./wrap-metrics.js";

/**
 * `pushgw doctor`: what is wrong with a gateway and its groups, each finding with the exact
 * command that repairs it. Everything here is decided from what the gateway answered; the use
 * case (app/doctor.ts) asks, and runs the repairs with --fix.
 */

/** A clock further off than this makes ages, prune --older-than and the alert rules lie. */
export const CLOCK_SKEW_LIMIT_MS = 10_000;

type Labels = Readonly<Record<string, string>>;

/** What /api/v1/status says that doctor uses. */
export interface GatewayStatus {
  readonly version: string | undefined;
  /** --persistence.file: empty when persistence is off. */
  readonly persistenceFile: string | undefined;
  readonly consistencyCheckDisabled: boolean;
  /** --web.telemetry-path, where /metrics is served. */
  readonly telemetryPath: string;
  /** --push.enable-utf8-names (1.11+): label names in a path are read in the `U__` escaping. */
  readonly utf8Names?: boolean;
}

export type Probe = { readonly ok: true } | { readonly ok: false; readonly why: string };

/** What the gateway answered to doctor's questions. */
export interface GatewayFacts {
  readonly url: string;
  /** Why nothing could be asked: the gateway could not be reached. */
  readonly unreachable?: string | undefined;
  readonly healthy: Probe;
  readonly ready: Probe;
  readonly status: GatewayStatus | undefined;
  /** GET of the telemetry path; on failure, why and the start of the gateway's answer. */
  readonly metricsEndpoint: Probe & { readonly answer?: string };
  /** The gateway's clock minus this host's, when it could be measured. */
  readonly clockSkewMs: number | undefined;
  /** Why the groups could not be read, when they could not. */
  readonly groupsProblem?: string | undefined;
}

/** One change --fix makes, and the command a person would type for it. */
export interface Repair {
  readonly labels: Labels;
  readonly method: "DELETE" | "POST";
  /** Below the gateway's base URL. */
  readonly path: string;
  readonly body?: string;
  readonly command: string;
}

export type FindingKind =
  | "unreachable"
  | "unhealthy"
  | "not-ready"
  | "metrics-endpoint-fails"
  | "groups-unreadable"
  | "empty-value-twins"
  | "label-not-utf8"
  | "type-clash"
  | "clock-skew"
  | "stuck"
  | "push-failed"
  | "stale"
  | "overdue"
  | "help-clash"
  | "persistence-off"
  | "consistency-check-off";

export interface Finding {
  readonly kind: FindingKind;
  /** A problem makes doctor exit 1; a note is said and changes nothing. */
  readonly severity: "problem" | "note";
  readonly summary: string;
  readonly details: readonly string[];
  /** The groups it is about. */
  readonly groups: readonly Labels[];
  /** What --fix does about it, in order. */
  readonly repairs: readonly Repair[];
  /** A command worth considering that --fix does not run (it would lose data that may still matter). */
  readonly advice?: string;
}

export interface Diagnosis {
  readonly facts: GatewayFacts;
  readonly groupCount: number | undefined;
  readonly findings: readonly Finding[];
}

export interface DiagnoseOptions {
  /** --older-than: groups with no successful push for longer are stale. */
  readonly olderThanMs: number | undefined;
}

const ORDER: readonly FindingKind[] = [
  "unreachable",
  "unhealthy",
  "not-ready",
  "metrics-endpoint-fails",
  "groups-unreadable",
  "empty-value-twins",
  "label-not-utf8",
  "type-clash",
  "clock-skew",
  "stuck",
  "push-failed",
  "stale",
  "overdue",
  "help-clash",
  "persistence-off",
  "consistency-check-off",
];

/** Every finding about the gateway and its groups, most serious first. */
export function diagnose(facts: GatewayFacts, groups: readonly Group[] | undefined, nowMs: number, options: DiagnoseOptions): Diagnosis {
  if (facts.unreachable !== undefined) {
    return { facts, groupCount: undefined, findings: [finding("unreachable", `cannot reach the gateway: ${facts.unreachable}`, { details: ["check --gateway, and that the gateway runs"] })] };
  }
  const findings: Finding[] = [];
  const url = facts.url;
  const naming: LabelNaming | undefined = facts.status === undefined ? undefined : facts.status.utf8Names === true ? "utf8" : "legacy";
  const deletions = (labelSets: readonly Labels[]): Repair[] => labelSets.flatMap((labels) => deleteRepair(labels, url, naming) ?? []);
  const deleteWords = (labels: Labels): string => deleteRepair(labels, url, naming)?.command ?? `(no URL names ${formatGroupLabels(labels)} exactly on this gateway)`;
  if (!facts.healthy.ok) findings.push(finding("unhealthy", `the gateway is not healthy: ${facts.healthy.why}`));
  if (!facts.ready.ok) findings.push(finding("not-ready", `the gateway is not ready: ${facts.ready.why}`));
  if (facts.groupsProblem !== undefined) findings.push(finding("groups-unreadable", `cannot read the groups: ${facts.groupsProblem}`));

  const sorted = sortGroups(groups ?? []);
  // Groups another finding already repairs are not reported again as failed or stale.
  const handled = new Set<string>();
  const hold = (labels: Labels) => handled.add(labelSetId(labels));
  const isHandled = (group: Group) => handled.has(labelSetId(group.labels));

  for (const cluster of emptyValueTwinClusters(sorted)) {
    const choice = chooseTwinToKeep(cluster);
    const names = cluster.map((g) => formatGroupLabels(g.labels));
    const summary = `${listWords(names)} expose the same series: to Prometheus an empty label value is no label, so the gateway's /metrics fails and it refuses every push`;
    if ("undecided" in choice) {
      findings.push(
        finding("empty-value-twins", summary, {
          details: [...cluster.map((g) => `${formatGroupLabels(g.labels)}: ${describeContent(g, nowMs)}`), `pushgw cannot tell which one broke the gateway (${choice.undecided}), so --fix deletes none; keep one and delete the others yourself`],
          groups: cluster.map((g) => g.labels),
          advice: cluster.map((g) => `to delete ${formatGroupLabels(g.labels)}: ${deleteWords(g.labels)}`).join("\n  "),
        }),
      );
    } else {
      findings.push(
        finding("empty-value-twins", summary, {
          details: [`keep ${formatGroupLabels(choice.keep.labels)}: ${describeContent(choice.keep, nowMs)}`, ...choice.drop.map((g) => `delete ${formatGroupLabels(g.labels)}: ${describeContent(g, nowMs)}`)],
          groups: cluster.map((g) => g.labels),
          repairs: deletions(choice.drop.map((g) => g.labels)),
        }),
      );
    }
    cluster.forEach((g) => hold(g.labels));
  }

  const badBytes = facts.metricsEndpoint.ok ? [] : nonUtf8Labels(facts.metricsEndpoint.answer ?? "");
  for (const group of sorted.filter((g) => Object.values(g.labels).some((v) => v.includes("\uFFFD")))) {
    const raw = rawPathFor(group, badBytes);
    findings.push(
      finding("label-not-utf8", `${formatGroupLabels(group.labels)} has a label value that is not UTF-8 (shown as \uFFFD): the gateway's /metrics fails and it refuses every push`, {
        details: raw
          ? ["no pushgw command can name such a value; the repair deletes it by its exact bytes"]
          : ["its exact bytes are not in the gateway's answer; delete it with curl -X DELETE <gateway>/metrics/job/<job>/<name>@base64/<base64url of the bytes> (the gateway's log names them)"],
        groups: [group.labels],
        repairs: raw ? [{ labels: group.labels, method: "DELETE", path: raw, command: `curl -X DELETE ${shellWord(url + raw)}` }] : [],
      }),
    );
    hold(group.labels);
  }

  for (const clash of typeClashes(sorted)) {
    const [first, ...newer] = clash.byType;
    const summary = `${clash.family} is held as ${listWords(clash.byType.map((t) => t.type))} in different groups: pushes of it are refused ("is not a ${first!.type}") and /metrics fails`;
    const details = clash.byType.map((t) => `${t.type} in ${t.groups.map((g) => formatGroupLabels(g.labels)).join(", ")}`);
    const drop = newer.flatMap((t) => t.groups);
    if (clash.firstKnown) {
      findings.push(
        finding("type-clash", summary, {
          details: [...details, `${first!.type} was there first: every group holding another type was pushed after every group holding it`],
          groups: clash.byType.flatMap((t) => t.groups.map((g) => g.labels)),
          repairs: deletions(drop.map((g) => g.labels)),
          advice: `or push ${clash.family} again as ${first!.type} into those groups`,
        }),
      );
    } else {
      findings.push(
        finding("type-clash", summary, {
          details: [...details, "pushgw cannot tell which type was there first (the groups' push times interleave), so --fix deletes none; decide which type is right and delete or re-push the others"],
          groups: clash.byType.flatMap((t) => t.groups.map((g) => g.labels)),
          advice: clash.byType.map((t) => `to keep ${t.type}, delete: ${clash.byType.filter((o) => o !== t).flatMap((o) => o.groups.map((g) => deleteWords(g.labels))).join("; ")}`).join("\n  "),
        }),
      );
    }
    drop.forEach((g) => hold(g.labels));
  }

  if (!facts.metricsEndpoint.ok) {
    const explained = findings.some((f) => f.kind === "empty-value-twins" || f.kind === "label-not-utf8" || f.kind === "type-clash");
    findings.push(
      finding("metrics-endpoint-fails", `GET ${facts.status?.telemetryPath ?? "/metrics"} fails: Prometheus cannot scrape the gateway (${facts.metricsEndpoint.why})`, {
        details: [explained ? "the cause is below" : "no group was found to blame; the gateway says:", ...answerLines(facts.metricsEndpoint.answer)],
      }),
    );
  }

  if (facts.clockSkewMs !== undefined && Math.abs(facts.clockSkewMs) > CLOCK_SKEW_LIMIT_MS) {
    findings.push(
      finding("clock-skew", `the gateway's clock is ${formatDuration(Math.abs(facts.clockSkewMs))} ${facts.clockSkewMs > 0 ? "ahead of" : "behind"} this host's: push ages, prune --older-than and the alert rules are off by as much`, {
        advice: "check time synchronisation on both hosts (timedatectl; chronyc tracking)",
      }),
    );
  }

  if (options.olderThanMs !== undefined) {
    for (const group of selectStaleGroups(sorted, nowMs, options.olderThanMs)) {
      if (isHandled(group)) continue;
      findings.push(
        finding("stale", `${formatGroupLabels(group.labels)} has had no successful push for longer than ${formatDuration(options.olderThanMs)} (last: ${formatAge(group.lastPushTime ?? group.lastFailureTime, nowMs)})`, {
          groups: [group.labels],
          repairs: deletions([group.labels]),
        }),
      );
      hold(group.labels);
    }
  }

  for (const group of sorted) {
    if (isHandled(group)) continue;
    if (isStuck(group, nowMs)) {
      const repair = markEndedRepair(group, url);
      findings.push(
        finding("stuck", `${formatGroupLabels(group.labels)} has said it is running since ${formatAge(group.lastJobStartTime, nowMs)}, longer than it may run, and never said it ended: its wrapper was killed (SIGKILL, a reboot), or the job hangs`, {
          details: ["the repair marks the run ended (job_running 0); the next run reports its own outcome"],
          groups: [group.labels],
          repairs: repair ? [repair] : [],
        }),
      );
      continue;
    }
    if (!group.lastPushSuccessful) {
      const empty = group.metrics.length === 0 && group.lastPushTime === null;
      findings.push(
        finding("push-failed", `the last push to ${formatGroupLabels(group.labels)} failed ${formatAge(group.lastFailureTime, nowMs)} (last successful push: ${formatAge(group.lastPushTime, nowMs)})`, {
          details: empty
            ? ["it holds nothing: no push to it ever succeeded"]
            : ["the gateway still serves what the last successful push sent; push again with -v to see the gateway's answer"],
          groups: [group.labels],
          repairs: empty ? deletions([group.labels]) : [],
        }),
      );
      if (empty) hold(group.labels);
    }
  }

  for (const group of sorted) {
    // A job that has run and never succeeded is worth saying at once, whatever list's softer
    // "overdue" (measured from its last start, so that a first failed run is not overdue) says.
    const neverSucceeded = group.expectedWithinSeconds !== null && group.lastJobSuccessTime === null && group.lastExitCode !== null && group.lastExitCode !== 0 && !group.running;
    if (isHandled(group) || isStuck(group, nowMs) || (!isOverdue(group, nowMs) && !neverSucceeded)) continue;
    const why = neverSucceeded ? `has never succeeded (its last run ended with exit status ${group.lastExitCode})` : `is overdue: its last success was ${formatAge(group.lastJobSuccessTime, nowMs)}`;
    findings.push(
      finding("overdue", `${formatGroupLabels(group.labels)} ${why}, and it expects one every ${formatDuration((group.expectedWithinSeconds ?? 0) * 1000)} (wrap --expect-every plus --grace)`, {
        groups: [group.labels],
        advice: `if the job was retired: pushgw delete ${groupFlags(group.labels, url)}`,
      }),
    );
  }

  for (const clash of helpClashes(sorted)) {
    findings.push(
      finding("help-clash", `${clash.family} has ${clash.helps.length} different HELP texts in different groups; the gateway serves one of them`, {
        severity: "note",
        details: clash.helps.map((h) => `${JSON.stringify(h.help)} in ${h.groups.map((g) => formatGroupLabels(g.labels)).join(", ")}`),
        groups: clash.helps.flatMap((h) => h.groups.map((g) => g.labels)),
      }),
    );
  }
  if (facts.status?.persistenceFile === "") {
    findings.push(finding("persistence-off", "persistence is off (--persistence.file is empty): every group is lost when the gateway restarts", { severity: "note" }));
  }
  if (facts.status?.consistencyCheckDisabled) {
    findings.push(finding("consistency-check-off", "--push.disable-consistency-check is on: a bad push is taken (202) and breaks /metrics for everyone", { severity: "note" }));
  }
  findings.sort((a, b) => ORDER.indexOf(a.kind) - ORDER.indexOf(b.kind));
  return { facts, groupCount: groups?.length, findings };
}

export function needsAttention(diagnosis: Diagnosis): boolean {
  return diagnosis.findings.some((f) => f.severity === "problem");
}

export function repairsOf(diagnosis: Diagnosis): Repair[] {
  return diagnosis.findings.flatMap((f) => f.repairs);
}

function finding(kind: FindingKind, summary: string, rest: Partial<Omit<Finding, "kind" | "summary">> = {}): Finding {
  return { kind, severity: rest.severity ?? "problem", summary, details: rest.details ?? [], groups: rest.groups ?? [], repairs: rest.repairs ?? [], ...(rest.advice ? { advice: rest.advice } : {}) };
}

/**
 * The DELETE of exactly this group, built from its exact labels (see existingGroupPath), or
 * undefined when no URL names it on this gateway. A pushgw command where pushgw's flags can name
 * the group, curl where only an escaped label name can.
 */
function deleteRepair(labels: Labels, url: string, naming: LabelNaming | undefined): Repair | undefined {
  const address = existingGroupPath(labels, naming);
  if (!("path" in address)) return undefined;
  const command = Object.keys(labels).every(pushgwCanName) ? `pushgw delete ${groupFlags(labels, url)}` : `curl -X DELETE ${shellWord(url + address.path)}`;
  return { labels, method: "DELETE", path: address.path, command };
}

/**
 * job_running 0, with the TYPE and HELP wrap gives it, POSTed so that nothing else in the group
 * changes; the same as the `pushgw add` it prints. Undefined when pushgw add cannot name the
 * group (an empty grouping value) or the group holds no wrap metrics.
 */
function markEndedRepair(group: Group, url: string): Repair | undefined {
  const running = Object.keys(group.families).find((name) => name.endsWith("_running") && group.families[name.replace(/_running$/, "_last_start_timestamp_seconds")] !== undefined);
  if (running === undefined || Object.values(group.labels).some((v) => v === "") || !Object.keys(group.labels).every(pushgwCanName)) return undefined;
  const names = wrapMetricNames(running.slice(0, -"_running".length));
  const key = groupingKeyOf(group);
  return {
    labels: group.labels,
    method: "POST",
    path: buildGroupingPath(key),
    body: renderNotRunning(names),
    command: `pushgw add ${groupFlags(group.labels, url)} --type gauge --help-text ${shellWord(wrapMetricHelp("running"))} ${names.running}=0`,
  };
}

/** Groups whose keys are the same once empty label values are dropped, two or more together. */
export function emptyValueTwinClusters(groups: readonly Group[]): Group[][] {
  const byKey = new Map<string, Group[]>();
  for (const group of groups) {
    const key = seriesLabelSetId(group.labels);
    const cluster = byKey.get(key);
    if (cluster === undefined) byKey.set(key, [group]);
    else cluster.push(group);
  }
  return [...byKey.values()].filter((cluster) => cluster.length > 1);
}

/**
 * The twin to keep: the one group that ever had a successful push. The others never did: the
 * debris refused pushes leave, which is what broke the gateway. When more than one had
 * successful pushes (a gateway without its consistency check takes both), or none did, nothing
 * tells which came first: undecided, and the repair is a person's.
 */
export function chooseTwinToKeep(cluster: readonly Group[]): { keep: Group; drop: Group[] } | { undecided: string } {
  const pushed = cluster.filter((g) => g.lastPushTime !== null);
  if (pushed.length === 1) return { keep: pushed[0]!, drop: cluster.filter((g) => g !== pushed[0]) };
  return { undecided: pushed.length === 0 ? "none of them ever had a successful push" : "more than one of them had successful pushes" };
}

function describeContent(group: Group, nowMs: number): string {
  if (group.metrics.length === 0) return group.lastPushTime === null ? "it holds nothing but a failed push" : `it holds no metrics (last push ${formatAge(group.lastPushTime, nowMs)})`;
  return `${group.metrics.length} metric famil${group.metrics.length === 1 ? "y" : "ies"}, last successful push ${formatAge(group.lastPushTime, nowMs)}`;
}

interface TypeClash {
  readonly family: string;
  /** Each type with the groups holding it, the one held first (by the groups' push times) first. */
  readonly byType: ReadonlyArray<{ readonly type: string; readonly groups: readonly Group[] }>;
  /**
   * True when the first type was surely there first: every group holding another type was last
   * pushed after every group holding it. Otherwise the times interleave and nothing tells.
   */
  readonly firstKnown: boolean;
}

/**
 * Families held with different types by different groups (possible only with
 * --push.disable-consistency-check, or from an old gateway's persistence file). The type that
 * came later broke the gateway, however many groups hold it: never a vote.
 */
export function typeClashes(groups: readonly Group[]): TypeClash[] {
  const clashes: TypeClash[] = [];
  for (const [family, holders] of familyHolders(groups)) {
    const byType = new Map<string, { type: string; groups: Group[]; earliest: number; latest: number }>();
    for (const group of holders) {
      const type = group.families[family]!.type;
      const time = group.lastPushTime ?? NaN;
      const entry = byType.get(type);
      if (entry === undefined) byType.set(type, { type, groups: [group], earliest: time, latest: time });
      else {
        entry.groups.push(group);
        entry.earliest = Math.min(entry.earliest, time);
        entry.latest = Math.max(entry.latest, time);
      }
    }
    if (byType.size < 2) continue;
    // A group with no successful push has no time (NaN): it makes the order unknown.
    const ranked = [...byType.values()].sort((a, b) => (a.earliest < b.earliest ? -1 : a.earliest > b.earliest ? 1 : 0));
    const [first, ...others] = ranked;
    const firstKnown = !Number.isNaN(first!.latest) && others.every((o) => !Number.isNaN(o.earliest) && o.earliest > first!.latest);
    clashes.push({ family, byType: ranked.map(({ type, groups: gs }) => ({ type, groups: gs })), firstKnown });
  }
  return clashes;
}

/** Families whose HELP text differs between groups (the gateway takes that, and serves one). */
export function helpClashes(groups: readonly Group[]): Array<{ family: string; helps: Array<{ help: string; groups: Group[] }> }> {
  const clashes: Array<{ family: string; helps: Array<{ help: string; groups: Group[] }> }> = [];
  for (const [family, holders] of familyHolders(groups)) {
    const byHelp = new Map<string, Group[]>();
    for (const group of holders) {
      const help = group.families[family]!.help;
      if (help === undefined) continue;
      const same = byHelp.get(help);
      if (same === undefined) byHelp.set(help, [group]);
      else same.push(group);
    }
    if (byHelp.size > 1) clashes.push({ family, helps: [...byHelp.entries()].map(([help, gs]) => ({ help, groups: gs })) });
  }
  return clashes;
}

function familyHolders(groups: readonly Group[]): Map<string, Group[]> {
  const holders = new Map<string, Group[]>();
  for (const group of groups) {
    for (const family of Object.keys(group.families)) {
      const held = holders.get(family);
      if (held === undefined) holders.set(family, [group]);
      else held.push(group);
    }
  }
  return new Map([...holders].filter(([, gs]) => gs.length > 1).sort(([a], [b]) => (a < b ? -1 : 1)));
}

/**
 * The label values that are not UTF-8, as the gateway's /metrics error names them
 * (client_golang: `has a label named "a" whose value is not utf8: "\xfb\xff"`, Go-quoted).
 */
export function nonUtf8Labels(answer: string): Array<{ name: string; bytes: Uint8Array }> {
  const found: Array<{ name: string; bytes: Uint8Array }> = [];
  const seen = new Set<string>();
  for (const match of answer.matchAll(/has a label named "((?:[^"\\]|\\.)*)" whose value is not utf8: "((?:[^"\\]|\\.)*)"/g)) {
    const name = decodeGoString(match[1]!);
    const bytes = decodeGoString(match[2]!);
    if (name === undefined || bytes === undefined) continue;
    const id = `${new TextDecoder().decode(name)}\u0000${[...bytes].join(",")}`;
    if (seen.has(id)) continue;
    seen.add(id);
    found.push({ name: new TextDecoder().decode(name), bytes });
  }
  return found;
}

/** The path that DELETEs `group` by the exact bytes of its one non-UTF-8 label value, if they are known. */
function rawPathFor(group: Group, known: ReadonlyArray<{ name: string; bytes: Uint8Array }>): string | undefined {
  const bad = Object.entries(group.labels).filter(([, value]) => value.includes("\uFFFD"));
  if (bad.length !== 1 || bad[0]![0] === "job" || !Object.keys(group.labels).every(isPlainLabelName)) return undefined;
  const [name, shown] = bad[0]!;
  const match = known.filter((k) => k.name === name && asGoShowsIt(k.bytes) === shown);
  if (match.length !== 1) return undefined;
  const { job, ...rest } = group.labels;
  const others = Object.entries(rest).filter(([n]) => n !== name);
  return `${buildGroupingPath({ job: job ?? "", labels: others })}/${name}@base64/${bytesToBase64Url(match[0]!.bytes)}`;
}

/** Bytes as Go's JSON encoder shows them: each byte that starts no valid UTF-8 sequence becomes U+FFFD. */
export function asGoShowsIt(bytes: Uint8Array): string {
  let out = "";
  for (let i = 0; i < bytes.length; ) {
    const length = validSequenceLength(bytes, i);
    if (length === 0) {
      out += "\uFFFD";
      i++;
    } else {
      out += new TextDecoder().decode(bytes.subarray(i, i + length));
      i += length;
    }
  }
  return out;
}

function validSequenceLength(bytes: Uint8Array, i: number): number {
  const b0 = bytes[i]!;
  if (b0 < 0x80) return 1;
  const cont = (at: number, low = 0x80, high = 0xbf) => at < bytes.length && bytes[at]! >= low && bytes[at]! <= high;
  if (b0 >= 0xc2 && b0 <= 0xdf) return cont(i + 1) ? 2 : 0;
  if (b0 >= 0xe0 && b0 <= 0xef) {
    const [low, high] = b0 === 0xe0 ? [0xa0, 0xbf] : b0 === 0xed ? [0x80, 0x9f] : [0x80, 0xbf];
    return cont(i + 1, low, high) && cont(i + 2) ? 3 : 0;
  }
  if (b0 >= 0xf0 && b0 <= 0xf4) {
    const [low, high] = b0 === 0xf0 ? [0x90, 0xbf] : b0 === 0xf4 ? [0x80, 0x8f] : [0x80, 0xbf];
    return cont(i + 1, low, high) && cont(i + 2) && cont(i + 3) ? 4 : 0;
  }
  return 0;
}

/** The bytes of a Go double-quoted string's body (strconv.Quote); undefined when it is not one. */
export function decodeGoString(body: string): Uint8Array | undefined {
  const out: number[] = [];
  const encoder = new TextEncoder();
  const simple: Record<string, number> = { a: 7, b: 8, f: 12, n: 10, r: 13, t: 9, v: 11, "\\": 92, '"': 34, "'": 39 };
  for (let i = 0; i < body.length; ) {
    const char = body[i]!;
    if (char !== "\\") {
      const codePoint = body.codePointAt(i)!;
      const text = String.fromCodePoint(codePoint);
      out.push(...encoder.encode(text));
      i += text.length;
      continue;
    }
    const kind = body[i + 1];
    if (kind === undefined) return undefined;
    if (simple[kind] !== undefined) {
      out.push(simple[kind]!);
      i += 2;
    } else if (kind === "x" && /^[0-9a-fA-F]{2}$/.test(body.slice(i + 2, i + 4))) {
      out.push(parseInt(body.slice(i + 2, i + 4), 16));
      i += 4;
    } else if (/^[0-7]{3}$/.test(body.slice(i + 1, i + 4))) {
      out.push(parseInt(body.slice(i + 1, i + 4), 8) & 0xff);
      i += 4;
    } else if ((kind === "u" || kind === "U") && /^[0-9a-fA-F]+$/.test(body.slice(i + 2, i + (kind === "u" ? 6 : 10)))) {
      const digits = kind === "u" ? 4 : 8;
      const codePoint = parseInt(body.slice(i + 2, i + 2 + digits), 16);
      if (codePoint > 0x10ffff) return undefined;
      out.push(...encoder.encode(String.fromCodePoint(codePoint)));
      i += 2 + digits;
    } else return undefined;
  }
  return Uint8Array.from(out);
}

/** /api/v1/status (gateway 1.2+), or undefined when the answer is not it. */
export function parseGatewayStatus(body: string): GatewayStatus | undefined {
  let json: unknown;
  try {
    json = JSON.parse(body);
  } catch {
    return undefined;
  }
  const data = (json as { data?: { build_information?: { version?: unknown }; flags?: Record<string, unknown> } } | null)?.data;
  if (typeof data !== "object" || data === null || typeof data.flags !== "object" || data.flags === null) return undefined;
  const flag = (name: string): string | undefined => (typeof data.flags![name] === "string" ? (data.flags![name] as string) : undefined);
  const version = data.build_information?.version;
  const telemetryPath = flag("web.telemetry-path");
  return {
    version: typeof version === "string" && version !== "" ? version : undefined,
    persistenceFile: flag("persistence.file"),
    consistencyCheckDisabled: flag("push.disable-consistency-check") === "true",
    telemetryPath: telemetryPath !== undefined && telemetryPath.startsWith("/") ? telemetryPath : "/metrics",
    utf8Names: flag("push.enable-utf8-names") === "true",
  };
}

/**
 * The gateway's clock minus this host's, from the Date header (whole seconds, cut down) of an
 * answer asked for at `sentAtMs` and received at `receivedAtMs`; undefined when the header is
 * missing or the exchange took too long to tell (the first one, which loads the HTTP client
 * and connects, may on a busy machine: the next answers on the same connection then tell).
 */
export function clockSkewMs(dateHeader: string | undefined, sentAtMs: number, receivedAtMs: number): number | undefined {
  if (dateHeader === undefined || receivedAtMs - sentAtMs > 2000) return undefined;
  const gateway = Date.parse(dateHeader);
  if (Number.isNaN(gateway)) return undefined;
  // The header drops the milliseconds: the gateway's time lay within the second after it.
  return Math.round(gateway + 500 - (sentAtMs + receivedAtMs) / 2);
}

function answerLines(answer: string | undefined): string[] {
  if (answer === undefined) return [];
  return answer
    .split("\n")
    .map((line) => line.trim())
    .filter((line) => line !== "")
    .slice(0, 6)
    .map((line) => (line.length > 300 ? `${line.slice(0, 297)}...` : line));
}

function listWords(words: readonly string[]): string {
  return words.length <= 1 ? words.join("") : `${words.slice(0, -1).join(", ")} and ${words[words.length - 1]}`;
}

// --- rendering ---------------------------------------------------------------------------

export type ReportTone = "plain" | "dim" | "stale" | "failed";

/** The report on a terminal: one line per fact, each with its tone. */
export function renderReport(diagnosis: Diagnosis, options: { fixing: boolean }): Array<{ text: string; tone: ReportTone }> {
  const lines: Array<{ text: string; tone: ReportTone }> = [];
  const add = (text: string, tone: ReportTone = "plain") => lines.push({ text, tone });
  add(`gateway ${diagnosis.facts.url}: ${describeGateway(diagnosis.facts)}`, diagnosis.facts.unreachable === undefined ? "plain" : "failed");
  if (diagnosis.groupCount !== undefined) add(`${diagnosis.groupCount} group${diagnosis.groupCount === 1 ? "" : "s"}`);
  for (const f of diagnosis.findings) {
    add("");
    add(`${f.severity === "problem" ? "problem" : "note"}: ${f.summary}`, f.severity === "problem" ? "failed" : "stale");
    for (const detail of f.details) add(`  ${detail}`, "dim");
    for (const repair of f.repairs) add(`  repair: ${repair.command}`);
    if (f.advice !== undefined) add(`  ${f.advice}`, "dim");
  }
  add("");
  const problems = diagnosis.findings.filter((f) => f.severity === "problem").length;
  const notes = diagnosis.findings.length - problems;
  const repairs = repairsOf(diagnosis).length;
  if (problems === 0) add(`no problems${notes > 0 ? ` (${notes} note${notes === 1 ? "" : "s"})` : ""}`);
  else {
    const fixable = diagnosis.findings.filter((f) => f.severity === "problem" && f.repairs.length > 0).length;
    const tail = repairs === 0 ? "" : options.fixing ? "" : `; pushgw doctor --fix repairs ${fixable === problems ? (problems === 1 ? "it" : "all of them") : `${fixable} of them`}`;
    add(`${problems} problem${problems === 1 ? "" : "s"}${notes > 0 ? `, ${notes} note${notes === 1 ? "" : "s"}` : ""}${tail}`, "failed");
  }
  return lines;
}

function describeGateway(facts: GatewayFacts): string {
  if (facts.unreachable !== undefined) return "not reached";
  const parts = [facts.status?.version ? `Pushgateway ${facts.status.version}` : "Pushgateway (version unknown: no /api/v1/status, before 1.2)"];
  parts.push(facts.healthy.ok ? "healthy" : "NOT healthy");
  parts.push(facts.ready.ok ? "ready" : "NOT ready");
  if (facts.status?.persistenceFile !== undefined) parts.push(facts.status.persistenceFile === "" ? "persistence off" : `persistence ${facts.status.persistenceFile}`);
  if (facts.clockSkewMs !== undefined) {
    const off = Math.abs(facts.clockSkewMs);
    parts.push(off < 1000 ? "clock in step with this host's" : `clock ${formatDuration(off)} ${facts.clockSkewMs > 0 ? "ahead of" : "behind"} this host's`);
  }
  return parts.join(", ");
}

/** The `--json` shape. */
export function diagnosisJson(diagnosis: Diagnosis): Record<string, unknown> {
  const { facts } = diagnosis;
  return {
    gateway: {
      url: facts.url,
      reachable: facts.unreachable === undefined,
      healthy: facts.unreachable === undefined && facts.healthy.ok,
      ready: facts.unreachable === undefined && facts.ready.ok,
      version: facts.status?.version ?? null,
      persistence: facts.status?.persistenceFile === undefined ? null : facts.status.persistenceFile !== "",
      metricsEndpointWorks: facts.unreachable === undefined && facts.metricsEndpoint.ok,
      clockSkewSeconds: facts.clockSkewMs === undefined ? null : Math.round(facts.clockSkewMs / 100) / 10,
    },
    groups: diagnosis.groupCount ?? null,
    healthy: !needsAttention(diagnosis),
    findings: diagnosis.findings.map((f) => ({
      kind: f.kind,
      severity: f.severity,
      summary: f.summary,
      details: f.details,
      groups: f.groups.map((labels) => ({ ...labels })),
      repairs: f.repairs.map((r) => ({ command: r.command, method: r.method, path: r.path })),
      ...(f.advice === undefined ? {} : { advice: f.advice }),
    })),
  };
}
