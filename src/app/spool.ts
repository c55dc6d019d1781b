import { formatDuration } from "../core/duration.js";
import { GatewayError, SpooledError, UsageError } from "../core/errors.js";
import type { GatewayEndpoint } from "../core/delivery.js";
import { buildRequest, sendWithRetries, withSecrets, type DeliveryLimits, type GatewayCall, type GatewayOutcome, type TransportOptions } from "./deliver.js";
import type { Deps, Spool, SpoolEntry } from "./ports.js";

/**
 * The spool (--spool DIR) keeps what could not be delivered and sends it later, in order:
 * while a group has saved calls, a new call to it queues behind them, so an older POST can
 * never overwrite a newer value. Every run that talks to a gateway first delivers what waits
 * for it (within FLUSH_AT_START_MS); `pushgw flush` delivers everything.
 */
export const FLUSH_AT_START_MS = 5_000;

export async function deliverThroughSpool(
  call: GatewayCall,
  gateway: GatewayEndpoint,
  transport: TransportOptions,
  deps: Deps,
  limits: DeliveryLimits,
): Promise<GatewayOutcome> {
  const spool = await deps.spool(transport.spoolDir!);
  await flushGateway(spool, gateway, transport, deps, { deadline: deps.clock.monotonic() + FLUSH_AT_START_MS, retries: 0 });
  const url = gateway.baseUrl + call.path;
  const save = async (reason: GatewayError | undefined): Promise<GatewayOutcome> => {
    // Only Pushgateway calls are spooled (the CLI refuses --spool with other targets): text bodies.
    const body = typeof call.body === "string" ? call.body : undefined;
    const where = await spool.save({ version: 1, method: call.method as "PUT" | "POST" | "DELETE", baseUrl: gateway.baseUrl, path: call.path, body, savedAt: deps.clock.now() });
    return { ok: "spooled", url, where, reason };
  };
  if ((await spool.list(gateway.baseUrl)).some((entry) => entry.call.path === call.path)) {
    deps.out.verbose(`${call.method} ${url}: queued behind earlier calls to this group that wait in the spool`);
    return save(undefined);
  }
  const result = await sendWithRetries(buildRequest(call, gateway, transport, deps), transport, deps, limits);
  if (result.ok || !result.retryable) return result;
  return save(result.error);
}

export function spooledError(call: GatewayCall, spooled: ReadonlyArray<Extract<GatewayOutcome, { ok: "spooled" }>>, dir: string): SpooledError {
  const lines = spooled.map((s) => `${call.method} ${s.url}: ${s.reason ? `not delivered (${s.reason.message})` : "queued behind earlier calls to this group"}`);
  return new SpooledError(`saved in the spool ${dir}, to be sent later:\n${lines.join("\n")}`, {
    hint: "`pushgw flush` sends it, and so does the next pushgw run to that gateway",
  });
}

export interface FlushReport {
  readonly baseUrl: string;
  readonly delivered: number;
  readonly waiting: number;
  readonly setAside: readonly string[];
  /** Another pushgw was delivering this gateway's queue. */
  readonly busy: boolean;
}

/**
 * Sends what waits for one gateway, oldest first, and stops at the first call the gateway
 * does not take for a passing reason (the order must hold). A call it refuses for good (a
 * 4xx) would block its group forever: it is set aside in DIR/set-aside and reported.
 */
export async function flushGateway(
  spool: Spool,
  gateway: GatewayEndpoint,
  transport: TransportOptions,
  deps: Deps,
  bounds: { deadline?: number; retries?: number } = {},
): Promise<FlushReport> {
  const release = await spool.lock(gateway.baseUrl);
  if (release === undefined) {
    const waiting = (await spool.list(gateway.baseUrl)).length;
    return { baseUrl: gateway.baseUrl, delivered: 0, waiting, setAside: [], busy: true };
  }
  let delivered = 0;
  const setAside: string[] = [];
  let entries: SpoolEntry[] = [];
  try {
    const policy = bounds.retries === undefined ? transport : { ...transport, retry: { ...transport.retry, retries: bounds.retries } };
    entries = await spool.list(gateway.baseUrl);
    while (entries.length > 0) {
      const entry = entries[0]!;
      if (bounds.deadline !== undefined && deps.clock.monotonic() > bounds.deadline) break;
      const call: GatewayCall = { method: entry.call.method, path: entry.call.path, ...(entry.call.body === undefined ? {} : { body: entry.call.body }) };
      const result = await sendWithRetries(buildRequest(call, gateway, policy, deps), policy, deps, bounds.deadline === undefined ? {} : { deadline: bounds.deadline });
      if (result.ok) {
        await spool.remove(entry);
        delivered++;
        const age = formatDuration(deps.clock.now() - entry.call.savedAt);
        deps.out.verbose(`delivered from the spool: ${call.method} ${result.url} (saved ${age} ago)`);
      } else if (result.retryable) {
        break;
      } else {
        const where = await spool.setAside(entry);
        setAside.push(where);
        deps.out.error(new GatewayError(`a call saved in the spool was refused, and set aside in ${where}: ${result.error.message}`, { hint: result.error.hint }));
      }
      entries = entries.slice(1);
      if (entries.length === 0) entries = await spool.list(gateway.baseUrl);
    }
  } finally {
    await release();
  }
  if (delivered > 0 && bounds.deadline !== undefined) deps.out.info(`delivered ${delivered} call(s) waiting in the spool for ${gateway.baseUrl}`);
  return { baseUrl: gateway.baseUrl, delivered, waiting: (await spool.list(gateway.baseUrl)).length, setAside, busy: false };
}

export interface FlushOptions {
  readonly transport: TransportOptions;
}

/** `flush`: delivers every call waiting in the spool, to every gateway it names. */
export async function flushSpool(options: FlushOptions, deps: Deps): Promise<number> {
  const dir = options.transport.spoolDir;
  if (dir === undefined) {
    throw new UsageError("flush: no spool given", { hint: "pass --spool DIR or set PUSHGW_SPOOL" });
  }
  const spool = await deps.spool(dir);
  const transport = await withSecrets(options.transport, deps);
  const reports: FlushReport[] = [];
  for (const baseUrl of await spool.gateways()) {
    // Credentials written into a --gateway URL apply to that gateway's saved calls.
    const gateway = transport.gateways.find((g) => g.baseUrl === baseUrl) ?? { baseUrl, urlCredentials: undefined };
    reports.push(await flushGateway(spool, gateway, transport, deps));
  }
  if (reports.length === 0) {
    deps.out.info(`flush: the spool ${dir} is empty`);
    return 0;
  }
  for (const r of reports) {
    const parts = [`delivered ${r.delivered}`];
    if (r.waiting > 0) parts.push(`${r.waiting} still waiting${r.busy ? " (another pushgw is delivering them)" : ""}`);
    if (r.setAside.length > 0) parts.push(`${r.setAside.length} refused and set aside`);
    deps.out.info(`flush ${r.baseUrl}: ${parts.join(", ")}`);
  }
  if (reports.some((r) => r.setAside.length > 0)) return 1;
  if (reports.some((r) => r.waiting > 0)) {
    throw new SpooledError(`flush: ${reports.reduce((n, r) => n + r.waiting, 0)} call(s) still wait in the spool ${dir}`, {
      hint: "the gateway is still unreachable; run pushgw flush again later",
    });
  }
  return 0;
}
