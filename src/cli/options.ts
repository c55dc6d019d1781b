import type { Argv } from "yargs";
import type { Credentials, Target, TransportOptions } from "../app/gateway.js";
import type { OutputSettings } from "../app/ports.js";
import { DEFAULT_RETRY_POLICY, parseGatewayUrl } from "../core/delivery.js";
import { LONGEST_TIMER_MS, parseDuration } from "../core/duration.js";
import { UsageError } from "../core/errors.js";
import type { GroupingKeyInput } from "../core/grouping-key.js";
import { WRAP_SOCKET_ENV } from "../app/relay.js";
import { WRAP_GROUPING_ENV } from "../app/wrap.js";

/** What the CLI reads from the process besides argv; passed in so tests can set it. */
export interface CliEnvironment {
  readonly env: Readonly<Record<string, string | undefined>>;
  readonly hostname: string;
  /** The arguments as given, for hints that depend on them (a wrapped command without --). */
  readonly argv?: readonly string[];
}

export const DEFAULT_GATEWAY = "http://localhost:9091";

// Repeatable flags are plain strings that yargs gathers into an array when given twice:
// `array: true` would swallow the METRIC arguments that follow (`-l a=1 m=1`).
type Repeated = string | string[] | undefined;

export function listOf(value: Repeated): string[] {
  return value === undefined ? [] : Array.isArray(value) ? value : [value];
}

export interface GlobalArgs {
  gateway?: Repeated;
  user?: string;
  passwordFile?: string;
  bearerTokenFile?: string;
  cacert?: string;
  cert?: string;
  key?: string;
  insecure?: boolean;
  gzip?: boolean;
  spool?: string;
  target?: string;
  timeout: string;
  retries: string;
  header?: Repeated;
  quiet?: boolean;
  verbose?: boolean;
}

export interface GroupingArgs {
  job?: string;
  instance?: string | boolean;
  label?: Repeated;
}

export function withGlobalOptions<T>(y: Argv<T>): Argv<T> {
  return y
    .option("gateway", {
      alias: "g",
      type: "string",
      requiresArg: true,
      describe: "Pushgateway base URL, path prefix kept; repeat to push to several [env PUSHGW_GATEWAY, default http://localhost:9091]",
      group: "Where to push:",
    })
    .option("timeout", { type: "string", default: "10s", requiresArg: true, describe: "time limit per attempt", group: "Where to push:" })
    .option("retries", {
      type: "string",
      default: String(DEFAULT_RETRY_POLICY.retries),
      requiresArg: true,
      describe: "retries on connection errors, timeouts, 408, 429 and 5xx",
      group: "Where to push:",
    })
    .option("header", { alias: "H", type: "string", requiresArg: true, describe: "extra header 'Name: value', repeatable", group: "Where to push:" })
    .option("user", { alias: "u", type: "string", requiresArg: true, describe: "basic auth NAME[:PASSWORD] [env PUSHGW_USER; password also from PUSHGW_PASSWORD or --password-file]", group: "Auth and TLS:" })
    .option("password-file", { type: "string", requiresArg: true, describe: "read the basic-auth password from this file", group: "Auth and TLS:" })
    .option("bearer-token-file", { type: "string", requiresArg: true, describe: "send Authorization: Bearer with the token in this file [env PUSHGW_BEARER_TOKEN]", group: "Auth and TLS:" })
    .option("cacert", { type: "string", requiresArg: true, describe: "CA certificate(s) to verify the gateway with (PEM)", group: "Auth and TLS:" })
    .option("cert", { type: "string", requiresArg: true, describe: "client certificate (PEM), with --key", group: "Auth and TLS:" })
    .option("key", { type: "string", requiresArg: true, describe: "client certificate's private key (PEM)", group: "Auth and TLS:" })
    .option("insecure", { alias: "k", type: "boolean", describe: "do not verify the gateway's TLS certificate", group: "Auth and TLS:" })
    .option("gzip", { type: "boolean", describe: "compress bodies (Content-Encoding: gzip; Pushgateway 1.5.0+)", group: "Where to push:" })
    .option("target", {
      type: "string",
      requiresArg: true,
      choices: ["pushgateway", "remote-write", "victoriametrics"],
      describe: "what --gateway is: a Pushgateway, a remote-write endpoint, or VictoriaMetrics [env PUSHGW_TARGET, default pushgateway]",
      group: "Where to push:",
    })
    .option("spool", { type: "string", requiresArg: true, describe: "save pushes that cannot be delivered here, send them later [env PUSHGW_SPOOL]", group: "Where to push:" })
    .option("quiet", { alias: "q", type: "boolean", describe: "print nothing but errors", group: "Output:" })
    .option("verbose", { alias: "v", type: "boolean", describe: "print each request and its status (never credentials)", group: "Output:" })
    .conflicts("quiet", "verbose") as Argv<T>;
}

export function withGroupingOptions<T>(y: Argv<T>): Argv<T> {
  return y
    .option("job", { alias: "j", type: "string", requiresArg: true, describe: "job name [env PUSHGW_JOB]", group: "Grouping key:" })
    .option("instance", {
      alias: "i",
      type: "string",
      describe: "instance label; default this host's name; --no-instance leaves it out",
      group: "Grouping key:",
    })
    .option("label", { alias: "l", type: "string", requiresArg: true, describe: "extra grouping label NAME=VALUE, repeatable, order kept", group: "Grouping key:" }) as Argv<T>;
}

export function withDryRun<T>(y: Argv<T>): Argv<T> {
  return y.option("dry-run", { type: "boolean", default: false, describe: "print the request (method, URL, body); send nothing", group: "Output:" }) as Argv<T>;
}

export function toOutputSettings(args: GlobalArgs): OutputSettings {
  return { quiet: args.quiet === true, verbose: args.verbose === true };
}

/** --gateway as given; else PUSHGW_GATEWAY (several may be separated by spaces); else the default. */
export function gatewayUrlsFor(args: GlobalArgs, cli: CliEnvironment): string[] {
  const given = listOf(args.gateway);
  if (given.length > 0) return given;
  const fromEnv = (cli.env["PUSHGW_GATEWAY"] ?? "").split(/\s+/).filter((url) => url !== "");
  return fromEnv.length > 0 ? fromEnv : [DEFAULT_GATEWAY];
}

export function toTransportOptions(args: GlobalArgs, cli: CliEnvironment): TransportOptions {
  const urls = gatewayUrlsFor(args, cli);
  const retries = Number(args.retries);
  if (!/^\d+$/.test(args.retries.trim()) || retries > 100) {
    throw new UsageError(`--retries: expected a whole number from 0 to 100, got "${args.retries}"`);
  }
  const timeoutMs = parseDuration(args.timeout, "--timeout");
  if (timeoutMs <= 0) throw new UsageError("--timeout must be longer than 0");
  if (timeoutMs > LONGEST_TIMER_MS) throw new UsageError(`--timeout ${args.timeout}: at most 24d (it limits each HTTP attempt; --max-runtime limits the job)`);
  const spool = args.spool ?? nonEmpty(cli.env["PUSHGW_SPOOL"]);
  const target = (args.target ?? nonEmpty(cli.env["PUSHGW_TARGET"]) ?? "pushgateway") as Target;
  if (!["pushgateway", "remote-write", "victoriametrics"].includes(target)) {
    throw new UsageError(`PUSHGW_TARGET: expected pushgateway, remote-write or victoriametrics, got "${target}"`);
  }
  if (spool !== undefined && target !== "pushgateway") {
    throw new UsageError(`--spool works with --target pushgateway only (not ${target})`, {
      hint: "a time-series store takes samples late only within its out-of-order window; push again instead",
    });
  }
  return {
    gateways: urls.map(parseGatewayUrl),
    timeoutMs,
    retry: { ...DEFAULT_RETRY_POLICY, retries },
    headers: parseHeaders(listOf(args.header)),
    credentials: toCredentials(args, cli),
    tls: { caFile: args.cacert, certFile: args.cert, keyFile: args.key, insecure: args.insecure === true },
    gzip: args.gzip === true,
    spoolDir: spool,
    target,
  };
}

function nonEmpty(value: string | undefined): string | undefined {
  return value === undefined || value === "" ? undefined : value;
}

/** --user, --password-file, --bearer-token-file and their environment variables. */
function toCredentials(args: GlobalArgs, cli: CliEnvironment): Credentials | undefined {
  const user = args.user ?? nonEmpty(cli.env["PUSHGW_USER"]);
  const tokenFile = args.bearerTokenFile;
  const token = nonEmpty(cli.env["PUSHGW_BEARER_TOKEN"]);
  if (user !== undefined && (tokenFile !== undefined || (token !== undefined && args.user !== undefined))) {
    throw new UsageError("give either basic auth (--user) or a bearer token (--bearer-token-file), not both");
  }
  if (user !== undefined) {
    const colon = user.indexOf(":");
    const name = colon < 0 ? user : user.slice(0, colon);
    if (name === "") throw new UsageError("--user: the user name is empty");
    if (colon >= 0) return { kind: "basic", user: name, password: { value: user.slice(colon + 1) } };
    const password = cli.env["PUSHGW_PASSWORD"];
    if (password !== undefined) return { kind: "basic", user: name, password: { value: password } };
    if (args.passwordFile !== undefined) return { kind: "basic", user: name, password: { file: args.passwordFile } };
    throw new UsageError(`--user ${name}: no password`, { hint: "give NAME:PASSWORD, set PUSHGW_PASSWORD, or use --password-file F" });
  }
  if (args.passwordFile !== undefined) throw new UsageError("--password-file needs --user NAME (or PUSHGW_USER)");
  if (tokenFile !== undefined) return { kind: "bearer", token: { file: tokenFile } };
  if (token !== undefined) return { kind: "bearer", token: { value: token } };
  return undefined;
}

function parseHeaders(raw: readonly string[]): Record<string, string> {
  const headers: Record<string, string> = {};
  for (const item of raw) {
    const colon = item.indexOf(":");
    const name = colon > 0 ? item.slice(0, colon).trim() : "";
    if (!/^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/.test(name)) {
      throw new UsageError(`--header expects 'Name: value', got "${item.slice(0, 40)}"`);
    }
    headers[name] = item.slice(colon + 1).trim();
  }
  return headers;
}

/**
 * Inside a wrapped job, a push or add with no --gateway and no grouping flags goes through the
 * wrapper (app/relay.ts), which holds the credentials the job was not given.
 */
export function relaySocketFor(args: GlobalArgs & GroupingArgs, cli: CliEnvironment): string | undefined {
  const socket = cli.env[WRAP_SOCKET_ENV];
  if (!socket || !cli.env[WRAP_GROUPING_ENV]) return undefined;
  if (args.gateway !== undefined || args.job !== undefined || args.instance !== undefined || args.label !== undefined) return undefined;
  return socket;
}

export function toGroupingInput(args: GroupingArgs, cli: CliEnvironment): GroupingKeyInput {
  // Inside a wrapped job, a command with no grouping flags lands in the wrapper's group.
  const fromWrap = cli.env[WRAP_GROUPING_ENV];
  if (fromWrap && args.job === undefined && args.instance === undefined && args.label === undefined) {
    const parsed = parseWrapGrouping(fromWrap);
    if (parsed) return parsed;
  }
  const job = args.job ?? cli.env["PUSHGW_JOB"];
  // yargs gives `false` for --no-instance, `""` for a bare --instance.
  const instance = args.instance === false ? undefined : typeof args.instance === "string" ? args.instance : cli.hostname;
  return { job, instance, labels: listOf(args.label) };
}

function parseWrapGrouping(json: string): GroupingKeyInput | undefined {
  try {
    const value = JSON.parse(json) as { job?: unknown; instance?: unknown; labels?: unknown };
    if (typeof value.job !== "string" || !Array.isArray(value.labels)) return undefined;
    return {
      job: value.job,
      instance: typeof value.instance === "string" ? value.instance : undefined,
      labels: value.labels.filter((l): l is string => typeof l === "string"),
    };
  } catch {
    return undefined;
  }
}
