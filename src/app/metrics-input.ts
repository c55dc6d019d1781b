import { InputError, UsageError } from "../core/errors.js";
import { decodeUtf8, parseExposition, parseExpositionForReceiver, type Exposition, type ExpositionSource, type ParseExpositionOptions } from "../core/exposition.js";
import type { ReceiverFeature, ReceiverRules } from "../core/receiver-rules.js";
import { metricArgumentsToExposition, type ArgumentMetricType } from "../core/metric-args.js";
import { groupingLabelMap, type GroupingKey } from "../core/grouping-key.js";
import type { Deps } from "./ports.js";

/** Where the metrics of a push come from, as the user said it. */
export type MetricsSource =
  | { readonly kind: "arguments"; readonly args: readonly string[]; readonly type: ArgumentMetricType | undefined; readonly help: string | undefined }
  /** `--file F`; `-` is stdin. */
  | { readonly kind: "file"; readonly path: string }
  /** Nothing said: stdin when it is not a terminal, else nothing. */
  | { readonly kind: "unspecified" };

export interface LoadedMetrics {
  readonly exposition: Exposition;
  /** False when the user gave no input at all (as opposed to an empty file). */
  readonly given: boolean;
  /** add --heartbeat: empty on purpose. */
  readonly heartbeat?: boolean;
  /** --file named a regular file (not a pipe, /dev/stdin or <(cmd)): empty, it is a heartbeat on purpose. */
  readonly fromRegularFile?: boolean;
}

/** The rules of the receiver for an input that needs `needs` (the target's inputRules, its gateways bound). */
export type RulesForInput = (needs: ReadonlySet<ReceiverFeature>) => Promise<ReceiverRules>;

/**
 * Reads the metrics from where the user said and checks them against the grouping key, with the
 * target's parse options (`withOptions`: targets/registry.ts writeInputOptions), and by the
 * receiver's rules (`rulesFor`; without it, the strict rules).
 */
export async function loadMetrics(
  source: MetricsSource,
  key: GroupingKey,
  deps: Deps,
  withOptions: (options: ParseExpositionOptions) => ParseExpositionOptions = (o) => o,
  rulesFor?: RulesForInput,
): Promise<LoadedMetrics> {
  const options = withOptions({ groupingLabels: groupingLabelMap(key) });
  const parse = (text: string, from: ExpositionSource) => (rulesFor === undefined ? Promise.resolve(parseExposition(text, from, options)) : parseForReceiver(text, from, options, rulesFor));
  switch (source.kind) {
    case "arguments": {
      const generated = metricArgumentsToExposition(source.args, source.type, source.help);
      return { exposition: await parse(generated.text, generated.source), given: true };
    }
    case "file": {
      const fromStdin = source.path === "-";
      const name = fromStdin ? "stdin" : source.path;
      // Asked before reading: /dev/fd/63 from <(cmd) is gone once read.
      const regular = !fromStdin && (await deps.input.fileAccess(source.path))?.regular === true;
      const bytes = fromStdin ? await deps.input.readStdin() : await readFileOrExplain(source.path, deps);
      return { exposition: await parse(decodeUtf8(bytes, { name }), { name }), given: true, fromRegularFile: regular };
    }
    case "unspecified": {
      if (deps.input.stdinIsTerminal) {
        return { exposition: parseExposition("", { name: "arguments" }, options), given: false };
      }
      const bytes = await deps.input.readStdin();
      return { exposition: await parse(decodeUtf8(bytes, { name: "stdin" }), { name: "stdin" }), given: true };
    }
  }
}

/**
 * Checks by the receiver's rules for what every receiver of its kind takes; only when the input
 * needs more (rulesFor may then ask the gateway) checks again by the rules for that.
 */
async function parseForReceiver(text: string, source: ExpositionSource, options: ParseExpositionOptions, rulesFor: RulesForInput): Promise<Exposition> {
  const first = await rulesFor(new Set());
  const result = parseExpositionForReceiver(text, source, { ...options, receiver: first });
  if ("exposition" in result) return result.exposition;
  if (result.needs.size === 0) throw result.refused;
  const rules = await rulesFor(result.needs);
  if (rules === first) throw result.refused;
  return parseExposition(text, source, { ...options, receiver: rules });
}

async function readFileOrExplain(path: string, deps: Deps): Promise<Uint8Array> {
  try {
    return await deps.input.readFile(path);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    const reason =
      code === "ENOENT" ? "no such file" : code === "EACCES" ? "permission denied" : code === "EISDIR" ? "it is a directory" : String((error as Error).message);
    throw new UsageError(`--file ${path}: cannot read it: ${reason}`);
  }
}

/**
 * add --heartbeat: an empty body, sent on purpose. Stdin is not read (under cron it may be
 * anything); metrics given beside it are a contradiction.
 */
export function heartbeatInput(source: MetricsSource, key: GroupingKey): LoadedMetrics {
  if (source.kind !== "unspecified") {
    throw new UsageError(`--heartbeat sends an empty body, so it takes no ${source.kind === "arguments" ? "METRIC arguments" : "--file"}`, {
      hint: "drop --heartbeat to push the metrics, or the metrics to send only a heartbeat",
    });
  }
  return { exposition: parseExposition("", { name: "--heartbeat" }, { groupingLabels: groupingLabelMap(key), collectSamples: false }), given: true, heartbeat: true };
}

/**
 * Nothing to push is a mistake unless asked for: `pushgw add -j x $METRIC` with $METRIC unset
 * under cron (stdin empty) would otherwise refresh the group's push time and exit 0, a silent
 * heartbeat for a job whose metric went missing. --heartbeat, or --file naming an empty file,
 * says it is meant.
 */
export function requireSamples(loaded: LoadedMetrics, command: string, source: MetricsSource): void {
  if (!loaded.given) {
    throw new UsageError(`${command}: no metrics given`, {
      hint: `pass NAME=VALUE arguments, --file F (- for stdin), or pipe the text format into pushgw${command === "add" ? "; --heartbeat only refreshes the group's push time" : ""}`,
    });
  }
  if (loaded.exposition.sampleCount > 0 || loaded.heartbeat) return;
  if (command === "push") {
    throw new InputError("push: the input holds no samples; a PUT of nothing would empty the whole group", {
      hint: "to remove the group use `pushgw delete`; to only mark it as pushed use `pushgw add --heartbeat`",
    });
  }
  if (!loaded.fromRegularFile) {
    const what = source.kind === "file" && source.path !== "-" ? `--file ${source.path} was empty (a pipe or stream, not a file)` : `stdin was empty${source.kind === "unspecified" ? " and no METRIC argument was given (an unset variable?)" : ""}`;
    throw new UsageError(`${command}: nothing to push: ${what}`, {
      hint: "give NAME=VALUE arguments or the text format on stdin; to only refresh the group's push time, pass --heartbeat",
    });
  }
}
