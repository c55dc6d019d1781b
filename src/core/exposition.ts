import type { InputError } from "./errors.js";
import { checkExpositionForReceiver, type CheckedExposition, type Sample } from "./exposition/check.js";
import type { ParseExpositionOptions } from "./exposition/options.js";
import type { ReceiverFeature } from "./receiver-rules.js";
import type { FamilyInfo } from "./exposition/rules.js";
import type { ExpositionSource } from "./exposition/source.js";

/**
 * A checker for the Prometheus text exposition format 0.0.4, as the Pushgateway's Go parser
 * reads it, plus the gateway's own refusals (timestamps, duplicate series, reserved names).
 * Its job is to refuse, before anything is sent, whatever the gateway would refuse or would
 * store in a way that breaks it; the text itself is sent as given (only repaired), so what
 * the user wrote is exactly what the gateway receives.
 *
 * The parts, in exposition/: the scanner reads the text format (scanner.ts); each gateway
 * refusal is one rule (rules.ts); the checker runs the rules on what the scanner reads and
 * keeps the families (check.ts); text-format.ts and utf8.ts hold the format's helpers.
 */

export type { Sample } from "./exposition/check.js";
export type { ParseExpositionOptions } from "./exposition/options.js";
export type { ExpositionSource } from "./exposition/source.js";
export type { FamilyInfo } from "./exposition/rules.js";
export type { MetricType } from "./exposition/text-format.js";
export { escapeHelp, escapeLabelValue, parseSampleValue } from "./exposition/text-format.js";
export { decodeUtf8, MAX_INPUT_BYTES } from "./exposition/utf8.js";

export interface Exposition {
  /** The text to send: CRLF repaired, a leading BOM dropped, always ending in a newline. */
  readonly text: string;
  readonly families: ReadonlyMap<string, FamilyInfo>;
  readonly sampleCount: number;
  /** Every sample, when asked for with `collectSamples` (remote write needs them). */
  readonly samples: readonly Sample[];
}

/** Parses and checks `input`; throws an InputError listing the first problems found. */
export function parseExposition(input: string, source: ExpositionSource, options: ParseExpositionOptions = {}): Exposition {
  const result = parseExpositionForReceiver(input, source, options);
  if ("refused" in result) throw result.refused;
  return result.exposition;
}

/**
 * As parseExposition, by the rules of `options.receiver`, returning a refusal with what the
 * input needs that those rules refuse (quoted or UTF-8 names, fractional counts, `\"` in HELP)
 * rather than throwing it: the app may learn that the receiver takes them and check again.
 */
export function parseExpositionForReceiver(
  input: string,
  source: ExpositionSource,
  options: ParseExpositionOptions = {},
): { readonly exposition: Exposition } | { readonly refused: InputError; readonly needs: ReadonlySet<ReceiverFeature> } {
  const result = checkExpositionForReceiver(input, source, options);
  return "refused" in result ? result : { exposition: toExposition(result.checked) };
}

function toExposition({ text, sampleCount, samples, families }: CheckedExposition): Exposition {
  // Made on demand: a Map of 100,000 families costs more than the check that found them.
  let familyMap: Map<string, FamilyInfo> | undefined;
  return {
    text,
    get families() {
      return (familyMap ??= new Map(families.map((family) => [family.name, family])));
    },
    sampleCount,
    samples,
  };
}

/**
 * The family a collected sample belongs to: its own name, or a histogram's `_bucket`, `_sum`,
 * `_count` or a summary's `_sum`, `_count` (as the checker files them). For encoders that need
 * a sample's type and HELP (OTLP, remote write 2.0).
 */
export function familyOfSample(sampleName: string, families: ReadonlyMap<string, FamilyInfo>): FamilyInfo | undefined {
  const exact = families.get(sampleName);
  if (exact !== undefined) return exact;
  for (const suffix of ["_bucket", "_sum", "_count"]) {
    if (!sampleName.endsWith(suffix)) continue;
    const base = families.get(sampleName.slice(0, -suffix.length));
    if (base !== undefined && (base.type === "histogram" || (base.type === "summary" && suffix !== "_bucket"))) return base;
  }
  return undefined;
}

/** HELP as the text format writes it (`\\` and `\n` escaped; `\"` where the receiver takes it) back to its text. */
export function unescapeHelp(help: string): string {
  return help.replace(/\\([\\n"])/g, (_, c: string) => (c === "n" ? "\n" : c));
}
