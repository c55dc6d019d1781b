import { describe, expect, it } from "vitest";
import type { App } from "../../src/cli/app.js";
import { buildCli } from "../../src/cli/build-cli.js";
import type { CliEnvironment } from "../../src/cli/options.js";
import { UsageError } from "../../src/core/errors.js";

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
  };
  return { app, calls };
}

const host: CliEnvironment = { env: {}, hostname: "web-1" };

async function parse(argv: string[], cli: CliEnvironment = host) {
  const { app, calls } = recordingApp();
  await buildCli(app, cli, "1.2.3").parseAsync(argv);
  expect(calls).toHaveLength(1);
  return calls[0]!;
}

describe("argv → use-case options", () => {
  it("push: METRIC arguments, default instance from the host name, default gateway", async () => {
    const [name, options, output] = await parse(["push", "--job", "backup", "a=1", 'b{x="y"}=2']);
    expect(name).toBe("push");
    expect(options).toEqual({
      method: "PUT",
      grouping: { job: "backup", instance: "web-1", labels: [] },
      metrics: { kind: "arguments", args: ["a=1", 'b{x="y"}=2'], type: "gauge", help: undefined },
      transport: {
        gateways: [{ baseUrl: "http://localhost:9091", urlCredentials: undefined }],
        timeoutMs: 10_000,
        retry: expect.objectContaining({ retries: 3 }),
        headers: {},
        credentials: undefined,
        tls: { caFile: undefined, certFile: undefined, keyFile: undefined, insecure: false },
        gzip: false,
        spoolDir: undefined,
        target: "pushgateway",
      },
      dryRun: false,
    });
    expect(output).toEqual({ quiet: false, verbose: false });
  });

  it("add: POST, labels in order, --no-instance, file input, env job and gateway", async () => {
    const [, options] = await parse(["add", "-l", "env=prod", "-l", "tier=", "--no-instance", "-f", "-", "-q"], {
      env: { PUSHGW_JOB: "from-env", PUSHGW_GATEWAY: "https://gw.example/pgw/" },
      hostname: "web-1",
    });
    expect(options).toMatchObject({
      method: "POST",
      grouping: { job: "from-env", instance: undefined, labels: ["env=prod", "tier="] },
      metrics: { kind: "file", path: "-" },
      transport: { gateways: [{ baseUrl: "https://gw.example/pgw" }] },
    });
  });

  it("flags win over the environment; gateways repeat; numbers stay strings", async () => {
    const [, options, output] = await parse(
      ["add", "-j", "flag", "-i", "007", "-g", "http://a:1", "-g", "http://b:2", "--timeout", "1m30s", "--retries", "0", "-H", "X-Scope-OrgID: team", "-v", "m=010"],
      { env: { PUSHGW_JOB: "env", PUSHGW_GATEWAY: "http://env:1" }, hostname: "h" },
    );
    expect(options).toMatchObject({
      grouping: { job: "flag", instance: "007" },
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

  it("an empty --instance is kept as an empty value", async () => {
    const [, options] = await parse(["delete", "-j", "x", "--instance", ""]);
    expect(options).toMatchObject({ grouping: { job: "x", instance: "" }, dryRun: false });
  });

  it("delete --dry-run", async () => {
    const [name, options] = await parse(["delete", "-j", "x", "--dry-run"]);
    expect(name).toBe("delete");
    expect(options).toMatchObject({ dryRun: true, grouping: { job: "x", instance: "web-1" } });
  });
});

describe("credentials, TLS and the spool", () => {
  it.each([
    [["-u", "admin:s3:cret"], {}, { kind: "basic", user: "admin", password: { value: "s3:cret" } }],
    [["-u", "admin"], { PUSHGW_PASSWORD: "from-env" }, { kind: "basic", user: "admin", password: { value: "from-env" } }],
    [["-u", "admin", "--password-file", "/run/pw"], {}, { kind: "basic", user: "admin", password: { file: "/run/pw" } }],
    [[], { PUSHGW_USER: "envuser", PUSHGW_PASSWORD: "p" }, { kind: "basic", user: "envuser", password: { value: "p" } }],
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

  it.each([
    [["-u", "admin"], /--user admin: no password/],
    [["--password-file", "/pw"], /--password-file needs --user/],
    [["-u", "a:b", "--bearer-token-file", "/t"], /not both/],
    [["-u", ":pw"], /user name is empty/],
  ])("refuses %j", async (flags, message) => {
    const { app } = recordingApp();
    const run = Promise.resolve().then(() => buildCli(app, host, "1").parseAsync(["add", "-j", "x", ...flags, "m=1"]));
    await expect(run).rejects.toThrow(message);
  });
});

describe("suggestions", () => {
  it.each([
    [["push", "-j", "x", "--jbo", "y", "m=1"], "did you mean --job?"],
    [["add", "-j", "x", "--verbos", "m=1"], "did you mean --verbose?"],
    [["wrap", "-j", "x", "--max-runtim", "1m", "--", "true"], "did you mean --max-runtime?"],
    [["list", "--older-then", "7d"], "did you mean --older-than?"],
  ])("%j → %s", async (argv, hint) => {
    const { app } = recordingApp();
    const error = await Promise.resolve()
      .then(() => buildCli(app, host, "1").parseAsync(argv))
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(UsageError);
    expect((error as UsageError).hint).toBe(hint);
  });
});

describe("usage errors", () => {
  it.each([
    [["push", "-j", "x", "--bogus"], /Unknown argument: bogus/],
    [["pusj"], /Did you mean push/],
    [[], /name a command/],
    [["push", "-j", "x", "--timeout", "10"], /--timeout: invalid duration "10"/],
    [["push", "-j", "x", "--retries", "many"], /--retries: expected a whole number/],
    [["push", "-j", "x", "-t", "histogram", "m=1"], /Invalid values|--type/],
    [["push", "-j", "x", "-H", "no colon"], /--header expects 'Name: value'/],
    [["push", "-j", "x", "-f", "m.prom", "m=1"], /either as arguments or with --file/],
    [["push", "-j", "x", "-q", "-v", "m=1"], /mutually exclusive/],
    [["push", "-j", "x", "-g", "ftp://gw", "m=1"], /unsupported scheme/],
  ])("%j", async (argv, message) => {
    const { app, calls } = recordingApp();
    // yargs throws validation errors synchronously, before a promise exists.
    const run = Promise.resolve().then(() => buildCli(app, host, "1").parseAsync(argv));
    await expect(run).rejects.toThrow(message);
    await expect(run).rejects.toBeInstanceOf(UsageError);
    expect(calls).toEqual([]);
  });
});
