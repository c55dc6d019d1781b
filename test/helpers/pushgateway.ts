import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { accessSync, constants } from "node:fs";
import { delimiter, join } from "node:path";

/**
 * The real Pushgateway, started per test file on a free loopback port with no persistence.
 * Debian ships it as `prometheus-pushgateway`; PUSHGATEWAY_BIN names another binary, and
 * PUSHGATEWAY_ARGS (split at blanks) adds flags to every gateway a test starts (CI's third world:
 * `--push.enable-utf8-names`).
 */
export interface RunningGateway {
  readonly url: string;
  readonly port: number;
  stop(): Promise<void>;
}

const NAMES = ["prometheus-pushgateway", "pushgateway"];

export function findPushgatewayBinary(): string | undefined {
  const explicit = process.env["PUSHGATEWAY_BIN"];
  if (explicit) return explicit;
  const dirs = (process.env["PATH"] ?? "").split(delimiter).concat(["/usr/bin", "/usr/local/bin"]);
  for (const dir of dirs) {
    for (const name of NAMES) {
      const candidate = join(dir, name);
      try {
        accessSync(candidate, constants.X_OK);
        return candidate;
      } catch {
        // not here
      }
    }
  }
  return undefined;
}

/** Finds the binary, installing Debian's package when we are root on Debian; else explains. */
export function ensurePushgatewayBinary(): string {
  const found = findPushgatewayBinary();
  if (found) return found;
  const canApt = process.getuid?.() === 0 && spawnSync("sh", ["-c", "command -v apt-get"]).status === 0;
  if (canApt) {
    process.stderr.write("test setup: the Pushgateway is missing; installing Debian's prometheus-pushgateway\n");
    const env = { ...process.env, DEBIAN_FRONTEND: "noninteractive" };
    spawnSync("apt-get", ["update", "-qq"], { stdio: "inherit", env });
    spawnSync("apt-get", ["install", "-y", "-qq", "prometheus-pushgateway"], { stdio: "inherit", env });
    const installed = findPushgatewayBinary();
    if (installed) return installed;
  }
  throw new Error(
    "The behaviour tests need the real Prometheus Pushgateway and none was found.\n" +
      "  On Debian or Ubuntu: sudo apt-get install prometheus-pushgateway\n" +
      "  Elsewhere: download it from the Prometheus project and set PUSHGATEWAY_BIN=/path/to/pushgateway",
  );
}

/** The flags PUSHGATEWAY_ARGS adds to every gateway the tests start. */
export function defaultGatewayArgs(): string[] {
  return (process.env["PUSHGATEWAY_ARGS"] ?? "").split(/\s+/).filter(Boolean);
}

/**
 * `port` 0 picks a free one; a given port lets a test bring a gateway "back" where it was.
 * `binary` runs that Pushgateway instead (todaysStack().pushgateway, for what only 1.11 does).
 */
export async function startPushgateway(extraArgs: readonly string[] = [], port = 0, binary = ensurePushgatewayBinary()): Promise<RunningGateway> {
  // An empty --persistence.file keeps everything in memory (Debian's default writes to /var/lib),
  // unless the test names a file (the flag may be given once).
  const persistence = extraArgs.some((arg) => arg.startsWith("--persistence.file=")) ? [] : ["--persistence.file="];
  const args = [`--web.listen-address=127.0.0.1:${port}`, ...persistence, ...defaultGatewayArgs(), ...extraArgs];
  const child = spawn(binary, args, {
    stdio: ["ignore", "ignore", "pipe"],
  });
  const listening = await new Promise<number>((resolve, reject) => {
    let log = "";
    const timer = setTimeout(() => reject(new Error(`the Pushgateway did not start in 10 s:\n${log}`)), 10_000);
    child.stderr!.on("data", (chunk: Buffer) => {
      log += chunk.toString();
      const match = /msg="Listening on" address=127\.0\.0\.1:(\d+)/.exec(log);
      if (match) {
        clearTimeout(timer);
        resolve(Number(match[1]));
      }
    });
    child.on("exit", (code) => {
      clearTimeout(timer);
      reject(new Error(`the Pushgateway exited with ${code}:\n${log}`));
    });
  });
  child.stderr!.resume();
  return { url: `http://127.0.0.1:${listening}`, port: listening, stop: () => stopChild(child) };
}

function stopChild(child: ChildProcess): Promise<void> {
  return new Promise((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) return resolve();
    child.once("exit", () => resolve());
    child.kill("SIGTERM");
  });
}

export interface GatewayGroup {
  labels: Record<string, string>;
  last_push_successful: boolean;
  [family: string]: unknown;
}

/** The gateway's own view of its groups, from its JSON API. */
export async function readGroups(url: string): Promise<GatewayGroup[]> {
  const response = await fetch(`${url}/api/v1/metrics`);
  const json = (await response.json()) as { data: GatewayGroup[] };
  return json.data;
}

/** The same, in a stable order (the gateway's is random), for before/after comparisons. */
export async function readGroupsSorted(url: string): Promise<GatewayGroup[]> {
  const groups = await readGroups(url);
  const key = (g: GatewayGroup) => JSON.stringify(Object.entries(g.labels).sort());
  return groups.sort((a, b) => (key(a) < key(b) ? -1 : key(a) > key(b) ? 1 : 0));
}

export function familyNames(group: GatewayGroup): string[] {
  return Object.keys(group)
    .filter((k) => k !== "labels" && k !== "last_push_successful" && k !== "push_time_seconds" && k !== "push_failure_time_seconds")
    .sort();
}

export interface FamilyJson {
  type: string;
  help?: string;
  metrics: Array<{ labels: Record<string, string>; value?: string }>;
}

export function family(group: GatewayGroup | undefined, name: string): FamilyJson | undefined {
  return group?.[name] as FamilyJson | undefined;
}

export function findGroup(groups: GatewayGroup[], labels: Record<string, string>): GatewayGroup | undefined {
  const want = JSON.stringify(Object.entries(labels).sort());
  return groups.find((g) => JSON.stringify(Object.entries(g.labels).sort()) === want);
}

/** A loopback port nothing listens on (for a gateway that is down), free at the time of asking. */
export async function unusedPort(): Promise<number> {
  const { createServer } = await import("node:net");
  return new Promise((resolve) => {
    const server = createServer().listen(0, "127.0.0.1", () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}
