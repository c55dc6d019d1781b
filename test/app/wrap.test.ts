import { describe, expect, it } from "vitest";
import { FINAL_PUSH_BUDGET_MS, wrapJob, type WrapOptions } from "../../src/app/wrap-job.js";
import { DEFAULT_RETRY_POLICY, parseGatewayUrl } from "../../src/core/delivery.js";
import type { Deps, Locks, TransportOptions } from "../../src/app/ports.js";
import { fakeWorld, reply, timedOut, type FakeJob, type FakeWorld } from "../helpers/fakes.js";

/** wrap's decisions with fake ports: simulated time, so budgets of half a minute run at once. */
const transport = (extra: Partial<TransportOptions> = {}): TransportOptions => ({
  gateways: [parseGatewayUrl("http://alice:pw@gw:9091")],
  timeoutMs: 4000,
  retry: { ...DEFAULT_RETRY_POLICY, retries: 100 },
  headers: {},
  ...extra,
});
const options = (extra: Partial<WrapOptions> = {}): WrapOptions => ({
  argv: ["/usr/local/bin/backup.sh"],
  grouping: { job: "backup", labels: [["instance", "db-1"]] },
  transport: transport(),
  prefix: "job",
  startPush: true,
  quietSuccess: false,
  strict: false,
  maxRuntimeMs: undefined,
  killGraceMs: 10_000,
  expectation: undefined,
  dryRun: false,
  ...extra,
});
const exited = (code: number): FakeJob => ({ outcome: { kind: "exited", code } });

describe("wrap, with fake ports", () => {
  it("a gateway that never answers holds the wrapper no longer than the final push's budget plus one --timeout", async () => {
    const world = fakeWorld(() => timedOut, {}, exited(5));
    const code = await wrapJob(options(), world.deps);
    expect(code).toBe(5);
    // Simulated time after the job (1 s): the start push's attempt in flight, then the final push's budget.
    const spent = world.now() - 1_800_000_000_000 - 1000;
    expect(spent).toBeLessThanOrEqual(FINAL_PUSH_BUDGET_MS + 4000);
    expect(spent).toBeGreaterThan(FINAL_PUSH_BUDGET_MS - 4000);
    expect(world.printed.error.map((e) => e.message).join("\n")).toMatch(/the outcome of .* was not pushed/);
  });

  it("the budget is an option, so a test (or a caller) can make it short", async () => {
    const world = fakeWorld(() => timedOut, {}, exited(0));
    await wrapJob(options({ finalPushBudgetMs: 2000, startPush: false }), world.deps);
    expect(world.now() - 1_800_000_000_000 - 1000).toBeLessThanOrEqual(2000);
  });

  it("with --strict, a success whose outcome was not pushed exits 1; a failure keeps its status", async () => {
    expect(await wrapJob(options({ strict: true, finalPushBudgetMs: 100 }), fakeWorld(() => timedOut, {}, exited(0)).deps)).toBe(1);
    expect(await wrapJob(options({ strict: true, finalPushBudgetMs: 100 }), fakeWorld(() => timedOut, {}, exited(4)).deps)).toBe(4);
  });

  it("errors caught while the job ran are reported after it; the status is the job's", async () => {
    const world = fakeWorld(() => reply(200), {}, { ...exited(0), internalErrors: [new Error("boom in a timer")], notes: ["a note from the runner"] });
    expect(await wrapJob(options(), world.deps)).toBe(0);
    expect(world.printed.error.map((e) => e.message)).toEqual(["pushgw hit an unexpected error while the job ran (the job was not touched): boom in a timer"]);
    expect(world.printed.warn).toContain("a note from the runner");
  });

  it("without a scratch file the job still runs, without PUSHGW_METRICS_FILE, and the outcome is pushed", async () => {
    const world = fakeWorld(() => reply(200), {}, { ...exited(0), noScratchFile: true });
    expect(await wrapJob(options(), world.deps)).toBe(0);
    expect(world.jobs).toHaveLength(1);
    expect(world.jobs[0]!.env["PUSHGW_METRICS_FILE"]).toBeUndefined();
    expect(world.printed.warn.join("\n")).toMatch(/runs without PUSHGW_METRICS_FILE and without the wrapper's relay \(a pushgw inside it pushes by itself\): ENOENT/);
    expect(world.requests.filter((r) => r.method === "POST")).toHaveLength(2);
  });

  it("the job's environment holds no secret: the target, a credential-free gateway URL, the relay, and the secrets' variables removed", async () => {
    const world = fakeWorld(() => reply(200), {}, exited(0));
    await wrapJob(options({ transport: transport({ credentials: { kind: "basic", user: "bob", password: { value: "hunter2" } } }) }), world.deps);
    const spec = world.jobs[0]!;
    expect(spec.env).toEqual({
      PUSHGW_TARGET: "pushgateway",
      PUSHGW_GATEWAY: "http://gw:9091",
      PUSHGW_JOB: "backup",
      PUSHGW_WRAP_GROUPING: '{"job":"backup","labels":[["instance","db-1"]]}',
      PUSHGW_METRICS_FILE: "/scratch/metrics.prom",
      PUSHGW_WRAP_SOCKET: "/scratch/relay.sock",
    });
    expect(spec.unsetEnv).toEqual(["PUSHGW_PASSWORD", "PUSHGW_BEARER_TOKEN", "PUSHGW_USER"]);
    expect(JSON.stringify(spec)).not.toContain("hunter2");
  });

  it("the relay passes a nested push into the wrapper's group, with the wrapper's credentials", async () => {
    let answer: unknown;
    const world = fakeWorld(() => reply(200), {}, {
      ...exited(0),
      during: async (w) => {
        answer = await w.relayHandler!({ method: "POST", path: "/metrics/job/backup/instance/db-1", body: "rows 42\n" });
      },
    });
    await wrapJob(options({ startPush: false }), world.deps);
    expect(answer).toEqual({ outcomes: [{ kind: "delivered", url: "http://gw:9091/metrics/job/backup/instance/db-1" }] });
    const nested = world.requests.find((r) => r.body === "rows 42\n");
    expect(nested?.headers["authorization"]).toBe(`Basic ${Buffer.from("alice:pw").toString("base64")}`);
  });
});

/** flock as a set of held paths: what another process holds is in `held` before the run. */
function fakeLocks(held: Set<string>, counts: Map<string, number>, events: string[]): Locks {
  return {
    defaultFile: async (key) => `/run/lock/pushgw-0-${key.job}.lock`,
    take: async (path) => {
      if (held.has(path)) return "busy";
      held.add(path);
      events.push(`take ${path}`);
      return {
        path,
        readCount: async () => counts.get(path) ?? 0,
        writeCount: async (count) => void counts.set(path, count),
        release: async () => {
          held.delete(path);
          events.push(`release ${path}`);
        },
      };
    },
  };
}

describe("wrap --lock, with fake ports", () => {
  const LOCK = "/run/lock/pushgw-0-backup.lock";
  const withLocks = (world: FakeWorld, held: string[], counts = new Map<string, number>(), events: string[] = []): Deps => ({
    ...world.deps,
    locks: async () => fakeLocks(new Set(held), counts, events),
  });

  it("the lock held: the job does not start; the skip is counted and pushed; exit 75", async () => {
    const world = fakeWorld(() => reply(200), {}, exited(0));
    const counts = new Map([[`${LOCK}.skipped`, 4]]);
    expect(await wrapJob(options({ lock: { file: undefined, waitMs: undefined } }), withLocks(world, [LOCK], counts))).toBe(75);
    expect(world.jobs).toEqual([]);
    expect(world.printed.info).toEqual([`pushgw: {job="backup", instance="db-1"}: not started: the previous run still holds the lock ${LOCK} (exit status 75)`]);
    expect(world.requests.map((r) => `${r.method} ${r.url}`)).toEqual(["POST http://gw:9091/metrics/job/backup/instance/db-1"]);
    expect(world.requests[0]!.body).toBe(
      "# HELP job_skipped_overlap_total Runs not started because the previous run still held the wrap --lock (counted on this host).\n" +
        "# TYPE job_skipped_overlap_total counter\njob_skipped_overlap_total 5\n" +
        "# HELP job_last_skipped_timestamp_seconds Unix time a run was last not started because the previous run still held the wrap --lock.\n" +
        "# TYPE job_last_skipped_timestamp_seconds gauge\njob_last_skipped_timestamp_seconds 1800000000\n",
    );
    expect(counts.get(`${LOCK}.skipped`)).toBe(5);
  });

  it("the skip count stays locked (other skipped runs): only the time is pushed", async () => {
    const world = fakeWorld(() => reply(200), {}, exited(0));
    expect(await wrapJob(options({ lock: { file: LOCK, waitMs: undefined } }), withLocks(world, [LOCK, `${LOCK}.skipped`]))).toBe(75);
    expect(world.requests[0]!.body).not.toContain("job_skipped_overlap_total");
    expect(world.requests[0]!.body).toContain("job_last_skipped_timestamp_seconds 1800000000\n");
  });

  it("a gateway that is down when a run is skipped: said, exit 75 all the same, within the push budget", async () => {
    const world = fakeWorld(() => timedOut, {}, exited(0));
    expect(await wrapJob(options({ lock: { file: LOCK, waitMs: 60_000 } }), withLocks(world, [LOCK]))).toBe(75);
    expect(world.printed.info[0]).toMatch(/not started: after --lock-wait 1m another run still held the lock/);
    expect(world.printed.warn.join("\n")).toMatch(/^the skipped run was not pushed: /m);
    expect(world.now() - 1_800_000_000_000).toBeLessThanOrEqual(FINAL_PUSH_BUDGET_MS + 4000);
  });

  it("--dry-run prints the skip's push, and counts nothing", async () => {
    const world = fakeWorld(() => reply(200), {}, exited(0));
    const counts = new Map<string, number>();
    expect(await wrapJob(options({ dryRun: true, lock: { file: LOCK, waitMs: undefined } }), withLocks(world, [LOCK], counts))).toBe(75);
    expect(world.requests).toEqual([]);
    expect(world.printed.result.join("\n")).toContain("job_skipped_overlap_total 1\n");
    expect(counts.size).toBe(0);
  });

  it("the lock free: the job runs, and the lock is held until its outcome is pushed", async () => {
    const events: string[] = [];
    const world = fakeWorld(
      (request) => {
        events.push(`${request.method} ${request.body?.toString().includes("job_running 0") ? "outcome" : "start"}`);
        return reply(200);
      },
      {},
      exited(3),
    );
    expect(await wrapJob(options({ lock: { file: undefined, waitMs: undefined } }), withLocks(world, [], new Map(), events))).toBe(3);
    expect(events).toEqual([`take ${LOCK}`, "POST start", "POST outcome", `release ${LOCK}`]);
  });
});

describe("wrap's outcome timestamps, with a simulated clock", () => {
  /** The sample values of the final push (the second POST), by metric name. */
  const finalValues = (world: FakeWorld): Record<string, number> => {
    const body = world.requests.filter((r) => r.method === "POST")[1]!.body;
    const text = typeof body === "string" ? body : new TextDecoder().decode(body);
    return Object.fromEntries(
      text
        .split("\n")
        .filter((line) => line !== "" && !line.startsWith("#"))
        .map((line) => [line.slice(0, line.search(/[ {]/)), Number(line.slice(line.lastIndexOf(" ") + 1))]),
    );
  };

  it.each([
    ["a failure", 3, "job_last_failure_timestamp_seconds", "job_last_success_timestamp_seconds"],
    ["a success", 0, "job_last_success_timestamp_seconds", "job_last_failure_timestamp_seconds"],
  ])("%s is stamped with the time the job ended, not the time it started", async (_what, code, stamped, absent) => {
    const world = fakeWorld(() => reply(200), {}, { ...exited(code), durationMs: 7000 });
    await wrapJob(options(), world.deps);
    const values = finalValues(world);
    expect(values["job_last_start_timestamp_seconds"]).toBe(1_800_000_000);
    expect(values["job_last_completion_timestamp_seconds"]).toBe(1_800_000_007);
    expect(values[stamped]).toBe(1_800_000_007);
    expect(values["job_duration_seconds"]).toBe(7);
    expect(values).not.toHaveProperty(absent);
  });
});
