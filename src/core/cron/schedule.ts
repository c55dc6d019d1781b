/**
 * Cron schedules as Vixie cron (Debian's `cron`) reads them, and the longest wait between two
 * firings: what `pushgw cron` gives `wrap --expect-every`.
 */

export type Macro = "@reboot" | "@yearly" | "@annually" | "@monthly" | "@weekly" | "@daily" | "@midnight" | "@hourly";

export interface Schedule {
  /** Allowed values of each field, as sets. */
  readonly minutes: ReadonlySet<number>;
  readonly hours: ReadonlySet<number>;
  readonly daysOfMonth: ReadonlySet<number>;
  readonly months: ReadonlySet<number>;
  /** 0 is Sunday (7 is folded into it). */
  readonly daysOfWeek: ReadonlySet<number>;
  /** Field starts with a star (a bare star, or a star with a step): Vixie cron ANDs the two day fields then, and ORs them otherwise. */
  readonly domStar: boolean;
  readonly dowStar: boolean;
}

/** What a schedule text is: fields, a macro with no period (@reboot), or why it is no schedule. */
export type ParsedSchedule = { readonly kind: "fields"; readonly schedule: Schedule } | { readonly kind: "reboot" } | { readonly kind: "invalid"; readonly why: string };

const MONTH_NAMES = ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"];
const DAY_NAMES = ["sun", "mon", "tue", "wed", "thu", "fri", "sat"];

interface FieldRule {
  readonly name: string;
  readonly min: number;
  readonly max: number;
  /** Names for values, lower case, first one = min (months) or 0 (days). */
  readonly names?: readonly string[];
}

const FIELDS: readonly FieldRule[] = [
  { name: "minute", min: 0, max: 59 },
  { name: "hour", min: 0, max: 23 },
  { name: "day of month", min: 1, max: 31 },
  { name: "month", min: 1, max: 12, names: MONTH_NAMES },
  { name: "day of week", min: 0, max: 7, names: DAY_NAMES },
];

const MACRO_FIELDS: Readonly<Record<Exclude<Macro, "@reboot">, string>> = {
  "@yearly": "0 0 1 1 *",
  "@annually": "0 0 1 1 *",
  "@monthly": "0 0 1 * *",
  "@weekly": "0 0 * * 0",
  "@daily": "0 0 * * *",
  "@midnight": "0 0 * * *",
  "@hourly": "0 * * * *",
};

export function isMacro(word: string): word is Macro {
  return word === "@reboot" || Object.hasOwn(MACRO_FIELDS, word);
}

/** Five fields (`0 3 * * 1-5`) or a macro (`@daily`). */
export function parseSchedule(text: string): ParsedSchedule {
  const trimmed = text.trim();
  if (trimmed.startsWith("@")) {
    const macro = trimmed.toLowerCase();
    if (macro === "@reboot") return { kind: "reboot" };
    if (!isMacro(macro)) return { kind: "invalid", why: `"${trimmed}" is no cron macro (@reboot, @yearly, @monthly, @weekly, @daily, @hourly)` };
    return parseSchedule(MACRO_FIELDS[macro as Exclude<Macro, "@reboot">]);
  }
  const words = trimmed.split(/\s+/);
  if (words.length !== 5) return { kind: "invalid", why: `a schedule has 5 fields, "${trimmed}" has ${words.length}` };
  const sets: Set<number>[] = [];
  for (let i = 0; i < 5; i++) {
    const parsed = parseField(words[i]!, FIELDS[i]!);
    if (typeof parsed === "string") return { kind: "invalid", why: parsed };
    sets.push(parsed);
  }
  const dow = sets[4]!;
  if (dow.delete(7)) dow.add(0);
  return {
    kind: "fields",
    schedule: { minutes: sets[0]!, hours: sets[1]!, daysOfMonth: sets[2]!, months: sets[3]!, daysOfWeek: dow, domStar: words[2]!.startsWith("*"), dowStar: words[4]!.startsWith("*") },
  };
}

function parseField(text: string, rule: FieldRule): Set<number> | string {
  const values = new Set<number>();
  for (const item of text.split(",")) {
    const match = /^(\*|[0-9a-z]+(?:-[0-9a-z]+)?)(?:\/([0-9]+))?$/i.exec(item);
    if (!match) return `${rule.name} "${text}": "${item}" is not a value, range or step`;
    let from = rule.min;
    let to = rule.max;
    if (match[1] !== "*") {
      const [a, b] = match[1]!.split("-");
      const start = fieldValue(a!, rule);
      const end = b === undefined ? start : fieldValue(b, rule);
      if (start === undefined || end === undefined) return `${rule.name} "${text}": "${item}" is out of range ${rule.min}-${rule.max}`;
      if (end < start) return `${rule.name} "${text}": the range "${match[1]}" runs backwards`;
      from = start;
      // Vixie cron reads "5/10" as 5-max/10.
      to = b === undefined && match[2] !== undefined ? rule.max : end;
    }
    const step = match[2] === undefined ? 1 : Number(match[2]);
    if (step < 1 || step > rule.max) return `${rule.name} "${text}": step ${match[2]} is out of range`;
    for (let v = from; v <= to; v += step) values.add(v);
  }
  return values;
}

function fieldValue(word: string, rule: FieldRule): number | undefined {
  if (/^[0-9]+$/.test(word)) {
    const n = Number(word);
    return n >= rule.min && n <= rule.max ? n : undefined;
  }
  const at = rule.names?.indexOf(word.toLowerCase()) ?? -1;
  if (at < 0) return undefined;
  return rule.names === MONTH_NAMES ? at + 1 : at;
}

/** Does the schedule fire on this calendar day (month 1-12, weekday 0 = Sunday)? Vixie cron's rule. */
export function firesOnDay(s: Schedule, month: number, day: number, weekday: number): boolean {
  if (!s.months.has(month)) return false;
  const dom = s.daysOfMonth.has(day);
  const dow = s.daysOfWeek.has(weekday);
  return s.domStar || s.dowStar ? dom && dow : dom || dow;
}

/**
 * The offset of a zone from UTC at an instant, in minutes (Berlin in summer: +120). Given by
 * the caller (Intl in practice), so this module stays a pure calculation.
 */
export type ZoneOffset = (utcMs: number) => number;

const DAY_MS = 86_400_000;
const MINUTE_MS = 60_000;

/**
 * The longest gap, in seconds, between two consecutive firings of the schedule, looking at three
 * years of calendar days from `fromMs` in the zone `offset` describes (eight when fewer than two
 * firings fall in three years, as for 29 February); undefined when it never fires. Wall times a
 * daylight-saving change skips count as the instant after the change, as cron runs them then.
 */
export function longestGapSeconds(s: Schedule, offset: ZoneOffset, fromMs: number): number | undefined {
  const dayMinutes: number[] = [];
  for (const h of [...s.hours].sort((a, b) => a - b)) for (const m of [...s.minutes].sort((a, b) => a - b)) dayMinutes.push(h * 60 + m);
  if (dayMinutes.length === 0) return undefined;
  for (const years of [3, 8]) {
    const gap = scan(s, dayMinutes, offset, fromMs, years * 366 + 1);
    if (gap !== undefined) return gap / 1000;
  }
  return undefined;
}

function scan(s: Schedule, dayMinutes: readonly number[], offset: ZoneOffset, fromMs: number, days: number): number | undefined {
  // Calendar days counted in "local" time: a UTC date that names the local wall clock.
  const startLocal = Math.floor((fromMs + offset(fromMs) * MINUTE_MS) / DAY_MS) * DAY_MS;
  let last: number | undefined;
  let longest: number | undefined;
  const note = (at: number) => {
    if (last !== undefined && at > last) longest = Math.max(longest ?? 0, at - last);
    last = at;
  };
  for (let d = 0; d < days; d++) {
    const localDay = startLocal + d * DAY_MS;
    const date = new Date(localDay);
    if (!firesOnDay(s, date.getUTCMonth() + 1, date.getUTCDate(), date.getUTCDay())) continue;
    const first = toUtc(localDay + dayMinutes[0]! * MINUTE_MS, offset);
    const end = toUtc(localDay + dayMinutes[dayMinutes.length - 1]! * MINUTE_MS, offset);
    const steady = offset(first) === offset(end) && offset(toUtc(localDay, offset)) === offset(toUtc(localDay + DAY_MS - 1, offset));
    if (steady) {
      note(first);
      // Within a day without a clock change the gaps are those of the minute list.
      for (let i = 1; i < dayMinutes.length; i++) longest = Math.max(longest ?? 0, (dayMinutes[i]! - dayMinutes[i - 1]!) * MINUTE_MS);
      last = end;
    } else {
      // A clock change: each firing on its own. A wall time that comes twice (the clock went back)
      // fires twice only for an every-hour schedule, as Debian's cron runs wildcard jobs in the
      // repeated hour and fixed-time jobs once.
      const everyHour = s.hours.size === 24;
      const instants = dayMinutes.flatMap((minute) => {
        const all = instantsOf(localDay + minute * MINUTE_MS, offset);
        return everyHour ? all : all.slice(0, 1);
      });
      for (const at of instants.sort((a, b) => a - b)) note(at);
    }
  }
  return longest;
}

/** The first instant a wall-clock time names. */
function toUtc(localMs: number, offset: ZoneOffset): number {
  return instantsOf(localMs, offset)[0]!;
}

/** The instants a wall-clock time names, earliest first: two when the clock went back over it; a skipped one moves past the change. */
function instantsOf(localMs: number, offset: ZoneOffset): number[] {
  const before = localMs - offset(localMs - DAY_MS) * MINUTE_MS;
  const after = localMs - offset(localMs + DAY_MS) * MINUTE_MS;
  if (before === after) return [before];
  // Around a change: a candidate is right when its own offset gives back the wall time.
  const candidates = [before, after].filter((utc) => utc + offset(utc) * MINUTE_MS === localMs).sort((a, b) => a - b);
  if (candidates.length > 0) return candidates;
  // Skipped (spring forward): cron runs it right after the change.
  return [Math.max(before, after)];
}

/** Seconds as an exact duration pushgw reads back: `3d`, `15m`, `1d1h`, `90s`. */
export function formatExactDuration(seconds: number): string {
  const parts: string[] = [];
  let rest = seconds;
  for (const [unit, size] of [["d", 86_400], ["h", 3_600], ["m", 60], ["s", 1]] as const) {
    const n = Math.floor(rest / size);
    if (n > 0) parts.push(`${n}${unit}`);
    rest -= n * size;
  }
  return parts.length > 0 ? parts.join("") : "0s";
}
