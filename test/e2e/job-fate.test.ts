import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { closeSync, existsSync, mkdtempSync, openSync, readFileSync } from "node:fs";
import { constants, tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startFaultProxy } from "../helpers/fault-proxy.js";
import { mountTmpfs } from "../helpers/mounts.js";
import { family, findGroup, readGroups, startPushgateway, type RunningGateway } from "../helpers/pushgateway.js";
import { BIN, NODE, runCli, startCli, type CliRun } from "../helpers/run-cli.js";

/**
 * The job's fate is its own: no signal, full disk or missing `--` may change what the job does,
 * its exit status or its pushed outcome, and no signal may open a debugger. Real processes, the
 * built CLI (on PUSHGW_TEST_NODE when set) and the real gateway.
 */
const node = process.execPath;
const job = (name: string) => fileURLToPath(new URL(`../fixtures/jobs/${name}`, import.meta.url));
const tmp = mkdtempSync(join(tmpdir(), "pushgw-fate-"));
let gw: RunningGateway;
let env: Record<string, string>;
const cleanups: Array<() => unknown> = [];

beforeAll(async () => {
  gw = await startPushgateway();
  env = { PUSHGW_GATEWAY: gw.url };
});
afterAll(async () => {
  for (const cleanup of cleanups.reverse()) await cleanup();
  await gw?.stop();
});

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
async function waitFor(ok: () => boolean, ms = 20_000): Promise<boolean> {
  const deadline = Date.now() + ms;
  while (!ok() && Date.now() < deadline) await sleep(20);
  return ok();
}
const pushed = async (name: string, metric: string): Promise<number | undefined> => {
  const v = family(findGroup(await readGroups(gw.url), { job: name }), metric)?.metrics[0]?.value;
  return v === undefined ? undefined : Number(v);
};
const signalNumber = (signal: string): number => (constants.signals as Record<string, number>)[signal]!;

/** The sockets `pid` listens on (the inspector's would be one), as ss shows them. */
function listening(pid: number): string[] {
  const out = spawnSync("ss", ["-Hltnp"], { encoding: "utf8" }).stdout;
  return out.split("\n").filter((line) => line.includes(`pid=${pid},`));
}
/** The process state letter of /proc/PID/stat: R, S, T (stopped), Z. */
function state(pid: number): string | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    return stat.slice(stat.lastIndexOf(")") + 2).split(" ")[0];
  } catch {
    return undefined;
  }
}
function childrenOf(pid: number): number[] {
  try {
    return readFileSync(`/proc/${pid}/task/${pid}/children`, "utf8").trim().split(/\s+/).filter(Boolean).map(Number);
  } catch {
    return [];
  }
}
/** Whether `pid` has a handler of its own for `signal` (SigCgt), i.e. no longer dies of it. */
function catches(pid: number, signal: string): boolean {
  try {
    const mask = /^SigCgt:\s*([0-9a-f]+)$/m.exec(readFileSync(`/proc/${pid}/status`, "utf8"))![1]!;
    return (BigInt(`0x${mask}`) >> BigInt(signalNumber(signal) - 1)) & 1n ? true : false;
  } catch {
    return false;
  }
}
function wrapped(name: string, command: string[], flags: string[] = []): { child: ChildProcess; done: Promise<CliRun> } {
  return startCli(["wrap", "-j", name, "--no-instance", ...flags, "--", ...command], { env, timeoutMs: 60_000 });
}

describe("no signal opens a debugger", () => {
  it("SIGUSR1 to a wrapper reaches the job; nothing listens, and the status is the job's", async () => {
    const marker = join(tmp, "usr1-wrap");
    const { child, done } = wrapped("usr1-wrap", [node, job("note-signals.mjs"), marker, "4", "1500"]);
    expect(await waitFor(() => existsSync(marker))).toBe(true);
    child.kill("SIGUSR1");
    await sleep(700);
    expect(listening(child.pid!)).toEqual([]);
    expect(child.exitCode).toBeNull();
    const run = await done;
    expect(run.stderr).not.toMatch(/Debugger|inspector/i);
    expect(run.code).toBe(4);
    expect(readFileSync(marker, "utf8")).toBe("started SIGUSR1");
    expect(await pushed("usr1-wrap", "job_exit_code")).toBe(4);
  });

  it("SIGUSR1 to any other command (add, waiting for a gateway) is ignored; nothing listens", async () => {
    const proxy = await startFaultProxy(gw.url, [{ kind: "hang" }]);
    cleanups.push(() => proxy.stop());
    const { child, done } = startCli(["add", "-g", proxy.url, "-j", "usr1-add", "--retries", "0", "--timeout", "2s", "m=1"], { env });
    expect(await waitFor(() => proxy.seen.length > 0)).toBe(true);
    child.kill("SIGUSR1");
    await sleep(700);
    expect(listening(child.pid!)).toEqual([]);
    const run = await done;
    expect(run.stderr).not.toMatch(/Debugger|inspector/i);
    // It went on waiting, and ended as it would have: no answer in time.
    expect(run).toMatchObject({ code: 1, signal: null });
    expect(run.stderr).toMatch(/no answer in time/);
  });
});

describe("every signal the wrapper can take reaches the job", () => {
  // stop: the run counts as stopped by it (128+N), as before; pass: the job's own status stands.
  const table: Array<[string, "stop" | "pass"]> = [
    ["SIGHUP", "stop"],
    ["SIGINT", "stop"],
    ["SIGQUIT", "stop"],
    ["SIGTERM", "stop"],
    ["SIGUSR1", "pass"],
    ["SIGUSR2", "pass"],
    ["SIGALRM", "pass"],
    ["SIGVTALRM", "pass"],
    ["SIGPROF", "pass"],
    ["SIGIO", "pass"],
    ["SIGPWR", "pass"],
    ["SIGSTKFLT", "pass"],
    ["SIGWINCH", "pass"],
    ["SIGURG", "pass"],
    ["SIGCONT", "pass"],
  ];
  it.each(table)("%s (%s): the job gets it, the outcome is pushed", async (signal, action) => {
    const marker = join(tmp, `sig-${signal}`);
    const name = `sig-${signal}`;
    const { child, done } = wrapped(name, [node, job("record-signal.mjs"), marker]);
    expect(await waitFor(() => existsSync(marker) && readFileSync(marker, "utf8").startsWith("started"))).toBe(true);
    child.kill(signal as NodeJS.Signals);
    // The job exits 0 once it has the signal; a wrapper that did not pass it on would wait for
    // the job's minute, and is stopped here after 10 s.
    const timer = setTimeout(() => child.kill("SIGKILL"), 10_000);
    const run = await done;
    clearTimeout(timer);
    const code = action === "stop" ? 128 + signalNumber(signal) : 0;
    expect(readFileSync(marker, "utf8")).toBe(`started ${signal}`);
    expect(run).toMatchObject({ code, signal: null });
    expect(await pushed(name, "job_exit_code")).toBe(code);
    expect(await pushed(name, "job_running")).toBe(0);
  });

  it.each(["SIGTSTP", "SIGTTIN", "SIGTTOU"])("%s (Ctrl-Z) stops the job's whole group and the wrapper; SIGCONT continues both", async (signal) => {
    const marker = join(tmp, `stop-${signal}`);
    const name = `stop-${signal}`;
    // A shell and its child: the whole group must stop.
    const { child, done } = wrapped(name, ["sh", "-c", 'echo started > "$0"; sleep 3; exit 6', marker]);
    const wrapper = child.pid!;
    expect(await waitFor(() => existsSync(marker))).toBe(true);
    const shell = childrenOf(wrapper)[0]!;
    // The marker is written before sleep starts: wait for the shell's child, on a busy machine too.
    expect(await waitFor(() => childrenOf(shell).length > 0)).toBe(true);
    const sleeper = childrenOf(shell)[0]!;
    child.kill(signal as NodeJS.Signals);
    expect(await waitFor(() => state(wrapper) === "T" && state(shell) === "T" && state(sleeper) === "T", 5_000), `wrapper ${state(wrapper)}, shell ${state(shell)}, sleep ${state(sleeper)}`).toBe(true);
    // Longer than the job's three seconds: stopped, it has not ended.
    await sleep(3_500);
    expect([state(wrapper), state(shell)]).toEqual(["T", "T"]);
    child.kill("SIGCONT");
    const run = await done;
    expect(run).toMatchObject({ code: 6, signal: null });
    expect(await pushed(name, "job_exit_code")).toBe(6);
  });

  it("a storm of SIGUSR2 from the moment the wrapper takes the signal, on a busy machine: the outcome is pushed, the status is the job's", async () => {
    const marker = join(tmp, "storm");
    const name = "storm";
    // Busy: two processes spinning for the length of the test, besides the storm itself.
    const burners = [0, 1].map(() => spawn(node, ["-e", "for (;;);"], { stdio: "ignore" }));
    cleanups.push(() => burners.forEach((b) => b.kill("SIGKILL")));
    // The job ignores SIGUSR2 as soon as its shell can; one that arrives before it dies of it (140).
    const { child, done } = wrapped(name, ["sh", "-c", 'trap "" USR2; echo started > "$0"; sleep 1; exit 3', marker]);
    const wrapper = child.pid!;
    // Node itself resets every signal to its default action at start; the wrapper can only hold
    // the signal from the moment it takes it (or, on a wrapper that never does, once the job runs).
    expect(await waitFor(() => catches(wrapper, "SIGUSR2") || existsSync(marker) || child.exitCode !== null, 20_000)).toBe(true);
    const storm = spawn("sh", ["-c", 'n=0; while kill -USR2 "$0" 2>/dev/null; do n=$((n+1)); done; echo $n', String(wrapper)], { stdio: ["ignore", "pipe", "ignore"] });
    let sent = "";
    storm.stdout!.on("data", (c: Buffer) => (sent += c.toString()));
    const stormEnded = new Promise((resolve) => storm.on("close", resolve));
    const run = await done;
    await stormEnded;
    for (const burner of burners) burner.kill("SIGKILL");
    expect(Number(sent)).toBeGreaterThan(100);
    const started = existsSync(marker);
    expect(run).toMatchObject({ code: started ? 3 : 140, signal: null });
    expect(await pushed(name, "job_exit_code")).toBe(run.code);
    expect(await pushed(name, "job_running")).toBe(0);
  });
});

describe("a failing stdout or stderr changes neither the status nor the outcome push", () => {
  /** A log file opened for appending (`>>`) on a disk then filled to the last block. */
  const logOnFullDisk = (): number => {
    const m = mountTmpfs();
    cleanups.push(() => m.unmount());
    const fd = openSync(join(m.dir, "cron.log"), "a");
    spawnSync("dd", ["if=/dev/zero", `of=${join(m.dir, "filler")}`, "bs=4k"], { stdio: "ignore" });
    return fd;
  };
  /** Runs the wrapper with stdout and stderr on `out` (a file descriptor or "pipe"), as cron would. */
  function runWith(args: string[], out: number | "closed-pipe"): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
    const child = spawn(NODE, [BIN, ...args], { env: { PATH: process.env["PATH"]!, ...env }, stdio: ["ignore", out === "closed-pipe" ? "pipe" : out, out === "closed-pipe" ? "pipe" : out] });
    if (out === "closed-pipe") {
      child.stdout!.destroy();
      child.stderr!.destroy();
    }
    return new Promise((resolve) => child.on("close", (code, signal) => resolve({ code, signal })));
  }
  const talks = ["sh", "-c", "echo out; echo err >&2; exit 3"];
  // Unwrapped, a job that writes to a closed pipe dies of SIGPIPE (141): that would be its own fate.
  const quiet = ["sh", "-c", "exit 3"];
  it.each([
    ["`>> file 2>&1` on a full disk", [] as string[], talks, "full"],
    ["--quiet-success replayed to a file on a full disk", ["--quiet-success"], talks, "full"],
    ["pushgw's own line to a closed pipe", [], quiet, "closed-pipe"],
    ["--quiet-success replayed to a closed pipe", ["--quiet-success"], talks, "closed-pipe"],
  ] as const)("%s", async (what, flags, command, where) => {
    const name = `output-${what.replace(/[^a-z]+/gi, "-")}`;
    const fd = where === "full" ? logOnFullDisk() : "closed-pipe";
    const run = await runWith(["wrap", "-j", name, "--no-instance", ...flags, "--", ...command], fd);
    if (typeof fd === "number") closeSync(fd);
    expect(run).toEqual({ code: 3, signal: null });
    expect(await pushed(name, "job_exit_code")).toBe(3);
    expect(await pushed(name, "job_success")).toBe(0);
  });
});

describe("without --, the words after the command are the command's", () => {
  it("pushgw wrap -j x job --dry-run runs the job with --dry-run, and pushes", async () => {
    const marker = join(tmp, "dry-run-arg");
    const run = await runCli(["wrap", "-j", "dry-arg", "--no-instance", node, job("count-args.mjs"), marker, "-q", "--dry-run"], { env });
    expect(run.code).toBe(0);
    expect(readFileSync(marker, "utf8")).toBe("2 --dry-run");
    expect(run.stdout).toBe("");
    expect(await pushed("dry-arg", "job_success")).toBe(1);
  });

  it("add: METRIC arguments after -- are pushed", async () => {
    const run = await runCli(["add", "-j", "after-dashes", "--no-instance", "a=1", "--", "b=2"], { env });
    expect(run).toMatchObject({ code: 0, stderr: "" });
    const g = findGroup(await readGroups(gw.url), { job: "after-dashes" });
    expect([family(g, "a")?.metrics[0]?.value, family(g, "b")?.metrics[0]?.value]).toEqual(["1", "2"]);
  });
});

describe("any size the kernel takes", () => {
  const WORDS = 130_000;
  // Under a day's load (a load average of 20 on this machine) one run took minutes; unloaded, one
  // second. Only a guard against a hang: the quadratic parse this replaced took far longer.
  const HANG_MS = 600_000;
  it.each([
    ["after --", ["--"]],
    ["without --", []],
  ])(`wrap runs a command of ${WORDS} words (%s) and pushes its outcome`, async (_, dashes) => {
    const name = `many-args${dashes.length}`;
    const marker = join(tmp, name);
    const words = Array.from({ length: WORDS }, (_, i) => String(i % 10));
    const run = await runCli(["wrap", "-j", name, "--no-instance", ...dashes, node, job("count-args.mjs"), marker, ...words], { env, timeoutMs: HANG_MS });
    expect(run.stderr).toBe("");
    expect(run.code).toBe(0);
    expect(readFileSync(marker, "utf8")).toBe(`${WORDS} ${words.at(-1)}`);
    expect(await pushed(name, "job_success")).toBe(1);
  }, HANG_MS + 10_000);

  it(`add takes ${WORDS} METRIC arguments`, async () => {
    // Distinct short names, to stay under the kernel's 2 MiB for argv and environment.
    const metrics = Array.from({ length: WORDS }, (_, i) => `m${i.toString(36)}=1`);
    const run = await runCli(["add", "-j", "many-metrics", "--no-instance", "--dry-run", ...metrics], { env, timeoutMs: HANG_MS });
    expect(run.stderr).toBe("");
    expect(run.code).toBe(0);
    expect(run.stdout.split("\n").filter((line) => /^m[0-9a-z]+ 1$/.test(line))).toHaveLength(WORDS);
  }, HANG_MS + 10_000);
});
