import type { Deps, Gateway, OpenGatewayOptions, TransportOptions } from "./ports.js";
import { refusalOf, targetSpec } from "./targets/registry.js";

/**
 * Opens the Gateway of the target --target names (the Gateway port: ports.ts), once per run and
 * before anything is sent; a command the target cannot serve is refused first (exit 2).
 * Throws UsageError only.
 */
export async function openGateway(transport: TransportOptions, deps: Deps, options: OpenGatewayOptions): Promise<Gateway> {
  const target = targetSpec(transport.target);
  const refusal = refusalOf(target, options.command);
  if (refusal !== undefined) throw refusal;
  return target.open(transport, deps, options);
}
