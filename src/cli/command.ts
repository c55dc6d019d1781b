import type { Argv, CommandModule } from "yargs";
import { declareFlags, readFlags, type CommandName, type Flags, type HelpGroup } from "./flags.js";
import type { CliEnvironment } from "./options.js";

/** What a command is, besides its flags (those are in flags.ts): enough for yargs, --help and completion. */
export interface CommandDefinition {
  readonly name: CommandName;
  /** As yargs reads it: `push [metrics..]`. */
  readonly usage: string;
  readonly describe: string;
  /** The order of the help groups in --help. */
  readonly helpGroups: readonly HelpGroup[];
  readonly positional?: {
    readonly name: string;
    readonly describe: string;
    /** Values offered by completion (and checked by the command). */
    readonly choices?: readonly string[];
  };
  /** [command line, what it does]; `$0` is the program's name. */
  readonly examples: ReadonlyArray<readonly [string, string]>;
}

/** A yargs command that carries its definition, so completion is made from it and not from yargs. */
export interface PushgwCommand extends CommandModule {
  readonly definition: CommandDefinition;
}

export function isPushgwCommand(module: CommandModule): module is PushgwCommand {
  return (module as Partial<PushgwCommand>).definition !== undefined;
}

/** The positional arguments of a run, as yargs gathered them. */
export interface Positionals {
  /** Words for the positional (`metrics..`, `command..`, `shell`). */
  readonly words: readonly string[];
  /** What came after `--`. */
  readonly afterDashDash: readonly string[];
}

export function defineCommand(
  definition: CommandDefinition,
  cli: CliEnvironment,
  run: (flags: Flags, positionals: Positionals) => Promise<void>,
): PushgwCommand {
  return {
    definition,
    command: definition.usage,
    describe: definition.describe,
    builder: (y: Argv) => {
      // The positional first, so that --help shows it first.
      const positional = definition.positional;
      const withPositional = positional ? y.positional(positional.name, { describe: positional.describe, type: "string" }) : y;
      const declared = declareFlags(withPositional, definition.name, definition.helpGroups);
      return definition.examples.length > 0 ? declared.epilogue(renderExamples(definition.examples)) : declared;
    },
    handler: async (args) => {
      const positional = definition.positional ? args[definition.positional.name] : undefined;
      const words = positional === undefined ? [] : (Array.isArray(positional) ? positional : [positional]).map(String);
      await run(readFlags(definition.name, args, cli.env), { words, afterDashDash: ((args["--"] as unknown[] | undefined) ?? []).map(String) });
    },
  };
}

/**
 * Examples as a block of their own: each command line whole on one line, what it does on the
 * next. yargs' two columns break a long command line in the middle at 80 columns.
 */
function renderExamples(examples: ReadonlyArray<readonly [string, string]>): string {
  return ["Examples:", ...examples.map(([command, what]) => `  ${command}\n      ${what}`)].join("\n");
}
