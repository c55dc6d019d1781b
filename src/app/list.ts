import { describeLastRun, formatAge, formatGroupLabels, isOverdue, lastRunOf, matchesAll, selectStaleGroups, sortGroups, type Group, type LastRun, type Matcher } from "../core/groups.js";
import { singleLine } from "../core/printable.js";
import { eachGateway } from "./each-gateway.js";
import { openGateway } from "./gateway.js";
import { fetchGroups } from "./remove-groups.js";
import type { Deps, Gateway, Tone, TransportOptions } from "./ports.js";
import { keptGroups } from "./targets/registry.js";

export interface ListOptions {
  readonly transport: TransportOptions;
  readonly matchers: readonly Matcher[];
  /** Only groups whose last successful push is older than this (what prune would delete). */
  readonly olderThanMs: number | undefined;
  readonly json: boolean;
}

/**
 * `list`: the gateway's groups, sorted, as a table or as JSON. With several gateways, each in
 * turn: the table under a line naming each, and --json one array whose objects carry `gateway`.
 */
export async function listGroups(options: ListOptions, deps: Deps): Promise<number> {
  const gateway = await openGateway(options.transport, deps, { command: "list" });
  const several = gateway.baseUrls.length > 1;
  const json: object[] = [];
  const status = await eachGateway(
    gateway.baseUrls,
    deps,
    async (baseUrl) => {
      const now = deps.clock.now();
      let groups = (await fetchGroups(gateway, baseUrl)).filter((g) => matchesAll(g.labels, options.matchers));
      if (options.olderThanMs !== undefined) groups = selectStaleGroups(groups, now, options.olderThanMs);
      groups = sortGroups(groups);
      if (options.json) {
        for (const g of groups) json.push(several ? { gateway: baseUrl, ...toJson(g, now) } : toJson(g, now));
      } else printTable(groups, now, options, gateway, deps);
      return 0;
    },
    options.json ? undefined : (line) => deps.out.result(line, "dim"),
  );
  // One answer for all of them, printed whether or not some failed: what was read is still true.
  if (options.json) deps.out.result(JSON.stringify(json, null, 2));
  return status;
}

function printTable(groups: readonly Group[], now: number, options: ListOptions, gateway: Gateway, deps: Deps): void {
  if (groups.length === 0) {
    deps.out.info(options.matchers.length > 0 || options.olderThanMs !== undefined ? "no group matches" : keptGroups(gateway.target, "list").noGroups(gateway.baseUrls[0]!));
    return;
  }
  const rows = groups.map((g) => toRow(g, now));
  const header = ["JOB", "GROUPING LABELS", "LAST PUSH", "STATUS", "METRICS"];
  // reduce, not Math.max(...): a gateway may hold more groups than a call can take arguments.
  const widths = header.map((h, i) => rows.reduce((width, r) => Math.max(width, r.cells[i]!.length), h.length));
  const line = (cells: readonly string[]) => cells.map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i]!))).join("  ");
  deps.out.result(line(header), "dim");
  // A row is one line, whatever another client put in a name.
  for (const row of rows) deps.out.result(singleLine(line(row.cells)), row.tone);
}

/**
 * The `--json` shape: one object per group, labels being the exact grouping key; `lastRun` is
 * the wrapped job's own story (null for a group wrap did not push).
 */
export function toJson(
  group: Group,
  nowMs: number,
): { labels: Record<string, string>; lastPushTime: number | null; lastPushSuccessful: boolean; metrics: string[]; lastRun: LastRun | null } {
  return { labels: { ...group.labels }, lastPushTime: group.lastPushTime, lastPushSuccessful: group.lastPushSuccessful, metrics: [...group.metrics], lastRun: lastRunOf(group, nowMs) };
}

/**
 * STATUS tells the job's story for a wrapped group (its last outcome, running, overdue, a
 * skipped run) beside how the pushes went: a job that exits 3 every minute pushes fine, and
 * must not read `ok`.
 */
function toRow(group: Group, now: number): { cells: string[]; tone: Tone } {
  const { job, ...rest } = group.labels;
  const others = Object.keys(rest).length === 0 ? "-" : formatGroupLabels(rest);
  const run = lastRunOf(group, now);
  const pushFailed = group.lastPushSuccessful ? undefined : `last push failed ${formatAge(group.lastFailureTime, now)}`;
  const story = run === null ? (isOverdue(group, now) ? "overdue (no success within --expect-every)" : undefined) : describeLastRun(run, now);
  const status = [story, pushFailed].filter((part) => part !== undefined).join("; ") || "ok";
  const failed = pushFailed !== undefined || (run !== null && run.state !== "succeeded" && run.state !== "running");
  const overdue = run?.overdue ?? isOverdue(group, now);
  return {
    cells: [job ?? "", others, formatAge(group.lastPushTime, now), status, String(group.metrics.length)],
    tone: failed ? "failed" : overdue ? "stale" : "plain",
  };
}
