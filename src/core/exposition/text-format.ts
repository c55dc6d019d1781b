import { InputError } from "../errors.js";
import { where, type ExpositionSource } from "./source.js";

/**
 * The Prometheus text exposition format 0.0.4 as the Pushgateway's Go parser reads it: the
 * characters, names, values and escapes the scanner and the rules share.
 */

export type MetricType = "counter" | "gauge" | "histogram" | "summary" | "untyped";

export const METRIC_TYPES: ReadonlySet<string> = new Set(["counter", "gauge", "histogram", "summary", "untyped"]);

/** OpenMetrics' types the text format 0.0.4 lacks, and what to use there instead. */
export const OPENMETRICS_TYPES: ReadonlyMap<string, string> = new Map([
  ["gaugehistogram", "histogram (or gauges)"],
  ["gauge_histogram", "histogram (or gauges)"],
  ["info", "gauge (an info metric is a gauge of 1 whose labels carry the information)"],
  ["stateset", "gauge (one series per state, 1 for the current one)"],
  ["unknown", "untyped"],
]);

export const SPACE = 0x20;
export const TAB = 0x09;
export const NEWLINE = 0x0a;
export const HASH = 0x23;
export const QUOTE = 0x22;
export const BACKSLASH = 0x5c;
export const OPEN_BRACE = 0x7b;
export const CLOSE_BRACE = 0x7d;
export const COMMA = 0x2c;
export const EQUALS = 0x3d;
export const UNDERSCORE = 0x5f;

/** 1: may start a metric name ([a-zA-Z_:]); 2: may follow ([0-9]); 0: neither. */
export const METRIC_NAME_CHAR = new Uint8Array(128);
for (let c = 0; c < 128; c++) METRIC_NAME_CHAR[c] = isLabelNameStart(c) || c === 0x3a ? 1 : c >= 0x30 && c <= 0x39 ? 2 : 0;

/** May start a label name: [a-zA-Z_]. */
export function isLabelNameStart(c: number): boolean {
  return (c >= 0x61 && c <= 0x7a) || (c >= 0x41 && c <= 0x5a) || c === UNDERSCORE;
}

/** May follow in a label name: [a-zA-Z0-9_]. */
export function isLabelNameChar(c: number): boolean {
  return isLabelNameStart(c) || (c >= 0x30 && c <= 0x39);
}

/** What scanFloat returns for a float too large for 64 bits (the gateway refuses it). */
export const OUT_OF_RANGE = -2;

/**
 * Scans a float at `start` as the gateway reads one (Go's strconv.ParseFloat): decimal forms
 * such as `1`, `-1.5`, `.5`, `5.`, `1e-3`; `Inf`, `Infinity` (any case, signed or not);
 * `NaN` (any case, never signed: Go refuses `-NaN`). Hex floats and underscores are left out:
 * the gateway's parser refuses them. Returns where the float ends, -1 when there is none,
 * OUT_OF_RANGE when it is beyond ±1.8e308 (Go's ErrRange; a value that small rounds to 0,
 * which Go accepts). Hand-written rather than a regular expression: it runs once per sample.
 */
export function scanFloat(text: string, start: number, end: number): number {
  let pos = start;
  let c = text.charCodeAt(pos);
  const signed = c === 0x2b || c === 0x2d;
  if (signed) c = text.charCodeAt(++pos);
  if (pos >= end) return -1;
  if (c === 0x69 || c === 0x49 || c === 0x6e || c === 0x4e) {
    // Inf, Infinity, NaN: letters only, compared without case.
    const word = text.slice(pos, Math.min(end, pos + 8)).toLowerCase();
    if (word.startsWith("infinity")) return pos + 8;
    if (word.startsWith("inf")) return pos + 3;
    if (!signed && word.startsWith("nan")) return pos + 3;
    return -1;
  }
  let digits = 0;
  while (pos < end && c >= 0x30 && c <= 0x39) {
    digits++;
    c = text.charCodeAt(++pos);
  }
  if (c === 0x2e && pos < end) {
    c = text.charCodeAt(++pos);
    while (pos < end && c >= 0x30 && c <= 0x39) {
      digits++;
      c = text.charCodeAt(++pos);
    }
  }
  if (digits === 0) return -1;
  let exponent = false;
  if ((c === 0x65 || c === 0x45) && pos < end) {
    let e = pos + 1;
    let d = text.charCodeAt(e);
    if ((d === 0x2b || d === 0x2d) && e < end) d = text.charCodeAt(++e);
    const exponentStart = e;
    while (e < end && d >= 0x30 && d <= 0x39) d = text.charCodeAt(++e);
    if (e === exponentStart) return -1;
    pos = e;
    exponent = true;
  }
  // Only an exponent or over 308 digits can leave float64's range.
  if ((exponent || digits > 308) && !Number.isFinite(Number(text.slice(start, pos)))) return OUT_OF_RANGE;
  return pos;
}

/** A sample value as the text format writes it: a float, NaN, or ±Inf (in Go's spellings). */
export function parseSampleValue(text: string): number {
  if (/^[+-]?inf(inity)?$/i.test(text)) return text.startsWith("-") ? -Infinity : Infinity;
  if (/^nan$/i.test(text)) return NaN; // never signed: scanFloat refuses -NaN, as Go does
  return Number(text);
}

/** Escapes a label value for the text format. */
export function escapeLabelValue(value: string): string {
  return value.replace(/[\\"\n]/g, (c) => (c === "\n" ? "\\n" : `\\${c}`));
}

/** A label value as written in the text (its escapes checked already), unescaped. */
export function unescapeLabelValue(raw: string): string {
  return raw.replace(/\\(.)/g, (_, c: string) => (c === "n" ? "\n" : c));
}

/** Escapes HELP text for the text format. */
export function escapeHelp(text: string): string {
  return text.replace(/[\\\n]/g, (c) => (c === "\n" ? "\\n" : "\\\\"));
}

/**
 * The input with the line-end noise repaired that the gateway would refuse: CRLF becomes LF,
 * a leading BOM goes, and a final newline is added. A carriage return anywhere else is refused.
 */
export function repairLineEnds(input: string, source: ExpositionSource): string {
  let text = input.charCodeAt(0) === 0xfeff ? input.slice(1) : input;
  if (text.includes("\r")) {
    text = text.replace(/\r\n/g, "\n");
    const lone = text.indexOf("\r");
    if (lone >= 0) {
      throw new InputError(`${where(source, countLines(text, lone))}: a carriage return (\\r) in the middle of a line`, {
        hint: "the text format needs one sample per line ending in \\n",
      });
    }
  }
  if (text.length > 0 && !text.endsWith("\n")) text += "\n";
  return text;
}

function countLines(text: string, end: number): number {
  let line = 1;
  for (let i = text.indexOf("\n"); i >= 0 && i < end; i = text.indexOf("\n", i + 1)) line++;
  return line;
}
