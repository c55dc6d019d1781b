import { afterEach, describe, expect, it } from "vitest";
import { readGroups, startPushgateway, type RunningGateway } from "../helpers/pushgateway.js";
import { runCli } from "../helpers/run-cli.js";

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
