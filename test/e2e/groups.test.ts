import { spawnSync } from "node:child_process";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startFaultProxy } from "../helpers/fault-proxy.js";
import { findGroup, readGroups, startPushgateway, type RunningGateway } from "../helpers/pushgateway.js";
import { ensureTool } from "../helpers/prometheus.js";
import { BIN, runCli } from "../helpers/run-cli.js";

let gw: RunningGateway;
let env: Record<string, string>;

beforeAll(async () => {
  gw = await startPushgateway();
  env = { PUSHGW_GATEWAY: gw.url };
});
afterAll(async () => {
  await gw?.stop();
});

const pushgw = (args: string[], input?: string) => runCli(args, { env, input });
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const jobsOf = async (job: string) => (await readGroups(gw.url)).filter((g) => g.labels["job"] === job).map((g) => g.labels);

/**
 * Keys that are awkward to delete: empty values, slashes, Unicode, dots, no instance.
 * Never both {job=X} and {job=X, instance=""}: those two expose the same series, and the
 * second push poisons the gateway: it refuses every push until one of the two is deleted.
 */
const AWKWARD: Array<Record<string, string>> = [
  { instance: "", tier: "" },
  { instance: "a/b", path: "/var/tmp" },
  { instance: "Προμηθεύς" },
  { instance: "..", dot: "." },
  {},
  { instance: "plain", env: "a b+c%20" },
];

async function pushAwkward(job: string): Promise<void> {
  for (const labels of AWKWARD) {
    if (Object.values(labels).includes("")) {
      // pushgw refuses empty grouping values; other clients make such groups, so curl does.
      const path = Object.entries(labels).map(([name, value]) => `/${name}@base64/${Buffer.from(value).toString("base64url") || "="}`).join("");
      const made = spawnSync("curl", ["-sS", "-f", "--data-binary", "m 1\n", `${gw.url}/metrics/job/${job}${path}`]);
      expect(made.status, made.stderr.toString()).toBe(0);
      continue;
    }
    const flags = Object.entries(labels).flatMap(([name, value]) => (name === "instance" ? ["-i", value] : ["-l", `${name}=${value}`]));
    // Untyped, as curl pushes it: every m in this file's gateway must have one type.
    const args = ["add", "-j", job, ...(labels["instance"] === undefined ? ["--no-instance"] : []), ...flags, "m=1"];
    const run = await pushgw(args);
    expect(run.stderr, args.join(" ")).toBe("");
  }
}

describe("list", () => {
  it("shows every group sorted by job, with exact keys in --json", async () => {
    await pushAwkward("list-awkward");
    await pushgw(["add", "-j", "list-a", "--no-instance", "x=1", "y=2"]);
    const table = await pushgw(["list", "--match", "job=~list-.*"]);
    expect(table.code).toBe(0);
    const lines = table.stdout.trimEnd().split("\n");
    expect(lines[0]).toMatch(/^JOB\s+GROUPING LABELS\s+LAST PUSH\s+STATUS\s+METRICS$/);
    expect(lines[1]).toMatch(/^list-a\s+-\s+(just now|\d+s ago)\s+ok\s+2$/);
    expect(lines.slice(2).every((l) => l.startsWith("list-awkward"))).toBe(true);
    expect(lines).toHaveLength(2 + AWKWARD.length);

    const json = JSON.parse((await pushgw(["list", "--json", "--match", "job=list-awkward"])).stdout) as Array<{ labels: Record<string, string>; lastPushTime: number; lastPushSuccessful: boolean; metrics: string[] }>;
    const canonical = (labels: Record<string, string>) => Object.fromEntries(Object.entries(labels).sort());
    expect(json.map((g) => canonical(g.labels)).sort(byJson)).toEqual(AWKWARD.map((l) => canonical({ job: "list-awkward", ...l })).sort(byJson));
    for (const g of json) {
      expect(g.metrics).toEqual(["m"]);
      expect(g.lastPushSuccessful).toBe(true);
      expect(Math.abs(g.lastPushTime - Date.now() / 1000)).toBeLessThan(60);
    }
  });

  it("recovers the key of a group that pushed a family named `labels`", async () => {
    await pushgw(["add", "-j", "tricky", "-i", "h1", "labels=1", "last_push_successful=2"]);
    const json = JSON.parse((await pushgw(["list", "--json", "--match", "job=tricky"])).stdout) as Array<{ labels: Record<string, string>; metrics: string[]; lastPushSuccessful: boolean }>;
    expect(json).toEqual([{ labels: { job: "tricky", instance: "h1" }, lastPushTime: expect.any(Number), lastPushSuccessful: true, metrics: ["labels", "last_push_successful"], lastRun: null }]);
    expect((await pushgw(["delete", "--match", "job=tricky", "--yes"])).code).toBe(0);
    expect(await jobsOf("tricky")).toEqual([]);
  });

  it("shows a group whose last push failed", async () => {
    await pushgw(["add", "-j", "fails", "--no-instance", "-t", "counter", "clash_metric=1"]);
    await pushgw(["add", "-j", "fails-2", "--no-instance", "-t", "gauge", "clash_metric=1"]);
    const table = await pushgw(["list", "--match", "job=fails-2"]);
    expect(table.stdout).toMatch(/fails-2\s+-\s+never\s+last push failed (just now|\d+s ago)\s+0/);
  });

  it("tells a wrapped job's story: a job that fails every run reads failed, not ok, and is not overdue after its first run", async () => {
    const sh = (script: string) => ["sh", "-c", script];
    expect((await pushgw(["wrap", "-j", "story-ok", "--no-instance", "--", ...sh("exit 0")])).code).toBe(0);
    expect((await pushgw(["wrap", "-j", "story-exit", "--no-instance", "--expect-every", "1h", "--", ...sh("exit 3")])).code).toBe(3);
    expect((await pushgw(["wrap", "-j", "story-killed", "--no-instance", "--", ...sh("kill -KILL $$")])).code).toBe(137);
    expect((await pushgw(["wrap", "-j", "story-missing", "--no-instance", "--", "/nonexistent/job"])).code).toBe(127);
    const table = await pushgw(["list", "--match", "job=~story-.*"]);
    const row = (job: string) => table.stdout.split("\n").find((line) => line.startsWith(`${job} `)) ?? "";
    expect(row("story-ok")).toMatch(/\ssucceeded (just now|\d+s ago)\s+\d+$/);
    expect(row("story-exit")).toMatch(/\sfailed with exit status 3 (just now|\d+s ago); never succeeded\s+\d+$/);
    expect(row("story-exit")).not.toMatch(/overdue|\sok\s/);
    expect(row("story-killed")).toMatch(/killed by SIGKILL \(exit status 137\)/);
    expect(row("story-missing")).toMatch(/failed with exit status 127 \(command not found\)/);

    const json = JSON.parse((await pushgw(["list", "--json", "--match", "job=story-exit"])).stdout) as Array<{ lastRun: Record<string, unknown> }>;
    expect(json[0]!.lastRun).toMatchObject({ state: "failed", exitCode: 3, signal: null, lastSuccessTime: null, overdue: false });
  });

  it("says so when nothing matches, and refuses a bad selector", async () => {
    expect(await pushgw(["list", "--match", "job=none-such"])).toMatchObject({ code: 0, stdout: "", stderr: "no group matches\n" });
    const bad = await pushgw(["list", "--match", "job=~("]);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/^pushgw: --match "job=~\(": "\(" is not a valid regular expression \(unterminated group\)\nhint: /);
  });
});

describe("delete --match", () => {
  it("deletes every matching group by its exact key, awkward ones included, and nothing else", async () => {
    await pushAwkward("doomed");
    await pushgw(["add", "-j", "survivor", "m=1"]);
    const run = await pushgw(["delete", "--match", "job=doomed", "--yes"]);
    expect(run.stderr).toBe(`delete --match: deleted ${AWKWARD.length} group(s)\n`);
    expect(run.code).toBe(0);
    expect(await jobsOf("doomed")).toEqual([]);
    expect(await jobsOf("survivor")).toHaveLength(1);
  });

  it("several matchers must all hold", async () => {
    for (const i of ["a1", "a2", "b1"]) await pushgw(["add", "-j", "multi", "-i", i, "m=1"]);
    await pushgw(["delete", "--match", "job=multi", "--match", "instance=~a.*", "--match", "instance!=a2", "--yes"]);
    expect((await jobsOf("multi")).map((l) => l["instance"]).sort()).toEqual(["a2", "b1"]);
  });

  it("refuses without a terminal and without --yes, and with a grouping key", async () => {
    await pushgw(["add", "-j", "kept", "m=1"]);
    const refused = await pushgw(["delete", "--match", "job=kept"]);
    expect(refused.code).toBe(2);
    expect(refused.stderr).toMatch(/refusing to delete without a terminal[\s\S]*--yes/);
    const mixed = await pushgw(["delete", "--match", "job=kept", "-j", "kept", "--yes"]);
    expect(mixed.code).toBe(2);
    expect(await jobsOf("kept")).toHaveLength(1);
  });

  it("asks on a terminal, and deletes only after yes", async () => {
    ensureTool("script", "bsdutils"); // runs pushgw on a pseudo-terminal
    await pushgw(["add", "-j", "asked", "m=1"]);
    const ask = (answer: string) =>
      spawnSync("script", ["-qec", `${process.execPath} ${BIN} delete --match job=asked`, "/dev/null"], {
        input: `${answer}\n`,
        env: { ...process.env, ...env, NO_COLOR: "1" },
        encoding: "utf8",
      });
    const no = ask("n");
    expect(no.stdout).toMatch(/delete \{job="asked", instance=".*"\}[\s\S]*Delete 1 group\(s\) from .*\? \[y\/N\][\s\S]*nothing deleted/);
    expect(await jobsOf("asked")).toHaveLength(1);
    const yes = ask("y");
    expect(yes.stdout).toMatch(/delete --match: deleted 1 group\(s\)/);
    expect(await jobsOf("asked")).toEqual([]);
  });
});

describe("prune", () => {
  it("deletes groups whose last successful push is older than D, keeps fresh ones; --dry-run deletes nothing", async () => {
    await pushgw(["add", "-j", "old", "-i", "one", "m=1"]);
    await pushgw(["add", "-j", "old", "-i", "two/x", "m=1"]);
    // Wide margins, and "fresh" pushed again right before each prune: on a loaded machine a
    // pushgw run may take seconds, and the test must not depend on how many.
    await sleep(6000);
    await pushgw(["add", "-j", "fresh", "m=1"]);
    const dry = await pushgw(["prune", "--older-than", "5s", "--match", "job=~old|fresh", "--dry-run"]);
    expect(dry.stdout).toMatch(/^would delete \{job="old", instance="one"\} {2}last push \d+s ago\nwould delete \{job="old", instance="two\/x"\} {2}last push \d+s ago\n$/);
    expect(await jobsOf("old")).toHaveLength(2);
    await pushgw(["add", "-j", "fresh", "m=1"]);
    const run = await pushgw(["prune", "--older-than", "5s", "--match", "job=~old|fresh", "--yes"]);
    expect(run.code).toBe(0);
    expect(run.stderr).toBe("prune: deleted 2 group(s)\n");
    expect(await jobsOf("old")).toEqual([]);
    expect(await jobsOf("fresh")).toHaveLength(1);
  });

  it("a group whose pushes all failed counts by its failure time", async () => {
    await pushgw(["add", "-j", "type-owner", "--no-instance", "-t", "counter", "owned_metric=1"]);
    await pushgw(["add", "-j", "only-failures", "--no-instance", "-t", "gauge", "owned_metric=1"]);
    expect(findGroup(await readGroups(gw.url), { job: "only-failures" })).toBeDefined();
    const young = await pushgw(["prune", "--older-than", "1h", "--match", "job=only-failures", "--yes"]);
    expect(young.stderr).toMatch(/no group matches/);
    await sleep(1100);
    const run = await pushgw(["prune", "--older-than", "1s", "--match", "job=only-failures", "--yes"]);
    expect(run.code).toBe(0);
    expect(await jobsOf("only-failures")).toEqual([]);
  });

  it("does not prune a group pushed again after the listing, and says so", async () => {
    await pushgw(["add", "-j", "race", "-i", "stays", "m=1"]);
    await pushgw(["add", "-j", "race", "-i", "goes", "m=1"]);
    await sleep(1200);
    // Right after the gateway has answered prune's listing, someone pushes to one of the
    // groups, and the answer reaches prune late, so its view is stale before any DELETE.
    const proxy = await startFaultProxy(gw.url, [], async ({ method, index }) => {
      if (method !== "GET" || index !== 0) return;
      return async () => {
        const again = await fetch(`${gw.url}/metrics/job/race/instance/stays`, { method: "POST", body: "m 2\n" });
        expect(again.status).toBe(200);
        await sleep(1200);
      };
    });
    try {
      const run = await runCli(["prune", "--older-than", "1s", "-g", proxy.url, "--match", "job=race", "--yes"]);
      expect(run.code).toBe(0);
      expect(run.stderr).toContain('skipped {job="race", instance="stays"}: pushed again since it was listed');
      expect((await jobsOf("race")).map((l) => l["instance"])).toEqual(["stays"]);
    } finally {
      await proxy.stop();
    }
  });

  it("needs --older-than", async () => {
    const run = await pushgw(["prune", "--yes"]);
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(/--older-than/);
  });

  it("prunes 1,000 groups with awkward keys exactly", async () => {
    const keys = Array.from({ length: 1000 }, (_, i) => (i % 4 === 0 ? `/metrics/job/bulk/n@base64/${Buffer.from(`${i}/x y`).toString("base64url")}` : `/metrics/job/bulk/n/${i}`));
    for (let i = 0; i < keys.length; i += 50) {
      await Promise.all(keys.slice(i, i + 50).map((k) => fetch(gw.url + k, { method: "POST", body: "bulk_metric 1\n" })));
    }
    expect(await jobsOf("bulk")).toHaveLength(1000);
    await sleep(1100);
    // How long it takes is measured by `npm run bench` (prune 1,000 groups), not here.
    const run = await pushgw(["prune", "--older-than", "1s", "--match", "job=bulk", "--yes"]);
    expect(run.stderr).toBe("prune: deleted 1000 group(s)\n");
    expect(run.code).toBe(0);
    expect(await jobsOf("bulk")).toEqual([]);
  }, 60_000);
});

function byJson(a: Record<string, string>, b: Record<string, string>): number {
  const x = JSON.stringify(Object.entries(a).sort());
  const y = JSON.stringify(Object.entries(b).sort());
  return x < y ? -1 : x > y ? 1 : 0;
}

describe("delete of a group that is not there", () => {
  it("exit 0, but says so, with the groups of that job and the command that deletes each", async () => {
    await pushgw(["add", "-j", "missing-x", "--no-instance", "m=1"]);
    await pushgw(["add", "-j", "missing-x", "-i", "db-1", "-l", "tier=a b", "m=1"]);
    const run = await pushgw(["delete", "-j", "missing-x", "-i", "web-1"]);
    expect(run.code).toBe(0);
    expect(run.stderr).toBe(
      `no group {job="missing-x", instance="web-1"} on ${gw.url}: nothing was deleted\n` +
        `the groups of job "missing-x" there, and the command that deletes each:\n` +
        `  {job="missing-x"}                               pushgw delete --job missing-x --no-instance\n` +
        `  {job="missing-x", instance="db-1", tier="a b"}  pushgw delete --job missing-x --instance db-1 --label 'tier=a b'\n`,
    );
    // Each command, run as printed, deletes its group.
    for (const line of run.stderr.split("\n").filter((l) => l.includes("pushgw delete"))) {
      const command = line.slice(line.indexOf("pushgw delete") + "pushgw ".length);
      const args = command.match(/'[^']*'|\S+/g)!.map((w) => w.replace(/^'|'$/g, ""));
      expect((await pushgw(args)).code).toBe(0);
    }
    expect(await jobsOf("missing-x")).toEqual([]);
  });

  it("of a job with no group at all; -q says nothing; an existing group is deleted silently", async () => {
    const none = await pushgw(["delete", "-j", "never-pushed", "--no-instance"]);
    expect(none).toMatchObject({ code: 0 });
    expect(none.stderr).toMatch(/nothing was deleted\nthe gateway holds no group of job "never-pushed"\n$/);
    expect(await pushgw(["delete", "-q", "-j", "never-pushed", "--no-instance"])).toMatchObject({ code: 0, stderr: "" });
    await pushgw(["add", "-j", "there", "--no-instance", "m=1"]);
    expect(await pushgw(["delete", "-j", "there", "--no-instance"])).toMatchObject({ code: 0, stderr: "" });
  });
});
