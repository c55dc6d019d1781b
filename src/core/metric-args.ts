import { InputError } from "./errors.js";
import { escapeHelp, type ExpositionSource } from "./exposition.js";
import { shellWord } from "./groups.js";
import { isUtf8Name, METRIC_NAME_PATTERN } from "./names.js";

export type ArgumentMetricType = "gauge" | "counter" | "untyped";

const ARGUMENT_HINT = { hint: `write each metric as NAME=VALUE or 'NAME{label="value"}=VALUE' (quoted for the shell); nothing was sent` };

/** A line of the text format given as an argument (`count_thread_sum 596`, as in a curl one-liner's echo). */
const TEXT_FORMAT_LINE = /^([a-zA-Z_:][a-zA-Z0-9_:]*(?:\{.*\})?)[ \t]+(\S+)$/;

function hintFor(arg: string): { hint: string } {
  const line = TEXT_FORMAT_LINE.exec(arg);
  if (line === null) return ARGUMENT_HINT;
  return { hint: `that is a line of the text format; as an argument write ${shellWord(`${line[1]}=${line[2]}`)}, or pipe the text format into pushgw (echo ${shellWord(arg)} | pushgw …); nothing was sent` };
}

export interface MetricArgumentsText {
  readonly text: string;
  /** Points each generated line back to the argument it came from, for error messages. */
  readonly source: ExpositionSource;
}

/**
 * Turns `NAME=VALUE` and `NAME{label="v"}=VALUE` arguments into exposition text, so that
 * arguments and files go through the same checks. With no `type`, no TYPE line is written:
 * the metric is untyped, exactly as `echo 'NAME VALUE' | curl --data-binary @-` pushed it,
 * so it can live beside curl-pushed groups (the gateway keeps one type per metric name).
 */
export function metricArgumentsToExposition(
  args: readonly string[],
  type: ArgumentMetricType | undefined,
  help: string | undefined,
): MetricArgumentsText {
  const lines: string[] = [];
  const lineToArg: number[] = [];
  const declared = new Set<string>();
  args.forEach((arg, index) => {
    const where = `argument ${index + 1} (${arg})`;
    const eq = arg.lastIndexOf("=");
    const brace = arg.indexOf("{");
    const close = arg.lastIndexOf("}");
    // The labels, when given, must end the series: `m{a="1"} x=2` is not a series.
    if (eq < 0 || (brace >= 0 && (eq < close || (close >= 0 && close !== eq - 1)))) {
      throw new InputError(`${where}: expected NAME=VALUE or NAME{label="value"}=VALUE`, hintFor(arg));
    }
    const series = arg.slice(0, eq);
    const value = arg.slice(eq + 1);
    if (/[\r\n]/.test(series)) {
      throw new InputError(`${where}: a line break cannot be part of an argument (write \\n inside a label value)`, ARGUMENT_HINT);
    }
    const name = brace >= 0 ? series.slice(0, brace) : series;
    // Checked here, not by the exposition parser, which would read `bad name` as a name
    // and a value and speak of lines the user never wrote.
    // A UTF-8 name (`http.server.duration`) is written quoted, as the text format writes it; the
    // checker then asks whether the receiver takes it.
    const legacy = METRIC_NAME_PATTERN.test(name);
    if (!legacy && (!isUtf8Name(name) || /[\s{}=]/.test(name))) {
      throw new InputError(`${where}: invalid metric name "${name}" (allowed: [a-zA-Z_:][a-zA-Z0-9_:]*, or for receivers that take UTF-8 names any text without blanks, quotes, braces or =)`, ARGUMENT_HINT);
    }
    const written = legacy ? name : JSON.stringify(name);
    if (value === "" || /\s/.test(value)) {
      throw new InputError(`${where}: value "${value}" is not a number (use a float, NaN, +Inf or -Inf)`, ARGUMENT_HINT);
    }
    if (!declared.has(name)) {
      declared.add(name);
      if (help !== undefined) {
        lines.push(`# HELP ${written} ${escapeHelp(help)}`);
        lineToArg.push(index);
      }
      if (type !== undefined) {
        lines.push(`# TYPE ${written} ${type}`);
        lineToArg.push(index);
      }
    }
    if (legacy) lines.push(`${series} ${value}`);
    else {
      const labels = brace >= 0 ? series.slice(brace + 1, -1).trim() : "";
      lines.push(`{${written}${labels === "" ? "" : `,${labels}`}} ${value}`);
    }
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
