import type { Credentials, OutputSettings, TransportOptions } from "../app/ports.js";
import { WRAP_SOCKET_ENV } from "../app/relay.js";
import { targetSpec, targetsThat } from "../app/targets/registry.js";
import { DEFAULT_RETRY_POLICY } from "../core/delivery.js";
import { UsageError } from "../core/errors.js";
import { WRAP_GROUPING_ENV } from "../core/grouping-key.js";
import { flagRow, type Flags } from "./flags.js";

/** What the CLI reads from the process besides argv; passed in so tests can set it. */
export interface CliEnvironment {
  readonly env: Readonly<Record<string, string | undefined>>;
  readonly hostname: string;
  /** The arguments as given, for hints that depend on them (a wrapped command without --). */
  readonly argv?: readonly string[];
  /** The terminal's width, for --help; undefined when stdout is not a terminal. */
  readonly columns?: number | undefined;
}

export function toOutputSettings(flags: Flags): OutputSettings {
  return { quiet: flags.get("quiet"), verbose: flags.get("verbose") };
}

/**
 * Inside a wrapped job, a push or add with no --gateway and no grouping flags goes through the
 * wrapper (app/relay.ts), which holds the credentials the job was not given.
 */
export function relaySocketFor(flags: Flags, cli: CliEnvironment): string | undefined {
  const socket = cli.env[WRAP_SOCKET_ENV];
  if (!socket || !cli.env[WRAP_GROUPING_ENV]) return undefined;
  if (flags.given("gateway") || flags.given("job") || flags.given("instance") || flags.given("label")) return undefined;
  return socket;
}

export function toTransportOptions(flags: Flags, cli: CliEnvironment): TransportOptions {
  const gateways = flags.get("gateway");
  const timeoutMs = flags.get("timeout");
  const retries = flags.get("retries");
  const spoolDir = flags.get("spool");
  const target = flags.get("target");
  const spool = targetSpec(target).spool;
  if (spoolDir !== undefined && !spool.can) {
    throw new UsageError(`--spool works with --target ${targetsThat((t) => t.spool.can).join(" or ")} only (not ${target})`, { hint: spool.spoolHint });
  }
  const textfileDir = toTextfileDir(flags, target);
  return {
    gateways,
    timeoutMs,
    retry: { ...DEFAULT_RETRY_POLICY, retries },
    headers: Object.fromEntries(flags.get("header")),
    credentials: toCredentials(flags, cli),
    tls: { caFile: flags.get("cacert"), certFile: flags.get("cert"), keyFile: flags.get("key"), insecure: flags.get("insecure") },
    gzip: flags.get("gzip"),
    spoolDir,
    target,
    textfileDir,
  };
}

/** --textfile-dir goes with --target textfile, and --target textfile with it (and with no --gateway). */
function toTextfileDir(flags: Flags, target: TransportOptions["target"]): string | undefined {
  if (!flagRow("textfile-dir").commands.includes(flags.command)) return undefined;
  const dir = flags.get("textfile-dir");
  if (targetSpec(target).writesTo !== "--textfile-dir") {
    if (flags.given("textfile-dir")) throw new UsageError(`--textfile-dir is for --target textfile (the target is ${target})`, { hint: "add --target textfile (or set PUSHGW_TARGET=textfile) to write node_exporter's textfile directory" });
    return undefined;
  }
  if (dir === undefined || dir === "") {
    throw new UsageError("--target textfile needs --textfile-dir DIR (or PUSHGW_TEXTFILE_DIR)", { hint: "give the directory node_exporter reads: its --collector.textfile.directory" });
  }
  if (flags.given("gateway")) {
    throw new UsageError("--gateway and --target textfile: pushgw writes files in --textfile-dir, and sends nothing to a gateway", { hint: "leave out --gateway, or the --target textfile" });
  }
  return dir;
}

/** --user, --password-file, --bearer-token-file and their environment variables. */
function toCredentials(flags: Flags, cli: CliEnvironment): Credentials | undefined {
  const user = flags.get("user");
  const passwordFile = flags.get("password-file");
  const tokenFile = flags.get("bearer-token-file");
  const token = nonEmpty(cli.env["PUSHGW_BEARER_TOKEN"]);
  // PUSHGW_USER beside PUSHGW_BEARER_TOKEN: basic auth, as before; --user beside either token: refused.
  if (user !== undefined && (tokenFile !== undefined || (token !== undefined && flags.given("user")))) {
    throw new UsageError("give either basic auth (--user) or a bearer token (--bearer-token-file), not both", { hint: "a gateway takes one kind of credentials: keep the one it expects" });
  }
  if (user !== undefined) {
    const colon = user.indexOf(":");
    const name = colon < 0 ? user : user.slice(0, colon);
    if (name === "") throw new UsageError("--user: the user name is empty", { hint: "give --user NAME or --user NAME:PASSWORD" });
    if (colon >= 0) return { kind: "basic", user: name, password: { value: user.slice(colon + 1) } };
    const password = cli.env["PUSHGW_PASSWORD"];
    if (password !== undefined) return { kind: "basic", user: name, password: { value: password } };
    if (passwordFile !== undefined) return { kind: "basic", user: name, password: { file: passwordFile } };
    throw new UsageError(`--user ${name}: no password`, { hint: "give NAME:PASSWORD, set PUSHGW_PASSWORD, or use --password-file F" });
  }
  if (passwordFile !== undefined) throw new UsageError("--password-file needs --user NAME (or PUSHGW_USER)", { hint: "the file holds the password; --user names whose it is" });
  if (tokenFile !== undefined) return { kind: "bearer", token: { file: tokenFile } };
  if (token !== undefined) return { kind: "bearer", token: { value: token } };
  return undefined;
}

function nonEmpty(value: string | undefined): string | undefined {
  return value === undefined || value === "" ? undefined : value;
}
