import { GatewayError, InternalError, SpooledError, ToolError, UsageError } from "../core/errors.js";
import { decodeUtf8, parseExposition } from "../core/exposition.js";
import { encodeWrapGrouping, formatGroupingKey, groupingLabelMap, refuseEmptyGroupingValues, WRAP_GROUPING_ENV, type GroupingKey } from "../core/grouping-key.js";
import {
  describeOutcome,
  ownedFamilies,
  renderEndMetrics,
  renderSkipMetrics,
  renderStartMetrics,
  wrapMetricNames,
  wrapperExitCode,
  type Expectation,
  type JobOutcome,
  type WrapMetricNames,
} from "../core/wrap-metrics.js";
import { formatDuration } from "../core/duration.js";
import { wrapTargetEnvironment } from "../core/wrapped-target.js";
import { DEFAULT_TARGET } from "./targets/names.js";
import { openGateway } from "./gateway.js";
import { refuseGroupingNamesNotTaken } from "./input-rules.js";
import { writeFailure } from "./outcomes.js";
import type { DeliveryLimits, Deps, Gateway, HeldLock, RelayServer, ScratchFile, TransportOptions } from "./ports.js";
import { targetSpec, writeInputOptions } from "./targets/registry.js";
import { skipCountFile, SKIPPED_EXIT_CODE } from "../core/lock.js";
import { relayHandler, WRAP_SOCKET_ENV } from "./relay.js";
import { createSpoolWriter } from "./spool-queue.js";

export interface WrapOptions {
  readonly argv: readonly string[];
  readonly grouping: GroupingKey;
  readonly transport: TransportOptions;
  readonly prefix: string;
  readonly startPush: boolean;
  readonly quietSuccess: boolean;
  readonly strict: boolean;
  readonly maxRuntimeMs: number | undefined;
  readonly killGraceMs: number;
  readonly expectation: Expectation | undefined;
  readonly dryRun: boolean;
  /** --lock [FILE] and --lock-wait D: at most one run of the group at a time on this host. */
  readonly lock?: RunLockOptions | undefined;
  /** What PUSHGW_TARGET held in the wrapper's own environment (core/wrapped-target.ts). */
  readonly targetBefore?: string | undefined;
  /** The longest the final push may take; FINAL_PUSH_BUDGET_MS unless a test says otherwise. */
  readonly finalPushBudgetMs?: number;
}

export interface RunLockOptions {
  /** The lock file; undefined: one named after the grouping key (Locks.defaultFile). */
  readonly file: string | undefined;
  /** Wait this long for the lock; undefined: give up at once. */
  readonly waitMs: number | undefined;
}

/**
 * The final push never holds a cron slot longer than this, whatever --retries and --timeout
 * say. (Before it, a start push still in flight is waited for, at most one --timeout.)
 */
export const FINAL_PUSH_BUDGET_MS = 30_000;

/** Environment variables a job sees (besides its target's, PUSHGW_JOB and WRAP_GROUPING_ENV). */
export const METRICS_FILE_ENV = "PUSHGW_METRICS_FILE";

/** Given to pushgw, not to the job: the wrapper's environment keeps them, the job's does not. */
const SECRET_ENV = ["PUSHGW_PASSWORD", "PUSHGW_BEARER_TOKEN", "PUSHGW_USER"];

class JobStartError extends ToolError {
  override readonly name = "JobStartError";
  constructor(
    message: string,
    readonly exitCode: number,
    hint: string,
  ) {
    super(message, { hint });
  }
}

/**
 * `wrap`: run the job as if unwrapped, then push its outcome. Returns the job's status, and
 * hands it to `statusKnown` as soon as it is known.
 *
 * Everything that can be wrong with pushgw's own flags is found before the job starts (exit 2,
 * the job does not run). After that nothing pushgw meets may stop, kill or change the job: a
 * gateway that is down, a proxy variable that names nothing, a spool or TMPDIR that cannot be
 * written are said once on stderr, and the job's status is what the wrapper returns.
 */
export async function wrapJob(options: WrapOptions, deps: Deps, statusKnown?: (status: number) => void): Promise<number> {
  const key = options.grouping;
  refuseEmptyGroupingValues(key);
  const names = wrapMetricNames(options.prefix);
  const gateway = await openGateway(options.transport, deps, { command: "wrap", spoolWriter: createSpoolWriter() });
  // A UTF-8 grouping name goes escaped (U__), which a gateway without UTF-8 names would take as another name: asked before the job runs.
  // A gateway that cannot be reached does not stop the job: it runs, and its outcome goes as it would to a gateway that takes such names.
  const unreachable: string[] = [];
  try {
    await refuseGroupingNamesNotTaken(key, (needs) => targetSpec(gateway.target).inputRules(gateway.baseUrls, needs, deps, { gateway: async () => gateway, unreachable: (url) => unreachable.push(url) }));
  } catch (error) {
    if (!(error instanceof UsageError) || unreachable.length === 0) throw error;
    deps.out.warn(`could not ask ${unreachable.join(", ")} whether it takes UTF-8 label names; the job runs, and its outcome is pushed with them escaped (U__…), which a gateway without --push.enable-utf8-names keeps under that name`);
  }
  // Taken before anything else is made for the job, and held until its outcome is pushed, so
  // that the next run's start push can never land before this run's end.
  const lock = options.lock === undefined ? undefined : await takeRunLock(options.lock, key, deps);
  if (lock?.kind === "busy") return skipRun(lock.path, key, names, options, gateway, deps);
  const runner = await deps.jobs();
  const metricsFile = await runner.createScratchFile().catch((error: unknown) => {
    // Nothing is handed to the job from a place another user could write to: it runs without.
    deps.out.warn(`the job runs without ${METRICS_FILE_ENV} and without the wrapper's relay (a pushgw inside it pushes by itself): ${describe(error)}`);
    return undefined;
  });

  const relay = metricsFile ? await startRelay(metricsFile.dir, key, gateway, options, deps) : undefined;

  const startedAtMs = deps.clock.now();
  const startedAt = deps.clock.monotonic();
  // What a pushgw inside the job needs, and no secret: the target and the gateways' URLs without
  // credentials (a pushgw that pushes elsewhere brings its own), or the textfile directory; and
  // the relay for pushes to this group.
  const env: Record<string, string> = {
    ...targetSpec(gateway.target).jobEnvironment(gateway),
    ...wrapTargetEnvironment(gateway.target, options.targetBefore, DEFAULT_TARGET),
    PUSHGW_JOB: key.job,
    [WRAP_GROUPING_ENV]: encodeWrapGrouping(key),
  };
  if (metricsFile) env[METRICS_FILE_ENV] = metricsFile.path;
  if (relay) env[WRAP_SOCKET_ENV] = relay.path;
  const running = runner.run({
    argv: options.argv,
    env,
    unsetEnv: SECRET_ENV,
    captureOutput: options.quietSuccess,
    maxRuntimeMs: options.maxRuntimeMs,
    killGraceMs: options.killGraceMs,
    privateDir: metricsFile?.dir,
  });

  // The start push goes out while the job runs; the job never waits for it. Its outcome is a
  // value (the send path never throws); the catch is the last line of defence all the same.
  let jobEnded = false;
  const startPush: Promise<ToolError | undefined> = options.startPush
    ? push(renderStartMetrics(names, startedAtMs, options.expectation, options.maxRuntimeMs === undefined ? undefined : options.maxRuntimeMs + options.killGraceMs), key, options, gateway, deps, startedAtMs, { stopRetrying: () => jobEnded }).catch(unexpected)
    : Promise.resolve(undefined);

  const result = await running;
  jobEnded = true;
  await relay?.server.close().catch(() => undefined);
  const endedAtMs = deps.clock.now();
  const durationMs = deps.clock.monotonic() - startedAt;
  const exitCode = wrapperExitCode(result.outcome);
  // The status to end with should pushgw stop before it has pushed (a bug: src/cli/main.ts).
  statusKnown?.(options.strict && exitCode === 0 ? 1 : exitCode);

  if (result.output) {
    if (exitCode === 0) await result.output.discard();
    else await result.output.replay();
  }
  for (const note of result.notes) deps.out.warn(note);
  // A job that fails without a word would send no cron mail: one line makes sure it does.
  if (exitCode !== 0 && result.outcome.kind !== "notFound" && result.outcome.kind !== "notExecutable") {
    deps.out.info(`pushgw: ${formatGroupingKey(key)}: ${describeFailure(result.outcome, durationMs, options)}`);
  }
  for (const error of result.internalErrors) {
    deps.out.error(new InternalError(`pushgw hit an unexpected error while the job ran (the job was not touched): ${describe(error)}`, { hint: "this is a bug in pushgw; please report it with the command you ran" }));
  }
  if (result.outcome.kind === "notFound" || result.outcome.kind === "notExecutable") {
    deps.out.error(
      new JobStartError(`wrap: cannot run ${options.argv[0]}: ${result.outcome.reason}`, exitCode, result.outcome.hint),
    );
  }

  // The start push must be settled before the final one, or it could land after it and
  // say the job is still running.
  const startProblem = await startPush;
  const jobMetrics = metricsFile ? await readJobMetrics(metricsFile, key, names, deps) : "";
  const body = renderEndMetrics(names, { startedAtMs, endedAtMs, durationMs, exitCode, cost: result.cost }, options.expectation) + jobMetrics;
  const finalProblem = await push(body, key, options, gateway, deps, endedAtMs, {
    deadline: deps.clock.monotonic() + (options.finalPushBudgetMs ?? FINAL_PUSH_BUDGET_MS),
  }).catch(unexpected);

  if (finalProblem !== undefined) {
    deps.out.error(
      new GatewayError(`wrap: the outcome of ${formatGroupingKey(key)} (the job ${describeOutcome(result.outcome)}) was not pushed:\n${finalProblem.message}`, {
        hint: options.strict ? finalProblem.hint : `${finalProblem.hint ?? "check the gateway"}; the job's own exit status is kept (use --strict to fail instead)`,
      }),
    );
  } else if (startProblem !== undefined) {
    deps.out.warn(`the start of the job was not pushed (the outcome was): ${startProblem.message}`);
  }
  await lock?.held.release().catch(() => undefined);
  if (finalProblem !== undefined && options.strict && exitCode === 0) return 1;
  return exitCode;
}

/** How long a skipped run waits for the skip count's own lock (other skipped runs counting). */
const SKIP_COUNT_WAIT_MS = 10_000;

async function takeRunLock(options: RunLockOptions, key: GroupingKey, deps: Deps): Promise<{ kind: "held"; held: HeldLock } | { kind: "busy"; path: string }> {
  const locks = await deps.locks();
  const path = options.file ?? (await locks.defaultFile(key));
  const taken = await locks.take(path, options.waitMs);
  if (taken === "busy") return { kind: "busy", path };
  deps.out.verbose(`holding the lock ${taken.path}`);
  return { kind: "held", held: taken };
}

/**
 * The lock is held by another run: the job is not started. One line says so (-q silences it),
 * and the group gets the count of skipped runs and the time of this one, for the
 * PushgwJobOverlapping alert. The count is kept beside the lock file and pushed under that
 * file's own lock, so that skipped runs racing each other count every one, in order.
 */
async function skipRun(path: string, key: GroupingKey, names: WrapMetricNames, options: WrapOptions, gateway: Gateway, deps: Deps): Promise<number> {
  const waited = options.lock?.waitMs;
  deps.out.info(
    `pushgw: ${formatGroupingKey(key)}: not started: ${waited === undefined ? "the previous run still holds" : `after --lock-wait ${formatDuration(waited)} another run still held`} the lock ${path} (exit status ${SKIPPED_EXIT_CODE})`,
  );
  const skippedAtMs = deps.clock.now();
  let counter: HeldLock | undefined;
  try {
    const taken = await (await deps.locks()).take(skipCountFile(path), SKIP_COUNT_WAIT_MS);
    if (taken === "busy") deps.out.verbose(`the skip count ${skipCountFile(path)} stayed locked; only the time of this skip is pushed`);
    else counter = taken;
  } catch (error) {
    deps.out.warn(`the skipped run is not counted: ${error instanceof ToolError ? error.message : describe(error)}`);
  }
  try {
    let count: number | undefined;
    if (counter !== undefined) {
      count = (await counter.readCount()) + 1;
      if (!options.dryRun) await counter.writeCount(count);
    }
    const problem = await push(renderSkipMetrics(names, skippedAtMs, count), key, options, gateway, deps, skippedAtMs, {
      deadline: deps.clock.monotonic() + (options.finalPushBudgetMs ?? FINAL_PUSH_BUDGET_MS),
    }).catch(unexpected);
    if (problem !== undefined) deps.out.warn(`the skipped run was not pushed: ${problem.message}`);
  } catch (error) {
    deps.out.warn(`the skipped run is not counted: ${describe(error)}`);
  } finally {
    await counter?.release().catch(() => undefined);
  }
  return SKIPPED_EXIT_CODE;
}

/** Opens the relay for pushgw runs inside the job; without one, they push by themselves. */
async function startRelay(dir: string, key: GroupingKey, gateway: Gateway, options: WrapOptions, deps: Deps): Promise<{ path: string; server: RelayServer } | undefined> {
  const path = `${dir}/relay.sock`;
  try {
    const server = await (await deps.relay()).serve(path, relayHandler(key, gateway, deps, options.dryRun, ownedFamilies(wrapMetricNames(options.prefix))));
    return { path, server };
  } catch (error) {
    const why = `a pushgw inside the job cannot hand its pushes to the wrapper (${describe(error)}); it pushes by itself, without the wrapper's credentials`;
    if (options.transport.credentials !== undefined) deps.out.warn(why);
    else deps.out.verbose(why);
    return undefined;
  }
}

/**
 * Sends one wrap push (or prints it with --dry-run). wrap's pushes are POSTs, so that a failed
 * run never erases the last success. Returns what went wrong, in words, or undefined.
 */
async function push(text: string, key: GroupingKey, options: WrapOptions, gateway: Gateway, deps: Deps, nowMs: number, limits: DeliveryLimits): Promise<ToolError | undefined> {
  const target = targetSpec(gateway.target);
  const exposition = parseExposition(text, { name: "wrap" }, writeInputOptions(target));
  const call = target.writeCall("POST", key, exposition, nowMs);
  if (options.dryRun) {
    gateway.dryRun(call);
    return undefined;
  }
  const failure = writeFailure(call, await gateway.write(call, limits), gateway.spoolDir);
  if (failure === undefined) return undefined;
  // Saved in the spool: not lost, and sent in order later. Said, but not a failure.
  if (failure instanceof SpooledError) {
    deps.out.warn(`the ${limits.stopRetrying ? "start" : "outcome"} of the job was ${failure.message}`);
    return undefined;
  }
  return failure;
}

/** A push that threw after all (a bug): said like a failed push, never thrown on. */
function unexpected(error: unknown): ToolError {
  return new InternalError(`unexpected failure: ${describe(error)}`, { hint: "this is a bug in pushgw; please report it with the command you ran" });
}

/**
 * The job's own metrics, from the file named by PUSHGW_METRICS_FILE. Bad content is a
 * warning: the outcome is pushed all the same, without them.
 */
async function readJobMetrics(file: ScratchFile, key: GroupingKey, names: WrapMetricNames, deps: Deps): Promise<string> {
  try {
    const bytes = await file.read();
    if (bytes.length === 0) return "";
    const source = { name: METRICS_FILE_ENV };
    const groupingLabels = groupingLabelMap(key);
    return parseExposition(decodeUtf8(bytes, source), source, { groupingLabels, reservedNames: ownedFamilies(names) }).text;
  } catch (error) {
    deps.out.warn(`the job's own metrics were left out: ${error instanceof ToolError ? error.message : describe(error)}`);
    return "";
  } finally {
    await file.remove().catch(() => undefined);
  }
}

/** `the job failed with exit status 3 after 12s`, said so that a cron mail tells the truth. */
function describeFailure(outcome: JobOutcome, durationMs: number, options: WrapOptions): string {
  const after = `after ${formatDuration(durationMs)}`;
  switch (outcome.kind) {
    case "timedOut":
      return `the job ran past --max-runtime ${formatDuration(options.maxRuntimeMs ?? 0)} and was stopped (SIGTERM, then SIGKILL after --kill-grace ${formatDuration(options.killGraceMs)} if needed): exit status 124 ${after}`;
    case "exited":
      return `the job failed with exit status ${outcome.code} ${after}`;
    case "signaled":
      return `the job was killed by ${outcome.signal}: exit status ${wrapperExitCode(outcome)} ${after}`;
    case "interrupted":
      return `the job was stopped by ${outcome.signal}, which the wrapper got and passed on: exit status ${wrapperExitCode(outcome)} ${after}`;
    default:
      return describeOutcome(outcome);
  }
}

function describe(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  const code = (error as NodeJS.ErrnoException).code;
  return code && !error.message.startsWith(code) ? `${code}: ${error.message}` : error.message;
}
