import { buildGroupingKey, buildGroupingPath, type GroupingKeyInput } from "../core/grouping-key.js";
import { openGateway, writeFailure, type TransportOptions } from "./gateway.js";
import type { Deps } from "./ports.js";
import { createSpoolWriter } from "./spool-queue.js";

export interface DeleteOptions {
  readonly grouping: GroupingKeyInput;
  readonly transport: TransportOptions;
  readonly dryRun: boolean;
}

/**
 * `delete`: removes exactly one group. The gateway matches the whole grouping key, so
 * `{job="x"}` is not `{job="x", instance="h"}`; deleting a missing group is not an error.
 */
export async function deleteGroup(options: DeleteOptions, deps: Deps): Promise<number> {
  const key = buildGroupingKey(options.grouping);
  const gateway = await openGateway(options.transport, deps, { command: "delete", spoolWriter: createSpoolWriter() });
  const call = { method: "DELETE" as const, path: buildGroupingPath(key), key };
  if (options.dryRun) {
    gateway.dryRun(call);
    return 0;
  }
  const failure = writeFailure(call, await gateway.write(call), gateway.spoolDir);
  if (failure) throw failure;
  return 0;
}
