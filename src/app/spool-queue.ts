import { formatDuration } from "../core/duration.js";
import { GatewayError, ToolError } from "../core/errors.js";
import type { CallOutcome, DeliveryLimits, Deps, Gateway, GatewayCall, SetAsideNote, Spool, SpoolEntry, SpoolWriter } from "./ports.js";

/**
 * The spool (--spool DIR) keeps what could not be delivered and sends it later, in order:
 * while a group has saved calls, a new call to it queues behind them, so an older POST can
 * never overwrite a newer value. Every run that writes to a gateway first delivers what waits
 * for it (within FLUSH_AT_START_MS); `pushgw flush` delivers everything.
 *
 * The spool is a help, never a hazard: when its directory cannot be used (missing, full,
 * read-only, not a directory, or open to others: see adapters/file-spool.ts) the call goes
 * straight to the gateway and pushgw says once what it could not do. A file in it that is not
 * exactly a call pushgw saved is set aside and reported, never sent.
 */
export const FLUSH_AT_START_MS = 5_000;

/** The writer gateway.write uses with --spool. One per run: it warns about the spool once. */
export function createSpoolWriter(): SpoolWriter {
  const warned = new Set<string>();
  const warnOnce = (deps: Deps, text: string): void => {
    if (warned.has(text)) return;
    warned.add(text);
    deps.out.warn(text);
  };
  return async (call, baseUrl, gateway, deps, limits) => {
    const dir = gateway.spoolDir!;
    const withoutSpool = async (error: unknown): Promise<CallOutcome> => {
      const fix = error instanceof ToolError && error.hint ? `. To use it: ${error.hint}` : "";
      warnOnce(deps, `the spool ${dir} cannot be used (${fsReason(error)}); sending without it${fix}`);
      return notSaved(await gateway.sendTo(baseUrl, call, limits), dir, error);
    };
    let spool: Spool;
    try {
      spool = await deps.spool(dir);
      // The gateway's folder is checked here, so that a folder that fails is said once, as the spool's.
      reportInvalid((await spool.list(baseUrl)).setAside, deps);
    } catch (error) {
      return withoutSpool(error);
    }
    const report = await flushQueue(spool, baseUrl, gateway, deps, { deadline: deps.clock.monotonic() + FLUSH_AT_START_MS, retries: 0 });
    if (report.problem !== undefined) warnOnce(deps, report.problem);
    if (report.delivered > 0) deps.out.info(`delivered ${report.delivered} call(s) waiting in the spool for ${baseUrl}`);
    const url = baseUrl + call.path;
    const save = async (reason: GatewayError | undefined): Promise<CallOutcome> => {
      // Only Pushgateway calls are spooled (the CLI refuses --spool with other targets): text bodies.
      const body = typeof call.body === "string" ? call.body : undefined;
      try {
        const where = await spool.save({ version: 1, method: call.method as "PUT" | "POST" | "DELETE", baseUrl, path: call.path, body, savedAt: deps.clock.now() });
        return { kind: "spooled", url, where, reason };
      } catch (error) {
        const why = `could not be saved in the spool ${dir} (${fsReason(error)})`;
        if (reason !== undefined) return { kind: "failed", url, retryable: true, error: new GatewayError(`${reason.message}; it ${why}`, { hint: reason.hint }) };
        return { kind: "failed", url, retryable: true, error: new GatewayError(`${call.method} ${url}: not sent: earlier calls to this group wait in the spool, and this one ${why}`) };
      }
    };
    let waiting: readonly SpoolEntry[];
    try {
      const listed = await spool.list(baseUrl);
      reportInvalid(listed.setAside, deps);
      waiting = listed.entries;
    } catch (error) {
      return withoutSpool(error);
    }
    if (waiting.some((entry) => entry.call.path === call.path)) {
      deps.out.verbose(`${call.method} ${url}: queued behind earlier calls to this group that wait in the spool`);
      return save(undefined);
    }
    const outcome = await gateway.sendTo(baseUrl, call, limits);
    if (outcome.kind !== "failed" || !outcome.retryable) return outcome;
    return save(outcome.error);
  };
}

function notSaved(outcome: CallOutcome, dir: string, error: unknown): CallOutcome {
  if (outcome.kind !== "failed") return outcome;
  return { ...outcome, error: new GatewayError(`${outcome.error.message}; it was not saved: the spool ${dir} cannot be used (${fsReason(error)})`, { hint: outcome.error.hint }) };
}

export interface FlushReport {
  readonly baseUrl: string;
  readonly delivered: number;
  readonly waiting: number;
  /** Files moved to DIR/set-aside: refused by the gateway for good, or not calls pushgw saved. */
  readonly setAside: readonly SetAsideNote[];
  /** Another pushgw was delivering this gateway's queue. */
  readonly busy: boolean;
  /** The gateway wants credentials this run did not give for it (401/403): the calls wait. */
  readonly needsCredentials: boolean;
  /** What kept the queue from being delivered, for the user. */
  readonly problem?: string | undefined;
}

/**
 * Sends what waits for one gateway, oldest first, and stops at the first call the gateway
 * does not take for a passing reason (the order must hold). A call it refuses for good (a
 * 4xx other than 401/403) would block its group forever: it is set aside in DIR/set-aside and
 * reported. A 401 or 403 is not the call's fault: it waits for a run with the credentials.
 * Files in the queue that are not calls pushgw saved are set aside by the spool as it reads
 * them; they are reported here and never sent.
 * Never throws: a spool that cannot be read or written is reported in `problem`.
 */
export async function flushQueue(spool: Spool, baseUrl: string, gateway: Gateway, deps: Deps, bounds: DeliveryLimits = {}): Promise<FlushReport> {
  let delivered = 0;
  let needsCredentials = false;
  const setAside: SetAsideNote[] = [];
  const report = (waiting: number, extra: Partial<FlushReport> = {}): FlushReport => ({ baseUrl, delivered, waiting, setAside, busy: false, needsCredentials, ...extra });
  const list = async (): Promise<SpoolEntry[]> => {
    const listed = await spool.list(baseUrl);
    reportInvalid(listed.setAside, deps);
    for (const note of listed.setAside) setAside.push(note);
    return listed.entries;
  };
  const countWaiting = async (): Promise<number> => (await list().catch(() => [])).length;
  let release: (() => Promise<void>) | undefined;
  try {
    if ((await list()).length === 0) return report(0);
    release = await spool.lock(baseUrl);
    if (release === undefined) return report(await countWaiting(), { busy: true });
    let entries = await list();
    while (entries.length > 0) {
      const entry = entries[0]!;
      if (bounds.deadline !== undefined && deps.clock.monotonic() > bounds.deadline) break;
      const call: GatewayCall = { method: entry.call.method, path: entry.call.path, ...(entry.call.body === undefined ? {} : { body: entry.call.body }) };
      const result = await gateway.sendTo(baseUrl, call, bounds);
      if (result.kind === "delivered") {
        await spool.remove(entry);
        delivered++;
        deps.out.verbose(`delivered from the spool: ${call.method} ${result.url} (saved ${formatDuration(deps.clock.now() - entry.call.savedAt)} ago)`);
      } else if (result.kind === "failed" && (result.status === 401 || result.status === 403)) {
        needsCredentials = true;
        break;
      } else if (result.kind === "failed" && !result.retryable && result.status !== undefined) {
        const where = await spool.setAside(entry);
        setAside.push({ where, why: result.error.message });
        deps.out.error(new GatewayError(`a call saved in the spool was refused, and set aside in ${where}: ${result.error.message}`, { hint: result.error.hint }));
      } else {
        break;
      }
      entries = entries.slice(1);
      if (entries.length === 0) entries = await list();
    }
    return report(await countWaiting());
  } catch (error) {
    return report(await countWaiting(), { problem: `the spool ${spool.dir} could not be delivered for ${baseUrl} (${fsReason(error)})` });
  } finally {
    await release?.().catch(() => undefined);
  }
}

/** Files the spool set aside because pushgw did not write them as they are: said, never sent. */
export function reportInvalid(notes: readonly SetAsideNote[], deps: Deps): void {
  for (const note of notes) deps.out.warn(`a file in the spool is not a call pushgw saved (${note.why}); it was not sent, and was moved to ${note.where}`);
}

/** `ENOSPC: no space left on device`: what a file-system failure says, without a stack. */
export function fsReason(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  const code = (error as NodeJS.ErrnoException).code;
  const message = error.message.replace(/^[A-Z]+: /, "").replace(/, (open|mkdir|rename|write|scandir|lstat|stat|unlink|link|rmdir|fsync|read|close) '.*'$/, "");
  return code ? `${code}: ${message}` : message;
}
