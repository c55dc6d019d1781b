import { spawnSync } from "node:child_process";
import { mkdtempSync, readdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterEach, describe, expect, it } from "vitest";
import { family, findGroup, readGroups, startPushgateway, unusedPort, type RunningGateway } from "../helpers/pushgateway.js";
import { spoolFolderName } from "../../src/core/spool.js";
import { ensureTool } from "../helpers/prometheus.js";
import { BIN, NODE, runCli } from "../helpers/run-cli.js";

const node = process.execPath;
const job = (name: string) => fileURLToPath(new URL(`../fixtures/jobs/${name}`, import.meta.url));
const started: RunningGateway[] = [];
afterEach(async () => {
  await Promise.all(started.splice(0).map((g) => g.stop()));
});

function newSpool(): string {
  return mkdtempSync(join(tmpdir(), "pushgw-spool-"));
}

/** Every file below the spool directory, with its mode and content. */
function spoolFiles(dir: string): Array<{ path: string; mode: number; content: string }> {
  const out: Array<{ path: string; mode: number; content: string }> = [];
  const walk = (d: string) => {
    for (const name of readdirSync(d)) {
      const path = join(d, name);
      const info = statSync(path);
      if (info.isDirectory()) walk(path);
      else out.push({ path, mode: info.mode & 0o777, content: readFileSync(path, "utf8") });
    }
  };
  walk(dir);
  return out;
}

async function gatewayAt(port: number): Promise<RunningGateway> {
  const gw = await startPushgateway([], port);
  started.push(gw);
  return gw;
}

describe("--spool", () => {
  it("saves what a dead gateway did not take (exit 75), in order, then flush delivers it when the gateway is back", async () => {
    const spool = newSpool();
    const port = await unusedPort();
    const url = `http://127.0.0.1:${port}`;
    const push = (value: string) =>
      runCli(["add", "-g", url, "--spool", spool, "--retries", "0", "-j", "spooled", "--no-instance", "-u", "pusher:hunter2-secret", "-H", "X-Token: tok-271828", `m=${value}`]);
    const first = await push("1");
    expect(first.code).toBe(75);
    expect(first.stderr).toMatch(/saved in the spool .*, to be sent later:\nPOST .*: not delivered \(.*ECONNREFUSED/);
    const second = await push("2");
    expect(second.code).toBe(75);
    expect(second.stderr).toMatch(/queued behind earlier calls to this group/);

    const files = spoolFiles(spool);
    expect(files).toHaveLength(2);
    for (const f of files) {
      expect(f.mode).toBe(0o600);
      expect(f.content).not.toMatch(/hunter2|tok-271828|pusher/);
    }

    const gw = await gatewayAt(port);
    // Quiet when all went well (a cron line mails only when something is wrong); -v says what was done.
    const flushed = await runCli(["flush", "--spool", spool, "-g", url, "-u", "pusher:hunter2-secret", "-v"]);
    expect(flushed.stderr.split("\n").filter((line) => line.startsWith("flush"))).toEqual([`flush ${url}: delivered 2`]);
    expect(flushed.code).toBe(0);
    expect(family(findGroup(await readGroups(gw.url), { job: "spooled" }), "m")?.metrics[0]?.value).toBe("2");
    expect(spoolFiles(spool).filter((f) => f.path.endsWith(".json"))).toEqual([]);
  });

  it("the next pushgw run to that gateway delivers what waits before its own push", async () => {
    const spool = newSpool();
    const port = await unusedPort();
    const url = `http://127.0.0.1:${port}`;
    expect((await runCli(["add", "-g", url, "--spool", spool, "--retries", "0", "-j", "earlier", "m=1"])).code).toBe(75);
    const gw = await gatewayAt(port);
    const next = await runCli(["add", "-g", url, "--spool", spool, "-j", "later", "m=1"]);
    expect(next.code).toBe(0);
    expect(next.stderr).toMatch(/delivered 1 call\(s\) waiting in the spool/);
    const groups = await readGroups(gw.url);
    expect(groups.map((g) => g.labels["job"]).sort()).toEqual(["earlier", "later"]);
  });

  it("while another run holds the queue, a new push to the same group waits behind it", async () => {
    const spool = newSpool();
    const port = await unusedPort();
    const url = `http://127.0.0.1:${port}`;
    expect((await runCli(["add", "-g", url, "--spool", spool, "--retries", "0", "-j", "held", "--no-instance", "m=1"])).code).toBe(75);
    const gw = await gatewayAt(port);
    // A live process (this one) holds the gateway's delivery lock.
    const folder = readdirSync(spool)[0]!;
    writeFileSync(join(spool, folder, ".lock"), String(process.pid));
    const queued = await runCli(["add", "-g", url, "--spool", spool, "-j", "held", "--no-instance", "m=2"]);
    expect(queued.code).toBe(75);
    expect(queued.stderr).toMatch(/queued behind earlier calls/);
    expect(findGroup(await readGroups(gw.url), { job: "held" })).toBeUndefined();
    const busy = await runCli(["flush", "--spool", spool]);
    expect(busy.code).toBe(75);
    expect(busy.stderr).toMatch(/2 still waiting \(another pushgw is delivering them\)/);
    // The holder is gone (a pid that does not exist): its lock is taken over.
    writeFileSync(join(spool, folder, ".lock"), "999999999");
    const flushed = await runCli(["flush", "--spool", spool]);
    expect(flushed.code).toBe(0);
    expect(family(findGroup(await readGroups(gw.url), { job: "held" }), "m")?.metrics[0]?.value).toBe("2");
  });

  it("never sends a half-written entry (a crash while saving)", async () => {
    const spool = newSpool();
    const port = await unusedPort();
    const url = `http://127.0.0.1:${port}`;
    expect((await runCli(["add", "-g", url, "--spool", spool, "--retries", "0", "-j", "whole", "m=1"])).code).toBe(75);
    const folder = join(spool, readdirSync(spool)[0]!);
    writeFileSync(join(folder, ".tmp-000000000000001-00000001-000000.json"), '{"version":1,"method":"POST","baseUrl":"' + url + '","path":"/metrics/job/half","body":"m 1\\n"');
    const gw = await gatewayAt(port);
    expect((await runCli(["flush", "--spool", spool])).code).toBe(0);
    const jobs = (await readGroups(gw.url)).map((g) => g.labels["job"]);
    expect(jobs).toEqual(["whole"]);
  });

  it("many runs at once, then two flushes at once: every push delivered exactly once", async () => {
    const spool = newSpool();
    const port = await unusedPort();
    const url = `http://127.0.0.1:${port}`;
    const runs = await Promise.all(Array.from({ length: 12 }, (_, i) => runCli(["add", "-g", url, "--spool", spool, "--retries", "0", "-j", "crowd", "-i", `n${i}`, "m=1"])));
    expect(runs.map((r) => r.code)).toEqual(Array.from({ length: 12 }, () => 75));
    const gw = await gatewayAt(port);
    const [a, b] = await Promise.all([runCli(["flush", "--spool", spool]), runCli(["flush", "--spool", spool])]);
    // One delivered all twelve; the other found the queue busy or already empty.
    expect([a.code, b.code].every((c) => c === 0 || c === 75)).toBe(true);
    expect((await runCli(["flush", "--spool", spool])).code).toBe(0);
    // The gateway's own count of pushes it answered: exactly one per saved call.
    const metrics = await (await fetch(`${gw.url}/metrics`)).text();
    expect(/pushgateway_http_requests_total\{code="200",handler="push",method="post"\} (\d+)/.exec(metrics)?.[1]).toBe("12");
    expect((await readGroups(gw.url)).filter((g) => g.labels["job"] === "crowd")).toHaveLength(12);
  });

  it("a saved push the gateway refuses for good is set aside, not retried forever (exit 1)", async () => {
    const spool = newSpool();
    const port = await unusedPort();
    const url = `http://127.0.0.1:${port}`;
    expect((await runCli(["add", "-g", url, "--spool", spool, "--retries", "0", "-j", "refused", "-t", "counter", "kind_clash=1"])).code).toBe(75);
    const gw = await gatewayAt(port);
    await runCli(["add", "-g", gw.url, "-j", "owner", "-t", "gauge", "kind_clash=1"]);
    const flushed = await runCli(["flush", "--spool", spool]);
    expect(flushed.code).toBe(1);
    expect(flushed.stderr).toMatch(/refused, and set aside in .*set-aside[\s\S]*delivered 0, 1 set aside/);
    // Kept in a folder named as the gateway's queue is, so --retry-set-aside knows where it belongs.
    const [folder, ...others] = readdirSync(join(spool, "set-aside"));
    expect(others).toEqual([]);
    expect(readdirSync(join(spool, "set-aside", folder!))).toHaveLength(1);
  });

  it("wrap: a dead gateway keeps the job's status; the outcome waits in the spool and arrives later", async () => {
    const spool = newSpool();
    const port = await unusedPort();
    const url = `http://127.0.0.1:${port}`;
    const run = await runCli(["wrap", "-g", url, "--spool", spool, "--retries", "0", "-j", "wrapped-spool", "--no-instance", "--", node, job("exit.mjs"), "3"]);
    expect(run.code).toBe(3);
    expect(run.stderr).toMatch(/warning: the outcome of the job was saved in the spool/);
    const gw = await gatewayAt(port);
    expect((await runCli(["flush", "--spool", spool])).code).toBe(0);
    const g = findGroup(await readGroups(gw.url), { job: "wrapped-spool" });
    expect(family(g, "job_exit_code")?.metrics[0]?.value).toBe("3");
    expect(family(g, "job_running")?.metrics[0]?.value).toBe("0");
  });

  it("flush without a spool is a usage error; an empty spool is fine", async () => {
    expect((await runCli(["flush"])).code).toBe(2);
    const place = newSpool();
    const empty = await runCli(["flush", "--spool", place]);
    expect(empty).toMatchObject({ code: 0, stdout: "", stderr: "" });
    expect((await runCli(["flush", "--spool", place, "-v"])).stderr).toMatch(/is empty/);
  });
});

describe("--spool: each entry is read at most once per run, and only the run's gateway's", () => {
  /** How many times the run opened each file: strace's record of every openat, in every thread. */
  function opensOf(log: string): Map<string, number> {
    const counts = new Map<string, number>();
    for (const match of readFileSync(log, "utf8").matchAll(/openat\([^,]*, "([^"]+)"/g)) counts.set(match[1]!, (counts.get(match[1]!) ?? 0) + 1);
    return counts;
  }

  it.each<[string, string[], number]>([
    ["add to another group", ["add", "-j", "mine", "m=1"], 75],
    ["wrap (a start and an outcome push; the job's status)", ["wrap", "-j", "mine", "--", "true"], 0],
  ])("%s, with a dead gateway's queue of 3 entries for another group and 2 for another gateway: each of its entries opened once, the other gateway's never", async (_, argv, code) => {
    const spool = newSpool();
    const own = `http://127.0.0.1:${await unusedPort()}`;
    const other = `http://127.0.0.1:${await unusedPort()}`;
    const body = Array.from({ length: 20_000 }, (_, i) => `records_${i} 1\n`).join("");
    const metrics = join(newSpool(), "metrics.prom");
    writeFileSync(metrics, body);
    for (const [url, times] of [[own, 3], [other, 2]] as const) {
      for (let i = 0; i < times; i += 1) expect((await runCli(["add", "-g", url, "--spool", spool, "--retries", "0", "-j", "theirs", "--no-instance", "-f", metrics])).code).toBe(75);
    }
    const ownEntries = readdirSync(join(spool, spoolFolderName(own))).map((n) => join(spool, spoolFolderName(own), n));
    const otherEntries = readdirSync(join(spool, spoolFolderName(other))).map((n) => join(spool, spoolFolderName(other), n));
    expect(ownEntries).toHaveLength(3);
    const log = join(newSpool(), "strace.log");
    const [command, ...rest] = argv;
    const run = spawnSync(ensureTool("strace", "strace"), ["-f", "-qq", "-s", "4096", "-e", "trace=openat", "-o", log, NODE, BIN, command!, "-g", own, "--spool", spool, "--retries", "0", "--no-instance", ...rest], { encoding: "utf8" });
    expect(run.status, run.stderr).toBe(code);
    const opens = opensOf(log);
    expect(ownEntries.map((path) => opens.get(path) ?? 0)).toEqual([1, 1, 1]);
    expect(otherEntries.map((path) => opens.get(path) ?? 0)).toEqual([0, 0]);
  });
});
