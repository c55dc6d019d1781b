import type { Argv } from "yargs";
import { DEFAULT_TARGET, TARGET_NAMES, type Target } from "../app/targets/names.js";
import { DEFAULT_RETRY_POLICY, parseGatewayUrl, type GatewayEndpoint } from "../core/delivery.js";
import { LONGEST_TIMER_MS, parseDuration } from "../core/duration.js";
import { UsageError } from "../core/errors.js";
import { headerValueProblem } from "../core/secrets.js";
import { parseSelector, type Matcher } from "../core/groups.js";
import type { ArgumentMetricType } from "../core/metric-args.js";
import { isValidMetricName } from "../core/names.js";
import { closestMatch } from "../core/suggest.js";

/**
 * Every flag pushgw takes, once: its name, alias, environment variable, how its value is
 * checked, where --help shows it, what completion offers, and which commands take it. The
 * yargs options, the environment fallbacks, each command's help and the completion scripts
 * are all made from this table.
 */

export const COMMAND_NAMES = ["push", "add", "delete", "wrap", "list", "prune", "flush", "doctor", "alert-rules", "completion", "cron"] as const;
export type CommandName = (typeof COMMAND_NAMES)[number];

export type HelpGroup = "Metrics:" | "Grouping key:" | "Wrap:" | "Selecting groups:" | "Repairs:" | "Spool:" | "Where to push:" | "Gateway:" | "Auth and TLS:" | "Output:" | "Options:" | "Crontabs:" | "Written into the crontabs:";

/** A value as yargs hands it over: a string, several when the flag was repeated, a boolean for a switch or --no-X. */
type Raw = string | boolean | ReadonlyArray<string | boolean> | undefined;

/** Where a value came from, for messages: `--timeout`, or the environment variable's name. */
type Source = string;

interface FlagRow<V> {
  readonly short?: string;
  /** Read when the flag is not given; an empty variable counts as unset. */
  readonly env?: string;
  /** Commands where the variable is not read (the flag means something else there). */
  readonly envNotIn?: readonly CommandName[];
  /** Takes a value (a switch does not). */
  readonly takesValue: boolean;
  readonly repeatable?: boolean;
  /** --no-X is offered (and, for a flag that takes a value, means "leave it out"). */
  readonly negatable?: boolean;
  /** The value may be left out (`--lock` or `--lock FILE`); the reader gets "" then. */
  readonly optionalValue?: boolean;
  /** The value is a path: completion offers file names. */
  readonly file?: boolean;
  /** The value is a directory: completion offers directory names only. */
  readonly directory?: boolean;
  /** The only values allowed, offered by completion and listed by --help. */
  readonly choices?: readonly string[];
  /** Said in --help where the command needs the flag (or its variable). */
  readonly required?: Readonly<Partial<Record<CommandName, string>>>;
  /** Shown in --help when neither the flag nor its variable is given. */
  readonly defaultText?: string;
  /** One line for --help and completion; or one per command where the meaning differs. */
  readonly describe: string | Readonly<Partial<Record<CommandName, string>>>;
  /** Said in --help only, after the environment variable. */
  readonly helpNote?: string;
  readonly group: HelpGroup | Readonly<Partial<Record<CommandName, HelpGroup>>>;
  readonly commands: readonly CommandName[];
  /** May not be given together with this one. */
  readonly conflicts?: string;
  /** Taken, but not shown in these commands' --help: it has no effect there. */
  readonly hiddenIn?: readonly CommandName[];
  /** Turns what was given (or the variable, or the default) into the checked value. */
  readonly read: (raw: Raw, from: Source) => V;
}

/** The checked value a flag's row gives. */
export type FlagValue<F> = F extends FlagRow<infer V> ? V : never;

// --- how values are checked ---------------------------------------------------------------

function one(raw: Raw, from: Source): string | undefined {
  if (raw === undefined || raw === false) return undefined;
  if (Array.isArray(raw)) throw new UsageError(`${from} was given more than once`, { hint: `give ${from} once` });
  return raw === true ? "" : String(raw);
}

function many(raw: Raw): string[] {
  if (raw === undefined || raw === false) return [];
  return (Array.isArray(raw) ? raw : [raw]).map((v) => (v === true ? "" : String(v)));
}

function duration(text: string, from: Source, options: { positive?: boolean } = {}): number {
  const ms = parseDuration(text, from);
  if (options.positive && ms <= 0) throw new UsageError(`${from} must be longer than 0`, { hint: "for example 30s, 5m or 2h" });
  return ms;
}

/** A value from a fixed list; a near miss gets a suggestion. */
function choice<T extends string>(text: string, from: Source, choices: readonly T[]): T {
  if ((choices as readonly string[]).includes(text)) return text as T;
  const expected = `${choices.slice(0, -1).join(", ")} or ${choices[choices.length - 1]}`;
  const close = closestMatch(text, choices);
  const flag = from.startsWith("-");
  throw new UsageError(`${from}: expected ${expected}, got "${text}"`, {
    hint: close !== undefined ? `did you mean ${flag ? `${from} ${close}` : `${from}=${close}`}?` : `one of: ${choices.join(", ")}`,
  });
}

const METRIC_TYPES = ["gauge", "counter", "untyped"] as const satisfies readonly ArgumentMetricType[];
export const DEFAULT_GATEWAY = "http://localhost:9091";

/**
 * A header is checked whole here, before anything runs: a value no HTTP request may carry (a
 * line break, a control character) would otherwise be found by the HTTP client at each send,
 * after a wrapped job had started. Messages never show the value (it is often a token), nor
 * the words of a header with no colon (they may be a token alone).
 */
function header(text: string, from: Source): readonly [string, string] {
  const example = { hint: "for example -H 'X-Scope-OrgID: team'" };
  const colon = text.indexOf(":");
  if (colon < 0) throw new UsageError(`${from}: 'Name: value' expected, and what was given has no colon (not shown: it may hold a secret)`, example);
  const name = text.slice(0, colon).trim();
  if (!/^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/.test(name)) throw new UsageError(`${from}: 'Name: value' expected, and "${name.slice(0, 40)}" is no header name`, example);
  const value = text.slice(colon + 1).trim();
  const problem = headerValueProblem(value);
  if (problem !== undefined) throw new UsageError(`${from} ${name}: the value ${problem}`, { hint: "check how the value was put together (a file read with its line break, a $'…' string)" });
  return [name, value];
}

/** One timer holds it (see LONGEST_TIMER_MS). */
function attemptTimeout(text: string, from: Source): number {
  const ms = duration(text, from, { positive: true });
  if (ms > LONGEST_TIMER_MS) {
    throw new UsageError(`${from} ${text}: at most 24d (it limits each HTTP attempt; --max-runtime limits the job)`, { hint: "a few seconds is usual: --timeout 10s" });
  }
  return ms;
}

function gatewayUrl(text: string): GatewayEndpoint {
  try {
    return parseGatewayUrl(text);
  } catch (error) {
    if (!(error instanceof UsageError) || error.hint !== undefined) throw error;
    throw new UsageError(error.message, { hint: "give the gateway's base URL, for example http://pushgateway:9091 or https://gw.example/pgw" });
  }
}

function retries(text: string, from: Source): number {
  if (!/^\d+$/.test(text.trim()) || Number(text) > 100) {
    throw new UsageError(`${from}: expected a whole number from 0 to 100, got "${text}"`, { hint: "0 sends once and gives up; the default is 3" });
  }
  return Number(text);
}

function metricPrefix(text: string, from: Source): string {
  if (!isValidMetricName(text)) {
    throw new UsageError(`${from}: "${text}" cannot start a metric name (allowed: [a-zA-Z_:][a-zA-Z0-9_:]*)`, { hint: "for example --prefix backup, for backup_success, backup_duration_seconds, …" });
  }
  return text;
}

// Row builders: the type of each value follows from how the row reads it.
const text = <V = string>(row: Omit<FlagRow<V | undefined>, "takesValue" | "read"> & { parse?: (text: string, from: Source) => V }): FlagRow<V | undefined> => ({
  ...row,
  takesValue: true,
  read: (raw, from) => {
    const given = one(raw, from);
    if (given === undefined) return undefined;
    return row.parse ? row.parse(given, from) : (given as V);
  },
});

const textWithDefault = <V>(row: Omit<FlagRow<V>, "takesValue" | "read" | "defaultText"> & { defaultText: string; parse: (text: string, from: Source) => V }): FlagRow<V> => ({
  ...row,
  takesValue: true,
  read: (raw, from) => row.parse(one(raw, from) ?? row.defaultText, from),
});

const repeatable = <V>(row: Omit<FlagRow<readonly V[]>, "takesValue" | "read" | "repeatable"> & { parse: (text: string, from: Source) => V }): FlagRow<readonly V[]> => ({
  ...row,
  takesValue: true,
  repeatable: true,
  read: (raw, from) => many(raw).map((item) => row.parse(item, from)),
});

const toggle = (row: Omit<FlagRow<boolean>, "takesValue" | "read"> & { on?: boolean }): FlagRow<boolean> => ({
  ...row,
  takesValue: false,
  negatable: row.on === true ? true : row.negatable,
  read: (raw) => (raw === undefined ? row.on === true : Array.isArray(raw) ? raw[raw.length - 1] === true : raw === true),
});

// --- the table ------------------------------------------------------------------------------

const TALKING_TO_A_GATEWAY = ["push", "add", "delete", "wrap", "list", "prune", "flush", "doctor"] as const satisfies readonly CommandName[];
const GROUPING = ["push", "add", "delete", "wrap"] as const satisfies readonly CommandName[];
const GATEWAY_GROUP = { push: "Where to push:", add: "Where to push:", wrap: "Where to push:", delete: "Gateway:", list: "Gateway:", prune: "Gateway:", flush: "Gateway:", doctor: "Gateway:", cron: "Written into the crontabs:" } as const;
/** cron wrap writes these into the crontabs it changes, as the variables wrap reads. */
const INTO_CRONTABS = [...TALKING_TO_A_GATEWAY, "cron"] as const satisfies readonly CommandName[];

export const FLAGS = {
  // Where to push
  gateway: {
    ...repeatable({
      short: "g",
      env: "PUSHGW_GATEWAY",
      // cron wrap writes what was typed into the crontabs; the shell's variable is not copied.
      envNotIn: ["cron"],
      helpNote: "several separated by spaces",
      describe: {
        push: "Pushgateway base URL, path prefix kept; repeat to push to several",
        add: "Pushgateway base URL, path prefix kept; repeat to push to several",
        wrap: "Pushgateway base URL, path prefix kept; repeat to push the outcome to several",
        delete: "Pushgateway base URL, path prefix kept; repeat to delete from several",
        list: "the Pushgateway to list (base URL, path prefix kept); repeat to list several, each in turn under its URL",
        prune: "the Pushgateway to prune (base URL, path prefix kept); repeat to prune several, each in turn",
        doctor: "the Pushgateway to examine (base URL, path prefix kept); repeat to examine several, each in turn",
        flush: "deliver only to these gateways with this run's credentials (base URL, path prefix kept); the others' calls go without them",
        cron: "Pushgateway base URL for the wrapped entries, written into each changed crontab as PUSHGW_GATEWAY",
      },
      group: GATEWAY_GROUP,
      commands: INTO_CRONTABS,
      parse: gatewayUrl,
    }),
    defaultText: DEFAULT_GATEWAY,
  },
  timeout: textWithDefault({ defaultText: "10s", describe: "time limit per attempt", group: GATEWAY_GROUP, commands: TALKING_TO_A_GATEWAY, parse: attemptTimeout }),
  retries: textWithDefault({
    defaultText: String(DEFAULT_RETRY_POLICY.retries),
    describe: "retries on connection errors, timeouts, 408, 429 and 5xx",
    group: GATEWAY_GROUP,
    commands: TALKING_TO_A_GATEWAY,
    parse: retries,
  }),
  header: repeatable({ short: "H", describe: "extra header 'Name: value', repeatable", group: GATEWAY_GROUP, commands: TALKING_TO_A_GATEWAY, parse: header }),
  user: text({
    short: "u",
    env: "PUSHGW_USER",
    envNotIn: ["cron"],
    describe: { ...Object.fromEntries(TALKING_TO_A_GATEWAY.map((c) => [c, "basic auth NAME[:PASSWORD]"])), cron: "as root: another user's crontab (crontab -u NAME)" },
    helpNote: "password also from PUSHGW_PASSWORD or --password-file",
    group: { ...Object.fromEntries(TALKING_TO_A_GATEWAY.map((c) => [c, "Auth and TLS:"])), cron: "Crontabs:" },
    commands: INTO_CRONTABS,
  }),
  "password-file": text({ file: true, describe: "read the basic-auth password from this file", group: "Auth and TLS:", commands: TALKING_TO_A_GATEWAY }),
  "bearer-token-file": text({
    file: true,
    describe: "send Authorization: Bearer with the token in this file",
    helpNote: "or the token itself in PUSHGW_BEARER_TOKEN",
    group: "Auth and TLS:",
    commands: TALKING_TO_A_GATEWAY,
  }),
  cacert: text({ file: true, describe: "CA certificate(s) to verify the gateway with (PEM)", group: "Auth and TLS:", commands: TALKING_TO_A_GATEWAY }),
  cert: text({ file: true, describe: "client certificate (PEM), with --key", group: "Auth and TLS:", commands: TALKING_TO_A_GATEWAY }),
  key: text({ file: true, describe: "client certificate's private key (PEM)", group: "Auth and TLS:", commands: TALKING_TO_A_GATEWAY }),
  insecure: toggle({ short: "k", describe: "do not verify the gateway's TLS certificate", group: "Auth and TLS:", commands: TALKING_TO_A_GATEWAY }),
  gzip: toggle({
    describe: "compress bodies (Content-Encoding: gzip; Pushgateway 1.5.0+)",
    group: GATEWAY_GROUP,
    commands: TALKING_TO_A_GATEWAY,
    hiddenIn: ["delete", "list", "prune", "doctor"],
  }),
  target: textWithDefault({
    env: "PUSHGW_TARGET",
    envNotIn: ["cron"],
    defaultText: DEFAULT_TARGET,
    choices: TARGET_NAMES,
    describe: "what --gateway is (a Pushgateway, a remote-write endpoint, VictoriaMetrics, an OTLP/HTTP receiver), or textfile: write node_exporter's --textfile-dir instead",
    group: GATEWAY_GROUP,
    commands: INTO_CRONTABS,
    hiddenIn: ["flush", "doctor"],
    parse: (t, from): Target => choice(t, from, TARGET_NAMES),
  }),
  "textfile-dir": text({
    env: "PUSHGW_TEXTFILE_DIR",
    envNotIn: ["cron"],
    directory: true,
    describe: "with --target textfile: the directory node_exporter's textfile collector reads, one file per group",
    group: GATEWAY_GROUP,
    commands: ["push", "add", "delete", "wrap", "list", "prune", "cron"],
  }),
  spool: text({
    env: "PUSHGW_SPOOL",
    envNotIn: ["cron"],
    file: true,
    describe: "save pushes that cannot be delivered here, send them later",
    group: { ...GATEWAY_GROUP, flush: "Spool:" },
    commands: INTO_CRONTABS,
    hiddenIn: ["list", "prune", "doctor"],
  }),
  quiet: toggle({ short: "q", describe: "print nothing but errors", group: "Output:", commands: INTO_CRONTABS, conflicts: "verbose" }),
  verbose: toggle({ short: "v", describe: "print each request and its status (never credentials)", group: "Output:", commands: INTO_CRONTABS, hiddenIn: ["cron"] }),

  // Grouping key
  job: {
    ...text({ short: "j", env: "PUSHGW_JOB", describe: "job name", group: "Grouping key:", commands: GROUPING }),
    required: { push: "required", add: "required", wrap: "required", delete: "required unless --match" },
  },
  instance: {
    ...text({ short: "i", describe: "instance label; default this host's name; --no-instance leaves it out", group: "Grouping key:", commands: GROUPING }),
    negatable: true,
    // --no-instance is false, a bare --instance the empty value.
    read: (raw: Raw, from: Source) => (raw === false ? false : one(raw, from)),
  },
  label: repeatable({ short: "l", describe: "extra grouping label NAME=VALUE, repeatable, order kept", group: "Grouping key:", commands: GROUPING, parse: (t) => t }),
  "dry-run": toggle({
    describe: {
      push: "print the request (method, URL, body); send nothing",
      add: "print the request (method, URL, body); send nothing",
      delete: "print the request (method, URL, body); send nothing",
      wrap: "run the job, but print the pushes (method, URL, body) instead of sending them",
      prune: "say what would be deleted, delete nothing",
      cron: "wrap, unwrap: print the change as a diff; write nothing",
    },
    group: "Output:",
    commands: ["push", "add", "delete", "wrap", "prune", "cron"],
  }),

  // Metrics
  file: text({ short: "f", file: true, describe: "text exposition format file; - is stdin", group: "Metrics:", commands: ["push", "add"] }),
  type: text({
    short: "t",
    choices: METRIC_TYPES,
    describe: "TYPE line for METRIC arguments; without it none is sent, as with curl",
    group: "Metrics:",
    commands: ["push", "add"],
    parse: (t, from): ArgumentMetricType => choice(t, from, METRIC_TYPES),
  }),
  "help-text": text({ describe: "HELP line for METRIC arguments", group: "Metrics:", commands: ["push", "add"] }),
  heartbeat: toggle({
    describe: "send an empty body on purpose: the gateway only refreshes the group's push time (without it, nothing to push is exit 2)",
    group: "Metrics:",
    commands: ["add"],
  }),

  // Selecting groups
  match: repeatable({
    describe: "select groups: name=value, name!=value, name=~regex, name!~regex; repeatable, all must hold",
    group: "Selecting groups:",
    commands: ["delete", "list", "prune"],
    parse: (t, from): Matcher => parseSelector(t, from),
  }),
  yes: toggle({
    short: "y",
    describe: {
      delete: "with --match: delete without asking (needed without a terminal)",
      prune: "delete without asking (needed without a terminal)",
      doctor: "with --fix: repair without asking (needed without a terminal)",
    },
    group: { delete: "Selecting groups:", prune: "Selecting groups:", doctor: "Repairs:" },
    commands: ["delete", "prune", "doctor"],
  }),
  "older-than": text({
    describe: {
      list: "only groups whose last successful push is older than D",
      prune: "delete groups whose last successful push is older than D",
      doctor: "also report groups with no successful push for longer than D (--fix deletes them)",
    },
    group: "Selecting groups:",
    commands: ["list", "prune", "doctor"],
    parse: (t, from) => duration(t, from),
  }),
  json: toggle({ describe: { list: "a JSON array, one object per group", doctor: "the report as one JSON object", cron: "scan: a JSON array, one object per entry" }, group: "Output:", commands: ["list", "doctor", "cron"] }),
  fix: toggle({ describe: "run the repairs the report names, after asking (as prune does)", group: "Repairs:", commands: ["doctor"] }),

  // Wrap
  "max-runtime": text({
    describe: "stop the job after D: SIGTERM, then SIGKILL after --kill-grace; exit 124",
    group: "Wrap:",
    commands: ["wrap"],
    parse: (t, from) => duration(t, from, { positive: true }),
  }),
  "kill-grace": textWithDefault({ defaultText: "10s", describe: "time between SIGTERM and SIGKILL", group: "Wrap:", commands: ["wrap"], parse: (t, from) => duration(t, from) }),
  prefix: textWithDefault({
    defaultText: "job",
    describe: { wrap: "metric name prefix", "alert-rules": "the metric prefix the jobs were wrapped with (wrap --prefix)" },
    group: { wrap: "Wrap:", "alert-rules": "Options:" },
    commands: ["wrap", "alert-rules"],
    parse: metricPrefix,
  }),
  "start-push": toggle({ on: true, describe: "push job_running=1 when the job starts (--no-start-push: don't)", group: "Wrap:", commands: ["wrap"] }),
  "quiet-success": toggle({ describe: "print the job's output only if it fails", group: "Wrap:", commands: ["wrap"] }),
  strict: toggle({ describe: "exit 1 when the job succeeded but its outcome could not be pushed", group: "Wrap:", commands: ["wrap"] }),
  "expect-every": text({
    describe: "how often the job should succeed, pushed for the generic alert rule",
    group: "Wrap:",
    commands: ["wrap"],
    parse: (t, from) => duration(t, from, { positive: true }),
  }),
  grace: text({
    describe: {
      wrap: "extra time past --expect-every before alerting (default: 10%, at least 5m)",
      cron: "wrap: --grace written for every entry wrapped (default: wrap's, 10% of the interval, at least 5m)",
    },
    group: { wrap: "Wrap:", cron: "Written into the crontabs:" },
    commands: ["wrap", "cron"],
    parse: (t, from) => duration(t, from),
  }),
  lock: text({
    file: true,
    optionalValue: true,
    describe: "run only if no other run of this group holds the lock (FILE, default: named after the group); else exit 75",
    group: "Wrap:",
    commands: ["wrap"],
  }),
  "lock-wait": text({
    describe: "with --lock: wait up to D for the lock instead of giving up at once (implies --lock)",
    group: "Wrap:",
    commands: ["wrap"],
    parse: (t, from) => duration(t, from),
  }),

  // flush
  "retry-set-aside": toggle({
    describe: "first put the calls set aside in DIR/set-aside back into their queues (checked again), then deliver",
    group: "Spool:",
    commands: ["flush"],
  }),

  // cron
  crontab: repeatable({
    file: true,
    describe: "a crontab in the user format (as crontab -l prints it), rewritten in place; repeatable",
    group: "Crontabs:",
    commands: ["cron"],
    parse: (t) => t,
  }),
  "backup-dir": text({
    directory: true,
    describe: "where wrap and unwrap save the crontabs before changing them (default /var/backups/pushgw-cron as root, else ~/.local/state/pushgw/cron-backups)",
    group: "Crontabs:",
    commands: ["cron"],
  }),

  // alert-rules
  dashboard: toggle({ describe: "print a Grafana dashboard (JSON) instead of the rules", group: "Options:", commands: ["alert-rules"] }),
};

export type FlagName = keyof typeof FLAGS;
type Row = FlagRow<unknown>;
// Checked here rather than with `satisfies`, which would make every row's value type unknown.
const EVERY_ROW_IS_A_FLAG: Readonly<Record<FlagName, Row>> = FLAGS;

export function flagRow(name: FlagName): Row {
  return EVERY_ROW_IS_A_FLAG[name];
}

export function flagNames(): FlagName[] {
  return Object.keys(FLAGS) as FlagName[];
}

/** The flags a command takes, in table order. */
export function flagsOf(command: CommandName): FlagName[] {
  return flagNames().filter((name) => flagRow(name).commands.includes(command));
}

export function describeFlag(name: FlagName, command: CommandName): string {
  const describe = flagRow(name).describe;
  return typeof describe === "string" ? describe : (describe[command] ?? "");
}

function helpGroupOf(name: FlagName, command: CommandName): HelpGroup {
  const group = flagRow(name).group;
  return typeof group === "string" ? group : (group[command] ?? "Options:");
}

/** What --help says after the description: required, the choices, the variable and the default. */
function helpSuffix(row: Row, command: CommandName): string {
  const parts: string[] = [];
  const required = row.required?.[command];
  if (required !== undefined) parts.push(required);
  if (row.choices !== undefined) parts.push(`one of ${row.choices.join(", ")}`);
  // Where the flag means something else, its variable and note are not said.
  const elsewhere = row.envNotIn?.includes(command) === true;
  if (row.env && !elsewhere) parts.push(`env ${row.env}${row.helpNote ? `, ${row.helpNote}` : ""}`);
  else if (row.helpNote && !elsewhere) parts.push(row.helpNote);
  if (row.defaultText !== undefined && row.takesValue) parts.push(`default ${row.defaultText}`);
  return parts.length > 0 ? ` [${parts.join("; ")}]` : "";
}

/**
 * Declares a command's flags to yargs, in the order of the command's help groups. yargs only
 * parses: no defaults (the table's reader applies them after the environment), no choices
 * (checked with a suggestion instead of yargs' "Invalid values" block).
 */
export function declareFlags<T>(y: Argv<T>, command: CommandName, groupOrder: readonly HelpGroup[]): Argv<T> {
  const rank = (name: FlagName) => {
    const at = groupOrder.indexOf(helpGroupOf(name, command));
    return at < 0 ? groupOrder.length : at;
  };
  const names = flagsOf(command).sort((a, b) => rank(a) - rank(b));
  let declared = y;
  for (const name of names) {
    const row = flagRow(name);
    const group = helpGroupOf(name, command);
    declared = declared.option(name, {
      alias: row.short,
      // A switch is a boolean to yargs; anything else stays the text that was typed (no type:
      // yargs would show "[string]" beside every flag).
      type: row.takesValue ? undefined : "boolean",
      requiresArg: row.takesValue && !row.negatable && !row.optionalValue,
      describe: describeFlag(name, command) + helpSuffix(row, command),
      group: group === "Options:" ? undefined : group,
      hidden: row.hiddenIn?.includes(command) === true,
    }) as Argv<T>;
    if (row.conflicts !== undefined) declared = declared.conflicts(name, row.conflicts) as Argv<T>;
  }
  return declared;
}

/**
 * The parsed arguments of one run, read through the table: the flag, else its variable, else
 * its default; checked when read, so that errors come in the order a command reads its flags.
 */
export interface Flags {
  readonly command: CommandName;
  get<K extends FlagName>(name: K): FlagValue<(typeof FLAGS)[K]>;
  /** True when the flag itself was on the command line (not its variable or default). */
  given(name: FlagName): boolean;
}

export function readFlags(command: CommandName, args: Readonly<Record<string, unknown>>, env: Readonly<Record<string, string | undefined>>): Flags {
  const given = (name: FlagName) => args[name] !== undefined;
  return {
    command,
    given,
    get: (name) => {
      const row = flagRow(name);
      if (!row.commands.includes(command)) throw new Error(`--${name} is not a flag of ${command}`);
      if (given(name)) return row.read(args[name] as Raw, `--${name}`) as never;
      const fromEnv = row.env === undefined || row.envNotIn?.includes(command) ? undefined : env[row.env];
      // A repeatable flag's variable may hold several values, separated by blanks; blanks
      // alone are no value (not a list of none, which would send nothing and exit 0).
      const values = fromEnv !== undefined && row.repeatable ? fromEnv.split(/\s+/).filter((v) => v !== "") : undefined;
      if (fromEnv !== undefined && fromEnv !== "" && values?.length !== 0) return row.read(values ?? fromEnv, row.env!) as never;
      if (row.defaultText !== undefined && row.repeatable) return row.read([row.defaultText], `--${name}`) as never;
      return row.read(undefined, `--${name}`) as never;
    },
  };
}
