import { spawn, spawnSync } from "node:child_process";
import { chmodSync, chownSync, existsSync, lstatSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, readlinkSync, rmSync, statSync, symlinkSync, utimesSync, writeFileSync } from "node:fs";
import { createServer, type IncomingHttpHeaders } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { spoolFolderName } from "../../src/core/spool.js";
import { family, findGroup, readGroups, startPushgateway, unusedPort, type RunningGateway } from "../helpers/pushgateway.js";
import { BIN, NODE, runCli, type CliRun } from "../helpers/run-cli.js";

/**
 * The spool as an attacker on the same machine would try it: files planted in it, links where
 * pushgw writes, directories others can write to, and many runs at once over a stale lock.
 * Each test says where secrets went, what was written, how many deliveries the gateway counted
 * and which value it holds at the end.
 */

const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

function tempDir(prefix: string): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

async function gateway(port = 0): Promise<RunningGateway> {
  const gw = await startPushgateway([], port);
  cleanups.push(() => gw.stop());
  return gw;
}

/** A server on loopback that answers 200 to everything and remembers what it got. */
async function captureServer(): Promise<{ url: string; port: number; seen: Array<{ method: string; url: string; headers: IncomingHttpHeaders; body: string }> }> {
  const seen: Array<{ method: string; url: string; headers: IncomingHttpHeaders; body: string }> = [];
  const server = createServer((req, res) => {
    let body = "";
    req.setEncoding("utf8").on("data", (c: string) => (body += c));
    req.on("end", () => {
      seen.push({ method: req.method ?? "", url: req.url ?? "", headers: req.headers, body });
      res.end("ok");
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  cleanups.push(() => new Promise<void>((resolve) => server.close(() => resolve())));
  const { port } = server.address() as AddressInfo;
  return { url: `http://127.0.0.1:${port}`, port, seen };
}

/** The gateway's own count of the pushes it took (POST answered 200). */
async function pushesCounted(gw: RunningGateway, method = "post"): Promise<number> {
  const text = await (await fetch(`${gw.url}/metrics`)).text();
  return Number(new RegExp(`pushgateway_http_requests_total\\{code="200",handler="push",method="${method}"\\} (\\d+)`).exec(text)?.[1] ?? 0);
}

async function valueOf(gw: RunningGateway, labels: Record<string, string>, metric = "m"): Promise<string | undefined> {
  return family(findGroup(await readGroups(gw.url), labels), metric)?.metrics[0]?.value;
}

/** The folder a gateway's queue lives in, made as pushgw makes it (0700). */
function queueFolder(spool: string, baseUrl: string): string {
  const folder = join(spool, spoolFolderName(baseUrl));
  mkdirSync(folder, { recursive: true, mode: 0o700 });
  return folder;
}

let planted = 0;
/** Writes a file into a queue under a name that sorts where `order` says (oldest first). */
function plant(folder: string, content: unknown, order = planted++): string {
  const path = join(folder, `${String(order).padStart(15, "0")}-00000001-${String(planted++).padStart(6, "0")}.json`);
  writeFileSync(path, typeof content === "string" ? content : JSON.stringify(content), { mode: 0o600 });
  return path;
}

const entry = (baseUrl: string, path: string, body: string, savedAt = 1) => ({ version: 1, method: "POST", baseUrl, path, body, savedAt });

/** Every path below `dir` with what it is: file contents, link targets, directories. */
function tree(dir: string): Record<string, string> {
  const out: Record<string, string> = {};
  const walk = (d: string, prefix: string) => {
    for (const name of readdirSync(d).sort()) {
      const path = join(d, name);
      const info = lstatSync(path);
      if (info.isSymbolicLink()) out[prefix + name] = `-> ${readlinkSync(path)}`;
      else if (info.isDirectory()) walk(path, `${prefix}${name}/`);
      else out[prefix + name] = readFileSync(path, "utf8");
    }
  };
  walk(dir, "");
  return out;
}

function tokenFile(token: string): string {
  const file = join(tempDir("pushgw-token-"), "token");
  writeFileSync(file, `${token}\n`, { mode: 0o600 });
  return file;
}

describe("the spool is not a door: entries pushgw did not write are set aside, never sent", () => {
  it("a planted entry whose path is @host:port/steal does not send the bearer token of `add` to that host", async () => {
    const gw = await gateway();
    const capture = await captureServer();
    const spool = tempDir("pushgw-spool-");
    const folder = queueFolder(spool, gw.url);
    plant(folder, entry(gw.url, `@127.0.0.1:${capture.port}/steal`, "stolen 1\n"));
    // The same theft through a gateway the folder is not for.
    plant(folder, entry(capture.url, "/metrics/job/steal", "stolen 1\n"));

    const run = await runCli(["add", "-g", gw.url, "--spool", spool, "--bearer-token-file", tokenFile("tok-SECRET-4711"), "-j", "victim", "--no-instance", "m=1"]);

    expect(capture.seen).toEqual([]);
    expect(run.code).toBe(0);
    expect(run.stderr).toContain(`its path "@127.0.0.1:${capture.port}/steal" is not a grouping-key path: it does not start with /metrics/`);
    expect(run.stderr).toContain(`it names the gateway "${capture.url}", but lies in another gateway's folder`);
    expect(run.stderr).not.toContain("tok-SECRET");
    expect(await pushesCounted(gw)).toBe(1);
    expect(await valueOf(gw, { job: "victim" })).toBe("1");
    expect(findGroup(await readGroups(gw.url), { job: "steal" })).toBeUndefined();
    // Kept for a person to look at, out of the queue.
    expect(Object.keys(tree(spool)).filter((p) => p.startsWith("set-aside/"))).toHaveLength(2);
    expect(readdirSync(folder).filter((n) => n.endsWith(".json"))).toEqual([]);
  });

  it("flush sends nothing to a gateway named only by a file planted in another gateway's folder", async () => {
    const gw = await gateway();
    const capture = await captureServer();
    const spool = tempDir("pushgw-spool-");
    plant(queueFolder(spool, gw.url), entry(capture.url, "/metrics/job/steal", "stolen 1\n"));
    // A folder named as pushgw would name the capture server's, holding a call for it with a
    // path pushgw would not build: still nothing goes there.
    plant(queueFolder(spool, capture.url), { ...entry(capture.url, "/metrics/job/x", "stolen 1\n"), path: "/metrics/job/x/../../../steal" });

    const flushed = await runCli(["flush", "--spool", spool, "-g", gw.url, "--bearer-token-file", tokenFile("tok-SECRET-4711")]);

    expect(capture.seen).toEqual([]);
    expect(flushed.code).toBe(1);
    expect(flushed.stderr).toContain(`it names the gateway "${capture.url}", but lies in another gateway's folder`);
    expect(flushed.stderr).toMatch(/its path "\/metrics\/job\/x\/\.\.\/\.\.\/\.\.\/steal" is not a grouping-key path/);
    expect(flushed.stderr).not.toContain("tok-SECRET");
    expect(await pushesCounted(gw)).toBe(0);
  });

  it("flush sets aside every malformed entry with its reason and delivers the rest of the queue in order (no exit 70, no queue blocked forever)", async () => {
    const gw = await gateway();
    const spool = tempDir("pushgw-spool-");
    const folder = queueFolder(spool, gw.url);
    const victim = join(tempDir("pushgw-victim-"), "secret.json");
    writeFileSync(victim, JSON.stringify(entry(gw.url, "/metrics/job/queue", "from_victim_file 1\n")));
    plant(folder, entry(gw.url, "/metrics/job/queue", "m 1\n", 1));
    plant(folder, { version: 1 }); // flush used to crash on this: exit 70
    plant(folder, { ...entry(gw.url, "/metrics/job/queue", "m 9\n"), body: 42 }); // used to block the queue as "could not connect"
    plant(folder, { ...entry(gw.url, "/metrics/job/queue", "m 9\n"), headers: { "x-evil": "1" } });
    plant(folder, { ...entry(gw.url, "/metrics/job/queue", "m 9\n"), method: "GET" });
    plant(folder, entry(gw.url, "/metrics/job/queue/../../api/v1/admin/wipe", "m 9\n"));
    plant(folder, "{ not json");
    const linked = join(folder, `${String(planted++).padStart(15, "0")}-link.json`);
    symlinkSync(victim, linked);
    const foreign = plant(folder, entry(gw.url, "/metrics/job/queue", "m 9\n"));
    chownSync(foreign, 65534, 65534);
    const fifo = join(folder, `${String(planted++).padStart(15, "0")}-fifo.json`);
    expect(spawnSync("mkfifo", [fifo]).status).toBe(0);
    plant(folder, entry(gw.url, "/metrics/job/queue", "m 2\n", 2));
    plant(folder, entry(gw.url, "/metrics/job/other", "m 3\n", 3));

    const flushed = await runCli(["flush", "--spool", spool], { timeoutMs: 20_000 });

    expect(flushed.signal).toBeNull();
    expect(flushed.code).toBe(1);
    for (const why of [
      /method undefined is not PUT, POST or DELETE/,
      /its body is not text: 42/,
      /a field pushgw never writes: "headers"/,
      /its method "GET" is not PUT, POST or DELETE/,
      /not a grouping-key path: the label name "\.\." |not a grouping-key path: .*(invalid label name|always sends)/,
      /it is not JSON/,
      /it is a symbolic link/,
      /it belongs to uid 65534, not to uid 0/,
      /it is not a regular file/,
    ]) {
      expect(flushed.stderr).toMatch(why);
    }
    expect(flushed.stderr).toContain(`flush ${gw.url}: delivered 3`);
    expect(await pushesCounted(gw)).toBe(3);
    expect(await valueOf(gw, { job: "queue" })).toBe("2");
    expect(await valueOf(gw, { job: "other" })).toBe("3");
    expect(findGroup(await readGroups(gw.url), { job: "queue" })?.["from_victim_file"]).toBeUndefined();
    expect(readdirSync(join(spool, "set-aside", spoolFolderName(gw.url)))).toHaveLength(9);
    expect(readdirSync(folder).filter((n) => !n.startsWith("."))).toEqual([]);
    // The link was moved, not followed: the file it points at is as it was.
    expect(JSON.parse(readFileSync(victim, "utf8")).body).toBe("from_victim_file 1\n");
  });

  it("a symbolic link planted as an entry is neither read nor sent by a root `add`", async () => {
    const gw = await gateway();
    const spool = tempDir("pushgw-spool-");
    const folder = queueFolder(spool, gw.url);
    const victim = join(tempDir("pushgw-victim-"), "shadow.json");
    const victimText = JSON.stringify(entry(gw.url, "/metrics/job/victim", "root_only_secret 1\n"));
    writeFileSync(victim, victimText, { mode: 0o600 });
    symlinkSync(victim, join(folder, "000000000000001-00000001-000000.json"));

    const run = await runCli(["add", "-g", gw.url, "--spool", spool, "-j", "mine", "--no-instance", "m=1"]);

    expect(run.code).toBe(0);
    expect(run.stderr).toMatch(/not a call pushgw saved \(it is a symbolic link\); it was not sent/);
    expect(run.stderr).not.toContain("root_only_secret");
    expect(readFileSync(victim, "utf8")).toBe(victimText);
    expect(findGroup(await readGroups(gw.url), { job: "victim" })).toBeUndefined();
    expect(await pushesCounted(gw)).toBe(1);
    expect(await valueOf(gw, { job: "mine" })).toBe("1");
  });

  it("8,000 planted .tmp- links to a victim file: a root `add` saving to the spool neither overwrites nor reads it", async () => {
    const port = await unusedPort();
    const url = `http://127.0.0.1:${port}`;
    const spool = tempDir("pushgw-spool-");
    const folder = queueFolder(spool, url);
    const victim = join(tempDir("pushgw-victim-"), "passwd");
    writeFileSync(victim, "root:x:0:0:root:/root:/bin/bash\n", { mode: 0o644 });
    // The run's pid is known before it starts (sh execs node in place), so every name the
    // old `.tmp-<time>-<pid>-<seq>.json` scheme could use in the next 8 seconds is a link.
    const child = spawn("sh", ["-c", 'read go; exec "$0" "$@"', NODE, BIN, "add", "-g", url, "--spool", spool, "--retries", "0", "-j", "tmp", "--no-instance", "m=7"], {
      env: { PATH: process.env["PATH"] ?? "/usr/bin:/bin" },
      stdio: ["pipe", "pipe", "pipe"],
    });
    const done = new Promise<CliRun>((resolve) => {
      let stderr = "";
      child.stderr!.setEncoding("utf8").on("data", (c: string) => (stderr += c));
      child.stdout!.resume();
      child.on("close", (code, signal) => resolve({ code, signal, stdout: "", stderr }));
    });
    const start = Date.now();
    for (let t = start; t < start + 8_000; t++) {
      symlinkSync(victim, join(folder, `.tmp-${String(t).padStart(15, "0")}-${String(child.pid).padStart(8, "0")}-000000.json`));
    }
    child.stdin!.end("go\n");
    const run = await done;

    expect(run.code).toBe(75);
    expect(readFileSync(victim, "utf8")).toBe("root:x:0:0:root:/root:/bin/bash\n");
    expect(statSync(victim).mode & 0o777).toBe(0o644);
    const saved = readdirSync(folder).filter((n) => !n.startsWith("."));
    expect(saved).toHaveLength(1);
    expect(lstatSync(join(folder, saved[0]!)).isFile()).toBe(true);
    expect(lstatSync(join(folder, saved[0]!)).mode & 0o777).toBe(0o600);
    expect(readdirSync(folder).filter((n) => n.startsWith(".tmp-"))).toHaveLength(8_000);

    const gw = await gateway(port);
    expect((await runCli(["flush", "--spool", spool])).code).toBe(0);
    expect(await pushesCounted(gw)).toBe(1);
    expect(await valueOf(gw, { job: "tmp" })).toBe("7");
    expect(readFileSync(victim, "utf8")).toBe("root:x:0:0:root:/root:/bin/bash\n");
  });

  it("a gateway's folder that is a link to another directory is never written into: the push goes straight to the gateway, with one warning", async () => {
    const gw = await gateway();
    const spool = tempDir("pushgw-spool-");
    const elsewhere = tempDir("pushgw-elsewhere-");
    symlinkSync(elsewhere, join(spool, spoolFolderName(gw.url)));
    const deadUrl = `http://127.0.0.1:${await unusedPort()}`;
    symlinkSync(elsewhere, join(spool, spoolFolderName(deadUrl)));

    const live = await runCli(["add", "-g", gw.url, "--spool", spool, "-j", "linked", "--no-instance", "m=1"]);
    expect(live.code).toBe(0);
    expect(live.stderr.match(/warning:/g)).toHaveLength(1);
    expect(live.stderr).toMatch(/spool .* cannot be (used|read) \(.*is a symbolic link\); sending without it/);
    expect(await valueOf(gw, { job: "linked" })).toBe("1");

    const dead = await runCli(["add", "-g", deadUrl, "--spool", spool, "--retries", "0", "-j", "linked", "m=1"]);
    expect(dead.code).toBe(1);
    expect(dead.stderr).toMatch(/it was not saved: the spool .* cannot be (used|read) \(.*is a symbolic link\)/);
    expect(readdirSync(elsewhere)).toEqual([]);
  });
});

describe("the spool directory must be the user's alone (as ssh judges ~/.ssh)", () => {
  it.each([
    ["writable by everyone (0777)", (dir: string) => chmodSync(dir, 0o777), /is writable by others \(mode 0777\)/, /chmod 700/],
    ["writable by its group (0770)", (dir: string) => chmodSync(dir, 0o770), /is writable by its group \(mode 0770\)/, /chmod 700/],
    ["owned by another user", (dir: string) => chownSync(dir, 65534, 65534), /belongs to uid 65534, not to uid 0 running pushgw/, /chown 0 /],
  ])("a spool %s: flush refuses (exit 2, with a hint) and sends nothing; add delivers directly and warns once", async (_, loosen, problem, hint) => {
    const gw = await gateway();
    const spool = tempDir("pushgw-spool-");
    plant(queueFolder(spool, gw.url), entry(gw.url, "/metrics/job/planted", "m 666\n"));
    loosen(spool);
    const before = tree(spool);

    const flushed = await runCli(["flush", "--spool", spool]);
    expect(flushed.code).toBe(2);
    expect(flushed.stderr).toMatch(problem);
    expect(flushed.stderr).toMatch(new RegExp(`hint: .*${hint.source}`));

    const added = await runCli(["add", "-g", gw.url, "--spool", spool, "-j", "mine", "--no-instance", "m=1"]);
    expect(added.code).toBe(0);
    expect(added.stderr.match(/warning:/g)).toHaveLength(1);
    expect(added.stderr).toMatch(/the spool .* cannot be used \(.*\); sending without it/);

    expect(findGroup(await readGroups(gw.url), { job: "planted" })).toBeUndefined();
    expect(await pushesCounted(gw)).toBe(1);
    expect(await valueOf(gw, { job: "mine" })).toBe("1");
    expect(tree(spool)).toEqual(before);
  });

  it("a gateway's folder writable by others is refused the same way", async () => {
    const gw = await gateway();
    const spool = tempDir("pushgw-spool-");
    const folder = queueFolder(spool, gw.url);
    plant(folder, entry(gw.url, "/metrics/job/planted", "m 666\n"));
    chmodSync(folder, 0o777);
    const flushed = await runCli(["flush", "--spool", spool]);
    expect(flushed.code).toBe(2);
    expect(flushed.stderr).toMatch(/is writable by others \(mode 0777\)/);
    expect(await pushesCounted(gw)).toBe(0);
  });

  it("a parent writable by others is refused unless it has the sticky bit (as /tmp does)", async () => {
    const gw = await gateway();
    const parent = tempDir("pushgw-parent-");
    const spool = join(parent, "spool");
    chmodSync(parent, 0o777);
    const refused = await runCli(["add", "-g", gw.url, "--spool", spool, "-j", "parent", "--no-instance", "m=1"]);
    expect(refused.code).toBe(0);
    expect(refused.stderr).toMatch(/cannot be used \(its parent .*pushgw-parent-\w+ is writable by others without the sticky bit \(mode 0777\)\)/);
    expect((await runCli(["flush", "--spool", spool])).code).toBe(2);

    chmodSync(parent, 0o1777);
    const accepted = await runCli(["add", "-g", gw.url, "--spool", spool, "-j", "parent", "--no-instance", "m=2"]);
    expect(accepted.stderr).toBe("");
    expect(accepted.code).toBe(0);
    expect(await valueOf(gw, { job: "parent" })).toBe("2");
  });

  it("a spool pushgw creates is 0700, its entries 0600", async () => {
    const spool = join(tempDir("pushgw-parent-"), "new", "spool");
    const url = `http://127.0.0.1:${await unusedPort()}`;
    expect((await runCli(["add", "-g", url, "--spool", spool, "--retries", "0", "-j", "fresh", "m=1"], { env: {} })).code).toBe(75);
    expect(statSync(spool).mode & 0o777).toBe(0o700);
    const folder = join(spool, spoolFolderName(url));
    expect(statSync(folder).mode & 0o777).toBe(0o700);
    const [file] = readdirSync(folder);
    expect(statSync(join(folder, file!)).mode & 0o777).toBe(0o600);
  });
});

/**
 * Starts `count` runs that wait (in sh, before exec'ing node) until all are there, then lets
 * them go at the same instant, so that they meet the lock together.
 */
async function runTogether(count: number, args: readonly string[]): Promise<CliRun[]> {
  const runs = Array.from({ length: count }, () => {
    const child = spawn("sh", ["-c", 'read go; exec "$0" "$@"', NODE, BIN, ...args], { env: { PATH: process.env["PATH"] ?? "/usr/bin:/bin" }, stdio: ["pipe", "pipe", "pipe"] });
    const timer = setTimeout(() => child.kill("SIGKILL"), 90_000);
    const done = new Promise<CliRun>((resolve) => {
      let stdout = "";
      let stderr = "";
      child.stdout!.setEncoding("utf8").on("data", (c: string) => (stdout += c));
      child.stderr!.setEncoding("utf8").on("data", (c: string) => (stderr += c));
      child.on("close", (code, signal) => {
        clearTimeout(timer);
        resolve({ code, signal, stdout, stderr });
      });
    });
    return { child, done };
  });
  await Promise.all(runs.map((r) => new Promise<void>((resolve) => (r.child.pid !== undefined ? resolve() : r.child.once("spawn", () => resolve())))));
  for (const r of runs) r.child.stdin!.end("go\n");
  return Promise.all(runs.map((r) => r.done));
}

/** This process's lock token, as a live pushgw would write it. */
function liveToken(): string {
  const stat = readFileSync("/proc/self/stat", "utf8");
  const start = stat.slice(stat.lastIndexOf(")") + 2).split(" ")[19];
  return `${process.pid} ${start} 0123456789abcdef`;
}

/** A pid that ran and is gone. */
function deadPid(): number {
  const child = spawnSync("sh", ["-c", "echo $$"], { encoding: "utf8" });
  return Number(child.stdout.trim());
}

describe("one winner when many runs find a stale lock", () => {
  const GROUPS = 20;
  const PER_GROUP = 5;

  /** 100 entries: 20 groups, each with values from+1..from+5 saved in that order. */
  function fillQueue(spool: string, baseUrl: string, from = 0): string {
    const folder = queueFolder(spool, baseUrl);
    for (let value = from + 1; value <= from + PER_GROUP; value++) {
      for (let group = 0; group < GROUPS; group++) {
        plant(folder, entry(baseUrl, `/metrics/job/race/instance/g${group}`, `m ${value}\n`, value), value * 1000 + group);
      }
    }
    return folder;
  }

  async function expectEachGroupHolds(gw: RunningGateway, value: number): Promise<void> {
    const groups = await readGroups(gw.url);
    const values = Array.from({ length: GROUPS }, (_, g) => family(findGroup(groups, { job: "race", instance: `g${g}` }), "m")?.metrics[0]?.value);
    expect(values).toEqual(Array.from({ length: GROUPS }, () => String(value)));
  }

  it.each([
    ["its holder is dead", () => `${deadPid()} 12345 00000000deadbeef`],
    ["its pid now belongs to another process (start time differs)", () => `${process.pid} 1 00000000deadbeef`],
    ["an older pushgw left only a dead pid", () => String(deadPid())],
  ])("20 flushes at once over 100 entries behind a lock whose %s: exactly 100 deliveries, every group holds its newest value (twice over)", async (_, staleToken) => {
    const gw = await gateway();
    const spool = tempDir("pushgw-spool-");
    // Two rounds: the race is won or lost in a few milliseconds, so give it two chances to show.
    for (const round of [1, 2]) {
      const folder = fillQueue(spool, gw.url, (round - 1) * PER_GROUP);
      writeFileSync(join(folder, ".lock"), staleToken(), { mode: 0o600 });
      const runs = await runTogether(20, ["flush", "--spool", spool]);
      expect(runs.map((r) => r.code).filter((c) => c !== 0 && c !== 75)).toEqual([]);
      expect((await runCli(["flush", "--spool", spool])).code).toBe(0);
      expect(await pushesCounted(gw)).toBe(round * GROUPS * PER_GROUP);
      await expectEachGroupHolds(gw, round * PER_GROUP);
      expect(readdirSync(folder)).toEqual([]);
    }
  }, 120_000);

  it("a live lock is never taken over, even by 20 runs at once", async () => {
    const gw = await gateway();
    const spool = tempDir("pushgw-spool-");
    const folder = fillQueue(spool, gw.url);
    const token = liveToken();
    writeFileSync(join(folder, ".lock"), token, { mode: 0o600 });
    const runs = await runTogether(20, ["flush", "--spool", spool]);
    expect(runs.map((r) => r.code)).toEqual(Array.from({ length: 20 }, () => 75));
    expect(runs[0]!.stderr).toMatch(/100 still waiting \(another pushgw is delivering them\)/);
    expect(readFileSync(join(folder, ".lock"), "utf8")).toBe(token);
    expect(await pushesCounted(gw)).toBe(0);
  }, 120_000);

  it("a takeover guard left by a run that died is cleared once it is old, and the stale lock is then taken over once", async () => {
    const gw = await gateway();
    const spool = tempDir("pushgw-spool-");
    const folder = fillQueue(spool, gw.url);
    const stale = `${deadPid()} 12345 00000000deadbeef`;
    writeFileSync(join(folder, ".lock"), stale, { mode: 0o600 });
    const { createHash } = await import("node:crypto");
    const guard = join(folder, `.takeover-${createHash("sha256").update(stale).digest("hex").slice(0, 16)}`);
    writeFileSync(guard, `${deadPid()} 12345 00000000feedface`, { mode: 0o600 });

    // A fresh guard may belong to a run that is still at work: left alone.
    const early = await runCli(["flush", "--spool", spool]);
    expect(early.code).toBe(75);
    expect(existsSync(guard)).toBe(true);

    const old = (Date.now() - 60_000) / 1000;
    utimesSync(guard, old, old);
    const runs = await runTogether(10, ["flush", "--spool", spool]);
    expect(runs.map((r) => r.code).filter((c) => c !== 0 && c !== 75)).toEqual([]);
    expect((await runCli(["flush", "--spool", spool])).code).toBe(0);
    expect(await pushesCounted(gw)).toBe(GROUPS * PER_GROUP);
    await expectEachGroupHolds(gw, PER_GROUP);
  }, 120_000);
});

describe("flush --retry-set-aside", () => {
  it("puts refused calls back into their queue once the cause is gone, keeps what is still no call pushgw would send, and says which", async () => {
    const gw = await gateway();
    const spool = tempDir("pushgw-spool-");
    const folder = queueFolder(spool, gw.url);
    // The owner's gauge makes the gateway refuse the saved counter: set aside.
    expect((await runCli(["add", "-g", gw.url, "-j", "owner", "-t", "gauge", "kind_clash=1"])).code).toBe(0);
    plant(folder, entry(gw.url, "/metrics/job/refused/instance/vm", "# TYPE kind_clash counter\nkind_clash 5\n", 1));
    plant(folder, { ...entry(gw.url, "/metrics/job/x", "m 1\n", 2), path: "@evil/steal" });
    const first = await runCli(["flush", "--spool", spool]);
    expect(first.code).toBe(1);
    expect(first.stderr).toMatch(/refused, and set aside/);
    expect(first.stderr).toMatch(/not a call pushgw saved \(its path "@evil\/steal"/);
    const asideFolder = join(spool, "set-aside", spoolFolderName(gw.url));
    expect(readdirSync(asideFolder)).toHaveLength(2);

    // Without the flag, set-aside calls stay where they are.
    expect((await runCli(["flush", "--spool", spool, "-v"])).stderr).toMatch(/is empty/);
    expect(await pushesCounted(gw)).toBe(1);

    expect((await runCli(["delete", "-g", gw.url, "-j", "owner"])).code).toBe(0);
    const retried = await runCli(["flush", "--spool", spool, "--retry-set-aside"]);
    expect(retried.stderr).toMatch(/put 1 set-aside call\(s\) back into their queues/);
    expect(retried.stderr).toMatch(/still set aside, not a call pushgw would send \(its path "@evil\/steal"/);
    expect(retried.stderr).toContain(`flush ${gw.url}: delivered 1`);
    expect(retried.code).toBe(1);
    expect(await pushesCounted(gw)).toBe(2);
    expect(await valueOf(gw, { job: "refused", instance: "vm" }, "kind_clash")).toBe("5");
    expect(readdirSync(asideFolder)).toHaveLength(1);
  });

  it("takes back what an older pushgw set aside without a folder", async () => {
    const gw = await gateway();
    const spool = tempDir("pushgw-spool-");
    mkdirSync(join(spool, "set-aside"), { mode: 0o700 });
    writeFileSync(join(spool, "set-aside", "000000000000001-00000001-000000.json"), JSON.stringify(entry(gw.url, "/metrics/job/legacy", "m 4\n")), { mode: 0o600 });
    const retried = await runCli(["flush", "--spool", spool, "--retry-set-aside"]);
    expect(retried.code).toBe(0);
    expect(await valueOf(gw, { job: "legacy" })).toBe("4");
  });
});

describe("a saved call whose gateway wants credentials this run lacks", () => {
  it("stays queued (401 is not the call's fault), the run says which credentials it waits for, and a run with them delivers it", async () => {
    const fixtures = new URL("../fixtures/transport/", import.meta.url);
    const [user, password] = readFileSync(new URL("users.txt", fixtures), "utf8").trim().split("\n") as [string, string];
    const config = join(tempDir("pushgw-auth-"), "web.yml");
    writeFileSync(config, `basic_auth_users:\n  ${user}: $2b$04$yQIS/gVFHTI950w0nF4M9eu0qOsPVUn773lBmeq883DYLuYrSQCD2\n`);
    const port = await unusedPort();
    const url = `http://127.0.0.1:${port}`;
    const spool = tempDir("pushgw-spool-");
    const saved = await runCli(["add", "-g", `http://${user}:${password}@127.0.0.1:${port}`, "--spool", spool, "--retries", "0", "-j", "authed", "--no-instance", "m=5"]);
    expect(saved.code).toBe(75);
    expect(tree(spool)[Object.keys(tree(spool))[0]!]).not.toContain(password);
    const gw = await startPushgateway([`--web.config.file=${config}`], port);
    cleanups.push(() => gw.stop());

    const without = await runCli(["flush", "--spool", spool]);
    expect(without.code).toBe(75);
    expect(without.stderr).toContain(`${url} wants credentials; its calls stay in the spool until a run names it: pushgw flush -g ${url} with its --user or --bearer-token-file`);
    expect(existsSync(join(spool, "set-aside"))).toBe(false);

    const withThem = await runCli(["flush", "--spool", spool, "-g", url, "-u", `${user}:${password}`]);
    expect(withThem.code).toBe(0);
    const groups = (await (await fetch(`${url}/api/v1/metrics`, { headers: { authorization: `Basic ${Buffer.from(`${user}:${password}`).toString("base64")}` } })).json()) as { data: Parameters<typeof findGroup>[0] };
    expect(family(findGroup(groups.data, { job: "authed" }), "m")?.metrics[0]?.value).toBe("5");
  });
});
