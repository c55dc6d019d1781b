import { parseGatewayStatus } from "../core/doctor.js";
import { GatewayError, UsageError } from "../core/errors.js";
import { singleLine } from "../core/printable.js";
import { existingGroupPath, isPlainLabelName, type LabelNaming } from "../core/grouping-key.js";
import { formatAge, formatGroupLabels, labelSetId, lastActivity, matchesAll, selectStaleGroups, sortGroups, type Group, type Matcher } from "../core/groups.js";
import { eachGateway } from "./each-gateway.js";
import { openGateway } from "./gateway.js";
import type { Deps, Gateway, TransportOptions } from "./ports.js";

export interface RemoveGroupsOptions {
  readonly command: "prune" | "delete --match";
  readonly transport: TransportOptions;
  readonly matchers: readonly Matcher[];
  /** prune: the age past which a group goes; undefined for delete --match. */
  readonly olderThanMs: number | undefined;
  readonly dryRun: boolean;
  readonly yes: boolean;
}

/** DELETEs in flight at once: fast, without flooding the gateway's write queue (1000 slots). */
export const DELETE_CONCURRENCY = 16;
/** prune re-reads the groups when its view is older than this, right before a DELETE. */
export const FRESHNESS_WINDOW_MS = 1000;
/** After DELETEs the gateway answered 202 (queued), how often and how long it is asked again until they show. */
export const READ_BACK_ATTEMPTS = 10;
export const READ_BACK_PAUSE_MS = 200;

/**
 * `prune` and `delete --match`: select groups, confirm, delete each by its exact key. With
 * several gateways, each in turn, with its own listing and question; one that fails is reported
 * and the others are still done.
 */
export async function removeGroups(options: RemoveGroupsOptions, deps: Deps): Promise<number> {
  const gateway = await openGateway(options.transport, deps, { command: options.command });
  if (!options.dryRun && !options.yes && !deps.input.stdinIsTerminal) {
    throw new UsageError(`${options.command}: refusing to delete without a terminal to confirm on`, {
      hint: "add --yes to delete without asking, or --dry-run to see what would go",
    });
  }
  // The header goes where the listing goes: stdout for --dry-run, stderr otherwise.
  const announce = options.dryRun ? (line: string) => deps.out.result(line, "dim") : (line: string) => deps.out.info(line);
  return eachGateway(gateway.baseUrls, deps, (baseUrl) => removeFrom(gateway, baseUrl, options, deps), announce);
}

async function removeFrom(gateway: Gateway, baseUrl: string, options: RemoveGroupsOptions, deps: Deps): Promise<number> {
  const select = (groups: readonly Group[]): Group[] => {
    const matching = groups.filter((g) => matchesAll(g.labels, options.matchers));
    return options.olderThanMs === undefined ? matching : selectStaleGroups(matching, deps.clock.now(), options.olderThanMs);
  };
  // A view's age counts from when it was asked for: a slow answer is already old.
  const listedAt = deps.clock.monotonic();
  const selected = sortGroups(select(await fetchGroups(gateway, baseUrl)));
  if (selected.length === 0) {
    deps.out.info(`${options.command}: no group matches; nothing to delete`);
    return 0;
  }
  // Each group is deleted by a path built from its exact labels, or not at all.
  const naming = await labelNamingFor(gateway, baseUrl, selected);
  const paths = new Map<Group, string>();
  const unaddressable: Array<{ group: Group; why: string }> = [];
  for (const group of selected) {
    const address = existingGroupPath(group.labels, naming);
    if ("path" in address) paths.set(group, address.path);
    else unaddressable.push({ group, why: address.problem });
  }
  for (const { group, why } of unaddressable) deps.out.warn(`cannot delete ${formatGroupLabels(group.labels)}: ${why}; pushgw deletes a group only by a URL that names it exactly`);
  const listed = selected.filter((g) => paths.has(g));
  const refuseUnaddressable = (): void => {
    if (unaddressable.length === 0) return;
    throw new GatewayError(`${unaddressable.length} selected group(s) left in place: no URL names them exactly on this gateway`, {
      hint: "a gateway started with --push.enable-utf8-names reads such label names escaped (U__); delete them with a client that knows how this gateway stores them",
    });
  };
  if (listed.length === 0) {
    refuseUnaddressable();
    return 0;
  }
  const now = deps.clock.now();
  // Shown on stdout for --dry-run, before the question on a terminal, and with -v otherwise.
  const show = options.dryRun ? deps.out.result : options.yes ? deps.out.verbose : deps.out.info;
  for (const group of listed) {
    show(singleLine(`${options.dryRun ? "would delete" : "delete"} ${formatGroupLabels(group.labels)}  last push ${formatAge(group.lastPushTime, now)}`));
  }
  if (options.dryRun) {
    deps.out.info(`${options.command}: ${listed.length} group(s) would be deleted (dry run: nothing was)`);
    refuseUnaddressable();
    return 0;
  }
  if (!options.yes && !(await deps.input.confirm(`Delete ${listed.length} group(s) from ${baseUrl}?`))) {
    deps.out.info("nothing deleted");
    return 0;
  }

  // prune must not lose a push that arrives after the listing: right before each DELETE it
  // looks at a view of the gateway at most FRESHNESS_WINDOW_MS old, and skips a group that
  // was pushed again. (The gateway has no conditional DELETE, so a push landing inside that
  // window can still be lost; the window is what is left of the race.)
  let view = { at: listedAt, groups: indexByKey(listed) };
  let refreshing: Promise<void> | undefined;
  const freshView = async (): Promise<Map<string, Group>> => {
    if (deps.clock.monotonic() - view.at > FRESHNESS_WINDOW_MS) {
      const askedAt = deps.clock.monotonic();
      refreshing ??= fetchGroups(gateway, baseUrl).then((groups) => {
        view = { at: askedAt, groups: indexByKey(groups) };
        refreshing = undefined;
      });
      await refreshing;
    }
    return view.groups;
  };

  const deleted: Group[] = [];
  const skipped: Array<{ group: Group; why: string }> = [];
  const failed: GatewayError[] = [];
  let done = 0;
  const queue = [...listed];
  const worker = async (): Promise<void> => {
    for (let group = queue.shift(); group !== undefined; group = queue.shift()) {
      if (options.olderThanMs !== undefined) {
        const current = (await freshView()).get(labelSetId(group.labels));
        if (current === undefined) {
          skipped.push({ group, why: "already gone" });
          continue;
        }
        if (lastActivity(current) !== lastActivity(group)) {
          skipped.push({ group, why: "pushed again since it was listed" });
          continue;
        }
      }
      const result = await gateway.sendTo(baseUrl, { method: "DELETE", path: paths.get(group)! });
      if (result.kind === "delivered") deleted.push(group);
      else if (result.kind === "failed") failed.push(result.error);
      done++;
      if (listed.length > 20) deps.out.progress(`${options.command}: ${done}/${listed.length} deleted`);
    }
  };
  await Promise.all(Array.from({ length: Math.min(DELETE_CONCURRENCY, listed.length) }, worker));
  deps.out.progressDone();

  // A DELETE answered 202 is only queued: read back until the groups are gone.
  const unconfirmed = await confirmGone(deleted, gateway, baseUrl, deps);
  for (const { group, why } of skipped) deps.out.info(`skipped ${formatGroupLabels(group.labels)}: ${why}`);
  const parts = [`deleted ${deleted.length - unconfirmed.length} group(s)`];
  if (skipped.length > 0) parts.push(`skipped ${skipped.length}`);
  if (unaddressable.length > 0) parts.push(`${unaddressable.length} left in place (no exact URL)`);
  if (failed.length > 0) parts.push(`${failed.length} failed`);
  if (unconfirmed.length > 0) parts.push(`${unconfirmed.length} still listed after the DELETE`);
  deps.out.info(`${options.command}: ${parts.join(", ")}`);
  if (failed.length > 0) {
    throw new GatewayError(`${failed.length} DELETE(s) failed; the first: ${failed[0]!.message}`, { hint: failed[0]!.hint });
  }
  if (unconfirmed.length > 0) {
    throw new GatewayError(`the gateway accepted the DELETE of ${unconfirmed.map((g) => formatGroupLabels(g.labels)).join(", ")} but still lists it`, {
      hint: "its write queue may be full; run the command again later",
    });
  }
  refuseUnaddressable();
  return 0;
}

/**
 * How the gateway reads label names in a path: asked (its /api/v1/status) only when a group's
 * names depend on it, so that legacy names cost nothing. Undefined when it cannot be told.
 */
export async function labelNamingFor(gateway: Gateway, baseUrl: string, groups: readonly Group[]): Promise<LabelNaming | undefined> {
  if (groups.every((g) => Object.keys(g.labels).every(isPlainLabelName))) return "legacy";
  const answer = await gateway.sendTo(baseUrl, { method: "GET", path: "/api/v1/status" });
  const status = answer.kind === "delivered" ? parseGatewayStatus(answer.body) : undefined;
  return status === undefined ? undefined : status.utf8Names === true ? "utf8" : "legacy";
}

async function confirmGone(deleted: readonly Group[], gateway: Gateway, baseUrl: string, deps: Deps): Promise<Group[]> {
  let pending = [...deleted];
  for (let attempt = 0; attempt < READ_BACK_ATTEMPTS && pending.length > 0; attempt++) {
    if (attempt > 0) await deps.clock.sleep(READ_BACK_PAUSE_MS);
    const now = indexByKey(await fetchGroups(gateway, baseUrl));
    // Still there with the same push time: not yet deleted. With a newer one: pushed again
    // after our DELETE, which is fresh data and fine.
    pending = pending.filter((g) => {
      const current = now.get(labelSetId(g.labels));
      return current !== undefined && lastActivity(current) === lastActivity(g);
    });
  }
  return pending;
}

/** The groups, or the gateway's refusal as the command's error. */
export async function fetchGroups(gateway: Gateway, baseUrl: string): Promise<Group[]> {
  const read = await gateway.readGroups(baseUrl);
  if (read.kind === "failed") throw read.error;
  return read.groups;
}

function indexByKey(groups: readonly Group[]): Map<string, Group> {
  return new Map(groups.map((g) => [labelSetId(g.labels), g]));
}
