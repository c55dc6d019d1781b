import { execFileSync } from "node:child_process";
import { existsSync, mkdtempSync, readdirSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { findGroup, readGroups, startPushgateway, type RunningGateway } from "../helpers/pushgateway.js";
import { NODE } from "../helpers/run-cli.js";

const root = fileURLToPath(new URL("../../", import.meta.url));
const work = mkdtempSync(join(tmpdir(), "pushgw-pack-"));
const prefix = join(work, "prefix");
let gw: RunningGateway;

describe("the npm package", () => {
  beforeAll(async () => {
    gw = await startPushgateway();
    const npmEnv = { ...process.env, npm_config_update_notifier: "false", npm_config_fund: "false", npm_config_audit: "false" };
    // --ignore-scripts: prepack would rebuild dist/ under the feet of the other test files.
    execFileSync("npm", ["pack", "--ignore-scripts", "--pack-destination", work, "--silent"], { cwd: root, env: npmEnv, stdio: ["ignore", "pipe", "pipe"] });
    const tarball = readdirSync(work).find((f) => f.endsWith(".tgz"))!;
    // --offline: the package must install with nothing from the registry (everything is bundled).
    execFileSync("npm", ["install", "--global", "--offline", "--prefix", prefix, join(work, tarball)], { env: npmEnv, stdio: ["ignore", "pipe", "pipe"] });
  }, 120_000);
  afterAll(async () => {
    await gw?.stop();
  });

  const installed = (...args: string[]) => execFileSync(NODE, [join(prefix, "bin", "pushgw"), ...args], { encoding: "utf8", env: { PATH: process.env["PATH"] } });

  it("installs into a clean prefix, where --version and --help work", () => {
    const version = JSON.parse(execFileSync("node", ["-p", "JSON.stringify(require('./package.json').version)"], { cwd: root, encoding: "utf8" })) as string;
    expect(installed("--version").trim()).toBe(version);
    expect(installed("--help")).toMatch(/Commands:[\s\S]*pushgw push[\s\S]*pushgw wrap/);
  });

  it("ships the bundle, the completions, the man page, the README and its reference pages, the licence, and no source", () => {
    const pkg = join(prefix, "lib", "node_modules", "pushgw");
    for (const file of ["bin/pushgw", "bin/package.json", "dist/pushgw.cjs", "dist/launch.cjs", "completions/pushgw.bash", "completions/_pushgw", "completions/pushgw.fish", "man/pushgw.1", "README.md", "LICENSE"]) {
      expect(existsSync(join(pkg, file)), file).toBe(true);
    }
    // The pages the README links to.
    for (const page of readdirSync(join(root, "docs")).filter((name) => name.endsWith(".md"))) {
      expect(existsSync(join(pkg, "docs", page)), `docs/${page}`).toBe(true);
    }
    // npm links the page named by package.json's "man" where man finds it under the prefix.
    expect(existsSync(join(prefix, "share", "man", "man1", "pushgw.1"))).toBe(true);
    expect(existsSync(join(pkg, "src"))).toBe(false);
    expect(existsSync(join(pkg, "node_modules"))).toBe(false);
  });

  it("pushes to a real gateway from the installed copy", async () => {
    installed("add", "-g", gw.url, "-j", "from-package", "--no-instance", "packaged=1");
    expect(findGroup(await readGroups(gw.url), { job: "from-package" })).toBeDefined();
  });
});
