import type { CommandModule } from "yargs";
import type { DeleteOptions } from "../../app/delete.js";
import type { RemoveGroupsOptions } from "../../app/prune.js";
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
import { toMatchers, withMatchOption, type GroupsArgs } from "./groups.js";

export interface DeleteArgs extends GlobalArgs, GroupingArgs, GroupsArgs {
  dryRun: boolean;
}

export function toDeleteOptions(args: DeleteArgs, cli: CliEnvironment): DeleteOptions {
  return { grouping: toGroupingInput(args, cli), transport: toTransportOptions(args, cli), dryRun: args.dryRun };
}

export function toDeleteMatchingOptions(args: DeleteArgs, cli: CliEnvironment): RemoveGroupsOptions {
  if (args.job !== undefined || args.instance !== undefined || args.label !== undefined) {
    throw new UsageError("delete: give either a grouping key (--job, --instance, --label) or --match, not both", {
      hint: "--match job=X deletes every group of job X; --job X deletes exactly one group",
    });
  }
  return {
    command: "delete --match",
    transport: toTransportOptions(args, cli),
    matchers: toMatchers(args),
    olderThanMs: undefined,
    dryRun: args.dryRun,
    yes: args.yes === true,
  };
}

export function deleteCommand(app: App, cli: CliEnvironment): CommandModule {
  return {
    command: "delete",
    describe: "Delete the group with exactly this grouping key; with --match, every group that matches",
    builder: (y) =>
      withMatchOption(withDryRun(withGroupingOptions(withGlobalOptions(y))))
        .option("yes", { alias: "y", type: "boolean", default: false, describe: "with --match: delete without asking (needed without a terminal)", group: "Selecting groups:" })
        .example("$0 delete --job backup", "delete {job=backup, instance=<this host>}")
        .example("$0 delete --job backup --no-instance", "delete {job=backup}: a different group from the one above")
        .example("$0 delete --match job=backup --yes", "delete every group of job backup, whatever its other labels"),
    handler: async (args) => {
      const typed = args as unknown as DeleteArgs;
      const output = toOutputSettings(typed);
      if (typed.match !== undefined) return app.removeGroups(toDeleteMatchingOptions(typed, cli), output);
      return app.delete(toDeleteOptions(typed, cli), output);
    },
  };
}
