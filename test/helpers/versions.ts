import { spawnSync } from "node:child_process";
import { ensureTool } from "./prometheus.js";
import { defaultGatewayArgs, ensurePushgatewayBinary } from "./pushgateway.js";

/**
 * The version of a server binary the tests start, as it reports it (`--version`), read once per
 * binary. CI runs the behaviour tests against two worlds (Debian 12's 1.5.1/2.42/1.5 and Debian
 * unstable's 1.11/3.5/1.11): an expectation that holds for one version only asks which one runs.
 */
export interface ServerVersion {
  /** "1.11.2" */
  readonly text: string;
  /** Whether this version is `version` ("1.11") or newer. */
  atLeast(version: string): boolean;
}

const read = new Map<string, ServerVersion>();

export function versionOf(binary: string): ServerVersion {
  const known = read.get(binary);
  if (known) return known;
  const run = spawnSync(binary, ["--version"], { encoding: "utf8" });
  // "pushgateway, version 1.11.2 (branch: …", on stdout or (older builds) stderr.
  const match = /\bversion (\d+)\.(\d+)\.(\d+)/.exec(`${run.stdout}${run.stderr}`);
  if (!match) throw new Error(`${binary} --version named no version:\n${run.stdout}${run.stderr}`);
  const parts = match.slice(1, 4).map(Number);
  const version: ServerVersion = {
    text: parts.join("."),
    atLeast(other) {
      const want = other.split(".").map(Number);
      for (let i = 0; i < 3; i++) {
        const a = parts[i]!;
        const b = want[i] ?? 0;
        if (a !== b) return a > b;
      }
      return true;
    },
  };
  read.set(binary, version);
  return version;
}

/** The Pushgateway startPushgateway runs. */
export function pushgatewayVersion(): ServerVersion {
  return versionOf(ensurePushgatewayBinary());
}

/** The node_exporter startNodeExporter runs. */
export function nodeExporterVersion(): ServerVersion {
  return versionOf(ensureTool("prometheus-node-exporter", "prometheus-node-exporter"));
}

/** Whether the gateways the tests start take UTF-8 names (CI's third world). */
export function gatewayTakesUtf8Names(): boolean {
  return defaultGatewayArgs().includes("--push.enable-utf8-names");
}
