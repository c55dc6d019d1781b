import { execFileSync } from "node:child_process";
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { parseCrontab, shellTextOf, type CrontabFormat } from "../../src/core/cron/crontab.js";
import { planCron, wrapSources, type CronSourceText } from "../../src/core/cron/plan.js";

/** cron wrap's quoting read back by the real /bin/sh (the table tests of test/core/cron.test.ts read it by hand). */
const FIXTURES = join(import.meta.dirname, "../fixtures/cron");
const NOW = Date.UTC(2026, 11, 6, 2, 0);
const SOURCES: ReadonlyArray<readonly [string, CrontabFormat]> = [
  ["real-world.crontab", "user"],
  ["system.crontab", "system"],
  ["no-final-newline.crontab", "user"],
];
const source = (name: string, format: CrontabFormat): CronSourceText => ({ label: name, format, text: readFileSync(join(FIXTURES, name), "utf8") });

describe("the wrapped line runs the same shell text", () => {
  const dir = mkdtempSync(join(tmpdir(), "pushgw-cron-shell-"));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  // Stands in for pushgw: prints the words it was given, each ended by NUL.
  const printer = join(dir, "pushgw");
  writeFileSync(printer, "#!/bin/sh\nprintf '%s\\0' \"$@\"\n");
  chmodSync(printer, 0o755);

  it.each(SOURCES)("%s: /bin/sh hands pushgw wrap the command exactly as cron would have run it", (name, format) => {
    const original = source(name, format);
    const [wrapped] = wrapSources(planCron([original], { localZone: "UTC", nowMs: NOW }), { pushgw: printer, env: [] });
    const before = parseCrontab(original.text, format).lines;
    const after = parseCrontab(wrapped!.text, format).lines;
    let checked = 0;
    after.forEach((line, i) => {
      if (line.kind !== "entry" || !line.command.startsWith(printer)) return;
      const was = before[i];
      if (was?.kind !== "entry") throw new Error(`line ${i + 1} was no entry`);
      const words = execFileSync("/bin/sh", ["-c", shellTextOf(line.command)], { env: { SHELL: "/bin/sh" } }).toString().split("\0").slice(0, -1);
      expect(words.slice(-3)).toEqual(["/bin/sh", "-c", shellTextOf(was.command)]);
      expect(line.stdin).toBe(was.stdin);
      checked++;
    });
    expect(checked).toBeGreaterThan(0);
  });
});

