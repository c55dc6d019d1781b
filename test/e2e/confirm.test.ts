import { spawn } from "node:child_process";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { findGroup, readGroups, startPushgateway, type RunningGateway } from "../helpers/pushgateway.js";
import { BIN, NODE, runCli, testRuntimeDir } from "../helpers/run-cli.js";

/**
 * The question before a deletion, answered on a real terminal (util-linux script(1) gives the
 * run one) with Ctrl-D or Ctrl-C: once both ended pushgw as "an unexpected failure", exit 70.
 */
let gw: RunningGateway;

beforeAll(async () => {
  gw = await startPushgateway();
});
afterAll(async () => {
  await gw?.stop();
});

const quote = (word: string) => `'${word.replace(/'/g, "'\\''")}'`;

/** `pushgw args` on a terminal; `key` is typed once the question is on it. */
function answerOnTerminal(args: readonly string[], key: string): Promise<{ code: number | null; output: string }> {
  const child = spawn("script", ["-qec", [NODE, BIN, ...args].map(quote).join(" "), "/dev/null"], {
    env: { PATH: process.env["PATH"] ?? "/usr/bin:/bin", XDG_RUNTIME_DIR: testRuntimeDir(), PUSHGW_GATEWAY: gw.url, TERM: "dumb" },
    stdio: ["pipe", "pipe", "pipe"],
  });
  let output = "";
  let typed = false;
  child.stdout.setEncoding("utf8").on("data", (chunk: string) => {
    output += chunk;
    if (!typed && output.includes("[y/N]")) {
      typed = true;
      child.stdin.write(key);
    }
  });
  child.stderr.setEncoding("utf8").on("data", (chunk: string) => (output += chunk));
  return new Promise((resolve) => child.on("close", (code) => resolve({ code, output })));
}

describe("the question before a deletion", () => {
  it.each([
    ["Ctrl-D is no: nothing deleted, exit 0", "\x04", "ctrl-d", 0, /nothing deleted/],
    ["Ctrl-C stops pushgw as SIGINT does: nothing deleted, exit 130", "\x03", "ctrl-c", 130, /Delete 1 group\(s\) from /],
  ])("%s", async (_, key, name, code, says) => {
    expect((await runCli(["push", "-j", name, "--no-instance", "m=1"], { env: { PUSHGW_GATEWAY: gw.url } })).code).toBe(0);
    const run = await answerOnTerminal(["delete", "--match", `job=${name}`], key);
    expect(run.output).not.toMatch(/unexpected failure|bug in pushgw/);
    expect(run.output).toMatch(says);
    expect(run.code).toBe(code);
    expect(findGroup(await readGroups(gw.url), { job: name })).toBeDefined();
  });
});
