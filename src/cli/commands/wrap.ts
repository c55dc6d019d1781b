import type { CommandModule } from "yargs";
import type { WrapOptions } from "../../app/wrap.js";
import { parseDuration } from "../../core/duration.js";
import { UsageError } from "../../core/errors.js";
import type { App } from "../app.js";
import {
  toGroupingInput,
  toOutputSettings,
  toTransportOptions,
  withDryRun,
  withGlobalOptions,
  withGroupingOptions,
  type CliEnvironment,
  type GlobalArgs,
  type GroupingArgs,
} from "../options.js";

export interface WrapArgs extends GlobalArgs, GroupingArgs {
  command?: string[];
  "--"?: string[];
  maxRuntime?: string;
  killGrace: string;
  prefix: string;
  startPush: boolean;
  quietSuccess: boolean;
  strict: boolean;
  expectEvery?: string;
  grace?: string;
  dryRun: boolean;
}

const MIN_DEFAULT_GRACE_MS = 5 * 60_000;

export function toWrapOptions(args: WrapArgs, cli: CliEnvironment): WrapOptions {
  const argv = [...(args.command ?? []), ...(args["--"] ?? [])].map(String);
  if (argv.length === 0) {
    throw new UsageError("wrap: no command given", { hint: "put the command after --, for example: pushgw wrap --job backup -- /usr/local/bin/backup.sh" });
  }
  if (args.grace !== undefined && args.expectEvery === undefined) {
    throw new UsageError("--grace only makes sense with --expect-every");
  }
  const maxRuntimeMs = args.maxRuntime === undefined ? undefined : positive(parseDuration(args.maxRuntime, "--max-runtime"), "--max-runtime");
  const intervalMs = args.expectEvery === undefined ? undefined : positive(parseDuration(args.expectEvery, "--expect-every"), "--expect-every");
  const expectation =
    intervalMs === undefined
      ? undefined
      : {
          intervalMs,
          graceMs: args.grace === undefined ? Math.max(MIN_DEFAULT_GRACE_MS, Math.round(intervalMs / 10)) : parseDuration(args.grace, "--grace"),
        };
  return {
    argv,
    grouping: toGroupingInput(args, cli),
    transport: toTransportOptions(args, cli),
    prefix: args.prefix,
    startPush: args.startPush,
    quietSuccess: args.quietSuccess,
    strict: args.strict,
    maxRuntimeMs,
    killGraceMs: parseDuration(args.killGrace, "--kill-grace"),
    expectation,
    dryRun: args.dryRun,
  };
}

function positive(ms: number, flag: string): number {
  if (ms <= 0) throw new UsageError(`${flag} must be longer than 0`);
  return ms;
}

export function wrapCommand(app: App, cli: CliEnvironment): CommandModule {
  return {
    command: "wrap [command..]",
    describe: "Run a command, pass its output and exit status through, push its outcome",
    builder: (y) =>
      withDryRun(withGroupingOptions(withGlobalOptions(y)))
        .positional("command", { type: "string", array: true, describe: "the command to run; put -- before it" })
        .option("max-runtime", { type: "string", requiresArg: true, describe: "stop the job after D: SIGTERM, then SIGKILL after --kill-grace; exit 124", group: "Wrap:" })
        .option("kill-grace", { type: "string", default: "10s", requiresArg: true, describe: "time between SIGTERM and SIGKILL", group: "Wrap:" })
        .option("prefix", { type: "string", default: "job", requiresArg: true, describe: "metric name prefix", group: "Wrap:" })
        .option("start-push", { type: "boolean", default: true, describe: "push job_running=1 when the job starts (--no-start-push: don't)", group: "Wrap:" })
        .option("quiet-success", { type: "boolean", default: false, describe: "print the job's output only if it fails", group: "Wrap:" })
        .option("strict", { type: "boolean", default: false, describe: "exit 1 when the job succeeded but its outcome could not be pushed", group: "Wrap:" })
        .option("expect-every", { type: "string", requiresArg: true, describe: "how often the job should succeed, pushed for the generic alert rule", group: "Wrap:" })
        .option("grace", { type: "string", requiresArg: true, describe: "extra time past --expect-every before alerting (default: 10%, at least 5m)", group: "Wrap:" })
        .example("$0 wrap --job backup -- /usr/local/bin/backup.sh --full", "run a backup and push its outcome")
        .example("$0 wrap -j reindex --max-runtime 2h --quiet-success -- ./reindex", "stop it after 2 h; mail output only on failure")
        .example("$0 wrap -j nightly --no-instance --expect-every 1d -- make nightly", "declare it should succeed daily"),
    handler: async (args) => app.wrap(toWrapOptions(args as unknown as WrapArgs, cli), toOutputSettings(args as unknown as GlobalArgs)),
  };
}
