import yargs, { type CommandModule } from "yargs";
import type { CommandSpec, CompletionSpec, FlagSpec } from "../core/completion-scripts.js";

/** Flags whose value is a path. */
const FILE_FLAGS = new Set(["file", "password-file", "bearer-token-file", "cacert", "cert", "key", "spool"]);
/** Flags that may be given more than once. */
const REPEATABLE_FLAGS = new Set(["gateway", "header", "label", "match"]);

interface YargsOptions {
  boolean: string[];
  key: Record<string, boolean>;
  alias: Record<string, string[]>;
  choices: Record<string, string[]>;
  default: Record<string, unknown>;
  hiddenOptions: string[];
}

/**
 * Reads each command's flags back from its own yargs builder, so that the completion scripts
 * are made from the same definitions the parser uses.
 */
export function buildCompletionSpec(program: string, commands: readonly CommandModule[]): CompletionSpec {
  return { program, commands: commands.map(describeCommand) };
}

function describeCommand(module: CommandModule): CommandSpec {
  const y = yargs();
  if (typeof module.builder === "function") module.builder(y as never);
  // getOptions() is on every yargs instance, though its typings leave it out.
  const options = (y as unknown as { getOptions(): YargsOptions }).getOptions();
  const descriptions = readDescriptions(y);
  const aliases = new Set(Object.values(options.alias).flat());
  const positionals = new Set([...String(module.command).matchAll(/[[<]([\w-]+)(?:\.\.)?[\]>]/g)].map((m) => m[1]!));
  const flags: FlagSpec[] = [];
  for (const long of Object.keys(options.key)) {
    if (aliases.has(long) || positionals.has(long) || long === "version" || long === "help" || options.hiddenOptions.includes(long)) continue;
    const short = (options.alias[long] ?? []).find((a) => a.length === 1);
    const isBoolean = options.boolean.includes(long);
    const describe = (descriptions[long] ?? "").replace(/\s*\[.*?\]\s*$/, "");
    flags.push({ long, short, describe, takesValue: !isBoolean, choices: options.choices[long], file: FILE_FLAGS.has(long), repeatable: REPEATABLE_FLAGS.has(long) });
    // --no-X: booleans that default to on, and --instance (--no-instance leaves the label out).
    if ((isBoolean && options.default[long] === true) || long === "instance") {
      flags.push({ long: `no-${long}`, short: undefined, describe: `no ${long}`, takesValue: false, choices: undefined, file: false, repeatable: false });
    }
  }
  const name = String(module.command).split(" ")[0]!;
  const positional = /^\S+ \[shell\]/.test(String(module.command)) ? ["bash", "zsh", "fish"] : undefined;
  return { name, describe: String(module.describe ?? ""), flags, positionalChoices: positional };
}

function readDescriptions(y: unknown): Record<string, string> {
  try {
    // yargs keeps flag descriptions in its usage object; not public API, but stable across
    // releases, and the completion drift test would catch a change.
    const usage = (y as { getInternalMethods(): { getUsageInstance(): { getDescriptions(): Record<string, string> } } })
      .getInternalMethods()
      .getUsageInstance();
    return usage.getDescriptions();
  } catch {
    return {};
  }
}
