import type { RunLockOptions, WrapOptions } from "../../app/wrap-job.js";
import { UsageError } from "../../core/errors.js";
import type { App } from "../app.js";
import { defineCommand, type Positionals, type PushgwCommand } from "../command.js";
import type { Flags } from "../flags.js";
import { toGroupingKey } from "../grouping.js";
import { toOutputSettings, toTransportOptions, type CliEnvironment } from "../options.js";

const MIN_DEFAULT_GRACE_MS = 5 * 60_000;

export function toWrapOptions(flags: Flags, positionals: Positionals, cli: CliEnvironment): WrapOptions {
  const argv = [...positionals.words, ...positionals.afterDashDash];
  if (argv.length === 0) {
    throw new UsageError("wrap: no command given", { hint: "name it after wrap's options, for example: pushgw wrap --job backup -- /usr/local/bin/backup.sh" });
  }
  // A variable that held nothing ("$JOB"): nothing could be run, so nothing is started or pushed.
  if (argv[0] === "") {
    throw new UsageError("wrap: the command is an empty word", { hint: "name it after wrap's options, for example: pushgw wrap --job backup -- /usr/local/bin/backup.sh" });
  }
  if (flags.given("grace") && !flags.given("expect-every")) {
    throw new UsageError("--grace only makes sense with --expect-every", { hint: "--expect-every D says how often the job should succeed; --grace adds time before the alert" });
  }
  const maxRuntimeMs = flags.get("max-runtime");
  const intervalMs = flags.get("expect-every");
  const graceMs = flags.get("grace");
  const expectation = intervalMs === undefined ? undefined : { intervalMs, graceMs: graceMs ?? Math.max(MIN_DEFAULT_GRACE_MS, Math.round(intervalMs / 10)) };
  return {
    argv,
    grouping: toGroupingKey(flags, cli.env, cli.hostname),
    transport: toTransportOptions(flags, cli),
    prefix: flags.get("prefix"),
    startPush: flags.get("start-push"),
    quietSuccess: flags.get("quiet-success"),
    strict: flags.get("strict"),
    maxRuntimeMs,
    killGraceMs: flags.get("kill-grace"),
    expectation,
    dryRun: flags.get("dry-run"),
    lock: toLockOptions(flags),
    targetBefore: cli.env["PUSHGW_TARGET"],
  };
}

/** --lock [FILE] and --lock-wait D; a bare --lock names the group's own lock file. */
function toLockOptions(flags: Flags): RunLockOptions | undefined {
  const file = flags.get("lock");
  const waitMs = flags.get("lock-wait");
  if (file === undefined && waitMs === undefined) return undefined;
  return { file: file === undefined || file === "" ? undefined : file, waitMs };
}

export function wrapCommand(app: App, cli: CliEnvironment): PushgwCommand {
  return defineCommand(
    {
      name: "wrap",
      usage: "wrap [command..]",
      describe: "Run a command, pass its output and exit status through, push its outcome",
      helpGroups: ["Wrap:", "Grouping key:", "Where to push:", "Auth and TLS:", "Output:"],
      positional: { name: "command", describe: "the command to run; wrap's options end at it (-- before it is optional)" },
      examples: [
        ["$0 wrap --job backup -- /usr/local/bin/backup.sh --full", "run a backup and push its outcome"],
        ["$0 wrap -j reindex --max-runtime 2h --quiet-success -- ./reindex", "stop it after 2 h; mail output only on failure"],
        ["$0 wrap -j nightly --no-instance --expect-every 1d -- make nightly", "declare it should succeed daily"],
        ["$0 wrap -j sync --lock -- /opt/sync/run", "skip this run (exit 75) while the last one still runs"],
      ],
    },
    cli,
    (flags, positionals) => app.wrap(toWrapOptions(flags, positionals, cli), toOutputSettings(flags)),
  );
}
