import type { DeleteOptions } from "../../app/delete.js";
import type { RemoveGroupsOptions } from "../../app/remove-groups.js";
import { UsageError } from "../../core/errors.js";
import type { App } from "../app.js";
import { defineCommand, type PushgwCommand } from "../command.js";
import type { Flags } from "../flags.js";
import { toGroupingKey } from "../grouping.js";
import { toOutputSettings, toTransportOptions, type CliEnvironment } from "../options.js";

export function toDeleteOptions(flags: Flags, cli: CliEnvironment): DeleteOptions {
  return { grouping: toGroupingKey(flags, cli.env, cli.hostname), transport: toTransportOptions(flags, cli), dryRun: flags.get("dry-run") };
}

export function toDeleteMatchingOptions(flags: Flags, cli: CliEnvironment): RemoveGroupsOptions {
  if (flags.given("job") || flags.given("instance") || flags.given("label")) {
    throw new UsageError("delete: give either a grouping key (--job, --instance, --label) or --match, not both", {
      hint: "--match job=X deletes every group of job X; --job X deletes exactly one group",
    });
  }
  return {
    command: "delete --match",
    transport: toTransportOptions(flags, cli),
    matchers: flags.get("match"),
    olderThanMs: undefined,
    dryRun: flags.get("dry-run"),
    yes: flags.get("yes"),
  };
}

export function deleteCommand(app: App, cli: CliEnvironment): PushgwCommand {
  return defineCommand(
    {
      name: "delete",
      usage: "delete",
      describe: "Delete the group with exactly this grouping key; with --match, every group that matches",
      helpGroups: ["Grouping key:", "Selecting groups:", "Gateway:", "Auth and TLS:", "Output:"],
      examples: [
        ["$0 delete --job backup", "delete {job=backup, instance=<this host>}"],
        ["$0 delete --job backup --no-instance", "delete {job=backup}: a different group from the one above"],
        ["$0 delete --match job=backup --yes", "delete every group of job backup, whatever its other labels"],
      ],
    },
    cli,
    async (flags) => {
      const output = toOutputSettings(flags);
      if (flags.given("match")) return app.removeGroups(toDeleteMatchingOptions(flags, cli), output);
      return app.delete(toDeleteOptions(flags, cli), output);
    },
  );
}
