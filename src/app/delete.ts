import { buildGroupingPath, type GroupingKey } from "../core/grouping-key.js";
import { requirePushgateway, withSecrets, type TransportOptions } from "./deliver.js";
import { deliverToAll, printDryRun } from "./deliver-to-gateways.js";
import type { Deps } from "./ports.js";

export interface DeleteOptions {
  readonly grouping: GroupingKey;
  readonly transport: TransportOptions;
  readonly dryRun: boolean;
}

/**
 * `delete`: removes exactly one group. The gateway matches the whole grouping key, so
 * `{job="x"}` is not `{job="x", instance="h"}`; deleting a missing group is not an error.
 */
export async function deleteGroup(options: DeleteOptions, deps: Deps): Promise<number> {
  requirePushgateway(options.transport, "delete");
  const key = options.grouping;
  const call = { method: "DELETE" as const, path: buildGroupingPath(key) };
  const transport = await withSecrets(options.transport, deps);
  if (options.dryRun) {
    printDryRun(call, transport, deps);
    return 0;
  }
  await deliverToAll(call, transport, deps);
  return 0;
}
