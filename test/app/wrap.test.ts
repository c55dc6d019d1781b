import { describe, expect, it } from "vitest";
import type { TransportOptions } from "../../src/app/gateway.js";
import { FINAL_PUSH_BUDGET_MS, wrapJob, type WrapOptions } from "../../src/app/wrap.js";
import { DEFAULT_RETRY_POLICY, parseGatewayUrl } from "../../src/core/delivery.js";
import { fakeWorld, reply, timedOut, type FakeJob } from "../helpers/fakes.js";

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
    expect(world.printed.warn.join("\n")).toMatch(/runs without PUSHGW_METRICS_FILE: no temporary file could be made \(ENOENT/);
    expect(world.requests.filter((r) => r.method === "POST")).toHaveLength(2);
  });

  it("the job's environment holds no secret: a credential-free gateway URL, the relay, and the secrets' variables removed", async () => {
    const world = fakeWorld(() => reply(200), {}, exited(0));
    await wrapJob(options({ transport: transport({ credentials: { kind: "basic", user: "bob", password: { value: "hunter2" } } }) }), world.deps);
    const spec = world.jobs[0]!;
    expect(spec.env).toEqual({
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
