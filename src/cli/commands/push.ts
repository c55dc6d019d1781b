import type { PushOptions } from "../../app/push.js";
import type { MetricsSource } from "../../app/metrics-input.js";
import { UsageError } from "../../core/errors.js";
import type { App } from "../app.js";
import { defineCommand, type CommandDefinition, type Positionals, type PushgwCommand } from "../command.js";
import type { Flags, HelpGroup } from "../flags.js";
import { toGroupingKey } from "../grouping.js";
import { relaySocketFor, toOutputSettings, toTransportOptions, type CliEnvironment } from "../options.js";

export function toPushOptions(method: "PUT" | "POST", flags: Flags, positionals: Positionals, cli: CliEnvironment): PushOptions {
  // After `--` a word that starts with "-" is a metric too (a value such as -1 or -Inf reads as one).
  const metrics = [...positionals.words, ...positionals.afterDashDash];
  const file = flags.get("file");
  if (metrics.length > 0 && file !== undefined) {
    throw new UsageError("give metrics either as arguments or with --file, not both", { hint: "METRIC arguments push those metrics; --file F (- for stdin) pushes a file as it is" });
  }
  const type = flags.get("type");
  const source: MetricsSource =
    metrics.length > 0
      ? { kind: "arguments", args: metrics, type, help: flags.get("help-text") }
      : file !== undefined
        ? { kind: "file", path: file }
        : { kind: "unspecified" };
  return {
    method,
    grouping: toGroupingKey(flags, cli.env, cli.hostname),
    metrics: source,
    transport: { ...toTransportOptions(flags, cli), relaySocket: relaySocketFor(flags, cli) },
    dryRun: flags.get("dry-run"),
    heartbeat: method === "POST" && flags.get("heartbeat"),
  };
}

const HELP_GROUPS: readonly HelpGroup[] = ["Metrics:", "Grouping key:", "Where to push:", "Auth and TLS:", "Output:"];
const METRICS = { name: "metrics", describe: 'NAME=VALUE or NAME{label="v"}=VALUE' };

export function pushCommand(app: App, cli: CliEnvironment): PushgwCommand {
  const definition: CommandDefinition = {
    name: "push",
    usage: "push [metrics..]",
    describe: "Replace every metric in the group (PUT)",
    helpGroups: HELP_GROUPS,
    positional: METRICS,
    examples: [
      ["$0 push --job backup backup_size_bytes=1.2e9", "replace the group {job=backup, instance=<host>}"],
      ["$0 push --job nightly --no-instance --file metrics.prom", "push a file, no instance label"],
      ["some_exporter | $0 push -j export -l env=prod", "read the text format from stdin"],
    ],
  };
  return defineCommand(definition, cli, (flags, positionals) => app.push(toPushOptions("PUT", flags, positionals, cli), toOutputSettings(flags)));
}

export function addCommand(app: App, cli: CliEnvironment): PushgwCommand {
  const definition: CommandDefinition = {
    name: "add",
    usage: "add [metrics..]",
    describe: "Replace only the metric families given; others in the group stay (POST)",
    helpGroups: HELP_GROUPS,
    positional: METRICS,
    examples: [
      ["$0 add --job some_job some_metric=3.14", "instead of: echo 'some_metric 3.14' | curl --data-binary @- …"],
      ["$0 add -j batch -t counter --help-text 'Rows done.' rows_total=42", "a counter with a HELP line"],
      ["$0 add -j batch 'queue_depth{queue=\"mail\"}=7'", "a sample with labels"],
      ["$0 add -j batch --heartbeat", "only refresh the group's push time"],
    ],
  };
  return defineCommand(definition, cli, (flags, positionals) => app.push(toPushOptions("POST", flags, positionals, cli), toOutputSettings(flags)));
}
