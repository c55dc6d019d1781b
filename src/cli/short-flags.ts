import { flagNames, flagRow } from "./flags.js";

/**
 * The words of the command line as yargs should read them.
 *
 * A short flag with its value in the same word is read as getopt (and curl, timeout(1), ssh)
 * reads it: `-ihost1` is `-i host1`, `-qjbackup` is `-q -j backup`. yargs alone reads every
 * letter as a flag of its own, so `-ihost1` was -i -h -o -s -t -1: the -h printed the help and
 * exited 0, sending nothing and, for wrap, never running the job.
 *
 * wrap's own options end at the first word that is neither one of them nor a flag's value: that
 * word is the command, and it and every word after it are the command's, as `timeout`, `nice`,
 * `flock` and `sudo` read theirs (a `--` is put before it for yargs). Without that,
 * `pushgw wrap -j x cleanup.sh --dry-run` took --dry-run for pushgw's and ran the cleanup.
 *
 * Returns the words with each attached value split off into a word of its own; everything after
 * `--`, long flags, `-l=a` and letters pushgw does not know are left for yargs as they were.
 */
export function splitAttachedValues(
  argv: readonly string[],
  takesValue: (letter: string) => boolean | undefined = shortFlagTakesValue,
  longTakesValue: (name: string) => boolean | "optional" = longFlagTakesValue,
): string[] {
  const out: string[] = [];
  // The word after a flag that takes a value is that value, whatever it looks like (-H -ifoo);
  // a value that may be left out (--lock [FILE]) is never a word that starts with "-".
  let valueNext: boolean | "optional" = false;
  let command: string | undefined;
  const metrics: string[] = [];
  const rest = (from: number, to: string[] = out): void => {
    // One word at a time: an argument list can hold more words than a call can take arguments.
    for (let j = from; j < argv.length; j++) to.push(argv[j]!);
  };
  for (let i = 0; i < argv.length; i++) {
    const word = argv[i]!;
    if (valueNext !== false) {
      // yargs takes no word that starts with "-" for a value (but a negative number).
      const dashed = word.startsWith("-") && word !== "-" && !/^-[0-9.]/.test(word);
      if (!dashed) {
        out.push(word);
        valueNext = false;
        continue;
      }
      if (valueNext === true && word !== "--") {
        // Left as typed (never split, -H -ifoo), though it may be a flag whose value comes next.
        out.push(word);
        valueNext = word.startsWith("--") ? !word.includes("=") && longTakesValue(word.slice(2)) : [...word.slice(1)].every((letter, i, all) => takesValue(letter) === (i === all.length - 1));
        continue;
      }
    }
    valueNext = false;
    if (word === "--") {
      rest(i + (command !== undefined && MANY_WORDS.has(command) ? 1 : 0), command !== undefined && MANY_WORDS.has(command) ? metrics : out);
      break;
    }
    if (!word.startsWith("-") || word === "-") {
      if (command !== undefined && MANY_WORDS.has(command)) {
        metrics.push(word);
        continue;
      }
      if (command === "wrap") {
        out.push("--");
        rest(i);
        break;
      }
      command ??= word;
      out.push(word);
      continue;
    }
    if (word.startsWith("--")) {
      out.push(word);
      valueNext = !word.includes("=") && longTakesValue(word.slice(2));
      continue;
    }
    if (word.length === 2) {
      out.push(word);
      valueNext = takesValue(word[1]!) === true;
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
      // `-qj backup`: the last letter's value is the next word.
      valueNext = k === letters.length - 1 && takesValue(letters[k]!) === true;
    }
  }
  if (metrics.length > 0) {
    out.push("--");
    for (const word of metrics) out.push(word);
  }
  return out;
}

/**
 * The commands that take any number of plain words (push and add: METRIC..). yargs collects
 * such words one copy of the list at a time (130,000 METRIC arguments took minutes), and the
 * words after `--` at once: they are handed over there, in order.
 */
const MANY_WORDS = new Set(["push", "add"]);

let shortFlags: Map<string, boolean> | undefined;
let longFlags: Map<string, boolean | "optional"> | undefined;

/** Whether `--name` (as typed: kebab-case or camelCase) is a flag of pushgw's that takes a value, or may take one. */
function longFlagTakesValue(name: string): boolean | "optional" {
  longFlags ??= new Map(
    flagNames().flatMap((flag) => {
      const row = flagRow(flag);
      if (!row.takesValue) return [];
      const takes = row.optionalValue === true ? ("optional" as const) : true;
      return [[flag, takes] as const, [flag.replace(/-([a-z])/g, (_, c: string) => c.toUpperCase()), takes] as const];
    }),
  );
  return longFlags.get(name) ?? false;
}

/** true: the letter's flag takes a value; false: a switch; undefined: no flag of pushgw's. */
function shortFlagTakesValue(letter: string): boolean | undefined {
  shortFlags ??= new Map([["h", false], ...flagNames().flatMap((name) => {
    const row = flagRow(name);
    return row.short === undefined ? [] : [[row.short, row.takesValue] as [string, boolean]];
  })]);
  return shortFlags.get(letter);
}
