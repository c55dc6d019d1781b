import { UsageError } from "../core/errors.js";
import { refuseEmptyGroupingValues, type GroupingKey } from "../core/grouping-key.js";
import { openGateway } from "./gateway.js";
import { writeFailure } from "./outcomes.js";
import { openRelayGateway, RELAYED_FORM } from "./relay.js";
import { createSpoolWriter } from "./spool-queue.js";
import { heartbeatInput, loadMetrics, requireSamples, type MetricsSource } from "./metrics-input.js";
import type { Deps, TransportOptions } from "./ports.js";
import { targetSpec, writeInputOptions } from "./targets/registry.js";

export interface PushOptions {
  /** PUT replaces the whole group (`push`); POST replaces only the families sent (`add`). */
  readonly method: "PUT" | "POST";
  readonly grouping: GroupingKey;
  readonly metrics: MetricsSource;
  readonly transport: TransportOptions;
  readonly dryRun: boolean;
  /** add --heartbeat: an empty body on purpose (nothing to push is otherwise a usage error). */
  readonly heartbeat?: boolean;
}

/** `push` and `add`: check everything, then send one request to every gateway. */
export async function pushMetrics(options: PushOptions, deps: Deps): Promise<number> {
  const key = options.grouping;
  refuseEmptyGroupingValues(key);
  const command = options.method === "PUT" ? "push" : "add";
  const target = targetSpec(options.transport.target);
  if (options.heartbeat && !target.groups.can) {
    throw new UsageError(`--heartbeat refreshes a group's push time, and --target ${target.name} keeps no groups: an empty write would change nothing`, {
      hint: "push a metric instead, for example a timestamp: pushgw add -j JOB last_seen_timestamp_seconds=$(date +%s)",
    });
  }
  const { transport } = options;
  // Inside a wrapped job the wrapper sends the call through its own target (relay.ts).
  const form = transport.relaySocket !== undefined ? RELAYED_FORM : target;
  const loaded = options.heartbeat ? heartbeatInput(options.metrics, key) : await loadMetrics(options.metrics, key, deps, (base) => writeInputOptions(form, base));
  requireSamples(loaded, command, options.metrics);
  const call = form.writeCall(options.method, key, loaded.exposition, deps.clock.now());
  const gateway =
    transport.relaySocket !== undefined
      ? openRelayGateway(transport.relaySocket, (transport.retry.retries + 1) * transport.timeoutMs + 60_000, deps)
      : await openGateway(transport, deps, { command, spoolWriter: createSpoolWriter() });
  if (options.dryRun) {
    gateway.dryRun(call);
    return 0;
  }
  const failure = writeFailure(call, await gateway.write(call), gateway.spoolDir);
  if (failure) throw failure;
  return 0;
}
