import { describe, expect, it } from "vitest";
import { flushSpool } from "../../src/app/flush.js";
import { openGateway } from "../../src/app/gateway.js";
import { createSpoolWriter, FLUSH_AT_START_MS } from "../../src/app/spool-queue.js";
import { DEFAULT_RETRY_POLICY, parseGatewayUrl } from "../../src/core/delivery.js";
import { SpooledError, UsageError } from "../../src/core/errors.js";
import { connectionRefused, fakeWorld, MemorySpool, reply, spooled, timedOut } from "../helpers/fakes.js";
import type { HttpRequest, HttpResult, TransportOptions } from "../../src/app/ports.js";

// The spool's use cases against the Spool port in memory: what is sent, in which order, what
// stays queued, what is set aside, and what the user is told. The file adapter's own checks
// (planted files, symlinks, permissions, locks across processes) are tested for real in
// test/e2e/spool-attacks.test.ts and test/e2e/spool.test.ts.

const A = "http://gw-a:9091";
const B = "http://gw-b:9091";

const transport = (extra: Partial<TransportOptions> = {}, gateways = [A]): TransportOptions => ({
  gateways: gateways.map(parseGatewayUrl),
  timeoutMs: 100,
  retry: { ...DEFAULT_RETRY_POLICY, retries: 0 },
  headers: {},
  spoolDir: "/var/spool/pushgw",
  ...extra,
});

const sent = (requests: HttpRequest[]) => requests.map((r) => `${r.method} ${r.url}${typeof r.body === "string" ? ` ${r.body.trim()}` : ""}`);

async function write(world: ReturnType<typeof fakeWorld>, options: TransportOptions, method: "PUT" | "POST", path: string, body: string) {
  const gateway = await openGateway(options, world.deps, { command: "push", spoolWriter: createSpoolWriter() });
  return gateway.write({ method, path, body });
}

describe("a write with --spool", () => {
  it("delivers what waits for the gateway first, oldest first, then the new call", async () => {
    const spool = new MemorySpool();
    await spool.save(spooled(A, "PUT", "/metrics/job/x", "m 1\n"));
    await spool.save(spooled(A, "POST", "/metrics/job/y", "n 1\n"));
    const world = fakeWorld(() => reply(200), {}, undefined, spool);
    const [outcome] = await write(world, transport(), "PUT", "/metrics/job/x", "m 2\n");
    expect(outcome!.kind).toBe("delivered");
    expect(sent(world.requests)).toEqual([`PUT ${A}/metrics/job/x m 1`, `POST ${A}/metrics/job/y n 1`, `PUT ${A}/metrics/job/x m 2`]);
    expect(spool.waiting(A)).toEqual([]);
    expect(world.printed.info).toEqual([`delivered 2 call(s) waiting in the spool for ${A}`]);
  });

  it.each([
    ["a refused connection", connectionRefused],
    ["a timeout", timedOut],
    ["a 503", reply(503, "busy")],
  ])("saves the call when the gateway fails with %s, and says why", async (_, failure) => {
    const spool = new MemorySpool();
    const world = fakeWorld(() => failure, {}, undefined, spool);
    const [outcome] = await write(world, transport(), "PUT", "/metrics/job/x", "m 1\n");
    expect(outcome).toMatchObject({ kind: "spooled", url: `${A}/metrics/job/x` });
    expect(outcome!.kind === "spooled" && outcome!.reason?.message).toBeTruthy();
    expect(spool.waiting(A)).toEqual(["PUT /metrics/job/x m 1"]);
    expect(spool.queues.get(A)![0]!.call.savedAt).toBe(world.now());
  });

  it("a refusal for good (400) is not saved: it would fail the same way later", async () => {
    const spool = new MemorySpool();
    const world = fakeWorld(() => reply(400, "bad body\n"), {}, undefined, spool);
    const [outcome] = await write(world, transport(), "PUT", "/metrics/job/x", "m 1\n");
    expect(outcome).toMatchObject({ kind: "failed", status: 400 });
    expect(spool.waiting(A)).toEqual([]);
  });

  it("queues a call behind older calls to the same group that still wait, so an older value never lands last", async () => {
    const spool = new MemorySpool();
    await spool.save(spooled(A, "PUT", "/metrics/job/x", "m 1\n"));
    // The gateway is down while the queue is tried at the start, then back for the new call.
    let answers = 0;
    const world = fakeWorld(() => (answers++ === 0 ? connectionRefused : reply(200)), {}, undefined, spool);
    const [outcome] = await write(world, transport(), "PUT", "/metrics/job/x", "m 2\n");
    expect(outcome!.kind).toBe("spooled");
    expect(sent(world.requests)).toEqual([`PUT ${A}/metrics/job/x m 1`]);
    expect(spool.waiting(A)).toEqual(["PUT /metrics/job/x m 1", "PUT /metrics/job/x m 2"]);
  });

  it("a call to another group is sent at once, even while older calls wait", async () => {
    const spool = new MemorySpool();
    await spool.save(spooled(A, "PUT", "/metrics/job/x", "m 1\n"));
    let answers = 0;
    const world = fakeWorld(() => (answers++ === 0 ? connectionRefused : reply(200)), {}, undefined, spool);
    const [outcome] = await write(world, transport(), "PUT", "/metrics/job/other", "o 1\n");
    expect(outcome!.kind).toBe("delivered");
    expect(spool.waiting(A)).toEqual(["PUT /metrics/job/x m 1"]);
  });

  it("delivers the queue at the start for no longer than FLUSH_AT_START_MS, leaving the rest queued in order", async () => {
    const spool = new MemorySpool();
    for (let i = 1; i <= 5; i++) await spool.save(spooled(A, "PUT", `/metrics/job/j${i}`, `m ${i}\n`));
    const world = fakeWorld(() => reply(200), {}, undefined, spool);
    // Each answer takes 40% of the budget: the third starts past it.
    const slow = world.deps.http;
    const clock = world.deps.clock as { now: () => number; monotonic: () => number; sleep: (ms: number) => Promise<void> };
    (world.deps as { http: typeof slow }).http = async (tls) => {
      const client = await slow(tls);
      return { ...client, send: async (request) => (await clock.sleep(FLUSH_AT_START_MS * 0.4), client.send(request)) };
    };
    await write(world, transport(), "PUT", "/metrics/job/new", "n 1\n");
    expect(sent(world.requests)).toEqual([`PUT ${A}/metrics/job/j1 m 1`, `PUT ${A}/metrics/job/j2 m 2`, `PUT ${A}/metrics/job/j3 m 3`, `PUT ${A}/metrics/job/new n 1`]);
    expect(spool.waiting(A)).toEqual(["PUT /metrics/job/j4 m 4", "PUT /metrics/job/j5 m 5"]);
  });

  it("an unusable spool: says so once and sends straight to the gateway", async () => {
    const unusable = Object.assign(new Error("EROFS: read-only file system, mkdir '/var/spool/pushgw'"), { code: "EROFS" });
    const world = fakeWorld(() => reply(200), {}, undefined, unusable);
    const gateway = await openGateway(transport(), world.deps, { command: "push", spoolWriter: createSpoolWriter() });
    const [first] = await gateway.write({ method: "PUT", path: "/metrics/job/x", body: "m 1\n" });
    const [second] = await gateway.write({ method: "PUT", path: "/metrics/job/y", body: "m 1\n" });
    expect([first!.kind, second!.kind]).toEqual(["delivered", "delivered"]);
    expect(world.printed.warn).toEqual(["the spool /var/spool/pushgw cannot be used (EROFS: read-only file system); sending without it"]);
  });

  it("a spool that cannot be written while the gateway is down: the call fails, saying both", async () => {
    const spool = new MemorySpool();
    spool.faults.save = Object.assign(new Error("ENOSPC: no space left on device, open '/var/spool/pushgw/x'"), { code: "ENOSPC" });
    const world = fakeWorld(() => connectionRefused, {}, undefined, spool);
    const [outcome] = await write(world, transport(), "PUT", "/metrics/job/x", "m 1\n");
    expect(outcome!.kind).toBe("failed");
    expect(outcome!.kind === "failed" && outcome!.error.message).toMatch(/ECONNREFUSED.*; it could not be saved in the spool \/var\/spool\/pushgw \(ENOSPC: no space left on device\)$/);
  });

  it("files in the spool that are not calls pushgw saved are reported, never sent", async () => {
    const spool = new MemorySpool();
    spool.planted = [{ where: "/var/spool/pushgw/set-aside/planted.json", why: "its path is not a grouping path" }];
    const world = fakeWorld(() => reply(200), {}, undefined, spool);
    await write(world, transport(), "PUT", "/metrics/job/x", "m 1\n");
    expect(sent(world.requests)).toEqual([`PUT ${A}/metrics/job/x m 1`]);
    expect(world.printed.warn).toEqual(["a file in the spool is not a call pushgw saved (its path is not a grouping path); it was not sent, and was moved to /var/spool/pushgw/set-aside/planted.json"]);
  });
});

describe("flush", () => {
  const flush = (world: ReturnType<typeof fakeWorld>, extra: Partial<TransportOptions> = {}, gateways = [A], retrySetAside = false) =>
    flushSpool({ transport: transport(extra, gateways), retrySetAside }, world.deps);

  it("delivers every gateway's queue in order, takes and releases each lock, exit 0, silent unless -v", async () => {
    const spool = new MemorySpool();
    await spool.save(spooled(A, "PUT", "/metrics/job/x", "m 1\n"));
    await spool.save(spooled(B, "POST", "/metrics/job/y", "n 1\n"));
    await spool.save(spooled(A, "DELETE", "/metrics/job/x"));
    const world = fakeWorld(() => reply(200), {}, undefined, spool);
    expect(await flush(world, {}, [A, B])).toBe(0);
    expect(sent(world.requests)).toEqual([`PUT ${A}/metrics/job/x m 1`, `DELETE ${A}/metrics/job/x`, `POST ${B}/metrics/job/y n 1`]);
    expect(spool.lockLog).toEqual([`take ${A}`, `release ${A}`, `take ${B}`, `release ${B}`]);
    expect(world.printed.info).toEqual([]);
    expect(world.printed.verbose.filter((line) => line.startsWith("flush"))).toEqual([`flush ${A}: delivered 2`, `flush ${B}: delivered 1`]);
  });

  it("stops a queue at the first passing failure, keeping the order, and says how many wait (SpooledError)", async () => {
    const spool = new MemorySpool();
    await spool.save(spooled(A, "PUT", "/metrics/job/x", "m 1\n"));
    await spool.save(spooled(A, "PUT", "/metrics/job/x", "m 2\n"));
    await spool.save(spooled(A, "PUT", "/metrics/job/x", "m 3\n"));
    const answers: HttpResult[] = [reply(200), reply(503, "busy")];
    const world = fakeWorld(() => answers.shift() ?? reply(200), {}, undefined, spool);
    const error = await flush(world).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(SpooledError);
    expect((error as Error).message).toBe("flush: 2 call(s) still wait in the spool /var/spool/pushgw");
    expect(spool.waiting(A)).toEqual(["PUT /metrics/job/x m 2", "PUT /metrics/job/x m 3"]);
    expect(world.requests).toHaveLength(2);
  });

  it("sets aside a call the gateway refuses for good, goes on with the next, exit 1", async () => {
    const spool = new MemorySpool();
    await spool.save(spooled(A, "PUT", "/metrics/job/x", "m 1\n"));
    await spool.save(spooled(A, "PUT", "/metrics/job/y", "n 1\n"));
    const answers: HttpResult[] = [reply(400, "text format parsing error in line 1\n"), reply(200)];
    const world = fakeWorld(() => answers.shift()!, {}, undefined, spool);
    expect(await flush(world)).toBe(1);
    expect(spool.waiting(A)).toEqual([]);
    expect(spool.setAsideEntries.map((e) => e.call.path)).toEqual(["/metrics/job/x"]);
    expect(world.printed.error.map((e) => e.message)).toEqual([expect.stringMatching(/^a call saved in the spool was refused, and set aside in \/var\/spool\/pushgw\/set-aside\/000001\.json: .*400.*text format parsing error/)]);
    expect(world.printed.info).toEqual([`flush ${A}: delivered 1, 1 set aside`]);
  });

  it("--retry-set-aside puts set-aside calls back first and sends them", async () => {
    const spool = new MemorySpool();
    const entry = { id: "000009", call: spooled(A, "PUT", "/metrics/job/x", "m 1\n") };
    spool.setAsideEntries.push(entry);
    const world = fakeWorld(() => reply(200), {}, undefined, spool);
    expect(await flush(world, {}, [A], true)).toBe(0);
    expect(sent(world.requests)).toEqual([`PUT ${A}/metrics/job/x m 1`]);
    expect(world.printed.info).toEqual([]);
    expect(world.printed.verbose).toContain("flush: put 1 set-aside call(s) back into their queues");
  });

  it("the secrets of this run go only to the gateway it names; another gateway's 401 keeps its calls queued", async () => {
    const spool = new MemorySpool();
    await spool.save(spooled(A, "PUT", "/metrics/job/x", "m 1\n"));
    await spool.save(spooled(B, "PUT", "/metrics/job/y", "n 1\n"));
    const world = fakeWorld((request) => (request.url.startsWith(B) ? reply(401, "Unauthorized\n") : reply(200)), {}, undefined, spool);
    const error = await flush(world, { credentials: { kind: "bearer", token: { value: "tok-A" } }, headers: { "X-Team": "a" } }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(SpooledError);
    const toA = world.requests.find((r) => r.url.startsWith(A))!;
    const toB = world.requests.find((r) => r.url.startsWith(B))!;
    expect(toA.headers["authorization"]).toBe("Bearer tok-A");
    expect(Object.entries(toA.headers)).toContainEqual([expect.stringMatching(/^x-team$/i), "a"]);
    expect(JSON.stringify(toB.headers)).not.toMatch(/tok-A|X-Team/i);
    expect(spool.waiting(B)).toEqual(["PUT /metrics/job/y n 1"]);
    expect(world.printed.warn).toContain(`${B} wants credentials; its calls stay in the spool until a run names it: pushgw flush -g ${B} with its --user or --bearer-token-file`);
  });

  it("a gateway this run names that refuses its credentials (403) keeps its calls queued, and says so", async () => {
    const spool = new MemorySpool();
    await spool.save(spooled(A, "PUT", "/metrics/job/x", "m 1\n"));
    const world = fakeWorld(() => reply(403, "Forbidden\n"), {}, undefined, spool);
    await expect(flush(world, { credentials: { kind: "bearer", token: { value: "tok-A" } } })).rejects.toBeInstanceOf(SpooledError);
    expect(spool.waiting(A)).toEqual(["PUT /metrics/job/x m 1"]);
    expect(world.printed.warn).toContain(`${A} refused the credentials of this run (401/403); its calls stay in the spool`);
  });

  it("a queue another live pushgw is delivering is left to it", async () => {
    const spool = new MemorySpool();
    await spool.save(spooled(A, "PUT", "/metrics/job/x", "m 1\n"));
    spool.lockedByOthers.add(A);
    const world = fakeWorld(() => reply(200), {}, undefined, spool);
    await expect(flush(world)).rejects.toBeInstanceOf(SpooledError);
    expect(world.requests).toEqual([]);
    expect(world.printed.info).toEqual([`flush ${A}: delivered 0, 1 still waiting (another pushgw is delivering them)`]);
  });

  it("an empty spool: says so only with -v, exit 0, nothing sent", async () => {
    const world = fakeWorld(() => reply(200), {}, undefined, new MemorySpool());
    expect(await flush(world)).toBe(0);
    expect(world.requests).toEqual([]);
    expect(world.printed.info).toEqual([]);
    expect(world.printed.verbose).toEqual(["flush: the spool /var/spool/pushgw is empty"]);
  });

  it("a spool that cannot be used is a usage error naming it (exit 2)", async () => {
    const world = fakeWorld(() => reply(200), {}, undefined, Object.assign(new Error("ENOENT: no such file or directory, scandir '/var/spool/pushgw'"), { code: "ENOENT" }));
    const error = await flush(world).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(UsageError);
    expect((error as UsageError).exitCode).toBe(2);
    expect((error as Error).message).toBe("flush: the spool /var/spool/pushgw cannot be used (ENOENT: no such file or directory)");
  });

  it("a spool that fails while delivering: the problem is said, the calls stay counted", async () => {
    const spool = new MemorySpool();
    await spool.save(spooled(A, "PUT", "/metrics/job/x", "m 1\n"));
    spool.faults.remove = Object.assign(new Error("EROFS: read-only file system, unlink '/var/spool/pushgw/a'"), { code: "EROFS" });
    const world = fakeWorld(() => reply(200), {}, undefined, spool);
    await expect(flush(world)).rejects.toBeInstanceOf(SpooledError);
    expect(world.printed.warn).toEqual([`the spool /var/spool/pushgw could not be delivered for ${A} (EROFS: read-only file system)`]);
    expect(spool.lockLog).toEqual([`take ${A}`, `release ${A}`]);
  });
});
