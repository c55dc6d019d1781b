import { SpooledError, UsageError } from "../core/errors.js";
import { openGateway, type TransportOptions } from "./gateway.js";
import type { Deps } from "./ports.js";
import { flushQueue, fsReason, type FlushReport } from "./spool-queue.js";

export interface FlushOptions {
  readonly transport: TransportOptions;
}

/**
 * `flush`: delivers every call waiting in the spool, to every gateway it holds. The secrets of
 * this run (credentials, -H headers, client certificate) go only to the gateways it names;
 * calls for other gateways are sent without them, and if such a gateway wants credentials
 * they stay queued for a run that names it.
 */
export async function flushSpool(options: FlushOptions, deps: Deps): Promise<number> {
  const dir = options.transport.spoolDir;
  if (dir === undefined) {
    throw new UsageError("flush: no spool given", { hint: "pass --spool DIR or set PUSHGW_SPOOL" });
  }
  const gateway = await openGateway(options.transport, deps, { command: "flush" });
  let spool;
  let baseUrls: string[];
  try {
    spool = await deps.spool(dir);
    baseUrls = await spool.gateways();
  } catch (error) {
    throw new UsageError(`flush: the spool ${dir} cannot be used (${fsReason(error)})`);
  }
  const reports: FlushReport[] = [];
  for (const baseUrl of baseUrls) reports.push(await flushQueue(spool, baseUrl, gateway, deps));
  if (reports.every((r) => r.delivered === 0 && r.waiting === 0 && r.setAside.length === 0)) {
    deps.out.info(`flush: the spool ${dir} is empty`);
    return 0;
  }
  for (const r of reports) {
    const parts = [`delivered ${r.delivered}`];
    if (r.waiting > 0) parts.push(`${r.waiting} still waiting${r.busy ? " (another pushgw is delivering them)" : ""}`);
    if (r.setAside.length > 0) parts.push(`${r.setAside.length} refused and set aside`);
    deps.out.info(`flush ${r.baseUrl}: ${parts.join(", ")}`);
    if (r.problem !== undefined) deps.out.warn(r.problem);
    if (r.needsCredentials) {
      deps.out.warn(
        gateway.names(r.baseUrl)
          ? `${r.baseUrl} refused the credentials of this run (401/403); its calls stay in the spool`
          : `${r.baseUrl} wants credentials; its calls stay in the spool until a run names it: pushgw flush -g ${r.baseUrl} with its --user or --bearer-token-file`,
      );
    }
  }
  if (reports.some((r) => r.setAside.length > 0)) return 1;
  const waiting = reports.reduce((n, r) => n + r.waiting, 0);
  if (waiting > 0) {
    throw new SpooledError(`flush: ${waiting} call(s) still wait in the spool ${dir}`, {
      hint: reports.some((r) => r.needsCredentials) ? "give the credentials for the gateway named above and run pushgw flush again" : "the gateway is still unreachable; run pushgw flush again later",
    });
  }
  return 0;
}
