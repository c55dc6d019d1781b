import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterEach, describe, expect, it } from "vitest";
import { startFaultProxy } from "../helpers/fault-proxy.js";
import { ensureTool } from "../helpers/prometheus.js";
import { family, findGroup, readGroups, startPushgateway, unusedPort, type RunningGateway } from "../helpers/pushgateway.js";
import { BIN, NODE, runCli, startCli } from "../helpers/run-cli.js";

/**
 * doctor against the real gateway, each broken state made for real: what pushgw refuses to
 * make (an empty grouping value beside its twin, a label value that is not UTF-8, two types of
 * one metric) is made with curl, as other clients make it.
 */

const node = process.execPath;
const job = (name: string) => fileURLToPath(new URL(`../fixtures/jobs/${name}`, import.meta.url));
const tmp = mkdtempSync(join(tmpdir(), "pushgw-doctor-"));
let running: RunningGateway[] = [];
const cleanups: Array<() => Promise<void> | void> = [];

afterEach(async () => {
  for (const cleanup of cleanups.splice(0)) await cleanup();
  await Promise.all(running.map((gw) => gw.stop()));
  running = [];
});

async function gateway(extraArgs: string[] = []): Promise<RunningGateway> {
  const gw = await startPushgateway(extraArgs);
  running.push(gw);
  return gw;
}

ensureTool("curl", "curl");
/** curl, as another client would push: returns the HTTP status. */
function curl(method: string, url: string, body?: string): number {
  const args = ["-s", "-o", "/dev/null", "-w", "%{http_code}", "-X", method, url];
  if (body !== undefined) args.push("--data-binary", "@-");
  return Number(spawnSync("curl", args, { input: body, encoding: "utf8" }).stdout);
}

const doctor = (gw: { url: string }, args: string[] = []) => runCli(["doctor", "-g", gw.url, ...args]);

interface DoctorJson {
  gateway: { url: string; reachable: boolean; healthy: boolean; ready: boolean; version: string | null; persistence: boolean | null; metricsEndpointWorks: boolean; clockSkewSeconds: number | null };
  groups: number | null;
  healthy: boolean;
  findings: Array<{ kind: string; severity: string; summary: string; details: string[]; groups: Array<Record<string, string>>; repairs: Array<{ command: string; method: string; path: string }>; advice?: string }>;
  fixed?: Array<{ command: string; done: boolean }>;
  after?: DoctorJson;
}
async function doctorJson(gw: { url: string }, args: string[] = []): Promise<{ code: number | null; json: DoctorJson }> {
  const run = await doctor(gw, ["--json", ...args]);
  return { code: run.code, json: JSON.parse(run.stdout) as DoctorJson };
}
const kinds = (json: DoctorJson) => json.findings.map((f) => f.kind);

/** Runs a command doctor printed, as a person would paste it, with this pushgw standing for `pushgw`. */
function paste(command: string): { status: number | null; stderr: string } {
  const line = command.replace(/^pushgw /, `${NODE} ${BIN} `);
  const run = spawnSync("/bin/sh", ["-c", line], { encoding: "utf8" });
  return { status: run.status, stderr: run.stderr };
}

const metricsStatus = async (gw: RunningGateway) => (await fetch(`${gw.url}/metrics`)).status;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe("a healthy gateway", () => {
  it("exit 0, and a report that says what the gateway is", async () => {
    const gw = await gateway();
    expect((await runCli(["wrap", "-g", gw.url, "-j", "fine", "--expect-every", "1h", "--", node, job("exit.mjs"), "0"])).code).toBe(0);
    const run = await doctor(gw);
    expect(run.code).toBe(0);
    expect(run.stderr).toBe("");
    expect(run.stdout).toMatch(
      new RegExp(`^gateway ${gw.url}: Pushgateway \\d+\\.\\d+\\.\\d+, healthy, ready, persistence off, clock in step with this host's\\n1 group\\n\\nnote: persistence is off \\(--persistence\\.file is empty\\): every group is lost when the gateway restarts\\n\\nno problems \\(1 note\\)\\n$`),
    );
    const { code, json } = await doctorJson(gw);
    expect(code).toBe(0);
    expect(json).toMatchObject({ healthy: true, groups: 1, gateway: { url: gw.url, reachable: true, healthy: true, ready: true, persistence: false, metricsEndpointWorks: true } });
    expect(json.gateway.version).toMatch(/^\d+\.\d+\.\d+$/);
    expect(json.gateway.clockSkewSeconds).not.toBeNull();
    expect(Math.abs(json.gateway.clockSkewSeconds!)).toBeLessThan(2);
    expect(kinds(json)).toEqual(["persistence-off"]);
  });

  it("a /metrics larger than pushgw reads still counts as working", async () => {
    const gw = await gateway();
    const big = Array.from({ length: 4000 }, (_, i) => `big_metric{n="${i}"} ${i}\n`).join("");
    expect(curl("PUT", `${gw.url}/metrics/job/big`, big)).toBe(200);
    const { code, json } = await doctorJson(gw);
    expect(kinds(json)).toEqual(["persistence-off"]);
    expect(json.gateway.metricsEndpointWorks).toBe(true);
    expect(code).toBe(0);
  });
});

describe("groups that break the gateway", () => {
  it("{job=x} beside {job=x, instance=\"\"}: /metrics fails; doctor names the twin to delete, and its command repairs it", async () => {
    const gw = await gateway();
    expect(curl("PUT", `${gw.url}/metrics/job/twin`, "kept_metric 1\n")).toBe(200);
    expect(curl("PUT", `${gw.url}/metrics/job/twin/instance@base64/=`, "kept_metric 2\n")).toBe(400);
    expect(await metricsStatus(gw)).toBe(500);

    const run = await doctor(gw);
    expect(run.code).toBe(1);
    expect(run.stdout).toContain(`problem: GET /metrics fails: Prometheus cannot scrape the gateway (it answers 500)\n  the cause is below\n`);
    expect(run.stdout).toContain(
      `problem: {job="twin"} and {job="twin", instance=""} expose the same series: to Prometheus an empty label value is no label, so the gateway's /metrics fails and it refuses every push\n` +
        `  keep {job="twin"}: 1 metric family, last successful push `,
    );
    expect(run.stdout).toContain(`  delete {job="twin", instance=""}: it holds nothing but a failed push\n  repair: pushgw delete --gateway ${gw.url} --job twin --instance ''\n`);
    expect(run.stdout).toMatch(/\n2 problems, 1 note; pushgw doctor --fix repairs 1 of them\n$/);

    const { json } = await doctorJson(gw);
    expect(kinds(json)).toEqual(["metrics-endpoint-fails", "empty-value-twins", "persistence-off"]);
    expect(json.gateway.metricsEndpointWorks).toBe(false);
    const repair = json.findings[1]!.repairs;
    expect(repair).toEqual([{ command: `pushgw delete --gateway ${gw.url} --job twin --instance ''`, method: "DELETE", path: "/metrics/job/twin/instance@base64/=" }]);

    expect(paste(repair[0]!.command).status).toBe(0);
    expect(await metricsStatus(gw)).toBe(200);
    expect(family(findGroup(await readGroups(gw.url), { job: "twin" }), "kept_metric")?.metrics[0]?.value).toBe("1");
    expect((await doctor(gw)).code).toBe(0);
  });

  it("--fix --yes deletes the twin, reports the gateway again, and exits 0 when all is well", async () => {
    const gw = await gateway();
    expect(curl("PUT", `${gw.url}/metrics/job/twin/team/a`, "kept_metric 1\n")).toBe(200);
    expect(curl("PUT", `${gw.url}/metrics/job/twin/team/a/instance@base64/=`, "kept_metric 2\n")).toBe(400);
    const run = await doctor(gw, ["--fix", "--yes"]);
    expect(run.stderr).toBe(`done: pushgw delete --gateway ${gw.url} --job twin --instance '' --label team=a\n`);
    expect(run.stdout).toMatch(/\n2 problems, 1 note\n\nafter the repairs:\ngateway .*\n1 group\n\nnote: persistence is off .*\n\nno problems \(1 note\)\n$/);
    expect(run.code).toBe(0);
    expect(await metricsStatus(gw)).toBe(200);
    expect((await readGroups(gw.url)).map((g) => g.labels)).toEqual([{ job: "twin", team: "a" }]);
  });

  it("a label value that is not UTF-8 is found by its exact bytes, and --fix deletes exactly that group", async () => {
    const gw = await gateway();
    expect(curl("PUT", `${gw.url}/metrics/job/fine`, "fine_metric 1\n")).toBe(200);
    expect(curl("PUT", `${gw.url}/metrics/job/bytes/a@base64/-_8`, "m 1\n")).toBe(400);
    expect(await metricsStatus(gw)).toBe(500);
    const { code, json } = await doctorJson(gw);
    expect(code).toBe(1);
    const found = json.findings.find((f) => f.kind === "label-not-utf8")!;
    expect(found.summary).toBe(`{job="bytes", a="\uFFFD\uFFFD"} has a label value that is not UTF-8 (shown as \uFFFD): the gateway's /metrics fails and it refuses every push`);
    expect(found.repairs).toEqual([{ command: `curl -X DELETE ${gw.url}/metrics/job/bytes/a@base64/-_8`, method: "DELETE", path: "/metrics/job/bytes/a@base64/-_8" }]);

    const fixed = await doctorJson(gw, ["--fix", "--yes"]);
    expect(fixed.json.fixed).toEqual([{ command: found.repairs[0]!.command, done: true }]);
    expect(kinds(fixed.json.after!)).toEqual(["persistence-off"]);
    expect(fixed.code).toBe(0);
    expect(await metricsStatus(gw)).toBe(200);
    expect((await readGroups(gw.url)).map((g) => g.labels)).toEqual([{ job: "fine" }]);
  });

  it("one metric held with two types (a gateway that takes unchecked pushes): which groups hold which type", async () => {
    const gw = await gateway(["--push.disable-consistency-check"]);
    expect(curl("PUT", `${gw.url}/metrics/job/first`, "# TYPE clashing counter\nclashing 1\n")).toBe(202);
    await sleep(50);
    expect(curl("PUT", `${gw.url}/metrics/job/second`, "# TYPE clashing gauge\nclashing 2\n")).toBe(202);
    await sleep(200);
    const { code, json } = await doctorJson(gw);
    expect(code).toBe(1);
    expect(kinds(json)).toEqual(["metrics-endpoint-fails", "type-clash", "persistence-off", "consistency-check-off"]);
    const clash = json.findings[1]!;
    expect(clash.summary).toBe('clashing is held as COUNTER and GAUGE in different groups: pushes of it are refused ("is not a COUNTER") and /metrics fails');
    expect(clash.details).toEqual(['COUNTER in {job="first"}', 'GAUGE in {job="second"}', "COUNTER was there first: every group holding another type was pushed after every group holding it"]);
    // The type held first stays; the newcomer goes.
    expect(clash.repairs.map((r) => r.command)).toEqual([`pushgw delete --gateway ${gw.url} --job second --no-instance`]);
    expect(clash.advice).toBe("or push clashing again as COUNTER into those groups");
  });

  it("different HELP texts for one metric are a note: exit 0", async () => {
    const gw = await gateway();
    expect(curl("PUT", `${gw.url}/metrics/job/a`, "# HELP helped one\nhelped 1\n")).toBe(200);
    expect(curl("PUT", `${gw.url}/metrics/job/b`, "# HELP helped two\nhelped 2\n")).toBe(200);
    const { code, json } = await doctorJson(gw);
    expect(code).toBe(0);
    expect(json.findings[0]).toMatchObject({
      kind: "help-clash",
      severity: "note",
      summary: "helped has 2 different HELP texts in different groups; the gateway serves one of them",
      details: ['"one" in {job="a"}', '"two" in {job="b"}'],
      repairs: [],
    });
  });
});

describe("groups that need attention", () => {
  it("a last push that failed: how long ago; a group that holds nothing but failures can go", async () => {
    const gw = await gateway();
    expect(curl("PUT", `${gw.url}/metrics/job/owner`, "# TYPE owned counter\nowned 1\n")).toBe(200);
    expect(curl("PUT", `${gw.url}/metrics/job/victim`, "victim_ok 1\n")).toBe(200);
    expect(curl("POST", `${gw.url}/metrics/job/victim`, "# TYPE owned gauge\nowned 1\n")).toBe(400);
    expect(curl("PUT", `${gw.url}/metrics/job/ghost`, "# TYPE owned gauge\nowned 1\n")).toBe(400);
    const { code, json } = await doctorJson(gw);
    expect(code).toBe(1);
    const failed = json.findings.filter((f) => f.kind === "push-failed");
    expect(failed.map((f) => f.summary)).toEqual([
      expect.stringMatching(/^the last push to \{job="ghost"\} failed (just now|\d+s ago) \(last successful push: never\)$/),
      expect.stringMatching(/^the last push to \{job="victim"\} failed (just now|\d+s ago) \(last successful push: (just now|\d+s ago)\)$/),
    ]);
    expect(failed[0]!.repairs.map((r) => r.command)).toEqual([`pushgw delete --gateway ${gw.url} --job ghost --no-instance`]);
    expect(failed[1]!.repairs).toEqual([]);
    expect(failed[1]!.details).toEqual(["the gateway still serves what the last successful push sent; push again with -v to see the gateway's answer"]);
  });

  it("stale groups with --older-than: --fix deletes them and keeps the fresh one", async () => {
    const gw = await gateway();
    await runCli(["add", "-g", gw.url, "-j", "old", "--no-instance", "m=1"]);
    // Wide margins: on a loaded machine each pushgw run may take a second or more.
    await sleep(5500);
    await runCli(["add", "-g", gw.url, "-j", "fresh", "--no-instance", "m=1"]);
    const { code, json } = await doctorJson(gw, ["--older-than", "5s"]);
    expect(code).toBe(1);
    expect(json.findings.filter((f) => f.kind === "stale").map((f) => f.summary)).toEqual([expect.stringMatching(/^\{job="old"\} has had no successful push for longer than 5s \(last: \d+s ago\)$/)]);
    expect((await doctor(gw)).code).toBe(0);
    const fixed = await doctor(gw, ["--older-than", "5s", "--fix", "--yes"]);
    expect(fixed.stderr).toBe(`done: pushgw delete --gateway ${gw.url} --job old --no-instance\n`);
    expect(fixed.code).toBe(0);
    expect((await readGroups(gw.url)).map((g) => g.labels)).toEqual([{ job: "fresh" }]);
  });

  it("an overdue wrapped job: said, with the delete to run if it was retired; --fix leaves it alone", async () => {
    const gw = await gateway();
    expect((await runCli(["wrap", "-g", gw.url, "-j", "late", "--no-instance", "--expect-every", "1s", "--grace", "0s", "--", node, job("exit.mjs"), "0"])).code).toBe(0);
    await sleep(1500);
    const { code, json } = await doctorJson(gw);
    expect(code).toBe(1);
    expect(json.findings[0]).toMatchObject({
      kind: "overdue",
      summary: expect.stringMatching(/^\{job="late"\} is overdue: its last success was \d+s ago, and it expects one every 1s \(wrap --expect-every plus --grace\)$/),
      repairs: [],
      advice: `if the job was retired: pushgw delete --gateway ${gw.url} --job late --no-instance`,
    });
    const fix = await doctor(gw, ["--fix", "--yes"]);
    expect(fix.code).toBe(1);
    expect(fix.stderr).toBe("doctor --fix: nothing to repair\n");
    expect(findGroup(await readGroups(gw.url), { job: "late" })).toBeDefined();
  });

  it("a wrapped job stuck running after its wrapper was SIGKILLed: the printed pushgw add marks it ended, as wrap would", async () => {
    const gw = await gateway();
    const record = join(tmp, "stuck-started");
    const wrapper = startCli(["wrap", "-g", gw.url, "-j", "stuck", "-i", "box", "--expect-every", "1s", "--grace", "0s", "--", node, job("hold-until.mjs"), record, join(tmp, "never")]);
    const deadline = Date.now() + 20_000;
    while (!existsSync(record) || Number(family(findGroup(await readGroups(gw.url), { job: "stuck", instance: "box" }), "job_running")?.metrics[0]?.value) !== 1) {
      if (Date.now() > deadline) throw new Error("the start push never came");
      await sleep(50);
    }
    wrapper.child.kill("SIGKILL");
    const orphan = Number(readFileSync(record, "utf8").trim());
    cleanups.push(() => void process.kill(orphan, "SIGKILL"));
    await sleep(1500);

    const { code, json } = await doctorJson(gw);
    expect(code).toBe(1);
    const stuck = json.findings.find((f) => f.kind === "stuck")!;
    expect(stuck.summary).toMatch(/^\{job="stuck", instance="box"\} has said it is running since \d+s ago, longer than it may run, and never said it ended: its wrapper was killed \(SIGKILL, a reboot\), or the job hangs$/);
    const command = `pushgw add --gateway ${gw.url} --job stuck --instance box --type gauge --help-text '1 while the wrapped job runs, 0 once it has ended.' job_running=0`;
    expect(stuck.repairs).toEqual([{ command, method: "POST", path: "/metrics/job/stuck/instance/box" }]);
    const helpBefore = family(findGroup(await readGroups(gw.url), { job: "stuck", instance: "box" }), "job_running")?.help;

    expect(paste(command)).toEqual({ status: 0, stderr: "" });
    const after = findGroup(await readGroups(gw.url), { job: "stuck", instance: "box" });
    expect(family(after, "job_running")).toMatchObject({ type: "GAUGE", help: helpBefore, metrics: [{ value: "0" }] });
    expect(family(after, "job_last_start_timestamp_seconds")).toBeDefined();
    expect(kinds((await doctorJson(gw)).json)).not.toContain("stuck");
  }, 40_000);

  it("--fix --yes marks a stuck run ended itself", async () => {
    const gw = await gateway();
    // What a SIGKILLed wrapper leaves: the start push, and nothing after it.
    const start = Date.now() / 1000 - 30;
    const body =
      "# HELP job_running 1 while the wrapped job runs, 0 once it has ended.\n# TYPE job_running gauge\njob_running 1\n" +
      `# HELP job_last_start_timestamp_seconds Unix time the wrapped job last started.\n# TYPE job_last_start_timestamp_seconds gauge\njob_last_start_timestamp_seconds ${start}\n` +
      "# HELP job_max_runtime_seconds x\n# TYPE job_max_runtime_seconds gauge\njob_max_runtime_seconds 1\n";
    expect(curl("POST", `${gw.url}/metrics/job/killed`, body)).toBe(200);
    // Past --max-runtime plus the minute the wrapper may take to push the outcome? Not yet: 30s < 61s.
    expect(kinds((await doctorJson(gw)).json)).not.toContain("stuck");
    expect(curl("POST", `${gw.url}/metrics/job/killed`, body.replace(String(start), String(start - 60)))).toBe(200);
    const fixed = await doctorJson(gw, ["--fix", "--yes"]);
    expect(kinds(fixed.json)).toContain("stuck");
    expect(fixed.json.fixed).toEqual([{ command: expect.stringMatching(/^pushgw add .* job_running=0$/), done: true }]);
    expect(fixed.code).toBe(0);
    expect(family(findGroup(await readGroups(gw.url), { job: "killed" }), "job_running")?.metrics[0]?.value).toBe("0");
  });
});

describe("the gateway itself", () => {
  it("a clock that is off (the gateway's Date, through a proxy): a problem, with how far", async () => {
    const gw = await gateway();
    // /-/healthy and /-/ready answer with a Date 2 minutes ahead (the first may be too slow to tell on a busy machine).
    const ahead = () => ({ kind: "status" as const, status: 200, body: "OK", headers: { date: new Date(Date.now() + 125_000).toUTCString() } });
    const proxy = await startFaultProxy(gw.url, [ahead(), ahead()]);
    cleanups.push(() => proxy.stop());
    const run = await doctor(proxy);
    expect(run.code).toBe(1);
    expect(run.stdout).toMatch(/clock 2m ahead of this host's\n/);
    expect(run.stdout).toContain("problem: the gateway's clock is 2m ahead of this host's: push ages, prune --older-than and the alert rules are off by as much\n  check time synchronisation on both hosts (timedatectl; chronyc tracking)\n");
  });

  it("not ready, and /metrics answering 500 with no group to blame: said with the gateway's own words", async () => {
    const gw = await gateway();
    const faulty = await startFaultProxy(gw.url, [
      { kind: "status", status: 200, body: "OK" },
      { kind: "status", status: 500, body: "write queue is full" },
      { kind: "status", status: 404, body: "404 page not found" },
      { kind: "status", status: 500, body: "An error has occurred while serving metrics:\n\nsomething odd" },
    ]);
    cleanups.push(() => faulty.stop());
    const { code, json } = await doctorJson(faulty);
    expect(code).toBe(1);
    expect(json.gateway).toMatchObject({ healthy: true, ready: false, version: null, metricsEndpointWorks: false });
    expect(kinds(json)).toEqual(["not-ready", "metrics-endpoint-fails"]);
    expect(json.findings[0]!.summary).toMatch(/^the gateway is not ready: GET .*\/-\/ready: 500 Internal Server Error: write queue is full$/);
    // The gateway's line breaks are printed escaped (core/printable.ts): its words cannot fake a line of pushgw's.
    expect(json.findings[1]!.details).toEqual(["no group was found to blame; the gateway says:", expect.stringMatching(/500 Internal Server Error: An error has occurred while serving metrics:\\x0a\\x0asomething odd$/)]);
  });

  it("unreachable: exit 1, said once", async () => {
    const port = await unusedPort();
    const run = await doctor({ url: `http://127.0.0.1:${port}` }, ["--retries", "0"]);
    expect(run.code).toBe(1);
    expect(run.stdout).toMatch(new RegExp(`^gateway http://127\\.0\\.0\\.1:${port}: not reached\\n\\nproblem: cannot reach the gateway: GET .*/-/healthy: could not connect: connect ECONNREFUSED .*\\n  check --gateway, and that the gateway runs\\n\\n1 problem\\n$`));
    const json = JSON.parse((await doctor({ url: `http://127.0.0.1:${port}` }, ["--retries", "0", "--json"])).stdout) as DoctorJson;
    expect(json).toMatchObject({ healthy: false, groups: null, gateway: { reachable: false } });
  });
});

describe("--fix asks first, as prune does", () => {
  const broken = async () => {
    const gw = await gateway();
    expect(curl("PUT", `${gw.url}/metrics/job/twin`, "m 1\n")).toBe(200);
    expect(curl("PUT", `${gw.url}/metrics/job/twin/instance@base64/=`, "m 2\n")).toBe(400);
    return gw;
  };

  it("without a terminal and without --yes: exit 2, nothing changed", async () => {
    const gw = await broken();
    const run = await doctor(gw, ["--fix"]);
    expect(run.code).toBe(2);
    expect(run.stdout).toBe("");
    expect(run.stderr).toMatch(/^pushgw: doctor --fix: refusing to change the gateway without a terminal to confirm on\nhint: add --yes/);
    expect(await readGroups(gw.url)).toHaveLength(2);
  });

  it("on a terminal: no changes nothing, yes repairs", async () => {
    ensureTool("script", "bsdutils");
    const gw = await broken();
    const ask = (answer: string) =>
      spawnSync("script", ["-qec", `${NODE} ${BIN} doctor -g ${gw.url} --fix`, "/dev/null"], { input: `${answer}\n`, env: { ...process.env, NO_COLOR: "1" }, encoding: "utf8" });
    const no = ask("n");
    expect(no.stdout).toMatch(/repair: pushgw delete[\s\S]*Run 1 repair\(s\) on http:\/\/127\.0\.0\.1:\d+\? \[y\/N\][\s\S]*nothing changed/);
    expect(await readGroups(gw.url)).toHaveLength(2);
    const yes = ask("y");
    expect(yes.stdout).toMatch(/done: pushgw delete[\s\S]*after the repairs:[\s\S]*no problems/);
    expect(await readGroups(gw.url)).toHaveLength(1);
  });

  it("only a Pushgateway", async () => {
    const rw = await runCli(["doctor", "-g", "http://127.0.0.1:1", "--target", "remote-write"]);
    expect(rw.code).toBe(2);
    expect(rw.stderr).toMatch(/doctor needs a Pushgateway; --target remote-write has no groups to examine/);
    expect(existsSync(tmp)).toBe(true);
  });
});
