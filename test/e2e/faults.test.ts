import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startFaultProxy } from "../helpers/fault-proxy.js";
import { family, findGroup, readGroups, startPushgateway, type RunningGateway } from "../helpers/pushgateway.js";
import { runCli } from "../helpers/run-cli.js";

let gw: RunningGateway;
beforeAll(async () => {
  gw = await startPushgateway();
});
afterAll(async () => {
  await gw?.stop();
});

describe("faults a real gateway cannot be made to show, through a proxy in front of it", () => {
  it("rides out 503 and 429 with Retry-After, and the push lands", async () => {
    const proxy = await startFaultProxy(gw.url, [
      { kind: "status", status: 503, body: "maintenance", headers: { "retry-after": "1" } },
      { kind: "status", status: 429, headers: { "retry-after": "0" } },
    ]);
    try {
      const started = Date.now();
      const run = await runCli(["add", "-j", "retried", "--no-instance", "-g", proxy.url, "-v", "m=7"]);
      expect(run.code).toBe(0);
      expect(Date.now() - started).toBeGreaterThanOrEqual(1000);
      expect(proxy.seen.map((s) => s.fault)).toEqual(["status", "status", "none"]);
      expect(run.stderr).toMatch(/-> 503[\s\S]*retry 1 of 3 .* in 1000 ms[\s\S]*-> 429[\s\S]*-> 200 OK/);
      expect(family(findGroup(await readGroups(gw.url), { job: "retried" }), "m")?.metrics[0]?.value).toBe("7");
    } finally {
      await proxy.stop();
    }
  });

  it("gives up after --retries with the last answer's words, exit 1", async () => {
    const proxy = await startFaultProxy(gw.url, Array.from({ length: 3 }, () => ({ kind: "status" as const, status: 502, body: "bad gateway upstream" })));
    try {
      const run = await runCli(["add", "-j", "x", "-g", proxy.url, "--retries", "2", "m=1"]);
      expect(run.code).toBe(1);
      expect(run.stderr).toMatch(/502 Bad Gateway \(after 3 attempts\): bad gateway upstream/);
      expect(proxy.seen).toHaveLength(3);
    } finally {
      await proxy.stop();
    }
  });

  it("times out a silent gateway per attempt, then succeeds on the next", async () => {
    const proxy = await startFaultProxy(gw.url, [{ kind: "hang" }]);
    try {
      const run = await runCli(["add", "-j", "slow", "--no-instance", "-g", proxy.url, "--timeout", "300ms", "-v", "m=1"]);
      expect(run.code).toBe(0);
      expect(run.stderr).toMatch(/timed out after \d+ ms: no answer within 300 ms/);
      expect(findGroup(await readGroups(gw.url), { job: "slow" })).toBeDefined();
    } finally {
      await proxy.stop();
    }
  });

  it("a connection cut before the answer is retried", async () => {
    const proxy = await startFaultProxy(gw.url, [{ kind: "cut" }]);
    try {
      const run = await runCli(["add", "-j", "cut", "--no-instance", "-g", proxy.url, "m=1"]);
      expect(run.code).toBe(0);
      expect(proxy.seen).toHaveLength(2);
    } finally {
      await proxy.stop();
    }
  });

  it.each([
    ["another service's greeting (ssh)", "SSH-2.0-OpenSSH_9.2p1 Debian-2+deb12u3\r\n"],
    ["a header block larger than any HTTP client takes", `HTTP/1.1 200 OK\r\nX-Junk: ${"x".repeat(128 * 1024)}\r\n\r\n`],
  ])("an answer that is not HTTP (%s) is said to be one, naming the host, and retried like a cut connection", async (_, bytes) => {
    const proxy = await startFaultProxy(gw.url, [{ kind: "raw", bytes }, { kind: "raw", bytes }]);
    try {
      const run = await runCli(["add", "-j", "not-http", "-g", proxy.url, "--retries", "1", "m=1"]);
      expect(run.code).toBe(1);
      expect(run.stderr).toMatch(new RegExp(`^pushgw: POST ${proxy.url}/metrics/job/not-http/instance/[^:]+: the answer was not HTTP \\(after 2 attempts\\): `));
      expect(run.stderr).toContain(`hint: something other than a Pushgateway answers at ${proxy.url.replace("http://", "")} (another service on that port?)`);
      expect(proxy.seen.map((s) => s.fault)).toEqual(["raw", "raw"]);
    } finally {
      await proxy.stop();
    }
  });

  it("does not retry a 400: the same request would fail the same way", async () => {
    const proxy = await startFaultProxy(gw.url, []);
    try {
      const run = await runCli(["add", "-j", "", "m=1", "-g", proxy.url]);
      expect(run.code).toBe(2);
      expect(proxy.seen).toHaveLength(0);
      // -t gauge: a body longer than a gzip header, so the gateway names the header it could not read.
      const refused = await runCli(["add", "-j", "x", "-g", proxy.url, "-H", "Content-Encoding: gzip", "-t", "gauge", "m=1"]);
      expect(refused.code).toBe(1);
      expect(refused.stderr).toMatch(/400 Bad Request: gzip: invalid header/);
      expect(proxy.seen).toHaveLength(1);
    } finally {
      await proxy.stop();
    }
  });
});
