import type { ListOptions } from "../../app/list.js";
import type { RemoveGroupsOptions } from "../../app/remove-groups.js";
import { UsageError } from "../../core/errors.js";
import type { App } from "../app.js";
import { defineCommand, type PushgwCommand } from "../command.js";
import type { Flags } from "../flags.js";
import { toOutputSettings, toTransportOptions, type CliEnvironment } from "../options.js";

export function toListOptions(flags: Flags, cli: CliEnvironment): ListOptions {
  return {
    transport: toTransportOptions(flags, cli),
    matchers: flags.get("match"),
    olderThanMs: flags.get("older-than"),
    json: flags.get("json"),
  };
}

export function toPruneOptions(flags: Flags, cli: CliEnvironment): RemoveGroupsOptions {
  const olderThanMs = flags.get("older-than");
  if (olderThanMs === undefined) {
    throw new UsageError("prune needs --older-than D", { hint: "for example --older-than 7d: the groups with no successful push for a week" });
  }
  return {
    command: "prune",
    transport: toTransportOptions(flags, cli),
    matchers: flags.get("match"),
    olderThanMs,
    dryRun: flags.get("dry-run"),
    yes: flags.get("yes"),
  };
}

export function listCommand(app: App, cli: CliEnvironment): PushgwCommand {
  return defineCommand(
    {
      name: "list",
      usage: "list",
      describe: "Show the gateway's groups: grouping labels, last push age and status, metrics",
      helpGroups: ["Selecting groups:", "Gateway:", "Auth and TLS:", "Output:"],
      examples: [
        ["$0 list", "every group, sorted by job"],
        ["$0 list --match job=backup --match instance=~'db-.*'", "only some groups"],
        ["$0 list --older-than 7d", "what `prune --older-than 7d` would delete"],
      ],
    },
    cli,
    (flags) => app.list(toListOptions(flags, cli), toOutputSettings(flags)),
  );
}

export function pruneCommand(app: App, cli: CliEnvironment): PushgwCommand {
  return defineCommand(
    {
      name: "prune",
      usage: "prune",
      describe: "Delete groups whose last successful push is older than --older-than",
      helpGroups: ["Selecting groups:", "Gateway:", "Auth and TLS:", "Output:"],
      examples: [
        ["$0 prune --older-than 7d --dry-run", "see what would go"],
        ["$0 prune --older-than 30d --match job=~'ci-.*' --yes", "in cron: delete old CI groups without asking"],
      ],
    },
    cli,
    (flags) => app.removeGroups(toPruneOptions(flags, cli), toOutputSettings(flags)),
  );
}
