import { describe, expect, it } from "vitest";
import { sendWithRetries, type TransportOptions } from "../../src/app/deliver.js";
import { deliverToAll } from "../../src/app/deliver-to-gateways.js";
import { DEFAULT_RETRY_POLICY, parseGatewayUrl } from "../../src/core/delivery.js";
import { GatewayError } from "../../src/core/errors.js";
import { connectionRefused, fakeWorld, reply, timedOut } from "../helpers/fakes.js";

const transport = (retries = 3, gateways = ["http://gw:9091"]): TransportOptions => ({
  gateways: gateways.map(parseGatewayUrl),
  timeoutMs: 100,
  retry: { ...DEFAULT_RETRY_POLICY, retries },
  headers: {},
  secretHeaders: {},
});
const request = { method: "PUT" as const, url: "http://gw:9091/metrics/job/x", headers: {}, body: "m 1\n", timeoutMs: 100 };

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
    if (result.ok) return;
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
    expect(result.ok ? "" : result.error.message).toMatch(/301.*redirect to \/metrics\/job\/other; pushgw does not follow redirects/);
  });
});

describe("deliverToAll", () => {
  it("sends the user agent, content type and URL credentials, and hides nothing it should not send", async () => {
    const world = fakeWorld([reply(200)]);
    await deliverToAll({ method: "POST", path: "/metrics/job/x", body: "m 1\n" }, transport(0, ["http://u:p%40ss@gw:9091/pgw/"]), world.deps);
    expect(world.requests[0]).toMatchObject({
      method: "POST",
      url: "http://gw:9091/pgw/metrics/job/x",
      headers: { "user-agent": "pushgw/9.9.9", "content-type": "text/plain; version=0.0.4", authorization: `Basic ${Buffer.from("u:p@ss").toString("base64")}` },
    });
  });

  it("fails when any of several gateways did not take it, naming each", async () => {
    const world = fakeWorld([reply(200), reply(500, "boom")]);
    const run = deliverToAll({ method: "PUT", path: "/metrics/job/x", body: "m 1\n" }, transport(0, ["http://a:1", "http://b:2"]), world.deps);
    await expect(run).rejects.toThrow(GatewayError);
    await expect(run).rejects.toThrow(/1 of 2 gateways did not take it:\nPUT http:\/\/b:2\/metrics\/job\/x: 500: boom/);
    expect(world.printed.info).toEqual(["ok     PUT http://a:1/metrics/job/x (200)", "FAILED PUT http://b:2/metrics/job/x"]);
  });
});
