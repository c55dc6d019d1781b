import yargs, { type Argv, type CommandModule } from "yargs";
import { UsageError } from "../core/errors.js";
import type { App } from "./app.js";
import { deleteCommand } from "./commands/delete.js";
import { addCommand, pushCommand } from "./commands/push.js";
import { wrapCommand } from "./commands/wrap.js";
import { listCommand, pruneCommand } from "./commands/groups.js";
import { completionCommand } from "./commands/completion.js";
import { alertRulesCommand } from "./commands/alert-rules.js";
import { flushCommand } from "./commands/flush.js";
import type { CliEnvironment } from "./options.js";
import { buildCompletionSpec } from "./completion-spec.js";
import { closestMatch } from "../core/suggest.js";

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
    alertRulesCommand(app),
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
  const commands = commandModules(app, cli);
  for (const command of commands) y = y.command(command);
  return y
    .demandCommand(1, "name a command: push, add, delete, wrap, list, prune, flush, alert-rules or completion")
    .recommendCommands()
    .strict()
    .help()
    .alias("help", "h")
    .version(version)
    .wrap(Math.min(110, process.stdout.columns ?? 100))
    .exitProcess(false)
    .fail((message, error) => {
      if (error) throw error;
      throw new UsageError(message, { hint: hintForUsageError(message, commands, cli.argv ?? []) });
    });
}

function hintForUsageError(message: string, commands: readonly CommandModule[], argv: readonly string[]): string {
  const unknown = /^Unknown arguments?: (.+)$/.exec(message);
  if (unknown) {
    const word = unknown[1]!.split(", ")[0]!;
    const flags = new Set(buildCompletionSpec("pushgw", commands).commands.flatMap((c) => c.flags.map((f) => f.long)));
    const suggestion = closestMatch(word, flags);
    if (suggestion) return `did you mean --${suggestion}?`;
    if (argv.includes("wrap") && !argv.includes("--")) {
      return "put -- before the wrapped command, so that its own options are not read as pushgw's";
    }
  }
  return "see pushgw --help, or pushgw <command> --help";
}
