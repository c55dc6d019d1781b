import type { ZoneOffset } from "./schedule.js";

const DAY_MS = 86_400_000;
const cache = new Map<string, ZoneOffset | undefined>();

/**
 * The UTC offset of an IANA zone (`Europe/Berlin`, `UTC`) at any instant, from Intl; undefined
 * for a zone it does not know. Intl is slow, so it is asked once per week (zones do not change
 * their offset twice in a week), then per day in a week whose ends differ, and then, on the day
 * whose two ends differ, for the minute of the change.
 */
export function zoneOffset(zone: string): ZoneOffset | undefined {
  if (cache.has(zone)) return cache.get(zone);
  let format: Intl.DateTimeFormat | undefined;
  try {
    format = new Intl.DateTimeFormat("en-US", { timeZone: zone, hourCycle: "h23", year: "numeric", month: "numeric", day: "numeric", hour: "numeric", minute: "numeric", second: "numeric" });
  } catch {
    format = undefined;
  }
  const utc = format !== undefined && ["UTC", "Etc/UTC", "Etc/GMT", "GMT", "Etc/Universal", "Etc/Zulu"].includes(format.resolvedOptions().timeZone);
  const offset = format === undefined ? undefined : utc ? () => 0 : dayByDay(format);
  cache.set(zone, offset);
  return offset;
}

function dayByDay(format: Intl.DateTimeFormat): ZoneOffset {
  const exact = (utcMs: number): number => {
    const at = Math.floor(utcMs / 60_000) * 60_000;
    const parts = Object.fromEntries(format.formatToParts(new Date(at)).map((p) => [p.type, p.value]));
    const wall = Date.UTC(Number(parts["year"]), Number(parts["month"]) - 1, Number(parts["day"]), Number(parts["hour"]), Number(parts["minute"]));
    return Math.round((wall - at) / 60_000);
  };
  const asked = new Map<number, number>();
  const exactMidnight = (day: number) => {
    let o = asked.get(day);
    if (o === undefined) asked.set(day, (o = exact(day * DAY_MS)));
    return o;
  };
  const midnight = (day: number) => {
    const weekStart = Math.floor(day / 7) * 7;
    const first = exactMidnight(weekStart);
    return first === exactMidnight(weekStart + 7) ? first : exactMidnight(day);
  };
  // The minute a day's offset changes (zones change at most once a day), found by halving.
  const changes = new Map<number, number>();
  const changeIn = (day: number): number => {
    let c = changes.get(day);
    if (c === undefined) {
      const first = midnight(day);
      let lo = day * DAY_MS;
      let hi = (day + 1) * DAY_MS;
      while (hi - lo > 60_000) {
        const mid = lo + Math.floor((hi - lo) / 120_000) * 60_000;
        if (exact(mid) === first) lo = mid;
        else hi = mid;
      }
      changes.set(day, (c = hi));
    }
    return c;
  };
  return (utcMs) => {
    const day = Math.floor(utcMs / DAY_MS);
    const start = midnight(day);
    const end = midnight(day + 1);
    if (start === end) return start;
    return utcMs < changeIn(day) ? start : end;
  };
}
