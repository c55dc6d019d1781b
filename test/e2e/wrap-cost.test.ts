import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { family, findGroup, readGroups, startPushgateway, type RunningGateway } from "../helpers/pushgateway.js";
import { runCli } from "../helpers/run-cli.js";

let gw: RunningGateway;
let env: Record<string, string>;
const node = process.execPath;

beforeAll(async () => {
  gw = await startPushgateway();
  env = { PUSHGW_GATEWAY: gw.url };
});
afterAll(async () => {
  await gw?.stop();
});

const wrap = (name: string, flags: string[], command: string[]) => runCli(["wrap", "-j", name, "--no-instance", ...flags, "--", ...command], { env });
const value = async (job: string, metric: string): Promise<number | undefined> => {
  const v = family(findGroup(await readGroups(gw.url), { job }), metric)?.metrics[0]?.value;
  return v === undefined ? undefined : Number(v);
};
/** Node code that burns `ms` of its own user CPU time in a busy loop. */
const burn = (ms: number) => `const s = process.cpuUsage().user; while (process.cpuUsage().user - s < ${ms * 1000});`;
const MB = 1024 * 1024;

describe("what a run cost", () => {
  it("pushes the job's user and system CPU and its peak resident memory; list --json carries them", async () => {
    // ~0.3 s of user CPU, then ~100 MB touched and held for 2 s.
    const script = `${burn(300)} const b = Buffer.alloc(100 * ${MB}); b.fill(1); setTimeout(() => console.log(b[0]), 2000);`;
    expect((await wrap("cost-burn", [], [node, "-e", script])).code).toBe(0);
    expect(await value("cost-burn", "job_last_cpu_user_seconds")).toBeGreaterThanOrEqual(0.2);
    expect(await value("cost-burn", "job_last_cpu_system_seconds")).toBeGreaterThanOrEqual(0);
    expect(await value("cost-burn", "job_last_max_rss_bytes")).toBeGreaterThanOrEqual(90 * MB);

    const list = await runCli(["list", "--json", "--match", "job=cost-burn"], { env });
    const lastRun = (JSON.parse(list.stdout) as Array<{ lastRun: Record<string, number | null> }>)[0]!.lastRun;
    expect(lastRun["cpuUserSeconds"]).toBeGreaterThanOrEqual(0.2);
    expect(lastRun["cpuSystemSeconds"]).toBeGreaterThanOrEqual(0);
    expect(lastRun["maxRssBytes"]).toBeGreaterThanOrEqual(90 * MB);
  });

  it("counts a grandchild the job waited for", async () => {
    // The job (sh) starts a shell that runs node: node is the job's grandchild, and burns 0.4 s.
    const grandchild = `${node} -e '${burn(400)}'; true`;
    expect((await wrap("cost-grandchild", [], ["sh", "-c", `sh -c "$0"; true`, grandchild])).code).toBe(0);
    expect(await value("cost-grandchild", "job_last_cpu_user_seconds")).toBeGreaterThanOrEqual(0.3);
  });

  it("follows --prefix", async () => {
    expect((await wrap("cost-prefixed", ["--prefix", "backup"], [node, "-e", burn(50)])).code).toBe(0);
    expect(await value("cost-prefixed", "backup_last_cpu_user_seconds")).toBeGreaterThanOrEqual(0.05);
    expect(await value("cost-prefixed", "job_last_cpu_user_seconds")).toBeUndefined();
  });
});
