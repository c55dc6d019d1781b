import { describe, expect, it } from "vitest";
import type { App } from "../../src/cli/app.js";
import { buildCli } from "../../src/cli/build-cli.js";
import { splitAttachedValues } from "../../src/cli/short-flags.js";
import type { CliEnvironment } from "../../src/cli/options.js";
import { UsageError } from "../../src/core/errors.js";
import { encodeWrapGrouping } from "../../src/core/grouping-key.js";

function recordingApp(): { app: App; calls: Array<[string, unknown, unknown]> } {
  const calls: Array<[string, unknown, unknown]> = [];
  const app: App = {
    push: async (options, output) => void calls.push(["push", options, output]),
    delete: async (options, output) => void calls.push(["delete", options, output]),
    wrap: async (options, output) => void calls.push(["wrap", options, output]),
    list: async (options, output) => void calls.push(["list", options, output]),
    removeGroups: async (options, output) => void calls.push(["removeGroups", options, output]),
    completion: async (options, output) => void calls.push(["completion", options, output]),
    alertRules: async (options, output) => void calls.push(["alertRules", options, output]),
    flush: async (options, output) => void calls.push(["flush", options, output]),
    doctor: async (options, output) => void calls.push(["doctor", options, output]),
    cron: async (options, output) => void calls.push(["cron", options, output]),
  };
  return { app, calls };
}

const host: CliEnvironment = { env: {}, hostname: "web-1" };

/** As main() reads argv: attached values split off, wrap's options ended at the command. */
async function parse(typed: string[], cli: CliEnvironment = host) {
  const { app, calls } = recordingApp();
  const argv = splitAttachedValues(typed);
  await buildCli(app, { ...cli, argv }, "1.2.3").parseAsync(argv);
  expect(calls).toHaveLength(1);
  return calls[0]!;
}

/** The usage error argv gives; nothing reaches a use case, and the error says what and what to do. */
async function refusal(typed: string[], cli: CliEnvironment = host): Promise<UsageError> {
  const { app, calls } = recordingApp();
  const argv = splitAttachedValues(typed);
  // yargs throws some validation errors synchronously, before a promise exists.
  const error = await Promise.resolve()
    .then(() => buildCli(app, { ...cli, argv }, "1").parseAsync(argv))
    .then(
      () => undefined,
      (e: unknown) => e,
    );
  expect(calls).toEqual([]);
  expect(error).toBeInstanceOf(UsageError);
  // Every usage error: one line saying what is wrong, and one hint.
  const { message, hint } = error as UsageError;
  expect(message).not.toContain("\n");
  expect(hint, message).toBeDefined();
  expect(hint).not.toContain("\n");
  return error as UsageError;
}

const DEFAULT_TRANSPORT = {
  gateways: [{ baseUrl: "http://localhost:9091", urlCredentials: undefined }],
  timeoutMs: 10_000,
  retry: expect.objectContaining({ retries: 3 }),
  headers: {},
  credentials: undefined,
  tls: { caFile: undefined, certFile: undefined, keyFile: undefined, insecure: false },
  gzip: false,
  spoolDir: undefined,
  target: "pushgateway",
};
const QUIET = { quiet: true, verbose: false };
const NORMAL = { quiet: false, verbose: false };

describe("push and add", () => {
  it("push: METRIC arguments, no type, default instance from the host name, default gateway", async () => {
    const [name, options, output] = await parse(["push", "--job", "backup", "a=1", 'b{x="y"}=2']);
    expect(name).toBe("push");
    expect(options).toEqual({
      method: "PUT",
      grouping: { job: "backup", labels: [["instance", "web-1"]] },
      metrics: { kind: "arguments", args: ["a=1", 'b{x="y"}=2'], type: undefined, help: undefined },
      transport: DEFAULT_TRANSPORT,
      dryRun: false,
      heartbeat: false,
    });
    expect(output).toEqual(NORMAL);
  });

  it("add: POST, labels in order, --no-instance, file input, env job and gateway", async () => {
    const [, options, output] = await parse(["add", "-l", "env=prod", "-l", "tier=", "--no-instance", "-f", "-", "-q"], {
      env: { PUSHGW_JOB: "from-env", PUSHGW_GATEWAY: "https://gw.example/pgw/" },
      hostname: "web-1",
    });
    expect(options).toMatchObject({
      method: "POST",
      grouping: { job: "from-env", labels: [["env", "prod"], ["tier", ""]] },
      metrics: { kind: "file", path: "-" },
      transport: { gateways: [{ baseUrl: "https://gw.example/pgw" }] },
    });
    expect(output).toEqual(QUIET);
  });

  it.each([
    ["after --", ["push", "-j", "x", "--", "a=1", "b=2"], ["a=1", "b=2"]],
    ["before and after --", ["add", "-j", "x", "a=1", "--", "b=2"], ["a=1", "b=2"]],
    ["after --, a word that starts with -", ["add", "-j", "x", "--", "-q=1"], ["-q=1"]],
  ])("METRIC arguments %s are METRIC arguments", async (_, argv, args) => {
    const [, options] = await parse(argv);
    expect(options).toMatchObject({ metrics: { kind: "arguments", args } });
  });

  it("--type and --help-text for arguments; --dry-run", async () => {
    const [, options] = await parse(["add", "-j", "x", "-t", "counter", "--help-text", "Rows.", "--dry-run", "rows=1"]);
    expect(options).toMatchObject({ metrics: { kind: "arguments", args: ["rows=1"], type: "counter", help: "Rows." }, dryRun: true });
  });

  it("flags win over the environment; gateways repeat; numbers stay strings", async () => {
    const [, options, output] = await parse(
      ["add", "-j", "flag", "-i", "007", "-g", "http://a:1", "-g", "http://b:2", "--timeout", "1m30s", "--retries", "0", "-H", "X-Scope-OrgID: team", "-v", "m=010"],
      { env: { PUSHGW_JOB: "env", PUSHGW_GATEWAY: "http://env:1" }, hostname: "h" },
    );
    expect(options).toMatchObject({
      grouping: { job: "flag", labels: [["instance", "007"]] },
      metrics: { args: ["m=010"] },
      transport: {
        gateways: [{ baseUrl: "http://a:1" }, { baseUrl: "http://b:2" }],
        timeoutMs: 90_000,
        retry: { retries: 0 },
        headers: { "X-Scope-OrgID": "team" },
      },
    });
    expect(output).toEqual({ quiet: false, verbose: true });
  });

  it("PUSHGW_GATEWAY may name several gateways, separated by blanks", async () => {
    const [, options] = await parse(["add", "-j", "x", "m=1"], { env: { PUSHGW_GATEWAY: " http://a:1  http://b:2 " }, hostname: "h" });
    expect(options).toMatchObject({ transport: { gateways: [{ baseUrl: "http://a:1" }, { baseUrl: "http://b:2" }] } });
  });

  it.each([
    [["--instance", ""], [["instance", ""]]],
    [["--instance"], [["instance", ""]]],
    [["--no-instance"], []],
  ])("%j is the instance label %j", async (flags, labels) => {
    const [, options] = await parse(["add", "-j", "x", ...flags, "-l", "a=b", "m=1"]);
    expect(options).toMatchObject({ grouping: { job: "x", labels: [...labels, ["a", "b"]] } });
  });

  it("a switch before the command is read as a switch", async () => {
    const [name, , output] = await parse(["-q", "add", "-j", "x", "m=1"]);
    expect(name).toBe("push");
    expect(output).toEqual(QUIET);
  });

  it("inside a wrapped job, no grouping flags: the wrapper's group; any grouping flag: the flags", async () => {
    const wrapper = { job: "nightly", labels: [["env", "prod"]] as Array<[string, string]> };
    const inside: CliEnvironment = { env: { PUSHGW_WRAP_GROUPING: encodeWrapGrouping(wrapper), PUSHGW_JOB: "nightly" }, hostname: "h" };
    expect((await parse(["add", "rows=1"], inside))[1]).toMatchObject({ grouping: wrapper });
    expect((await parse(["add", "-j", "other", "rows=1"], inside))[1]).toMatchObject({ grouping: { job: "other", labels: [["instance", "h"]] } });
    expect((await parse(["add", "-i", "h2", "rows=1"], inside))[1]).toMatchObject({ grouping: { job: "nightly", labels: [["instance", "h2"]] } });
    expect((await parse(["add", "rows=1"], { env: { PUSHGW_WRAP_GROUPING: "garbage", PUSHGW_JOB: "j" }, hostname: "h" }))[1]).toMatchObject({
      grouping: { job: "j", labels: [["instance", "h"]] },
    });
  });
});

describe("inside a wrapped job", () => {
  const inside: CliEnvironment = {
    env: { PUSHGW_WRAP_GROUPING: encodeWrapGrouping({ job: "nightly", labels: [] }), PUSHGW_WRAP_SOCKET: "/tmp/w/relay.sock" },
    hostname: "h",
  };
  it("a push with no --gateway and no grouping flags goes through the wrapper's socket", async () => {
    expect((await parse(["add", "rows=1"], inside))[1]).toMatchObject({ transport: { relaySocket: "/tmp/w/relay.sock" } });
  });
  it.each([[["-g", "http://other:9091"]], [["-j", "other"]], [["--no-instance"]], [["-l", "a=b"]]])("with %j it does not", async (flags) => {
    expect(((await parse(["add", ...flags, "rows=1"], { ...inside, env: { ...inside.env, PUSHGW_JOB: "nightly" } }))[1] as { transport: { relaySocket?: string } }).transport.relaySocket).toBeUndefined();
  });
});

describe("credentials, TLS, the spool and the target", () => {
  it.each([
    [["-u", "admin:s3:cret"], {}, { kind: "basic", user: "admin", password: { value: "s3:cret" } }],
    [["-u", "admin"], { PUSHGW_PASSWORD: "from-env" }, { kind: "basic", user: "admin", password: { value: "from-env" } }],
    [["-u", "admin", "--password-file", "/run/pw"], {}, { kind: "basic", user: "admin", password: { file: "/run/pw" } }],
    [[], { PUSHGW_USER: "envuser", PUSHGW_PASSWORD: "p" }, { kind: "basic", user: "envuser", password: { value: "p" } }],
    [[], { PUSHGW_USER: "envuser", PUSHGW_PASSWORD: "p", PUSHGW_BEARER_TOKEN: "tok" }, { kind: "basic", user: "envuser", password: { value: "p" } }],
    [["--bearer-token-file", "/run/token"], {}, { kind: "bearer", token: { file: "/run/token" } }],
    [[], { PUSHGW_BEARER_TOKEN: "tok" }, { kind: "bearer", token: { value: "tok" } }],
    [[], {}, undefined],
  ])("%j with %j", async (flags, env, credentials) => {
    const [, options] = await parse(["add", "-j", "x", ...flags, "m=1"], { env, hostname: "h" });
    expect((options as { transport: { credentials: unknown } }).transport.credentials).toEqual(credentials);
  });

  it("TLS files, --insecure, --gzip and --spool (or PUSHGW_SPOOL)", async () => {
    const [, options] = await parse(["add", "-j", "x", "--cacert", "ca.pem", "--cert", "c.pem", "--key", "k.pem", "-k", "--gzip", "m=1"], { env: { PUSHGW_SPOOL: "/var/spool/pushgw" }, hostname: "h" });
    expect(options).toMatchObject({ transport: { tls: { caFile: "ca.pem", certFile: "c.pem", keyFile: "k.pem", insecure: true }, gzip: true, spoolDir: "/var/spool/pushgw" } });
  });

  it("--target, or PUSHGW_TARGET", async () => {
    expect((await parse(["add", "-j", "x", "--target", "remote-write", "m=1"]))[1]).toMatchObject({ transport: { target: "remote-write" } });
    expect((await parse(["add", "-j", "x", "m=1"], { env: { PUSHGW_TARGET: "victoriametrics" }, hostname: "h" }))[1]).toMatchObject({ transport: { target: "victoriametrics" } });
  });

  it.each([
    [["-u", "admin"], {}, /--user admin: no password/],
    [["--password-file", "/pw"], {}, /--password-file needs --user/],
    [["-u", "a:b", "--bearer-token-file", "/t"], {}, /not both/],
    [["-u", "a:b"], { PUSHGW_BEARER_TOKEN: "t" }, /not both/],
    [["-u", ":pw"], {}, /user name is empty/],
    [["--spool", "/s", "--target", "remote-write"], {}, /--spool works with --target pushgateway only/],
    [[], { PUSHGW_TARGET: "prometheus" }, /^PUSHGW_TARGET: expected pushgateway, remote-write, victoriametrics, otlp or textfile, got "prometheus"$/],
  ])("refuses %j with %j", async (flags, env, message) => {
    expect((await refusal(["add", "-j", "x", ...flags, "m=1"], { env, hostname: "h" })).message).toMatch(message);
  });
});

describe("delete", () => {
  it("one group, exactly: --dry-run, an empty instance", async () => {
    const [name, options, output] = await parse(["delete", "-j", "x", "--instance", "", "--dry-run"]);
    expect(name).toBe("delete");
    expect(options).toEqual({ grouping: { job: "x", labels: [["instance", ""]] }, transport: DEFAULT_TRANSPORT, dryRun: true });
    expect(output).toEqual(NORMAL);
  });

  it("--match: every matching group, asking first unless --yes", async () => {
    const [name, options] = await parse(["delete", "--match", "job=old", "--match", "instance=~db-.*", "-y"]);
    expect(name).toBe("removeGroups");
    expect(options).toMatchObject({
      command: "delete --match",
      matchers: [
        { name: "job", op: "=", value: "old" },
        { name: "instance", op: "=~", value: "db-.*" },
      ],
      olderThanMs: undefined,
      dryRun: false,
      yes: true,
      transport: DEFAULT_TRANSPORT,
    });
  });

  it("--match with a grouping flag is refused", async () => {
    expect((await refusal(["delete", "--match", "job=x", "-j", "x"])).message).toMatch(/either a grouping key .* or --match, not both/);
  });
});

describe("wrap", () => {
  it("the command after --, and every default", async () => {
    const [name, options, output] = await parse(["wrap", "-j", "backup", "--", "/usr/local/bin/backup.sh", "--full", "-v"]);
    expect(name).toBe("wrap");
    expect(options).toEqual({
      argv: ["/usr/local/bin/backup.sh", "--full", "-v"],
      grouping: { job: "backup", labels: [["instance", "web-1"]] },
      transport: DEFAULT_TRANSPORT,
      prefix: "job",
      startPush: true,
      quietSuccess: false,
      strict: false,
      maxRuntimeMs: undefined,
      killGraceMs: 10_000,
      expectation: undefined,
      dryRun: false,
    });
    expect(output).toEqual(NORMAL);
  });

  it("every flag of its own", async () => {
    const [, options, output] = await parse([
      "wrap", "-j", "sync", "--no-instance", "--max-runtime", "14m", "--kill-grace", "5s", "--prefix", "batch", "--no-start-push",
      "--quiet-success", "--strict", "--expect-every", "1d", "--grace", "2h", "--dry-run", "-q", "--", "sync.sh",
    ]);
    expect(options).toMatchObject({
      argv: ["sync.sh"],
      grouping: { job: "sync", labels: [] },
      prefix: "batch",
      startPush: false,
      quietSuccess: true,
      strict: true,
      maxRuntimeMs: 14 * 60_000,
      killGraceMs: 5_000,
      expectation: { intervalMs: 86_400_000, graceMs: 7_200_000 },
      dryRun: true,
    });
    expect(output).toEqual(QUIET);
  });

  it("--grace defaults to a tenth of --expect-every, at least 5 minutes", async () => {
    expect((await parse(["wrap", "-j", "x", "--expect-every", "1d", "--", "true"]))[1]).toMatchObject({ expectation: { intervalMs: 86_400_000, graceMs: 8_640_000 } });
    expect((await parse(["wrap", "-j", "x", "--expect-every", "15m", "--", "true"]))[1]).toMatchObject({ expectation: { intervalMs: 900_000, graceMs: 300_000 } });
  });

  // As timeout, nice, flock and sudo read theirs: the first word that is neither an option of
  // pushgw's nor an option's value is the command, and the rest is the command's.
  it.each([
    ["a flag of pushgw's after the command", ["-j", "x", "cleanup.sh", "--dry-run"], ["cleanup.sh", "--dry-run"], { dryRun: false }],
    ["the command's own -la", ["-j", "x", "ls", "-la"], ["ls", "-la"], { grouping: { job: "x", labels: [["instance", "web-1"]] } }],
    ["an attached short value stays the command's", ["-j", "x", "ls", "-ihost1"], ["ls", "-ihost1"], {}],
    ["the command's own --", ["-j", "x", "sh", "-c", "echo \"$@\"", "--", "-v"], ["sh", "-c", "echo \"$@\"", "--", "-v"], {}],
    ["pushgw's -- before the command's", ["-j", "x", "--", "env", "--", "-q"], ["env", "--", "-q"], { dryRun: false }],
    ["flags and their values before the command", ["-qj", "x", "-l", "a=b", "--max-runtime", "1m", "--dry-run", "job.sh", "-q"], ["job.sh", "-q"], { dryRun: true, maxRuntimeMs: 60_000 }],
    ["a value that looks like a command is the flag's", ["-j", "true", "--prefix", "batch", "run"], ["run"], { prefix: "batch", grouping: { job: "true" } }],
    ["--lock's file, then the command", ["-j", "x", "--lock", "/l", "job.sh", "--lock"], ["job.sh", "--lock"], { lock: { file: "/l", waitMs: undefined } }],
    ["a bare --lock before a flag", ["-j", "x", "--lock", "-q", "job.sh"], ["job.sh"], { lock: { file: undefined, waitMs: undefined } }],
    ["flags before the command name too", ["-j", "x", "job.sh", "-v"], ["job.sh", "-v"], {}],
  ] as Array<[string, string[], string[], object]>)("options end at the command: %s", async (_, argv, command, rest) => {
    const [name, options] = await parse(["wrap", ...argv]);
    expect(name).toBe("wrap");
    expect(options).toMatchObject({ argv: command, ...rest });
  });

  it("pushgw's flags before `wrap` are pushgw's", async () => {
    const [, options, output] = await parse(["-q", "-g", "http://gw:9091", "wrap", "-j", "x", "job.sh", "-v", "-g", "y"]);
    expect(options).toMatchObject({ argv: ["job.sh", "-v", "-g", "y"], transport: { gateways: [{ baseUrl: "http://gw:9091" }] } });
    expect(output).toEqual(QUIET);
  });

  it.each([
    ["no --lock", ["--", "true"], undefined],
    ["a bare --lock: the group's own file", ["--lock", "--", "true"], { file: undefined, waitMs: undefined }],
    ["a bare --lock before another flag", ["--lock", "-q", "--", "true"], { file: undefined, waitMs: undefined }],
    ["--lock FILE", ["--lock", "/var/lock/x.lock", "--", "true"], { file: "/var/lock/x.lock", waitMs: undefined }],
    ["--lock-wait alone implies --lock", ["--lock-wait", "5m", "--", "true"], { file: undefined, waitMs: 300_000 }],
    ["--lock FILE --lock-wait D", ["--lock=/l", "--lock-wait", "500ms", "--", "true"], { file: "/l", waitMs: 500 }],
  ])("%s", async (_, argv, lock) => {
    const [, options] = await parse(["wrap", "-j", "x", ...argv]);
    expect((options as { lock?: unknown }).lock).toEqual(lock);
    expect(options).toMatchObject({ argv: ["true"] });
  });

  it.each([
    [["wrap", "-j", "x"], /^wrap: no command given$/, /pushgw wrap --job backup -- \/usr\/local\/bin\/backup.sh/],
    [["wrap", "-j", "x", "--", "", "arg"], /^wrap: the command is an empty word$/, /name it after wrap's options/],
    [["wrap", "-j", "x", "--lock-wait", "soon", "--", "true"], /--lock-wait/, undefined],
    [["wrap", "-j", "x", "--grace", "1h", "--", "true"], /--grace only makes sense with --expect-every/, undefined],
    [["wrap", "-j", "x", "--max-runtime", "0s", "--", "true"], /--max-runtime must be longer than 0/, undefined],
    [["wrap", "-j", "x", "--prefix", "1x", "--", "true"], /--prefix: "1x" cannot start a metric name/, undefined],
    // Before the command, a word that looks like a flag is one of pushgw's, or a mistake.
    [["wrap", "-j", "x", "--bogus", "ls"], /^wrap: unknown flag --bogus$/, undefined],
  ])("refuses %j", async (argv, message, hint) => {
    const error = await refusal(argv);
    expect(error.message).toMatch(message);
    if (hint) expect(error.hint).toMatch(hint);
  });
});

describe("list, prune and flush", () => {
  it("list: every group by default", async () => {
    const [name, options, output] = await parse(["list"]);
    expect(name).toBe("list");
    expect(options).toEqual({ transport: DEFAULT_TRANSPORT, matchers: [], olderThanMs: undefined, json: false });
    expect(output).toEqual(NORMAL);
  });

  it("list: --match, --older-than, --json", async () => {
    const [, options] = await parse(["list", "--match", "job!~ci-.*", "--older-than", "7d", "--json"]);
    expect(options).toMatchObject({ matchers: [{ name: "job", op: "!~", value: "ci-.*" }], olderThanMs: 7 * 86_400_000, json: true });
  });

  it("prune: --older-than, --match, --dry-run, --yes", async () => {
    const [name, options, output] = await parse(["prune", "--older-than", "30d", "--match", "job=~ci-.*", "--dry-run", "--yes", "-v"]);
    expect(name).toBe("removeGroups");
    expect(options).toMatchObject({ command: "prune", olderThanMs: 30 * 86_400_000, matchers: [{ name: "job", op: "=~", value: "ci-.*" }], dryRun: true, yes: true, transport: DEFAULT_TRANSPORT });
    expect(output).toEqual({ quiet: false, verbose: true });
  });

  it("prune needs --older-than", async () => {
    const error = await refusal(["prune", "--yes"]);
    expect(error.message).toBe("prune needs --older-than D");
    expect(error.hint).toMatch(/--older-than 7d/);
  });

  it("flush: the spool from PUSHGW_SPOOL, the credentials of this run", async () => {
    const [name, options] = await parse(["flush", "-u", "pusher:pw"], { env: { PUSHGW_SPOOL: "/var/spool/pushgw" }, hostname: "h" });
    expect(name).toBe("flush");
    expect(options).toEqual({
      transport: { ...DEFAULT_TRANSPORT, spoolDir: "/var/spool/pushgw", credentials: { kind: "basic", user: "pusher", password: { value: "pw" } } },
      retrySetAside: false,
    });
    expect((await parse(["flush", "--spool", "/s", "--retry-set-aside"]))[1]).toMatchObject({ retrySetAside: true, transport: { spoolDir: "/s" } });
  });
});

describe("doctor", () => {
  it("reads the report by default; --older-than, --json, --fix, --yes", async () => {
    const [name, options, output] = await parse(["doctor"]);
    expect(name).toBe("doctor");
    expect(options).toEqual({ transport: DEFAULT_TRANSPORT, olderThanMs: undefined, json: false, fix: false, yes: false });
    expect(output).toEqual(NORMAL);
    expect((await parse(["doctor", "--older-than", "7d", "--json", "--fix", "-y"]))[1]).toMatchObject({ olderThanMs: 7 * 86_400_000, json: true, fix: true, yes: true });
  });

  it.each([
    [["doctor", "--match", "job=x"], "doctor: unknown flag --match"],
    [["doctor", "--dry-run"], "doctor: unknown flag --dry-run"],
  ])("refuses %j", async (argv, message) => {
    expect((await refusal(argv)).message).toBe(message);
  });
});

describe("alert-rules and completion", () => {
  it("alert-rules: prefix and dashboard", async () => {
    expect(await parse(["alert-rules"])).toEqual(["alertRules", { prefix: "job", dashboard: false }, NORMAL]);
    expect(await parse(["alert-rules", "--prefix", "cron", "--dashboard"])).toEqual(["alertRules", { prefix: "cron", dashboard: true }, NORMAL]);
  });

  it("completion: the shell named, or the one in $SHELL", async () => {
    const [name, options] = await parse(["completion", "zsh"]);
    expect(name).toBe("completion");
    expect(options).toMatchObject({ shell: "zsh", spec: { program: "pushgw" } });
    expect((await parse(["completion"], { env: { SHELL: "/usr/bin/fish" }, hostname: "h" }))[1]).toMatchObject({ shell: "fish" });
  });
});

describe("usage errors: one line saying what is wrong, one hint", () => {
  it.each([
    [["push", "-j", "x", "--bogus"], "push: unknown flag --bogus", "see pushgw push --help"],
    [["add", "-j", "x", "--dry-ru", "m=1"], "add: unknown flag --dry-ru", "did you mean --dry-run?"],
    [["push", "-j", "x", "--jbo", "y", "m=1"], "push: unknown flag --jbo", "did you mean --job?"],
    [["add", "-j", "x", "--verbos", "m=1"], "add: unknown flag --verbos", "did you mean --verbose?"],
    [["wrap", "-j", "x", "--max-runtim", "1m", "--", "true"], "wrap: unknown flag --max-runtim", "did you mean --max-runtime?"],
    [["list", "--older-then", "7d"], "list: unknown flag --older-then", "did you mean --older-than?"],
    [["prune", "--older-then", "7d"], "prune: unknown flag --older-then", "did you mean --older-than?"],
    [["add", "-j", "x", "--no-instanc", "m=1"], "add: unknown flag --no-instanc", "did you mean --no-instance?"],
    [["add", "-j", "x", "--no-start-push", "m=1"], "add: unknown flag --no-start-push", "--start-push is a flag of wrap; see pushgw add --help for add's"],
    [["add", "--json"], "add: unknown flag --json", "--json is a flag of list, doctor and cron; see pushgw add --help for add's"],
    [["list", "-j", "x"], "list: unknown flag -j", "see pushgw list --help"],
    [["show", "-j", "x"], "unknown command show", "the commands: push, add, delete, wrap, list, prune, flush, doctor, alert-rules, completion and cron"],
    [["pusj"], "unknown command pusj", "did you mean push? The commands: push, add, delete, wrap, list, prune, flush, doctor, alert-rules, completion and cron"],
    [["-g", "http://gw:9091", "ad", "-j", "x"], "unknown command ad", "did you mean add? The commands: push, add, delete, wrap, list, prune, flush, doctor, alert-rules, completion and cron"],
    [["list", "foo"], 'list: unexpected argument "foo"', "list takes no arguments besides its flags; see pushgw list --help"],
    [["completion", "zsh", "extra"], 'completion: unexpected argument "extra"', "see pushgw completion --help"],
    [["add", "-j", "x", "--type", "gague", "m=1"], '--type: expected gauge, counter or untyped, got "gague"', "did you mean --type gauge?"],
    [["add", "-j", "x", "-t", "histogram", "m=1"], '--type: expected gauge, counter or untyped, got "histogram"', "one of: gauge, counter, untyped"],
    [["add", "-j", "x", "--target", "remote_write", "m=1"], '--target: expected pushgateway, remote-write, victoriametrics, otlp or textfile, got "remote_write"', "did you mean --target remote-write?"],
    [["add", "-j"], "--job needs a value", "see pushgw add --help"],
    [["list", "--match"], "--match needs a value", "see pushgw list --help"],
    [["alert-rules", "--prefix"], "--prefix needs a value", "see pushgw alert-rules --help"],
    [["push", "-j", "x", "-q", "-v", "m=1"], "Arguments quiet and verbose are mutually exclusive", "give only one of them"],
    [["list", "--match", "job=~("], '--match "job=~(": "(" is not a valid regular expression (unterminated group)', undefined],
    [["push", "-j", "a", "-j", "b", "m=1"], "--job was given more than once", "give --job once"],
  ])("%j", async (argv, message, hint) => {
    const error = await refusal(argv);
    expect(error.message).toBe(message);
    if (hint !== undefined) expect(error.hint).toBe(hint);
    expect(error.hint).toBeDefined();
    expect(error.exitCode).toBe(2);
  });

  it.each([
    [["push", "-j", "x", "--timeout", "10"], /^--timeout: invalid duration "10"$/],
    [["push", "-j", "x", "--timeout", "0s", "m=1"], /^--timeout must be longer than 0$/],
    [["push", "-j", "x", "--timeout", "25d", "m=1"], /^--timeout 25d: at most 24d/],
    [["push", "-j", "x", "--retries", "many"], /^--retries: expected a whole number from 0 to 100, got "many"$/],
    [["push", "-j", "x", "--retries", "101"], /^--retries: expected a whole number/],
    [["push", "-j", "x", "-H", "no colon"], /^--header: 'Name: value' expected/],
    [["push", "-j", "x", "-f", "m.prom", "m=1"], /either as arguments or with --file/],
    [["push", "-j", "x", "-g", "ftp://gw", "m=1"], /unsupported scheme/],
    [["push", "-l", 'a"b=x', "-j", "x", "m=1"], /^--label a"b=x: invalid label name "a\\"b"/],
    [["push", "m=1"], /^no job given$/],
    [["list", "--older-than", "soon"], /^--older-than: invalid duration "soon"$/],
    [["completion", "tcsh"], /^completion: unsupported shell "tcsh" \(bash, zsh or fish\)$/],
    [["completion"], /^completion: name the shell: bash, zsh or fish$/],
  ])("%j", async (argv, message) => {
    expect((await refusal(argv)).message).toMatch(message);
  });

  it("no command", async () => {
    const error = await refusal([]);
    expect(error.message).toMatch(/^name a command: push, add, /);
  });
});
