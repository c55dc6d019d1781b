import { spawnSync } from "node:child_process";
import { chmodSync, chownSync, cpSync, existsSync, lstatSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { encodeWrapGrouping, WRAP_GROUPING_ENV } from "../../src/core/grouping-key.js";
import { ATTACKER_UID, asAttacker, asAttackerSh, attackerDir, spawnAsAttacker } from "../helpers/attacker.js";
import { until } from "../helpers/poll.js";
import { readGroups, startPushgateway, type RunningGateway } from "../helpers/pushgateway.js";
import { BIN, NODE, runCli, startCli } from "../helpers/run-cli.js";

/**
 * pushgw runs as root in front of cron jobs; a second local user (uid 64001, no rights) attacks
 * it for real, through the names pushgw leaves behind or reads: the paths it hands a job, its
 * code caches, its default lock file, the relay socket a pushgw inside a job talks to.
 */

let gw: RunningGateway;
beforeAll(async () => {
  gw = await startPushgateway();
});
afterAll(async () => {
  await gw.stop();
});

const cleanups: Array<() => void> = [];
afterEach(() => {
  for (const cleanup of cleanups.splice(0).reverse()) cleanup();
});

/** A directory of root's (0700) below the shared temp directory. */
function rootDir(prefix: string): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

function attackers(): string {
  const { dir, cleanup } = attackerDir();
  cleanups.push(cleanup);
  return dir;
}

/** Every name below `dir`, with its kind, owner, size and change time: what "left untouched" means. */
function tree(dir: string): string[] {
  const out: string[] = [];
  const walk = (path: string): void => {
    const info = lstatSync(path);
    out.push(`${path.slice(dir.length) || "/"} ${info.isDirectory() ? "d" : info.isSymbolicLink() ? "l" : "f"} uid=${info.uid} size=${info.isDirectory() ? "-" : info.size} ctime=${info.ctimeMs}`);
    if (info.isDirectory()) for (const name of readdirSync(path).sort()) walk(join(path, name));
  };
  walk(dir);
  return out;
}

describe("what wrap hands a job lives where no other user can make a name", () => {
  it("a process the job left behind writes $PUSHGW_METRICS_FILE after the wrapper has gone: another user cannot put a link in its place", async () => {
    const work = rootDir("pushgw-left-behind-");
    const victim = join(work, "victim");
    writeFileSync(victim, "precious\n");
    const record = join(work, "paths");
    const go = join(work, "go");
    const done = join(work, "done");
    // The job starts a process that outlives it, as `cmd &` in a cron script does, and that
    // writes its metrics late, as root.
    const script = `echo "$PUSHGW_METRICS_FILE" > "$1"; echo "$PUSHGW_WRAP_SOCKET" >> "$1"
      ( while [ ! -e "$2" ]; do sleep 0.05; done; echo 'late 1' > "$PUSHGW_METRICS_FILE"; touch "$3" ) </dev/null >/dev/null 2>&1 &
      exit 0`;
    const run = await runCli(["wrap", "-g", gw.url, "-j", "left-behind", "--no-instance", "--", "sh", "-c", script, "job", record, go, done]);
    expect(run.stderr).toBe("");
    expect(run.code).toBe(0);
    const [metricsFile, socket] = readFileSync(record, "utf8").trim().split("\n");
    expect(metricsFile).toMatch(/metrics\.prom$/);
    expect(dirname(socket!)).toBe(dirname(metricsFile!));
    // The wrapper removed the directory; the attacker makes it again, with a link to root's file.
    const planted = asAttackerSh('mkdir -p "$(dirname "$1")" 2>/dev/null && ln -s "$2" "$1" 2>/dev/null && echo planted || echo refused', metricsFile!, victim).trim();
    writeFileSync(go, "");
    await until(async () => existsSync(done), (ok) => ok);
    expect(existsSync(done)).toBe(true);
    expect(planted).toBe("refused");
    expect(readFileSync(victim, "utf8")).toBe("precious\n");
  });

  it("with no private place to be had, the job still runs, is handed nothing, and one warning says so", async () => {
    const work = rootDir("pushgw-no-place-");
    const run = await runCli(["wrap", "-g", gw.url, "-j", "no-place", "--no-instance", "--", "sh", "-c", 'echo "file=${PUSHGW_METRICS_FILE-unset} socket=${PUSHGW_WRAP_SOCKET-unset}"; exit 3'], {
      // A runtime directory of the attacker's, and no HOME: nowhere that is root's alone.
      env: { XDG_RUNTIME_DIR: attackers(), TMPDIR: work },
    });
    expect(run.stdout).toBe("file=unset socket=unset\n");
    expect(run.code).toBe(3);
    const warnings = run.stderr.split("\n").filter((line) => line.includes("runs without"));
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatch(new RegExp(`runs without PUSHGW_METRICS_FILE and without the wrapper's relay .*no directory only uid 0 can write \\(.* belongs to uid ${ATTACKER_UID}, neither root nor uid 0\\)`));
    expect(readdirSync(work)).toEqual([]);
  });
});

describe("a pushgw inside a job talks only to a wrapper's socket it can trust", () => {
  it("a socket another user made, named by PUSHGW_WRAP_SOCKET, gets nothing", async () => {
    const dir = attackers();
    const socket = join(dir, "relay.sock");
    const got = join(dir, "got");
    const server = join(dir, "fake-wrapper.cjs");
    writeFileSync(
      server,
      `require("node:net").createServer((s) => s.on("data", (d) => { require("node:fs").appendFileSync(${JSON.stringify(got)}, d); s.end('{"outcomes":[]}\\n'); })).listen(${JSON.stringify(socket)});`,
      { mode: 0o644 },
    );
    const fake = spawnAsAttacker(NODE, [server]);
    cleanups.push(() => fake.kill());
    await until(async () => existsSync(socket), (ok) => ok);
    expect(lstatSync(socket).uid).toBe(ATTACKER_UID);
    const run = await runCli(["add", "late_metric=1"], { env: { PUSHGW_WRAP_SOCKET: socket, [WRAP_GROUPING_ENV]: encodeWrapGrouping({ job: "victim-group", labels: [] }) } });
    expect(run.stderr).toMatch(new RegExp(`not to be trusted: .*${socket} belongs to uid ${ATTACKER_UID}, neither root nor uid 0|its parent .* belongs to uid ${ATTACKER_UID}|${dir} belongs to uid ${ATTACKER_UID}`));
    expect(run.code).not.toBe(0);
    expect(existsSync(got)).toBe(false);
  });
});

describe("code caches are read only from directories no other user can write", () => {
  it("a cache directory below another user's directory is neither read nor written", async () => {
    const dir = attackers();
    // The attacker's directory holds the cache home; they plant what Node's compile cache (Node
    // 22 and newer) and pushgw's own (Node 20) would read, in directories of their own.
    asAttackerSh('mkdir -p "$1/pushgw/node-compile-cache/planted" && echo evil > "$1/pushgw/node-compile-cache/planted/cache" && echo evil > "$1/pushgw/planted.v8cache"', join(dir, "planted-home"));
    const before = tree(dir);
    for (const xdg of [join(dir, "planted-home"), join(dir, "fresh-home")]) {
      const run = await runCli(["--version"], { env: { XDG_CACHE_HOME: xdg } });
      expect(run.stderr).toBe("");
      expect(run.code).toBe(0);
    }
    // Nothing made (fresh-home stays missing), nothing rewritten.
    expect(tree(dir)).toEqual(before);
  });

  it("a cache home in a chain of root's own is still used (the check keeps the cache working)", async () => {
    const xdg = rootDir("pushgw-own-cache-");
    const run = await runCli(["--version"], { env: { XDG_CACHE_HOME: xdg } });
    expect(run.code).toBe(0);
    expect(readdirSync(join(xdg, "pushgw")).length).toBeGreaterThan(0);
  });
});

describe("yargs' messages are never read from a file", () => {
  it("a locales/<LANG>.json the attacker plants beside a checkout in a shared directory rewrites nothing", () => {
    // A checkout at <shared>/pushgw: yargs' y18n looked for <shared>/locales/de_DE.json.
    const shared = rootDir("pushgw-shared-");
    chmodSync(shared, 0o1777);
    const checkout = join(shared, "pushgw");
    mkdirSync(checkout);
    for (const part of ["bin", "dist", "package.json"]) cpSync(join(dirname(BIN), "..", part), join(checkout, part), { recursive: true });
    asAttackerSh('mkdir "$1/locales" && printf %s "$2" > "$1/locales/de_DE.json"', shared, JSON.stringify({ "Show help": "PLANTED", "Options:": "PLANTED:" }));
    const run = spawnSync(NODE, [join(checkout, "bin/pushgw"), "--help"], { env: { ...process.env, LANG: "de_DE.UTF-8", LC_ALL: "de_DE.UTF-8" }, encoding: "utf8" });
    expect(run.status).toBe(0);
    expect(run.stdout).toContain("Show help");
    expect(run.stdout).not.toContain("PLANTED");
  });
});

describe("the default --lock file never falls back to a shared directory", () => {
  it("a service account with HOME=/nonexistent and no runtime directory: exit 2 before the job runs, with the fix", async () => {
    const SERVICE_UID = 64002;
    const work = rootDir("pushgw-service-");
    chmodSync(work, 0o755);
    const marker = join(work, "ran");
    const tmp = join(work, "tmp");
    mkdirSync(tmp, { mode: 0o1777 });
    chmodSync(tmp, 0o1777);
    chownSync(work, SERVICE_UID, SERVICE_UID);
    const run = spawnSync(
      "setpriv",
      ["--reuid", String(SERVICE_UID), "--regid", String(SERVICE_UID), "--clear-groups", "--", "/usr/bin/env", "-i", "HOME=/nonexistent", `TMPDIR=${tmp}`, `PATH=${process.env["PATH"] ?? "/usr/bin:/bin"}`, NODE, BIN, "wrap", "-g", gw.url, "-j", "service", "--no-instance", "--lock", "--", "touch", marker],
      { encoding: "utf8" },
    );
    expect(run.stderr).toMatch(/--lock: no directory of uid 64002's own for the default lock file: XDG_RUNTIME_DIR, XDG_CACHE_HOME and HOME are unset|--lock: no directory of uid 64002's own for the default lock file: .*\/nonexistent/);
    expect(run.stderr).toMatch(/--lock FILE/);
    expect(run.status).toBe(2);
    expect(existsSync(marker)).toBe(false);
    expect(readdirSync(tmp)).toEqual([]);
    expect((await readGroups(gw.url)).filter((group) => group.labels["job"] === "service")).toEqual([]);
  });
});

describe("names other users push are printed escaped", () => {
  it("a job name with a line break (pushed by uid 64001 with curl) is one row of list, not a row it fakes", async () => {
    const name = "evil\nfake-job  {}  1s ago  ok  1\u001b]0;owned\u0007";
    const path = `/metrics/job@base64/${Buffer.from(name).toString("base64url")}`;
    asAttacker("curl", ["-sS", "--fail", "--data-binary", "@-", `${gw.url}${path}`], { input: "m 1\n" });
    const run = await runCli(["list", "-g", gw.url]);
    expect(run.code).toBe(0);
    const lines = run.stdout.split("\n");
    expect(lines.filter((line) => line.startsWith("fake-job"))).toEqual([]);
    expect(run.stdout).not.toMatch(/[\u0007\u001b]/);
    expect(lines.filter((line) => line.startsWith("evil\\x0afake-job  {}  1s ago  ok  1\\x1b]0;owned\\x07"))).toHaveLength(1);
    const dry = await runCli(["delete", "-g", gw.url, "--match", "job=~evil.*", "--dry-run"]);
    expect(dry.stdout.split("\n").filter((line) => line.startsWith("fake-job"))).toEqual([]);
  });
});

describe("header values that look secret are never shown, to the user or to ps", () => {
  const headers = ["-H", "Ocp-Apim-Subscription-Key: sub-k3y-v4lue", "-H", "Private-Key: pr1v4te-k3y", "-H", "X-Api-Key: x-4pi-k3y"];
  const secrets = ["sub-k3y-v4lue", "pr1v4te-k3y", "x-4pi-k3y"];

  it("--dry-run and -v", async () => {
    const dry = await runCli(["add", "--dry-run", "-g", gw.url, ...headers, "-j", "hidden-headers", "m=1"]);
    const verbose = await runCli(["add", "-v", "-g", gw.url, ...headers, "-j", "hidden-headers", "m=1"]);
    for (const run of [dry, verbose]) {
      expect(run.code).toBe(0);
      for (const secret of secrets) expect(run.stdout + run.stderr).not.toContain(secret);
    }
    expect(dry.stdout.toLowerCase()).toContain("ocp-apim-subscription-key: <hidden>");
  });

  it("the wrapper's command line, read by uid 64001 from /proc while the job runs", async () => {
    const work = rootDir("pushgw-ps-");
    const ready = join(work, "ready");
    const release = join(work, "release");
    const { child, done } = startCli(["wrap", "-g", gw.url, ...headers, "-j", "ps-headers", "--no-instance", "--", "sh", "-c", 'touch "$1"; while [ ! -e "$2" ]; do sleep 0.05; done', "job", ready, release]);
    try {
      await until(async () => existsSync(ready), (ok) => ok);
      const seen = asAttacker("cat", [`/proc/${child.pid}/cmdline`]).split("\0").join(" ");
      expect(seen).toContain("Ocp-Apim-Subscription-Key: ***");
      for (const secret of secrets) expect(seen).not.toContain(secret);
    } finally {
      writeFileSync(release, "");
    }
    expect((await done).code).toBe(0);
  });
});

describe("root's /run/pushgw, in a private mount namespace (a tmpfs over /run: the machine's is never touched)", () => {
  /** Runs `setup` (as root, in the namespace), then wrap as cron runs it: no HOME, no XDG_RUNTIME_DIR. */
  function wrapInNamespace(setup: string): { status: number | null; stdout: string; stderr: string } {
    const script = `mount -t tmpfs -o mode=0755,size=1m tmpfs /run && ${setup}
      exec /usr/bin/env -i PATH="$PATH" "$@"`;
    const job = 'echo "file=${PUSHGW_METRICS_FILE-unset}"; stat -c "%a %u" /run/pushgw 2>/dev/null || echo none';
    const result = spawnSync("unshare", ["-m", "--propagation", "private", "sh", "-c", script, "ns", NODE, BIN, "wrap", "-g", gw.url, "-j", "namespaced", "--no-instance", "--", "sh", "-c", job], { encoding: "utf8", env: { PATH: process.env["PATH"] ?? "/usr/bin:/bin" } });
    return { status: result.status, stdout: result.stdout, stderr: result.stderr };
  }

  it("missing: made with mode 0700, and the job's file lives there", () => {
    const run = wrapInNamespace("true");
    expect(run.stderr).toBe("");
    expect(run.status).toBe(0);
    expect(run.stdout).toMatch(/^file=\/run\/pushgw\/pushgw-[^/]+\/metrics\.prom\n700 0\n$/);
  });

  it.each([
    ["another user's", `mkdir /run/pushgw && chown ${ATTACKER_UID}:${ATTACKER_UID} /run/pushgw`, `/run/pushgw belongs to uid ${ATTACKER_UID}, neither root nor uid 0`, `755 ${ATTACKER_UID}`],
    ["writable by others", "mkdir -m 1777 /run/pushgw", "/run/pushgw is writable by others (mode 1777)", "1777 0"],
    ["a symbolic link", "mkdir -m 0700 /run/elsewhere && ln -s /run/elsewhere /run/pushgw", "/run/pushgw is a symbolic link", "777 0"],
  ])("%s: not used; the job runs without the file, and one warning says why", (_, setup, why, left) => {
    const run = wrapInNamespace(setup);
    expect(run.status).toBe(0);
    // What was there is left as it was.
    expect(run.stdout).toBe(`file=unset\n${left}\n`);
    expect(run.stderr).toContain(why);
    expect(run.stderr.split("\n").filter((line) => line.includes("runs without"))).toHaveLength(1);
  });
});
