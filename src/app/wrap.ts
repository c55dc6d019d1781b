import { GatewayError, SpooledError, ToolError } from "../core/errors.js";
import { decodeUtf8, parseExposition } from "../core/exposition.js";
import { encodeWrapGrouping, formatGroupingKey, WRAP_GROUPING_ENV, type GroupingKey } from "../core/grouping-key.js";
import {
  describeOutcome,
  ownedFamilies,
  renderEndMetrics,
  renderStartMetrics,
  wrapMetricNames,
  wrapperExitCode,
  type Expectation,
  type WrapMetricNames,
} from "../core/wrap.js";
import { withSecrets, type DeliveryLimits, type GatewayCall, type TransportOptions } from "./deliver.js";
import { deliverToAll, printDryRun } from "./deliver-to-gateways.js";
import type { Deps, ScratchFile } from "./ports.js";
import { buildWriteCall } from "./push.js";

export interface WrapOptions {
  readonly argv: readonly string[];
  readonly grouping: GroupingKey;
  readonly transport: TransportOptions;
  /** What a `pushgw add` inside the job should use as PUSHGW_GATEWAY. */
  readonly gatewayForJob: string;
  readonly prefix: string;
  readonly startPush: boolean;
  readonly quietSuccess: boolean;
  readonly strict: boolean;
  readonly maxRuntimeMs: number | undefined;
  readonly killGraceMs: number;
  readonly expectation: Expectation | undefined;
  readonly dryRun: boolean;
}

/**
 * The final push never holds a cron slot longer than this, whatever --retries and --timeout
 * say. (Before it, a start push still in flight is waited for, at most one --timeout.)
 */
export const FINAL_PUSH_BUDGET_MS = 30_000;

/** Environment variables a job sees (besides PUSHGW_GATEWAY, PUSHGW_JOB and WRAP_GROUPING_ENV). */
export const METRICS_FILE_ENV = "PUSHGW_METRICS_FILE";

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

/** `wrap`: run the job as if unwrapped, then push its outcome. Returns the job's status. */
export async function wrapJob(given: WrapOptions, deps: Deps): Promise<number> {
  const key = given.grouping;
  const options = { ...given, transport: await withSecrets(given.transport, deps) };
  const names = wrapMetricNames(options.prefix);
  const runner = await deps.jobs();
  const metricsFile = await runner.createScratchFile();

  const startedAtMs = deps.clock.now();
  const startedAt = deps.clock.monotonic();
  const running = runner.run({
    argv: options.argv,
    env: {
      PUSHGW_GATEWAY: options.gatewayForJob,
      PUSHGW_JOB: key.job,
      [WRAP_GROUPING_ENV]: encodeWrapGrouping(key),
      [METRICS_FILE_ENV]: metricsFile.path,
    },
    captureOutput: options.quietSuccess,
    maxRuntimeMs: options.maxRuntimeMs,
    killGraceMs: options.killGraceMs,
  });

  // The start push goes out while the job runs; the job never waits for it.
  let jobEnded = false;
  const startPush = options.startPush
    ? send("start", writeCall(renderStartMetrics(names, startedAtMs, options.expectation), key, options, startedAtMs), options, deps, {
        stopRetrying: () => jobEnded,
      })
    : Promise.resolve(undefined);

  const result = await running;
  jobEnded = true;
  const endedAtMs = deps.clock.now();
  const durationMs = deps.clock.monotonic() - startedAt;
  const exitCode = wrapperExitCode(result.outcome);

  if (result.output) {
    if (exitCode === 0) await result.output.discard();
    else await result.output.replay();
  }
  if (result.outcome.kind === "notFound" || result.outcome.kind === "notExecutable") {
    deps.out.error(
      new JobStartError(`wrap: cannot run ${options.argv[0]}: ${result.outcome.reason}`, exitCode, result.outcome.kind === "notFound" ? "check the command's path and PATH (cron's PATH is short: use a full path)" : "check that the file is executable (chmod +x) and is not a directory"),
    );
  }

  // The start push must be settled before the final one, or it could land after it and
  // say the job is still running.
  const startFailure = await startPush;
  const jobMetrics = await readJobMetrics(metricsFile, key, names, deps);
  const body = renderEndMetrics(names, { startedAtMs, endedAtMs, durationMs, exitCode }, options.expectation) + jobMetrics;
  const finalFailure = await send("outcome", writeCall(body, key, options, endedAtMs), options, deps, {
    deadline: deps.clock.monotonic() + FINAL_PUSH_BUDGET_MS,
  });

  if (finalFailure) {
    deps.out.error(
      new GatewayError(`wrap: the outcome of ${formatGroupingKey(key)} (the job ${describeOutcome(result.outcome)}) was not pushed:\n${finalFailure.message}`, {
        hint: options.strict ? finalFailure.hint : `${finalFailure.hint ?? "check the gateway"}; the job's own exit status is kept (use --strict to fail instead)`,
      }),
    );
  } else if (startFailure) {
    deps.out.warn(`the start of the job was not pushed (the outcome was): ${startFailure.message}`);
  }
  if (finalFailure && options.strict && exitCode === 0) return 1;
  return exitCode;
}

/** wrap's pushes are POSTs, so that a failed run never erases the last success. */
function writeCall(text: string, key: GroupingKey, options: WrapOptions, nowMs: number): GatewayCall {
  const target = options.transport.target ?? "pushgateway";
  const exposition = parseExposition(text, { name: "wrap" }, { collectSamples: target === "remote-write" });
  return buildWriteCall("POST", key, exposition, target, nowMs);
}

/** Sends one wrap push (or prints it with --dry-run); returns the failure instead of throwing. */
async function send(what: "start" | "outcome", call: GatewayCall, options: WrapOptions, deps: Deps, limits: DeliveryLimits): Promise<GatewayError | undefined> {
  if (options.dryRun) {
    printDryRun(call, options.transport, deps);
    return undefined;
  }
  try {
    await deliverToAll(call, options.transport, deps, limits);
    return undefined;
  } catch (error) {
    if (error instanceof GatewayError) return error;
    // Saved in the spool: not lost, and sent in order later. The job's status stands.
    if (error instanceof SpooledError) {
      deps.out.warn(`the ${what} of the job was ${error.message}`);
      return undefined;
    }
    throw error;
  }
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
    const groupingLabels = new Map<string, string>([["job", key.job], ...key.labels]);
    return parseExposition(decodeUtf8(bytes, source), source, { groupingLabels, reservedNames: ownedFamilies(names) }).text;
  } catch (error) {
    if (!(error instanceof ToolError)) throw error;
    deps.out.warn(`the job's own metrics were left out: ${error.message}`);
    return "";
  } finally {
    await file.remove();
  }
}
