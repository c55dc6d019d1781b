import type { CommandModule } from "yargs";
import { renderManPage } from "../core/man-page.js";
import type { App } from "./app.js";
import { commandModules } from "./build-cli.js";
import { isPushgwCommand } from "./command.js";
import { buildCompletionSpec } from "./completion-spec.js";
import { flagRow, flagsOf } from "./flags.js";

/**
 * pushgw(1), from the commands' definitions and the flag table, as the completion scripts are. The commands are built with no environment and a fixed host name, so that the
 * page is the same on every machine.
 */
export function buildManPage(version: string): string {
  const unused = async (): Promise<void> => undefined;
  const app: App = { push: unused, delete: unused, wrap: unused, list: unused, removeGroups: unused, completion: unused, alertRules: unused, flush: unused, doctor: unused, cron: unused };
  const commands: CommandModule[] = commandModules(app, { env: {}, hostname: "HOST", argv: [] });
  const spec = buildCompletionSpec("pushgw", commands);
  const usage = Object.fromEntries(commands.map((c) => [String(c.command).split(" ")[0]!, String(c.command)]));
  const defaults = Object.fromEntries(commands.map((c) => [String(c.command).split(" ")[0]!, shownDefaults(c)]));
  return renderManPage({ spec, usage, defaults, version });
}

/** The defaults of a command's value flags (`--timeout` → `10s`), from the flag table. */
function shownDefaults(module: CommandModule): Record<string, string> {
  if (!isPushgwCommand(module)) return {};
  const command = module.definition.name;
  return Object.fromEntries(
    flagsOf(command)
      .map((name) => [name, flagRow(name)] as const)
      .filter(([, row]) => row.takesValue && row.defaultText !== undefined)
      .map(([name, row]) => [name, row.defaultText!]),
  );
}
