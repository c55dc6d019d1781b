import { spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { dashboardQueries } from "../../src/core/alerting.js";
import { ensureTool, startPrometheus, type RunningPrometheus } from "../helpers/prometheus.js";
import { until } from "../helpers/poll.js";
import { startPushgateway, type RunningGateway } from "../helpers/pushgateway.js";
import { runCli } from "../helpers/run-cli.js";

const root = fileURLToPath(new URL("../../", import.meta.url));
const rulesFile = `${root}alerting/pushgw.rules.yml`;
const node = process.execPath;
const job = (name: string) => fileURLToPath(new URL(`../fixtures/jobs/${name}`, import.meta.url));

describe("the shipped rules and dashboard", () => {
  it("are what `pushgw alert-rules` prints (run `npm run completions` after changing them)", async () => {
    expect((await runCli(["alert-rules"])).stdout).toBe(readFileSync(rulesFile, "utf8"));
    expect((await runCli(["alert-rules", "--dashboard"])).stdout).toBe(readFileSync(`${root}alerting/pushgw-dashboard.json`, "utf8"));
  });

  it("follow --prefix, and refuse a prefix that is no metric name", async () => {
    const run = await runCli(["alert-rules", "--prefix", "backup"]);
    expect(run.stdout).toContain("time() - backup_last_success_timestamp_seconds > backup_expected_interval_seconds + backup_expected_grace_seconds");
    expect((await runCli(["alert-rules", "--prefix", "9x"])).code).toBe(2);
  });

  // The installed promtool (2.x) in every world: Debian's Prometheus 3 package ships none. The
  // rules also load into the Prometheus the world runs (3.x in CI's second), below.
  it("pass `promtool check rules`", () => {
    const promtool = ensureTool("promtool", "prometheus");
    const run = spawnSync(promtool, ["check", "rules", rulesFile], { encoding: "utf8" });
    expect(run.stdout + run.stderr).toContain("SUCCESS: 6 rules found");
    expect(run.status).toBe(0);
  });

  it("pass their `promtool test rules` unit tests: each alert fires, and stays quiet, when it should", () => {
    const promtool = ensureTool("promtool", "prometheus");
    const run = spawnSync(promtool, ["test", "rules", "pushgw.rules.test.yml"], { cwd: `${root}test/fixtures/alerting`, encoding: "utf8" });
    expect(run.stdout + run.stderr).toMatch(/SUCCESS/);
    expect(run.status).toBe(0);
  });
});

describe("through a real Prometheus scraping the real Pushgateway", () => {
  let gw: RunningGateway;
  let prometheus: RunningPrometheus;
  beforeAll(async () => {
    gw = await startPushgateway();
    prometheus = await startPrometheus(gw.url, [rulesFile]);
  }, 30_000);
  afterAll(async () => {
    await prometheus?.stop();
    await gw?.stop();
  });


  it("a wrapped job's metrics arrive with its own job and instance (honor_labels)", async () => {
    const run = await runCli(["wrap", "-g", gw.url, "-j", "scraped", "-i", "box-1", "--expect-every", "1h", "--", node, job("exit.mjs"), "0"]);
    expect(run.code).toBe(0);
    const result = await until(() => prometheus.query('job_success{job="scraped"}'), (r) => r.data.result.length > 0);
    expect(result.data.result).toEqual([{ metric: { __name__: "job_success", job: "scraped", instance: "box-1" }, value: [expect.any(Number), "1"] }]);
  }, 30_000);

  it("every dashboard query parses and returns data for a wrapped job", async () => {
    await runCli(["wrap", "-g", gw.url, "-j", "dashboarded", "--expect-every", "1h", "--", node, job("exit.mjs"), "0"]);
    for (const { panel, expr } of dashboardQueries("job")) {
      const result = await until(() => prometheus.query(expr), (r) => r.data?.result?.some((s) => s.metric["job"] === "dashboarded") ?? false);
      expect(result.status, `${panel}: ${expr}`).toBe("success");
      expect(result.data.result.some((s) => s.metric["job"] === "dashboarded"), `${panel}: ${expr}`).toBe(true);
    }
  }, 60_000);

  it("a job wrapped with --expect-every that stops succeeding raises PushgwJobOverdue, without a rule of its own", async () => {
    const run = await runCli(["wrap", "-g", gw.url, "-j", "overdue", "--no-instance", "--expect-every", "2s", "--grace", "1s", "--", node, job("exit.mjs"), "0"]);
    expect(run.code).toBe(0);
    const alerts = await until(prometheus.alerts, (a) => a.some((x) => x.labels["alertname"] === "PushgwJobOverdue" && x.labels["job"] === "overdue" && x.state === "firing"));
    const alert = alerts.find((x) => x.labels["alertname"] === "PushgwJobOverdue" && x.labels["job"] === "overdue");
    expect(alert?.state).toBe("firing");
    expect(alert?.annotations["summary"]).toBe("overdue has not succeeded within its expected interval");
  }, 30_000);

  it("a failed run raises PushgwJobFailed; a job that keeps succeeding raises nothing", async () => {
    await runCli(["wrap", "-g", gw.url, "-j", "broken", "--", node, job("exit.mjs"), "3"]);
    await runCli(["wrap", "-g", gw.url, "-j", "healthy", "--expect-every", "1h", "--", node, job("exit.mjs"), "0"]);
    const alerts = await until(prometheus.alerts, (a) => a.some((x) => x.labels["alertname"] === "PushgwJobFailed" && x.labels["job"] === "broken"));
    expect(alerts.find((x) => x.labels["job"] === "broken")?.annotations["summary"]).toMatch(/^The last run of broken on .* failed with exit status 3$/);
    expect(alerts.filter((x) => x.labels["job"] === "healthy")).toEqual([]);
  }, 30_000);

  it("the gateway's own metrics carry the handler label the PushgatewayNoPushes rule reads", async () => {
    const result = await until(() => prometheus.query('pushgateway_http_requests_total{handler="push", code=~"2.."}'), (r) => r.data.result.length > 0);
    expect(result.data.result.length).toBeGreaterThan(0);
  }, 30_000);
});
