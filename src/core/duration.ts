import { UsageError } from "./errors.js";

const UNIT_MS: Record<string, number> = {
  ms: 1,
  s: 1000,
  m: 60_000,
  h: 3_600_000,
  d: 86_400_000,
  w: 604_800_000,
};

const PART = /(\d+(?:\.\d+)?)(ms|s|m|h|d|w)/gy;

/**
 * Parses `500ms`, `10s`, `5m`, `2h`, `1d`, `1w` and combinations such as `1h30m` into
 * milliseconds. `where` names the flag in the error message.
 */
export function parseDuration(text: string, where: string): number {
  const trimmed = text.trim();
  let total = 0;
  let consumed = 0;
  PART.lastIndex = 0;
  for (let match = PART.exec(trimmed); match !== null; match = PART.exec(trimmed)) {
    total += Number(match[1]) * (UNIT_MS[match[2] as string] as number);
    consumed = PART.lastIndex;
  }
  if (trimmed === "" || consumed !== trimmed.length || !Number.isSafeInteger(Math.round(total))) {
    throw new UsageError(`${where}: invalid duration "${text}"`, {
      hint: "use a number with a unit: 500ms, 10s, 5m, 2h, 1d, 1w, or a combination such as 1h30m",
    });
  }
  return Math.round(total);
}

/**
 * The longest wait Node's timers hold (2^31-1 ms, 24.8 days); a longer one fires at once. Flags
 * that set a single timer (--timeout) stay below it; --max-runtime and --kill-grace chain timers.
 */
export const LONGEST_TIMER_MS = 2 ** 31 - 1;

/** Renders milliseconds the way a person reads them: `850ms`, `12s`, `3m`, `2h5m`, `4d`. */
export function formatDuration(ms: number): string {
  if (ms < 1000) return `${Math.round(ms)}ms`;
  const seconds = Math.floor(ms / 1000);
  if (seconds < 60) return `${seconds}s`;
  const minutes = Math.floor(seconds / 60);
  if (minutes < 60) return `${minutes}m`;
  const hours = Math.floor(minutes / 60);
  if (hours < 48) return minutes % 60 === 0 ? `${hours}h` : `${hours}h${minutes % 60}m`;
  return `${Math.floor(hours / 24)}d`;
}
