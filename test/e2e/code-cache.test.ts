import { execFileSync, spawn } from "node:child_process";
import { chmodSync, cpSync, existsSync, lstatSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, symlinkSync, utimesSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, describe, expect, it } from "vitest";
import { cacheDirectory } from "../../src/adapters/cache-directory.js";
import { family, findGroup, readGroups, startPushgateway, type RunningGateway } from "../helpers/pushgateway.js";
import { NODE, runCli, type CliRun } from "../helpers/run-cli.js";

/**
 * The V8 code cache bin/pushgw keeps (src/adapters/v8-code-cache.ts). The launcher is run
 * directly here; the last test checks that bin/pushgw sends every Node through it.
 */
const dist = fileURLToPath(new URL("../../dist/", import.meta.url));
const launcher = join(dist, "launch.cjs");
const work = mkdtempSync(join(tmpdir(), "pushgw-cache-"));
const VERSION = /^\d+\.\d+\.\d+/;

function launch(args: readonly string[], env: Record<string, string | undefined>, nodeArgs: readonly string[] = [], after = ""): Promise<CliRun> {
  const code = `require(${JSON.stringify(launcher)}).launch(${JSON.stringify(dist)}, process.argv.slice(1))${after}`;
  const childEnv: Record<string, string> = { PATH: process.env["PATH"] ?? "/usr/bin:/bin" };
  for (const [k, v] of Object.entries(env)) if (v !== undefined) childEnv[k] = v;
  const child = spawn(NODE, [...nodeArgs, "-e", code, "--", ...args], { env: childEnv, stdio: ["ignore", "pipe", "pipe"] });
  let stdout = "";
  let stderr = "";
  child.stdout.setEncoding("utf8").on("data", (c: string) => (stdout += c));
  child.stderr.setEncoding("utf8").on("data", (c: string) => (stderr += c));
  return new Promise((resolve, reject) => {
    child.on("error", reject);
    child.on("close", (code, signal) => resolve({ code, signal, stdout, stderr }));
  });
}

/** The version of the Node that runs the CLI (CI runs the suite with Node 22 and 24 too). */
function nodeVersion(): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(NODE, ["-p", "process.version"], { stdio: ["ignore", "pipe", "ignore"] });
    let out = "";
    child.stdout.setEncoding("utf8").on("data", (c: string) => (out += c));
    child.on("error", reject);
    child.on("close", () => resolve(out.trim()));
  });
}

const fresh = (name: string) => {
  const dir = join(work, name);
  mkdirSync(dir, { recursive: true });
  return dir;
};
const mainCache = (dir: string) => join(dir, cacheFiles(dir).find((f) => /-[0-9a-f]{16}-pushgw\.v8cache$/.test(f))!);
const cacheFiles = (dir: string) => (existsSync(dir) ? readdirSync(dir).filter((f) => f.endsWith(".v8cache")).sort() : []);
/** Inode and change time of each cache file: a rewritten file is a new inode (rename). */
const identities = (dir: string) => cacheFiles(dir).map((f) => `${f}:${statSync(join(dir, f)).ino}`);

const ok = (run: CliRun) => {
  expect(run.stderr).toBe("");
  expect(run.code).toBe(0);
  expect(run.stdout.trim()).toMatch(VERSION);
};

// Loaded first by a run that compares V8's flags before and after (a global, for the -e code).
writeFileSync(join(work, "tag.cjs"), 'globalThis.tag = require("node:v8").cachedDataVersionTag();\n');

afterAll(() => rmSync(work, { recursive: true, force: true }));

describe("where the cache lives", () => {
  it.each([
    [{ XDG_CACHE_HOME: "/x/cache", HOME: "/home/u" }, "/x/cache/pushgw"],
    [{ HOME: "/home/u" }, "/home/u/.cache/pushgw"],
    [{ XDG_CACHE_HOME: "relative/dir", HOME: "/home/u" }, "/home/u/.cache/pushgw"],
    [{ XDG_CACHE_HOME: "", HOME: "/home/u" }, "/home/u/.cache/pushgw"],
    [{}, undefined],
    [{ HOME: "" }, undefined],
    [{ HOME: "relative" }, undefined],
  ])("%j → %s", (env, expected) => {
    expect(cacheDirectory(env)).toBe(expected);
  });
});

describe("the launcher", () => {
  it.each(["/proc", "/proc/self"])("starts with HOME=%s, where no cache directory can be made", async (home) => {
    ok(await launch(["--version"], { HOME: home }));
  });

  it("runs a dist/ where some files are an older build's, written without the function wrapper (an upgrade under way)", async () => {
    const mixed = fresh("mixed-dist");
    cpSync(dist, mixed, { recursive: true });
    const wrapper = "(function (exports, require, module, __filename, __dirname) {";
    const main = join(mixed, "pushgw.cjs");
    const text = readFileSync(main, "utf8");
    expect(text.startsWith(wrapper) && text.endsWith("\n})")).toBe(true);
    writeFileSync(main, text.slice(wrapper.length, -"\n})".length));
    const code = `require(${JSON.stringify(join(mixed, "launch.cjs"))}).launch(${JSON.stringify(mixed)}, ["--version"])`;
    const run = execFileSync(NODE, ["-e", code], { env: { PATH: process.env["PATH"] ?? "/usr/bin:/bin" }, encoding: "utf8" });
    expect(run.trim()).toMatch(VERSION);
  });
});

describe("the code cache", () => {
  it("is written by the first run and used, not rewritten, by the next", async () => {
    const xdg = fresh("first");
    ok(await launch(["--version"], { XDG_CACHE_HOME: xdg }));
    const dir = join(xdg, "pushgw");
    expect(statSync(dir).mode & 0o777).toBe(0o700);
    const files = cacheFiles(dir);
    expect(files.length).toBeGreaterThan(0);
    for (const f of files) {
      expect(f).toMatch(/^pushgw-v\d+\.\d+\.\d+-\w+-[0-9a-f]{16}-[\w-]+\.v8cache$/);
      expect(statSync(join(dir, f)).mode & 0o777).toBe(0o600);
    }
    const before = identities(dir);
    ok(await launch(["--version"], { XDG_CACHE_HOME: xdg }));
    // Rejected by V8 (a different flag set, a stale build), it would be written again.
    expect(identities(dir)).toEqual(before);
  });

  it("a push with the cache lands exactly as one without", async () => {
    const gw: RunningGateway = await startPushgateway();
    try {
      const xdg = fresh("push");
      const seen: string[][] = [];
      for (const n of [1, 2, 3]) {
        const run = await launch(["add", "-g", gw.url, "-j", "cached", "--no-instance", `cached_m=${n}`], { XDG_CACHE_HOME: xdg });
        expect(run.stderr).toBe("");
        expect(run.code).toBe(0);
        seen.push(identities(join(xdg, "pushgw")));
      }
      // Made after a push (which sets V8 flags for undici), the caches are still accepted by the next.
      expect(seen[2]).toEqual(seen[1]);
      expect(seen[1]).toEqual(seen[0]);
      const group = findGroup(await readGroups(gw.url), { job: "cached" });
      expect(family(group, "cached_m")?.metrics[0]?.value).toBe("3");
      // The chunks a push loads (undici) have caches of their own.
      expect(cacheFiles(join(xdg, "pushgw")).length).toBeGreaterThan(2);
    } finally {
      await gw.stop();
    }
  });

  it("a push after --version writes the cache again, with what the push compiled; the next push leaves it", async () => {
    const gw: RunningGateway = await startPushgateway();
    try {
      const xdg = fresh("grows");
      const dir = join(xdg, "pushgw");
      ok(await launch(["--version"], { XDG_CACHE_HOME: xdg }));
      const afterVersion = statSync(mainCache(dir));
      const push = () => launch(["add", "-g", gw.url, "-j", "grows", "--no-instance", "grows_m=1"], { XDG_CACHE_HOME: xdg });
      expect((await push()).code).toBe(0);
      const afterPush = statSync(mainCache(dir));
      expect(afterPush.ino, "rewritten").not.toBe(afterVersion.ino);
      expect(afterPush.size).toBeGreaterThan(afterVersion.size * 1.1);
      expect((await push()).code).toBe(0);
      expect(statSync(mainCache(dir)).ino, "a cache that holds the push is kept").toBe(afterPush.ino);
      // …and --version, which it holds too, leaves it as well.
      ok(await launch(["--version"], { XDG_CACHE_HOME: xdg }));
      expect(statSync(mainCache(dir)).ino).toBe(afterPush.ino);
      // A run that fails (exit 2 here) does not rewrite it: it compiled only the way to its error.
      expect((await launch(["delete", "--no-such-flag"], { XDG_CACHE_HOME: xdg })).code).toBe(2);
      expect(statSync(mainCache(dir)).ino).toBe(afterPush.ino);
    } finally {
      await gw.stop();
    }
  });

  it("runs with other V8 flags keep a cache of their own: the plain one is left as it was, and still used", async () => {
    const xdg = fresh("flags");
    const dir = join(xdg, "pushgw");
    ok(await launch(["--version"], { XDG_CACHE_HOME: xdg }));
    const plain = identities(dir);
    for (const flagged of [
      () => launch(["--version"], { XDG_CACHE_HOME: xdg, NODE_OPTIONS: "--max-old-space-size=200" }),
      () => launch(["--version"], { XDG_CACHE_HOME: xdg }, ["--max-semi-space-size=2"]),
    ]) {
      ok(await flagged());
      const all = identities(dir);
      for (const id of plain) expect(all, "the plain run's cache is untouched").toContain(id);
    }
    expect(cacheFiles(dir).length).toBe(3 * plain.length);
    // A flagged run again uses its own (not rewritten), and a plain run uses the plain one.
    const settled = identities(dir);
    ok(await launch(["--version"], { XDG_CACHE_HOME: xdg, NODE_OPTIONS: "--max-old-space-size=200" }));
    ok(await launch(["--version"], { XDG_CACHE_HOME: xdg }));
    expect(identities(dir)).toEqual(settled);
  });

  it("puts V8's flags back once a cache is read or made: Node's own cache for its built-in modules is checked against them", async () => {
    const xdg = fresh("flags-back");
    // V8's tag for code caches (its version, the CPU's features and the flags), compared as the
    // process exits: after the caches were written.
    const tagAfterRun = '.then(() => process.on("exit", () => require("node:fs").writeSync(1, require("node:v8").cachedDataVersionTag() === tag ? "same flags\\n" : "other flags\\n")))';
    for (const run of ["writes the cache", "reads it"]) {
      const result = await launch(["--version"], { XDG_CACHE_HOME: xdg }, ["--require", join(work, "tag.cjs")], tagAfterRun);
      expect(result.stderr, run).toBe("");
      expect(result.stdout.split("\n")[1], run).toBe("same flags");
    }
  });

  it.each([
    ["garbage", () => Buffer.from("not a V8 code cache at all")],
    ["truncated", (data: Buffer) => data.subarray(0, Math.floor(data.length / 2))],
    ["empty", () => Buffer.alloc(0)],
    // The header still says it is ours; only the checksum pushgw turns on catches this.
    ["one flipped byte in the middle", (data: Buffer) => {
      const copy = Buffer.from(data);
      for (let i = Math.floor(copy.length / 2); i < Math.floor(copy.length / 2) + 64; i++) copy[i] = copy[i]! ^ 0xff;
      return copy;
    }],
  ])("corrupt (%s): ignored, the run is unchanged, and a good cache replaces it", async (_, corrupt) => {
    const xdg = fresh(`corrupt-${_.replace(/\W/g, "-")}`);
    const dir = join(xdg, "pushgw");
    ok(await launch(["--version"], { XDG_CACHE_HOME: xdg }));
    const files = cacheFiles(dir);
    for (const f of files) writeFileSync(join(dir, f), corrupt(readFileSync(join(dir, f))), { mode: 0o600 });
    const corrupted = identities(dir);
    ok(await launch(["--version"], { XDG_CACHE_HOME: xdg }));
    const rewritten = identities(dir);
    for (const [i, id] of corrupted.entries()) expect(rewritten[i], "a corrupt cache is replaced").not.toBe(id);
    // …and the replacement is good: the next run uses it as it is.
    ok(await launch(["--version"], { XDG_CACHE_HOME: xdg }));
    expect(identities(dir)).toEqual(rewritten);
  });

  it("caches of older builds for this Node are removed when a new one is written; the two latest stay", async () => {
    const xdg = fresh("stale");
    const dir = join(xdg, "pushgw");
    mkdirSync(dir, { mode: 0o700 });
    const node = await nodeVersion();
    const build = (hash: string) => `pushgw-${node}-${process.arch}-${hash}-pushgw.v8cache`;
    const otherNode = `pushgw-v1.0.0-${process.arch}-0000000000000000-pushgw.v8cache`;
    // Three other builds, written one after the other: the oldest goes.
    for (const [i, hash] of ["000000000000000a", "000000000000000b", "000000000000000c"].entries()) {
      writeFileSync(join(dir, build(hash)), "old", { mode: 0o600 });
      utimesSync(join(dir, build(hash)), new Date(Date.now() - (3 - i) * 60_000), new Date(Date.now() - (3 - i) * 60_000));
    }
    writeFileSync(join(dir, otherNode), "old", { mode: 0o600 });
    writeFileSync(join(dir, "pushgw-left-by-a-killed-run.tmp"), "x");
    utimesSync(join(dir, "pushgw-left-by-a-killed-run.tmp"), new Date(Date.now() - 120_000), new Date(Date.now() - 120_000));
    ok(await launch(["--version"], { XDG_CACHE_HOME: xdg }));
    expect(existsSync(join(dir, build("000000000000000a"))), "the oldest other build").toBe(false);
    expect(existsSync(join(dir, build("000000000000000b")))).toBe(true);
    expect(existsSync(join(dir, build("000000000000000c")))).toBe(true);
    expect(existsSync(join(dir, otherNode)), "another Node version's cache stays").toBe(true);
    expect(existsSync(join(dir, "pushgw-left-by-a-killed-run.tmp"))).toBe(false);
  });

  it("two builds used in turn keep their caches: neither deletes the other's", async () => {
    const xdg = fresh("two-builds");
    const dir = join(xdg, "pushgw");
    ok(await launch(["--version"], { XDG_CACHE_HOME: xdg }));
    const ours = identities(dir);
    // Another build's cache, written after ours (as when a second install runs).
    const other = `pushgw-${await nodeVersion()}-${process.arch}-00000000000000ff-pushgw.v8cache`;
    writeFileSync(join(dir, other), "another build", { mode: 0o600 });
    rmSync(join(dir, cacheFiles(dir).find((f) => f.endsWith("-pushgw.v8cache") && f !== other)!));
    ok(await launch(["--version"], { XDG_CACHE_HOME: xdg }));
    expect(existsSync(join(dir, other))).toBe(true);
    expect(identities(dir).length).toBe(ours.length + 1);
  });

  it("no HOME and no XDG_CACHE_HOME (cron on some systems): runs, writes nothing", async () => {
    ok(await launch(["--version"], {}));
  });

  it("a directory that cannot be made (a file in the way): runs, writes nothing", async () => {
    const xdg = fresh("blocked");
    writeFileSync(join(xdg, "pushgw"), "a file, not a directory");
    ok(await launch(["--version"], { XDG_CACHE_HOME: xdg }));
    expect(readFileSync(join(xdg, "pushgw"), "utf8")).toBe("a file, not a directory");
    ok(await launch(["--version"], { XDG_CACHE_HOME: join(xdg, "pushgw", "below-a-file") }));
  });

  it("a directory others may write to is not trusted: neither read nor written", async () => {
    const xdg = fresh("shared");
    const dir = join(xdg, "pushgw");
    mkdirSync(dir);
    chmodSync(dir, 0o777);
    ok(await launch(["--version"], { XDG_CACHE_HOME: xdg }));
    expect(cacheFiles(dir)).toEqual([]);
  });

  it("a planted symlink for the directory is not followed", async () => {
    const xdg = fresh("dir-link");
    const elsewhere = fresh("dir-link-target");
    chmodSync(elsewhere, 0o700);
    symlinkSync(elsewhere, join(xdg, "pushgw"));
    ok(await launch(["--version"], { XDG_CACHE_HOME: xdg }));
    expect(readdirSync(elsewhere)).toEqual([]);
  });

  it("a planted symlink for a cache file is neither read through nor written through; it is replaced", async () => {
    const xdg = fresh("file-link");
    const dir = join(xdg, "pushgw");
    ok(await launch(["--version"], { XDG_CACHE_HOME: xdg }));
    const names = cacheFiles(dir);
    const planted = fresh("file-link-planted");
    for (const name of names) {
      // Even a valid cache, reached through a symlink, is not a file of ours: not used.
      writeFileSync(join(planted, name), readFileSync(join(dir, name)));
      rmSync(join(dir, name));
      symlinkSync(join(planted, name), join(dir, name));
    }
    const plantedBefore = names.map((name) => readFileSync(join(planted, name)));
    ok(await launch(["--version"], { XDG_CACHE_HOME: xdg }));
    for (const [i, name] of names.entries()) {
      expect(lstatSync(join(dir, name)).isFile(), `${name} is a regular file again`).toBe(true);
      expect(readFileSync(join(planted, name)).equals(plantedBefore[i]!), `${name}'s target is untouched`).toBe(true);
    }
  });

  it("a cache file owned by someone else is not used", async () => {
    if (process.getuid?.() !== 0) {
      // Only root can give a file away; as anyone else, a file of another user cannot be made here.
      expect(process.getuid?.()).not.toBe(0);
      return;
    }
    const xdg = fresh("foreign");
    const dir = join(xdg, "pushgw");
    ok(await launch(["--version"], { XDG_CACHE_HOME: xdg }));
    const { chownSync } = await import("node:fs");
    for (const name of cacheFiles(dir)) chownSync(join(dir, name), 65534, 65534);
    const foreign = identities(dir);
    ok(await launch(["--version"], { XDG_CACHE_HOME: xdg }));
    const after = identities(dir);
    for (const [i, id] of foreign.entries()) expect(after[i]).not.toBe(id);
    for (const name of cacheFiles(dir)) expect(statSync(join(dir, name)).uid).toBe(0);
  });

  it("a FIFO where a cache file should be: runs, never waiting for a writer on it", async () => {
    const xdg = fresh("fifo");
    const dir = join(xdg, "pushgw");
    ok(await launch(["--version"], { XDG_CACHE_HOME: xdg }));
    const names = cacheFiles(dir);
    for (const name of names) {
      rmSync(join(dir, name));
      execFileSync("mkfifo", ["-m", "600", join(dir, name)]);
    }
    ok(await launch(["--version"], { XDG_CACHE_HOME: xdg }));
    // Replaced by a cache (a rename does not write through a FIFO).
    for (const name of names) expect(lstatSync(join(dir, name)).isFile()).toBe(true);
  }, 15_000);

  it("a directory where the cache's name is taken by a directory: runs", async () => {
    const xdg = fresh("name-taken");
    const dir = join(xdg, "pushgw");
    ok(await launch(["--version"], { XDG_CACHE_HOME: xdg }));
    const names = cacheFiles(dir);
    for (const name of names) {
      rmSync(join(dir, name));
      mkdirSync(join(dir, name));
    }
    ok(await launch(["--version"], { XDG_CACHE_HOME: xdg }));
    ok(await launch(["--version"], { XDG_CACHE_HOME: xdg }));
    for (const name of names) expect(lstatSync(join(dir, name)).isDirectory()).toBe(true);
    expect(readdirSync(dir).filter((f) => f.endsWith(".tmp"))).toEqual([]);
  });

  it("twelve first runs at once: all succeed and leave one good cache, no temporary files", async () => {
    const xdg = fresh("concurrent");
    const dir = join(xdg, "pushgw");
    const runs = await Promise.all(Array.from({ length: 12 }, () => launch(["--version"], { XDG_CACHE_HOME: xdg })));
    for (const run of runs) ok(run);
    expect(readdirSync(dir).filter((f) => f.endsWith(".tmp"))).toEqual([]);
    const settled = identities(dir);
    ok(await launch(["--version"], { XDG_CACHE_HOME: xdg }));
    expect(identities(dir)).toEqual(settled);
  });

  it("bin/pushgw uses it on every Node (Node's own compile cache holds less)", async () => {
    const xdg = fresh("bin");
    const run = await runCli(["--version"], { env: { XDG_CACHE_HOME: xdg } });
    ok(run);
    expect(cacheFiles(join(xdg, "pushgw")).length).toBeGreaterThan(0);
    expect(existsSync(join(xdg, "pushgw", "node-compile-cache"))).toBe(false);
  });
});
