import yargs, { type CommandModule } from "yargs";
import { renderManPage } from "../core/man-page.js";
import type { App } from "./app.js";
import { commandModules } from "./build-cli.js";
import { buildCompletionSpec } from "./completion-spec.js";

/**
 * pushgw(1), from the commands' own yargs definitions, read the way the completion scripts
 * read them. The commands are built with no environment and a fixed host name, so that the
 * page is the same on every machine.
 */
export function buildManPage(version: string): string {
  const unused = async (): Promise<void> => undefined;
  const app: App = { push: unused, delete: unused, wrap: unused, list: unused, removeGroups: unused, completion: unused, alertRules: unused, flush: unused };
  const commands: CommandModule[] = commandModules(app, { env: {}, hostname: "HOST", argv: [] });
  const spec = buildCompletionSpec("pushgw", commands);
  const usage = Object.fromEntries(commands.map((c) => [String(c.command).split(" ")[0]!, String(c.command)]));
  const defaults = Object.fromEntries(commands.map((c) => [String(c.command).split(" ")[0]!, shownDefaults(c)]));
  return renderManPage({ spec, usage, defaults, version });
}

/** The defaults of a command's value flags (`--timeout` → `10s`); a boolean's is its --no- form. */
function shownDefaults(module: CommandModule): Record<string, string> {
  const y = yargs();
  if (typeof module.builder === "function") module.builder(y as never);
  // getOptions() is on every yargs instance, though its typings leave it out (as completion-spec.ts reads it).
  const options = (y as unknown as { getOptions(): { default: Record<string, unknown>; boolean: string[] } }).getOptions();
  return Object.fromEntries(
    Object.entries(options.default)
      .filter(([name, value]) => typeof value === "string" && value !== "" && !options.boolean.includes(name))
      .map(([name, value]) => [name, value as string]),
  );
}
