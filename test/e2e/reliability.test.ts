import { spawn } from "node:child_process";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startFaultProxy } from "../helpers/fault-proxy.js";
import { family, findGroup, readGroups, startPushgateway, unusedPort, type RunningGateway } from "../helpers/pushgateway.js";
import { BIN, NODE, runCli } from "../helpers/run-cli.js";

const node = process.execPath;
const job = (name: string) => fileURLToPath(new URL(`../fixtures/jobs/${name}`, import.meta.url));

describe("the gateway goes away and comes back", () => {
  it("a restart in the middle of many pushes: the retries ride it out", async () => {
    const port = await unusedPort();
    let gw = await startPushgateway([], port);
    const url = `http://127.0.0.1:${port}`;
    const pushes = Array.from({ length: 16 }, (_, i) =>
      new Promise((r) => setTimeout(r, i * 60)).then(() => runCli(["add", "-g", url, "-j", "restart", "-i", `n${i}`, "m=1"])),
    );
    await new Promise((r) => setTimeout(r, 250));
    await gw.stop();
    await new Promise((r) => setTimeout(r, 700));
    gw = await startPushgateway([], port);
    try {
      const runs = await Promise.all(pushes);
      expect(runs.map((r) => r.code)).toEqual(runs.map(() => 0));
      // The gateway keeps nothing across a restart without persistence; what was pushed after it is there.
      const after = (await readGroups(gw.url)).filter((g) => g.labels["job"] === "restart");
      expect(after.length).toBeGreaterThan(0);
    } finally {
      await gw.stop();
    }
  }, 60_000);

  it("a name that does not exist (NXDOMAIN): exit 1, saying so, with no retry", async () => {
    const run = await runCli(["add", "-g", "http://pushgateway.invalid:9091", "--retries", "3", "-v", "-j", "x", "m=1"]);
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(/POST http:\/\/pushgateway\.invalid:9091\/metrics\/job\/x\/instance\/\S+: unknown host: getaddrinfo ENOTFOUND pushgateway\.invalid/);
    expect(run.stderr).toMatch(/hint: the name pushgateway\.invalid does not resolve/);
    expect(run.stderr).not.toMatch(/retry 1/);
  });
});

describe("keeping the gateway healthy", () => {
  let gw: RunningGateway;
  beforeAll(async () => {
    gw = await startPushgateway();
  });
  afterAll(async () => {
    await gw?.stop();
  });

  it("an empty grouping value is refused before anything is sent: no {job=X} beside {job=X, instance=\"\"}", async () => {
    expect((await runCli(["add", "-g", gw.url, "-j", "pz", "--no-instance", "pz_m=1"])).code).toBe(0);
    const clash = await runCli(["add", "-g", gw.url, "-j", "pz", "--instance", "", "pz_m=2"]);
    expect(clash.code).toBe(2);
    expect(clash.stderr).toMatch(/--instance '': an empty grouping value is refused/);
    expect(clash.stderr).toMatch(/hint: leave the instance out with --no-instance/);
    expect((await runCli(["add", "-g", gw.url, "-j", "tz", "--no-instance", "tz_m=1"])).code).toBe(0);
    const label = await runCli(["add", "-g", gw.url, "-j", "tz", "--no-instance", "-l", "team=", "tz_m=2"]);
    expect(label.code).toBe(2);
    expect(label.stderr).toMatch(/--label team=: an empty grouping value is refused/);
    expect((await fetch(`${gw.url}/metrics`)).status).toBe(200);
    expect((await runCli(["add", "-g", gw.url, "-j", "bystander-1", "m=1"])).code).toBe(0);
  });

  it.each([
    ["{job=X, instance=\"\"}", "tw1", "/metrics/job/tw1/instance@base64/=", ["--no-instance"], "pushgw delete --job tw1 --instance ''"],
    ["{job=X, instance=\"\", team=\"t\"}", "tw2", "/metrics/job/tw2/instance@base64/=/team/t", ["--no-instance", "-l", "team=t"], "pushgw delete --job tw2 --instance '' --label team=t"],
  ])("another client made %s: pushgw's push beside it is refused, and the debris the refusal leaves is cleared at once", async (_, job, otherPath, flags, remedy) => {
    // Another client (curl) pushed with an empty value.
    expect((await fetch(`${gw.url}${otherPath}`, { method: "POST", body: `# TYPE ${job}_m gauge\n${job}_m 1\n` })).status).toBe(200);
    const clash = await runCli(["add", "-g", gw.url, "-j", job, ...flags, "-t", "gauge", `${job}_m=2`]);
    expect(clash.code).toBe(1);
    expect(clash.stderr).toMatch(/was collected before with the same name and label values/);
    expect(clash.stderr).toMatch(/pushgw deleted the empty group .* that the refusal left behind/);
    expect(clash.stderr).toContain(`delete that group first: ${remedy}`);
    // The gateway still works for everybody.
    expect((await fetch(`${gw.url}/metrics`)).status).toBe(200);
    expect((await runCli(["add", "-g", gw.url, "-j", `bystander-${job}`, "m=1"])).code).toBe(0);
    // The remedy the hint names works.
    const remedyArgs = remedy.replace(/^pushgw /, "").split(" ").map((w) => (w === "''" ? "" : w));
    expect((await runCli([...remedyArgs, "-g", gw.url])).code).toBe(0);
    await new Promise((r) => setTimeout(r, 200));
    expect((await runCli(["add", "-g", gw.url, "-j", job, ...flags, "-t", "gauge", `${job}_m=3`])).code).toBe(0);
    expect((await fetch(`${gw.url}/metrics`)).status).toBe(200);
  });

  it("invalid UTF-8, which the gateway would store and then fail every scrape on, never leaves pushgw", async () => {
    const bad = Buffer.concat([Buffer.from('m{a="'), Buffer.from([0xc3, 0x28]), Buffer.from('"} 1\n')]);
    const run = await runCli(["add", "-g", gw.url, "-j", "utf8"], { input: bad });
    expect(run.code).toBe(2);
    expect((await fetch(`${gw.url}/metrics`)).status).toBe(200);
  });
});

describe("stdout closed early (EPIPE)", () => {
  let gw: RunningGateway;
  beforeAll(async () => {
    gw = await startPushgateway();
  });
  afterAll(async () => {
    await gw?.stop();
  });

  /** Runs the CLI with its stdout read by nobody: the pipe is closed at once. */
  const withClosedStdout = (args: string[]) =>
    new Promise<{ code: number | null; stderr: string }>((resolve) => {
      const child = spawn(NODE, [BIN, ...args], { stdio: ["ignore", "pipe", "pipe"], env: { PATH: process.env["PATH"] } });
      child.stdout.destroy();
      let stderr = "";
      child.stderr.on("data", (c: Buffer) => (stderr += c.toString()));
      child.on("close", (code) => resolve({ code, stderr }));
    });

  it("list into a closed pipe: no crash", async () => {
    for (let i = 0; i < 30; i++) await fetch(`${gw.url}/metrics/job/many/n/${i}`, { method: "POST", body: "many_metric 1\n" });
    const run = await withClosedStdout(["list", "-g", gw.url]);
    expect(run.stderr).not.toMatch(/EPIPE|Error/);
    expect(run.code).toBe(0);
  });

  it("wrap --quiet-success replaying a failed job's output into a closed pipe still pushes the outcome", async () => {
    const run = await withClosedStdout(["wrap", "-g", gw.url, "-j", "epipe", "--no-instance", "--quiet-success", "--", node, job("noisy.mjs"), "200000", "4"]);
    expect(run.code).toBe(4);
    expect(run.stderr).not.toMatch(/Error|EPIPE/);
    expect(family(findGroup(await readGroups(gw.url), { job: "epipe" }), "job_exit_code")?.metrics[0]?.value).toBe("4");
  });
});

describe("terminal control sequences from outside are printed escaped", () => {
  let gw: RunningGateway;
  beforeAll(async () => {
    gw = await startPushgateway();
  });
  afterAll(async () => {
    await gw?.stop();
  });
  const attack = "\u001b]0;owned\u0007\u001b[2J";

  it("in a gateway's error body", async () => {
    const proxy = await startFaultProxy(gw.url, [{ kind: "status", status: 400, body: `refused ${attack}` }]);
    try {
      const run = await runCli(["add", "-g", proxy.url, "-j", "escapes", "m=1"]);
      expect(run.code).toBe(1);
      expect(run.stderr).toContain("refused \\x1b]0;owned\\x07\\x1b[2J");
      expect(run.stderr).not.toContain("\u001b");
    } finally {
      await proxy.stop();
    }
  });

  it("in job names and label values shown by list", async () => {
    const value = Buffer.from(`evil${attack}`).toString("base64url");
    expect((await fetch(`${gw.url}/metrics/job/escapes/instance@base64/${value}`, { method: "POST", body: "m 1\n" })).status).toBe(200);
    const job = Buffer.from(`escapes${attack}`).toString("base64url");
    expect((await fetch(`${gw.url}/metrics/job@base64/${job}`, { method: "POST", body: "m 1\n" })).status).toBe(200);
    const run = await runCli(["list", "-g", gw.url, "--match", "job=~escapes.*"]);
    expect(run.stdout).toContain("escapes\\x1b]0;owned\\x07\\x1b[2J ");
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/evil\\(x1b|u001b)\]0;owned\\(x07|u0007)/);
    expect(run.stdout).not.toContain("\u001b");
  });
});
