import yargs, { type Argv } from "yargs";
import { UsageError } from "../core/errors.js";
import type { App } from "./app.js";
import { deleteCommand } from "./commands/delete.js";
import { addCommand, pushCommand } from "./commands/push.js";
import { wrapCommand } from "./commands/wrap.js";
import { listCommand, pruneCommand } from "./commands/groups.js";
import type { CliEnvironment } from "./options.js";

/** The whole command line: every command's flags, and nothing that does work. */
export function buildCli(app: App, cli: CliEnvironment, version: string): Argv {
  return yargs()
    .scriptName("pushgw")
    .usage("$0 <command> [options]\n\nPush metrics to a Prometheus Pushgateway, wrap cron jobs, clean up stale groups.")
    .parserConfiguration({
      "parse-numbers": false,
      "parse-positional-numbers": false,
      "populate--": true,
      "strip-aliased": true,
      "dot-notation": false,
    })
    .command(pushCommand(app, cli))
    .command(addCommand(app, cli))
    .command(deleteCommand(app, cli))
    .command(wrapCommand(app, cli))
    .command(listCommand(app, cli))
    .command(pruneCommand(app, cli))
    .demandCommand(1, "name a command: push, add, delete, wrap, list or prune")
    .recommendCommands()
    .strict()
    .help()
    .alias("help", "h")
    .version(version)
    .wrap(Math.min(110, process.stdout.columns ?? 100))
    .exitProcess(false)
    .fail((message, error) => {
      if (error) throw error;
      const wrapping = /^Unknown argument/.test(message) && process.argv.includes("wrap") && !process.argv.includes("--");
      throw new UsageError(message, {
        hint: wrapping ? "put -- before the wrapped command, so that its own options are not read as pushgw's" : "see pushgw --help, or pushgw <command> --help",
      });
    });
}
