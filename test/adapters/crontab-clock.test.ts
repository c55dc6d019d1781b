import { afterEach, describe, expect, it, vi } from "vitest";
import { pastTheSecondOf } from "../../src/adapters/crontabs.js";

/** Whether the wait is over once the (fake) clock moved on by `ms`. */
async function overAfter(old: Parameters<typeof pastTheSecondOf>[0], nowMs: number, ms: number): Promise<boolean> {
  vi.useFakeTimers({ now: nowMs, toFake: ["setTimeout", "Date"] });
  let over = false;
  void pastTheSecondOf(old).then(() => (over = true));
  await vi.advanceTimersByTimeAsync(ms);
  return over;
}

afterEach(() => {
  vi.useRealTimers();
});

describe("cron wrap: the new crontab is written in another second than the old one", () => {
  const NOW = 1_795_316_837_400;
  it.each([
    ["no old file: no wait", undefined, 0, true],
    ["an old file of an earlier second: no wait", { mtimeMs: NOW - 1_000 }, 0, true],
    ["an old file of this second: not before the next one", { mtimeMs: NOW - 100 }, 500, false],
    ["an old file of this second: past the next one", { mtimeMs: NOW - 100 }, 700, true],
    // A clock set back (NTP after a boot, a restored VM): the old time is hours ahead, and now is
    // another second already; waiting for it would hold cron wrap for hours.
    ["an old file stamped an hour ahead of the clock: no wait", { mtimeMs: NOW + 3_600_000 }, 0, true],
    // Only root may read cron's spool: a user's own crontab may have been written this second.
    ["an old file whose time cannot be read: not before the next second", "unknown", 500, false],
    ["an old file whose time cannot be read: past the next second", "unknown", 700, true],
  ] as const)("%s", async (_name, old, ms, over) => {
    expect(await overAfter(old, NOW, ms)).toBe(over);
  });
});
