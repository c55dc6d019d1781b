import type { Argv, CommandModule } from "yargs";
import type { ListOptions } from "../../app/list.js";
import type { RemoveGroupsOptions } from "../../app/prune.js";
import { parseDuration } from "../../core/duration.js";
import { parseSelector, type Matcher } from "../../core/groups.js";
import type { App } from "../app.js";
import { listOf, toOutputSettings, toTransportOptions, withGlobalOptions, type CliEnvironment, type GlobalArgs } from "../options.js";

export interface GroupsArgs extends GlobalArgs {
  match?: string | string[];
  olderThan?: string;
  json?: boolean;
  dryRun?: boolean;
  yes?: boolean;
}

export function toMatchers(args: GroupsArgs): Matcher[] {
  return listOf(args.match).map(parseSelector);
}

export function withMatchOption<T>(y: Argv<T>): Argv<T> {
  return y.option("match", {
    type: "string",
    requiresArg: true,
    describe: "select groups: name=value, name!=value, name=~regex, name!~regex; repeatable, all must hold",
    group: "Selecting groups:",
  }) as Argv<T>;
}

export function withRemovalOptions<T>(y: Argv<T>): Argv<T> {
  return y
    .option("dry-run", { type: "boolean", default: false, describe: "say what would be deleted, delete nothing", group: "Output:" })
    .option("yes", { alias: "y", type: "boolean", default: false, describe: "delete without asking (needed without a terminal)", group: "Selecting groups:" }) as Argv<T>;
}

export function toListOptions(args: GroupsArgs, cli: CliEnvironment): ListOptions {
  return {
    transport: toTransportOptions(args, cli),
    matchers: toMatchers(args),
    olderThanMs: args.olderThan === undefined ? undefined : parseDuration(args.olderThan, "--older-than"),
    json: args.json === true,
  };
}

export function toPruneOptions(args: GroupsArgs, cli: CliEnvironment): RemoveGroupsOptions {
  return {
    command: "prune",
    transport: toTransportOptions(args, cli),
    matchers: toMatchers(args),
    olderThanMs: parseDuration(args.olderThan ?? "", "--older-than"),
    dryRun: args.dryRun === true,
    yes: args.yes === true,
  };
}

export function listCommand(app: App, cli: CliEnvironment): CommandModule {
  return {
    command: "list",
    describe: "Show the gateway's groups: grouping labels, last push age and status, metrics",
    builder: (y) =>
      withMatchOption(withGlobalOptions(y))
        .option("older-than", { type: "string", requiresArg: true, describe: "only groups whose last successful push is older than D", group: "Selecting groups:" })
        .option("json", { type: "boolean", default: false, describe: "a JSON array, one object per group", group: "Output:" })
        .example("$0 list", "every group, sorted by job")
        .example("$0 list --match job=backup --match instance=~'db-.*'", "only some groups")
        .example("$0 list --older-than 7d", "what `prune --older-than 7d` would delete"),
    handler: async (args) => app.list(toListOptions(args as unknown as GroupsArgs, cli), toOutputSettings(args as unknown as GlobalArgs)),
  };
}

export function pruneCommand(app: App, cli: CliEnvironment): CommandModule {
  return {
    command: "prune",
    describe: "Delete groups whose last successful push is older than --older-than",
    builder: (y) =>
      withRemovalOptions(withMatchOption(withGlobalOptions(y)))
        .option("older-than", { type: "string", requiresArg: true, demandOption: "prune needs --older-than D, for example --older-than 7d", describe: "delete groups whose last successful push is older than D", group: "Selecting groups:" })
        .example("$0 prune --older-than 7d --dry-run", "see what would go")
        .example("$0 prune --older-than 30d --match job=~'ci-.*' --yes", "in cron: delete old CI groups without asking"),
    handler: async (args) => app.removeGroups(toPruneOptions(args as unknown as GroupsArgs, cli), toOutputSettings(args as unknown as GlobalArgs)),
  };
}
