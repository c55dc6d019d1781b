import { execFile } from "node:child_process";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { family, findGroup, readGroups, startPushgateway, type RunningGateway } from "../helpers/pushgateway.js";
import { BIN, NODE, testRuntimeDir } from "../helpers/run-cli.js";

/**
 * A job the system will not start, for want of a resource of the wrapper's: its outcome is
 * pushed and its status is said, whatever limit it hit. Real limits (ulimit), the built CLI and
 * the real gateway.
 */
let gw: RunningGateway;

beforeAll(async () => {
  gw = await startPushgateway();
});
afterAll(async () => {
  await gw?.stop();
});

const pushed = async (name: string, metric: string): Promise<number | undefined> => {
  const v = family(findGroup(await readGroups(gw.url), { job: name }), metric)?.metrics[0]?.value;
  return v === undefined ? undefined : Number(v);
};

/** The wrapper under `ulimit -n limit`, running a job that says it ran and fails with 3 (so that --quiet-success shows it). */
async function wrapUnderFdLimit(limit: number, name: string, flags: readonly string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const wrapper = [NODE, BIN, "wrap", "-j", name, "--no-instance", ...flags, "--", "/bin/sh", "-c", "echo ran; exit 3"];
  try {
    const { stdout, stderr } = await promisify(execFile)("/bin/sh", ["-c", `ulimit -n ${limit} && exec "$@"`, "sh", ...wrapper], {
      env: { PATH: process.env["PATH"] ?? "/usr/bin:/bin", XDG_RUNTIME_DIR: testRuntimeDir(), PUSHGW_GATEWAY: gw.url },
    });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const failed = error as { code: number; stdout: string; stderr: string };
    return { code: failed.code, stdout: failed.stdout, stderr: failed.stderr };
  }
}

describe("no file descriptor left to start the job (ulimit -n)", () => {
  // Node gives up on such a spawn before it makes the job's pipes, and execa then threw a
  // TypeError of its own: the wrapper ended with 70 (or 1, of Node's unhandled 'error') and
  // pushed nothing. The limit at which the spawn is the first thing to fail depends on Node's
  // version, so every limit from "Node cannot load pushgw" to "the job runs" is tried.
  it.each([
    ["", []],
    ["with --quiet-success", ["--quiet-success"]],
  ])("%s: the wrapper says so, exits 126 and pushes it; at no limit is 0 returned, nor job_running=1 left", async (_, flags) => {
    const runs: Array<{ limit: number; code: number; stdout: string; stderr: string; running: number | undefined; exitCode: number | undefined }> = [];
    for (let limit = 14; limit <= 40; limit++) {
      const name = `fds-${flags.length}-${limit}`;
      const run = await wrapUnderFdLimit(limit, name, flags);
      runs.push({ limit, ...run, running: await pushed(name, "job_running"), exitCode: await pushed(name, "job_exit_code") });
    }
    const refused = runs.filter((run) => /cannot run \/bin\/sh: .*\(EMFILE\)/.test(run.stderr));
    expect(refused.length, JSON.stringify(runs, null, 1)).toBeGreaterThan(0);
    for (const run of refused) {
      expect(run.code).toBe(126);
      expect(run.stderr).not.toMatch(/bug in pushgw/);
      expect(run.stderr).toContain("hint: raise the wrapper's limit of open files (ulimit -n; LimitNOFILE= under systemd)\n");
      // Just above the limit at which Node cannot load pushgw, it cannot load its HTTP client either: said.
      if (run.exitCode === undefined) expect(run.stderr).toMatch(/the outcome of \{job="fds-[^"]*"\} \(the job could not start: .*\(EMFILE\)\) was not pushed/);
      else expect(run).toMatchObject({ exitCode: 126, running: 0 });
    }
    expect(refused.filter((run) => run.exitCode === 126).length).toBeGreaterThan(0);
    for (const run of runs) {
      expect(run.code, `limit ${run.limit}`).not.toBe(0);
      if (run.running !== undefined) expect({ limit: run.limit, running: run.running }).toEqual({ limit: run.limit, running: 0 });
    }
    // The job ran at last, so the range reached past every limit that matters.
    expect(runs.at(-1)).toMatchObject({ code: 3, stdout: "ran\n", exitCode: 3, running: 0 });
  }, 120_000);
});
