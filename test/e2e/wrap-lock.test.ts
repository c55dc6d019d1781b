import { spawnSync } from "node:child_process";
import { chmodSync, chownSync, existsSync, linkSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, readlinkSync, rmSync, statSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { lockFileName } from "../../src/core/lock-name.js";
import { family, findGroup, readGroups, startPushgateway, type GatewayGroup, type RunningGateway } from "../helpers/pushgateway.js";
import { BIN, NODE, runCli, startCli, testRuntimeDir, type CliRun } from "../helpers/run-cli.js";

let gw: RunningGateway;
let env: Record<string, string>;
const tmp = mkdtempSync(join(tmpdir(), "pushgw-lock-"));
const job = (name: string) => fileURLToPath(new URL(`../fixtures/jobs/${name}`, import.meta.url));
const node = process.execPath;
const left: number[] = [];

beforeAll(async () => {
  gw = await startPushgateway();
  env = { PUSHGW_GATEWAY: gw.url };
});
afterAll(async () => {
  // Jobs whose wrapper a test killed, and daemons a job left behind.
  for (const pid of left) {
    try {
      process.kill(pid, "SIGKILL");
    } catch {
      // gone
    }
  }
  await gw?.stop();
});

let sequence = 0;
/** A fresh directory, its lock file, and the files a holding job records its start in and waits for. */
function scene(): { dir: string; lock: string; record: string; release: string } {
  const dir = join(tmp, `scene-${sequence++}`);
  mkdirSync(dir, { mode: 0o700 });
  return { dir, lock: join(dir, "job.lock"), record: join(dir, "started"), release: join(dir, "release") };
}
const startedPids = (record: string): number[] => (existsSync(record) ? readFileSync(record, "utf8").split("\n").filter(Boolean).map(Number) : []);
const until = async (ok: () => boolean, ms = 20_000): Promise<void> => {
  const deadline = Date.now() + ms;
  while (!ok()) {
    if (Date.now() > deadline) throw new Error("timed out waiting");
    await new Promise((r) => setTimeout(r, 20));
  }
};
const group = async (name: string): Promise<GatewayGroup | undefined> => findGroup(await readGroups(gw.url), { job: name });
const value = (g: GatewayGroup | undefined, metric: string): number | undefined => {
  const v = family(g, metric)?.metrics[0]?.value;
  return v === undefined ? undefined : Number(v);
};
const holder = (name: string, s: ReturnType<typeof scene>, flags: string[] = []) =>
  startCli(["wrap", "-j", name, "--no-instance", "--lock", s.lock, ...flags, "--", node, job("hold-until.mjs"), s.record, s.release], { env });

describe("wrap --lock: one run of a group at a time", () => {
  it("of 30 wraps started at once exactly one runs; the 29 others exit 75 without starting it, and count their skips in the group", async () => {
    const s = scene();
    const runs = Array.from({ length: 30 }, () => holder("crowd", s));
    const finished: CliRun[] = [];
    for (const run of runs) void run.done.then((r) => finished.push(r));
    // The one that runs waits for the release file, which comes only once the 29 have ended.
    await until(() => finished.length === 29, 60_000);
    expect(startedPids(s.record)).toHaveLength(1);
    for (const run of finished) {
      expect(run.code).toBe(75);
      expect(run.stdout).toBe("");
      expect(run.stderr).toBe(`pushgw: {job="crowd"}: not started: the previous run still holds the lock ${s.lock} (exit status 75)\n`);
    }
    writeFileSync(s.release, "");
    const last = await Promise.all(runs.map((r) => r.done));
    expect(last.filter((r) => r.code === 0)).toHaveLength(1);
    expect(startedPids(s.record)).toHaveLength(1);

    const g = await group("crowd");
    expect(value(g, "job_skipped_overlap_total")).toBe(29);
    expect(family(g, "job_skipped_overlap_total")?.type).toBe("COUNTER");
    expect(value(g, "job_last_skipped_timestamp_seconds")).toBeGreaterThan(Date.now() / 1000 - 120);
    // The run that held the lock pushed its outcome beside them.
    expect(value(g, "job_success")).toBe(1);
    expect(value(g, "job_running")).toBe(0);
  }, 120_000);

  it("-q silences the line; the next run after the holder ended runs, and the count goes on", async () => {
    const s = scene();
    const first = holder("quiet-skip", s);
    await until(() => startedPids(s.record).length === 1);
    const skipped = await runCli(["wrap", "-j", "quiet-skip", "--no-instance", "--lock", s.lock, "-q", "--", node, job("exit.mjs"), "0"], { env });
    expect(skipped).toMatchObject({ code: 75, stdout: "", stderr: "" });
    expect(value(await group("quiet-skip"), "job_skipped_overlap_total")).toBe(1);
    writeFileSync(s.release, "");
    expect((await first.done).code).toBe(0);
    const next = await runCli(["wrap", "-j", "quiet-skip", "--no-instance", "--lock", s.lock, "--", node, job("exit.mjs"), "3"], { env });
    expect(next.code).toBe(3);
    expect(readFileSync(`${s.lock}.skipped`, "utf8")).toBe("1\n");
  }, 60_000);

  it("is released by the kernel when the wrapper is SIGKILLed, though the job it started runs on", async () => {
    const s = scene();
    const first = holder("killed-holder", s);
    await until(() => startedPids(s.record).length === 1);
    const orphan = startedPids(s.record)[0]!;
    left.push(orphan);
    // Awaited on exit, not on close: the orphaned job still holds the wrapper's stdout and stderr.
    const exited = new Promise<NodeJS.Signals | null>((resolve) => first.child.once("exit", (_code, signal) => resolve(signal)));
    first.child.kill("SIGKILL");
    expect(await exited).toBe("SIGKILL");
    expect(isAlive(orphan)).toBe(true);
    // The job, in its own process group, outlives its wrapper and holds nothing.
    expect(openFiles(orphan)).not.toContain(s.lock);
    const next = await runCli(["wrap", "-j", "killed-holder", "--no-instance", "--lock", s.lock, "--", node, job("exit.mjs"), "0"], { env });
    expect(next.code).toBe(0);
  }, 60_000);

  it("is not held by a daemon the job leaves running", async () => {
    const s = scene();
    const pidFile = join(s.dir, "daemon.pid");
    const run = await runCli(["wrap", "-j", "daemonizing", "--no-instance", "--lock", s.lock, "--", "/bin/sh", "-c", `sleep 60 >/dev/null 2>&1 & echo $! > ${pidFile}`], { env });
    expect(run.code).toBe(0);
    const daemon = Number(readFileSync(pidFile, "utf8"));
    left.push(daemon);
    expect(isAlive(daemon)).toBe(true);
    expect(openFiles(daemon)).not.toContain(s.lock);
    const next = await runCli(["wrap", "-j", "daemonizing", "--no-instance", "--lock", s.lock, "--", node, job("exit.mjs"), "0"], { env });
    expect(next.code).toBe(0);
  }, 30_000);

  it("--lock-wait D waits for the holder to end, then runs", async () => {
    const s = scene();
    const first = holder("patient", s);
    await until(() => startedPids(s.record).length === 1);
    const waiting = startCli(["wrap", "-j", "patient", "--no-instance", "--lock", s.lock, "--lock-wait", "30s", "--", node, job("hold-until.mjs"), s.record, s.release], { env });
    await new Promise((r) => setTimeout(r, 700));
    expect(startedPids(s.record)).toHaveLength(1);
    writeFileSync(s.release, "");
    expect((await first.done).code).toBe(0);
    const second = await waiting.done;
    expect(second).toMatchObject({ code: 0, stderr: "" });
    expect(startedPids(s.record)).toHaveLength(2);
  }, 60_000);

  it("--lock-wait gives up after D: exit 75, and it implies --lock", async () => {
    const s = scene();
    const name = "impatient";
    // Without --lock FILE: both use the group's own lock file, in XDG_RUNTIME_DIR.
    const xdg = join(s.dir, "runtime");
    mkdirSync(xdg, { mode: 0o700 });
    const first = startCli(["wrap", "-j", name, "--no-instance", "--lock", "--", node, job("hold-until.mjs"), s.record, s.release], { env: { ...env, XDG_RUNTIME_DIR: xdg } });
    await until(() => startedPids(s.record).length === 1);
    const started = Date.now();
    const gaveUp = await runCli(["wrap", "-j", name, "--no-instance", "--lock-wait", "500ms", "--", node, job("exit.mjs"), "0"], { env: { ...env, XDG_RUNTIME_DIR: xdg } });
    expect(Date.now() - started).toBeGreaterThanOrEqual(500);
    expect(gaveUp.code).toBe(75);
    expect(gaveUp.stderr).toMatch(/^pushgw: \{job="impatient"\}: not started: after --lock-wait 500ms another run still held the lock .*\/runtime\/pushgw-\d+-impatient-[0-9a-f]{12}\.lock \(exit status 75\)\n$/);
    writeFileSync(s.release, "");
    expect((await first.done).code).toBe(0);
    expect(readdirSync(xdg).sort()).toEqual([expect.stringMatching(/^pushgw-\d+-impatient-[0-9a-f]{12}\.lock$/), expect.stringMatching(/\.lock\.skipped$/)]);
  }, 60_000);

  it("locks per group: another group's run is not held up", async () => {
    const s = scene();
    const xdg = join(s.dir, "runtime");
    mkdirSync(xdg, { mode: 0o700 });
    const withXdg = { ...env, XDG_RUNTIME_DIR: xdg };
    const first = startCli(["wrap", "-j", "one", "-i", "a", "--lock", "--", node, job("hold-until.mjs"), s.record, s.release], { env: withXdg });
    await until(() => startedPids(s.record).length === 1);
    expect((await runCli(["wrap", "-j", "one", "-i", "b", "--lock", "--", node, job("exit.mjs"), "0"], { env: withXdg })).code).toBe(0);
    expect((await runCli(["wrap", "-j", "one", "-i", "a", "--lock", "--", node, job("exit.mjs"), "0"], { env: withXdg })).code).toBe(75);
    writeFileSync(s.release, "");
    expect((await first.done).code).toBe(0);
  }, 60_000);

  it("the default lock lives where no other user can plant a file under its name: a file planted in /run/lock or the temp dir does not stop the job", async () => {
    const s = scene();
    const uid = process.geteuid!();
    const name = lockFileName({ job: "planted-victim", labels: [] }, uid);
    // What another user could do in the shared directories, before the job's first run.
    const planted = ["/run/lock", tmpdir()].filter((dir) => existsSync(dir)).map((dir) => join(dir, name));
    for (const file of planted) {
      writeFileSync(file, "");
      chmodSync(file, 0o600);
      chownSync(file, 65534, 65534);
    }
    const home = join(s.dir, "home");
    mkdirSync(home, { mode: 0o700 });
    const cronLike = { ...env, HOME: home };
    try {
      const first = startCli(["wrap", "-j", "planted-victim", "--no-instance", "--lock", "--", node, job("hold-until.mjs"), s.record, s.release], { env: cronLike });
      await until(() => startedPids(s.record).length === 1);
      const second = await runCli(["wrap", "-j", "planted-victim", "--no-instance", "--lock", "--", node, job("exit.mjs"), "0"], { env: cronLike });
      // runCli gives every run a runtime directory of the test's (root's would be /run/pushgw).
      const dir = testRuntimeDir();
      expect(second.stderr).toBe(`pushgw: {job="planted-victim"}: not started: the previous run still holds the lock ${join(dir, name)} (exit status 75)\n`);
      expect(second.code).toBe(75);
      expect(statSync(dir).mode & 0o777).toBe(0o700);
      writeFileSync(s.release, "");
      expect((await first.done).code).toBe(0);
    } finally {
      for (const file of planted) rmSync(file, { force: true });
    }
  }, 60_000);

  it("works with no environment at all (env -i): flock(1) is found by its full path", async () => {
    const s = scene();
    const run = spawnSync("/usr/bin/env", ["-i", `XDG_RUNTIME_DIR=${testRuntimeDir()}`, NODE, BIN, "wrap", "-g", gw.url, "-j", "bare-env", "--no-instance", "--lock", s.lock, "--", node, job("exit.mjs"), "0"], { encoding: "utf8" });
    expect(run.stderr).toBe("");
    expect(run.status).toBe(0);
    expect(existsSync(s.lock)).toBe(true);
  });
});

describe("wrap --lock refuses what it cannot trust, before the job starts (exit 2)", () => {
  const refused = async (lock: string, pattern: RegExp, extraEnv: Record<string, string> = {}) => {
    const s = scene();
    const run = await runCli(["wrap", "-j", "refused", "--no-instance", "--lock", lock, "--", node, job("hold-until.mjs"), s.record, s.release], { env: { ...env, ...extraEnv } });
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(pattern);
    expect(startedPids(s.record)).toEqual([]);
  };

  it("a lock file that is a symbolic link: never followed, its target untouched", async () => {
    const s = scene();
    const target = join(s.dir, "precious");
    writeFileSync(target, "keep me\n");
    symlinkSync(target, s.lock);
    await refused(s.lock, /--lock: .*job\.lock is a symbolic link/);
    expect(readFileSync(target, "utf8")).toBe("keep me\n");
    expect(readlinkSync(s.lock)).toBe(target);
  });

  it("a lock file with a second name (hard link)", async () => {
    const s = scene();
    writeFileSync(join(s.dir, "other"), "");
    linkSync(join(s.dir, "other"), s.lock);
    await refused(s.lock, /has 2 names \(hard links\)/);
  });

  it("a lock file that belongs to another user", async () => {
    const s = scene();
    writeFileSync(s.lock, "");
    chownSync(s.lock, 65534, 65534);
    await refused(s.lock, /belongs to uid 65534, not to uid 0 running pushgw/);
  });

  it("a directory others may write to without the sticky bit", async () => {
    const s = scene();
    chmodSync(s.dir, 0o777);
    await refused(s.lock, /the lock's directory .* is writable by others without the sticky bit \(mode 0777\)/);
  });

  it("a directory that belongs to another user", async () => {
    const s = scene();
    chownSync(s.dir, 65534, 65534);
    await refused(s.lock, /the lock's directory .* belongs to uid 65534/);
  });

  it("a directory that does not exist", async () => {
    await refused(join(tmp, "nowhere", "x.lock"), /--lock: the directory .*nowhere cannot be used \(ENOENT\)/);
  });

  it("a FIFO where the lock file should be: no hang", async () => {
    const s = scene();
    spawnSync("mkfifo", [s.lock]);
    await refused(s.lock, /is not a regular file/);
  });

  it("no flock(1) on the machine: said, and the job does not run", async () => {
    const s = scene();
    // /usr/bin/flock hidden in a mount namespace of its own (/bin is /usr/bin on Debian).
    const script = `mount --bind /dev/null /usr/bin/flock && exec "$@"`;
    const run = spawnSync(
      "unshare",
      ["-m", "sh", "-c", script, "sh", NODE, BIN, "wrap", "-g", gw.url, "-j", "no-flock", "--no-instance", "--lock", s.lock, "--", node, job("hold-until.mjs"), s.record, s.release],
      { encoding: "utf8" },
    );
    expect(run.status).toBe(2);
    expect(run.stderr).toMatch(/--lock needs flock\(1\) from util-linux, and there is none at \/usr\/bin\/flock or \/bin\/flock/);
    expect(startedPids(s.record)).toEqual([]);
  });
});

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** What a process holds open, as /proc shows it. */
function openFiles(pid: number): string[] {
  const dir = `/proc/${pid}/fd`;
  return readdirSync(dir).map((fd) => {
    try {
      return readlinkSync(join(dir, fd));
    } catch {
      return "";
    }
  });
}
