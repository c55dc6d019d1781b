import { readFileSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { shellTextOf, splitCommand, type CrontabFormat } from "../../src/core/cron/crontab.js";
import { unifiedDiff } from "../../src/core/cron/diff.js";
import { nameFromCommand, uniqueNames } from "../../src/core/cron/naming.js";
import { CronProblems, planCron, unwrapSource, wrapSources, type CronSourceText } from "../../src/core/cron/plan.js";
import { firesOnDay, longestGapSeconds, parseSchedule, type Schedule } from "../../src/core/cron/schedule.js";
import { zoneOffset } from "../../src/core/cron/zone.js";

const FIXTURES = join(import.meta.dirname, "../fixtures/cron");
const fixture = (name: string) => readFileSync(join(FIXTURES, name), "utf8");
const table = (name: string) =>
  fixture(name)
    .split("\n")
    .filter((line) => line !== "" && !line.startsWith("#"))
    .map((line) => line.split("\t"));
/** A Sunday in December: far from both clock changes and from a leap day. */
const NOW = Date.UTC(2026, 11, 6, 2, 0);
const PUSHGW = "/usr/local/bin/pushgw";

describe("the interval a schedule implies", () => {
  it.each(table("intervals.tsv"))("%s in %s: %s s", (schedule, zone, expected) => {
    const parsed = parseSchedule(schedule!);
    const seconds = parsed.kind === "fields" ? (longestGapSeconds(parsed.schedule, zoneOffset(zone!)!, NOW) ?? null) : null;
    expect(parsed.kind).not.toBe("invalid");
    expect(seconds).toBe(expected === "null" ? null : Number(expected));
  });

  // An independent reading: every minute of 400 days in UTC, checked field by field.
  const bruteForce = (s: Schedule): number => {
    let last: number | undefined;
    let longest = 0;
    for (let t = NOW; t < NOW + 400 * 86_400_000; t += 60_000) {
      const d = new Date(t);
      if (!s.minutes.has(d.getUTCMinutes()) || !s.hours.has(d.getUTCHours())) continue;
      if (!firesOnDay(s, d.getUTCMonth() + 1, d.getUTCDate(), d.getUTCDay())) continue;
      if (last !== undefined) longest = Math.max(longest, t - last);
      last = t;
    }
    return longest / 1000;
  };
  it.each(table("intervals.tsv").filter(([, zone, expected]) => zone === "UTC" && expected !== "null" && Number(expected) <= 40 * 86_400))("%s agrees with a minute-by-minute count", (schedule) => {
    const parsed = parseSchedule(schedule!);
    if (parsed.kind !== "fields") throw new Error("not a schedule");
    expect(longestGapSeconds(parsed.schedule, zoneOffset("UTC")!, NOW)).toBe(bruteForce(parsed.schedule));
  });

  it.each([
    ["61 * * * *", /minute "61"/],
    ["* * * *", /5 fields/],
    ["0 0 * * 8", /day of week/],
    ["5-1 * * * *", /backwards/],
    ["*/0 * * * *", /step 0/],
    ["@sometimes", /no cron macro/],
    ["0 0 * foo *", /month/],
  ])("%s is refused: %s", (schedule, why) => {
    const parsed = parseSchedule(schedule);
    expect(parsed.kind).toBe("invalid");
    expect(parsed.kind === "invalid" && parsed.why).toMatch(why);
  });

  it("applies Vixie cron's rule to the two day fields: OR when both are restricted, AND when one starts with a star", () => {
    const or = parseSchedule("0 0 13 * 5");
    const and = parseSchedule("0 0 */2 * 5");
    if (or.kind !== "fields" || and.kind !== "fields") throw new Error("not a schedule");
    // Thursday 14 January 2027: neither the 13th nor a Friday; Friday 15: a Friday, odd day.
    expect(firesOnDay(or.schedule, 1, 14, 4)).toBe(false);
    expect(firesOnDay(or.schedule, 1, 13, 3)).toBe(true);
    expect(firesOnDay(or.schedule, 1, 15, 5)).toBe(true);
    expect(firesOnDay(and.schedule, 1, 15, 5)).toBe(true);
    expect(firesOnDay(and.schedule, 1, 22, 5)).toBe(false);
    expect(firesOnDay(and.schedule, 1, 13, 3)).toBe(false);
  });
});

describe("a command as cron reads it", () => {
  it.each([
    ["echo a%b%c", "echo a", "%b%c"],
    ["echo 100\\% sure", "echo 100\\% sure", ""],
    ["echo \\\\%rest", "echo \\\\", "%rest"],
    ["mail -s x root%Dear root,%%ready.\\%%", "mail -s x root", "%Dear root,%%ready.\\%%"],
    ["no percent at all ", "no percent at all ", ""],
  ])("%s: command %s, stdin %s", (text, command, stdin) => {
    expect(splitCommand(text)).toEqual({ command, stdin });
  });

  it("hands the shell \\% as %", () => {
    expect(shellTextOf("date +\\%Y-\\%m \\\\x")).toBe("date +%Y-%m \\\\x");
  });
});

describe("job names", () => {
  it.each(table("names.tsv"))("%s → %s", (command, name) => {
    expect(nameFromCommand(command!)).toBe(name);
  });

  it("numbers a name that is taken, by a comment, a wrapped line or an earlier entry", () => {
    expect(uniqueNames(["backup"], ["backup", "backup", "sync", undefined, undefined])).toEqual(["backup-2", "backup-3", "sync", "cron", "cron-2"]);
  });
});

const SOURCES: ReadonlyArray<readonly [string, CrontabFormat]> = [
  ["real-world.crontab", "user"],
  ["system.crontab", "system"],
  ["no-final-newline.crontab", "user"],
];
const source = (name: string, format: CrontabFormat): CronSourceText => ({ label: name, format, text: fixture(name) });

describe("wrap and unwrap", () => {
  it.each(SOURCES)("%s: every line round-trips, byte for byte, settings block included", (name, format) => {
    const original = source(name, format);
    for (const env of [[], [["PUSHGW_GATEWAY", "http://gw.example:9091"]] as const]) {
      const [wrapped] = wrapSources(planCron([original], { localZone: "UTC", nowMs: NOW }), { pushgw: PUSHGW, env });
      expect(wrapped!.text).not.toBe(original.text);
      expect(unwrapSource({ ...original, text: wrapped!.text }).text).toBe(original.text);
    }
  });

  it.each(SOURCES)("%s: wrapping again changes nothing", (name, format) => {
    const settings = { pushgw: PUSHGW, env: [["PUSHGW_GATEWAY", "http://gw:9091"]] as const };
    const [once] = wrapSources(planCron([source(name, format)], { localZone: "UTC", nowMs: NOW }), settings);
    const [twice] = wrapSources(planCron([{ ...source(name, format), text: once!.text }], { localZone: "UTC", nowMs: NOW }), settings);
    expect(twice!.text).toBe(once!.text);
    expect(twice!.count).toBe(0);
  });

  const userTab = (text: string): CronSourceText => ({ label: "tab", format: "user", text });
  const wrapOne = (text: string) => wrapSources(planCron([userTab(text)], { localZone: "UTC", nowMs: NOW }), { pushgw: PUSHGW, env: [] });

  it.each<[string, string, RegExp]>([
    // Cron reads 999 bytes of a command and drops the rest: the wrapped line would run nothing.
    ["a command that would be cut once wrapped", `0 5 * * * /usr/local/bin/report ${"x".repeat(950)}\n`, /tab:1: wrapped, its command would be \d+ bytes, and cron reads at most 999/],
    ["its stdin pushed past the limit", `0 5 * * * cat%${"y".repeat(930)}\n`, /tab:1: wrapped, its command would be \d+ bytes/],
    ["a SHELL that reads quotes otherwise", "SHELL=/usr/bin/fish\n0 5 * * * echo a\\\\b\n", /tab:2: SHELL=\/usr\/bin\/fish may read the quoting/],
  ])("refuses %s, writing nothing", (_, text, message) => {
    expect(() => wrapOne(text)).toThrow(message);
  });

  it("wraps under a POSIX SHELL= line, and a line just under the limit", () => {
    const [wrapped] = wrapOne(`SHELL=/bin/bash\n0 5 * * * /usr/local/bin/report ${"x".repeat(850)}\n`);
    expect(wrapped!.count).toBe(1);
  });

  it("a line that merely looks wrapped, by another program than pushgw, is not taken for one", () => {
    const evil = `* * * * * /tmp/x/evil wrap --job a -- "$SHELL" -c 'backup.sh'\n`;
    const [scanned] = planCron([userTab(evil)], { localZone: "UTC", nowMs: NOW }).entries;
    expect(scanned!.wrapped).toBe(false);
    expect(unwrapSource(userTab(evil)).text).toBe(evil);
  });

  it.each(SOURCES)("%s: wraps as the expected file says", (name, format) => {
    const [wrapped] = wrapSources(planCron([source(name, format)], { localZone: "UTC", nowMs: NOW }), { pushgw: PUSHGW, env: [["PUSHGW_GATEWAY", "http://gw.example:9091"]] });
    expect(wrapped!.text).toBe(fixture(name.replace(".crontab", ".wrapped.crontab")));
  });

  it("scans what each entry is: job, interval, wrapped, ignored", () => {
    const plan = planCron([source("real-world.crontab", "user")], { localZone: "UTC", nowMs: NOW });
    const byLine = new Map(plan.entries.map((e) => [e.lineNumber, e]));
    expect(byLine.get(7)).toMatchObject({ schedule: "0 3 * * 1-5", job: "backup.sh", expectEverySeconds: 259_200, wrapped: false, ignored: false });
    expect(byLine.get(8)).toMatchObject({ schedule: "*/15 *  *  *  *", job: "sync", expectEverySeconds: 900, command: "cd /srv/app && ./bin/sync --all   " });
    expect(byLine.get(11)).toMatchObject({ schedule: "@reboot", job: "warm-cache", expectEverySeconds: null });
    expect(byLine.get(13)).toMatchObject({ command: 'mail -s "report" root' });
    // CRON_TZ=Europe/Berlin above it: a 25-hour day in autumn.
    expect(byLine.get(16)).toMatchObject({ job: "logrotate", expectEverySeconds: 90_000 });
    // TZ=America/New_York above it: the week the clocks go back has an hour more.
    expect(byLine.get(20)).toMatchObject({ job: "db-vacuum", expectEverySeconds: 608_400 });
    expect(byLine.get(22)).toMatchObject({ job: undefined, ignored: true });
    // The second backup.sh gets a number; the wrapped line keeps its name.
    expect(byLine.get(23)).toMatchObject({ schedule: "0\t6\t*\t*\t*", job: "backup.sh-2" });
    expect(byLine.get(24)).toMatchObject({ job: "already", wrapped: true, reversible: false });
  });

  it("names are unique across every source of one run", () => {
    const plan = planCron([source("system.crontab", "system"), { label: "/etc/cron.d/more", format: "system", text: "0 * * * * root run-parts /etc/cron.hourly\n" }], { localZone: "UTC", nowMs: NOW });
    expect(plan.entries.filter((e) => e.job?.startsWith("cron.hourly")).map((e) => e.job)).toEqual(["cron.hourly", "cron.hourly-2"]);
  });

  it.each([
    ["# pushgw: job=has space\n0 * * * * x\n", /x:2: "# pushgw: job=has space": a job name here/, "user"],
    ["# pushgw: job=a\n0 * * * * x\n# pushgw: job=a\n1 * * * * y\n", /x:4: job=a is already the name of x:2/, "user"],
    ["# pushgw: skip\n0 * * * * x\n", /x:2: "# pushgw: skip": pushgw understands/, "user"],
    ["# pushgw: job=-x\n0 * * * * x\n", /x:2: "# pushgw: job=-x": a job name here/, "user"],
    ["61 * * * * x\n", /x:1: minute "61"/, "user"],
    ["CRON_TZ=Mars/Olympus\n0 * * * * x\n", /x:2: unknown time zone "Mars\/Olympus"/, "user"],
    ["0 * * * * /usr/bin/hourly --all\n", /x:1: "\/usr\/bin\/hourly" is no user name.*--crontab FILE/, "system"],
  ] satisfies Array<[string, RegExp, CrontabFormat]>)("refuses what it cannot handle, saying where: %j", (text, message, format) => {
    expect(() => planCron([{ label: "x", format, text }], { localZone: "UTC", nowMs: NOW })).toThrow(CronProblems);
    expect(() => planCron([{ label: "x", format, text }], { localZone: "UTC", nowMs: NOW })).toThrow(message);
  });

  it("--grace goes with each --expect-every, and unwrap still finds the line", () => {
    const text = "0 3 * * 1-5 /usr/bin/nightly\n@reboot /usr/bin/warm\n";
    const [wrapped] = wrapSources(planCron([{ label: "x", format: "user", text }], { localZone: "UTC", nowMs: NOW }), { pushgw: PUSHGW, env: [], graceSeconds: 5400 });
    expect(wrapped!.text).toBe(`0 3 * * 1-5 ${PUSHGW} wrap --job nightly --expect-every 3d --grace 1h30m -- "$SHELL" -c '/usr/bin/nightly'\n@reboot ${PUSHGW} wrap --job warm -- "$SHELL" -c '/usr/bin/warm'\n`);
    expect(unwrapSource({ label: "x", format: "user", text: wrapped!.text }).text).toBe(text);
  });

  it("leaves an entry marked # pushgw: ignore, and a bad one so marked, alone", () => {
    const text = "# pushgw: ignore\n61 * * * * x\n";
    const [wrapped] = wrapSources(planCron([{ label: "x", format: "user", text }], { localZone: "UTC", nowMs: NOW }), { pushgw: PUSHGW, env: [] });
    expect(wrapped!.text).toBe(text);
  });
});

describe("the dry-run diff", () => {
  it("shows each changed line as - and +, with context", () => {
    expect(unifiedDiff("f", "a\nb\nc\n", "a\nB\nc\n")).toBe("--- f\n+++ f\n@@ -1,3 +1,3 @@\n a\n-b\n+B\n c\n");
    expect(unifiedDiff("f", "a\n", "S\na\n")).toBe("--- f\n+++ f\n@@ -1,1 +1,2 @@\n+S\n a\n");
    expect(unifiedDiff("f", "same\n", "same\n")).toBe("");
  });
});

it("has an expected file for each fixture", () => {
  const names = readdirSync(FIXTURES);
  for (const [name] of SOURCES) expect(names).toContain(name.replace(".crontab", ".wrapped.crontab"));
});
