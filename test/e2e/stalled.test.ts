import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { family, findGroup, readGroups, startPushgateway, type RunningGateway } from "../helpers/pushgateway.js";
import { runCli } from "../helpers/run-cli.js";

/**
 * A run that Node would end because nothing is left to wait for, before pushgw has finished (a
 * bug: a wait that can never end), is said and is not a success (src/cli/main.ts). The stall is
 * made from outside: a preloaded file swaps stdin or stdout for a stream that never answers
 * and holds nothing open.
 */
let gw: RunningGateway;
const preload = (name: string) => `--import ${new URL(`../fixtures/${name}`, import.meta.url).href}`;

beforeAll(async () => {
  gw = await startPushgateway();
});
afterAll(async () => {
  await gw?.stop();
});

describe("a run left waiting for what can no longer happen", () => {
  it("push reading a stdin that never ends: said, exit 70, nothing sent (Node alone would end with 0)", async () => {
    const run = await runCli(["push", "-j", "stalled-push"], { env: { PUSHGW_GATEWAY: gw.url, NODE_OPTIONS: preload("stall-stdin.mjs") }, input: "m 1\n" });
    expect(run.stderr).toMatch(/^pushgw: pushgw stopped before it had finished: it was left waiting for something that can no longer happen\nhint: this is a bug in pushgw/);
    expect(run.code).toBe(70);
    expect(findGroup(await readGroups(gw.url), { job: "stalled-push" })).toBeUndefined();
  });

  it("wrap, after the job has ended (its output replayed to a stdout that never takes it): the job's own status, and it is said", async () => {
    const run = await runCli(["wrap", "-j", "stalled-wrap", "--no-instance", "--quiet-success", "--", "/bin/sh", "-c", "echo out; exit 3"], {
      env: { PUSHGW_GATEWAY: gw.url, NODE_OPTIONS: preload("stall-stdout.mjs") },
    });
    expect(run.stderr).toMatch(/^pushgw: pushgw stopped before it had finished, after the job had ended \(its exit status, 3, is kept; its outcome may not have been pushed\)/);
    expect(run.code).toBe(3);
    // The start push went out; the outcome did not.
    expect(family(findGroup(await readGroups(gw.url), { job: "stalled-wrap" }), "job_running")?.metrics[0]?.value).toBe("1");
  });
});
