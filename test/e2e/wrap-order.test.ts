import { spawn } from "node:child_process";
import { closeSync, mkdtempSync, openSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startPushgateway, type RunningGateway } from "../helpers/pushgateway.js";
import { BIN, NODE, testRuntimeDir } from "../helpers/run-cli.js";

let gw: RunningGateway;
const tmp = mkdtempSync(join(tmpdir(), "pushgw-order-"));

beforeAll(async () => {
  gw = await startPushgateway();
});
afterAll(async () => {
  await gw?.stop();
});

/** A failing job writing to stdout and stderr in turn, faster than the wrapper reads: from two pipes the lines would come grouped. */
const JOB = "echo out1; echo err1 >&2; echo out2; echo err2 >&2; exit 3";

/** Runs `pushgw wrap --quiet-success` with its stdout and stderr on the files given (one file for both, as cron and `> log 2>&1` do). */
function wrapInto(name: string, stdoutFile: string, stderrFile: string): Promise<number | null> {
  const out = openSync(stdoutFile, "w");
  const err = stderrFile === stdoutFile ? out : openSync(stderrFile, "w");
  const child = spawn(NODE, [BIN, "wrap", "-j", name, "--no-instance", "--quiet-success", "--", "sh", "-c", JOB], {
    env: { PATH: process.env["PATH"] ?? "/usr/bin:/bin", XDG_RUNTIME_DIR: testRuntimeDir(), PUSHGW_GATEWAY: gw.url },
    stdio: ["ignore", out, err],
  });
  closeSync(out);
  if (err !== out) closeSync(err);
  return new Promise((resolve, reject) => {
    child.on("error", reject);
    child.on("close", (code) => resolve(code));
  });
}

const jobLines = (file: string): string[] => readFileSync(file, "utf8").split("\n").filter((line) => /^(out|err)\d$/.test(line));

describe("--quiet-success replays a failing job's output", () => {
  it("in the order it was written when the wrapper's stdout and stderr are one file", async () => {
    const log = join(tmp, "one.log");
    expect(await wrapInto("order-one", log, log)).toBe(3);
    expect(jobLines(log)).toEqual(["out1", "err1", "out2", "err2"]);
    expect(readFileSync(log, "utf8")).toMatch(/failed with exit status 3/);
  });

  it("each stream to its own file when they are two", async () => {
    const out = join(tmp, "two.out");
    const err = join(tmp, "two.err");
    expect(await wrapInto("order-two", out, err)).toBe(3);
    expect(jobLines(out)).toEqual(["out1", "out2"]);
    expect(jobLines(err)).toEqual(["err1", "err2"]);
  });
});
