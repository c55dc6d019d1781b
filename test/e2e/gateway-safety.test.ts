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
