import type { Clock, Deps, Http, HttpRequest, HttpResult, Input, JobSpec, Output, RelayAnswer, SetAsideNote, Spool, SpoolEntry, SpooledCall } from "../../src/app/ports.js";
import type { ToolError } from "../../src/core/errors.js";
import type { JobOutcome } from "../../src/core/wrap-metrics.js";

/** What the fake job runner does when wrap runs a job. */
export interface FakeJob {
  readonly outcome: JobOutcome;
  /** Simulated time the job takes. */
  readonly durationMs?: number;
  /** What the job writes into PUSHGW_METRICS_FILE. */
  readonly metrics?: string;
  readonly notes?: string[];
  readonly internalErrors?: unknown[];
  /** The scratch file cannot be made (TMPDIR unusable). */
  readonly noScratchFile?: boolean;
  /** Runs while the job runs (a pushgw inside the job reaching the relay, say). */
  readonly during?: (world: FakeWorld) => Promise<void>;
}

/** In-memory ports for use-case tests: a scripted HTTP peer, a clock that only pretends to sleep. */
export interface FakeWorld {
  readonly deps: Deps;
  readonly requests: HttpRequest[];
  readonly sleeps: number[];
  readonly printed: { result: string[]; info: string[]; verbose: string[]; warn: string[]; error: ToolError[] };
  /** The jobs wrap ran, as it described them. */
  readonly jobs: JobSpec[];
  /** The relay's handler, while a wrapper serves one: what a pushgw inside the job would reach. */
  relayHandler: ((request: unknown) => Promise<RelayAnswer>) | undefined;
  /** The simulated clock's time (monotonic and wall clock are the same here). */
  now(): number;
}

/**
 * `replies`: the gateway's answers in order, or a function giving each. A timeout costs the
 * request's whole --timeout of simulated time.
 */
export function fakeWorld(replies: HttpResult[] | ((request: HttpRequest) => HttpResult), input: Partial<Input> = {}, job?: FakeJob, spool?: MemorySpool | Error): FakeWorld {
  const requests: HttpRequest[] = [];
  const jobs: JobSpec[] = [];
  const sleeps: number[] = [];
  let now = 1_800_000_000_000;
  const clock: Clock = {
    now: () => now,
    monotonic: () => now,
    sleep: async (ms) => {
      sleeps.push(ms);
      now += ms;
    },
  };
  const http: Http = {
    send: async (request) => {
      requests.push(request);
      const reply = typeof replies === "function" ? replies(request) : replies.shift();
      if (!reply) throw new Error(`no scripted reply for request ${requests.length}`);
      if (reply.kind === "failure" && reply.reason === "timeout") now += request.timeoutMs;
      return reply;
    },
    proxyFor: () => undefined,
    close: async () => {},
  };
  const printed: FakeWorld["printed"] = { result: [], info: [], verbose: [], warn: [], error: [] };
  const out: Output = {
    result: (t) => printed.result.push(t),
    info: (t) => printed.info.push(t),
    verbose: (t) => printed.verbose.push(t),
    warn: (t) => printed.warn.push(t),
    error: (e) => printed.error.push(e),
    progress: () => {},
    progressDone: () => {},
  };
  const deps: Deps = {
    http: async () => http,
    jobs: async () => {
      if (job === undefined) throw new Error("this test runs no jobs");
      return {
        run: async (spec) => {
          jobs.push(spec);
          await job.during?.(world);
          now += job.durationMs ?? 1000;
          return { outcome: job.outcome, output: undefined, notes: job.notes ?? [], internalErrors: job.internalErrors ?? [] };
        },
        createScratchFile: async () => {
          if (job.noScratchFile) throw Object.assign(new Error("no such file or directory, mkdtemp '/gone/pushgw-XXXXXX'"), { code: "ENOENT" });
          return { path: "/scratch/metrics.prom", dir: "/scratch", read: async () => new TextEncoder().encode(job.metrics ?? ""), remove: async () => {} };
        },
      };
    },
    locks: async () => {
      throw new Error("this test uses no lock");
    },
    spool: async () => {
      if (spool === undefined) throw new Error("this test uses no spool");
      if (spool instanceof Error) throw spool;
      return spool;
    },
    textfiles: async () => {
      throw new Error("this test uses no textfile directory");
    },
    relay: async () => ({
      serve: async (_path, handle) => {
        world.relayHandler = handle;
        return { close: async () => void (world.relayHandler = undefined) };
      },
      send: async () => ({ unreachable: "no relay in this test" }),
    }),
    clock,
    input: {
      stdinIsTerminal: true,
      readFile: async () => {
        throw Object.assign(new Error("no such file"), { code: "ENOENT" });
      },
      readStdin: async () => new Uint8Array(),
      fileAccess: async () => undefined,
      confirm: async () => false,
      ...input,
    },
    out,
    random: () => 0.5,
    version: "9.9.9",
  };
  const world: FakeWorld = { deps, requests, sleeps, printed, jobs, relayHandler: undefined, now: () => now };
  return world;
}

export const reply = (status: number, body = "", headers: Record<string, string> = {}): HttpResult => ({
  kind: "response",
  status,
  statusText: "",
  headers,
  body,
  truncated: false,
});

export const connectionRefused: HttpResult = { kind: "failure", reason: "refused", message: "connect ECONNREFUSED 127.0.0.1:9" };
export const timedOut: HttpResult = { kind: "failure", reason: "timeout", message: "no answer within 100 ms" };

/** What a MemorySpool is made to fail at, as a full or read-only disk would. */
export interface SpoolFaults {
  save?: Error;
  list?: Error;
  remove?: Error;
}

/**
 * The Spool port in memory: queues per gateway in the order saved, a set-aside list, a lock
 * another run may hold, and faults to switch on. Files that fail the schema are the file
 * adapter's business (tested in test/e2e/spool-attacks.test.ts); `planted` stands for them.
 */
export class MemorySpool implements Spool {
  readonly dir = "/var/spool/pushgw";
  readonly queues = new Map<string, SpoolEntry[]>();
  readonly setAsideEntries: SpoolEntry[] = [];
  /** Notes for files that are not calls pushgw saved, reported once by the next list. */
  planted: SetAsideNote[] = [];
  /** Another live pushgw holds the lock of these gateways. */
  readonly lockedByOthers = new Set<string>();
  readonly faults: SpoolFaults = {};
  /** Locks taken and released, in order: "take URL", "release URL". */
  readonly lockLog: string[] = [];
  private nextId = 1;

  async save(call: SpooledCall): Promise<string> {
    if (this.faults.save) throw this.faults.save;
    const entry = { id: String(this.nextId++).padStart(6, "0"), call };
    this.queues.set(call.baseUrl, [...(this.queues.get(call.baseUrl) ?? []), entry]);
    return `${this.dir}/${entry.id}.json`;
  }

  async list(baseUrl: string): Promise<{ entries: SpoolEntry[]; setAside: SetAsideNote[] }> {
    if (this.faults.list) throw this.faults.list;
    return { entries: [...(this.queues.get(baseUrl) ?? [])], setAside: this.takePlanted() };
  }

  async gateways(): Promise<{ baseUrls: string[]; setAside: SetAsideNote[] }> {
    if (this.faults.list) throw this.faults.list;
    return { baseUrls: [...this.queues].filter(([, entries]) => entries.length > 0).map(([url]) => url), setAside: this.takePlanted() };
  }

  async remove(entry: SpoolEntry): Promise<void> {
    if (this.faults.remove) throw this.faults.remove;
    const queue = this.queues.get(entry.call.baseUrl) ?? [];
    this.queues.set(entry.call.baseUrl, queue.filter((other) => other.id !== entry.id));
  }

  async setAside(entry: SpoolEntry): Promise<string> {
    await this.remove(entry);
    this.setAsideEntries.push(entry);
    return `${this.dir}/set-aside/${entry.id}.json`;
  }

  async restoreSetAside(): Promise<{ restored: number; kept: SetAsideNote[] }> {
    const restored = this.setAsideEntries.splice(0);
    for (const entry of restored) this.queues.set(entry.call.baseUrl, [...(this.queues.get(entry.call.baseUrl) ?? []), entry].sort((a, b) => a.id.localeCompare(b.id)));
    return { restored: restored.length, kept: [] };
  }

  async lock(baseUrl: string): Promise<(() => Promise<void>) | undefined> {
    if (this.lockedByOthers.has(baseUrl)) return undefined;
    this.lockLog.push(`take ${baseUrl}`);
    return async () => void this.lockLog.push(`release ${baseUrl}`);
  }

  /** What waits for a gateway, as "METHOD path body" lines. */
  waiting(baseUrl: string): string[] {
    return (this.queues.get(baseUrl) ?? []).map(({ call }) => `${call.method} ${call.path}${call.body === undefined ? "" : ` ${call.body.trim()}`}`);
  }

  private takePlanted(): SetAsideNote[] {
    return this.planted.splice(0);
  }
}

export const spooled = (baseUrl: string, method: "PUT" | "POST" | "DELETE", path: string, body?: string, savedAt = 1_799_999_000_000): SpooledCall => ({
  version: 1,
  method,
  baseUrl,
  path,
  body,
  savedAt,
});
