import { UsageError } from "../core/errors.js";
import { decodeGroups, type Group } from "../core/groups.js";
import type { GatewayEndpoint } from "../core/delivery.js";
import { buildRequest, sendWithRetries, type TransportOptions } from "./deliver.js";
import type { Deps } from "./ports.js";

/** list, prune and delete --match read one gateway's groups; several would be ambiguous. */
export function singleGateway(transport: TransportOptions, command: string): GatewayEndpoint {
  if (transport.gateways.length !== 1) {
    throw new UsageError(`${command} works on one gateway at a time; ${transport.gateways.length} were given`, {
      hint: "run it once per gateway",
    });
  }
  return transport.gateways[0]!;
}

/** Every group the gateway holds, from its JSON API. */
export async function fetchGroups(gateway: GatewayEndpoint, transport: TransportOptions, deps: Deps): Promise<Group[]> {
  const request = buildRequest({ method: "GET", path: "/api/v1/metrics" }, gateway, transport, deps);
  const result = await sendWithRetries(request, transport, deps);
  if (!result.ok) throw result.error;
  return decodeGroups(result.body, request.url);
}
