import { spawnSync } from "node:child_process";
import { chmodSync, chownSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ATTACKER_GID, ATTACKER_UID, asAttackerSh, attackerDir } from "../helpers/attacker.js";
import { startCronDaemon, type CronDaemon } from "../helpers/cron-daemon.js";
import { mountTmpfs } from "../helpers/mounts.js";
import { until } from "../helpers/poll.js";
import { family, findGroup, readGroups, startPushgateway, type GatewayGroup, type RunningGateway } from "../helpers/pushgateway.js";
import { BIN, NODE, runCli } from "../helpers/run-cli.js";

const value = (group: GatewayGroup | undefined, name: string) => family(group, name)?.metrics[0]?.value;

describe("pushgw cron against Debian's cron daemon and a real Pushgateway", () => {
  let gateway: RunningGateway;
  let cron: CronDaemon;
  let dir: string;
  beforeAll(async () => {
    gateway = await startPushgateway();
    dir = mkdtempSync(join(tmpdir(), "pushgw-cron-e2e-"));
    // The machine's /etc/crontab stays unread: cron gets this one.
    writeFileSync(join(dir, "etc-crontab"), "SHELL=/bin/sh\nPATH=/usr/local/sbin:/usr/local/bin:/sbin:/bin:/usr/sbin:/usr/bin\n");
    chmodSync(join(dir, "etc-crontab"), 0o644);
    cron = await startCronDaemon(join(dir, "etc-crontab"));
  });
  afterAll(async () => {
    await cron?.stop();
    await gateway?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  /** pushgw, the built CLI, run as root inside cron's namespace. */
  const pushgw = (...args: string[]) => cron.inside(NODE, [BIN, ...args], { env: { PATH: "/usr/bin:/bin" } });

  it(
    "wrap: the entries run wrapped at their times and push their outcome and interval; unwrap puts every byte back",
    async () => {
      const cronD =
        "# a system-format file, with a user field\n" +
        'MAILTO=""\n' +
        // cron ends a command at a % even between quotes: \% is how a crontab says printf's %.
        `* * * * *   root  printf '\\%s' "it's ok" > ${dir}/ran.txt\n` +
        "# pushgw: job=stdin-job\n" +
        `* * * * * root cat > ${dir}/stdin.txt%first line%second \\% line\n` +
        "0 3 * * 1-5 root /usr/local/bin/not-this-week\n";
      const userCrontab = 'MAILTO=""\n# pushgw: job=failing\n* * * * * cd / && sh -c "exit 3"\n\n# pushgw: ignore\n@reboot /bin/true\n';
      expect(cron.inside("sh", ["-c", 'cat > /etc/cron.d/pushgw-e2e && chmod 644 /etc/cron.d/pushgw-e2e'], { input: cronD }).status).toBe(0);
      expect(cron.inside("crontab", ["-"], { input: userCrontab }).status).toBe(0);
      // Another user's crontab, which root reaches with --user (crontab -u).
      const nobodys = "# weekdays\n0 3 * * 1-5 /usr/bin/true --nightly\n";
      expect(cron.inside("crontab", ["-u", "nobody", "-"], { input: nobodys }).status).toBe(0);

      const scan = pushgw("cron", "scan", "--json", "/etc/cron.d/pushgw-e2e");
      expect(scan.status, scan.stderr).toBe(0);
      expect(JSON.parse(scan.stdout)).toEqual([
        { source: "/etc/cron.d/pushgw-e2e:3", schedule: "* * * * *", command: `printf '\\%s' "it's ok" > ${dir}/ran.txt`, job: "printf", expect_every_seconds: 60, wrapped: false, ignored: false },
        { source: "/etc/cron.d/pushgw-e2e:5", schedule: "* * * * *", command: `cat > ${dir}/stdin.txt`, job: "stdin-job", expect_every_seconds: 60, wrapped: false, ignored: false },
        { source: "/etc/cron.d/pushgw-e2e:6", schedule: "0 3 * * 1-5", command: "/usr/local/bin/not-this-week", job: "not-this-week", expect_every_seconds: 259_200, wrapped: false, ignored: false },
      ]);

      const backups = join(dir, "backups");
      const system = pushgw("cron", "wrap", "--gateway", gateway.url, "--backup-dir", backups, "/etc/cron.d/pushgw-e2e");
      expect(system.status, system.stderr).toBe(0);
      expect(system.stderr).toMatch(new RegExp(`backup of /etc/cron.d/pushgw-e2e saved in ${backups}/\\S+\\n/etc/cron.d/pushgw-e2e: 3 entries wrapped`));
      const user = pushgw("cron", "wrap", "--gateway", gateway.url, "--backup-dir", backups);
      expect(user.status, user.stderr).toBe(0);
      const other = pushgw("cron", "wrap", "--user", "nobody", "--backup-dir", backups);
      expect(other.status, other.stderr).toBe(0);
      expect(cron.inside("crontab", ["-u", "nobody", "-l"]).stdout).toBe(`# weekdays\n0 3 * * 1-5 ${BIN} wrap --job true --expect-every 3d -- "$SHELL" -c '/usr/bin/true --nightly'\n`);
      expect(cron.inside("crontab", ["-l"]).stdout, "root's own crontab is another").toContain("--job failing");
      const wrappedCrontab = cron.inside("crontab", ["-l"]).stdout;
      expect(wrappedCrontab).toContain(`PUSHGW_GATEWAY=${gateway.url}\n`);
      expect(wrappedCrontab).toContain(`${BIN} wrap --job failing --expect-every 1m -- "$SHELL" -c 'cd / && sh -c "exit 3"'`);
      // Again: nothing changes, and no backup is made for nothing.
      expect(pushgw("cron", "wrap", "--gateway", gateway.url, "--backup-dir", backups, "/etc/cron.d/pushgw-e2e").stderr).toMatch(/nothing to change/);
      expect(readdirSync(backups)).toHaveLength(3);

      // cron fires at the next minute boundary (up to a minute away) and reads changed crontabs at it.
      const jobs = ["printf", "stdin-job", "failing"];
      const groups = await until(
        () => readGroups(gateway.url),
        (gs) => jobs.every((job) => value(gs.find((g) => g.labels["job"] === job), "job_success") !== undefined),
        150_000,
      );
      const group = (job: string) => groups.find((g) => g.labels["job"] === job);
      // One comparison, so that a miss shows every job's state and whether the commands ran at all.
      const outcome = (job: string) => ({
        success: value(group(job), "job_success"),
        exitCode: value(group(job), "job_exit_code"),
        interval: value(group(job), "job_expected_interval_seconds"),
      });
      expect({
        printf: outcome("printf"),
        stdin: outcome("stdin-job"),
        failing: outcome("failing"),
        ran: existsSync(join(dir, "ran.txt")),
        stdinRan: existsSync(join(dir, "stdin.txt")),
      }).toEqual({
        printf: { success: "1", exitCode: "0", interval: "60" },
        stdin: { success: "1", exitCode: "0", interval: "60" },
        failing: { success: "0", exitCode: "3", interval: "60" },
        ran: true,
        stdinRan: true,
      });
      expect(findGroup(groups, { job: "not-this-week", instance: group("printf")!.labels["instance"]! })).toBeUndefined();
      // The command ran exactly as before: its quotes, and the stdin cron made of what followed %.
      expect(readFileSync(join(dir, "ran.txt"), "utf8")).toBe("it's ok");
      expect(readFileSync(join(dir, "stdin.txt"), "utf8")).toMatch(/^first line\nsecond % line\n?$/);

      const unwrapSystem = pushgw("cron", "unwrap", "--backup-dir", backups, "/etc/cron.d/pushgw-e2e");
      expect(unwrapSystem.status, unwrapSystem.stderr).toBe(0);
      expect(pushgw("cron", "unwrap", "--backup-dir", backups).status).toBe(0);
      expect(cron.inside("cat", ["/etc/cron.d/pushgw-e2e"]).stdout).toBe(cronD);
      expect(cron.inside("crontab", ["-l"]).stdout).toBe(userCrontab);
      expect(pushgw("cron", "unwrap", "--user", "nobody", "--backup-dir", backups).status).toBe(0);
      expect(cron.inside("crontab", ["-u", "nobody", "-l"]).stdout).toBe(nobodys);
      expect(cron.inside("stat", ["-c", "%a %U", "/etc/cron.d/pushgw-e2e"]).stdout).toBe("644 root\n");
      // The backups hold the crontabs as they were, where only root can read them.
      const [first] = readdirSync(backups).sort();
      expect(statSync(join(backups, first!)).mode & 0o777).toBe(0o700);
      expect(readFileSync(join(backups, first!, "etc_cron.d_pushgw-e2e"), "utf8")).toBe(cronD);
    },
    200_000,
  );
});

describe("pushgw cron on files, as root on a machine others log in to", () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), "pushgw-cron-files-"));
    chmodSync(dir, 0o755);
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  const CRONTAB = "# pushgw: job=backup\n0 3 * * 1-5 /usr/local/bin/backup.sh --all >> /var/log/backup.log 2>&1\n";
  const place = (name: string, text = CRONTAB, mode = 0o600) => {
    const path = join(dir, name);
    writeFileSync(path, text);
    chmodSync(path, mode);
    return path;
  };

  it("--crontab FILE: rewritten in place keeping its mode, owner and the bytes unwrap restores; --dry-run is a diff and writes nothing", async () => {
    const path = place("user.crontab", CRONTAB, 0o640);
    chownSync(path, 0, ATTACKER_GID);
    const backups = join(dir, "b1");
    const dry = await runCli(["cron", "wrap", "--dry-run", "--backup-dir", backups, "--crontab", path]);
    expect(dry.code, dry.stderr).toBe(0);
    expect(dry.stdout).toContain(`--- ${path}\n+++ ${path}\n@@ -1,2 +1,2 @@\n # pushgw: job=backup\n-0 3 * * 1-5 /usr/local/bin/backup.sh`);
    expect(dry.stdout).toContain("\n+0 3 * * 1-5 ");
    expect(readFileSync(path, "utf8")).toBe(CRONTAB);
    expect(existsSync(backups)).toBe(false);

    const wrap = await runCli(["cron", "wrap", "--backup-dir", backups, "--crontab", path]);
    expect(wrap.code, wrap.stderr).toBe(0);
    expect(readFileSync(path, "utf8")).toMatch(/--job backup --expect-every 3d -- "\$SHELL" -c '\/usr\/local\/bin\/backup.sh --all >> \/var\/log\/backup.log 2>&1'\n$/);
    const info = statSync(path);
    expect([info.mode & 0o7777, info.uid, info.gid]).toEqual([0o640, 0, ATTACKER_GID]);
    expect((await runCli(["cron", "unwrap", "--backup-dir", backups, "--crontab", path])).code).toBe(0);
    expect(readFileSync(path, "utf8")).toBe(CRONTAB);
  });

  it("a crontab changed within the second before is rewritten in a later second: cron compares whole seconds and would keep the old entries", async () => {
    // Without the wait, most runs of a few hundred milliseconds land in the same second; three in a row all but surely do.
    for (let round = 0; round < 3; round++) {
      const path = place(`same-second-${round}.crontab`);
      const before = statSync(path).mtimeMs;
      const wrap = await runCli(["cron", "wrap", "--backup-dir", join(dir, `b-same-${round}`), "--crontab", path]);
      expect(wrap.code, wrap.stderr).toBe(0);
      expect(Math.floor(statSync(path).mtimeMs / 1000), `round ${round}`).not.toBe(Math.floor(before / 1000));
    }
  });

  it("refuses a link, a file another user can write or owns, and a directory another user can write: exit 2, nothing written", async () => {
    const target = place("target.crontab");
    const link = join(dir, "link.crontab");
    symlinkSync(target, link);
    const groupWritable = place("group-writable.crontab", CRONTAB, 0o620);
    chownSync(groupWritable, 0, ATTACKER_GID);
    const theirs = place("theirs.crontab", CRONTAB, 0o600);
    chownSync(theirs, ATTACKER_UID, ATTACKER_GID);
    const attacker = attackerDir("pushgw-cron-attacker-");
    try {
      asAttackerSh('printf "%s" "$2" > "$1/crontab" && chmod 644 "$1/crontab"', attacker.dir, CRONTAB);
      // Root's file, in a directory the attacker may rename files in.
      const inTheirDir = join(attacker.dir, "root.crontab");
      writeFileSync(inTheirDir, CRONTAB);
      for (const [path, why] of [
        [link, /is a symbolic link/],
        [groupWritable, /can be written by other users/],
        [theirs, /belongs to uid 64001/],
        [inTheirDir, /another user can replace files in/],
      ] as const) {
        const run = await runCli(["cron", "wrap", "--backup-dir", join(dir, "b2"), "--crontab", path]);
        expect(run.code, `${path}: ${run.stderr}`).toBe(2);
        expect(run.stderr).toMatch(why);
        expect(readFileSync(path, "utf8")).toBe(CRONTAB);
      }
      expect(readFileSync(target, "utf8")).toBe(CRONTAB);
      expect(existsSync(join(dir, "b2"))).toBe(false);
    } finally {
      attacker.cleanup();
    }
  });

  it("a write that fails is exit 1, saying what was written and what was not; the backup holds both as they were", async () => {
    const mount = mountTmpfs({ sizeKb: 64 });
    try {
      chmodSync(mount.dir, 0o755);
      const writable = place("writable.crontab");
      const stuck = join(mount.dir, "stuck.crontab");
      writeFileSync(stuck, "0 * * * * /usr/bin/hourly\n");
      chmodSync(stuck, 0o600);
      spawnSync("mount", ["-o", "remount,ro", mount.dir]);
      const backups = join(dir, "b3");
      const run = await runCli(["cron", "wrap", "--backup-dir", backups, "--crontab", writable, "--crontab", stuck]);
      expect(run.code, run.stderr).toBe(1);
      expect(run.stderr).toMatch(new RegExp(`not written: ${stuck} \\(.*read-only file system.*\\); written: ${writable}`));
      expect(readFileSync(stuck, "utf8")).toBe("0 * * * * /usr/bin/hourly\n");
      expect(readFileSync(writable, "utf8")).not.toBe(CRONTAB);
      const [saved] = readdirSync(backups);
      expect(readdirSync(join(backups, saved!)).sort()).toHaveLength(2);
    } finally {
      mount.unmount();
    }
  });

  it("an entry it cannot handle: exit 2 naming file and line, nothing written", async () => {
    const path = place("bad.crontab", "0 * * * * /bin/true\n# pushgw: job=two words\n0 3 * * * /bin/false\n61 * * * * /bin/x\n");
    const run = await runCli(["cron", "wrap", "--backup-dir", join(dir, "b4"), "--crontab", path]);
    expect(run.code).toBe(2);
    expect(run.stderr).toContain(`${path}:3: "# pushgw: job=two words"`);
    expect(run.stderr).toContain(`${path}:4: minute "61"`);
    expect(readFileSync(path, "utf8")).toContain("0 * * * * /bin/true\n");
    expect(existsSync(join(dir, "b4"))).toBe(false);
  });

  it("the backup goes only where no other user can write: a world-writable or another user's directory is refused, nothing changed; each run's copies are in a new 0700 directory", async () => {
    const path = place("secret.crontab", "PGPASSWORD=hunter2\n0 * * * * /usr/bin/psql -c 'select 1'\n");
    const before = readFileSync(path, "utf8");
    // In a directory another user can write to, they could swap the run's directory for a link (to /etc/cron.d).
    const shared = join(dir, "shared-backups");
    mkdirSync(shared, { mode: 0o777 });
    chmodSync(shared, 0o777);
    const theirs = join(dir, "attacker-backups");
    mkdirSync(theirs, { mode: 0o755 });
    chownSync(theirs, ATTACKER_UID, ATTACKER_GID);
    for (const refused of [shared, theirs]) {
      const run = await runCli(["cron", "wrap", "--backup-dir", refused, "--crontab", path]);
      expect(run.code, run.stderr).toBe(1);
      expect(run.stderr).toMatch(/the backup could not be saved in .*; nothing was changed/);
      expect(readdirSync(refused)).toEqual([]);
      expect(readFileSync(path, "utf8")).toBe(before);
    }
    const own = join(dir, "own-backups");
    mkdirSync(own, { mode: 0o755 });
    const run = await runCli(["cron", "wrap", "--backup-dir", own, "--crontab", path]);
    expect(run.code, run.stderr).toBe(0);
    const [made] = readdirSync(own);
    expect(statSync(join(own, made!)).mode & 0o777).toBe(0o700);
    const copy = join(own, made!, readdirSync(join(own, made!))[0]!);
    expect(readFileSync(copy, "utf8")).toContain("hunter2");
    expect(() => asAttackerSh('cat "$1"', copy)).toThrow(/Permission denied/);
  });
});
