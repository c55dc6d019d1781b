import { formatAge, formatGroupLabels, isOverdue, isStuck, matchesAll, selectStaleGroups, sortGroups, type Group, type Matcher } from "../core/groups.js";
import { openGateway, type TransportOptions } from "./gateway.js";
import { fetchGroups } from "./remove-groups.js";
import type { Deps, Tone } from "./ports.js";

export interface ListOptions {
  readonly transport: TransportOptions;
  readonly matchers: readonly Matcher[];
  /** Only groups whose last successful push is older than this (what prune would delete). */
  readonly olderThanMs: number | undefined;
  readonly json: boolean;
}

/** `list`: the gateway's groups, sorted, as a table or as JSON. */
export async function listGroups(options: ListOptions, deps: Deps): Promise<number> {
  const gateway = await openGateway(options.transport, deps, { command: "list" });
  const now = deps.clock.now();
  let groups = (await fetchGroups(gateway)).filter((g) => matchesAll(g.labels, options.matchers));
  if (options.olderThanMs !== undefined) groups = selectStaleGroups(groups, now, options.olderThanMs);
  groups = sortGroups(groups);
  if (options.json) {
    deps.out.result(JSON.stringify(groups.map(toJson), null, 2));
    return 0;
  }
  if (groups.length === 0) {
    deps.out.info(options.matchers.length > 0 || options.olderThanMs !== undefined ? "no group matches" : gateway.target === "textfile" ? `${gateway.baseUrls[0]} holds no group pushgw wrote` : "the gateway holds no groups");
    return 0;
  }
  const rows = groups.map((g) => toRow(g, now));
  const header = ["JOB", "GROUPING LABELS", "LAST PUSH", "STATUS", "METRICS"];
  // A loop, not Math.max(...rows): a spread of 200,000 rows overflows the call stack.
  const widths = header.map((h, i) => rows.reduce((width, r) => Math.max(width, r.cells[i]!.length), h.length));
  const line = (cells: readonly string[]) => cells.map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i]!))).join("  ");
  deps.out.result(line(header), "dim");
  for (const row of rows) deps.out.result(line(row.cells), row.tone);
  return 0;
}

/** The `--json` shape: one object per group, labels being the exact grouping key. */
export function toJson(group: Group): { labels: Record<string, string>; lastPushTime: number | null; lastPushSuccessful: boolean; metrics: string[] } {
  return { labels: { ...group.labels }, lastPushTime: group.lastPushTime, lastPushSuccessful: group.lastPushSuccessful, metrics: [...group.metrics] };
}

function toRow(group: Group, now: number): { cells: string[]; tone: Tone } {
  const { job, ...rest } = group.labels;
  const others = Object.keys(rest).length === 0 ? "-" : formatGroupLabels(rest);
  const overdue = isOverdue(group, now);
  const stuck = isStuck(group, now);
  const status = !group.lastPushSuccessful
    ? `last push failed ${formatAge(group.lastFailureTime, now)}`
    : stuck
      ? `stuck running since ${formatAge(group.lastJobStartTime, now)} (wrapper killed, or the job hangs)`
      : overdue
        ? "overdue (no success within --expect-every)"
        : "ok";
  return {
    cells: [job ?? "", others, formatAge(group.lastPushTime, now), status, String(group.metrics.length)],
    tone: !group.lastPushSuccessful || stuck ? "failed" : overdue ? "stale" : "plain",
  };
}
