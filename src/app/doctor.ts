import { clockSkewMs, diagnose, diagnosisJson, needsAttention, parseGatewayStatus, renderReport, repairsOf, type Diagnosis, type GatewayFacts, type Probe, type Repair } from "../core/doctor.js";
import { UsageError } from "../core/errors.js";
import { labelSetId, type Group } from "../core/groups.js";
import { singleLine } from "../core/printable.js";
import { openGateway, type CallOutcome, type Gateway, type TransportOptions } from "./gateway.js";
import type { Deps } from "./ports.js";
import { READ_BACK_ATTEMPTS, READ_BACK_PAUSE_MS } from "./remove-groups.js";

export interface DoctorOptions {
  readonly transport: TransportOptions;
  /** --older-than: also report groups with no successful push for longer (and --fix deletes them). */
  readonly olderThanMs: number | undefined;
  readonly json: boolean;
  readonly fix: boolean;
  readonly yes: boolean;
}

/**
 * `doctor`: examines one gateway (read-only), reports each finding with the command that
 * repairs it, and exits 1 when something needs attention. `--fix` runs those repairs, with the
 * confirmation rules of prune, then examines the gateway again and reports what is left.
 */
export async function runDoctor(options: DoctorOptions, deps: Deps): Promise<number> {
  const gateway = await openGateway(options.transport, deps, { command: "doctor" });
  if (options.fix && !options.yes && !deps.input.stdinIsTerminal) {
    throw new UsageError("doctor --fix: refusing to change the gateway without a terminal to confirm on", {
      hint: "add --yes to run the repairs without asking, or leave out --fix to see the report only",
    });
  }
  const before = await examine(gateway, options, deps);
  const repairs = repairsOf(before);
  if (!options.fix || repairs.length === 0) {
    print(before, options, deps, false);
    if (options.fix) deps.out.info("doctor --fix: nothing to repair");
    return needsAttention(before) ? 1 : 0;
  }
  if (!options.json) print(before, options, deps, true);
  const baseUrl = gateway.baseUrls[0]!;
  if (!options.yes && !(await deps.input.confirm(`Run ${repairs.length} repair(s) on ${baseUrl}?`))) {
    deps.out.info("nothing changed");
    if (options.json) print(before, options, deps, false);
    return needsAttention(before) ? 1 : 0;
  }

  const results: Array<{ repair: Repair; outcome: CallOutcome }> = [];
  for (const repair of repairs) {
    const outcome = await gateway.sendTo(baseUrl, { method: repair.method, path: repair.path, ...(repair.body === undefined ? {} : { body: repair.body }) });
    results.push({ repair, outcome });
    if (outcome.kind === "delivered") deps.out.info(`done: ${repair.command}`);
    else deps.out.warn(`failed: ${repair.command}: ${outcome.kind === "failed" ? outcome.error.message : "not sent"}`);
  }

  // The gateway answers a DELETE once it is queued: read the groups back until the repairs
  // show, then examine once (a whole examination per attempt cost the analysis ten times over).
  const ran = results.filter((r) => r.outcome.kind === "delivered").map((r) => r.repair);
  for (let attempt = 0; attempt < READ_BACK_ATTEMPTS && ran.length > 0; attempt++) {
    if (attempt > 0) await deps.clock.sleep(READ_BACK_PAUSE_MS);
    const read = await gateway.readGroups();
    if (read.kind !== "read" || repairsShow(ran, read.groups)) break;
  }
  const after = await examine(gateway, options, deps);
  if (options.json) {
    const fixed = results.map(({ repair, outcome }) => ({ command: repair.command, done: outcome.kind === "delivered", ...(outcome.kind === "failed" ? { error: outcome.error.message } : {}) }));
    deps.out.result(JSON.stringify({ ...diagnosisJson(before), fixed, after: diagnosisJson(after) }, null, 2));
  } else {
    deps.out.result("");
    deps.out.result("after the repairs:", "dim");
    print(after, options, deps, true);
  }
  return needsAttention(after) ? 1 : 0;
}

function print(diagnosis: Diagnosis, options: DoctorOptions, deps: Deps, fixing: boolean): void {
  if (options.json) {
    deps.out.result(JSON.stringify(diagnosisJson(diagnosis), null, 2));
    return;
  }
  for (const line of renderReport(diagnosis, { fixing })) deps.out.result(singleLine(line.text), line.tone);
}

/** Asks the gateway what doctor needs to know; nothing here changes it. */
async function examine(gateway: Gateway, options: DoctorOptions, deps: Deps): Promise<Diagnosis> {
  const baseUrl = gateway.baseUrls[0]!;
  // Each answer's Date header, with when it was asked for and came: the gateway's clock.
  const clockReadings: Array<number | undefined> = [];
  const get = async (path: string, retries?: number): Promise<CallOutcome> => {
    const sentAt = deps.clock.now();
    const outcome = await gateway.sendTo(baseUrl, { method: "GET", path }, retries === undefined ? {} : { retries });
    if (outcome.kind === "delivered") clockReadings.push(clockSkewMs(outcome.headers?.["date"], sentAt, deps.clock.now()));
    return outcome;
  };
  const health = await get("/-/healthy");
  if (health.kind === "failed" && health.status === undefined) {
    return diagnose(unreachable(baseUrl, health.error.message), undefined, deps.clock.now(), options);
  }
  // The rest is asked once: doctor reports the gateway as it is, not as it is after retrying.
  const ready = await get("/-/ready", 0);
  const statusAnswer = await get("/api/v1/status", 0);
  const status = statusAnswer.kind === "delivered" ? parseGatewayStatus(statusAnswer.body) : undefined;
  const metrics = await get(status?.telemetryPath ?? "/metrics", 0);
  const read = await gateway.readGroups();
  let groups: Group[] | undefined;
  let groupsProblem: string | undefined;
  if (read.kind === "read") groups = read.groups;
  else groupsProblem = read.error.message;
  const facts: GatewayFacts = {
    url: baseUrl,
    healthy: probe(health),
    ready: probe(ready),
    status,
    metricsEndpoint: metrics.kind === "failed" && !isSuccess(metrics.status) ? { ok: false, why: whyFailed(metrics), answer: metrics.error.message } : { ok: true },
    clockSkewMs: clockReadings.find((reading) => reading !== undefined),
    groupsProblem,
  };
  return diagnose(facts, groups, deps.clock.now(), options);
}

/** True when every repair shows in the groups: a deleted group gone, a run marked ended no longer running. */
function repairsShow(repairs: readonly Repair[], groups: readonly Group[]): boolean {
  const byLabels = new Map(groups.map((g) => [labelSetId(g.labels), g]));
  return repairs.every((repair) => {
    const group = byLabels.get(labelSetId(repair.labels));
    return repair.method === "DELETE" ? group === undefined : group === undefined || !group.running;
  });
}

function unreachable(url: string, why: string): GatewayFacts {
  const notAsked: Probe = { ok: false, why: "not asked" };
  return { url, unreachable: why, healthy: notAsked, ready: notAsked, status: undefined, metricsEndpoint: notAsked, clockSkewMs: undefined };
}

/** A 2xx answer: a /metrics larger than pushgw reads is still a working one. */
function isSuccess(status: number | undefined): boolean {
  return status !== undefined && status >= 200 && status < 300;
}

function probe(outcome: CallOutcome): Probe {
  if (outcome.kind === "delivered" || (outcome.kind === "failed" && isSuccess(outcome.status))) return { ok: true };
  return { ok: false, why: outcome.kind === "failed" ? outcome.error.message : "not delivered" };
}

function whyFailed(outcome: Extract<CallOutcome, { kind: "failed" }>): string {
  return outcome.status === undefined ? "no answer" : `it answers ${outcome.status}`;
}
