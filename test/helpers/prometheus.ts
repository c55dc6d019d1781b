import { spawn, spawnSync } from "node:child_process";
import { mkdtempSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";

/** A real Prometheus (Debian's `prometheus`), scraping the given gateway every second. */
export interface RunningPrometheus {
  readonly url: string;
  query(expr: string): Promise<{ status: string; error?: string; data: { resultType: string; result: Array<{ metric: Record<string, string>; value: [number, string] }> } }>;
  alerts(): Promise<Array<{ labels: Record<string, string>; state: string; annotations: Record<string, string> }>>;
  stop(): Promise<void>;
}

/**
 * The variables that point a test run at other builds of the servers (CI's second world, Debian
 * unstable's, from scripts/fetch-todays-stack.sh). promtool has none: Debian's Prometheus 3 ships no
 * promtool 3, so the rule tests keep the installed one.
 */
const BINARY_VARIABLES: Readonly<Record<string, string>> = {
  prometheus: "PROMETHEUS_BIN",
  "prometheus-node-exporter": "NODE_EXPORTER_BIN",
  "victoria-metrics": "VICTORIA_METRICS_BIN",
};

export function ensureTool(binary: string, debianPackage: string): string {
  const variable = BINARY_VARIABLES[binary];
  const explicit = variable === undefined ? undefined : process.env[variable];
  if (explicit) return explicit;
  const found = spawnSync("sh", ["-c", `command -v ${binary}`], { encoding: "utf8" }).stdout.trim();
  if (found) return found;
  if (process.getuid?.() === 0 && spawnSync("sh", ["-c", "command -v apt-get"]).status === 0) {
    const env = { ...process.env, DEBIAN_FRONTEND: "noninteractive" };
    spawnSync("apt-get", ["update", "-qq"], { stdio: "inherit", env });
    spawnSync("apt-get", ["install", "-y", "-qq", debianPackage], { stdio: "inherit", env });
    const installed = spawnSync("sh", ["-c", `command -v ${binary}`], { encoding: "utf8" }).stdout.trim();
    if (installed) return installed;
  }
  throw new Error(`These tests need ${binary}, which was not found. On Debian or Ubuntu: sudo apt-get install ${debianPackage}`);
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

/** One more scrape job: `target` is host:port. */
export interface ScrapeJob {
  readonly job: string;
  readonly target: string;
  readonly honorLabels: boolean;
}

/**
 * `gatewayUrl` undefined: no scraping of a gateway, but the remote-write receiver is on
 * (`--web.enable-remote-write-receiver`, POST /api/v1/write).
 */
export async function startPrometheus(
  gatewayUrl: string | undefined,
  ruleFiles: readonly string[] = [],
  scrapes: readonly ScrapeJob[] = [],
  /** Another build (the newest: todaysStack()) and more flags (a remote-write 2.0-only receiver). */
  options: { binary?: string; extraArgs?: readonly string[] } = {},
): Promise<RunningPrometheus> {
  const binary = options.binary ?? ensureTool("prometheus", "prometheus");
  const dir = mkdtempSync(join(tmpdir(), "pushgw-prometheus-"));
  const jobs: ScrapeJob[] = [...(gatewayUrl === undefined ? [] : [{ job: "pushgateway", target: new URL(gatewayUrl).host, honorLabels: true }]), ...scrapes];
  const scrape =
    jobs.length === 0
      ? []
      : ["scrape_configs:", ...jobs.flatMap((j) => [`  - job_name: ${j.job}`, `    honor_labels: ${j.honorLabels}`, "    static_configs:", `      - targets: ["${j.target}"]`])];
  writeFileSync(
    join(dir, "prometheus.yml"),
    [
      "global:",
      "  scrape_interval: 1s",
      "  evaluation_interval: 1s",
      `rule_files: [${ruleFiles.map((f) => JSON.stringify(f)).join(", ")}]`,
      ...scrape,
      "",
    ].join("\n"),
  );
  const port = await freePort();
  const child = spawn(
    binary,
    [
      `--config.file=${join(dir, "prometheus.yml")}`,
      `--storage.tsdb.path=${join(dir, "data")}`,
      `--web.listen-address=127.0.0.1:${port}`,
      ...(gatewayUrl === undefined ? ["--web.enable-remote-write-receiver"] : []),
      ...(options.extraArgs ?? []),
    ],
    { stdio: ["ignore", "ignore", "pipe"] },
  );
  let log = "";
  child.stderr!.on("data", (c: Buffer) => (log += c.toString()));
  const url = `http://127.0.0.1:${port}`;
  for (let i = 0; ; i++) {
    if (child.exitCode !== null) throw new Error(`prometheus exited:\n${log}`);
    try {
      if ((await fetch(`${url}/-/ready`)).ok) break;
    } catch {
      // not listening yet
    }
    if (i > 150) throw new Error(`prometheus did not become ready:\n${log}`);
    await new Promise((r) => setTimeout(r, 100));
  }
  return {
    url,
    query: async (expr) => (await fetch(`${url}/api/v1/query?query=${encodeURIComponent(expr)}`)).json() as never,
    alerts: async () => ((await (await fetch(`${url}/api/v1/alerts`)).json()) as { data: { alerts: never[] } }).data.alerts,
    stop: () =>
      new Promise<void>((resolve) => {
        if (child.exitCode !== null) return resolve();
        child.once("exit", () => resolve());
        child.kill("SIGTERM");
      }),
  };
}

/** Debian's VictoriaMetrics (single node) on a free loopback port. */
export interface RunningVictoriaMetrics {
  readonly url: string;
  /** Raw samples of the series matching `selector`, after a flush (no query lookback involved). */
  exportSeries(selector: string): Promise<Array<{ metric: Record<string, string>; values: number[]; timestamps: number[] }>>;
  stop(): Promise<void>;
}

/** `binary`: another build than the one on PATH (the newest, for OTLP: todaysStack()). */
export async function startVictoriaMetrics(binary = ensureTool("victoria-metrics", "victoria-metrics")): Promise<RunningVictoriaMetrics> {
  const dir = mkdtempSync(join(tmpdir(), "pushgw-vm-"));
  const port = await freePort();
  const child = spawn(binary, [`-httpListenAddr=127.0.0.1:${port}`, `-storageDataPath=${join(dir, "data")}`], { stdio: "ignore" });
  const url = `http://127.0.0.1:${port}`;
  for (let i = 0; ; i++) {
    if (child.exitCode !== null) throw new Error("victoria-metrics exited at start");
    try {
      if ((await fetch(`${url}/health`)).ok) break;
    } catch {
      // not listening yet
    }
    if (i > 150) throw new Error("victoria-metrics did not become ready");
    await new Promise((r) => setTimeout(r, 100));
  }
  return {
    url,
    exportSeries: async (selector) => {
      // VictoriaMetrics makes new rows searchable a moment after it took them: flush, and ask
      // again for a few seconds.
      for (let i = 0; ; i++) {
        await fetch(`${url}/internal/force_flush`);
        const body = await (await fetch(`${url}/api/v1/export?${new URLSearchParams({ "match[]": selector })}`)).text();
        const found = body.split("\n").filter(Boolean).map((line) => JSON.parse(line) as never);
        if (found.length > 0 || i >= 40) return found;
        await new Promise((r) => setTimeout(r, 250));
      }
    },
    stop: () =>
      new Promise<void>((resolve) => {
        if (child.exitCode !== null) return resolve();
        child.once("exit", () => resolve());
        child.kill("SIGTERM");
      }),
  };
}

/** Debian's node_exporter with only the textfile collector, reading `dir`, on a free loopback port. */
export interface RunningNodeExporter {
  /** host:port, for a scrape config. */
  readonly address: string;
  /** The text of /metrics. */
  metrics(): Promise<string>;
  /** What node_exporter logged on stderr so far (it says there which series it dropped). */
  log(): string;
  stop(): Promise<void>;
}

export async function startNodeExporter(dir: string): Promise<RunningNodeExporter> {
  const binary = ensureTool("prometheus-node-exporter", "prometheus-node-exporter");
  const port = await freePort();
  const address = `127.0.0.1:${port}`;
  const child = spawn(
    binary,
    ["--collector.disable-defaults", "--collector.textfile", `--collector.textfile.directory=${dir}`, "--web.disable-exporter-metrics", `--web.listen-address=${address}`],
    { stdio: ["ignore", "ignore", "pipe"] },
  );
  let log = "";
  child.stderr!.on("data", (c: Buffer) => (log += c.toString()));
  const url = `http://${address}`;
  for (let i = 0; ; i++) {
    if (child.exitCode !== null) throw new Error(`node_exporter exited:\n${log}`);
    try {
      if ((await fetch(`${url}/metrics`)).ok) break;
    } catch {
      // not listening yet
    }
    if (i > 150) throw new Error(`node_exporter did not become ready:\n${log}`);
    await new Promise((r) => setTimeout(r, 100));
  }
  return {
    address,
    metrics: async () => {
      const response = await fetch(`${url}/metrics`);
      if (!response.ok) throw new Error(`node_exporter answered ${response.status}`);
      return response.text();
    },
    log: () => log,
    stop: () =>
      new Promise<void>((resolve) => {
        if (child.exitCode !== null) return resolve();
        child.once("exit", () => resolve());
        child.kill("SIGTERM");
      }),
  };
}
