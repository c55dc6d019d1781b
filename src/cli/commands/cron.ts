import type { CronAction, CronOptions } from "../../app/cron.js";
import { UsageError } from "../../core/errors.js";
import type { App } from "../app.js";
import { defineCommand, type PushgwCommand } from "../command.js";
import { readFlags, type Flags } from "../flags.js";
import { toOutputSettings, type CliEnvironment } from "../options.js";

const ACTIONS = ["scan", "wrap", "unwrap"] as const satisfies readonly CronAction[];

export function toCronOptions(flags: Flags, action: string, files: readonly string[]): CronOptions {
  if (action === "") throw new UsageError("cron: name an action: scan, wrap or unwrap", { hint: "pushgw cron scan lists the entries; see pushgw cron --help" });
  if (!(ACTIONS as readonly string[]).includes(action)) {
    throw new UsageError(`cron: "${action}" is no action`, { hint: "pushgw cron scan, pushgw cron wrap or pushgw cron unwrap" });
  }
  const settings = crontabSettings(flags);
  if (action !== "wrap" && settings.length > 0) {
    throw new UsageError(`cron ${action}: --gateway, --target, --textfile-dir and --spool are for cron wrap`, { hint: "they go into the crontabs wrap changes, as PUSHGW_GATEWAY=… lines" });
  }
  const graceMs = flags.get("grace");
  if (action !== "wrap" && graceMs !== undefined) throw new UsageError(`cron ${action}: --grace is for cron wrap`, { hint: "it goes into each wrapped line as wrap's --grace" });
  if (action === "scan" && flags.given("dry-run")) throw new UsageError("cron scan writes nothing; --dry-run is for cron wrap and cron unwrap", { hint: "leave out --dry-run" });
  if (action !== "scan" && flags.given("json")) throw new UsageError(`cron ${action}: --json is for cron scan`, { hint: "pushgw cron scan --json" });
  return {
    action: action as CronAction,
    systemFiles: files,
    userFiles: flags.get("crontab"),
    // Not PUSHGW_USER: here --user names a crontab's owner, not a gateway login.
    user: flags.given("user") ? flags.get("user") : undefined,
    json: flags.get("json"),
    dryRun: flags.get("dry-run"),
    backupDir: flags.get("backup-dir"),
    settings,
    // Written as whole seconds, as the interval is.
    graceSeconds: graceMs === undefined ? undefined : Math.ceil(graceMs / 1000),
  };
}

/**
 * The transport flags given to cron wrap, as the variables wrap reads, for the crontabs' settings
 * lines. Only what was typed: the variables of the shell pushgw runs in are not copied.
 */
function crontabSettings(flags: Flags): Array<readonly [string, string]> {
  const settings: Array<readonly [string, string]> = [];
  if (flags.given("gateway")) {
    const gateways = flags.get("gateway");
    if (gateways.some((g) => g.urlCredentials !== undefined)) {
      throw new UsageError("--gateway: pushgw cron does not write passwords into crontabs", { hint: "give the URL without user:password@, and the credentials to the jobs some other way (PUSHGW_USER and PUSHGW_PASSWORD set by hand, readable only by root)" });
    }
    settings.push(["PUSHGW_GATEWAY", gateways.map((g) => g.baseUrl).join(" ")]);
  }
  if (flags.given("target")) settings.push(["PUSHGW_TARGET", flags.get("target")]);
  for (const [flag, env] of [["textfile-dir", "PUSHGW_TEXTFILE_DIR"], ["spool", "PUSHGW_SPOOL"]] as const) {
    const value = flags.given(flag) ? flags.get(flag) : undefined;
    if (value === undefined) continue;
    if (/[\n\r%]/.test(value) || value !== value.trim() || value === "") throw new UsageError(`--${flag} ${JSON.stringify(value)}: cannot be written into a crontab line`, { hint: "a path without line breaks, % or blanks at its ends" });
    settings.push([env, value]);
  }
  return settings;
}

export function cronCommand(app: App, cli: CliEnvironment): PushgwCommand {
  const command = defineCommand(
    {
      name: "cron",
      // The action is optional to yargs, so that its absence gets pushgw's own message.
      usage: "cron [action] [files..]",
      describe: "Find every crontab entry; wrap each under pushgw wrap with a job name and the --expect-every its schedule implies; put them back exactly",
      helpGroups: ["Crontabs:", "Written into the crontabs:", "Output:"],
      positional: { name: "action", describe: "scan, wrap or unwrap; then system crontabs (/etc/crontab, /etc/cron.d/NAME), else your crontab", choices: ACTIONS },
      examples: [
        ["$0 cron scan", "list your crontab's entries: job names, intervals, wrapped or not"],
        ["$0 cron wrap --dry-run /etc/crontab /etc/cron.d/*", "show the change to the system crontabs as a diff"],
        ["$0 cron wrap --gateway http://pgw:9091 /etc/crontab /etc/cron.d/*", "wrap them, saving a backup first"],
        ["$0 cron unwrap /etc/crontab /etc/cron.d/*", "put every wrapped entry back as it was"],
      ],
    },
    cli,
    async () => undefined,
  );
  // Two positionals (the action, then files), where defineCommand hands over one.
  return {
    ...command,
    handler: async (args) => {
      const flags = readFlags("cron", args, cli.env);
      const files = ((args["files"] as unknown[] | undefined) ?? []).map(String);
      await app.cron(toCronOptions(flags, String(args["action"] ?? ""), files), toOutputSettings(flags));
    },
  };
}
