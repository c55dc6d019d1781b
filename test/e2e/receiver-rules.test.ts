import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { homedir, tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { findGroup, readGroups, startPushgateway, unusedPort, type RunningGateway } from "../helpers/pushgateway.js";
import { runCli } from "../helpers/run-cli.js";
import { todaysStack } from "../helpers/todays-stack.js";

/**
 * The checker follows the gateway pushed to (src/core/receiver-rules.ts): input that only
 * Pushgateway 1.11 stores as written is sent there after asking the gateway (/api/v1/status),
 * asked only for such input, remembered for a while in the private cache directory, and refused
 * by 1.5.1's rules where the gateway cannot tell. Against today's gateway (with and without
 * --push.enable-utf8-names, whatever world the suite runs in) and Debian 12's 1.5.1.
 */
let utf8: RunningGateway;
let plain: RunningGateway;
let old: RunningGateway;
let cacheHome: string;
beforeAll(async () => {
  const binary = todaysStack().pushgateway;
  // Not PUSHGATEWAY_ARGS' flags (CI's third world): each gateway here is what its name says.
  const args = process.env["PUSHGATEWAY_ARGS"];
  delete process.env["PUSHGATEWAY_ARGS"];
  try {
    [utf8, plain, old] = await Promise.all([
      startPushgateway(["--push.enable-utf8-names"], 0, binary),
      startPushgateway([], 0, binary),
      // Debian 12's own, whatever PUSHGATEWAY_BIN names.
      startPushgateway([], 0, "/usr/bin/prometheus-pushgateway"),
    ]);
  } finally {
    if (args !== undefined) process.env["PUSHGATEWAY_ARGS"] = args;
  }
  // Below HOME, which is private: never below the temporary directory, where it is not kept.
  cacheHome = mkdtempSync(join(homedir(), ".pushgw-test-cache-"));
}, 120_000);
afterAll(async () => {
  await Promise.all([utf8?.stop(), plain?.stop(), old?.stop()]);
  if (cacheHome) rmSync(cacheHome, { recursive: true, force: true });
});

const FRACTIONAL = '# TYPE h histogram\nh_bucket{le="1"} 0.5\nh_bucket{le="+Inf"} 1.5\nh_sum 2\nh_count 1.5\n';
const UTF8 = '# HELP "my.metric" Rows \\"copied\\".\n{"my.metric","http.status"="200"} 1\n';

const push = (url: string, job: string, input: string, env: Record<string, string> = {}) => runCli(["push", "-v", "-g", url, "-j", job, "--no-instance", "-f", "-"], { input, env });

describe("what only Pushgateway 1.11 takes, sent where it runs", () => {
  it("an ordinary push asks the gateway nothing", async () => {
    const run = await push(utf8.url, "ordinary", "m 1\n");
    expect(run.code, run.stderr).toBe(0);
    expect(run.stderr).not.toContain("/api/v1/status");
  });

  it("fractional counts land as written on 1.11, after one question", async () => {
    const run = await push(plain.url, "fraction", FRACTIONAL);
    expect(run.code, run.stderr).toBe(0);
    expect(run.stderr).toContain(`GET ${plain.url}/api/v1/status -> 200`);
    const group = findGroup(await readGroups(plain.url), { job: "fraction" }) as Record<string, { metrics: Array<{ count?: string; buckets?: Record<string, string> }> }>;
    expect(group["h"]!.metrics[0]).toMatchObject({ count: "1.5", buckets: { "1": "0.5" } });
  });

  it("UTF-8 names and \\\" in HELP land on a gateway with --push.enable-utf8-names", async () => {
    const run = await push(utf8.url, "utf8", UTF8);
    expect(run.code, run.stderr).toBe(0);
    const text = await (await fetch(`${utf8.url}/metrics`)).text();
    expect(text).toContain('# HELP my_metric Rows "copied".');
    expect(text).toMatch(/^\{"my\.metric","http\.status"="200",instance="",job="utf8"\} 1$|^my_metric\{http_status="200",instance="",job="utf8"\} 1$/m);
    const group = findGroup(await readGroups(utf8.url), { job: "utf8" });
    expect(Object.keys(group ?? {})).toContain("my.metric");
  });

  it("UTF-8 names to a 1.11 gateway without the flag: refused before sending, saying to start it with --push.enable-utf8-names", async () => {
    const run = await push(plain.url, "utf8", UTF8);
    expect(run.code).toBe(2);
    expect(run.stderr).toContain('stdin:1: metric name "my.metric" is a UTF-8 name');
    expect(run.stderr).toContain("start the gateway with --push.enable-utf8-names");
    expect(findGroup(await readGroups(plain.url), { job: "utf8" }), "nothing was sent").toBeUndefined();
    // What the gateway itself says of the same bytes: it refuses them.
    const answer = await fetch(`${plain.url}/metrics/job/curl`, { method: "PUT", body: UTF8 });
    expect(answer.status).toBe(400);
  });

  it("on 1.5.1 the same input is refused by its rules (exit 2, nothing sent), as 1.5.1 would store it otherwise", async () => {
    const run = await push(old.url, "fraction", FRACTIONAL);
    expect(run.code).toBe(2);
    expect(run.stderr).toContain(`GET ${old.url}/api/v1/status -> 200`);
    expect(run.stderr).toContain("a Pushgateway before 1.11 (or one that did not say its version) refuses it");
    expect(findGroup(await readGroups(old.url), { job: "fraction" })).toBeUndefined();
  });

  it("a gateway that cannot say its version gets 1.5.1's rules", async () => {
    // --dry-run asks nothing: nothing is known, so the strict rules hold.
    const run = await runCli(["push", "--dry-run", "-g", plain.url, "-j", "dry", "--no-instance", "-f", "-"], { input: FRACTIONAL });
    expect(run.code).toBe(2);
    expect(run.stderr).toContain("(or one that did not say its version) refuses it; Pushgateway 1.11 or newer takes it");
  });
});

describe("UTF-8 names end to end: METRIC arguments, --label, list, --match, delete", () => {
  it("a gateway with --push.enable-utf8-names takes them all; list shows the names quoted; delete --label and --match find the groups", async () => {
    const pushed = await runCli(["add", "-g", utf8.url, "-j", "otel", "--no-instance", "-l", "service.name=api", "--type", "gauge", "http.server.duration=0.25"]);
    expect(pushed.code, pushed.stderr).toBe(0);
    const group = findGroup(await readGroups(utf8.url), { job: "otel", "service.name": "api" });
    expect(group, "the group has the label service.name").toBeDefined();
    expect(Object.keys(group!)).toContain("http.server.duration");

    const listed = await runCli(["list", "-g", utf8.url, "--match", "service.name=api"]);
    expect(listed.code, listed.stderr).toBe(0);
    expect(listed.stdout).toContain('"service.name"="api"');

    const second = await runCli(["add", "-g", utf8.url, "-j", "otel", "--no-instance", "-l", "service.name=web", "m=1"]);
    expect(second.code, second.stderr).toBe(0);
    const deleted = await runCli(["delete", "-g", utf8.url, "-j", "otel", "--no-instance", "-l", "service.name=api"]);
    expect(deleted.code, deleted.stderr).toBe(0);
    expect(findGroup(await readGroups(utf8.url), { job: "otel", "service.name": "api" }), "deleted").toBeUndefined();
    const matched = await runCli(["delete", "-g", utf8.url, "--match", "service.name=~w.*", "--yes"]);
    expect(matched.code, matched.stderr).toBe(0);
    expect(findGroup(await readGroups(utf8.url), { job: "otel", "service.name": "web" }), "deleted by --match").toBeUndefined();
  });

  it("a gateway without the flag: --label service.name is refused before sending, saying to start the gateway with --push.enable-utf8-names", async () => {
    for (const gw of [plain, old]) {
      const run = await runCli(["add", "-g", gw.url, "-j", "otel", "--no-instance", "-l", "service.name=api", "m=1"]);
      expect(run.code, run.stderr).toBe(2);
      expect(run.stderr).toContain('--label service.name=…: "service.name" is a UTF-8 label name');
      expect(run.stderr).toContain(gw === plain ? "start the gateway with --push.enable-utf8-names" : "a Pushgateway before 1.11 (or one that did not say its version) refuses it");
      expect(findGroup(await readGroups(gw.url), { job: "otel" }), "nothing was sent").toBeUndefined();
      const deleted = await runCli(["delete", "-g", gw.url, "-j", "otel", "--no-instance", "-l", "service.name=api"]);
      expect(deleted.code).toBe(2);
    }
  });

  it("wrap --label service.name: the job's outcome lands with the label on a gateway with the flag; refused before the job runs on one without", async () => {
    const ok = await runCli(["wrap", "-g", utf8.url, "-j", "wrap8", "--no-instance", "-l", "service.name=api", "--", "true"]);
    expect(ok.code, ok.stderr).toBe(0);
    expect(findGroup(await readGroups(utf8.url), { job: "wrap8", "service.name": "api" }), "the outcome landed in the group").toBeDefined();
    const refused = await runCli(["wrap", "-g", plain.url, "-j", "wrap8", "--no-instance", "-l", "service.name=api", "--", "sh", "-c", "echo ran"]);
    expect(refused.code).toBe(2);
    expect(refused.stdout).toBe("");
    expect(refused.stderr).toContain("start the gateway with --push.enable-utf8-names");
    expect(findGroup(await readGroups(plain.url), { job: "wrap8" }), "nothing was sent").toBeUndefined();
  });

  it("wrap --label service.name with the gateway down: the job runs and its status passes through; a warning says the gateway could not be asked", async () => {
    const dead = `http://127.0.0.1:${await unusedPort()}`;
    const run = await runCli(["wrap", "-g", dead, "--retries", "0", "-j", "wrap8-down", "--no-instance", "-l", "service.name=api", "--", "sh", "-c", "echo ran; exit 3"], { env: { XDG_CACHE_HOME: cacheHome } });
    expect(run.stdout).toBe("ran\n");
    expect(run.code, run.stderr).toBe(3);
    expect(run.stderr).toContain(`could not ask ${dead} whether it takes UTF-8 label names; the job runs`);
  });

  it("the gateway's own refusal of a UTF-8 name is shown with the hint to start it with --push.enable-utf8-names", async () => {
    // As if pushgw had been told wrongly that it takes them: the path sent escaped, as for a gateway with the flag.
    const answer = await fetch(`${plain.url}/metrics/job/x`, { method: "PUT", body: '{"my.metric"} 1\n' });
    expect(answer.status).toBe(400);
    const memoryHome = mkdtempSync(join(homedir(), ".pushgw-test-cache-"));
    try {
      const { writeFileSync, mkdirSync } = await import("node:fs");
      mkdirSync(join(memoryHome, "pushgw"), { mode: 0o700 });
      writeFileSync(join(memoryHome, "pushgw", "receivers.json"), JSON.stringify({ [plain.url]: { pushgateway: { at: Date.now(), facts: { version: "1.11.2", utf8Names: true } } } }));
      const run = await runCli(["add", "-g", plain.url, "-j", "stale", "--no-instance", "-f", "-"], { input: '{"my.metric"} 1\n', env: { XDG_CACHE_HOME: memoryHome } });
      expect(run.code).toBe(1);
      expect(run.stderr).toContain('invalid metric name "my.metric"');
      expect(run.stderr).toContain("start the gateway with --push.enable-utf8-names");
    } finally {
      rmSync(memoryHome, { recursive: true, force: true });
    }
  });
});

describe("what a gateway other than the one remembered would store otherwise is asked every time", () => {
  it("--label service.name, remembered as 1.11 with UTF-8 names, to a gateway without them: refused before sending, nothing lands under U__service_2e_name", async () => {
    const memoryHome = mkdtempSync(join(homedir(), ".pushgw-test-cache-"));
    try {
      const { writeFileSync, mkdirSync } = await import("node:fs");
      mkdirSync(join(memoryHome, "pushgw"), { mode: 0o700 });
      writeFileSync(join(memoryHome, "pushgw", "receivers.json"), JSON.stringify({ [plain.url]: { pushgateway: { at: Date.now(), facts: { version: "1.11.2", utf8Names: true } } } }));
      const run = await runCli(["push", "-v", "-g", plain.url, "-j", "swapped", "--no-instance", "-l", "service.name=a", "-f", "-"], { input: "m 1\n", env: { XDG_CACHE_HOME: memoryHome } });
      expect(run.code, run.stderr).toBe(2);
      expect(run.stderr).toContain("/api/v1/status");
      expect(run.stderr).toContain("start the gateway with --push.enable-utf8-names");
      expect(findGroup(await readGroups(plain.url), { job: "swapped" }), "landed").toBeUndefined();
    } finally {
      rmSync(memoryHome, { recursive: true, force: true });
    }
  });
});

describe("doctor's repairs for groups with UTF-8 label names", () => {
  it("a stale group with service.name: the printed delete is one pushgw takes, and it deletes exactly that group", async () => {
    expect((await runCli(["add", "-g", utf8.url, "-j", "stale8", "--no-instance", "-l", "service.name=a", "m=1"])).code).toBe(0);
    await new Promise((resolve) => setTimeout(resolve, 2500));
    const run = await runCli(["doctor", "-g", utf8.url, "--json", "--older-than", "2s"]);
    const json = JSON.parse(run.stdout) as { findings: Array<{ kind: string; summary: string; repairs: Array<{ command: string; path: string }> }> };
    const stale = json.findings.find((f) => f.kind === "stale" && f.summary.includes("stale8"))!;
    expect(stale.summary).toContain('{job="stale8", "service.name"="a"}');
    expect(stale.repairs).toEqual([{ command: `pushgw delete --gateway ${utf8.url} --job stale8 --no-instance --label service.name=a`, method: "DELETE", path: "/metrics/job/stale8/U__service_2e_name/a" }]);
    const pasted = await runCli(stale.repairs[0]!.command.split(" ").slice(1));
    expect(pasted.code, pasted.stderr).toBe(0);
    expect(findGroup(await readGroups(utf8.url), { job: "stale8" }), "deleted").toBeUndefined();
  });
});

describe("what the gateway said is remembered per URL, in the private cache directory only", () => {
  it("the second push that needs it asks nothing: the answer is in receivers.json; a fractional count is asked every time", async () => {
    const env = { XDG_CACHE_HOME: cacheHome };
    const first = await push(utf8.url, "remembered", FRACTIONAL, env);
    expect(first.code, first.stderr).toBe(0);
    expect(first.stderr).toContain("/api/v1/status");
    const memory = JSON.parse(readFileSync(join(cacheHome, "pushgw", "receivers.json"), "utf8")) as Record<string, { pushgateway?: { facts: unknown } }>;
    expect(memory[utf8.url]?.pushgateway?.facts).toEqual({ version: todaysVersion(), utf8Names: true });
    // A quoted name: a gateway other than the one remembered would refuse it with its own words.
    const second = await push(utf8.url, "remembered", '"quoted_total" 1\n', env);
    expect(second.code, second.stderr).toBe(0);
    expect(second.stderr).not.toContain("/api/v1/status");
    expect(second.stderr).toContain("(remembered)");
    // A fractional count: a 1.5.1 behind the same URL would store it as 0 without a word.
    const third = await push(utf8.url, "remembered", FRACTIONAL, env);
    expect(third.code, third.stderr).toBe(0);
    expect(third.stderr).toContain("/api/v1/status");
    expect(third.stderr).not.toContain("(remembered)");
  });

  it("a cache directory below the temporary directory is not used", async () => {
    const temporary = mkdtempSync(join(tmpdir(), "pushgw-cache-"));
    try {
      const run = await push(utf8.url, "tmp-cache", FRACTIONAL, { XDG_CACHE_HOME: temporary });
      expect(run.code, run.stderr).toBe(0);
      expect(existsSync(join(temporary, "pushgw", "receivers.json"))).toBe(false);
    } finally {
      rmSync(temporary, { recursive: true, force: true });
    }
  });
});

function todaysVersion(): string {
  return /(\d+\.\d+\.\d+)/.exec(todaysStack().pushgateway)![1]!;
}
