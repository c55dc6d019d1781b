import type { CommandModule } from "yargs";
import type { CompletionOptions } from "../../app/completion.js";
import { SHELLS, type Shell } from "../../core/completion-scripts.js";
import { UsageError } from "../../core/errors.js";
import type { App } from "../app.js";
import { defineCommand, type PushgwCommand } from "../command.js";
import { buildCompletionSpec } from "../completion-spec.js";
import type { CliEnvironment } from "../options.js";

export function toCompletionOptions(shellArg: string | undefined, commands: readonly CommandModule[], cli: CliEnvironment): CompletionOptions {
  const shell = shellArg ?? (cli.env["SHELL"] ?? "").split("/").pop() ?? "";
  if (!SHELLS.includes(shell as Shell)) {
    throw new UsageError(shellArg === undefined ? "completion: name the shell: bash, zsh or fish" : `completion: unsupported shell "${shell}" (bash, zsh or fish)`, {
      hint: "for example: source <(pushgw completion bash)",
    });
  }
  return { shell: shell as Shell, spec: buildCompletionSpec("pushgw", commands) };
}

/** `commands` is the full list, this one included, read only when the command runs. */
export function completionCommand(app: App, cli: CliEnvironment, commands: () => readonly CommandModule[]): PushgwCommand {
  return defineCommand(
    {
      name: "completion",
      usage: "completion [shell]",
      describe: "Print a completion script for bash, zsh or fish",
      helpGroups: [],
      positional: { name: "shell", describe: "the shell; default: the one in $SHELL", choices: SHELLS },
      examples: [
        ["source <($0 completion bash)", "bash, for this session"],
        ['$0 completion zsh > "${fpath[1]}/_pushgw"', "zsh"],
        ["$0 completion fish > ~/.config/fish/completions/pushgw.fish", "fish"],
      ],
    },
    cli,
    (_, positionals) => app.completion(toCompletionOptions(positionals.words[0], commands(), cli), { quiet: false, verbose: false }),
  );
}
