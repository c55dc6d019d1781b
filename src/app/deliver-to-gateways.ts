import { GatewayError } from "../core/errors.js";
import { buildRequest, renderRequest, sendWithRetries, type DeliveryLimits, type DeliveryResult, type GatewayCall, type GatewayOutcome, type TransportOptions } from "./deliver.js";
import type { Deps } from "./ports.js";
import { deliverThroughSpool, spooledError } from "./spool.js";

// The writes of push, add, delete and wrap: to every gateway at once, through the spool when
// there is one. (Kept apart from deliver.ts, which the spool itself builds on.)

/**
 * Sends one call to every gateway at once. Throws when any gateway did not take it (a
 * SpooledError, exit 75, when the only trouble is calls saved in the spool); with several
 * gateways, says which took it and which did not.
 */
export async function deliverToAll(call: GatewayCall, transport: TransportOptions, deps: Deps, limits: DeliveryLimits = {}): Promise<GatewayOutcome[]> {
  const outcomes = await Promise.all(
    transport.gateways.map((gateway): Promise<GatewayOutcome> =>
      transport.spoolDir !== undefined && call.method !== "GET"
        ? deliverThroughSpool(call, gateway, transport, deps, limits)
        : sendWithRetries(buildRequest(call, gateway, transport, deps), transport, deps, limits),
    ),
  );
  if (outcomes.length > 1) {
    for (const o of outcomes) {
      if (o.ok === true) deps.out.info(`ok     ${call.method} ${o.url} (${o.status})`);
      else if (o.ok === "spooled") deps.out.info(`SAVED  ${call.method} ${o.url} (in the spool)`);
      else deps.out.info(`FAILED ${call.method} ${o.url}`);
    }
  }
  const failures = outcomes.filter((o): o is Extract<DeliveryResult, { ok: false }> => o.ok === false);
  if (failures.length === 1 && outcomes.length === 1) throw failures[0]!.error;
  if (failures.length > 0) {
    const message = failures.map((f) => f.error.message).join("\n");
    throw new GatewayError(`${failures.length} of ${outcomes.length} gateways did not take it:\n${message}`, {
      hint: failures[0]!.error.hint,
    });
  }
  const spooled = outcomes.filter((o): o is Extract<GatewayOutcome, { ok: "spooled" }> => o.ok === "spooled");
  if (spooled.length > 0) throw spooledError(call, spooled, transport.spoolDir ?? "");
  return outcomes;
}

/** What --dry-run prints: each request as it would go out, secrets hidden. */
export function printDryRun(call: GatewayCall, transport: TransportOptions, deps: Deps): void {
  for (const gateway of transport.gateways) {
    deps.out.result(renderRequest(buildRequest(call, gateway, transport, deps), Object.keys(transport.secretHeaders)));
  }
}
