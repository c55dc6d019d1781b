import { spawnSync } from "node:child_process";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { readGroups, startPushgateway, unusedPort, type RunningGateway } from "../helpers/pushgateway.js";
import { runCli } from "../helpers/run-cli.js";

/**
 * list, prune, delete --match and doctor with two gateways in PUSHGW_GATEWAY (the two-gateway
 * recipe of docs/options.md): each gateway in turn, labelled, against two real Pushgateways; a
 * gateway that is down is reported with its URL and the other is still done (exit 1).
 */

let a: RunningGateway;
let b: RunningGateway;
let down: string;

beforeAll(async () => {
  [a, b] = await Promise.all([startPushgateway(), startPushgateway()]);
  down = `http://127.0.0.1:${await unusedPort()}`;
});
afterAll(async () => {
  await Promise.all([a?.stop(), b?.stop()]);
});

const both = () => ({ PUSHGW_GATEWAY: `${a.url} ${b.url}` });
const pushgw = (args: string[], env: Record<string, string> = both()) => runCli(args, { env });
const jobs = async (url: string) => (await readGroups(url)).map((g) => g.labels["job"]).sort();

beforeEach(async () => {
  // Each test starts from empty gateways, then a group on both and one on each alone.
  for (const gw of [a, b]) for (const job of await jobs(gw.url)) await fetch(`${gw.url}/metrics/job/${job}`, { method: "DELETE" });
  expect((await pushgw(["add", "-j", "shared", "--no-instance", "m=1"])).code).toBe(0);
  expect((await pushgw(["add", "-j", "only-a", "--no-instance", "m=1"], { PUSHGW_GATEWAY: a.url })).code).toBe(0);
  expect((await pushgw(["add", "-j", "only-b", "--no-instance", "m=1"], { PUSHGW_GATEWAY: b.url })).code).toBe(0);
});

describe("list", () => {
  it("lists each gateway under a line naming it", async () => {
    const run = await pushgw(["list"]);
    expect(run).toMatchObject({ code: 0, stderr: "" });
    const lines = run.stdout.trimEnd().split("\n");
    expect(lines.filter((l) => l.startsWith("gateway "))).toEqual([`gateway ${a.url}:`, `gateway ${b.url}:`]);
    const section = (url: string) => {
      const start = lines.indexOf(`gateway ${url}:`);
      const end = lines.findIndex((l, i) => i > start && l.startsWith("gateway "));
      return lines.slice(start + 1, end === -1 ? undefined : end).map((l) => l.split(/\s+/)[0]);
    };
    expect(section(a.url)).toEqual(["JOB", "only-a", "shared"]);
    expect(section(b.url)).toEqual(["JOB", "only-b", "shared"]);
  });

  it("--json: one array, each group with its gateway; one gateway keeps the shape without it", async () => {
    const run = await pushgw(["list", "--json"]);
    expect(run.code).toBe(0);
    const groups = JSON.parse(run.stdout) as Array<Record<string, unknown>>;
    expect(groups.map((g) => [g["gateway"], (g["labels"] as Record<string, string>)["job"]])).toEqual([
      [a.url, "only-a"],
      [a.url, "shared"],
      [b.url, "only-b"],
      [b.url, "shared"],
    ]);
    expect(Object.keys(groups[0]!).sort()).toEqual(["gateway", "labels", "lastPushSuccessful", "lastPushTime", "lastRun", "metrics"]);
    const one = JSON.parse((await pushgw(["list", "--json"], { PUSHGW_GATEWAY: a.url })).stdout) as Array<Record<string, unknown>>;
    expect(one).toHaveLength(2);
    expect(Object.keys(one[0]!).sort()).toEqual(["labels", "lastPushSuccessful", "lastPushTime", "lastRun", "metrics"]);
  });

  it("one gateway down: the other is still listed, the failure names its gateway, exit 1", async () => {
    const table = await pushgw(["list", "--retries", "0"], { PUSHGW_GATEWAY: `${down} ${b.url}` });
    expect(table.code).toBe(1);
    expect(table.stdout).toContain(`gateway ${down}:\ngateway ${b.url}:\nJOB`);
    expect(table.stdout).toMatch(/^only-b /m);
    expect(table.stderr).toMatch(new RegExp(`^pushgw: .*${down.replace(/[.:/]/g, "\\$&")}.*could not connect`, "m"));
    const json = await pushgw(["list", "--json", "--retries", "0"], { PUSHGW_GATEWAY: `${b.url} ${down}` });
    expect(json.code).toBe(1);
    expect((JSON.parse(json.stdout) as Array<{ gateway: string }>).map((g) => g.gateway)).toEqual([b.url, b.url]);
  });
});

describe("prune and delete --match", () => {
  it("delete --match --yes deletes from each gateway", async () => {
    const run = await pushgw(["delete", "--match", "job=~shared|only-a", "--yes"]);
    expect(run.code).toBe(0);
    expect(run.stderr).toBe(`gateway ${a.url}:\ndelete --match: deleted 2 group(s)\ngateway ${b.url}:\ndelete --match: deleted 1 group(s)\n`);
    expect(await jobs(a.url)).toEqual([]);
    expect(await jobs(b.url)).toEqual(["only-b"]);
  });

  it("prune --dry-run lists each gateway's groups under its name; --yes prunes both", async () => {
    await new Promise((r) => setTimeout(r, 1500));
    const dry = await pushgw(["prune", "--older-than", "1s", "--match", "job=shared", "--dry-run"]);
    expect(dry.code).toBe(0);
    expect(dry.stdout).toMatch(new RegExp(`^gateway ${a.url}:\\nwould delete \\{job="shared"\\}.*\\ngateway ${b.url}:\\nwould delete \\{job="shared"\\}.*\\n$`));
    expect(await jobs(a.url)).toEqual(["only-a", "shared"]);
    const run = await pushgw(["prune", "--older-than", "1s", "--yes"]);
    expect(run.code).toBe(0);
    expect(await jobs(a.url)).toEqual([]);
    expect(await jobs(b.url)).toEqual([]);
  });

  it("one gateway down: the other is still pruned, exit 1", async () => {
    const run = await pushgw(["prune", "--older-than", "0s", "--yes", "--retries", "0"], { PUSHGW_GATEWAY: `${down} ${b.url}` });
    expect(run.code).toBe(1);
    expect(run.stderr).toContain(`gateway ${b.url}:\nprune: deleted 2 group(s)`);
    expect(run.stderr).toMatch(/could not connect/);
    expect(await jobs(b.url)).toEqual([]);
  });
});

describe("doctor", () => {
  it("examines each gateway in turn; --json is an array of reports", async () => {
    const run = await pushgw(["doctor"]);
    expect(run.code).toBe(0);
    expect(run.stdout.match(/^gateway \S+:/gm)).toEqual([`gateway ${a.url}:`, `gateway ${b.url}:`]);
    const json = JSON.parse((await pushgw(["doctor", "--json"])).stdout) as Array<{ gateway: { url: string; reachable: boolean } }>;
    expect(json.map((r) => r.gateway.url)).toEqual([a.url, b.url]);
  });

  it("one gateway down: the other is still examined, exit 1", async () => {
    const run = await pushgw(["doctor", "--json", "--retries", "0"], { PUSHGW_GATEWAY: `${down} ${b.url}` });
    expect(run.code).toBe(1);
    const json = JSON.parse(run.stdout) as Array<{ gateway: { url: string; reachable: boolean } }>;
    expect(json.map((r) => [r.gateway.url, r.gateway.reachable])).toEqual([
      [down, false],
      [b.url, true],
    ]);
  });

  it("--fix --yes repairs the gateway that needs it and leaves the other alone", async () => {
    // An empty-value twin of a group, as another client makes it (pushgw refuses to).
    const put = (url: string) => spawnSync("curl", ["-s", "-o", "/dev/null", "-w", "%{http_code}", "-X", "PUT", "--data-binary", "m 1\n", url], { encoding: "utf8" }).stdout;
    expect(put(`${b.url}/metrics/job/twin`)).toBe("200");
    expect(put(`${b.url}/metrics/job/twin/instance@base64/=`)).toBe("400");
    expect(await jobs(b.url)).toEqual(["only-b", "shared", "twin", "twin"]);
    const run = await pushgw(["doctor", "--fix", "--yes"]);
    expect(run.code).toBe(0);
    expect(run.stderr).toMatch(/^done: pushgw delete /m);
    expect(run.stdout).toMatch(new RegExp(`^gateway ${a.url.replace(/[.:/]/g, "\\$&")}: [\\s\\S]*^gateway ${b.url.replace(/[.:/]/g, "\\$&")}: [\\s\\S]*after the repairs:`, "m"));
    expect(await jobs(a.url)).toEqual(["only-a", "shared"]);
    expect(await jobs(b.url)).toEqual(["only-b", "shared", "twin"]);
  });
});
