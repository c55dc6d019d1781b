import { execFile } from "node:child_process";
import { promisify } from "node:util";
import { closeSync, existsSync, lstatSync, mkdtempSync, mkdirSync, openSync, readFileSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startFaultProxy } from "../helpers/fault-proxy.js";
import { family, familyNames, findGroup, readGroups, startPushgateway, type GatewayGroup, type RunningGateway } from "../helpers/pushgateway.js";
import { BIN, NODE, runCli, startCli, testRuntimeDir } from "../helpers/run-cli.js";

let gw: RunningGateway;
let env: Record<string, string>;
const tmp = mkdtempSync(join(tmpdir(), "pushgw-wrap-"));
const job = (name: string) => fileURLToPath(new URL(`../fixtures/jobs/${name}`, import.meta.url));
const node = process.execPath;

beforeAll(async () => {
  gw = await startPushgateway();
  env = { PUSHGW_GATEWAY: gw.url };
});
afterAll(async () => {
  await gw?.stop();
});

const wrap = (name: string, flags: string[], command: string[]) => runCli(["wrap", "-j", name, "--no-instance", ...flags, "--", ...command], { env });
const group = async (name: string): Promise<GatewayGroup | undefined> => findGroup(await readGroups(gw.url), { job: name });
const value = (g: GatewayGroup | undefined, metric: string): number | undefined => {
  const v = family(g, metric)?.metrics[0]?.value;
  return v === undefined ? undefined : Number(v);
};

describe("the job runs as if unwrapped", () => {
  it("passes stdout, stderr and a success through, and pushes the outcome", async () => {
    const before = Date.now() / 1000;
    const run = await wrap("ok", [], [node, job("exit.mjs"), "0", "to stdout", "to stderr"]);
    const after = Date.now() / 1000;
    expect(run).toMatchObject({ code: 0, stdout: "to stdout\n", stderr: "to stderr\n" });
    const g = await group("ok");
    // The peak memory is there when a sample caught the short job (wrap-cost.test.ts).
    expect(familyNames(g!).filter((name) => name !== "job_last_max_rss_bytes")).toEqual([
      "job_duration_seconds",
      "job_exit_code",
      "job_last_completion_timestamp_seconds",
      "job_last_cpu_system_seconds",
      "job_last_cpu_user_seconds",
      "job_last_start_timestamp_seconds",
      "job_last_success_timestamp_seconds",
      "job_running",
      "job_success",
    ]);
    expect(value(g, "job_running")).toBe(0);
    expect(value(g, "job_success")).toBe(1);
    expect(value(g, "job_exit_code")).toBe(0);
    expect(value(g, "job_last_start_timestamp_seconds")).toBeGreaterThanOrEqual(Math.floor(before));
    expect(value(g, "job_last_success_timestamp_seconds")).toBeLessThanOrEqual(after + 1);
    expect(value(g, "job_last_completion_timestamp_seconds")).toBe(value(g, "job_last_success_timestamp_seconds"));
    expect(family(g, "job_success")?.type).toBe("GAUGE");
  });

  it("measures the duration", async () => {
    const before = Date.now();
    await wrap("slept", [], [node, job("sleep.mjs"), "400"]);
    const wall = (Date.now() - before) / 1000;
    const duration = value(await group("slept"), "job_duration_seconds")!;
    expect(duration).toBeGreaterThanOrEqual(0.4);
    // Seconds, not milliseconds: no longer than the whole wrapper run the test saw.
    expect(duration).toBeLessThanOrEqual(wall);
  });

  it("a failure after a success keeps the success timestamp (POST, never PUT)", async () => {
    await wrap("flaky", [], [node, job("exit.mjs"), "0"]);
    const success = value(await group("flaky"), "job_last_success_timestamp_seconds");
    const run = await wrap("flaky", [], [node, job("exit.mjs"), "3", "", "it broke"]);
    expect(run.code).toBe(3);
    expect(run.stderr).toMatch(/^it broke\npushgw: \{job="flaky"\}: the job failed with exit status 3 after \d+m?s\n$/);
    const g = await group("flaky");
    expect(value(g, "job_last_success_timestamp_seconds")).toBe(success);
    expect(value(g, "job_success")).toBe(0);
    expect(value(g, "job_exit_code")).toBe(3);
    expect(value(g, "job_last_failure_timestamp_seconds")).toBeGreaterThanOrEqual(success!);
  });
});

describe("every exit path", () => {
  it.each([
    ["exit 42", [node, job("exit.mjs"), "42"], 42, /^pushgw: \{job="exit-exit_42"\}: the job failed with exit status 42/],
    ["killed by SIGKILL", [node, job("self-kill.mjs"), "SIGKILL"], 137, /the job was killed by SIGKILL: exit status 137/],
    ["killed by SIGTERM", [node, job("self-kill.mjs"), "SIGTERM"], 143, /the job was killed by SIGTERM: exit status 143/],
    ["not found", ["/nonexistent/backup.sh"], 127, /^pushgw: wrap: cannot run \/nonexistent\/backup\.sh: no such file/],
    ["a directory", [tmp], 126, /^pushgw: wrap: cannot run .*: permission denied/],
    // Node throws these at the spawn itself (not so ENOENT and EACCES): the wrapper once waited
    // for the stand-in pipes execa made, ended with 0 and pushed no outcome.
    ["a path through a file", [`${job("exit.mjs")}/run`], 126, /^pushgw: wrap: cannot run .*exit\.mjs\/run: a part of its path is a file, not a directory \(ENOTDIR\)/],
    ["a loop of symbolic links", [join(tmp, "loop")], 126, /^pushgw: wrap: cannot run .*loop: its path goes round a loop of symbolic links \(ELOOP\)/],
  ])("%s: the wrapper exits with it and pushes it as job_exit_code", async (name, command, expected, says) => {
    if (!lstatSync(join(tmp, "loop"), { throwIfNoEntry: false })) symlinkSync("loop", join(tmp, "loop"));
    const jobName = `exit-${name.replace(/\W/g, "_")}`;
    const run = await wrap(jobName, [], command);
    expect(run.code).toBe(expected);
    const g = await group(jobName);
    expect(value(g, "job_exit_code")).toBe(expected);
    expect(value(g, "job_success")).toBe(0);
    expect(run.stderr).toMatch(says);
  });

  it("a start failure without words of pushgw's own is said as execa says it, the command escaped (scripts/esbuild-edits.mjs takes a shortcut there)", async () => {
    // A file open for writing cannot be run (ETXTBSY). Its name holds a tab and a line
    // separator (U+2028), an argument a tab: execa writes them escaped; plain arguments go as they are.
    const file = join(tmp, "busy\tjob\u2028.sh");
    writeFileSync(file, "#!/bin/sh\n", { mode: 0o755 });
    const held = openSync(file, "r+");
    try {
      const run = await wrap("busy", [], [file, "plain-arg", "two words", "tab\there"]);
      expect(run.code).toBe(126);
      expect(run.stderr).toContain(`Command failed with ETXTBSY: '${tmp}/busy\\tjob\\u2028.sh' plain-arg 'two words' 'tab\\there'`);
      expect(value(await group("busy"), "job_exit_code")).toBe(126);
    } finally {
      closeSync(held);
    }
  });

  it("--max-runtime: SIGTERM, then SIGKILL after --kill-grace, exit 124", async () => {
    const run = await wrap("too-long", ["--max-runtime", "500ms", "--kill-grace", "300ms"], [node, job("ignore-term.mjs")]);
    expect(run.code).toBe(124);
    expect(run.stdout).toBe("started\nignoring SIGTERM\n");
    const g = await group("too-long");
    expect(value(g, "job_exit_code")).toBe(124);
    expect(value(g, "job_duration_seconds")).toBeGreaterThanOrEqual(0.8);
  });

  it("--max-runtime reaches the whole process group (a shell and its child)", async () => {
    const run = await wrap("tree", ["--max-runtime", "300ms"], ["sh", "-c", "sleep 30; echo never"]);
    expect(run.code).toBe(124);
    expect(run.stdout).toBe("");
  });
});

describe("signals sent to the wrapper", () => {
  it.each([
    ["SIGTERM", 143],
    ["SIGINT", 130],
    ["SIGHUP", 129],
  ] as const)("%s reaches the job; the wrapper pushes the outcome and exits %d", async (signal, code) => {
    const marker = join(tmp, `signal-${signal}`);
    const name = `signalled-${signal}`;
    const { child, done } = startCli(["wrap", "-j", name, "--no-instance", "--", node, job("record-signal.mjs"), marker], { env });
    for (let i = 0; i < 100 && !existsSync(marker); i++) await new Promise((r) => setTimeout(r, 50));
    child.kill(signal);
    const run = await done;
    expect(run.code).toBe(code);
    expect(readFileSync(marker, "utf8")).toBe(`started ${signal}`);
    const g = await group(name);
    expect(value(g, "job_exit_code")).toBe(code);
    expect(value(g, "job_running")).toBe(0);
  });
});

describe("pushes", () => {
  it("the start push lands while the job runs", async () => {
    const { done } = startCli(["wrap", "-j", "running", "--no-instance", "--", node, job("sleep.mjs"), "1500"], { env });
    let seenRunning: number | undefined;
    for (let i = 0; i < 60 && seenRunning === undefined; i++) {
      await new Promise((r) => setTimeout(r, 50));
      seenRunning = value(await group("running"), "job_running");
    }
    expect(seenRunning).toBe(1);
    expect((await done).code).toBe(0);
    expect(value(await group("running"), "job_running")).toBe(0);
  });

  it("--no-start-push sends only the outcome; every push is a POST", async () => {
    const proxy = await startFaultProxy(gw.url, []);
    try {
      await runCli(["wrap", "-j", "one-push", "-g", proxy.url, "--no-start-push", "--", node, job("exit.mjs"), "0"]);
      expect(proxy.seen.map((s) => s.method)).toEqual(["POST"]);
      await runCli(["wrap", "-j", "two-pushes", "-g", proxy.url, "--", node, job("exit.mjs"), "0"]);
      expect(proxy.seen.map((s) => s.method)).toEqual(["POST", "POST", "POST"]);
    } finally {
      await proxy.stop();
    }
  });

  it("a dead gateway: the job's status wins, and a warning says what was lost", async () => {
    const run = await runCli(["wrap", "-j", "lost", "-g", "http://127.0.0.1:9", "--", node, job("exit.mjs"), "5", "out"]);
    expect(run.code).toBe(5);
    expect(run.stdout).toBe("out\n");
    expect(run.stderr).toMatch(/wrap: the outcome of \{job="lost", instance=".*"\} \(the job failed with exit status 5\) was not pushed/);
  });

  // The final push's 30 s budget against a gateway that never answers: test/app/wrap.test.ts,
  // in simulated time; test/e2e/wrap-survival.test.ts checks a short bound end to end.

  it("--strict: exit 1 when the job succeeded but its outcome was not pushed; a failed job keeps its status", async () => {
    const ok = await runCli(["wrap", "-j", "strict", "-g", "http://127.0.0.1:9", "--retries", "0", "--strict", "--", node, job("exit.mjs"), "0"]);
    expect(ok.code).toBe(1);
    const failed = await runCli(["wrap", "-j", "strict", "-g", "http://127.0.0.1:9", "--retries", "0", "--strict", "--", node, job("exit.mjs"), "4"]);
    expect(failed.code).toBe(4);
  });

  it("--expect-every and --grace are pushed for the generic alert", async () => {
    await wrap("expected", ["--expect-every", "1d", "--grace", "2h"], [node, job("exit.mjs"), "0"]);
    const g = await group("expected");
    expect(value(g, "job_expected_interval_seconds")).toBe(86_400);
    expect(value(g, "job_expected_grace_seconds")).toBe(7_200);
  });

  it("--prefix names the metrics", async () => {
    await wrap("prefixed", ["--prefix", "backup"], [node, job("exit.mjs"), "0"]);
    expect(familyNames((await group("prefixed"))!)).toContain("backup_last_success_timestamp_seconds");
  });

  it("--dry-run runs the job and prints both pushes instead of sending them", async () => {
    const run = await wrap("dry-wrap", ["--dry-run"], [node, job("exit.mjs"), "0", "job output"]);
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/^POST .*\/metrics\/job\/dry-wrap\n[\s\S]*job_running 1\n[\s\S]*job output\n[\s\S]*POST [\s\S]*job_running 0\n/);
    expect(await group("dry-wrap")).toBeUndefined();
  });
});

describe("cron mail tells the truth", () => {
  it.each([
    ["a job that fails without a word", [node, job("exit.mjs"), "3"], [], 3, /^pushgw: \{job="silent-fail"\}: the job failed with exit status 3 after \d+m?s\n$/],
    ["a job killed by a signal", [node, job("self-kill.mjs"), "SIGKILL"], [], 137, /^pushgw: \{job="silent-fail"\}: the job was killed by SIGKILL: exit status 137 after /],
    ["a job stopped after --max-runtime", [node, job("sleep.mjs"), "5000"], ["--max-runtime", "300ms"], 124, /^pushgw: \{job="silent-fail"\}: the job ran past --max-runtime 300ms and was stopped \(SIGTERM, then SIGKILL after --kill-grace 10s if needed\): exit status 124 after /],
  ])("%s prints one line on stderr, so cron mails", async (_, command, flags, code, line) => {
    const run = await wrap("silent-fail", flags, command);
    expect(run.code).toBe(code);
    expect(run.stdout).toBe("");
    expect(run.stderr).toMatch(line);
    expect(run.stderr.split("\n").filter(Boolean)).toHaveLength(1);
  });

  it("-q silences that line; a success prints nothing at all", async () => {
    expect(await wrap("silent-fail", ["-q"], [node, job("exit.mjs"), "3"])).toMatchObject({ code: 3, stdout: "", stderr: "" });
    expect(await wrap("silent-ok", [], [node, job("exit.mjs"), "0"])).toMatchObject({ code: 0, stdout: "", stderr: "" });
  });
});

describe("--quiet-success", () => {
  it("prints nothing when the job succeeds", async () => {
    const run = await wrap("quiet-ok", ["--quiet-success"], [node, job("exit.mjs"), "0", "hidden out", "hidden err"]);
    expect(run).toMatchObject({ code: 0, stdout: "", stderr: "" });
  });

  it("prints stdout to stdout and stderr to stderr when it fails", async () => {
    const run = await wrap("quiet-fail", ["--quiet-success"], [node, job("exit.mjs"), "2", "shown out", "shown err"]);
    expect(run).toMatchObject({ code: 2, stdout: "shown out\n" });
    expect(run.stderr).toMatch(/^shown err\npushgw: \{job="quiet-fail"\}: the job failed with exit status 2 after /);
  });

  it("the job's stdout and stderr are pipes, as unwrapped: `> /dev/stderr` and `> /dev/stdout` work", async () => {
    const script = "echo to-stderr > /dev/stderr && echo to-stdout > /dev/stdout && test -p /proc/self/fd/1 && test -p /dev/stderr && exit 3";
    const run = await wrap("quiet-dev-stdio", ["--quiet-success"], ["sh", "-c", script]);
    expect(run.code).toBe(3);
    expect(run.stdout).toBe("to-stdout\n");
    expect(run.stderr).toMatch(/^to-stderr\npushgw: \{job="quiet-dev-stdio"\}: the job failed with exit status 3 after /);
  });

  it("replays every byte to a slow reader before it exits: none is left queued when the wrapper ends", async () => {
    // The reader takes 1 KB every 10 ms, so the pipe is full when the replay's last writes go out.
    // Node queues what a full pipe cannot take yet and calls a write below its high-water mark
    // done at once (16 KB, 64 KB from Node 22 on): a wrapper that then ended lost that tail.
    const bytes = 200_000;
    const quote = (word: string) => `'${word.replace(/'/g, "'\\''")}'`;
    const reader = `${quote(NODE)} ${quote(fileURLToPath(new URL("../fixtures/slow-reader.mjs", import.meta.url)))}`;
    // Whether the tail is still queued at the end varies from run to run: three runs at once.
    const runs = await Promise.all(
      ["a", "b", "c"].map((name) => {
        const wrapper = [NODE, BIN, "wrap", "-j", `quiet-slow-reader-${name}`, "--no-instance", "--quiet-success", "--", node, job("noisy.mjs"), String(bytes), "1"];
        return promisify(execFile)("sh", ["-c", `${wrapper.map(quote).join(" ")} | ${reader}`], { env: { PATH: process.env["PATH"] ?? "/usr/bin:/bin", XDG_RUNTIME_DIR: testRuntimeDir(), ...env } });
      }),
    );
    for (const [i, run] of runs.entries()) {
      expect(run.stdout).toBe(`${bytes}\n`);
      expect(run.stderr).toMatch(new RegExp(`^noisy: start\\nnoisy: done\\npushgw: \\{job="quiet-slow-reader-${"abc"[i]}"\\}: the job failed with exit status 1 after `));
    }
  }, 60_000);

  it("keeps output larger than its memory limit, exactly", async () => {
    const bytes = 6 * 1024 * 1024 + 123;
    const run = await wrap("quiet-big", ["--quiet-success"], [node, job("noisy.mjs"), String(bytes), "1"]);
    expect(run.code).toBe(1);
    expect(run.stdout.length).toBe(bytes);
    expect(run.stderr).toMatch(/^noisy: start\nnoisy: done\npushgw: \{job="quiet-big"\}: the job failed with exit status 1 after /);
  });
});

describe("the job's own metrics", () => {
  it("lines written to $PUSHGW_METRICS_FILE join the final push", async () => {
    await wrap("own", [], [node, job("write-metrics.mjs"), "# TYPE rows_copied gauge\\nrows_copied 1234\\n"]);
    const g = await group("own");
    expect(value(g, "rows_copied")).toBe(1234);
    expect(value(g, "job_success")).toBe(1);
  });

  it.each([
    ["not the text format", "rows copied: 12", /METRICS_FILE:1: /],
    ["a name wrap owns", "job_success 1", /"job_success" is pushed by pushgw wrap itself/],
    ["a label the key would overwrite", 'rows{job="other"} 1', /would be overwritten/],
    // Pushgateway 1.11's own counter (1.5.1 has none of that name): 1.11 refuses the whole push
    // with it untyped, so pushgw leaves it out on every gateway.
    ["a gateway's own metric", "process_network_receive_bytes_total 5", /"process_network_receive_bytes_total" is also one of the gateway's own metrics/],
  ])("%s: a warning, and the outcome is still pushed", async (_, content, message) => {
    const name = `own-bad-${_.replace(/\W/g, "_")}`;
    const run = await wrap(name, [], [node, job("write-metrics.mjs"), content, "0"]);
    expect(run.code).toBe(0);
    expect(run.stderr).toMatch(/warning: the job's own metrics were left out/);
    expect(run.stderr).toMatch(message);
    const g = await group(name);
    expect(value(g, "job_success")).toBe(1);
    expect(familyNames(g!).every((n) => n.startsWith("job_"))).toBe(true);
  });

  it("`pushgw add` inside the job, with no grouping flags, lands in the wrapper's group", async () => {
    const run = await runCli(["wrap", "-j", "nested", "-i", "box-1", "-l", "env=prod", "--", node, job("nested-add.mjs"), "records_seen=77"], { env });
    expect(run.stderr).toBe("");
    expect(run.code).toBe(0);
    const g = findGroup(await readGroups(gw.url), { job: "nested", instance: "box-1", env: "prod" });
    expect(value(g, "records_seen")).toBe(77);
    expect(value(g, "job_success")).toBe(1);
  });

  it("`pushgw add` inside the job may not push a family wrap owns, as $PUSHGW_METRICS_FILE may not: the last success stays the wrapper's to say", async () => {
    const run = await wrap("nested-owned", [], [node, job("nested-add.mjs"), "-t", "gauge", "job_last_success_timestamp_seconds=42"]);
    expect(run.stderr).toMatch(/"job_last_success_timestamp_seconds" is pushed by pushgw wrap itself/);
    // Bad input, as the wrapper checked it: exit 2, as for any input refused before sending.
    expect(run.code).toBe(2);
    const g = await group("nested-owned");
    expect(value(g, "job_last_success_timestamp_seconds")).not.toBe(42);
    expect(value(g, "job_success")).toBe(0);
  });

  it.each([
    ["a FIFO", 'rm "$PUSHGW_METRICS_FILE"; mkfifo "$PUSHGW_METRICS_FILE"', /is not a regular file/],
    ["a link to /dev/zero", 'ln -sf /dev/zero "$PUSHGW_METRICS_FILE"', /is not a regular file/],
  ])("$PUSHGW_METRICS_FILE replaced by %s: not read forever; a warning, and the outcome is pushed", async (_, script, why) => {
    const name = `metrics-file-${script.includes("mkfifo") ? "fifo" : "zero"}`;
    const run = await wrap(name, [], ["sh", "-c", script]);
    expect(run.code).toBe(0);
    expect(run.stderr).toMatch(/the job's own metrics were left out: /);
    expect(run.stderr).toMatch(why);
    expect(value(await group(name), "job_success")).toBe(1);
  });

  it("a job that swaps its private directory for a link to another one: only the link goes, not that directory's metrics.prom", async () => {
    const elsewhere = mkdtempSync(join(tmp, "elsewhere-"));
    writeFileSync(join(elsewhere, "metrics.prom"), "kept 1\n");
    const script = 'd=$(dirname "$PUSHGW_METRICS_FILE"); mv "$d" "$d.moved" && ln -s "$1" "$d"';
    const run = await wrap("swapped-dir", [], ["sh", "-c", script, "job", elsewhere]);
    expect(run.code).toBe(0);
    expect(readFileSync(join(elsewhere, "metrics.prom"), "utf8")).toBe("kept 1\n");
  });

  it("`pushgw push` (PUT) inside the job is refused: it would replace the wrapper's group, the last success among it", async () => {
    expect((await wrap("nested-put", [], [node, job("exit.mjs"), "0"])).code).toBe(0);
    const before = value(await group("nested-put"), "job_last_success_timestamp_seconds");
    const run = await wrap("nested-put", [], ["sh", "-c", `"${NODE}" "${BIN}" push put_by_job=1; echo "nested exit $?"; exit 3`]);
    expect(run.stdout).toBe("nested exit 2\n");
    expect(run.stderr).toMatch(/pushgw push \(PUT\) would replace everything in the wrapper's group \{job="nested-put"\}/);
    expect(run.code).toBe(3);
    const g = await group("nested-put");
    expect(value(g, "put_by_job")).toBeUndefined();
    expect(value(g, "job_last_success_timestamp_seconds")).toBe(before);
    expect(value(g, "job_success")).toBe(0);
  });
});

describe("cron's world", () => {
  it("works with no terminal, stdin from /dev/null, a minimal PATH and no HOME", async () => {
    const run = await runCli(["wrap", "-j", "cron", "--", job("show-env.sh")], { env: { PATH: "/usr/bin:/bin", PUSHGW_GATEWAY: gw.url } });
    expect(run.code).toBe(0);
    expect(run.stdout).toBe("HOME=unset PATH=/usr/bin:/bin TTY=none\nstdin: empty\n");
    expect(run.stderr).toBe("");
    expect(value(findGroup(await readGroups(gw.url), { job: "cron", instance: (await import("node:os")).hostname() }), "job_success")).toBe(1);
  });

  it("30 wraps at once land in 30 distinct groups", async () => {
    const runs = await Promise.all(
      Array.from({ length: 30 }, (_, i) => runCli(["wrap", "-j", "parallel", "-i", `n${i}`, "--", node, job("exit.mjs"), String(i % 3)], { env })),
    );
    expect(runs.map((r) => r.code)).toEqual(Array.from({ length: 30 }, (_, i) => i % 3));
    const groups = (await readGroups(gw.url)).filter((g) => g.labels["job"] === "parallel");
    expect(groups).toHaveLength(30);
    for (const g of groups) {
      const i = Number(g.labels["instance"]!.slice(1));
      expect(value(g, "job_exit_code")).toBe(i % 3);
    }
  }, 60_000);
});

describe("usage", () => {
  // Each wrapped command would create the marker: it must never run.
  const marker = join(tmp, "never-created");
  const touch = ["sh", "-c", `touch ${marker}`];
  it.each([
    [["wrap", "-j", "x"], /no command given/],
    [["wrap", "-j", "x", "--grace", "1h", "--", ...touch], /--grace only makes sense with --expect-every/],
    [["wrap", "-j", "x", "--max-runtime", "0s", "--", ...touch], /--max-runtime must be longer than 0/],
    [["wrap", "-j", "x", "--prefix", "1bad", "--", ...touch], /--prefix: "1bad"/],
    [["wrap", "-j", "x", "--bogus", ...touch], /^pushgw: wrap: unknown flag --bogus\nhint: before the command, a word that starts with - must be a flag of wrap's/],
  ])("%j", async (args, message) => {
    mkdirSync(tmp, { recursive: true });
    const run = await runCli(args, { env });
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(message);
    expect(existsSync(marker)).toBe(false);
  });
});
