import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startFaultProxy } from "../helpers/fault-proxy.js";
import { startPrometheus, startVictoriaMetrics, type RunningPrometheus, type RunningVictoriaMetrics } from "../helpers/prometheus.js";
import { startPushgateway, type RunningGateway } from "../helpers/pushgateway.js";
import { runCli } from "../helpers/run-cli.js";

const node = process.execPath;
const job = (name: string) => fileURLToPath(new URL(`../fixtures/jobs/${name}`, import.meta.url));

let prometheus: RunningPrometheus;
let vm: RunningVictoriaMetrics;
let gw: RunningGateway;
let writeUrl: string;

beforeAll(async () => {
  [prometheus, vm, gw] = await Promise.all([startPrometheus(undefined), startVictoriaMetrics(), startPushgateway()]);
  writeUrl = `${prometheus.url}/api/v1/write`;
}, 60_000);
afterAll(async () => {
  await Promise.all([prometheus?.stop(), vm?.stop(), gw?.stop()]);
});

const series = async (selector: string) => (await prometheus.query(selector)).data.result;

describe("--target remote-write, into a real Prometheus (--web.enable-remote-write-receiver)", () => {
  it("the grouping key becomes series labels, stamped now", async () => {
    const before = Date.now() / 1000;
    const run = await runCli(["add", "--target", "remote-write", "-g", writeUrl, "-j", "rw", "-i", "box-1", "-l", "env=prod", 'rw_rows{table="users"}=42']);
    expect(run).toMatchObject({ code: 0, stderr: "" });
    const [one] = await series("rw_rows");
    expect(one?.metric).toEqual({ __name__: "rw_rows", job: "rw", instance: "box-1", env: "prod", table: "users" });
    expect(one?.value[1]).toBe("42");
    expect(one!.value[0]).toBeGreaterThanOrEqual(Math.floor(before));
  });

  it("flattens histograms and summaries into their series", async () => {
    const text = '# TYPE rw_seconds histogram\nrw_seconds_bucket{le="1"} 3\nrw_seconds_bucket{le="+Inf"} 5\nrw_seconds_sum 4.5\nrw_seconds_count 5\n# TYPE rw_q summary\nrw_q{quantile="0.5"} 0.2\nrw_q_sum 1\nrw_q_count 2\n';
    const run = await runCli(["push", "--target", "remote-write", "-g", writeUrl, "-j", "rw-hist", "--no-instance", "-f", "-"], { input: text });
    expect(run).toMatchObject({ code: 0, stderr: "" });
    expect((await series('rw_seconds_bucket{le="+Inf"}'))[0]?.value[1]).toBe("5");
    expect((await series("rw_seconds_sum"))[0]?.value[1]).toBe("4.5");
    expect((await series('rw_q{quantile="0.5"}'))[0]?.value[1]).toBe("0.2");
    expect((await series("rw_q_count"))[0]?.metric).toEqual({ __name__: "rw_q_count", job: "rw-hist" });
  });

  it("sends the headers the spec requires, and tenant headers given with -H", async () => {
    const proxy = await startFaultProxy(prometheus.url, []);
    try {
      const run = await runCli(["add", "--target", "remote-write", "-g", `${proxy.url}/api/v1/write`, "-j", "rw-headers", "-H", "X-Scope-OrgID: team-a", "m=1"]);
      expect(run.code).toBe(0);
      // 2.0 first; this Prometheus takes 1.0 only (2.42 answers without X-Prometheus-Remote-Write-*-Written),
      // so 1.0 follows (test/e2e/remote-write-choice.test.ts); each with the tenant header.
      const v2 = { "content-type": "application/x-protobuf;proto=io.prometheus.write.v2.Request", "x-prometheus-remote-write-version": "2.0.0" };
      const v1 = { "content-type": "application/x-protobuf", "x-prometheus-remote-write-version": "0.1.0" };
      const common = { "content-encoding": "snappy", "user-agent": expect.stringMatching(/^pushgw\//), "x-scope-orgid": "team-a" };
      expect(proxy.seen[0]).toMatchObject({ method: "POST", url: "/api/v1/write", headers: { ...common, ...v2 } });
      expect(proxy.seen.at(-1)).toMatchObject({ method: "POST", url: "/api/v1/write", headers: { ...common, ...(proxy.seen.length > 1 ? v1 : v2) } });
    } finally {
      await proxy.stop();
    }
  });

  it("wrap's outcome lands there; a later failure leaves the last success readable with last_over_time", async () => {
    expect((await runCli(["wrap", "--target", "remote-write", "-g", writeUrl, "-j", "rw-wrap", "--no-instance", "--", node, job("exit.mjs"), "0"])).code).toBe(0);
    const success = Number((await series('job_last_success_timestamp_seconds{job="rw-wrap"}'))[0]?.value[1]);
    expect(success).toBeGreaterThan(0);
    expect((await runCli(["wrap", "--target", "remote-write", "-g", writeUrl, "-j", "rw-wrap", "--no-instance", "--", node, job("exit.mjs"), "5"])).code).toBe(5);
    expect((await series('last_over_time(job_exit_code{job="rw-wrap"}[10m])'))[0]?.value[1]).toBe("5");
    expect(Number((await series('last_over_time(job_last_success_timestamp_seconds{job="rw-wrap"}[10m])'))[0]?.value[1])).toBe(success);
  });

  // The job's pushgw learns the target from its environment, however the wrapper was told it.
  it.each([
    ["--target", ["--target", "remote-write"], {}],
    ["PUSHGW_TARGET", [], { PUSHGW_TARGET: "remote-write" }],
  ] as const)("a `pushgw add` inside the wrapped job lands by remote write (wrapper told by %s): through the wrapper, and with its own --job by itself", async (how, flag, env) => {
    const jobName = `rw-nested-${how === "--target" ? "flag" : "env"}`;
    const run = await runCli(["wrap", ...flag, "-g", writeUrl, "-j", jobName, "-i", "box-2", "--", "sh", "-c", `"${node}" "${job("nested-add.mjs")}" rw_records_seen=77 && "${node}" "${job("nested-add.mjs")}" -j ${jobName}-own --no-instance rw_own=5`], { env });
    expect(run).toMatchObject({ code: 0, stderr: "" });
    const [seen] = await series(`rw_records_seen{job="${jobName}"}`);
    expect(seen?.metric).toEqual({ __name__: "rw_records_seen", job: jobName, instance: "box-2" });
    expect(seen?.value[1]).toBe("77");
    expect((await series(`job_success{job="${jobName}"}`))[0]?.value[1]).toBe("1");
    expect((await series(`rw_own{job="${jobName}-own"}`))[0]?.value[1]).toBe("5");
  });
});

describe("--target victoriametrics, into a real VictoriaMetrics (Debian's 1.79.5)", () => {
  it("imports the text with the grouping key as extra labels", async () => {
    const run = await runCli(["add", "--target", "victoriametrics", "-g", vm.url, "-j", "vm-job", "-i", "box-1", "-l", "path=/var/tmp", 'vm_rows{table="users"}=7']);
    expect(run).toMatchObject({ code: 0, stderr: "" });
    const found = await vm.exportSeries('{__name__="vm_rows"}');
    expect(found).toHaveLength(1);
    expect(found[0]?.metric).toEqual({ __name__: "vm_rows", job: "vm-job", instance: "box-1", path: "/var/tmp", table: "users" });
    expect(found[0]?.values).toEqual([7]);
  });

  it("the same wrap line lands its outcome there", async () => {
    expect((await runCli(["wrap", "--target", "victoriametrics", "-g", vm.url, "-j", "vm-wrap", "--no-instance", "--", node, job("exit.mjs"), "0"])).code).toBe(0);
    const found = await vm.exportSeries('{job="vm-wrap", __name__="job_success"}');
    expect(found[0]?.values.at(-1)).toBe(1);
  });
});

describe("the same wrap line on every target", () => {
  it("lands in a Pushgateway, in Prometheus through remote write, and in VictoriaMetrics", async () => {
    const line = (target: string, url: string) => ["wrap", "--target", target, "-g", url, "-j", "everywhere", "--no-instance", "--", node, job("exit.mjs"), "0"];
    for (const [target, url] of [["pushgateway", gw.url], ["remote-write", writeUrl], ["victoriametrics", vm.url]] as const) {
      expect((await runCli(line(target, url))).code, target).toBe(0);
    }
    expect(await (await fetch(`${gw.url}/metrics`)).text()).toMatch(/job_success\{instance="",job="everywhere"\} 1/);
    expect((await series('job_success{job="everywhere"}'))[0]?.value[1]).toBe("1");
    expect((await vm.exportSeries('{job="everywhere", __name__="job_success"}'))[0]?.values.at(-1)).toBe(1);
  });
});

describe("what only a Pushgateway can do", () => {
  it.each([
    [["delete", "-j", "x"], /delete needs a Pushgateway; --target remote-write has no groups/],
    [["list"], /list needs a Pushgateway/],
    [["prune", "--older-than", "1d", "--yes"], /prune needs a Pushgateway/],
    [["delete", "--match", "job=x", "--yes"], /needs a Pushgateway/],
    [["add", "-j", "x", "--spool", "/tmp/s", "m=1"], /--spool works with --target pushgateway only/],
  ])("%j refuses, saying why", async (args, message) => {
    const run = await runCli([...args, "--target", "remote-write", "-g", writeUrl]);
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(message);
  });
});
