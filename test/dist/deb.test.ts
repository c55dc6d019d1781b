import { execFileSync, spawn, spawnSync, type ChildProcess } from "node:child_process";
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { gunzipSync } from "node:zlib";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ensureTool } from "../helpers/prometheus.js";
import { family, findGroup, readGroups, startPushgateway, type RunningGateway } from "../helpers/pushgateway.js";
import { DEBS, ensureDebianFile, ROOT, run, VERSION } from "../helpers/standalone.js";

// These tests install the amd64 package on this machine with apt-get, as root, and remove it
// again in afterAll, whatever happened; a run killed half-way is cleaned up by the next one.
if (process.getuid?.() !== 0) throw new Error("the Debian package tests install a package with apt-get: run them as root (CI does)");
const lintian = ensureTool("lintian", "lintian");
const cron = ensureTool("cron", "cron");
ensureTool("man", "man-db");
for (const shell of ["bash", "zsh", "fish", "tmux"]) ensureTool(shell, shell);
ensureDebianFile("/usr/share/bash-completion/bash_completion", "bash-completion");

const CRON_FILE = `/etc/cron.d/pushgw-test-${process.pid}`;
const EXPECTED_FILES = [
  "/usr/bin/pushgw",
  "/usr/share/bash-completion/completions/pushgw",
  "/usr/share/zsh/vendor-completions/_pushgw",
  "/usr/share/fish/vendor_completions.d/pushgw.fish",
  "/usr/share/man/man1/pushgw.1.gz",
  "/usr/share/pushgw/pushgw.rules.yml",
  "/usr/share/pushgw/pushgw-dashboard.json",
  "/usr/share/doc/pushgw/README.md.gz",
  "/usr/share/doc/pushgw/copyright",
  "/usr/share/doc/pushgw/changelog.gz",
];

const aptEnv = { ...process.env, DEBIAN_FRONTEND: "noninteractive" };
const apt = (...args: string[]) => execFileSync("apt-get", ["-y", "-q", "-o", "DPkg::Lock::Timeout=300", ...args], { env: aptEnv, encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] });
const installedStatus = () => spawnSync("dpkg-query", ["-W", "-f", "${Status}", "pushgw"], { encoding: "utf8" }).stdout;
const isInstalled = () => /\binstalled\b/.test(installedStatus()) && !/not-installed/.test(installedStatus());
/**
 * Written (root's own directory) before the tests install the package and removed after they
 * remove it: a package installed without it is the machine's own, which they leave alone.
 */
const MARKER = "/var/lib/pushgw-deb-test/installed-by-test";
const installedVersion = () => spawnSync("dpkg-query", ["-W", "-f", "${Version}", "pushgw"], { encoding: "utf8" }).stdout.trim();
/** The mark names the version the tests installed: a package installed since (another version) is not theirs. */
const markedByTest = () => existsSync(MARKER) && readFileSync(MARKER, "utf8").trim() === installedVersion();
const installedByOthers = isInstalled() && !markedByTest();
if (installedByOthers) {
  process.stderr.write(
    "test/dist/deb.test.ts: a pushgw package is installed on this machine and these tests did not install it: the apt-get install/remove round trip is skipped, so as to leave it alone (apt-get remove pushgw, then run again, to test it)\n",
  );
}
/** Removes the package these tests installed; safe to call when it is not installed. */
function removePackage(): void {
  if (isInstalled()) apt("remove", "pushgw");
  rmSync(MARKER, { force: true });
}
const cronEnv = { PATH: "/usr/bin:/bin" };

describe.each(Object.entries(DEBS))("the %s package", (arch, deb) => {
  it("passes lintian with no errors", () => {
    const r = spawnSync(lintian, ["--fail-on", "error", deb], { encoding: "utf8" });
    expect(r.stdout.split("\n").filter((line) => line.startsWith("E:"))).toEqual([]);
    expect(r.status).toBe(0);
  }, 300_000);

  it("has the control fields and holds every file where Debian looks for it", () => {
    const field = (name: string) => execFileSync("dpkg-deb", ["-f", deb, name], { encoding: "utf8" }).trim();
    expect([field("Package"), field("Version"), field("Architecture")]).toEqual(["pushgw", VERSION, arch]);
    expect(field("Depends")).toMatch(/^libc6 \(>= 2\.28\), libgcc-s1 \(>= [\d.]+\), libstdc\+\+6 \(>= 5\.2\)$/);
    const listing = execFileSync("dpkg-deb", ["-c", deb], { encoding: "utf8", maxBuffer: 1 << 20 });
    const entries = new Map(listing.trim().split("\n").map((line) => {
      const [mode, owner, , , , ...path] = line.split(/\s+/);
      return [path.join(" ").replace(/^\./, ""), { mode, owner }] as const;
    }));
    for (const file of EXPECTED_FILES) expect(entries.has(file), file).toBe(true);
    // The README's reference pages, beside it as in the source.
    for (const page of readdirSync(join(ROOT, "docs")).filter((name) => name.endsWith(".md"))) {
      expect(entries.has(`/usr/share/doc/pushgw/docs/${page}.gz`), page).toBe(true);
    }
    expect(entries.get("/usr/bin/pushgw")).toEqual({ mode: "-rwxr-xr-x", owner: "root/root" });
    expect([...entries.values()].every((e) => e.owner === "root/root")).toBe(true);
  });
});

describe.skipIf(installedByOthers)("installed with apt-get (amd64)", () => {
  let gw: RunningGateway;
  let home: string;
  let cronDaemon: ChildProcess | undefined;
  let installedFiles: string[] = [];

  beforeAll(async () => {
    // A run killed half-way left the package installed, and perhaps its crontab file.
    removePackage();
    for (const name of readdirSync("/etc/cron.d")) if (name.startsWith("pushgw-test-")) rmSync(join("/etc/cron.d", name), { force: true });
    mkdirSync(dirname(MARKER), { recursive: true, mode: 0o700 });
    writeFileSync(MARKER, `${VERSION}\n`);
    apt("install", "--no-install-recommends", DEBS.amd64);
    installedFiles = execFileSync("dpkg", ["-L", "pushgw"], { encoding: "utf8" }).trim().split("\n");
    gw = await startPushgateway();
    home = mkdtempSync(join(tmpdir(), "pushgw-deb-home-"));
  }, 300_000);

  afterAll(async () => {
    rmSync(CRON_FILE, { force: true });
    cronDaemon?.kill();
    removePackage();
    await gw?.stop();
    if (home) rmSync(home, { recursive: true, force: true });
  }, 300_000);

  const value = async (labels: Record<string, string>, name: string) => family(findGroup(await readGroups(gw.url), labels), name)?.metrics[0]?.value;

  it("is installed, and /usr/bin/pushgw is the standalone executable", () => {
    expect(installedStatus()).toBe("install ok installed");
    for (const file of EXPECTED_FILES) expect(existsSync(file), file).toBe(true);
    expect(readFileSync("/usr/bin/pushgw").equals(readFileSync(join(ROOT, "dist/standalone/pushgw-linux-x64")))).toBe(true);
  });

  it("pushes with an empty environment: env -i /usr/bin/pushgw add …", async () => {
    const r = await run("/usr/bin/pushgw", ["add", "-g", gw.url, "-j", "deb", "--no-instance", "deb_pushed=1"], {});
    expect(r).toEqual({ code: 0, stdout: "", stderr: "" });
    expect(await value({ job: "deb" }, "deb_pushed")).toBe("1");
  });

  it("runs a crontab line under the real cron daemon, with cron's PATH and a nested pushgw in the job", async () => {
    const seen = join(home, "cron-job-path");
    const job = `echo "$PATH" > ${seen}; pushgw add cron_nested=1`;
    writeFileSync(CRON_FILE, `MAILTO=""\n* * * * * root pushgw wrap -g ${gw.url} -j cron-wrapped --no-instance -- /bin/sh -c '${job}'\n`, { mode: 0o644 });
    // A cron daemon already running reads /etc/cron.d on its own; ours then exits at once.
    cronDaemon = spawn(cron, ["-f", "-L", "0"], { stdio: "ignore" });
    const deadline = Date.now() + 100_000; // the next minute, and then some
    while (Date.now() < deadline && (await value({ job: "cron-wrapped" }, "job_success")) === undefined) await new Promise((r) => setTimeout(r, 1000));
    rmSync(CRON_FILE, { force: true });
    cronDaemon.kill();
    expect(await value({ job: "cron-wrapped" }, "job_success")).toBe("1");
    expect(await value({ job: "cron-wrapped" }, "cron_nested")).toBe("1");
    // cron gave the job /usr/bin:/bin; the wrapper put its own link's directory first: bin/ in the
    // job's private directory (root under cron, no XDG_RUNTIME_DIR: below /run/pushgw).
    expect(readFileSync(seen, "utf8")).toMatch(/^\/run\/pushgw\/pushgw-[^/:]+\/bin:\/usr\/bin:\/bin\n$/);
  }, 120_000);

  it("runs the same line with cron's environment and no daemon (env -i PATH=/usr/bin:/bin sh -c …)", async () => {
    const r = await run("/bin/sh", ["-c", `pushgw wrap -g ${gw.url} -j cron-env --no-instance -- /bin/sh -c 'pushgw add cron_env_nested=2'`], cronEnv);
    expect(r).toEqual({ code: 0, stdout: "", stderr: "" });
    expect(await value({ job: "cron-env" }, "cron_env_nested")).toBe("2");
  });

  it("man pushgw renders", async () => {
    expect((await run("man", ["-w", "pushgw"], cronEnv)).stdout.trim()).toBe("/usr/share/man/man1/pushgw.1.gz");
    const r = await run("man", ["pushgw"], { ...cronEnv, MANWIDTH: "80", MAN_KEEP_FORMATTING: "", LANG: "C.UTF-8" });
    expect(r.code).toBe(0);
    expect(r.stderr).toBe("");
    const text = r.stdout.replace(/ +/g, " ");
    expect(text).toMatch(/^NAME\n pushgw - push metrics/m);
    for (const heading of ["SYNOPSIS", "COMMANDS", "OPTIONS", "EXIT STATUS", "ENVIRONMENT", "FILES", "EXAMPLES"]) expect(text).toContain(`\n${heading}\n`);
  });

  it("the bash completion loads in a fresh interactive bash (a new user's ~/.bashrc)", () => {
    copyFileSync("/etc/skel/.bashrc", join(home, ".bashrc"));
    const screen = typeInTmux(`env -i HOME=${home} TERM=xterm PATH=/usr/bin:/bin bash -i`, "PS1='$ '", "pushgw pu");
    expect(screen).toBe("$ pushgw push");
  });

  it("zsh and fish find their completions with no setup", () => {
    const zsh = execFileSync("zsh", ["-f", "-c", "autoload -U compinit && compinit -u -D && print -r -- $_comps[pushgw]"], { env: { HOME: home, ...cronEnv }, encoding: "utf8" });
    expect(zsh.trim()).toBe("_pushgw");
    const fish = execFileSync("fish", ["-c", "complete -C 'pushgw pu'"], { env: { HOME: home, ...cronEnv }, encoding: "utf8" });
    expect(fish.split("\n").map((l) => l.split("\t")[0])).toContain("push");
  });

  it("ships the alert rules and dashboard that pushgw alert-rules prints, and the licence notices", async () => {
    expect(readFileSync("/usr/share/pushgw/pushgw.rules.yml", "utf8")).toBe((await run("/usr/bin/pushgw", ["alert-rules"], {})).stdout);
    expect(readFileSync("/usr/share/pushgw/pushgw-dashboard.json", "utf8")).toBe((await run("/usr/bin/pushgw", ["alert-rules", "--dashboard"], {})).stdout);
    const copyright = readFileSync("/usr/share/doc/pushgw/copyright", "utf8");
    for (const part of ["MIT License", "Node.js 20.20.2", "yargs 18", "undici 7", "execa 9", "/usr/share/common-licenses/Apache-2.0"]) expect(copyright).toContain(part);
    expect(gunzipSync(readFileSync("/usr/share/doc/pushgw/README.md.gz")).toString("utf8")).toBe(readFileSync(join(ROOT, "README.md"), "utf8"));
  });

  it("apt-get remove removes every file it installed", () => {
    const files = installedFiles.filter((path) => existsSync(path) && !statSync(path).isDirectory());
    expect(files).toEqual(expect.arrayContaining(EXPECTED_FILES));
    apt("remove", "pushgw");
    expect(installedStatus()).not.toMatch(/ok installed/);
    expect(files.filter((file) => existsSync(file))).toEqual([]);
    for (const dir of ["/usr/share/pushgw", "/usr/share/doc/pushgw"]) expect(existsSync(dir), dir).toBe(false);
    expect(spawnSync("sh", ["-c", "command -v pushgw"], { env: cronEnv }).status).not.toBe(0);
  });
});

/** Starts `command` in tmux, runs `setup`, types `line` and a Tab, and returns the first screen line once settled. */
function typeInTmux(command: string, setup: string, line: string): string {
  const session = `pushgw-deb-${process.pid}-${Math.random().toString(36).slice(2)}`;
  const tmux = (...args: string[]) => execFileSync("tmux", ["-f", "/dev/null", ...args], { encoding: "utf8" });
  const screen = () => tmux("capture-pane", "-t", session, "-p");
  const waitFor = (predicate: (s: string) => boolean): string => {
    let s = "";
    for (let i = 0; i < 100; i++) {
      s = screen();
      if (predicate(s)) return s;
      spawnSync("sleep", ["0.1"]);
    }
    return s;
  };
  tmux("new-session", "-d", "-s", session, "-x", "160", "-y", "40", command);
  try {
    tmux("send-keys", "-t", session, `${setup}; clear`, "Enter");
    waitFor((s) => s.trim() === "$");
    tmux("send-keys", "-t", session, line);
    waitFor((s) => s.includes(line));
    tmux("send-keys", "-t", session, "Tab");
    // Settled: the same screen twice, 200 ms apart.
    let previous = "";
    let current = waitFor((s) => !s.trimEnd().endsWith(line));
    for (let i = 0; i < 25 && current !== previous; i++) {
      spawnSync("sleep", ["0.2"]);
      previous = current;
      current = screen();
    }
    return current.split("\n")[0]!.trimEnd();
  } finally {
    tmux("kill-session", "-t", session);
  }
}
