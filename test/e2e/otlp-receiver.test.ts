import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parseExposition } from "../../src/core/exposition.js";
import { encodeOtlpRequest, OTLP_HEADERS, OTLP_METRICS_PATH } from "../../src/core/otlp.js";
import { startVictoriaMetrics, type RunningVictoriaMetrics } from "../helpers/prometheus.js";
import { family, findGroup, readGroups, startPushgateway } from "../helpers/pushgateway.js";
import { runCli } from "../helpers/run-cli.js";
import { todaysStack } from "../helpers/todays-stack.js";

const node = process.execPath;
const job = (name: string) => fileURLToPath(new URL(`../fixtures/jobs/${name}`, import.meta.url));

/**
 * pushgw's OTLP encoding read by a real OTLP receiver: VictoriaMetrics 1.14x (the newest Debian
 * ships; Debian 12's 1.79 predates its OpenTelemetry ingestion), at /opentelemetry/v1/metrics.
 */
let vm: RunningVictoriaMetrics;
beforeAll(async () => {
  vm = await startVictoriaMetrics(todaysStack().victoriaMetrics);
}, 120_000);
afterAll(async () => {
  await vm?.stop();
});

async function send(text: string, job: string, labels: Array<[string, string]>): Promise<Response> {
  const exposition = parseExposition(text, { name: "t" }, { collectSamples: true });
  const body = encodeOtlpRequest(exposition, { job, labels }, Date.now(), { name: "pushgw" });
  return fetch(`${vm.url}/opentelemetry${OTLP_METRICS_PATH}`, { method: "POST", headers: OTLP_HEADERS, body });
}

describe("OTLP/HTTP into VictoriaMetrics", () => {
  it("takes gauges, counters, histograms and summaries; the grouping key arrives as service.name, service.instance.id and labels", async () => {
    const text = [
      "# TYPE ot_rows_total counter",
      'ot_rows_total{table="a"} 42',
      "# TYPE ot_size gauge",
      "ot_size 1.5",
      "# TYPE ot_d histogram",
      'ot_d_bucket{le="0.5"} 2',
      'ot_d_bucket{le="1"} 5',
      'ot_d_bucket{le="+Inf"} 7',
      "ot_d_sum 4.25",
      "ot_d_count 7",
      "# TYPE ot_q summary",
      'ot_q{quantile="0.5"} 0.3',
      "ot_q_sum 12",
      "ot_q_count 30",
      "",
    ].join("\n");
    const answer = await send(text, "otjob", [["instance", "h1"], ["team", "ops"]]);
    expect(answer.status).toBe(200);

    const [rows] = await vm.exportSeries('ot_rows_total{table="a"}');
    // VictoriaMetrics makes the scope labels too (a missing version reads "unknown"): without a version, an upgrade of pushgw starts no new series.
    expect(rows!.metric).toEqual({ __name__: "ot_rows_total", "service.name": "otjob", "service.instance.id": "h1", team: "ops", table: "a", "scope.name": "pushgw", "scope.version": "unknown" });
    expect(rows!.values).toEqual([42]);
    expect((await vm.exportSeries("ot_size"))[0]!.values).toEqual([1.5]);

    // VictoriaMetrics turns an OTLP histogram back into Prometheus' cumulative buckets.
    const buckets = await vm.exportSeries('{__name__="ot_d_bucket"}');
    const byLe = Object.fromEntries(buckets.map((b) => [b.metric["le"], b.values[0]]));
    expect(byLe).toEqual({ "0.5": 2, "1": 5, "+Inf": 7 });
    expect((await vm.exportSeries("ot_d_sum"))[0]!.values).toEqual([4.25]);
    expect((await vm.exportSeries("ot_d_count"))[0]!.values).toEqual([7]);
    expect((await vm.exportSeries('ot_q{quantile="0.5"}'))[0]!.values).toEqual([0.3]);
    expect((await vm.exportSeries("ot_q_count"))[0]!.values).toEqual([30]);
  });
});

describe("--target otlp, into VictoriaMetrics' OTLP receiver", () => {
  // The base URL, as for an OpenTelemetry Collector (http://collector:4318): pushgw adds /v1/metrics.
  const base = () => `${vm.url}/opentelemetry`;
  /** What VictoriaMetrics adds to every series from the scope pushgw names (without a version). */
  const scope = { "scope.name": "pushgw", "scope.version": "unknown" };

  it("push and add land, the grouping key as service.name, service.instance.id and labels", async () => {
    const pushed = await runCli(["push", "--target", "otlp", "-g", base(), "-j", "ot-cli", "-i", "box-1", "-l", "team=ops", "-t", "counter", 'ot_cli_rows_total{table="users"}=42']);
    expect(pushed).toMatchObject({ code: 0, stderr: "" });
    const added = await runCli(["add", "--target", "otlp", "-g", base(), "-j", "ot-cli", "-i", "box-1", "-l", "team=ops", "-f", "-"], { input: "# TYPE ot_cli_size gauge\not_cli_size 1.5\n" });
    expect(added).toMatchObject({ code: 0, stderr: "" });

    const [rows] = await vm.exportSeries("ot_cli_rows_total");
    expect(rows?.metric).toEqual({ __name__: "ot_cli_rows_total", "service.name": "ot-cli", "service.instance.id": "box-1", team: "ops", table: "users", ...scope });
    expect(rows?.values).toEqual([42]);
    const [size] = await vm.exportSeries("ot_cli_size");
    expect(size?.metric).toEqual({ __name__: "ot_cli_size", "service.name": "ot-cli", "service.instance.id": "box-1", team: "ops", ...scope });
    expect(size?.values).toEqual([1.5]);
  });

  it("the same wrap line lands its outcome there, and a pushgw add inside the job goes through the wrapper", async () => {
    const run = await runCli(["wrap", "--target", "otlp", "-g", base(), "-j", "ot-wrap", "--no-instance", "--", node, job("nested-add.mjs"), "ot_records_seen=77"]);
    expect(run).toMatchObject({ code: 0, stderr: "" });
    const [success] = await vm.exportSeries('job_success{"service.name"="ot-wrap"}');
    expect(success?.metric).toEqual({ __name__: "job_success", "service.name": "ot-wrap", ...scope });
    expect(success?.values.at(-1)).toBe(1);
    expect((await vm.exportSeries('job_exit_code{"service.name"="ot-wrap"}'))[0]?.values.at(-1)).toBe(0);
    expect((await vm.exportSeries('ot_records_seen{"service.name"="ot-wrap"}'))[0]?.values).toEqual([77]);
  });

  it("a pushgw inside the job that names its own --gateway pushes there as to a Pushgateway, not by the wrapper's target", async () => {
    const gateway = await startPushgateway();
    try {
      const run = await runCli(["wrap", "--target", "otlp", "-g", base(), "-j", "ot-elsewhere", "--no-instance", "--", node, job("nested-add.mjs"), "--gateway", gateway.url, "-j", "other", "--no-instance", "other_rows=5"]);
      expect(run).toMatchObject({ code: 0, stderr: "" });
      expect(family(findGroup(await readGroups(gateway.url), { job: "other" }), "other_rows")?.metrics[0]?.value).toBe("5");
      expect((await vm.exportSeries('job_success{"service.name"="ot-elsewhere"}'))[0]?.values.at(-1)).toBe(1);
    } finally {
      await gateway.stop();
    }
  });

  it("a URL where no OTLP receiver answers (a Pushgateway's): its 404, with a hint that says what --gateway names for OTLP", async () => {
    const gateway = await startPushgateway();
    try {
      const run = await runCli(["push", "--target", "otlp", "-g", gateway.url, "-j", "ot-path", "--retries", "0", "m=1"]);
      expect(run.code).toBe(1);
      expect(run.stderr).toContain(`POST ${gateway.url}/v1/metrics: 404`);
      expect(run.stderr).toContain("hint: no OTLP receiver answers at this path: --gateway is the receiver's base URL, to which pushgw adds /v1/metrics");
    } finally {
      await gateway.stop();
    }
  });

  it("a summary without its _count (which OTLP drops): refused, exit 2, nothing sent", async () => {
    const run = await runCli(["add", "--target", "otlp", "-g", base(), "-j", "ot-nocount", "-f", "-"], { input: '# TYPE ot_rpc_seconds summary\not_rpc_seconds{quantile="0.5"} 0.2\n' });
    expect(run.code).toBe(2);
    expect(run.stderr).toContain("ot_rpc_seconds: a histogram or summary without ot_rpc_seconds_count cannot be sent over OTLP");
    expect(await vm.exportSeries('{"service.name"="ot-nocount"}')).toEqual([]);
  });

  it.each([
    [["delete", "-j", "x"], /^pushgw: delete needs a Pushgateway; --target otlp has no groups to delete\nhint: an OTLP receiver stores samples, not groups/],
    [["list"], /^pushgw: list needs a Pushgateway; --target otlp has no groups to list/],
    [["prune", "--older-than", "1d", "--yes"], /^pushgw: prune needs a Pushgateway/],
    [["delete", "--match", "job=x", "--yes"], /needs a Pushgateway; --target otlp has no groups to delete/],
    [["add", "-j", "x", "--spool", "/tmp/s", "m=1"], /--spool works with --target pushgateway only \(not otlp\)/],
    [["add", "-j", "x", "--heartbeat"], /--target otlp keeps no groups/],
  ])("%j refuses, saying why (exit 2)", async (args, message) => {
    const run = await runCli([...args, "--target", "otlp", "-g", base()]);
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(message);
  });
});
