import type { Exposition } from "../core/exposition.js";
import { buildGroupingPath, type GroupingKey } from "../core/grouping-key.js";
import { encodeWriteRequest, REMOTE_WRITE_HEADERS, snappyBlock, toTimeSeries, victoriaMetricsImportPath } from "../core/remote-write.js";
import type { GatewayCall, Target } from "./gateway.js";

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
