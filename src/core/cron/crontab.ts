/**
 * A crontab as cron reads it, kept byte for byte: each line knows its exact text, and an entry
 * knows where its command starts and ends, so a rewrite touches the command alone.
 */

import { parseSchedule, type ParsedSchedule } from "./schedule.js";

/** `user`: what `crontab -l` prints. `system`: /etc/crontab and /etc/cron.d, with a user field. */
export type CrontabFormat = "user" | "system";

export interface EntryLine {
  readonly kind: "entry";
  /** 1-based. */
  readonly lineNumber: number;
  readonly text: string;
  /** The text before the command: indentation, the schedule, the user field and the blanks after them. */
  readonly head: string;
  /** The schedule as written (`0 3 * * 1-5`, `@daily`). */
  readonly scheduleText: string;
  readonly schedule: ParsedSchedule;
  /** System format only. */
  readonly user: string | undefined;
  /** The command as written, up to its first unescaped `%` (`\%` kept as written). */
  readonly command: string;
  /** From the first unescaped `%` on (cron's stdin for the command), or "". */
  readonly stdin: string;
  /** `CRON_TZ` or `TZ` set above the entry in the same file, else undefined. */
  readonly zone: string | undefined;
  /** `SHELL` set above the entry in the same file, else undefined (cron's default, /bin/sh). */
  readonly shell?: string | undefined;
}

export type CrontabLine =
  | { readonly kind: "blank" | "comment" | "other"; readonly lineNumber: number; readonly text: string }
  | { readonly kind: "env"; readonly lineNumber: number; readonly text: string; readonly name: string; readonly value: string }
  | EntryLine;

export interface Crontab {
  readonly lines: readonly CrontabLine[];
  /** Whether the text ended with a line break (kept as found). */
  readonly finalNewline: boolean;
}

export function parseCrontab(text: string, format: CrontabFormat): Crontab {
  const finalNewline = text.endsWith("\n");
  const raw = text === "" ? [] : (finalNewline ? text.slice(0, -1) : text).split("\n");
  let zone: string | undefined;
  let shell: string | undefined;
  const lines = raw.map((line, i): CrontabLine => {
    const parsed = parseLine(line, i + 1, format, zone);
    if (parsed.kind === "env" && (parsed.name === "CRON_TZ" || parsed.name === "TZ")) zone = parsed.value === "" ? undefined : parsed.value;
    if (parsed.kind === "env" && parsed.name === "SHELL") shell = parsed.value === "" ? undefined : parsed.value;
    return parsed.kind === "entry" && shell !== undefined ? { ...parsed, shell } : parsed;
  });
  return { lines, finalNewline };
}

export function renderCrontab(crontab: Crontab): string {
  if (crontab.lines.length === 0) return "";
  return crontab.lines.map((l) => l.text).join("\n") + (crontab.finalNewline ? "\n" : "");
}

// An environment line as Vixie cron's load_env takes it: NAME = VALUE, either side optionally quoted.
const ENV_LINE = /^\s*("[^"]*"|'[^']*'|[^\s=]+)\s*=\s*(.*?)\s*$/;

function parseLine(text: string, lineNumber: number, format: CrontabFormat, zone: string | undefined): CrontabLine {
  const trimmed = text.trim();
  if (trimmed === "") return { kind: "blank", lineNumber, text };
  if (trimmed.startsWith("#")) return { kind: "comment", lineNumber, text };
  // A schedule starts with a digit, * or @: anything else is tried as an environment line first, as cron does.
  if (!/^[0-9*@]/.test(trimmed)) {
    const env = ENV_LINE.exec(text);
    if (env) return { kind: "env", lineNumber, text, name: unquote(env[1]!), value: unquote(env[2]!) };
    return { kind: "other", lineNumber, text };
  }
  const fieldCount = trimmed.startsWith("@") ? 1 : 5;
  const words = fieldCount + (format === "system" ? 1 : 0);
  // The head: indentation, then `words` words each followed by blanks.
  const head = new RegExp(`^\\s*(?:\\S+[ \\t]+){${words}}`).exec(text);
  if (!head) return { kind: "other", lineNumber, text };
  const headWords = head[0].trim().split(/\s+/);
  const scheduleText = rawSchedule(head[0], fieldCount);
  const rest = text.slice(head[0].length);
  const { command, stdin } = splitCommand(rest);
  return {
    kind: "entry",
    lineNumber,
    text,
    head: head[0],
    scheduleText,
    schedule: parseSchedule(scheduleText),
    user: format === "system" ? headWords[fieldCount] : undefined,
    command,
    stdin,
    zone,
  };
}

/** The schedule exactly as written (its own spacing), without indentation. */
function rawSchedule(head: string, fieldCount: number): string {
  const match = new RegExp(`^\\s*((?:\\S+[ \\t]+){${fieldCount - 1}}\\S+)`).exec(head);
  return match ? match[1]! : head.trim();
}

function unquote(text: string): string {
  return text.length >= 2 && (text[0] === '"' || text[0] === "'") && text[text.length - 1] === text[0] ? text.slice(1, -1) : text;
}

/**
 * Cron's reading of a command: the first `%` not after a backslash ends it, and the rest is its
 * stdin. A backslash escapes exactly one following character for this purpose (so `\\%` ends
 * the command after `\\`), as in Vixie cron's do_command.
 */
export function splitCommand(text: string): { command: string; stdin: string } {
  let escaped = false;
  for (let i = 0; i < text.length; i++) {
    const ch = text[i];
    if (escaped) escaped = false;
    else if (ch === "\\") escaped = true;
    else if (ch === "%") return { command: text.slice(0, i), stdin: text.slice(i) };
  }
  return { command: text, stdin: "" };
}

/** What cron hands the shell for a command: `\%` becomes `%`. */
export function shellTextOf(command: string): string {
  return command.replace(/\\(.)/gs, (whole, ch: string) => (ch === "%" ? "%" : whole));
}
