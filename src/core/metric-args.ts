import { InputError } from "./errors.js";
import { escapeHelp, type ExpositionSource } from "./exposition.js";

export type ArgumentMetricType = "gauge" | "counter" | "untyped";

export interface MetricArgumentsText {
  readonly text: string;
  /** Points each generated line back to the argument it came from, for error messages. */
  readonly source: ExpositionSource;
}

/**
 * Turns `NAME=VALUE` and `NAME{label="v"}=VALUE` arguments into exposition text with one
 * HELP/TYPE pair per metric name, so that arguments and files go through the same checks.
 */
export function metricArgumentsToExposition(
  args: readonly string[],
  type: ArgumentMetricType,
  help: string | undefined,
): MetricArgumentsText {
  const lines: string[] = [];
  const lineToArg: number[] = [];
  const declared = new Set<string>();
  args.forEach((arg, index) => {
    const eq = arg.lastIndexOf("=");
    const brace = arg.indexOf("{");
    const close = arg.lastIndexOf("}");
    if (eq < 0 || (brace >= 0 && eq < close)) {
      throw new InputError(`argument ${index + 1} (${arg}): expected NAME=VALUE or NAME{label="value"}=VALUE`);
    }
    const series = arg.slice(0, eq);
    const value = arg.slice(eq + 1);
    if (value === "" || /\s/.test(value)) {
      throw new InputError(`argument ${index + 1} (${arg}): value "${value}" is not a number (use a float, NaN, +Inf or -Inf)`);
    }
    const name = brace >= 0 ? series.slice(0, brace) : series;
    if (!declared.has(name)) {
      declared.add(name);
      if (help !== undefined) {
        lines.push(`# HELP ${name} ${escapeHelp(help)}`);
        lineToArg.push(index);
      }
      lines.push(`# TYPE ${name} ${type}`);
      lineToArg.push(index);
    }
    lines.push(`${series} ${value}`);
    lineToArg.push(index);
  });
  return {
    text: lines.length === 0 ? "" : `${lines.join("\n")}\n`,
    source: {
      name: "arguments",
      describeLine: (line) => {
        const index = lineToArg[line - 1] ?? 0;
        return `argument ${index + 1} (${args[index] ?? ""})`;
      },
    },
  };
}
