import { buildGroupingPath, formatGroupingKey, type GroupingKey } from "../core/grouping-key.js";
import { deleteCommandFor, formatGroupLabels, groupHasKey, sortGroups } from "../core/groups.js";
import { openGateway } from "./gateway.js";
import { refuseGroupingNamesNotTaken } from "./input-rules.js";
import { writeFailure } from "./outcomes.js";
import type { Deps, TransportOptions } from "./ports.js";
import { keptGroups, targetSpec } from "./targets/registry.js";
import { createSpoolWriter } from "./spool-queue.js";

export interface DeleteOptions {
  readonly grouping: GroupingKey;
  readonly transport: TransportOptions;
  readonly dryRun: boolean;
}

/**
 * `delete`: removes exactly one group. The gateway matches the whole grouping key, so
 * `{job="x"}` is not `{job="x", instance="h"}`, and it answers 202 whether or not the group
 * existed. So pushgw looks first: deleting a group that is not there is not an error (exit 0,
 * scripts rely on it), but it says so, with the groups that job does have and the command
 * that deletes each.
 */
export async function deleteGroup(options: DeleteOptions, deps: Deps): Promise<number> {
  const key = options.grouping;
  const gateway = await openGateway(options.transport, deps, { command: "delete", spoolWriter: createSpoolWriter() });
  // A UTF-8 label name goes escaped (U__), which a gateway without UTF-8 names reads as another name: asked first.
  await refuseGroupingNamesNotTaken(key, (needs) => targetSpec(gateway.target).inputRules(gateway.baseUrls, needs, deps, options.dryRun ? {} : { gateway: async () => gateway }));
  const call = { method: "DELETE" as const, path: buildGroupingPath(key), key };
  if (options.dryRun) {
    gateway.dryRun(call);
    return 0;
  }
  // One gateway: look first. (With several, each would need its own look; the DELETE is sent regardless.)
  const before = gateway.baseUrls.length === 1 ? await gateway.readGroups() : undefined;
  const outcomes = await gateway.write(call);
  const failure = writeFailure(call, outcomes, gateway.spoolDir);
  if (failure) throw failure;
  if (before?.kind === "read" && outcomes[0]?.kind === "delivered" && !before.groups.some((g) => groupHasKey(g, key))) {
    const siblings = sortGroups(before.groups.filter((g) => g.labels["job"] === key.job));
    const lines = [`no group ${formatGroupingKey(key)} on ${gateway.baseUrls[0]}: nothing was deleted`];
    if (siblings.length === 0) lines.push(`${keptGroups(gateway.target, "delete").holder} holds no group of job ${JSON.stringify(key.job)}`);
    else {
      lines.push(`the groups of job ${JSON.stringify(key.job)} there, and the command that deletes each:`);
      const width = siblings.reduce((most, g) => Math.max(most, formatGroupLabels(g.labels).length), 0);
      for (const g of siblings) lines.push(`  ${formatGroupLabels(g.labels).padEnd(width)}  ${deleteCommandFor(g)}`);
    }
    deps.out.info(lines.join("\n"));
  } else if (before?.kind === "failed") {
    deps.out.verbose(`could not read the groups before deleting (${before.error.message}); the DELETE was sent all the same`);
  }
  return 0;
}
