import type { CommandModule } from "yargs";
import type { CommandSpec, CompletionSpec, FlagSpec } from "../core/completion-scripts.js";
import { isPushgwCommand, type CommandDefinition } from "./command.js";
import { describeFlag, flagRow, flagsOf } from "./flags.js";

/**
 * The command line as completion scripts (and the man page) need it, made from the commands'
 * definitions and the flag table: the same sources yargs is given.
 */
export function buildCompletionSpec(program: string, commands: readonly CommandModule[]): CompletionSpec {
  return {
    program,
    commands: commands.map((module) => {
      if (!isPushgwCommand(module)) throw new Error(`command ${String(module.command)} has no definition`);
      return describeCommand(module.definition);
    }),
  };
}

function describeCommand(definition: CommandDefinition): CommandSpec {
  const flags: FlagSpec[] = [];
  for (const name of flagsOf(definition.name)) {
    const row = flagRow(name);
    flags.push({
      long: name,
      short: row.short,
      describe: describeFlag(name, definition.name),
      takesValue: row.takesValue,
      choices: row.choices,
      file: row.file === true,
      directory: row.directory === true,
      repeatable: row.repeatable === true,
      ...(row.optionalValue ? { optionalValue: true } : {}),
    });
    if (row.negatable) flags.push({ long: `no-${name}`, short: undefined, describe: `no ${name}`, takesValue: false, choices: undefined, file: false, directory: false, repeatable: false });
  }
  return { name: definition.name, describe: definition.describe, flags, positionalChoices: definition.positional?.choices };
}
