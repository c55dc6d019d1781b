import type { Argv, CommandModule } from "yargs";
import type { PushOptions } from "../../app/push.js";
import type { MetricsSource } from "../../app/metrics-input.js";
import { UsageError } from "../../core/errors.js";
import type { ArgumentMetricType } from "../../core/metric-args.js";
import type { App } from "../app.js";
import {
  relaySocketFor,
  toGroupingInput,
  toOutputSettings,
  toTransportOptions,
  withDryRun,
  withGlobalOptions,
  withGroupingOptions,
  type CliEnvironment,
  type GlobalArgs,
  type GroupingArgs,
} from "../options.js";

export interface PushArgs extends GlobalArgs, GroupingArgs {
  metrics?: string[];
  file?: string;
  type: string;
  helpText?: string;
  dryRun: boolean;
}

const METRIC_TYPES: readonly ArgumentMetricType[] = ["gauge", "counter", "untyped"];

export function toPushOptions(method: "PUT" | "POST", args: PushArgs, cli: CliEnvironment): PushOptions {
  const metrics = args.metrics ?? [];
  if (metrics.length > 0 && args.file !== undefined) {
    throw new UsageError("give metrics either as arguments or with --file, not both");
  }
  if (!METRIC_TYPES.includes(args.type as ArgumentMetricType)) {
    throw new UsageError(`--type: expected gauge, counter or untyped, got "${args.type}"`);
  }
  const source: MetricsSource =
    metrics.length > 0
      ? { kind: "arguments", args: metrics, type: args.type as ArgumentMetricType, help: args.helpText }
      : args.file !== undefined
        ? { kind: "file", path: args.file }
        : { kind: "unspecified" };
  return {
    method,
    grouping: toGroupingInput(args, cli),
    metrics: source,
    transport: { ...toTransportOptions(args, cli), relaySocket: relaySocketFor(args, cli) },
    dryRun: args.dryRun,
  };
}

function builder(y: Argv): Argv {
  return withDryRun(withGroupingOptions(withGlobalOptions(y)))
    .positional("metrics", { type: "string", array: true, describe: "NAME=VALUE or NAME{label=\"v\"}=VALUE" })
    .option("file", { alias: "f", type: "string", requiresArg: true, describe: "text exposition format file; - is stdin", group: "Metrics:" })
    .option("type", { alias: "t", type: "string", default: "gauge", choices: METRIC_TYPES, describe: "type of METRIC arguments", group: "Metrics:" })
    .option("help-text", { type: "string", requiresArg: true, describe: "HELP line for METRIC arguments", group: "Metrics:" });
}

export function pushCommand(app: App, cli: CliEnvironment): CommandModule {
  return {
    command: "push [metrics..]",
    describe: "Replace every metric in the group (PUT)",
    builder: (y) =>
      builder(y)
        .example("$0 push --job backup backup_size_bytes=1.2e9", "replace the group {job=backup, instance=<host>}")
        .example("$0 push --job nightly --no-instance --file metrics.prom", "push a file, no instance label")
        .example("some_exporter | $0 push -j export -l env=prod", "read the text format from stdin"),
    handler: async (args) => app.push(toPushOptions("PUT", args as unknown as PushArgs, cli), toOutputSettings(args as unknown as GlobalArgs)),
  };
}

export function addCommand(app: App, cli: CliEnvironment): CommandModule {
  return {
    command: "add [metrics..]",
    describe: "Replace only the metric families given; others in the group stay (POST)",
    builder: (y) =>
      builder(y)
        .example("$0 add --job some_job some_metric=3.14", "instead of: echo 'some_metric 3.14' | curl --data-binary @- …")
        .example("$0 add -j batch -t counter --help-text 'Rows done.' rows_total=42", "a counter with a HELP line")
        .example("$0 add -j batch 'queue_depth{queue=\"mail\"}=7'", "a sample with labels"),
    handler: async (args) => app.push(toPushOptions("POST", args as unknown as PushArgs, cli), toOutputSettings(args as unknown as GlobalArgs)),
  };
}
