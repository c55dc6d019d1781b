/**
 * The job name an entry gets from its command when no `# pushgw: job=NAME` comment names it:
 * the base name of the program it runs, past what only prepares the run.
 */

import { shellTextOf } from "./crontab.js";

/** Names `pushgw cron` writes into a command line: safe unquoted in any shell, a valid job label as it is. */
export const JOB_NAME = /^[A-Za-z0-9_][A-Za-z0-9_.:-]*$/;

type Token = { readonly word: string } | { readonly op: string };

/** Shell words and control operators, enough to find a program's name (not a shell). */
export function shellTokens(text: string): Token[] {
  const tokens: Token[] = [];
  let word: string | undefined;
  const end = () => {
    if (word !== undefined) tokens.push({ word });
    word = undefined;
  };
  for (let i = 0; i < text.length; i++) {
    const ch = text[i]!;
    if (ch === " " || ch === "\t" || ch === "\n") {
      end();
    } else if (ch === "'") {
      const close = text.indexOf("'", i + 1);
      const stop = close < 0 ? text.length : close;
      word = (word ?? "") + text.slice(i + 1, stop);
      i = stop;
    } else if (ch === '"') {
      let j = i + 1;
      let inner = "";
      for (; j < text.length && text[j] !== '"'; j++) {
        if (text[j] === "\\" && j + 1 < text.length && '"\\$`'.includes(text[j + 1]!)) j++;
        inner += text[j];
      }
      word = (word ?? "") + inner;
      i = j;
    } else if (ch === "\\") {
      word = (word ?? "") + (text[i + 1] ?? "");
      i++;
    } else if ("&|;()<>".includes(ch)) {
      // `2>&1`: the digits name a file descriptor, not a word.
      if ((ch === "<" || ch === ">") && word !== undefined && /^[0-9]+$/.test(word)) word = undefined;
      end();
      const two = text.slice(i, i + 2);
      const op = ["&&", "||", ";;", ">>", "<<", ">&", "<&"].includes(two) ? two : ch;
      tokens.push({ op });
      i += op.length - 1;
      // A redirection's target is a word that names no program: kept out of the way.
      if (op.startsWith(">") || op.startsWith("<")) {
        const rest = /^\s*(\S+)/.exec(text.slice(i + 1));
        if (rest) i += rest[0].length;
      }
    } else {
      word = (word ?? "") + ch;
    }
  }
  end();
  return tokens;
}

const OPTIONS_WITH_VALUE: Readonly<Record<string, readonly string[]>> = {
  nice: ["-n", "--adjustment"],
  ionice: ["-c", "-n", "-p", "-P", "-u", "--class", "--classdata"],
  chrt: [],
  command: [],
  exec: [],
  nohup: [],
  time: [],
};

/** The job name a command implies; undefined when none can be told (the caller numbers it). */
export function nameFromCommand(command: string): string | undefined {
  const tokens = shellTokens(shellTextOf(command));
  const words = (from: number) => tokens.slice(from).map((t) => ("word" in t ? t.word : undefined));
  // run-parts runs a directory of jobs: one job, named after the directory.
  const runParts = tokens.findIndex((t) => "word" in t && baseName(t.word) === "run-parts");
  if (runParts >= 0) {
    const args = words(runParts + 1);
    const stop = args.indexOf(undefined);
    const dirs = (stop < 0 ? args : args.slice(0, stop)).filter((w): w is string => w !== undefined && !w.startsWith("-"));
    const dir = dirs[dirs.length - 1];
    if (dir !== undefined) return sanitize(baseName(dir.replace(/\/+$/, "")));
  }
  let i = 0;
  while (i < tokens.length) {
    const token = tokens[i]!;
    if (!("word" in token)) {
      i++;
      continue;
    }
    const word = token.word;
    if (/^[A-Za-z_][A-Za-z0-9_]*=/.test(word) || word === "{" || word === "!") {
      i++;
    } else if (word === "cd" || word === "[" || word === "test" || word === "umask" || word === "set" || word === "export" || word === "sleep") {
      // Preparation: skip to the command after the next && or ;.
      const next = tokens.findIndex((t, at) => at > i && "op" in t && (t.op === "&&" || t.op === ";" || t.op === "||"));
      if (next < 0) return sanitize(baseName(word));
      i = next + 1;
    } else if (word === "if" || word === "while" || word === "until") {
      // The condition prepares; the body is the job.
      const body = tokens.findIndex((t, at) => at > i && "word" in t && (t.word === "then" || t.word === "do"));
      if (body < 0) return undefined;
      i = body + 1;
    } else if (Object.hasOwn(OPTIONS_WITH_VALUE, baseName(word))) {
      const takesValue = OPTIONS_WITH_VALUE[baseName(word)]!;
      i++;
      while (i < tokens.length) {
        const t = tokens[i]!;
        if (!("word" in t) || !t.word.startsWith("-")) break;
        i += takesValue.includes(t.word) ? 2 : 1;
      }
    } else {
      return sanitize(baseName(word));
    }
  }
  return undefined;
}

function baseName(path: string): string {
  const slash = path.lastIndexOf("/");
  return slash < 0 ? path : path.slice(slash + 1);
}

function sanitize(name: string): string | undefined {
  // Not starting with - (wrap would read --job -x as a flag without its value) nor with a dot.
  const clean = name.replace(/[^A-Za-z0-9_.:-]+/g, "_").replace(/^[-._]+/, "");
  return clean === "" ? undefined : clean;
}

/**
 * Unique names in order: `taken` first (names written in comments or already wrapped), then each
 * wanted name, or `NAME-2`, `NAME-3`… when it is taken. A wanted name of undefined becomes `cron`.
 */
export function uniqueNames(taken: readonly string[], wanted: ReadonlyArray<string | undefined>): string[] {
  const used = new Set(taken);
  return wanted.map((want) => {
    const base = want ?? "cron";
    let name = base;
    for (let n = 2; used.has(name); n++) name = `${base}-${n}`;
    used.add(name);
    return name;
  });
}
