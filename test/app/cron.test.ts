import { describe, expect, it } from "vitest";
import { runCron, type CronOptions } from "../../src/app/cron.js";
import type { Crontabs } from "../../src/app/ports.js";
import { UsageError, WriteError } from "../../src/core/errors.js";
import { fakeWorld } from "../helpers/fakes.js";

const OPTIONS: CronOptions = { action: "wrap", systemFiles: [], userFiles: [], user: undefined, json: false, dryRun: false, backupDir: undefined, settings: [], graceSeconds: undefined };

/** The user crontab in memory; every step recorded in order. */
function memoryCrontabs(text: string, changes: Partial<Crontabs> = {}): { crontabs: Crontabs; steps: string[] } {
  const steps: string[] = [];
  const crontabs: Crontabs = {
    readUserCrontab: async (user) => (steps.push(`read ${user ?? "own"}`), text),
    writeUserCrontab: async (user) => void steps.push(`write ${user ?? "own"}`),
    readFile: async () => {
      throw new Error("no files here");
    },
    replaceFile: async () => {
      throw new Error("no files here");
    },
    saveBackup: async (_dir, files) => (steps.push(`backup ${files.map((f) => f.name).join(",")}`), "/backups/1"),
    pushgwPath: "/usr/bin/pushgw",
    nodeMissingFromCronPath: false,
    localZone: "UTC",
    ...changes,
  };
  return { crontabs, steps };
}

describe("cron wrap, the use case", () => {
  it("saves the backup before it writes, and says where", async () => {
    const world = fakeWorld([]);
    const { crontabs, steps } = memoryCrontabs("0 3 * * * /usr/bin/nightly\n");
    expect(await runCron({ ...OPTIONS, user: "alice" }, world.deps, crontabs)).toBe(0);
    expect(steps).toEqual(["read alice", "backup crontab-alice", "write alice"]);
    expect(world.printed.info[0]).toBe("backup of crontab -u alice saved in /backups/1");
  });

  it("a user name cannot lead the backup copy out of its directory", async () => {
    const { crontabs, steps } = memoryCrontabs("0 3 * * * /usr/bin/nightly\n");
    await runCron({ ...OPTIONS, user: "../../etc/cron.d/x" }, fakeWorld([]).deps, crontabs);
    expect(steps[1]).toMatch(/^backup crontab-[^/]+$/);
  });

  it("a crontab the crontab command refuses: exit 1, saying it was not written and where the backup is", async () => {
    const { crontabs } = memoryCrontabs("0 3 * * * /usr/bin/nightly\n", {
      writeUserCrontab: async () => {
        throw new WriteError("crontab - refused the new crontab: errors in crontab file");
      },
    });
    const failure = await runCron(OPTIONS, fakeWorld([]).deps, crontabs).catch((e: unknown) => e);
    expect(failure).toBeInstanceOf(WriteError);
    expect((failure as WriteError).message).toBe("not written: crontab (crontab - refused the new crontab: errors in crontab file); nothing was written");
    expect((failure as WriteError).hint).toBe("the files as they were are in /backups/1");
  });

  it("warns when cron's PATH has no node for the npm install's script", async () => {
    const world = fakeWorld([]);
    const { crontabs } = memoryCrontabs("0 3 * * * /usr/bin/nightly\n", { nodeMissingFromCronPath: true });
    await runCron(OPTIONS, world.deps, crontabs);
    expect(world.printed.warn.join("\n")).toMatch(/cron's PATH \(\/usr\/bin:\/bin\) has no node/);
  });

  it("as root, refuses to write a pushgw another user could replace into the crontabs; scan still works", async () => {
    const { crontabs, steps } = memoryCrontabs("0 3 * * * /usr/bin/nightly\n", { pushgwPath: "/home/admin/.nvm/bin/pushgw", pushgwPathProblem: "/home/admin is owned by uid 1000" });
    await expect(runCron(OPTIONS, fakeWorld([]).deps, crontabs)).rejects.toThrow(/another user could replace it: \/home\/admin is owned by uid 1000/);
    expect(steps).toEqual(["read own"]);
    expect(await runCron({ ...OPTIONS, action: "scan" }, fakeWorld([]).deps, crontabs)).toBe(0);
  });

  it.each(["/opt/pushgw-linux-x64", "/usr/local/bin/pgw"])("refuses to write a pushgw not named pushgw (%s): unwrap would not know its lines", async (path) => {
    const { crontabs, steps } = memoryCrontabs("0 3 * * * /usr/bin/nightly\n", { pushgwPath: path });
    await expect(runCron(OPTIONS, fakeWorld([]).deps, crontabs)).rejects.toThrow(/know a wrapped line by the name pushgw/);
    expect(steps).toEqual(["read own"]);
  });

  it.each(["/opt/50%/pushgw", "/opt/it's/pushgw"])("refuses to write pushgw's path %s into a crontab: exit 2, nothing written", async (path) => {
    const { crontabs, steps } = memoryCrontabs("0 3 * * * /usr/bin/nightly\n", { pushgwPath: path });
    await expect(runCron(OPTIONS, fakeWorld([]).deps, crontabs)).rejects.toThrow(UsageError);
    expect(steps).toEqual(["read own"]);
  });
});
