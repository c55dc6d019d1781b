import { spawn, spawnSync } from "node:child_process";
import { chmodSync, closeSync, copyFileSync, existsSync, lstatSync, mkdirSync, mkdtempSync, openSync, readdirSync, readFileSync, readSync, rmSync, statSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ensureTool } from "../helpers/prometheus.js";
import { family, findGroup, readGroups, startPushgateway, type RunningGateway } from "../helpers/pushgateway.js";
import { ARM64_LIBRARIES, ensureDebianFile, run, STANDALONE, VERSION } from "../helpers/standalone.js";

let gw: RunningGateway;
// A copy in a directory of its own: the only pushgw the tests below can reach.
const alone = mkdtempSync(join(tmpdir(), "pushgw-standalone-"));
const executable = join(alone, "pushgw-linux-x64");
// Where wrap keeps what it hands the job (a private directory: docs/threat-model.md); root's
// would be the machine's /run/pushgw.
const runtime = mkdtempSync(join(tmpdir(), "pushgw-standalone-runtime-"));

beforeAll(async () => {
  copyFileSync(STANDALONE.x64, executable);
  gw = await startPushgateway();
});
afterAll(async () => {
  await gw?.stop();
  rmSync(alone, { recursive: true, force: true });
  rmSync(runtime, { recursive: true, force: true });
});

const value = async (labels: Record<string, string>, name: string) => family(findGroup(await readGroups(gw.url), labels), name)?.metrics[0]?.value;

describe("the standalone executable (linux-x64)", () => {
  it("prints its version with an empty environment", async () => {
    const r = await run(executable, ["--version"], {});
    expect(r).toEqual({ code: 0, stdout: `${VERSION}\n`, stderr: "" });
  });

  it("pushes with an empty environment (no PATH, no HOME, no Node), silently", async () => {
    const r = await run(executable, ["add", "-g", gw.url, "-j", "standalone", "--no-instance", "-l", "env=empty", "standalone_pushed=42"], {});
    expect(r).toEqual({ code: 0, stdout: "", stderr: "" });
    expect(await value({ job: "standalone", env: "empty" }, "standalone_pushed")).toBe("42");
  });

  it("pushes silently with NODE_OPTIONS naming a V8 flag (a cron host that sets it for every Node)", async () => {
    const r = await run(executable, ["add", "-g", gw.url, "-j", "standalone", "--no-instance", "-l", "env=node-options", "standalone_pushed=43"], { NODE_OPTIONS: "--max-old-space-size=64" });
    expect(r).toEqual({ code: 0, stdout: "", stderr: "" });
    expect(await value({ job: "standalone", env: "node-options" }, "standalone_pushed")).toBe("43");
  });

  it("refuses bad input with exit 2 and a message, and sends nothing", async () => {
    const r = await run(executable, ["add", "-g", gw.url, "-j", "standalone", "--no-instance", "-l", "env=bad", "not a metric=1"], {});
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/^pushgw: /);
    expect(findGroup(await readGroups(gw.url), { job: "standalone", env: "bad" })).toBeUndefined();
  });

  it("under wrap, a nested `pushgw add` in the job runs this same executable, even with no PATH", async () => {
    const job = 'me=$(command -v pushgw) && echo "$me" && readlink "$me" && pushgw add standalone_nested=7';
    const r = await run(executable, ["wrap", "-g", gw.url, "-j", "standalone-wrap", "--no-instance", "--", "/bin/sh", "-c", job], { XDG_RUNTIME_DIR: runtime });
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    const [linkPath, target] = r.stdout.trim().split("\n");
    expect(target).toBe(executable);
    // The nested push landed in the wrapper's group, next to the wrapper's own metrics.
    expect(await value({ job: "standalone-wrap" }, "standalone_nested")).toBe("7");
    expect(await value({ job: "standalone-wrap" }, "job_success")).toBe("1");
    // The link lives in the job's private directory, inside the runtime directory, where no
    // other user can make the name again once it is gone, as it is when the job has ended.
    expect(linkPath).toMatch(new RegExp(`^${runtime}/pushgw-[^/]+/bin/pushgw$`));
    expect(existsSync(linkPath!)).toBe(false);
  });

  it("under wrap with cron's PATH, the job's PATH keeps it after the link's directory", async () => {
    const r = await run(executable, ["wrap", "-g", gw.url, "-j", "standalone-path", "--no-instance", "--", "/bin/sh", "-c", 'echo "$PATH"'], { PATH: "/usr/bin:/bin", XDG_RUNTIME_DIR: runtime });
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(new RegExp(`^${runtime}/pushgw-[^/:]+/bin:/usr/bin:/bin\n$`));
  });

  it("SIGUSR1 opens no debugger: a wrapper passes it on to the job, and goes on", async () => {
    const marker = join(alone, "usr1");
    const child = spawn(executable, ["wrap", "-g", gw.url, "-j", "standalone-usr1", "--no-instance", "--", "sh", "-c", `trap 'echo USR1 >> ${marker}' USR1; echo started > ${marker}; sleep 1; sleep 1; exit 4`], { stdio: ["ignore", "pipe", "pipe"] });
    let stderr = "";
    child.stderr!.on("data", (c: Buffer) => (stderr += c.toString()));
    const done = new Promise<number | null>((resolve) => child.on("close", (code) => resolve(code)));
    for (let i = 0; i < 400 && !existsSync(marker); i++) await new Promise((r) => setTimeout(r, 25));
    child.kill("SIGUSR1");
    await new Promise((r) => setTimeout(r, 600));
    const listening = spawnSync("ss", ["-Hltnp"], { encoding: "utf8" }).stdout.split("\n").filter((line) => line.includes(`pid=${child.pid},`));
    expect(listening).toEqual([]);
    expect(await done).toBe(4);
    expect(stderr).not.toMatch(/Debugger|inspector/i);
    expect(readFileSync(marker, "utf8")).toBe("started\nUSR1\n");
    expect(await value({ job: "standalone-usr1" }, "job_exit_code")).toBe("4");
  });

  it("exits with the job's status when the nested command fails", async () => {
    const r = await run(executable, ["wrap", "-g", gw.url, "-j", "standalone-fail", "--no-instance", "--", "/bin/sh", "-c", "pushgw add 'bad metric=1'; exit 3"], { XDG_RUNTIME_DIR: runtime });
    expect(r.code).toBe(3);
    expect(r.stderr).toMatch(/^pushgw: /m);
    expect(await value({ job: "standalone-fail" }, "job_exit_code")).toBe("3");
  });
});

/**
 * The standalone file starts as the npm install does (src/adapters/v8-code-cache.ts, and
 * test/e2e/code-cache.test.ts for the npm install): with code caches in the user's cache
 * directory, under the same rules, and with caches of its own inside it when there are none.
 */
describe("the standalone executable's code caches (linux-x64)", () => {
  const fresh = (name: string) => {
    const dir = join(alone, "caches", name);
    mkdirSync(dir, { recursive: true });
    return dir;
  };
  const cacheFiles = (dir: string) => (existsSync(dir) ? readdirSync(dir).filter((f) => f.endsWith(".v8cache")).sort() : []);
  /** A rewritten file is a new inode (written under another name, then renamed). */
  const identities = (dir: string) => cacheFiles(dir).map((f) => `${f}:${statSync(join(dir, f)).ino}`);
  const version = async (env: Record<string, string>) => expect(await run(executable, ["--version"], env)).toEqual({ code: 0, stdout: `${VERSION}\n`, stderr: "" });
  const main = (dir: string) => join(dir, cacheFiles(dir).find((f) => f.endsWith("-standalone-pushgw.v8cache"))!);

  it("are written into the user's cache directory by the first run, and used, not rewritten, by the next", async () => {
    const xdg = fresh("first");
    const dir = join(xdg, "pushgw");
    await version({ XDG_CACHE_HOME: xdg });
    const files = cacheFiles(dir);
    // Its own names: an npm install of the same build on the same Node keeps its caches apart.
    expect(files.length).toBeGreaterThan(0);
    for (const f of files) {
      expect(f).toMatch(/^pushgw-v\d+\.\d+\.\d+-x64-[0-9a-f]{16}-standalone-[\w-]+\.v8cache$/);
      expect(statSync(join(dir, f)).mode & 0o777).toBe(0o600);
    }
    const before = identities(dir);
    await version({ XDG_CACHE_HOME: xdg });
    // Rejected by V8, they would be written again.
    expect(identities(dir)).toEqual(before);
    const push = await run(executable, ["add", "-g", gw.url, "-j", "standalone-cache", "--no-instance", "cached_m=1"], { XDG_CACHE_HOME: xdg });
    expect(push).toEqual({ code: 0, stdout: "", stderr: "" });
    expect(await value({ job: "standalone-cache" }, "cached_m")).toBe("1");
  });

  it("start from the caches inside it when the user has none: what the first run writes holds more than that run compiled", async () => {
    const xdg = fresh("bundled");
    const dir = join(xdg, "pushgw");
    await version({ XDG_CACHE_HOME: xdg });
    const fromBundled = statSync(main(dir)).size;
    // A bad cache file is skipped (not replaced by the one inside): the run compiles from the
    // source, and writes what --version alone compiled.
    writeFileSync(main(dir), "not a V8 code cache", { mode: 0o600 });
    await version({ XDG_CACHE_HOME: xdg });
    const fromSource = statSync(main(dir)).size;
    // The caches inside were made by a push and a wrap, which compile far more than --version.
    expect(fromBundled).toBeGreaterThan(fromSource * 1.2);
  });

  it("no cache directory at all (env -i, as under a cron with no HOME): runs, from the caches inside it", async () => {
    await version({});
    // The commands their build ran, in the header of each of the caches inside the file.
    expect(readFileSync(executable).includes("pushgw-cache -,add,wrap\n")).toBe(true);
  });

  it("a corrupt cache is skipped, the run is unchanged, and a good one replaces it", async () => {
    const xdg = fresh("corrupt");
    const dir = join(xdg, "pushgw");
    await version({ XDG_CACHE_HOME: xdg });
    for (const f of cacheFiles(dir)) {
      // The header still says it is ours; only the checksum the launcher turns on catches this.
      const data = readFileSync(join(dir, f));
      for (let i = Math.floor(data.length / 2); i < Math.floor(data.length / 2) + 64; i++) data[i] = data[i]! ^ 0xff;
      writeFileSync(join(dir, f), data, { mode: 0o600 });
    }
    const corrupted = identities(dir);
    await version({ XDG_CACHE_HOME: xdg });
    const rewritten = identities(dir);
    for (const [i, id] of corrupted.entries()) expect(rewritten[i], "a corrupt cache is replaced").not.toBe(id);
    await version({ XDG_CACHE_HOME: xdg });
    expect(identities(dir)).toEqual(rewritten);
  });

  it("a planted symlink for a cache file is neither read through nor written through; a shared directory is not used", async () => {
    const xdg = fresh("planted");
    const dir = join(xdg, "pushgw");
    await version({ XDG_CACHE_HOME: xdg });
    const names = cacheFiles(dir);
    const planted = fresh("planted-target");
    for (const name of names) {
      writeFileSync(join(planted, name), readFileSync(join(dir, name)));
      rmSync(join(dir, name));
      symlinkSync(join(planted, name), join(dir, name));
    }
    const plantedBefore = names.map((name) => readFileSync(join(planted, name)));
    await version({ XDG_CACHE_HOME: xdg });
    for (const [i, name] of names.entries()) {
      expect(lstatSync(join(dir, name)).isFile(), `${name} is a regular file again`).toBe(true);
      expect(readFileSync(join(planted, name)).equals(plantedBefore[i]!), `${name}'s target is untouched`).toBe(true);
    }
    const shared = fresh("shared");
    mkdirSync(join(shared, "pushgw"));
    chmodSync(join(shared, "pushgw"), 0o777);
    await version({ XDG_CACHE_HOME: shared });
    expect(cacheFiles(join(shared, "pushgw"))).toEqual([]);
  });
});

describe("the standalone executable (linux-arm64, under qemu-user)", () => {
  const qemu = ensureTool("qemu-aarch64-static", "qemu-user-static");
  ensureDebianFile(join(ARM64_LIBRARIES, "lib/ld-linux-aarch64.so.1"), "libc6-arm64-cross");
  ensureDebianFile(join(ARM64_LIBRARIES, "lib/libstdc++.so.6"), "libstdc++6-arm64-cross");
  const arm64 = (args: string[]) => run(qemu, ["-L", ARM64_LIBRARIES, STANDALONE.arm64, ...args], {}, 90_000);

  it("is an arm64 ELF executable, and the x64 one an x86-64 one", () => {
    // e_machine, at byte 18 of the ELF header: 183 is AArch64, 62 is x86-64.
    const machine = (file: string) => {
      const header = Buffer.alloc(20);
      const fd = openSync(file, "r");
      readSync(fd, header, 0, 20, 0);
      closeSync(fd);
      return [header.subarray(0, 4).toString("latin1"), header.readUInt16LE(18)];
    };
    expect(machine(STANDALONE.arm64)).toEqual(["\x7fELF", 183]);
    expect(machine(STANDALONE.x64)).toEqual(["\x7fELF", 62]);
  });

  it("prints its version with an empty environment", async () => {
    expect(await arm64(["--version"])).toEqual({ code: 0, stdout: `${VERSION}\n`, stderr: "" });
  });

  it("pushes to the real gateway", async () => {
    const r = await arm64(["add", "-g", gw.url, "-j", "standalone-arm64", "--no-instance", "arm64_pushed=64"]);
    expect(r).toEqual({ code: 0, stdout: "", stderr: "" });
    expect(await value({ job: "standalone-arm64" }, "arm64_pushed")).toBe("64");
  });
});
