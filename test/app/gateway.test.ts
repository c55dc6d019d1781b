import { describe, expect, it } from "vitest";
import { openGateway } from "../../src/app/gateway.js";
import { writeFailure } from "../../src/app/outcomes.js";
import type { CallOutcome, Deps, Http, TransportOptions } from "../../src/app/ports.js";
import { DEFAULT_RETRY_POLICY, parseGatewayUrl } from "../../src/core/delivery.js";
import { GatewayError } from "../../src/core/errors.js";
import { connectionRefused, fakeWorld, reply, timedOut } from "../helpers/fakes.js";

const transport = (retries = 3, gateways = ["http://gw:9091"], extra: Partial<TransportOptions> = {}): TransportOptions => ({
  gateways: gateways.map(parseGatewayUrl),
  timeoutMs: 100,
  retry: { ...DEFAULT_RETRY_POLICY, retries },
  headers: {},
  ...extra,
});
const call = { method: "PUT" as const, path: "/metrics/job/x", body: "m 1\n" };

/** One call to the one gateway, as push sends it. */
async function sendWithRetries(_: unknown, options: TransportOptions, deps: Deps): Promise<CallOutcome & { ok: boolean }> {
  const gateway = await openGateway(options, deps, { command: "push" });
  const [outcome] = await gateway.write(call);
  return { ...outcome!, ok: outcome!.kind === "delivered" };
}
const request = undefined;

describe("sendWithRetries", () => {
  it.each([
    ["503", reply(503)],
    ["502", reply(502)],
    ["429", reply(429)],
    ["408", reply(408)],
    ["a refused connection", connectionRefused],
    ["a timeout", timedOut],
  ])("retries after %s, with growing jittered delays", async (_, failure) => {
    const world = fakeWorld([failure, failure, reply(200)]);
    const result = await sendWithRetries(request, transport(), world.deps);
    expect(result.ok).toBe(true);
    expect(world.requests).toHaveLength(3);
    // random() = 0.5: half the ceiling fixed plus a quarter → 0.75 × 500, 0.75 × 1000
    expect(world.sleeps).toEqual([375, 750]);
  });

  it.each([400, 401, 403, 404, 405, 409, 413])("does not retry %d", async (status) => {
    const world = fakeWorld([reply(status, "nope\n")]);
    const result = await sendWithRetries(request, transport(), world.deps);
    expect(result.ok).toBe(false);
    expect(world.requests).toHaveLength(1);
  });

  it("honours Retry-After in seconds, capped", async () => {
    const world = fakeWorld([reply(503, "", { "retry-after": "2" }), reply(429, "", { "retry-after": "3600" }), reply(200)]);
    await sendWithRetries(request, transport(), world.deps);
    expect(world.sleeps).toEqual([2000, DEFAULT_RETRY_POLICY.maxRetryAfterMs]);
  });

  it("gives up after the retries with the last answer in its words", async () => {
    const world = fakeWorld([reply(503, "busy"), reply(503, "busy"), reply(503, "still busy\n")]);
    const result = await sendWithRetries(request, transport(2), world.deps);
    expect(result.ok).toBe(false);
    if (result.kind !== "failed") return;
    expect(result.error.message).toBe("PUT http://gw:9091/metrics/job/x: 503 (after 3 attempts): still busy");
    expect(result.error.exitCode).toBe(1);
  });

  it("with --retries 0 tries once", async () => {
    const world = fakeWorld([connectionRefused]);
    const result = await sendWithRetries(request, transport(0), world.deps);
    expect(result.ok).toBe(false);
    expect(world.requests).toHaveLength(1);
    expect(world.sleeps).toEqual([]);
  });

  it("never follows a redirect, and says why", async () => {
    const world = fakeWorld([reply(301, "", { location: "/metrics/job/other" })]);
    const result = await sendWithRetries(request, transport(), world.deps);
    expect(world.requests).toHaveLength(1);
    expect(result.kind === "failed" ? result.error.message : "").toMatch(/301.*redirect to \/metrics\/job\/other; pushgw does not follow redirects/);
  });
});

describe("gateway.write", () => {
  it("sends the user agent, content type and URL credentials, and hides nothing it should not send", async () => {
    const world = fakeWorld([reply(200)]);
    const gateway = await openGateway(transport(0, ["http://u:p%40ss@gw:9091/pgw/"]), world.deps, { command: "add" });
    await gateway.write({ method: "POST", path: "/metrics/job/x", body: "m 1\n" });
    expect(world.requests[0]).toMatchObject({
      method: "POST",
      url: "http://gw:9091/pgw/metrics/job/x",
      headers: { "user-agent": "pushgw/9.9.9", "content-type": "text/plain; version=0.0.4", authorization: `Basic ${Buffer.from("u:p@ss").toString("base64")}` },
    });
  });

  it("fails when any of several gateways did not take it, naming each", async () => {
    const world = fakeWorld([reply(200), reply(500, "boom")]);
    const gateway = await openGateway(transport(0, ["http://a:1", "http://b:2"]), world.deps, { command: "push" });
    const outcomes = await gateway.write(call);
    const failure = writeFailure(call, outcomes, undefined);
    expect(failure).toBeInstanceOf(GatewayError);
    expect(failure?.message).toBe("1 of 2 gateways did not take it:\nok      PUT http://a:1/metrics/job/x (200)\nFAILED  PUT http://b:2/metrics/job/x: 500: boom");
    expect(world.printed.info).toEqual([]);
  });

  it("says nothing when every gateway took it", async () => {
    const world = fakeWorld([reply(200), reply(202)]);
    const gateway = await openGateway(transport(0, ["http://a:1", "http://b:2"]), world.deps, { command: "push" });
    expect(writeFailure(call, await gateway.write(call), undefined)).toBeUndefined();
    expect([...world.printed.info, ...world.printed.warn, ...world.printed.result]).toEqual([]);
  });

  it("never throws, even when the HTTP client itself does", async () => {
    const world = fakeWorld([]);
    const broken: Http = {
      send: async () => {
        throw new Error("adapter bug");
      },
      proxyFor: () => undefined,
      close: async () => {},
    };
    const gateway = await openGateway(transport(1), { ...world.deps, http: async () => broken }, { command: "push" });
    const [outcome] = await gateway.write(call);
    expect(outcome).toMatchObject({ kind: "failed" });
    const failing = await openGateway(transport(1), { ...world.deps, http: async () => Promise.reject(new Error("cannot load undici")) }, { command: "push" });
    const [second] = await failing.write(call);
    expect(second?.kind === "failed" && second.error.message).toMatch(/cannot set up the HTTP client: cannot load undici/);
  });

  it("does not retry what another attempt cannot change: an unknown host, https to an http port", async () => {
    const world = fakeWorld([
      { kind: "failure", reason: "unresolved", message: "getaddrinfo ENOTFOUND nowhere" },
      { kind: "failure", reason: "tls-protocol", message: "plain http" },
    ]);
    const first = await sendWithRetries(request, transport(3), world.deps);
    expect(first.kind === "failed" && first.error.message).toMatch(/unknown host: getaddrinfo ENOTFOUND/);
    const second = await sendWithRetries(request, transport(3, ["https://gw:9091"]), world.deps);
    expect(second.kind === "failed" && second.error.hint).toBe("the gateway does not speak TLS on this port; use http://gw:9091");
    expect(world.requests).toHaveLength(2);
  });

  it("says whether credentials were sent when the gateway answers 401", async () => {
    const world = fakeWorld([reply(401, "Unauthorized"), reply(401, "Unauthorized")]);
    const without = await sendWithRetries(request, transport(0), world.deps);
    expect(without.kind === "failed" && without.error.hint).toMatch(/wants credentials: use --user/);
    const withThem = await sendWithRetries(request, transport(0, ["http://alice:wrong@gw:9091"]), world.deps);
    expect(withThem.kind === "failed" && withThem.error.hint).toMatch(/refused the credentials sent/);
  });

  it("refuses --cert without --key (and the reverse) before anything is sent", async () => {
    const world = fakeWorld([]);
    await expect(openGateway(transport(0, undefined, { tls: { certFile: "/c.pem" } }), world.deps, { command: "wrap" })).rejects.toThrow(/--cert needs --key/);
    await expect(openGateway(transport(0, undefined, { tls: { keyFile: "/k.pem" } }), world.deps, { command: "wrap" })).rejects.toThrow(/--key needs --cert/);
    expect(world.requests).toEqual([]);
  });

  it("hides the values of headers that look like secrets in --dry-run", async () => {
    const world = fakeWorld([]);
    const headers = { "Proxy-Authorization": "Basic cHJveHk=", Cookie: "session=abc", "X-Api-Key": "k-123", "X-Scope-OrgID": "team-a" };
    const gateway = await openGateway(transport(0, undefined, { headers, credentials: { kind: "bearer", token: { value: "tok-999" } } }), world.deps, { command: "push" });
    gateway.dryRun(call);
    const printed = world.printed.result.join("\n");
    expect(printed).not.toMatch(/cHJveHk=|session=abc|k-123|tok-999/);
    expect(printed).toMatch(/x-scope-orgid: team-a/);
    expect(printed.match(/<hidden>/g)).toHaveLength(4);
  });
});
