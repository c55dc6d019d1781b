import { UsageError } from "../core/errors.js";
import { closestMatch } from "../core/suggest.js";
import { COMMAND_NAMES, flagNames, flagRow, flagsOf, type CommandName } from "./flags.js";

/**
 * yargs' complaints, said the way a person needs them: what is wrong in one line, and one
 * hint. The words of argv are read again here (yargs says "Unknown arguments: dry-ru, dryRu"
 * and forgets which command it was parsing).
 */
export function explainUsageError(message: string, argv: readonly string[], positionalSlots: (command: CommandName) => number): UsageError {
  const words = readWords(argv);
  const command = words.command;
  if (command !== undefined && !isCommand(command)) return unknownCommand(command);

  const notEnough = /^Not enough arguments following: (.+)$/.exec(message);
  if (notEnough) {
    const flag = longName(notEnough[1]!);
    return new UsageError(`--${flag} needs a value`, { hint: command ? `see pushgw ${command} --help` : "see pushgw --help" });
  }
  if (/^Unknown arguments?: /.test(message) || /^Did you mean /.test(message)) {
    if (command === undefined) {
      const flag = words.flags[0];
      return new UsageError(flag ? `unknown flag ${flag.text}` : message, { hint: `name a command first (${listOf(COMMAND_NAMES)}), then its flags` });
    }
    const unknown = words.flags.find((flag) => !accepts(command, flag.name));
    if (unknown) return unknownFlag(command, unknown);
    const slots = positionalSlots(command);
    const extra = words.positionals[1 + slots];
    if (extra !== undefined) {
      return new UsageError(`${command}: unexpected argument "${extra}"`, {
        hint: slots === 0 ? `${command} takes no arguments besides its flags; see pushgw ${command} --help` : `see pushgw ${command} --help`,
      });
    }
  }
  if (/mutually exclusive/.test(message)) return new UsageError(message, { hint: "give only one of them" });
  return new UsageError(message, { hint: command ? `see pushgw ${command} --help` : "see pushgw --help, or pushgw <command> --help" });
}

interface FlagWord {
  /** As typed, without a value: `--dry-ru`, `-x`. */
  readonly text: string;
  /** Without dashes; for a short flag, the letter. */
  readonly name: string;
}

/** The flags and the plain words before `--`, and the command (the first plain word). */
function readWords(argv: readonly string[]): { command: string | undefined; flags: FlagWord[]; positionals: string[] } {
  const takesValue = new Set(flagNames().filter((name) => flagRow(name).takesValue).flatMap((name) => [name, flagRow(name).short ?? name]));
  const flags: FlagWord[] = [];
  const positionals: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const word = argv[i]!;
    if (word === "--") break;
    if (word.startsWith("--")) {
      const name = word.slice(2).split("=")[0]!;
      flags.push({ text: `--${name}`, name });
      if (!word.includes("=") && takesValue.has(name) && !(argv[i + 1] ?? "-").startsWith("-")) i++;
    } else if (word.startsWith("-") && word.length > 1) {
      // As yargs reads `-abc`: each letter a flag, unless what follows it is a value (`-j5`,
      // `-l=a`); the last letter may take the next word.
      const body = word.slice(1);
      for (let k = 0; k < body.length; k++) {
        flags.push({ text: `-${body[k]}`, name: body[k]! });
        const rest = body.slice(k + 1);
        if (rest === "" && takesValue.has(body[k]!) && !(argv[i + 1] ?? "-").startsWith("-")) i++;
        if (/^(=|\W|-?\d+(\.\d*)?(e-?\d+)?$)/.test(rest)) break;
      }
    } else {
      positionals.push(word);
    }
  }
  return { command: positionals[0], flags, positionals };
}

function isCommand(word: string): word is CommandName {
  return (COMMAND_NAMES as readonly string[]).includes(word);
}

/** What yargs takes for this command: its flags, their letters, --no-X, --help and --version. */
function accepts(command: CommandName, name: string): boolean {
  if (["help", "h", "version"].includes(name)) return true;
  const flags = flagsOf(command);
  const bare = name.startsWith("no-") ? name.slice(3) : name;
  return flags.some((flag) => flag === name || flag === bare || flagRow(flag).short === name);
}

function longName(name: string): string {
  return flagNames().find((flag) => flag === name || flagRow(flag).short === name) ?? name;
}

function unknownCommand(word: string): UsageError {
  const close = closestMatch(word, COMMAND_NAMES);
  return new UsageError(`unknown command ${word}`, {
    hint: close ? `did you mean ${close}? The commands: ${listOf(COMMAND_NAMES)}` : `the commands: ${listOf(COMMAND_NAMES)}`,
  });
}

function unknownFlag(command: CommandName, flag: FlagWord): UsageError {
  const message = `${command}: unknown flag ${flag.text}`;
  const own = flagsOf(command);
  if (flag.text.startsWith("--")) {
    // --no-X is a flag of its own only where X can be left out (--no-instance, --no-start-push).
    const candidates = own.flatMap((name) => (flagRow(name).negatable ? [name, `no-${name}`] : [name]));
    const close = closestMatch(flag.name, candidates);
    if (close !== undefined && close !== flag.name) return new UsageError(message, { hint: `did you mean --${close}?` });
    const bare = flag.name.replace(/^no-/, "");
    const owners = COMMAND_NAMES.filter((other) => flagsOf(other).some((name) => name === flag.name || (name === bare && flagRow(name).negatable)));
    if (owners.length > 0) {
      return new UsageError(message, { hint: `--${bare} is a flag of ${listOf(owners)}; see pushgw ${command} --help for ${command}'s` });
    }
  }
  if (command === "wrap") {
    // Its options end at the command, so this one stands before it.
    return new UsageError(message, { hint: "before the command, a word that starts with - must be a flag of wrap's; see pushgw wrap --help" });
  }
  return new UsageError(message, { hint: `see pushgw ${command} --help` });
}

function listOf(words: readonly string[]): string {
  return words.length <= 1 ? words.join("") : `${words.slice(0, -1).join(", ")} and ${words[words.length - 1]}`;
}
