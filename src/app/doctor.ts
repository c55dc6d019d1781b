import { clockSkewMs, diagnose, diagnosisJson, needsAttention, parseGatewayStatus, renderReport, repairsOf, type Diagnosis, type GatewayFacts, type Probe, type Repair } from "../core/doctor.js";
import { UsageError } from "../core/errors.js";
import { labelSetId, type Group } from "../core/groups.js";
import { singleLine } from "../core/printable.js";
import { eachGateway } from "./each-gateway.js";
import { openGateway } from "./gateway.js";
import type { CallOutcome, Deps, Gateway, TransportOptions } from "./ports.js";
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
 * `doctor`: examines a gateway (read-only), reports each finding with the command that
 * repairs it, and exits 1 when something needs attention. `--fix` runs those repairs, with the
 * confirmation rules of prune, then examines the gateway again and reports what is left. With
 * several gateways, each in turn, under a line naming it; --json is then an array of reports.
 */
export async function runDoctor(options: DoctorOptions, deps: Deps): Promise<number> {
  const gateway = await openGateway(options.transport, deps, { command: "doctor" });
  if (options.fix && !options.yes && !deps.input.stdinIsTerminal) {
    throw new UsageError("doctor --fix: refusing to change the gateway without a terminal to confirm on", {
      hint: "add --yes to run the repairs without asking, or leave out --fix to see the report only",
    });
  }
  const several = gateway.baseUrls.length > 1;
  const reports: unknown[] = [];
  let reportsBegun = 0;
  const emit = (report: unknown): void => {
    if (several) reports.push(report);
    else deps.out.result(JSON.stringify(report, null, 2));
  };
  const status = await eachGateway(
    gateway.baseUrls,
    deps,
    (baseUrl) => doctorOne(gateway, baseUrl, options, deps, emit),
    // Each report names its gateway on its first line: a blank line between them is enough.
    options.json ? undefined : () => {
      if (reportsBegun++ > 0) deps.out.result("");
    },
  );
  if (several && options.json) deps.out.result(JSON.stringify(reports, null, 2));
  return status;
}

async function doctorOne(gateway: Gateway, baseUrl: string, options: DoctorOptions, deps: Deps, emit: (report: unknown) => void): Promise<number> {
  const print = (diagnosis: Diagnosis, fixing: boolean): void => {
    if (options.json) emit(diagnosisJson(diagnosis));
    else for (const line of renderReport(diagnosis, { fixing })) deps.out.result(singleLine(line.text), line.tone);
  };
  const before = await examine(gateway, baseUrl, options, deps);
  const repairs = repairsOf(before);
  if (!options.fix || repairs.length === 0) {
    print(before, false);
    if (options.fix) deps.out.info("doctor --fix: nothing to repair");
    return needsAttention(before) ? 1 : 0;
  }
  if (!options.json) print(before, true);
  if (!options.yes && !(await deps.input.confirm(`Run ${repairs.length} repair(s) on ${baseUrl}?`))) {
    deps.out.info("nothing changed");
    if (options.json) print(before, false);
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
    const read = await gateway.readGroups(baseUrl);
    if (read.kind !== "read" || repairsShow(ran, read.groups)) break;
  }
  const after = await examine(gateway, baseUrl, options, deps);
  if (options.json) {
    const fixed = results.map(({ repair, outcome }) => ({ command: repair.command, done: outcome.kind === "delivered", ...(outcome.kind === "failed" ? { error: outcome.error.message } : {}) }));
    emit({ ...diagnosisJson(before), fixed, after: diagnosisJson(after) });
  } else {
    deps.out.result("");
    deps.out.result("after the repairs:", "dim");
    print(after, true);
  }
  return needsAttention(after) ? 1 : 0;
}

/** Asks the gateway what doctor needs to know; nothing here changes it. */
async function examine(gateway: Gateway, baseUrl: string, options: DoctorOptions, deps: Deps): Promise<Diagnosis> {
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
  const read = await gateway.readGroups(baseUrl);
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
