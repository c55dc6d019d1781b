/**
 * What `pushgw cron` makes of crontabs: the entries with their job names and intervals (scan),
 * the text with each entry wrapped (wrap), and its exact inverse (unwrap).
 */

import { parseCrontab, renderCrontab, type Crontab, type CrontabFormat, type CrontabLine, type EntryLine } from "./crontab.js";
import { JOB_NAME, nameFromCommand, shellTokens, uniqueNames } from "./naming.js";
import { formatExactDuration, longestGapSeconds } from "./schedule.js";
import { zoneOffset } from "./zone.js";

export interface CronSourceText {
  /** Where it is, for messages and `source`: `/etc/crontab`, `crontab -u alice`. */
  readonly label: string;
  readonly format: CrontabFormat;
  readonly text: string;
}

export interface ScannedEntry {
  readonly label: string;
  readonly lineNumber: number;
  readonly schedule: string;
  /** The command as cron runs it without pushgw (a line pushgw wrapped: the command inside). */
  readonly command: string;
  /** The job name it has (wrapped) or gets (to be wrapped); undefined when ignored. */
  readonly job: string | undefined;
  readonly expectEverySeconds: number | null;
  readonly wrapped: boolean;
  readonly ignored: boolean;
  /** Wrapped by `pushgw cron wrap`, so `unwrap` can put it back. */
  readonly reversible: boolean;
}

export interface CronPlanOptions {
  /** The zone cron runs in where no CRON_TZ or TZ line says otherwise. */
  readonly localZone: string;
  /** The first day the intervals are measured from. */
  readonly nowMs: number;
}

/** An entry pushgw cannot handle, with where it is: `/etc/cron.d/x:4: …`. */
export class CronProblems extends Error {
  constructor(readonly problems: readonly string[]) {
    super(problems.join("\n"));
  }
}

const ANNOTATION = /^\s*#\s*pushgw:\s*(.*?)\s*$/;
/** The first line of the settings block `cron wrap` writes at the top of a file. */
export const SETTINGS_MARK = "# pushgw cron: settings for the wrapped entries below ('pushgw cron unwrap' removes these lines)";
const SETTING_NAME = /^PUSHGW_[A-Z_]+$/;
/** A login name as useradd takes it (Debian's NAME_REGEX, relaxed to any case). */
const USER_NAME = /^[A-Za-z_][A-Za-z0-9_.-]*\$?$/;

/**
 * A command line as `cron wrap` writes it: pushgw by its path, the job, the interval, and the
 * command whole in single quotes for the crontab's own shell. Matched exactly, so that a line
 * someone wrote by hand is never taken apart.
 */
const WRAPPED = /^(?:'(?:[^']*\/)?pushgw'|(?:[^\s']*\/)?pushgw) wrap --job (?<job>[A-Za-z0-9_.:-]+)(?: --expect-every [0-9dhms]+(?: --grace [0-9dhms]+)?)? -- "\$SHELL" -c '(?<quoted>(?:[^']|'\\'')*)'$/;

/** The command inside a line `cron wrap` wrote, as it was. */
function originalOf(match: RegExpExecArray): string {
  return match.groups!["quoted"]!.replaceAll("'\\''", "'");
}

interface Analyzed {
  readonly entry: EntryLine;
  readonly ignored: boolean;
  /** From `# pushgw: job=NAME`. */
  readonly named: string | undefined;
  /** Already under pushgw wrap: the job it names, if it names one. */
  readonly wrapped: { readonly job: string | undefined; readonly original: string | undefined } | undefined;
}

interface ParsedSource {
  readonly source: CronSourceText;
  readonly crontab: Crontab;
  readonly entries: readonly Analyzed[];
}

export interface CronPlan {
  readonly entries: readonly ScannedEntry[];
  readonly sources: readonly ParsedSource[];
  /** The name each entry to wrap gets, by source label and line number. */
  readonly names: ReadonlyMap<string, string>;
}

/** Reads every source and names every entry; throws CronProblems listing each entry it cannot handle. */
export function planCron(sources: readonly CronSourceText[], options: CronPlanOptions): CronPlan {
  const problems: string[] = [];
  const parsed = sources.map((source): ParsedSource => {
    const crontab = parseCrontab(source.text, source.format);
    const entries: Analyzed[] = [];
    crontab.lines.forEach((line, at) => {
      if (line.kind !== "entry") return;
      const annotation = annotationOf(crontab.lines[at - 1]);
      const where = `${source.label}:${line.lineNumber}`;
      if (annotation.problem) problems.push(`${where}: ${annotation.problem}`);
      const wrapped = wrappedJob(line.command);
      if (!annotation.ignore && !wrapped && line.schedule.kind === "invalid") problems.push(`${where}: ${line.schedule.why}`);
      // A user crontab given as a system file would have its program read as the user: wrapping it would break it.
      if (!annotation.ignore && line.user !== undefined && !USER_NAME.test(line.user)) {
        problems.push(`${where}: "${line.user}" is no user name, and a system crontab names the user before the command (is this a user crontab? give it with --crontab FILE)`);
      }
      entries.push({ entry: line, ignored: annotation.ignore, named: annotation.job, wrapped });
    });
    return { source, crontab, entries };
  });
  const every = parsed.flatMap((p) => p.entries.map((e) => ({ p, e })));
  // Names given in comments must be unique: two entries reporting into one group would hide each other's failures.
  const seen = new Map<string, string>();
  for (const { p, e } of every) {
    if (e.named === undefined || e.ignored || e.wrapped) continue;
    const where = `${p.source.label}:${e.entry.lineNumber}`;
    const before = seen.get(e.named);
    if (before !== undefined) problems.push(`${where}: job=${e.named} is already the name of ${before}`);
    seen.set(e.named, where);
  }
  const intervals = new Map<Analyzed, number | null>();
  const gaps = new Map<string, number | null>();
  for (const { p, e } of every) {
    if (e.ignored) continue;
    const zone = e.entry.zone ?? options.localZone;
    const offset = zoneOffset(zone);
    if (offset === undefined) {
      problems.push(`${p.source.label}:${e.entry.lineNumber}: unknown time zone "${zone}" (CRON_TZ or TZ above the entry)`);
      continue;
    }
    const schedule = e.entry.schedule;
    if (schedule.kind !== "fields") {
      intervals.set(e, null);
      continue;
    }
    // A year of firings is walked once per schedule and zone: a crontab of 50,000 `* * * * *` lines is one walk.
    const gapKey = `${e.entry.scheduleText}\u0000${zone}`;
    if (!gaps.has(gapKey)) gaps.set(gapKey, longestGapSeconds(schedule.schedule, offset, options.nowMs) ?? null);
    intervals.set(e, gaps.get(gapKey)!);
  }
  if (problems.length > 0) throw new CronProblems(problems);
  const taken = every.flatMap(({ e }) => (e.ignored ? [] : e.wrapped ? (e.wrapped.job === undefined ? [] : [e.wrapped.job]) : e.named === undefined ? [] : [e.named]));
  const toName = every.filter(({ e }) => !e.ignored && !e.wrapped && e.named === undefined);
  const generated = uniqueNames(taken, toName.map(({ e }) => nameFromCommand(e.entry.command)));
  const names = new Map<string, string>();
  toName.forEach(({ p, e }, k) => names.set(key(p.source.label, e.entry.lineNumber), generated[k]!));
  for (const { p, e } of every) if (!e.ignored && !e.wrapped && e.named !== undefined) names.set(key(p.source.label, e.entry.lineNumber), e.named);
  const entries = every.map(({ p, e }): ScannedEntry => ({
    label: p.source.label,
    lineNumber: e.entry.lineNumber,
    schedule: e.entry.scheduleText,
    command: e.wrapped?.original ?? e.entry.command,
    job: e.ignored ? undefined : (e.wrapped?.job ?? names.get(key(p.source.label, e.entry.lineNumber))),
    expectEverySeconds: intervals.get(e) ?? null,
    wrapped: e.wrapped !== undefined,
    ignored: e.ignored,
    reversible: e.wrapped?.original !== undefined,
  }));
  return { entries, sources: parsed, names };
}

function key(label: string, lineNumber: number): string {
  return `${label}\u0000${lineNumber}`;
}

function annotationOf(line: CrontabLine | undefined): { ignore: boolean; job?: string; problem?: string } {
  if (line?.kind !== "comment") return { ignore: false };
  const match = ANNOTATION.exec(line.text);
  if (!match) return { ignore: false };
  const said = match[1]!;
  if (said === "ignore") return { ignore: true };
  const job = /^job=(.*)$/.exec(said);
  if (job && JOB_NAME.test(job[1]!)) return { ignore: false, job: job[1]! };
  if (job) return { ignore: false, problem: `"# pushgw: job=${job[1]}": a job name here is letters, digits and _ . : - only, starting with a letter, digit or _` };
  return { ignore: false, problem: `"# pushgw: ${said}": pushgw understands "# pushgw: job=NAME" and "# pushgw: ignore"` };
}

/** An entry that already runs under `pushgw wrap`: its job, and the command inside when `cron wrap` wrote it. */
function wrappedJob(command: string): Analyzed["wrapped"] {
  const ours = WRAPPED.exec(command);
  if (ours) return { job: ours.groups!["job"], original: originalOf(ours) };
  const words = shellTokens(command).flatMap((t) => ("word" in t ? [t.word] : []));
  const at = words.findIndex((w, i) => (w === "pushgw" || w.endsWith("/pushgw")) && words[i + 1] === "wrap");
  if (at < 0) return undefined;
  const flag = words.findIndex((w, i) => i > at && (w === "--job" || w === "-j"));
  const inline = words.find((w, i) => i > at && w.startsWith("--job="));
  return { job: flag >= 0 ? words[flag + 1] : inline?.slice("--job=".length), original: undefined };
}

function quoteForShell(text: string): string {
  return `'${text.replaceAll("'", "'\\''")}'`;
}

/** pushgw's own path as a shell word. */
export function shellWord(path: string): string {
  return /^[A-Za-z0-9_./+:@-]+$/.test(path) ? path : quoteForShell(path);
}

export interface WrapSettings {
  /** pushgw's absolute path. */
  readonly pushgw: string;
  /** Environment lines for the settings block (`PUSHGW_GATEWAY` → value); empty leaves a block there as it is. */
  readonly env: ReadonlyArray<readonly [string, string]>;
  /** `--grace` for every entry given an `--expect-every`; undefined leaves wrap's default. */
  readonly graceSeconds?: number | undefined;
}

export interface RewrittenSource {
  readonly source: CronSourceText;
  readonly text: string;
  /** Entries wrapped (or unwrapped) in it. */
  readonly count: number;
}

/**
 * Cron reads at most 999 bytes of a command (Vixie cron's MAX_COMMAND) and drops the rest without
 * a word: a wrapped line cut there would run neither pushgw nor the job.
 */
const CRON_COMMAND_BYTES = 999;
/** Shells that read '…' as POSIX sh does: the quoting cron wrap writes means the same to them. */
const POSIX_SHELL = /^(?:.*\/)?(?:sh|dash|bash|ksh|mksh|zsh|ash|busybox)$/;

/**
 * Each source's text with every entry to wrap wrapped, and the settings block where settings were
 * given; throws CronProblems for an entry whose wrapped line cron would cut, or whose SHELL would
 * read the quoting otherwise.
 */
export function wrapSources(plan: CronPlan, settings: WrapSettings): RewrittenSource[] {
  const problems: string[] = [];
  const rewritten = plan.sources.map((p) => {
    let count = 0;
    let ours = false;
    const intervals = new Map(plan.entries.filter((e) => e.label === p.source.label).map((e) => [e.lineNumber, e]));
    const lines = p.crontab.lines.map((line): CrontabLine => {
      if (line.kind !== "entry") return line;
      const analyzed = p.entries.find((e) => e.entry === line)!;
      if (analyzed.wrapped?.original !== undefined) ours = true;
      const name = plan.names.get(key(p.source.label, line.lineNumber));
      if (analyzed.ignored || analyzed.wrapped || name === undefined) return line;
      const seconds = intervals.get(line.lineNumber)?.expectEverySeconds ?? null;
      const grace = settings.graceSeconds === undefined ? "" : ` --grace ${formatExactDuration(settings.graceSeconds)}`;
      const every = seconds === null ? "" : ` --expect-every ${formatExactDuration(seconds)}${grace}`;
      const where = `${p.source.label}:${line.lineNumber}`;
      if (line.shell !== undefined && !POSIX_SHELL.test(line.shell)) {
        problems.push(`${where}: SHELL=${line.shell} may read the quoting cron wrap writes otherwise than sh does; pushgw wraps entries only under a POSIX shell`);
        return line;
      }
      const command = `${shellWord(settings.pushgw)} wrap --job ${name}${every} -- "$SHELL" -c ${quoteForShell(line.command)}${line.stdin}`;
      const bytes = utf8Length(command);
      if (bytes > CRON_COMMAND_BYTES) {
        problems.push(`${where}: wrapped, its command would be ${bytes} bytes, and cron reads at most ${CRON_COMMAND_BYTES} (the rest would be cut off, and neither pushgw nor the job would run): put the command in a script`);
        return line;
      }
      count++;
      ours = true;
      return { ...line, text: `${line.head}${command}` };
    });
    const withSettings = ours && settings.env.length > 0 ? setSettings(lines, settings.env) : lines;
    const text = renderCrontab({ lines: withSettings, finalNewline: p.crontab.finalNewline || (p.crontab.lines.length === 0 && withSettings.length > 0) });
    return { source: p.source, text, count };
  });
  if (problems.length > 0) throw new CronProblems(problems);
  return rewritten;
}

function utf8Length(text: string): number {
  return new TextEncoder().encode(text).length;
}

/** Replaces the settings block (or puts one at the top). */
function setSettings(lines: readonly CrontabLine[], env: ReadonlyArray<readonly [string, string]>): CrontabLine[] {
  const block: CrontabLine[] = [SETTINGS_MARK, ...env.map(([name, value]) => `${name}=${value}`)].map((text) => ({ kind: "other", lineNumber: 0, text }));
  const found = settingsBlock(lines);
  if (found === undefined) return [...block, ...lines];
  return [...lines.slice(0, found.start), ...block, ...lines.slice(found.end)];
}

function settingsBlock(lines: readonly CrontabLine[]): { start: number; end: number } | undefined {
  const start = lines.findIndex((l) => l.text === SETTINGS_MARK);
  if (start < 0) return undefined;
  let end = start + 1;
  while (end < lines.length && lines[end]!.kind === "env" && SETTING_NAME.test((lines[end] as { name: string }).name)) end++;
  return { start, end };
}

/** The exact inverse of wrapSources: each line `cron wrap` wrote goes back to what it was, and the settings block goes. */
export function unwrapSource(source: CronSourceText): RewrittenSource {
  const crontab = parseCrontab(source.text, source.format);
  let count = 0;
  const lines = crontab.lines.map((line): CrontabLine => {
    if (line.kind !== "entry") return line;
    const ours = WRAPPED.exec(line.command);
    if (!ours) return line;
    count++;
    return { ...line, text: `${line.head}${originalOf(ours)}${line.stdin}` };
  });
  const block = settingsBlock(lines);
  const kept = block === undefined ? lines : [...lines.slice(0, block.start), ...lines.slice(block.end)];
  return { source, text: renderCrontab({ lines: kept, finalNewline: crontab.finalNewline && kept.length > 0 }), count };
}
