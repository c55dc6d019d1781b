import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { createFileSpool } from "../../src/adapters/file-spool.js";
import { spoolFolderName } from "../../src/core/spool.js";

/**
 * The delivery lock in one process, where every file-system step of 40 takers interleaves with
 * the others' (each await yields): far more interleavings per second than separate processes
 * give, so a takeover that is not one-winner shows at once.
 */
const BASE = "http://127.0.0.1:9091";
const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

/** pid_max itself is never a process's id (ids run below it): a lock holder that cannot be alive, with no process started. */
function deadPid(): number {
  return Number(readFileSync("/proc/sys/kernel/pid_max", "utf8").trim());
}

describe("file spool: the delivery lock", () => {
  it("40 takers at once over a stale lock: exactly one wins, in each of 25 rounds", async () => {
    const dir = mkdtempSync(join(tmpdir(), "pushgw-lock-"));
    dirs.push(dir);
    const spools = await Promise.all(Array.from({ length: 40 }, () => createFileSpool(dir)));
    const folder = join(dir, spoolFolderName(BASE));
    const winners: number[] = [];
    for (let round = 0; round < 25; round++) {
      await (await spools[0]!.lock(BASE))!();
      writeFileSync(join(folder, ".lock"), `${deadPid()} 12345 ${round.toString(16).padStart(16, "0")}`);
      // Staggered starts, so that takers meet each other at every step of the takeover.
      const releases = await Promise.all(spools.map(async (spool, i) => {
        await new Promise((resolve) => setTimeout(resolve, (i * 7 + round * 3) % 13));
        return spool.lock(BASE);
      }));
      const won = releases.filter((r) => r !== undefined);
      winners.push(won.length);
      // The winner's token is in the lock, and nothing else is left behind.
      expect(readFileSync(join(folder, ".lock"), "utf8")).toMatch(new RegExp(`^${process.pid} \\d+ [0-9a-f]{16}$`));
      await Promise.all(won.map((release) => release!()));
      expect(readdirSync(folder)).toEqual([]);
    }
    expect(winners).toEqual(Array.from({ length: 25 }, () => 1));
  });

  it("a lock held by a live run is left alone by every taker", async () => {
    const dir = mkdtempSync(join(tmpdir(), "pushgw-lock-"));
    dirs.push(dir);
    const holder = await createFileSpool(dir);
    const release = await holder.lock(BASE);
    expect(release).toBeDefined();
    const token = readFileSync(join(dir, spoolFolderName(BASE), ".lock"), "utf8");
    const others = await Promise.all(Array.from({ length: 40 }, () => createFileSpool(dir)));
    expect((await Promise.all(others.map((spool) => spool.lock(BASE)))).filter((r) => r !== undefined)).toEqual([]);
    expect(readFileSync(join(dir, spoolFolderName(BASE), ".lock"), "utf8")).toBe(token);
    await release!();
    expect(await others[0]!.lock(BASE)).toBeDefined();
  });
});
