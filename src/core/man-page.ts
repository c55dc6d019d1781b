/**
 * The pushgw(1) manual page, rendered from the same description of the command line as the
 * completion scripts (so it cannot drift from the flags), with the README's essentials around it.
 */
import type { CommandSpec, CompletionSpec, FlagSpec } from "./completion-scripts.js";

export interface ManPageInput {
  readonly spec: CompletionSpec;
  /** Each command's usage as yargs has it (`push [metrics..]`), by command name. */
  readonly usage: Readonly<Record<string, string>>;
  /** Each command's flag defaults worth showing (`timeout` → `10s`), by command name. */
  readonly defaults: Readonly<Record<string, Readonly<Record<string, string>>>>;
  readonly version: string;
}

/** Text for roff: backslashes, minus signs (so options copy and paste), a leading dot or quote. */
export function roffText(text: string): string {
  return text
    .replace(/\\/g, "\\e")
    .replace(/-/g, "\\-")
    .replace(/^([.'])/gm, "\\&$1");
}

const bold = (text: string) => `\\fB${roffText(text)}\\fR`;
const italic = (text: string) => `\\fI${roffText(text)}\\fR`;

/** `push [metrics..]` → `\fBpushgw push\fR [\fIMETRICS\fR...]`. */
function synopsis(program: string, usage: string): string {
  const [name = "", ...operands] = usage.split(" ");
  const words = operands.map((operand) => {
    const m = /^([[<])([\w-]+)(\.\.)?[\]>]$/.exec(operand);
    if (!m) return roffText(operand);
    const placeholder = `${italic(m[2]!.toUpperCase())}${m[3] ? "..." : ""}`;
    return m[1] === "[" ? `[${placeholder}]` : placeholder;
  });
  if (name === "wrap") words.splice(0, words.length, "[\\fIOPTIONS\\fR]", "\\-\\-", `${italic("COMMAND")} [${italic("ARG")}...]`);
  return [`${bold(`${program} ${name}`)}`, ...words].join(" ");
}

function flagTerm(flag: FlagSpec): string {
  const names = [flag.short ? bold(`-${flag.short}`) : undefined, bold(`--${flag.long}`)].filter(Boolean).join(", ");
  if (!flag.takesValue) return names;
  const value = flag.choices ? flag.choices.map(roffText).join("|") : italic(flag.long.toUpperCase().replace(/-/g, "_"));
  return `${names} ${flag.optionalValue ? `[${value}]` : value}`;
}

function flagItem(flag: FlagSpec, defaultValue: string | undefined): string {
  const notes: string[] = [];
  if (defaultValue !== undefined) notes.push(`Default: ${defaultValue}.`);
  if (flag.repeatable && !/repeat/i.test(flag.describe)) notes.push("May be given more than once.");
  const describe = flag.describe === `no ${flag.long.replace(/^no-/, "")}` ? `The opposite of --${flag.long.replace(/^no-/, "")}.` : sentence(flag.describe);
  return `.TP\n${flagTerm(flag)}\n${roffText([describe, ...notes].join(" "))}`;
}

function sentence(text: string): string {
  const trimmed = text.trim();
  if (trimmed === "") return "";
  const capital = trimmed[0]!.toUpperCase() + trimmed.slice(1);
  return /[.!?]$/.test(capital) ? capital : `${capital}.`;
}

/** A flag is the same option in two commands when it is spelled and described alike. */
const flagIdentity = (flag: FlagSpec, defaultValue: string | undefined) => JSON.stringify([flag.long, flag.short, flag.describe, flag.takesValue, flag.choices, defaultValue]);

interface Flag {
  readonly spec: FlagSpec;
  readonly defaultValue: string | undefined;
}

interface SharedGroup {
  readonly commands: readonly string[];
  readonly flags: Flag[];
}

/**
 * Flags several commands share (the gateway and TLS options, the grouping key) are described
 * once, under the commands that take them; the rest under their own command.
 */
function splitFlags(commands: readonly CommandSpec[], defaults: ManPageInput["defaults"]): { shared: SharedGroup[]; own: Map<string, Flag[]> } {
  const flagsOf = (command: CommandSpec): Flag[] => command.flags.map((spec) => ({ spec, defaultValue: defaults[command.name]?.[spec.long] }));
  const identity = (flag: Flag) => flagIdentity(flag.spec, flag.defaultValue);
  const holders = new Map<string, string[]>();
  for (const command of commands) for (const flag of flagsOf(command)) holders.set(identity(flag), [...(holders.get(identity(flag)) ?? []), command.name]);
  const shared = new Map<string, SharedGroup>();
  const own = new Map<string, Flag[]>(commands.map((c) => [c.name, []]));
  const seen = new Set<string>();
  for (const command of commands) {
    for (const flag of flagsOf(command)) {
      const id = identity(flag);
      const names = holders.get(id)!;
      if (names.length === 1) {
        own.get(command.name)!.push(flag);
        continue;
      }
      if (seen.has(id)) continue;
      seen.add(id);
      const key = names.join(" ");
      if (!shared.has(key)) shared.set(key, { commands: names, flags: [] });
      shared.get(key)!.flags.push(flag);
    }
  }
  return { shared: [...shared.values()].sort((a, b) => b.commands.length - a.commands.length), own };
}

const listWords = (words: readonly string[]) => (words.length <= 1 ? words.join("") : `${words.slice(0, -1).join(", ")} and ${words.at(-1)}`);

export function renderManPage({ spec, usage, defaults, version }: ManPageInput): string {
  const p = spec.program;
  const { shared, own } = splitFlags(spec.commands, defaults);
  const item = (flag: Flag) => flagItem(flag.spec, flag.defaultValue);
  const lines: string[] = [];
  const add = (...text: string[]) => lines.push(...text);

  add(
    `.\\" Generated from pushgw's command definitions by \`npm run man\`; do not edit.`,
    `.TH ${p.toUpperCase()} 1 "" "${p} ${roffText(version)}" "User Commands"`,
    ".SH NAME",
    `${p} \\- push metrics to a Prometheus Pushgateway, wrap cron jobs, clean up stale groups`,
    ".SH SYNOPSIS",
    ...spec.commands.flatMap((c) => [".br", synopsis(p, usage[c.name] ?? c.name)]).slice(1),
    ".SH DESCRIPTION",
    roffText(
      `${p} replaces the curl one-liners people put in shell scripts and crontabs in front of a Prometheus Pushgateway. ` +
        "It builds the grouping-key URL (any value, empty ones, slashes and Unicode included, reaches the gateway exactly), " +
        "checks the metrics before anything is sent, retries when the gateway is briefly away, and says clearly what went wrong when it cannot deliver. " +
        "It prints nothing when everything works.",
    ),
    ".PP",
    roffText(
      `The group is {job="JOB", instance="<this host's name>"} by default. Metrics are given as arguments (NAME=VALUE or NAME{label="v"}=VALUE), ` +
        "with --file, or on standard input when it is not a terminal.",
    ),
    ".SH COMMANDS",
  );
  for (const command of spec.commands) {
    add(".TP", synopsis(p, usage[command.name] ?? command.name), roffText(sentence(command.describe)));
    if (command.positionalChoices) add(roffText(`${command.name === "completion" ? "SHELL" : "The argument"} is one of ${listWords(command.positionalChoices)}.`));
    const flags = own.get(command.name) ?? [];
    if (flags.length > 0) add(".RS", ...flags.map(item), ".RE");
  }
  add(".SH OPTIONS");
  for (const group of shared) {
    add(`.SS ${roffText(`Options of ${listWords(group.commands)}`)}`, ...group.flags.map(item));
  }
  add(
    `.SS ${roffText("Options of every command")}`,
    ".TP",
    `${bold("-h")}, ${bold("--help")}`,
    roffText("Show help: pushgw --help for the commands, pushgw COMMAND --help for one command's options."),
    ".TP",
    bold("--version"),
    roffText("Print the version."),
    ".PP",
    roffText("Durations (D) are a number and a unit: 500ms, 10s, 5m, 2h, 7d."),
    ".SH EXIT STATUS",
    ...[
      ["0", "Done."],
      ["1", "The gateway refused (its answer is shown), answered with a redirect, or could not be reached after the retries."],
      ["2", "Bad usage or input: nothing was sent, written or deleted. With --target textfile also a write that node_exporter would drop because of another file in the directory (the message names it)."],
      ["70", "A bug in pushgw (please report it)."],
      ["75", "Not delivered, saved in the spool (--spool); pushgw flush or the next run sends it."],
    ].flatMap(([code, meaning]) => [".TP", bold(code!), roffText(meaning!)]),
    ".PP",
    roffText("doctor exits 0 when the gateway and its groups are healthy (notes aside), 1 when something needs attention; with --fix, as the gateway is after the repairs."),
    ".PP",
    roffText(
      "wrap exits with the job's own status; 128+N if the job was killed by signal N (or the wrapper got signal N); 124 after --max-runtime; " +
        "126 if the command could not be executed; 127 if it was not found. A failed push never changes it, unless --strict (then 1 when the job succeeded). " +
        "With --lock, a run that finds the lock held does not start the job and exits 75 (EX_TEMPFAIL, as lckdo(1)); a lock that cannot be taken safely " +
        "(no util-linux flock(1), a lock file or directory someone else could replace) is exit 2, before the job starts.",
    ),
    ".SH ENVIRONMENT",
    ...[
      ["PUSHGW_GATEWAY", "Default for --gateway; several URLs may be given, separated by spaces."],
      ["PUSHGW_JOB", "Default for --job."],
      ["PUSHGW_USER, PUSHGW_PASSWORD", "Basic auth, as --user and its password."],
      ["PUSHGW_BEARER_TOKEN", "A bearer token (prefer --bearer-token-file: the environment of a process is visible to its user)."],
      ["PUSHGW_SPOOL", "Default for --spool."],
      ["PUSHGW_TARGET", "Default for --target."],
      ["PUSHGW_TEXTFILE_DIR", "Default for --textfile-dir."],
      ["HTTPS_PROXY, HTTP_PROXY, NO_PROXY", "Proxies, as curl reads them (lower-case names too)."],
      ["NO_COLOR", "No colour, even on a terminal."],
    ].flatMap(([name, meaning]) => [".TP", bold(name!), roffText(meaning!)]),
    ".PP",
    roffText("wrap sets these for the job, so that a pushgw command inside it lands in the wrapper's group:"),
    ...[
      ["PUSHGW_METRICS_FILE", "A file for the job's own metrics: text-format lines written there join the final push."],
      ["PUSHGW_GATEWAY, PUSHGW_JOB, PUSHGW_WRAP_GROUPING", "The wrapper's gateway and grouping key, used by a pushgw command inside the job that is given no grouping flags."],
      ["PUSHGW_TARGET", "The wrapper's target, which goes with PUSHGW_GATEWAY."],
      ["PUSHGW_TEXTFILE_DIR", "With --target textfile, instead of PUSHGW_GATEWAY: the directory."],
      ["PUSHGW_WRAP_TARGET, PUSHGW_TARGET_BEFORE_WRAP", "The target the wrapper set, and the one the environment named before it: a pushgw in the job given its own --gateway takes the latter."],
      ["PUSHGW_WRAP_SOCKET", "The wrapper's socket, through which such a pushgw push or add sends (with the wrapper's credentials, which the job does not get)."],
      [
        "PATH",
        "The standalone executable (the Debian package's /usr/bin/pushgw, or a pushgw-linux-* file) puts first on the job's PATH a private directory holding only a pushgw link to itself, so that a nested pushgw runs the same executable even when it is on no PATH.",
      ],
    ].flatMap(([name, meaning]) => [".TP", bold(name!), roffText(meaning!)]),
    ".SH FILES",
    ...[
      ["/usr/share/pushgw/pushgw.rules.yml", "Prometheus alert rules for wrapped jobs (the Debian package; the same as pushgw alert-rules prints)."],
      ["/usr/share/pushgw/pushgw-dashboard.json", "A Grafana dashboard for wrapped jobs (pushgw alert-rules --dashboard)."],
      ["/usr/share/bash-completion/completions/pushgw, /usr/share/zsh/vendor-completions/_pushgw, /usr/share/fish/vendor_completions.d/pushgw.fish", "Tab completion (the Debian package; pushgw completion SHELL prints the same)."],
      [
        "$XDG_RUNTIME_DIR/pushgw-UID-JOB-VALUES-HASH.lock",
        "wrap --lock's lock file for one group (else, for root, in /run/pushgw; else in ~/.cache/pushgw/locks; only where no other user can write, parents included: never the temp dir, and with none of these wrap exits 2 before the job runs), and beside it .skipped, the count of runs skipped; flock(1) locks, which the kernel drops when the wrapper ends.",
      ],
      [
        "$XDG_RUNTIME_DIR/pushgw-XXXXXX/",
        "wrap: the job's private directory (else, for root, /run/pushgw/pushgw-XXXXXX; else ~/.cache/pushgw/run/pushgw-XXXXXX; only where no other user can write, parents included), holding metrics.prom ($PUSHGW_METRICS_FILE), relay.sock ($PUSHGW_WRAP_SOCKET) and, for the standalone executable, bin/pushgw; removed when the job ends.",
      ],
      ["DIR given to --spool", "Pushes that could not be delivered, one JSON file each (mode 0600), sent by pushgw flush or the next run; refused ones are moved to DIR/set-aside/."],
      [
        "DIR given to --textfile-dir",
        "With --target textfile: one file per group, DIR/pushgw-job=NAME,LABEL=VALUE-HASH.prom (mode 0644), read by node_exporter's textfile collector; beside each, while pushgw writes it, .FILE.lock (its lock) and .pushgw-tmp-* (the text being written).",
      ],
    ].flatMap(([name, meaning]) => [".TP", italic(name!), roffText(meaning!)]),
    ".SH EXAMPLES",
    roffText("Push a metric, replace a whole group from a file, delete it:"),
    ".PP",
    ".nf",
    ".RS",
    roffText("pushgw add \\"),
    roffText("    --gateway http://pushgateway.example:9091 --job backup backup_size_bytes=1.2e9"),
    roffText("pushgw push --job backup --file metrics.prom"),
    roffText("pushgw delete --job backup"),
    ".RE",
    ".fi",
    ".PP",
    roffText(
      "In a crontab. Cron's PATH is /usr/bin:/bin, which holds the Debian package's /usr/bin/pushgw; " +
        "use full paths for anything else. --quiet-success keeps cron's mail for failures only; --max-runtime a little under the interval keeps runs from piling up.",
    ),
    ".PP",
    ".nf",
    ".RS",
    roffText("PUSHGW_GATEWAY=http://pushgateway.example:9091"),
    roffText("30 2 * * *   pushgw wrap --job backup --expect-every 1d -- /usr/local/bin/backup.sh"),
    roffText("*/15 * * * * pushgw wrap --job sync --quiet-success --max-runtime 14m -- /opt/sync/run"),
    roffText("0 4 * * *    pushgw prune --older-than 7d --yes --quiet"),
    ".RE",
    ".fi",
    ".PP",
    roffText("Inside a wrapped job, a nested pushgw needs no flags to land in the wrapper's group:"),
    ".PP",
    ".nf",
    ".RS",
    roffText(`echo "backup_rows_copied $rows" >> "$PUSHGW_METRICS_FILE"   # joins the final push`),
    roffText("pushgw add backup_phase_done=1                          # pushed at once"),
    ".RE",
    ".fi",
    ".SH SEE ALSO",
    // Debian installs the gateway's page as prometheus-pushgateway(1); upstream names it pushgateway(1).
    `${bold("crontab")}(5), ${bold("prometheus")}(1), ${bold("prometheus-pushgateway")}(1) (${bold("pushgateway")}(1) elsewhere), ${bold("promtool")}(1)`,
    ".PP",
    roffText("The README and its reference pages (docs/), in /usr/share/doc/pushgw/ with the Debian package, cover every command in full."),
  );
  return `${lines.join("\n")}\n`;
}
