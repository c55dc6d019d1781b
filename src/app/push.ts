import { UsageError } from "../core/errors.js";
import type { ReceiverFeature } from "../core/receiver-rules.js";
import { refuseEmptyGroupingValues, type GroupingKey } from "../core/grouping-key.js";
import { openGateway, writeFailure, type Gateway, type TransportOptions } from "./gateway.js";
import { inputRules, refuseGroupingNamesNotTaken } from "./input-rules.js";
import { writeRemoteChoosingVersion } from "./remote-write-version.js";
import { openRelayGateway } from "./relay.js";
import { createSpoolWriter } from "./spool-queue.js";
import { buildWriteCall } from "./write-call.js";
import { heartbeatInput, loadMetrics, requireSamples, type MetricsSource } from "./metrics-input.js";
import type { Deps } from "./ports.js";

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
  const target = options.transport.target ?? "pushgateway";
  if (options.heartbeat && target !== "pushgateway" && target !== "textfile") {
    throw new UsageError(`--heartbeat refreshes a group's push time, and --target ${target} keeps no groups: an empty write would change nothing`, {
      hint: "push a metric instead, for example a timestamp: pushgw add -j JOB last_seen_timestamp_seconds=$(date +%s)",
    });
  }
  const { transport } = options;
  // Opened once, when first needed: asking the gateway what it takes (only for input that needs it) comes before the push.
  let opened: Promise<Gateway> | undefined;
  const openOnce = () =>
    (opened ??=
      transport.relaySocket !== undefined
        ? Promise.resolve(openRelayGateway(transport.relaySocket, (transport.retry.retries + 1) * transport.timeoutMs + 60_000, deps))
        : openGateway(transport, deps, { command, spoolWriter: createSpoolWriter() }));
  // A dry run and a job's relay ask nothing: the first sends nothing, the second has no gateway of its own to ask.
  const asking = options.dryRun || transport.relaySocket !== undefined ? {} : { gateway: openOnce };
  const rulesFor = (needs: ReadonlySet<ReceiverFeature>) => inputRules(target, transport.gateways.map((g) => g.baseUrl), needs, deps, asking);
  await refuseGroupingNamesNotTaken(key, rulesFor);
  const loaded = options.heartbeat ? heartbeatInput(options.metrics, key) : await loadMetrics(options.metrics, key, deps, target === "remote-write", rulesFor);
  requireSamples(loaded, command, options.metrics);
  const call = buildWriteCall(options.method, key, loaded.exposition, target, deps.clock.now());
  const gateway = await openOnce();
  if (gateway.target === "remote-write" && transport.relaySocket === undefined) {
    const failure = writeFailure(call, await writeRemoteChoosingVersion(gateway, key, loaded.exposition, deps, options.dryRun), gateway.spoolDir);
    if (failure) throw failure;
    return 0;
  }
  if (options.dryRun) {
    gateway.dryRun(call);
    return 0;
  }
  const failure = writeFailure(call, await gateway.write(call), gateway.spoolDir);
  if (failure) throw failure;
  return 0;
}
