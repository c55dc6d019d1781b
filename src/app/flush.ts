import { SpooledError, ToolError, UsageError } from "../core/errors.js";
import { openGateway } from "./gateway.js";
import type { Deps, SetAsideNote, Spool, TransportOptions } from "./ports.js";
import { flushQueue, fsReason, reportInvalid, type FlushReport } from "./spool-queue.js";

export interface FlushOptions {
  readonly transport: TransportOptions;
  /** --retry-set-aside: put what was set aside back into its queue (checked again) first. */
  readonly retrySetAside?: boolean | undefined;
}

/**
 * `flush`: delivers every call waiting in the spool, to every gateway it holds. The secrets of
 * this run (credentials, -H headers, client certificate) go only to the gateways it names;
 * calls for other gateways are sent without them, and if such a gateway wants credentials
 * they stay queued for a run that names it. A spool directory others could write to is refused
 * (exit 2): what flush finds there it sends. Silent when all was delivered (`-v` says what).
 */
export async function flushSpool(options: FlushOptions, deps: Deps): Promise<number> {
  const dir = options.transport.spoolDir;
  if (dir === undefined) {
    throw new UsageError("flush: no spool given", { hint: "pass --spool DIR or set PUSHGW_SPOOL" });
  }
  const gateway = await openGateway(options.transport, deps, { command: "flush" });
  // What went well is said only with -v, unless something went wrong too: a
  // `*/5 * * * * pushgw flush` cron line mails only when there is something to read.
  const progress: string[] = [];
  let spool: Spool;
  let baseUrls: string[];
  let invalid: readonly SetAsideNote[];
  let kept: readonly SetAsideNote[] = [];
  try {
    spool = await deps.spool(dir);
    if (options.retrySetAside) {
      const restored = await spool.restoreSetAside();
      kept = restored.kept;
      progress.push(`flush: put ${restored.restored} set-aside call(s) back into their queues`);
      for (const note of kept) deps.out.warn(`still set aside, not a call pushgw would send (${note.why}): ${note.where}`);
    }
    ({ baseUrls, setAside: invalid } = await spool.gateways());
  } catch (error) {
    throw new UsageError(`flush: the spool ${dir} cannot be used (${fsReason(error)})`, { hint: error instanceof ToolError ? error.hint : undefined });
  }
  reportInvalid(invalid, deps);
  const reports: FlushReport[] = [];
  for (const baseUrl of baseUrls) reports.push(await flushQueue(spool, baseUrl, gateway, deps));
  const clean = invalid.length === 0 && kept.length === 0 && reports.every((r) => r.waiting === 0 && r.setAside.length === 0 && r.problem === undefined && !r.needsCredentials);
  const say = (line: string) => (clean ? deps.out.verbose(line) : deps.out.info(line));
  for (const line of progress) say(line);
  if (reports.every((r) => r.delivered === 0 && r.waiting === 0 && r.setAside.length === 0)) {
    if (invalid.length > 0 || kept.length > 0) return 1;
    say(`flush: the spool ${dir} is empty`);
    return 0;
  }
  for (const r of reports) {
    const parts = [`delivered ${r.delivered}`];
    if (r.waiting > 0) parts.push(`${r.waiting} still waiting${r.busy ? " (another pushgw is delivering them)" : ""}`);
    if (r.setAside.length > 0) parts.push(`${r.setAside.length} set aside`);
    say(`flush ${r.baseUrl}: ${parts.join(", ")}`);
    if (r.problem !== undefined) deps.out.warn(r.problem);
    if (r.needsCredentials) {
      deps.out.warn(
        gateway.names(r.baseUrl)
          ? `${r.baseUrl} refused the credentials of this run (401/403); its calls stay in the spool`
          : `${r.baseUrl} wants credentials; its calls stay in the spool until a run names it: pushgw flush -g ${r.baseUrl} with its --user or --bearer-token-file`,
      );
    }
  }
  if (invalid.length > 0 || kept.length > 0 || reports.some((r) => r.setAside.length > 0)) return 1;
  const waiting = reports.reduce((n, r) => n + r.waiting, 0);
  if (waiting > 0) {
    throw new SpooledError(`flush: ${waiting} call(s) still wait in the spool ${dir}`, {
      hint: reports.some((r) => r.needsCredentials) ? "give the credentials for the gateway named above and run pushgw flush again" : "the gateway is still unreachable; run pushgw flush again later",
    });
  }
  return 0;
}
