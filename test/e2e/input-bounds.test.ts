import { spawn } from "node:child_process";
import { closeSync, ftruncateSync, mkdtempSync, openSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { findGroup, readGroups, startPushgateway, type RunningGateway } from "../helpers/pushgateway.js";
import { BIN, NODE, runCli, type CliRun } from "../helpers/run-cli.js";

/** `pushgw ARGS < path`: stdin is the file itself, as a shell redirect makes it. */
function runWithStdinFrom(path: string, args: readonly string[]): Promise<CliRun> {
  const fd = openSync(path, "r");
  const child = spawn(NODE, [BIN, ...args], { env: { PATH: process.env["PATH"] ?? "/usr/bin:/bin" }, stdio: [fd, "pipe", "pipe"] });
  closeSync(fd);
  let stdout = "";
  let stderr = "";
  child.stdout!.setEncoding("utf8").on("data", (c: string) => (stdout += c));
  child.stderr!.setEncoding("utf8").on("data", (c: string) => (stderr += c));
  return new Promise((resolve, reject) => {
    child.on("error", reject);
    child.on("close", (code, signal) => resolve({ code, signal, stdout, stderr }));
  });
}

/** Input larger than pushgw can check (V8's largest string, about 512 MiB) is refused for its size. */
const LIMIT_MESSAGE = /more than 536870887 bytes \(512 MiB\), the most pushgw can check in one push/;

const work = mkdtempSync(join(tmpdir(), "pushgw-bounds-"));
let gw: RunningGateway;
beforeAll(async () => {
  gw = await startPushgateway();
});
afterAll(async () => {
  await gw?.stop();
  rmSync(work, { recursive: true, force: true });
});

describe("input beyond what pushgw can check", () => {
  it("an endless stdin: refused for its size, not as invalid UTF-8, after reading no more than the limit", async () => {
    const child = spawn(NODE, [BIN, "push", "-g", gw.url, "-j", "endless", "-f", "-"], { env: { PATH: process.env["PATH"] ?? "/usr/bin:/bin" }, stdio: ["pipe", "pipe", "pipe"] });
    let stderr = "";
    child.stderr.setEncoding("utf8").on("data", (c: string) => (stderr += c));
    child.stdout.resume();
    const done = new Promise<number | null>((resolve) => child.on("close", (code) => resolve(code)));
    // Valid text, forever: only the size can be wrong with it.
    const block = Buffer.from("endless_m 1\n".repeat(1 << 16));
    let written = 0;
    let open = true;
    child.stdin!.on("error", () => (open = false));
    child.on("close", () => (open = false));
    while (open) {
      written += block.length;
      if (!child.stdin!.write(block)) await new Promise((resolve) => (child.stdin!.once("drain", resolve), child.once("close", resolve)));
    }
    const code = await done;
    expect(stderr).toMatch(LIMIT_MESSAGE);
    expect(stderr).toMatch(/^pushgw: stdin: /);
    expect(stderr).not.toMatch(/UTF-8/);
    expect(code).toBe(2);
    // It stopped reading: what it took is the limit and what the pipe held, not the stream.
    expect(written).toBeLessThan(600 * 2 ** 20);
    expect(findGroup(await readGroups(gw.url), { job: "endless" })).toBeUndefined();
  }, 120_000);

  it("a 600 MB file (--file, and stdin redirected from it): refused for its size, naming it", async () => {
    const path = join(work, "huge.prom");
    const fd = openSync(path, "w");
    ftruncateSync(fd, 600 * 1e6); // sparse: no disk needed
    closeSync(fd);
    const byFile = await runCli(["push", "-g", gw.url, "-j", "huge", "-f", path], { timeoutMs: 120_000 });
    expect(byFile.code).toBe(2);
    expect(byFile.stderr).toContain(`pushgw: ${path}: `);
    expect(byFile.stderr).toMatch(LIMIT_MESSAGE);
    const redirected = await runWithStdinFrom(path, ["push", "-g", gw.url, "-j", "huge", "-f", "-"]);
    expect(redirected.code).toBe(2);
    expect(redirected.stderr).toMatch(/^pushgw: stdin: /);
    expect(redirected.stderr).toMatch(LIMIT_MESSAGE);
    expect(findGroup(await readGroups(gw.url), { job: "huge" })).toBeUndefined();
  }, 120_000);

  it("input just under a megabyte, piped, redirected from a file, or named by --file, lands the same", async () => {
    const text = Array.from({ length: 30_000 }, (_, i) => `bounds_m{i="${i}"} ${i}`).join("\n") + "\n";
    const path = join(work, "medium.prom");
    writeFileSync(path, text);
    const piped = await runCli(["push", "-g", gw.url, "-j", "bounds", "-i", "piped", "-f", "-"], { input: text });
    expect(piped.stderr).toBe("");
    expect(piped.code).toBe(0);
    const byPath = await runCli(["push", "-g", gw.url, "-j", "bounds", "-i", "file", "-f", path]);
    expect(byPath.stderr).toBe("");
    expect(byPath.code).toBe(0);
    const redirected = await runWithStdinFrom(path, ["push", "-g", gw.url, "-j", "bounds", "-i", "redirected", "-f", "-"]);
    expect(redirected.stderr).toBe("");
    expect(redirected.code).toBe(0);
    const groups = await readGroups(gw.url);
    for (const instance of ["piped", "file", "redirected"]) {
      const family = findGroup(groups, { job: "bounds", instance })?.["bounds_m"] as { metrics: unknown[] } | undefined;
      expect(family?.metrics.length, instance).toBe(30_000);
    }
  });
});
