import type { CommandModule } from "yargs";
import type { DeleteOptions } from "../../app/delete.js";
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

export interface DeleteArgs extends GlobalArgs, GroupingArgs {
  dryRun: boolean;
}

export function toDeleteOptions(args: DeleteArgs, cli: CliEnvironment): DeleteOptions {
  return { grouping: toGroupingInput(args, cli), transport: toTransportOptions(args, cli), dryRun: args.dryRun };
}

export function deleteCommand(app: App, cli: CliEnvironment): CommandModule {
  return {
    command: "delete",
    describe: "Delete the group with exactly this grouping key",
    builder: (y) =>
      withDryRun(withGroupingOptions(withGlobalOptions(y)))
        .example("$0 delete --job backup", "delete {job=backup, instance=<this host>}")
        .example("$0 delete --job backup --no-instance", "delete {job=backup}: a different group from the one above"),
    handler: async (args) => app.delete(toDeleteOptions(args as unknown as DeleteArgs, cli), toOutputSettings(args as unknown as GlobalArgs)),
  };
}
