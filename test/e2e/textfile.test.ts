import { spawnSync } from "node:child_process";
import { chmodSync, chownSync, existsSync, linkSync, lstatSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, statSync, symlinkSync, utimesSync, writeFileSync } from "node:fs";
import { hostname, tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { textfileName, renderTextfile, familiesOf } from "../../src/core/textfile.js";
import { parseExposition } from "../../src/core/exposition.js";
import { mountTmpfs } from "../helpers/mounts.js";
import { until } from "../helpers/poll.js";
import { startPushgateway } from "../helpers/pushgateway.js";
import { startNodeExporter, startPrometheus, type RunningNodeExporter, type RunningPrometheus } from "../helpers/prometheus.js";
import { runCli, startCli } from "../helpers/run-cli.js";
import { nodeExporterVersion } from "../helpers/versions.js";

const node = process.execPath;
const job = (name: string) => fileURLToPath(new URL(`../fixtures/jobs/${name}`, import.meta.url));
const rulesFile = fileURLToPath(new URL("../../alerting/pushgw.rules.yml", import.meta.url));
const tf = (dir: string) => ["--target", "textfile", "--textfile-dir", dir];

/** A textfile directory as an administrator makes one: 0755, this user's. */
function newDir(): string {
  const dir = mkdtempSync(join(tmpdir(), "pushgw-textfile-"));
  chmodSync(dir, 0o755);
  return dir;
}

const fileOf = (dir: string, jobName: string, ...labels: Array<[string, string]>) => join(dir, textfileName({ job: jobName, labels }));

/** Every sample in an exposition, node_exporter's own node_* and promhttp_* left out: `name{labels sorted}` → value. */
function samples(text: string): Record<string, number> {
  const found: Record<string, number> = {};
  for (const line of text.split("\n")) {
    if (line === "" || line.startsWith("#") || line.startsWith("node_") || line.startsWith("promhttp_")) continue;
    const match = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (!match) throw new Error(`not a sample line: ${line}`);
    const labels = [...(match[2] ?? "").matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g)].map((m) => `${m[1]}="${m[2]}"`).sort();
    found[`${match[1]}{${labels.join(",")}}`] = Number(match[3]!.replace("+Inf", "Infinity").replace("-Inf", "-Infinity"));
  }
  return found;
}

/** The samples of every `*.prom` file in `dir`: what node_exporter must show, exactly. */
function written(dir: string): Record<string, number> {
  return Object.assign({}, ...readdirSync(dir).filter((n) => n.endsWith(".prom")).map((n) => samples(readFileSync(join(dir, n), "utf8"))));
}

function withoutPushTimes(found: Record<string, number>): Record<string, number> {
  return Object.fromEntries(Object.entries(found).filter(([series]) => !series.startsWith("push_time_seconds{")));
}

function scrapeError(text: string): number {
  const match = /^node_textfile_scrape_error (\S+)$/m.exec(text);
  if (!match) throw new Error("node_exporter shows no node_textfile_scrape_error");
  return Number(match[1]);
}

/** A pid that no process has now (one that just ended). */
function deadPid(): number {
  const run = spawnSync(node, ["-e", "process.stdout.write(String(process.pid))"], { encoding: "utf8" });
  return Number(run.stdout);
}

describe("--target textfile, read by the real node_exporter", () => {
  let dir: string;
  let exporter: RunningNodeExporter;
  beforeAll(async () => {
    dir = newDir();
    exporter = await startNodeExporter(dir);
  });
  afterAll(async () => {
    await exporter?.stop();
  });

  /** node_exporter's /metrics shows exactly what the files hold, and no scrape error. */
  const expectExported = async (): Promise<Record<string, number>> => {
    const text = await exporter.metrics();
    expect(scrapeError(text)).toBe(0);
    expect(samples(text)).toEqual(written(dir));
    return samples(text);
  };

  it("push, add, push again, delete: node_exporter shows exactly the group each time", async () => {
    const before = Date.now() / 1000;
    let run = await runCli(["push", ...tf(dir), "-j", "backup", "-i", "box-1", "-t", "gauge", "--help-text", "Bytes.", "backup_size_bytes=1.2e9", 'rows{table="a"}=3']);
    expect(run).toMatchObject({ code: 0, stdout: "", stderr: "" });
    const file = fileOf(dir, "backup", ["instance", "box-1"]);
    expect(statSync(file).mode & 0o777).toBe(0o644);
    let shown = await expectExported();
    expect(withoutPushTimes(shown)).toEqual({
      'backup_size_bytes{instance="box-1",job="backup"}': 1.2e9,
      'rows{instance="box-1",job="backup",table="a"}': 3,
    });
    expect(shown['push_time_seconds{instance="box-1",job="backup"}']).toBeGreaterThanOrEqual(Math.floor(before));
    expect(await exporter.metrics()).toContain("# HELP backup_size_bytes Bytes.\n# TYPE backup_size_bytes gauge\n");

    // add replaces the families it sends (all of rows) and keeps the others.
    run = await runCli(["add", ...tf(dir), "-j", "backup", "-i", "box-1", 'rows{table="b"}=4']);
    expect(run).toMatchObject({ code: 0, stderr: "" });
    shown = await expectExported();
    expect(withoutPushTimes(shown)).toEqual({
      'backup_size_bytes{instance="box-1",job="backup"}': 1.2e9,
      'rows{instance="box-1",job="backup",table="b"}': 4,
    });

    // push replaces the whole group.
    run = await runCli(["push", ...tf(dir), "-j", "backup", "-i", "box-1", "other=1"]);
    expect(run.code).toBe(0);
    expect(withoutPushTimes(await expectExported())).toEqual({ 'other{instance="box-1",job="backup"}': 1 });

    run = await runCli(["delete", ...tf(dir), "-j", "backup", "-i", "box-1"]);
    expect(run).toMatchObject({ code: 0, stderr: "" });
    expect(existsSync(file)).toBe(false);
    expect(await expectExported()).toEqual({});
    // Nothing of pushgw's is left beside the files: no temporary file, no lock.
    expect(readdirSync(dir)).toEqual([]);
  });

  it("wrap: the outcome replaces wrap's families; a failed run keeps the last success; the job's own metrics and a nested add join", async () => {
    const env = { PATH: process.env["PATH"] ?? "/usr/bin:/bin", PUSHGW_TARGET: "textfile", PUSHGW_TEXTFILE_DIR: dir };
    let run = await runCli(["wrap", "-j", "nightly", "-i", "box-1", "--expect-every", "1d", "--", node, job("write-metrics.mjs"), "records_total 12", "0"], { env });
    expect(run).toMatchObject({ code: 0, stderr: "" });
    let shown = await expectExported();
    const success = shown['job_last_success_timestamp_seconds{instance="box-1",job="nightly"}'];
    expect(success).toBeGreaterThan(0);
    expect(shown).toMatchObject({ 'job_success{instance="box-1",job="nightly"}': 1, 'job_running{instance="box-1",job="nightly"}': 0, 'records_total{instance="box-1",job="nightly"}': 12, 'job_expected_interval_seconds{instance="box-1",job="nightly"}': 86400 });

    run = await runCli(["wrap", "-j", "nightly", "-i", "box-1", "--expect-every", "1d", "--", node, job("exit.mjs"), "3"], { env });
    expect(run.code).toBe(3);
    shown = await expectExported();
    expect(shown).toMatchObject({
      'job_success{instance="box-1",job="nightly"}': 0,
      'job_exit_code{instance="box-1",job="nightly"}': 3,
      'job_last_success_timestamp_seconds{instance="box-1",job="nightly"}': success,
      // The job's own metrics of the earlier run stay too, as on the gateway (POST).
      'records_total{instance="box-1",job="nightly"}': 12,
    });
    expect(shown['job_last_failure_timestamp_seconds{instance="box-1",job="nightly"}']).toBeGreaterThanOrEqual(success!);

    // A pushgw add inside the job, with no flags, goes through the wrapper into the same file.
    run = await runCli(["wrap", "-j", "nightly", "-i", "box-1", "--", node, job("nested-add.mjs"), "records_seen=77"], { env });
    expect(run).toMatchObject({ code: 0, stderr: "" });
    expect(await expectExported()).toMatchObject({ 'records_seen{instance="box-1",job="nightly"}': 77, 'job_success{instance="box-1",job="nightly"}': 1 });
  });

  it("a nested add that another file's series refuses exits 2 in the job, as it would outside (bad input, nothing written)", async () => {
    const env = { PATH: process.env["PATH"] ?? "/usr/bin:/bin", PUSHGW_TARGET: "textfile", PUSHGW_TEXTFILE_DIR: dir };
    expect((await runCli(["push", ...tf(dir), "-j", "nested-clash", "-i", "box-1", 'rows{table="a"}=1'])).code).toBe(0);
    const run = await runCli(["wrap", "-j", "nested-clash", "--no-instance", "--", node, job("nested-add.mjs"), 'rows{table="a",instance="box-1"}=9'], { env });
    expect(run.stderr).toContain('the series rows{instance="box-1",job="nested-clash",table="a"} is already in');
    expect(run.code).toBe(2);
    expect(await expectExported()).toMatchObject({ 'rows{instance="box-1",job="nested-clash",table="a"}': 1 });
  });

  it("list and prune work on the directory, by the push time the file holds, not its mtime; other files are left alone", async () => {
    const place = newDir();
    const now = Date.now();
    const write = (jobName: string, pushedAtMs: number) => {
      const key = { job: jobName, labels: [] };
      const families = familiesOf(parseExposition("m 1\n", { name: "t" }, { collectSamples: true }), key);
      writeFileSync(join(place, textfileName(key)), renderTextfile(key, families, pushedAtMs), { mode: 0o644 });
    };
    write("old", now - 3 * 3600_000); // pushed three hours ago, touched just now
    write("fresh", now - 60_000);
    const hour = (now - 2 * 3600_000) / 1000;
    utimesSync(fileOf(place, "fresh"), hour, hour); // pushed a minute ago, mtime two hours ago
    writeFileSync(join(place, "apt.prom"), "apt_upgrades_pending 3\n");
    writeFileSync(join(place, "pushgw-job=x-0123456789abcdef.prom"), "not_ours 1\n");

    const list = await runCli(["list", ...tf(place), "--json"]);
    expect(list.code).toBe(0);
    expect(JSON.parse(list.stdout)).toEqual([
      { labels: { job: "fresh" }, lastPushTime: (now - 60_000) / 1000, lastPushSuccessful: true, metrics: ["m"], lastRun: null },
      { labels: { job: "old" }, lastPushTime: (now - 3 * 3600_000) / 1000, lastPushSuccessful: true, metrics: ["m"], lastRun: null },
    ]);
    const table = await runCli(["list", ...tf(place)]);
    expect(table.stdout).toMatch(/^fresh\s+-\s+1m ago\s+ok\s+1$/m);

    const prune = await runCli(["prune", ...tf(place), "--older-than", "1h", "--yes"]);
    expect(prune).toMatchObject({ code: 0 });
    expect(prune.stderr).toContain("prune: deleted 1 group(s)");
    expect(readdirSync(place).sort()).toEqual(["apt.prom", textfileName({ job: "fresh", labels: [] }), "pushgw-job=x-0123456789abcdef.prom"].sort());
  });

  it("30 wraps of one job at once lose no update (a lock per file), and so do 30 adds", async () => {
    const wraps = await Promise.all(
      Array.from({ length: 30 }, (_, i) => runCli(["wrap", ...tf(dir), "-j", "race", "--no-instance", "--", node, job("write-metrics.mjs"), `own_${i} ${i}`], { timeoutMs: 120_000 })),
    );
    for (const run of wraps) expect(run).toMatchObject({ code: 0, stderr: "" });
    const adds = await Promise.all(Array.from({ length: 30 }, (_, i) => runCli(["add", ...tf(dir), "-j", "race", "--no-instance", `added_${i}=${i}`], { timeoutMs: 120_000 })));
    for (const run of adds) expect(run).toMatchObject({ code: 0, stderr: "" });
    const shown = await expectExported();
    for (let i = 0; i < 30; i++) {
      expect(shown[`own_${i}{job="race"}`], `own_${i}`).toBe(i);
      expect(shown[`added_${i}{job="race"}`], `added_${i}`).toBe(i);
    }
    expect(shown['job_running{job="race"}']).toBe(0);
    expect(readdirSync(dir).filter((n) => n.startsWith("."))).toEqual([]);
  }, 180_000);

  it("refuses (exit 2, nothing written) a series another file already has, naming it; node_exporter keeps the other", async () => {
    expect((await runCli(["push", ...tf(dir), "-j", "clash", "-i", "box-1", 'rows{table="a"}=1'])).code).toBe(0);
    const other = textfileName({ job: "clash", labels: [["instance", "box-1"]] });
    // Another group of the job, whose sample carries the same instance label itself.
    const run = await runCli(["add", ...tf(dir), "-j", "clash", "--no-instance", 'rows{table="a",instance="box-1"}=9']);
    expect(run.code).toBe(2);
    expect(run.stderr).toContain(`the series rows{instance="box-1",job="clash",table="a"} is already in ${other}`);
    expect(existsSync(fileOf(dir, "clash"))).toBe(false);
    expect(await expectExported()).toMatchObject({ 'rows{instance="box-1",job="clash",table="a"}': 1 });
  });

  it("refuses a family whose TYPE or HELP differs from another file's (a file pushgw did not write, too)", async () => {
    writeFileSync(join(dir, "apt.prom"), "# HELP apt_upgrades_pending Apt packages pending updates.\n# TYPE apt_upgrades_pending gauge\napt_upgrades_pending 2\n");
    let run = await runCli(["add", ...tf(dir), "-j", "apt", "-t", "counter", "apt_upgrades_pending=1"]);
    expect(run.code).toBe(2);
    expect(run.stderr).toContain("metric apt_upgrades_pending is a counter here but a gauge in apt.prom");
    run = await runCli(["add", ...tf(dir), "-j", "apt", "-t", "gauge", "--help-text", "Pending.", "apt_upgrades_pending=1"]);
    expect(run.code).toBe(2);
    expect(run.stderr).toContain('metric apt_upgrades_pending has the HELP "Pending." here but "Apt packages pending updates." in apt.prom');
    run = await runCli(["add", ...tf(dir), "-j", "apt", "-t", "gauge", "--help-text", "Apt packages pending updates.", "apt_upgrades_pending=1"]);
    expect(run).toMatchObject({ code: 0, stderr: "" });
    expect(await expectExported()).toMatchObject({ [`apt_upgrades_pending{instance="${hostname()}",job="apt"}`]: 1, "apt_upgrades_pending{}": 2 });
  });
});

describe("the issue's cron line: node_exporter gets the same metrics a Pushgateway would", () => {
  it("a success then a failure, wrapped the same way into both: the same series, the same outcome values", async () => {
    const place = newDir();
    const [exporter, gw] = await Promise.all([startNodeExporter(place), startPushgateway()]);
    try {
      for (const code of ["0", "5"]) {
        const line = ["--job", "backup", "-i", "box-1", "--expect-every", "1d", "--", node, job("write-metrics.mjs"), "backup_files_total 42", code];
        expect((await runCli(["wrap", "--target", "textfile", "--textfile-dir", place, ...line])).code).toBe(Number(code));
        expect((await runCli(["wrap", "-g", gw.url, ...line])).code).toBe(Number(code));
      }
      const fromGateway = samples((await (await fetch(`${gw.url}/metrics`)).text()).split("\n").filter((l) => /^(job_|backup_|push_time_seconds)/.test(l)).join("\n"));
      const fromExporter = samples(await exporter.metrics());
      // What a run cost is measured anew by each run (and a short job's memory may go unsampled).
      const measured = /_cpu_|_max_rss_/;
      const keys = (found: Record<string, number>) => Object.keys(found).filter((k) => !measured.test(k)).sort();
      expect(keys(fromExporter)).toEqual(keys(fromGateway));
      const timeless = (found: Record<string, number>) => Object.fromEntries(Object.entries(found).filter(([k]) => !/timestamp|duration|push_time/.test(k) && !measured.test(k)));
      expect(timeless(fromExporter)).toEqual(timeless(fromGateway));
      expect(timeless(fromExporter)).toMatchObject({ 'job_success{instance="box-1",job="backup"}': 0, 'job_exit_code{instance="box-1",job="backup"}': 5, 'backup_files_total{instance="box-1",job="backup"}': 42 });
    } finally {
      await Promise.all([exporter.stop(), gw.stop()]);
    }
  });
});

describe("what node_exporter does with files that conflict (why pushgw refuses them)", () => {
  it("drops the later file's series that clash (1.5.0 with no scrape error at all, 1.11.1 with one for the HELP clash only): a job's metrics vanish", async () => {
    const place = newDir();
    writeFileSync(join(place, "a.prom"), '# HELP m One.\nm{job="x"} 1\nsame{job="x"} 1\n# TYPE h summary\nh_sum 1\nh_count 1\n');
    writeFileSync(join(place, "b.prom"), '# HELP m Two.\nm{job="y"} 2\nsame{job="x",instance=""} 2\nh_sum{k="v"} 3\n');
    const exporter = await startNodeExporter(place);
    try {
      const text = await exporter.metrics();
      // node_exporter 1.11.1 sets the scrape error for the HELP clash between the files; 1.5.0
      // sets none, whatever it dropped. Neither does for the series dropped below.
      const since111 = nodeExporterVersion().atLeast("1.11.0");
      expect(scrapeError(text)).toBe(since111 ? 1 : 0);
      const shown = samples(text);
      expect(shown['m{job="x"}']).toBe(1);
      expect(shown['m{job="y"}']).toBeUndefined(); // another HELP: dropped
      expect(shown['h_sum{k="v"}']).toBeUndefined(); // named like a summary's series: dropped
      // Kept by node_exporter, but the same series to Prometheus (an empty label is none).
      expect(shown['same{job="x"}']).toBe(1);
      expect(shown['same{instance="",job="x"}']).toBe(2);
      // 1.11.1: 'msg="inconsistent metric help text" … metric=m original_help_text=One. new_help_text=Two.'
      // 1.5.0: 'has help "Two." but should have "One."'
      expect(exporter.log()).toMatch(since111 ? /inconsistent metric help text.* metric=m original_help_text=One\. new_help_text=Two\./ : /has help \W*Two\.\W* but should have \W*One\./);
    } finally {
      await exporter.stop();
    }
  });
});

describe("hostile directories and files", () => {
  const mounts: Array<() => void> = [];
  afterEach(() => {
    for (const unmount of mounts.splice(0)) unmount();
  });

  it.each<[string, (dir: string) => string, RegExp]>([
    ["writable by others", (d) => (chmodSync(d, 0o777), d), /is writable by others \(mode 0777\)/],
    ["writable by its group", (d) => (chmodSync(d, 0o775), d), /is writable by its group \(mode 0775\)/],
    ["a symbolic link", (d) => (mkdirSync(join(d, "real"), { mode: 0o755 }), symlinkSync(join(d, "real"), join(d, "link")), join(d, "link")), /is a symbolic link/],
    ["another user's", (d) => (chownSync(d, 65534, 65534), d), /belongs to uid 65534, not to uid 0 running pushgw/],
    ["below a parent others may write (no sticky bit)", (d) => (chmodSync(d, 0o777), mkdirSync(join(d, "tf"), { mode: 0o755 }), join(d, "tf")), /its parent .* is writable by others without the sticky bit/],
    ["missing", (d) => join(d, "missing"), /no such directory/],
    ["a file", (d) => (writeFileSync(join(d, "file"), ""), join(d, "file")), /is not a directory/],
  ])("a directory %s is refused before the job runs (exit 2), and nothing is made", async (_, make, message) => {
    const place = newDir();
    const target = make(place);
    const marker = join(newDir(), "ran");
    const run = await runCli(["wrap", ...tf(target), "-j", "hostile", "--", "sh", "-c", `touch ${marker}`]);
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(message);
    expect(existsSync(marker)).toBe(false);
    if (existsSync(target) && statSync(target).isDirectory()) expect(readdirSync(target)).toEqual([]);
  });

  it.each<[string, (path: string, outside: string) => void, RegExp]>([
    ["a symbolic link to a file elsewhere", (path, outside) => symlinkSync(outside, path), /is a symbolic link/],
    ["a hard link to a file elsewhere", (path, outside) => linkSync(outside, path), /it has 2 names \(hard links\)/],
    ["another user's file", (path) => (writeFileSync(path, "x 1\n"), chownSync(path, 65534, 65534)), /belongs to uid 65534/],
    ["a FIFO", (path) => spawnSync("mkfifo", [path]), /is not a regular file/],
  ])("a group's file that is %s is left alone: push, add and delete refuse (exit 1), and nothing is written through it", async (_, plant, message) => {
    const place = newDir();
    const outside = join(newDir(), "victim");
    writeFileSync(outside, "secret 1\n");
    const path = fileOf(place, "planted");
    plant(path, outside);
    for (const command of [["push", "m=1"], ["add", "m=1"], ["delete"]]) {
      const run = await runCli([command[0]!, ...tf(place), "-j", "planted", "--no-instance", ...command.slice(1)]);
      expect(run.code, command[0]).toBe(1);
      expect(run.stderr).toMatch(message);
      expect(run.stderr).not.toContain("secret");
    }
    expect(readFileSync(outside, "utf8")).toBe("secret 1\n");
    expect(() => lstatSync(path)).not.toThrow();
    expect(readdirSync(place).filter((n) => n.startsWith("."))).toEqual([]);
  });

  it("other files that are links or FIFOs are left out of the checks, never opened through or waited on", async () => {
    const place = newDir();
    const outside = join(newDir(), "victim.prom");
    writeFileSync(outside, "m 5\n");
    symlinkSync(outside, join(place, "linked.prom"));
    spawnSync("mkfifo", [join(place, "fifo.prom")]);
    const run = await runCli(["add", ...tf(place), "-j", "near", "--no-instance", "-v", "m=1"], { timeoutMs: 10_000 });
    expect(run.code).toBe(0);
    expect(run.stderr).toContain("linked.prom is left out of the check against the directory's other files: it is a symbolic link");
    expect(run.stderr).toContain("fifo.prom is left out of the check against the directory's other files: it is not a regular file");
  });

  it("other files holding more than 256 MiB together are not all read: exit 1 saying so, nothing written (each is under the 64 MiB per file)", async () => {
    const place = newDir();
    // Sparse files: 300 MiB the run would read, no disk spent.
    for (let i = 0; i < 5; i += 1) spawnSync("truncate", ["-s", "60M", join(place, `big-${i}.prom`)]);
    const run = await runCli(["add", ...tf(place), "-j", "budget", "--no-instance", "m=1"]);
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(/its \*\.prom files hold more than 268435456 bytes \(256 MiB\) together; .* stopped at big-4\.prom/);
    expect(existsSync(fileOf(place, "budget"))).toBe(false);
  });

  it("what a killed pushgw left (its temporary file, its lock, a lock token) is removed by the next write, and its lock taken over", async () => {
    const place = newDir();
    const dead = deadPid();
    const name = textfileName({ job: "crashed", labels: [] });
    writeFileSync(join(place, `.pushgw-tmp-${dead}-123-abcdef`), "half a fi");
    writeFileSync(join(place, `.${name}.lock`), `${dead} 123 abcdef`);
    writeFileSync(join(place, ".tmp-0123456789abcdef01234567"), `${dead} 123 fedcba`);
    const old = (Date.now() - 60_000) / 1000;
    utimesSync(join(place, ".tmp-0123456789abcdef01234567"), old, old);
    const run = await runCli(["add", ...tf(place), "-j", "crashed", "--no-instance", "m=1"]);
    expect(run).toMatchObject({ code: 0, stderr: "" });
    expect(readdirSync(place)).toEqual([name]);
  });

  it("a lock held by a live process makes the write wait, then fail after (--retries + 1) × --timeout (exit 1), the file untouched", async () => {
    const place = newDir();
    expect((await runCli(["push", ...tf(place), "-j", "held", "--no-instance", "m=1"])).code).toBe(0);
    const name = textfileName({ job: "held", labels: [] });
    const before = readFileSync(join(place, name), "utf8");
    // This test's own process holds it: a live pid with its real start time.
    const stat = readFileSync(`/proc/${process.pid}/stat`, "utf8");
    const start = stat.slice(stat.lastIndexOf(")") + 2).split(" ")[19];
    writeFileSync(join(place, `.${name}.lock`), `${process.pid} ${start} 0123abcd`);
    const run = await runCli(["add", ...tf(place), "-j", "held", "--no-instance", "--timeout", "1s", "--retries", "1", "m=2"]);
    expect(run.code).toBe(1);
    expect(run.stderr).toContain(`another pushgw (pid ${process.pid}) held its lock for longer than 2000 ms`);
    expect(readFileSync(join(place, name), "utf8")).toBe(before);
  });

  it("a wrapper killed with SIGKILL while its job runs leaves the start push (job_running 1) and nothing else", async () => {
    const place = newDir();
    const { child, done } = startCli(["wrap", ...tf(place), "-j", "killed", "--no-instance", "--", node, job("sleep.mjs"), "2000"]);
    const file = fileOf(place, "killed");
    // The start push is done once its file is in place and its lock is gone (a kill between the
    // two leaves a dead holder's lock, which the next write takes over: not this test's case).
    const lock = join(place, `.${textfileName({ job: "killed", labels: [] })}.lock`);
    for (let i = 0; i < 100 && !(existsSync(file) && !existsSync(lock)); i++) await new Promise((r) => setTimeout(r, 50));
    child.kill("SIGKILL");
    await done;
    expect(samples(readFileSync(file, "utf8"))).toMatchObject({ 'job_running{job="killed"}': 1 });
    expect(readdirSync(place)).toEqual([textfileName({ job: "killed", labels: [] })]);
  });

  it("the file is 0644 whatever the umask: node_exporter runs as another user", async () => {
    const place = newDir();
    const run = spawnSync("sh", ["-c", `umask 077; exec "$0" "$@"`, node, fileURLToPath(new URL("../../bin/pushgw", import.meta.url)), "add", ...tf(place), "-j", "umask", "--no-instance", "m=1"], { encoding: "utf8" });
    expect(run.status).toBe(0);
    expect(statSync(fileOf(place, "umask")).mode & 0o777).toBe(0o644);
  });

  it("on a full disk: exit 1 saying so, nothing left behind; wrap keeps the job's status", async () => {
    const mount = mountTmpfs({ full: true });
    mounts.push(mount.unmount);
    const place = join(mount.dir, "inodes");
    chmodSync(place, 0o755);
    const before = readdirSync(place);
    const run = await runCli(["add", ...tf(place), "-j", "full", "--no-instance", "m=1"]);
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(/ENOSPC/);
    expect(readdirSync(place)).toEqual(before);
    const wrap = await runCli(["wrap", ...tf(place), "-j", "full", "--no-instance", "--", node, job("exit.mjs"), "0"]);
    expect(wrap.code).toBe(0);
    expect(wrap.stderr).toMatch(/was not pushed[\s\S]*ENOSPC/);
    expect(readdirSync(place)).toEqual(before);
  });

  it("on a read-only file system: exit 1 saying so", async () => {
    const mount = mountTmpfs({ readOnly: true });
    mounts.push(mount.unmount);
    const run = await runCli(["add", ...tf(mount.dir), "-j", "ro", "--no-instance", "m=1"]);
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(/EROFS[\s\S]*hint: the file system is mounted read-only/);
  });
});

describe("flags", () => {
  it.each<[string[], Record<string, string>, RegExp]>([
    [["push", "--target", "textfile", "-j", "x", "m=1"], {}, /--target textfile needs --textfile-dir DIR \(or PUSHGW_TEXTFILE_DIR\)/],
    [["push", "--textfile-dir", "/tmp", "-j", "x", "m=1"], {}, /--textfile-dir is for --target textfile \(the target is pushgateway\)/],
    [["push", "--target", "textfile", "--textfile-dir", "/tmp", "-g", "http://gw:9091", "-j", "x", "m=1"], {}, /--gateway and --target textfile/],
    [["push", "-j", "x", "--spool", "/tmp/s", "m=1"], { PUSHGW_TARGET: "textfile", PUSHGW_TEXTFILE_DIR: "/tmp" }, /--spool works with --target pushgateway only \(not textfile\)/],
  ])("%j %j: exit 2", async (argv, env, message) => {
    const run = await runCli(argv, { env });
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(message);
  });

  it("--dry-run prints the file that would be written, and writes nothing", async () => {
    const place = newDir();
    const run = await runCli(["add", ...tf(place), "-j", "dry", "--no-instance", "--dry-run", "m=1"]);
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(new RegExp(`^POST ${place}/${textfileName({ job: "dry", labels: [] }).replace(/[.]/g, "\\.")}\n\\(these families replace theirs in the file, the others stay\\)\n\n# Written by pushgw`));
    expect(run.stdout).toContain('\nm{job="dry"} 1');
    expect(readdirSync(place)).toEqual([]);
  });
});

describe("through a real Prometheus scraping node_exporter", () => {
  let dir: string;
  let exporter: RunningNodeExporter;
  let prometheus: RunningPrometheus;
  beforeAll(async () => {
    dir = newDir();
    exporter = await startNodeExporter(dir);
    prometheus = await startPrometheus(undefined, [rulesFile], [
      { job: "node", target: exporter.address, honorLabels: false },
      { job: "node-honored", target: exporter.address, honorLabels: true },
    ]);
  }, 30_000);
  afterAll(async () => {
    await prometheus?.stop();
    await exporter?.stop();
  });

  const series = async (expr: string, count: number) => (await until(() => prometheus.query(expr), (r) => r.data.result.length >= count)).data.result.map((r) => r.metric);

  it("honor_labels keeps the job and instance pushgw wrote (--no-instance: the node's own); without it they become exported_job and exported_instance", async () => {
    expect((await runCli(["wrap", ...tf(dir), "-j", "scraped", "-i", "box-1", "--", node, job("exit.mjs"), "3"])).code).toBe(3);
    expect((await runCli(["wrap", ...tf(dir), "-j", "bare", "--no-instance", "--", node, job("exit.mjs"), "0"])).code).toBe(0);
    const canonical = (labels: Record<string, string>) => JSON.stringify(Object.entries(labels).sort());
    const sort = (list: Array<Record<string, string>>) => [...list].sort((a, b) => canonical(a).localeCompare(canonical(b)));
    expect(sort(await series("job_exit_code", 4))).toEqual(
      sort([
        { __name__: "job_exit_code", job: "scraped", instance: "box-1" },
        { __name__: "job_exit_code", job: "bare", instance: exporter.address },
        { __name__: "job_exit_code", job: "node", instance: exporter.address, exported_job: "scraped", exported_instance: "box-1" },
        { __name__: "job_exit_code", job: "node", instance: exporter.address, exported_job: "bare" },
      ]),
    );
  }, 40_000);

  it("the shipped alert rules work unchanged on the honored scrape: a failed job fires PushgwJobFailed with its own job and instance", async () => {
    expect((await runCli(["wrap", ...tf(dir), "-j", "alerted", "-i", "box-2", "--", node, job("exit.mjs"), "4"])).code).toBe(4);
    const firing = (list: Awaited<ReturnType<RunningPrometheus["alerts"]>>) =>
      list.filter((a) => a.labels["alertname"] === "PushgwJobFailed" && a.state === "firing" && (a.labels["job"] === "alerted" || a.labels["exported_job"] === "alerted"));
    const alerts = firing(await until(() => prometheus.alerts(), (list) => firing(list).length >= 2));
    // Honored: the job's own labels. Not honored: the scrape's job, pushgw's as exported_job.
    expect(alerts.map((a) => [a.labels["job"], a.labels["instance"]]).sort()).toEqual([
      ["alerted", "box-2"],
      ["node", exporter.address],
    ]);
  }, 40_000);
});

describe("a reader never sees a half-written file", () => {
  it("node_exporter reading while a 100,000-series push replaces the file finds the old file or the new, whole", async () => {
    const dir = newDir();
    const file = fileOf(dir, "big", ["instance", "box-1"]);
    expect((await runCli(["push", ...tf(dir), "-j", "big", "-i", "box-1", "old_marker=1"])).code).toBe(0);
    const old = readFileSync(file, "utf8");
    const series = Array.from({ length: 100_000 }, (_, i) => `rows{n="${i}"} ${i}`).join("\n") + "\nnew_marker 1\n";
    const { done } = startCli(["push", ...tf(dir), "-j", "big", "-i", "box-1", "-f", "-"], { input: series });
    // Read as fast as the event loop allows while pushgw writes; every read must be one whole version.
    let finished = false;
    void done.then(() => (finished = true));
    let oldReads = 0;
    const otherReads = new Set<string>();
    while (!finished) {
      const text = readFileSync(file, "utf8");
      if (text === old) oldReads++;
      else otherReads.add(text);
      await new Promise((r) => setImmediate(r));
    }
    expect((await done).code).toBe(0);
    const final = readFileSync(file, "utf8");
    expect(final).toContain('rows{job="big",instance="box-1",n="99999"} 99999\nnew_marker{job="big",instance="box-1"} 1\n');
    // Whatever was read that was not the old file was the new one, whole: never a prefix of it.
    expect([...otherReads].map((text) => (text === final ? "new" : `torn at ${text.length} of ${final.length} bytes`))).toEqual(otherReads.size === 0 ? [] : ["new"]);
    expect(oldReads).toBeGreaterThan(0);
  });
});
