import { buildGroupingKey, buildGroupingPath, refuseEmptyGroupingValues, type GroupingKey, type GroupingKeyInput } from "../core/grouping-key.js";
import { openGateway, writeFailure, type GatewayCall, type Target, type TransportOptions } from "./gateway.js";
import { createSpoolWriter } from "./spool-queue.js";
import type { Exposition } from "../core/exposition.js";
import { encodeWriteRequest, REMOTE_WRITE_HEADERS, snappyBlock, toTimeSeries, victoriaMetricsImportPath } from "../core/remote-write.js";
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
  refuseEmptyGroupingValues(key);
  const command = options.method === "PUT" ? "push" : "add";
  const target = options.transport.target ?? "pushgateway";
  const loaded = await loadMetrics(options.metrics, key, deps, target === "remote-write");
  requireSamples(loaded, command);
  const call = buildWriteCall(options.method, key, loaded.exposition, target, deps.clock.now());
  const gateway = await openGateway(options.transport, deps, { command, spoolWriter: createSpoolWriter() });
  if (options.dryRun) {
    gateway.dryRun(call);
    return 0;
  }
  const failure = writeFailure(call, await gateway.write(call), gateway.spoolDir);
  if (failure) throw failure;
  return 0;
}

/**
 * The request that writes these metrics to the target: the Pushgateway's group URL with PUT or
 * POST; VictoriaMetrics' import endpoint (which appends samples: PUT and POST alike); or a
 * remote-write request whose samples are stamped now.
 */
export function buildWriteCall(method: "PUT" | "POST", key: GroupingKey, exposition: Exposition, target: Target, nowMs: number): GatewayCall {
  switch (target) {
    case "pushgateway":
      return { method, path: buildGroupingPath(key), body: exposition.text, key };
    case "victoriametrics":
      return { method: "POST", path: victoriaMetricsImportPath(key), body: exposition.text };
    case "remote-write": {
      const series = toTimeSeries(exposition.samples, key);
      return { method: "POST", path: "", body: snappyBlock(encodeWriteRequest(series, nowMs)), headers: REMOTE_WRITE_HEADERS };
    }
  }
}
