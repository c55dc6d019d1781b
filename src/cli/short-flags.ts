import { flagNames, flagRow } from "./flags.js";

/**
 * A short flag with its value in the same word, read as getopt (and curl, timeout(1), ssh)
 * reads it: `-ihost1` is `-i host1`, `-qjbackup` is `-q -j backup`. yargs alone reads every
 * letter as a flag of its own, so `-ihost1` was -i -h -o -s -t -1: the -h printed the help and
 * exited 0, sending nothing and, for wrap, never running the job.
 *
 * Returns the words with each such value split off into a word of its own; everything after
 * `--`, long flags, `-l=a` and letters pushgw does not know are left for yargs as they were.
 */
export function splitAttachedValues(
  argv: readonly string[],
  takesValue: (letter: string) => boolean | undefined = shortFlagTakesValue,
  longTakesValue: (name: string) => boolean = longFlagTakesValue,
): string[] {
  const out: string[] = [];
  // The word after a flag that takes a value is that value, whatever it looks like (-H -ifoo).
  let valueNext = false;
  for (let i = 0; i < argv.length; i++) {
    const word = argv[i]!;
    if (valueNext) {
      out.push(word);
      valueNext = false;
      continue;
    }
    if (word === "--") {
      out.push(...argv.slice(i));
      break;
    }
    if (word.startsWith("--")) {
      out.push(word);
      valueNext = !word.includes("=") && longTakesValue(word.slice(2));
      continue;
    }
    if (!word.startsWith("-") || word.length <= 2) {
      out.push(word);
      valueNext = word.length === 2 && takesValue(word[1]!) === true;
      continue;
    }
    // Switches first (-q, -v, -k), then perhaps one letter that takes a value: the rest of
    // the word is that value. Anything else (`-l=a`, a letter pushgw does not know) goes to
    // yargs as typed.
    const letters = word.slice(1);
    let k = 0;
    while (k < letters.length - 1 && takesValue(letters[k]!) === false) k++;
    const value = letters.slice(k + 1);
    if (takesValue(letters[k]!) === true && value !== "" && !value.startsWith("=")) {
      if (k > 0) out.push(`-${letters.slice(0, k)}`);
      out.push(`-${letters[k]}`, value);
    } else {
      out.push(word);
    }
  }
  return out;
}

let shortFlags: Map<string, boolean> | undefined;
let longFlags: Set<string> | undefined;

/** Whether `--name` (as typed: kebab-case or camelCase) is a flag of pushgw's that takes a value. */
function longFlagTakesValue(name: string): boolean {
  longFlags ??= new Set(flagNames().flatMap((flag) => (flagRow(flag).takesValue ? [flag, flag.replace(/-([a-z])/g, (_, c: string) => c.toUpperCase())] : [])));
  return longFlags.has(name);
}

/** true: the letter's flag takes a value; false: a switch; undefined: no flag of pushgw's. */
function shortFlagTakesValue(letter: string): boolean | undefined {
  shortFlags ??= new Map([["h", false], ...flagNames().flatMap((name) => {
    const row = flagRow(name);
    return row.short === undefined ? [] : [[row.short, row.takesValue] as [string, boolean]];
  })]);
  return shortFlags.get(letter);
}
