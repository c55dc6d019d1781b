import yargs, { type Argv, type CommandModule } from "yargs";
import { ToolError } from "../core/errors.js";
import type { App } from "./app.js";
import { deleteCommand } from "./commands/delete.js";
import { addCommand, pushCommand } from "./commands/push.js";
import { wrapCommand } from "./commands/wrap.js";
import { listCommand, pruneCommand } from "./commands/groups.js";
import { completionCommand } from "./commands/completion.js";
import { alertRulesCommand } from "./commands/alert-rules.js";
import { flushCommand } from "./commands/flush.js";
import { doctorCommand } from "./commands/doctor.js";
import { cronCommand } from "./commands/cron.js";
import { isPushgwCommand } from "./command.js";
import { flagNames, flagRow, type CommandName } from "./flags.js";
import type { CliEnvironment } from "./options.js";
import { explainUsageError } from "./usage-errors.js";

/** Every command, in the order --help lists them. */
export function commandModules(app: App, cli: CliEnvironment): CommandModule[] {
  const commands: CommandModule[] = [
    pushCommand(app, cli),
    addCommand(app, cli),
    deleteCommand(app, cli),
    wrapCommand(app, cli),
    listCommand(app, cli),
    pruneCommand(app, cli),
    flushCommand(app, cli),
    doctorCommand(app, cli),
    alertRulesCommand(app, cli),
    cronCommand(app, cli),
  ];
  commands.push(completionCommand(app, cli, () => commands));
  return commands;
}

/** The whole command line: every command's flags, and nothing that does work. */
export function buildCli(app: App, cli: CliEnvironment, version: string): Argv {
  let y = yargs()
    .scriptName("pushgw")
    .usage("$0 <command> [options]\n\nPush metrics to a Prometheus Pushgateway, wrap cron jobs, clean up stale groups.")
    .parserConfiguration({
      "parse-numbers": false,
      "parse-positional-numbers": false,
      "populate--": true,
      "strip-aliased": true,
      "dot-notation": false,
    });
  // The switches are known (and hidden) before the command too, so that `pushgw -q add …` reads
  // -q as a switch, not as a flag whose value is "add"; a flag with a value needs nothing here.
  // Each command declares its own again.
  for (const name of flagNames()) {
    const row = flagRow(name);
    if (!row.takesValue) y = y.option(name, { alias: row.short, type: "boolean", hidden: true, global: false });
  }
  const commands = commandModules(app, cli);
  for (const command of commands) y = y.command(command);
  // How many plain words a command takes after its name (completion: the shell; push: any number).
  const positionalSlots = (name: CommandName): number => {
    const definition = commands.filter(isPushgwCommand).find((c) => c.definition.name === name)?.definition;
    return definition?.positional === undefined ? 0 : definition.usage.includes("..") ? Infinity : 1;
  };
  return y
    .demandCommand(1, "name a command: push, add, delete, wrap, list, prune, flush, doctor, alert-rules, cron or completion")
    .strict()
    .help()
    .alias("help", "h")
    .version(version)
    .wrap(Math.min(110, cli.columns ?? 100))
    .exitProcess(false)
    .fail((message, error) => {
      if (error instanceof ToolError) throw error;
      // yargs' own checks (a flag without its value) come as an error; anything else is a bug.
      if (error && error.name !== "YError") throw error;
      throw explainUsageError(message ?? error?.message ?? "", cli.argv ?? [], positionalSlots);
    });
}
