import { GatewayError } from "../core/errors.js";
import { buildGroupingPath, type GroupingKey } from "../core/grouping-key.js";
import { withSecrets, type GatewayCall, type Target, type TransportOptions } from "./deliver.js";
import { deliverToAll, printDryRun } from "./deliver-to-gateways.js";
import type { Exposition } from "../core/exposition.js";
import { encodeWriteRequest, REMOTE_WRITE_HEADERS, snappyBlock, toTimeSeries, victoriaMetricsImportPath } from "../core/remote-write.js";
import { loadMetrics, requireSamples, type MetricsSource } from "./metrics-input.js";
import type { Deps } from "./ports.js";

export interface PushOptions {
  /** PUT replaces the whole group (`push`); POST replaces only the families sent (`add`). */
  readonly method: "PUT" | "POST";
  readonly grouping: GroupingKey;
  readonly metrics: MetricsSource;
  readonly transport: TransportOptions;
  readonly dryRun: boolean;
}

/** `push` and `add`: check everything, then send one request to every gateway. */
export async function pushMetrics(options: PushOptions, deps: Deps): Promise<number> {
  const key = options.grouping;
  const command = options.method === "PUT" ? "push" : "add";
  const target = options.transport.target ?? "pushgateway";
  const loaded = await loadMetrics(options.metrics, key, deps, target === "remote-write");
  requireSamples(loaded, command);
  const call = buildWriteCall(options.method, key, loaded.exposition, target, deps.clock.now());
  const transport = await withSecrets(options.transport, deps);
  if (options.dryRun) {
    printDryRun(call, transport, deps);
    return 0;
  }
  try {
    await deliverToAll(call, transport, deps);
  } catch (error) {
    throw explainClash(error, key);
  }
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
      return { method, path: buildGroupingPath(key), body: exposition.text };
    case "victoriametrics":
      return { method: "POST", path: victoriaMetricsImportPath(key), body: exposition.text };
    case "remote-write": {
      const series = toTimeSeries(exposition.samples, key);
      return { method: "POST", path: "", body: snappyBlock(encodeWriteRequest(series, nowMs)), headers: REMOTE_WRITE_HEADERS };
    }
  }
}

/**
 * The gateway cannot tell {job=X} from {job=X, instance=""}: both expose the same series, and
 * once both exist it refuses every later push, anywhere (research §1.3). When a push with an
 * empty grouping value runs into that, say which group to delete.
 */
function explainClash(error: unknown, key: GroupingKey): unknown {
  if (!(error instanceof GatewayError) || !error.message.includes("was collected before with the same name and label values")) return error;
  const empty = key.labels.filter(([, value]) => value === "").map(([name]) => name);
  if (empty.length === 0) {
    if (key.labels.some(([name]) => name === "instance")) return error;
    // Pushed without an instance: the twin is the group with instance="".
    const flags = [`--job ${shellWord(key.job)}`, "--instance ''", ...key.labels.map(([n, v]) => `--label ${shellWord(`${n}=${v}`)}`)];
    return new GatewayError(error.message, {
      hint: `a group with instance="" (to Prometheus, no instance) may expose the same series; until one of the two is deleted the gateway refuses pushes. Delete it with: pushgw delete ${flags.join(" ")}`,
    });
  }
  const others = key.labels.filter(([, value]) => value !== "");
  const flags = [`--job ${shellWord(key.job)}`, ...others.map(([n, v]) => (n === "instance" ? `--instance ${shellWord(v)}` : `--label ${shellWord(`${n}=${v}`)}`))];
  if (!others.some(([n]) => n === "instance")) flags.push("--no-instance");
  return new GatewayError(error.message, {
    hint:
      `the group without ${empty.join(", ")} (an empty value is, to Prometheus, no label) exposes the same series; ` +
      `until one of the two is deleted the gateway refuses pushes. Delete it with: pushgw delete ${flags.join(" ")}`,
  });
}

function shellWord(text: string): string {
  return /^[A-Za-z0-9_./=:@%+-]+$/.test(text) ? text : `'${text.replace(/'/g, "'\\''")}'`;
}
