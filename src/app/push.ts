import { buildGroupingKey, buildGroupingPath, type GroupingKeyInput } from "../core/grouping-key.js";
import { buildRequest, deliverToAll, renderRequest, withSecrets, type TransportOptions } from "./deliver.js";
import { loadMetrics, requireSamples, type MetricsSource } from "./metrics-input.js";
import type { Deps } from "./ports.js";

export interface PushOptions {
  /** PUT replaces the whole group (`push`); POST replaces only the families sent (`add`). */
  readonly method: "PUT" | "POST";
  readonly grouping: GroupingKeyInput;
  readonly metrics: MetricsSource;
  readonly transport: TransportOptions;
  readonly dryRun: boolean;
}

/** `push` and `add`: check everything, then send one request to every gateway. */
export async function pushMetrics(options: PushOptions, deps: Deps): Promise<number> {
  const key = buildGroupingKey(options.grouping);
  const command = options.method === "PUT" ? "push" : "add";
  const loaded = await loadMetrics(options.metrics, key, deps);
  requireSamples(loaded, command);
  const call = { method: options.method, path: buildGroupingPath(key), body: loaded.exposition.text };
  const transport = await withSecrets(options.transport, deps);
  if (options.dryRun) {
    printDryRun(call, transport, deps);
    return 0;
  }
  await deliverToAll(call, transport, deps);
  return 0;
}

export function printDryRun(call: Parameters<typeof buildRequest>[0], transport: TransportOptions, deps: Deps): void {
  for (const gateway of transport.gateways) {
    deps.out.result(renderRequest(buildRequest(call, gateway, transport, deps), Object.keys(transport.secretHeaders)));
  }
}
