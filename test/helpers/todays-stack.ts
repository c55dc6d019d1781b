import { execFileSync } from "node:child_process";
import { fileURLToPath } from "node:url";

/**
 * The newest Pushgateway, Prometheus, node_exporter and VictoriaMetrics Debian ships (unstable),
 * fetched and unpacked by scripts/fetch-todays-stack.sh into .ci/.stack (never installed).
 * For tests whose subject exists only in the newer versions (a gateway started with
 * --push.enable-utf8-names, a remote-write 2.0-only receiver), whatever world the suite runs in.
 */
export interface TodaysStack {
  readonly pushgateway: string;
  readonly prometheus: string;
  readonly nodeExporter: string;
  readonly victoriaMetrics: string;
}

const SCRIPT = fileURLToPath(new URL("../../scripts/fetch-todays-stack.sh", import.meta.url));
const NAMES: Record<string, keyof TodaysStack> = {
  PUSHGATEWAY_BIN: "pushgateway",
  PROMETHEUS_BIN: "prometheus",
  NODE_EXPORTER_BIN: "nodeExporter",
  VICTORIA_METRICS_BIN: "victoriaMetrics",
};

let cached: TodaysStack | undefined;

/** Where the test set-up (test/global-setup.ts) hands the paths it found to every test worker. */
export const TODAYS_STACK_ENV = "PUSHGW_TEST_TODAYS_STACK";

/**
 * Fetches on first use (about 20 s, then cached on disk); throws saying how to get them otherwise.
 * Even cached, the script reads apt's package lists (seconds on a loaded machine), so workers
 * take what the set-up found.
 */
export function todaysStack(): TodaysStack {
  if (cached) return cached;
  const handed = process.env[TODAYS_STACK_ENV];
  if (handed) return (cached = JSON.parse(handed) as TodaysStack);
  let out: string;
  try {
    // A mirror that never answers must fail the test, not hold its worker: 10 minutes at most.
    out = execFileSync("bash", [SCRIPT], { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"], timeout: 600_000 });
  } catch (error) {
    throw new Error(
      `these tests need the newest Pushgateway, Prometheus, node_exporter and VictoriaMetrics from Debian unstable, ` +
        `fetched by scripts/fetch-todays-stack.sh (apt-get download from the mirror this machine's sources name), which failed:\n${String((error as { stderr?: string }).stderr ?? error)}`,
      { cause: error },
    );
  }
  const found: Partial<Record<keyof TodaysStack, string>> = {};
  for (const match of out.matchAll(/^export (\w+)='([^']+)'$/gm)) {
    const key = NAMES[match[1]!];
    if (key) found[key] = match[2]!;
  }
  for (const key of Object.values(NAMES)) if (!found[key]) throw new Error(`scripts/fetch-todays-stack.sh did not name the ${key} binary`);
  cached = found as TodaysStack;
  return cached;
}
