import { UsageError } from "../core/errors.js";
import type { ReceiverFeature } from "../core/receiver-rules.js";
import { refuseEmptyGroupingValues, type GroupingKey } from "../core/grouping-key.js";
import { openGateway } from "./gateway.js";
import { refuseGroupingNamesNotTaken } from "./input-rules.js";
import { writeFailure } from "./outcomes.js";
import { openRelayGateway, RELAYED_FORM } from "./relay.js";
import { createSpoolWriter } from "./spool-queue.js";
import { heartbeatInput, loadMetrics, requireSamples, type MetricsSource } from "./metrics-input.js";
import type { Deps, Gateway, TransportOptions } from "./ports.js";
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
  // Opened once, when first needed: asking the gateway what it takes (only for input that needs it) comes before the push.
  let opened: Promise<Gateway> | undefined;
  const openOnce = () =>
    (opened ??=
      transport.relaySocket !== undefined
        ? Promise.resolve(openRelayGateway(transport.relaySocket, (transport.retry.retries + 1) * transport.timeoutMs + 60_000, deps))
        : openGateway(transport, deps, { command, spoolWriter: createSpoolWriter() }));
  // Inside a wrapped job the wrapper sends the call through its own target (relay.ts).
  const form = transport.relaySocket !== undefined ? RELAYED_FORM : target;
  // A dry run and a job's relay ask nothing: the first sends nothing, the second has no gateway of its own to ask.
  const asking = options.dryRun || transport.relaySocket !== undefined ? {} : { gateway: openOnce };
  const rulesFor = (needs: ReadonlySet<ReceiverFeature>) => form.inputRules(transport.gateways.map((g) => g.baseUrl), needs, deps, asking);
  await refuseGroupingNamesNotTaken(key, rulesFor);
  const loaded = options.heartbeat ? heartbeatInput(options.metrics, key) : await loadMetrics(options.metrics, key, deps, (base) => writeInputOptions(form, base), rulesFor);
  requireSamples(loaded, command, options.metrics);
  const nowMs = deps.clock.now();
  const call = form.writeCall(options.method, key, loaded.exposition, nowMs);
  const gateway = await openOnce();
  // The target's write: remote write chooses between 2.0 and 1.0 there (targets/remote-write.ts).
  const outcomes = await form.write(gateway, call, { key, exposition: loaded.exposition, nowMs }, deps, options.dryRun);
  if (options.dryRun) return 0;
  const failure = writeFailure(call, outcomes, gateway.spoolDir);
  if (failure) throw failure;
  return 0;
}
