import { describe, expect, it } from "vitest";
import type { App } from "../../src/cli/app.js";
import { buildCli } from "../../src/cli/build-cli.js";
import type { CliEnvironment } from "../../src/cli/options.js";
import { UsageError } from "../../src/core/errors.js";

async function run(argv: string[], env: Record<string, string> = {}): Promise<unknown> {
  const calls: unknown[] = [];
  const unused = async () => undefined;
  const app: App = { push: unused, delete: unused, wrap: unused, list: unused, removeGroups: unused, completion: unused, alertRules: unused, flush: unused, doctor: unused, cron: async (options) => void calls.push(options) };
  const cli: CliEnvironment = { env, hostname: "h", argv };
  const error = await Promise.resolve()
    .then(() => buildCli(app, cli, "1").parseAsync(argv))
    .then(
      () => undefined,
      (e: unknown) => e,
    );
  if (error !== undefined) {
    expect(calls).toEqual([]);
    return error;
  }
  expect(calls).toHaveLength(1);
  return calls[0];
}

describe("pushgw cron's command line", () => {
  it("scan: the invoking user's crontab by default", async () => {
    expect(await run(["cron", "scan"])).toEqual({ action: "scan", systemFiles: [], userFiles: [], user: undefined, json: false, dryRun: false, backupDir: undefined, settings: [], graceSeconds: undefined });
  });

  it("wrap: system files, --crontab files, --dry-run, --backup-dir; transport flags become the settings lines", async () => {
    expect(await run(["cron", "wrap", "/etc/crontab", "/etc/cron.d/x", "--crontab", "/srv/a", "--crontab", "/srv/b", "--dry-run", "--backup-dir", "/b", "-g", "pgw:9091", "-g", "http://other/p", "--target", "pushgateway", "--spool", "/var/spool/pushgw", "--grace", "1h30m"])).toEqual({
      action: "wrap",
      systemFiles: ["/etc/crontab", "/etc/cron.d/x"],
      userFiles: ["/srv/a", "/srv/b"],
      user: undefined,
      json: false,
      dryRun: true,
      backupDir: "/b",
      settings: [
        ["PUSHGW_GATEWAY", "http://pgw:9091 http://other/p"],
        ["PUSHGW_TARGET", "pushgateway"],
        ["PUSHGW_SPOOL", "/var/spool/pushgw"],
      ],
      graceSeconds: 5400,
    });
  });

  it("--user names the crontab's owner, and PUSHGW_USER (a gateway login) is not read for it; PUSHGW_GATEWAY in the shell is not copied", async () => {
    expect(await run(["cron", "unwrap", "--user", "alice"], { PUSHGW_USER: "pusher" })).toMatchObject({ user: "alice", settings: [] });
    expect(await run(["cron", "wrap"], { PUSHGW_USER: "pusher", PUSHGW_GATEWAY: "http://gw:1" })).toMatchObject({ user: undefined, settings: [] });
  });

  it.each([
    [["cron"], /^cron: name an action: scan, wrap or unwrap$/],
    [["cron", "list"], /cron: "list" is no action/],
    [["cron", "scan", "--dry-run"], /cron scan writes nothing/],
    [["cron", "wrap", "--json"], /--json is for cron scan/],
    [["cron", "unwrap", "--gateway", "http://x"], /are for cron wrap/],
    [["cron", "wrap", "--gateway", "http://u:secret@x"], /does not write passwords into crontabs/],
    [["cron", "wrap", "--timeout", "5s"], /unknown flag --timeout/],
    [["cron", "scan", "--grace", "1h"], /--grace is for cron wrap/],
  ])("refuses %j, exit 2", async (argv, message) => {
    const error = await run(argv);
    expect(error).toBeInstanceOf(UsageError);
    expect((error as UsageError).message).toMatch(message);
    expect((error as UsageError).message).not.toContain("secret");
  });
});
