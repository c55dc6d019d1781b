import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { startFaultProxy, type Fault } from "../helpers/fault-proxy.js";
import { readGroups, startPushgateway, type RunningGateway } from "../helpers/pushgateway.js";
import { runCli } from "../helpers/run-cli.js";
import { todaysStack } from "../helpers/todays-stack.js";

/**
 * The gateway and other people's data survive pushgw (issue #24): the debris a refused push
 * leaves is cleared on a gateway of any size, a selector deletes exactly what it selects, doctor
 * --fix keeps what was there first, and huge or hostile answers meet a limit with a clear word.
 */

let running: RunningGateway[] = [];
afterEach(async () => {
  await Promise.all(running.map((gw) => gw.stop()));
  running = [];
});

async function gateway(extraArgs: string[] = [], binary?: string): Promise<RunningGateway> {
  const gw = await startPushgateway(extraArgs, 0, binary);
  running.push(gw);
  return gw;
}

/** The text a wrapped group holds, taken from one real `pushgw wrap` run, for copying into many groups. */
async function wrappedGroupBody(gw: RunningGateway): Promise<string> {
  const run = await runCli(["wrap", "-g", gw.url, "-j", "template", "--no-instance", "--expect-every", "1h", "--", "true"]);
  expect(run.code, run.stderr).toBe(0);
  const text = await (await fetch(`${gw.url}/metrics`)).text();
  const lines = text.split("\n").filter((line) => /^(# (TYPE|HELP) )?job_/.test(line) && (line.startsWith("#") || line.includes('job="template"')));
  return `${lines.map((line) => line.replace(/\{.*\}/, "")).join("\n")}\n`;
}

/** `count` wrapped groups of job `job`, instances 0…count-1, pushed as the gateway takes them (PUT, 16 at a time). */
async function pushWrappedGroups(gw: RunningGateway, job: string, count: number, body: string): Promise<void> {
  const queue = Array.from({ length: count }, (_, i) => i);
  const worker = async (): Promise<void> => {
    for (let i = queue.shift(); i !== undefined; i = queue.shift()) {
      const response = await fetch(`${gw.url}/metrics/job/${job}/instance/host-${i}`, { method: "PUT", body });
      expect(response.status).toBe(200);
    }
  };
  await Promise.all(Array.from({ length: 16 }, worker));
}

describe("collision debris on a gateway of any size", () => {
  it("is cleared beside 60 wrapped groups, whose list is larger than a write's answer", async () => {
    const gw = await gateway();
    await pushWrappedGroups(gw, "fleet", 60, await wrappedGroupBody(gw));
    expect((await (await fetch(`${gw.url}/api/v1/metrics`)).text()).length).toBeGreaterThan(64 * 1024);
    // Another client (curl) made the twin with an empty instance.
    expect((await fetch(`${gw.url}/metrics/job/twin/instance@base64/=`, { method: "POST", body: "# TYPE twin_m gauge\ntwin_m 1\n" })).status).toBe(200);
    const clash = await runCli(["add", "-g", gw.url, "-j", "twin", "--no-instance", "-t", "gauge", "twin_m=2"]);
    expect(clash.code).toBe(1);
    expect(clash.stderr).toMatch(/pushgw deleted the empty group \{job="twin"\} that the refusal left behind/);
    expect((await fetch(`${gw.url}/metrics`)).status).toBe(200);
    expect((await readGroups(gw.url)).filter((g) => g.labels["job"] === "twin").map((g) => g.labels)).toEqual([{ job: "twin", instance: "" }]);
    expect((await runCli(["add", "-g", gw.url, "-j", "bystander", "m=1"])).code).toBe(0);
  });
});

describe("doctor --fix keeps what was there first", () => {
  const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
  const put = async (gw: RunningGateway, path: string, body: string) => (await fetch(`${gw.url}${path}`, { method: "PUT", body })).status;
  const jobs = async (gw: RunningGateway) => (await readGroups(gw.url)).map((g) => g.labels["job"]!).sort();

  it("a type clash: four new groups do not outvote three long-standing ones; the newcomers go", async () => {
    const gw = await gateway(["--push.disable-consistency-check"]);
    for (const job of ["old1", "old2", "old3"]) expect(await put(gw, `/metrics/job/${job}`, "# TYPE shared gauge\nshared 1\n")).toBe(202);
    await sleep(300);
    for (const job of ["new1", "new2", "new3", "new4"]) expect(await put(gw, `/metrics/job/${job}`, "# TYPE shared counter\nshared 1\n")).toBe(202);
    await sleep(200);
    const fixed = await runCli(["doctor", "-g", gw.url, "--fix", "--yes"]);
    expect(fixed.stdout).toContain("GAUGE was there first");
    expect(fixed.code, fixed.stdout).toBe(0);
    expect(await jobs(gw)).toEqual(["old1", "old2", "old3"]);
    expect((await fetch(`${gw.url}/metrics`)).status).toBe(200);
  });

  it("when push times cannot tell (an old group pushed again after the newcomer), --fix deletes nothing and prints the repairs", async () => {
    const gw = await gateway(["--push.disable-consistency-check"]);
    expect(await put(gw, "/metrics/job/old1", "# TYPE shared gauge\nshared 1\n")).toBe(202);
    await sleep(200);
    expect(await put(gw, "/metrics/job/new1", "# TYPE shared counter\nshared 1\n")).toBe(202);
    await sleep(200);
    expect(await put(gw, "/metrics/job/old2", "# TYPE shared gauge\nshared 1\n")).toBe(202);
    await sleep(200);
    const fixed = await runCli(["doctor", "-g", gw.url, "--fix", "--yes"]);
    expect(fixed.code).toBe(1);
    expect(fixed.stdout).toContain("pushgw cannot tell which type was there first");
    expect(fixed.stdout).toContain(`to keep GAUGE, delete: pushgw delete --gateway ${gw.url} --job new1 --no-instance`);
    expect(await jobs(gw)).toEqual(["new1", "old1", "old2"]);
  });

  it("an empty-value twin pushed later by curl does not win over the real group: both stay, the repair is printed", async () => {
    const gw = await gateway(["--push.disable-consistency-check"]);
    expect((await runCli(["add", "-g", gw.url, "-j", "real", "--no-instance", "-t", "gauge", "real_m=1"])).code).toBe(0);
    await sleep(300);
    expect(await put(gw, "/metrics/job/real/instance@base64/=", "# TYPE real_m gauge\nreal_m 2\n")).toBe(202);
    await sleep(200);
    const fixed = await runCli(["doctor", "-g", gw.url, "--fix", "--yes"]);
    expect(fixed.code).toBe(1);
    expect(fixed.stdout).toContain("pushgw cannot tell which one broke the gateway (more than one of them had successful pushes)");
    expect(fixed.stdout).toContain(`to delete {job="real"}: pushgw delete --gateway ${gw.url} --job real --no-instance`);
    expect((await readGroups(gw.url)).map((g) => g.labels).sort((a, b) => Object.keys(a).length - Object.keys(b).length)).toEqual([{ job: "real" }, { job: "real", instance: "" }]);
  });
});

describe("a selector deletes exactly what it selects (Pushgateway 1.11 with UTF-8 names)", () => {
  const utf8Gateway = (extra: string[] = []) => gateway(["--push.enable-utf8-names", ...extra], todaysStack().pushgateway);
  /** Another client (curl) makes a group by a path it chose. */
  const make = async (gw: RunningGateway, path: string) => expect([200, 202]).toContain((await fetch(`${gw.url}${path}`, { method: "PUT", body: "m 1\n" })).status);
  const labelsOf = async (gw: RunningGateway, job: string) =>
    (await readGroups(gw.url))
      .filter((g) => g.labels["job"] === job)
      .map((g) => JSON.stringify(Object.fromEntries(Object.entries(g.labels).sort())))
      .sort();

  it("a label name holding / or . is deleted by its escaped name, never through a URL naming another group", async () => {
    const gw = await utf8Gateway();
    await make(gw, "/metrics/job/victim/U__instance_2f_h1_2f_y/v"); // {"instance/h1/y"="v"}
    await make(gw, "/metrics/job/victim/instance/h1/y/v"); // {instance="h1", y="v"}: what the raw name would name
    await make(gw, "/metrics/job/victim/a.b/c"); // {"a.b"="c"}
    const run = await runCli(["delete", "-g", gw.url, "--match", "job=victim", "--match", "instance=", "--yes"]);
    expect(run.stderr).toContain("delete --match: deleted 2 group(s)");
    expect(run.code).toBe(0);
    expect(await labelsOf(gw, "victim")).toEqual([JSON.stringify({ instance: "h1", job: "victim", y: "v" })]);
  });

  it("a legacy name that begins with U__ is sent escaped, since this gateway unescapes it (U__foo would be foo)", async () => {
    const gw = await utf8Gateway();
    await make(gw, "/metrics/job/victim2/U__U____foo/z"); // {U__foo="z"}
    await make(gw, "/metrics/job/victim2/foo/z"); // {foo="z"}: what U__foo/z names on this gateway
    const run = await runCli(["delete", "-g", gw.url, "--match", "U__foo=z", "--yes"]);
    expect(run.code, run.stderr).toBe(0);
    expect(await labelsOf(gw, "victim2")).toEqual([JSON.stringify({ foo: "z", job: "victim2" })]);
  });

  it("prune and doctor --fix address such groups the same way", async () => {
    const gw = await utf8Gateway(["--push.disable-consistency-check"]);
    await make(gw, "/metrics/job/old/U__instance_2f_h1_2f_y/v");
    await make(gw, "/metrics/job/old/instance/h1/y/v");
    // The refreshed group must still be younger than --older-than when prune looks: room for a
    // slow start on a machine whose cores other tests keep busy.
    await new Promise((r) => setTimeout(r, 11_000));
    await make(gw, "/metrics/job/old/instance/h1/y/v");
    const refreshedAt = Date.now();
    const prune = await runCli(["prune", "-g", gw.url, "--older-than", "10s", "--yes"]);
    expect(prune.code, prune.stderr).toBe(0);
    expect(await labelsOf(gw, "old"), `${prune.stderr}(prune ended ${Date.now() - refreshedAt} ms after the refresh)`).toEqual([JSON.stringify({ instance: "h1", job: "old", y: "v" })]);

    // A type clash whose newcomer carries a name with a slash: --fix deletes it by its escaped name.
    await make(gw, "/metrics/job/typed/instance/h1/y/v");
    expect((await fetch(`${gw.url}/metrics/job/typed/instance/h1/y/v`, { method: "PUT", body: "# TYPE t gauge\nt 1\n" })).status).toBe(202);
    await new Promise((r) => setTimeout(r, 300));
    expect((await fetch(`${gw.url}/metrics/job/typed/U__instance_2f_h1_2f_y/v`, { method: "PUT", body: "# TYPE t counter\nt 1\n" })).status).toBe(202);
    await new Promise((r) => setTimeout(r, 200));
    const fixed = await runCli(["doctor", "-g", gw.url, "--fix", "--yes"]);
    // A command pushgw takes: it sends the UTF-8 name escaped, as this gateway reads it.
    expect(fixed.stdout).toContain(`pushgw delete --gateway ${gw.url} --job typed --no-instance --label instance/h1/y=v`);
    expect(await labelsOf(gw, "typed")).toEqual([JSON.stringify({ instance: "h1", job: "typed", y: "v" })]);
  }, 60_000);

  it("a name the gateway cannot be addressed by (UTF-8 names turned off since): left in place, said, exit 1", async () => {
    const file = join(mkdtempSync(join(tmpdir(), "pushgw-utf8-")), "persisted");
    const before = await utf8Gateway([`--persistence.file=${file}`]);
    await make(before, "/metrics/job/kept/U__a_2f_b/c");
    await make(before, "/metrics/job/kept/d/e");
    await before.stop();
    running = running.filter((gw) => gw !== before);
    const gw = await gateway([`--persistence.file=${file}`], todaysStack().pushgateway);
    expect(await labelsOf(gw, "kept")).toHaveLength(2);
    const run = await runCli(["delete", "-g", gw.url, "--match", "job=kept", "--yes"]);
    expect(run.code).toBe(1);
    expect(run.stderr).toContain('cannot delete {job="kept", "a/b"="c"}: the label name "a/b" is not one this gateway reads in a path');
    expect(run.stderr).toContain("1 selected group(s) left in place");
    expect(await labelsOf(gw, "kept")).toEqual([JSON.stringify({ "a/b": "c", job: "kept" })]);
  });
});

describe("bounded work", () => {
  it("doctor --fix examines the gateway once after its repairs, reading only the groups while a DELETE is still queued", async () => {
    const gw = await gateway();
    expect((await fetch(`${gw.url}/metrics/job/twin/instance@base64/=`, { method: "PUT", body: "twin_m 1\n" })).status).toBe(200);
    expect((await fetch(`${gw.url}/metrics/job/twin`, { method: "PUT", body: "twin_m 2\n" })).status).toBe(400);
    // The proxy answers the repair's DELETE itself (202, as a gateway with a full queue would) and drops it: the repair never shows.
    const faults: Fault[] = [];
    let armed = false;
    const proxy = await startFaultProxy(gw.url, faults, async ({ url }) => {
      if (url === "/api/v1/metrics" && !armed) {
        armed = true;
        faults.push({ kind: "status", status: 202 });
      }
    });
    try {
      const run = await runCli(["doctor", "-g", proxy.url, "--fix", "--yes"], { timeoutMs: 60_000 });
      expect(run.code).toBe(1);
      const asked = (path: string) => proxy.seen.filter((s) => s.url === path).length;
      expect(asked("/-/healthy")).toBe(2);
      expect(proxy.seen.filter((s) => s.method === "DELETE").map((s) => s.fault)).toEqual(["status"]);
      expect(asked("/api/v1/metrics")).toBe(12);
    } finally {
      await proxy.stop();
    }
  });
});

describe("huge or hostile group lists", () => {
  /** The JSON API's answer listing `count` groups of one pushed metric, as the gateway words them. */
  const listing = (count: number) =>
    `{"status":"success","data":[${Array.from({ length: count }, (_, i) => `{"labels":{"job":"fleet","instance":"host-${i}"},"last_push_successful":true,"push_time_seconds":{"time_stamp":"2026-12-06T00:00:00Z","type":"GAUGE","help":"Last Unix time when changing this group in the Pushgateway succeeded.","metrics":[{"labels":{"job":"fleet","instance":"host-${i}"},"value":"1.7965e+09"}]},"m":{"time_stamp":"2026-12-06T00:00:00Z","type":"GAUGE","metrics":[{"labels":{"job":"fleet","instance":"host-${i}"},"value":"1"}]}}`).join(",")}]}`;

  it("an answer listing 200,000 groups is listed whole", { timeout: 240_000 }, async () => {
    const gw = await gateway();
    const proxy = await startFaultProxy(gw.url, [{ kind: "status", status: 200, body: listing(200_000), headers: { "content-type": "application/json" } }]);
    try {
      const run = await runCli(["list", "-g", proxy.url], { timeoutMs: 200_000 });
      expect(run.stderr).toBe("");
      expect(run.code).toBe(0);
      expect(run.stdout.trimEnd().split("\n")).toHaveLength(200_001);
    } finally {
      await proxy.stop();
    }
  });

  it("an answer listing more than 500,000 groups is refused with a clear message", { timeout: 240_000 }, async () => {
    const gw = await gateway();
    const proxy = await startFaultProxy(gw.url, [{ kind: "status", status: 200, body: listing(500_001), headers: { "content-type": "application/json" } }]);
    try {
      const run = await runCli(["list", "-g", proxy.url], { timeoutMs: 200_000 });
      expect(run.code).toBe(1);
      expect(run.stderr).toContain("it lists more than 500,000 groups, more than any real gateway holds");
    } finally {
      await proxy.stop();
    }
  });

  it("an answer that never ends is read up to its limit, and said so", { timeout: 240_000 }, async () => {
    const gw = await gateway();
    const proxy = await startFaultProxy(gw.url, [{ kind: "stream", status: 200 }]);
    try {
      const run = await runCli(["list", "-g", proxy.url, "--timeout", "120s"], { timeoutMs: 200_000 });
      expect(run.code).toBe(1);
      expect(run.stderr).toContain("the list of groups is larger than 480 MiB, more than any real gateway's");
    } finally {
      await proxy.stop();
    }
  });
});
