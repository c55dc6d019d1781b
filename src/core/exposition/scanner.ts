import { LABEL_NAME_PATTERN, METRIC_NAME_PATTERN } from "../names.js";
import { featureRefusal, PUSHGATEWAY_STRICT_RULES, type ReceiverFeature, type ReceiverRules } from "../receiver-rules.js";
import { hashName, mix32 } from "./hash-tables.js";
import { where, type ExpositionSource } from "./source.js";
import {
  BACKSLASH,
  CLOSE_BRACE,
  COMMA,
  EQUALS,
  HASH,
  isLabelNameChar,
  isLabelNameStart,
  METRIC_NAME_CHAR,
  METRIC_TYPES,
  OPEN_BRACE,
  OPENMETRICS_TYPES,
  OUT_OF_RANGE,
  QUOTE,
  scanFloat,
  SPACE,
  TAB,
  UNDERSCORE,
  type MetricType,
} from "./text-format.js";

/** The longest message about one line, in characters; the middle of a longer one is left out. */
const MAX_MESSAGE_CHARS = 600;

/**
 * Reads the text format line by line and refuses what is not the text format (names, label
 * sets, quotes, escapes, values, TYPE and HELP lines, as the gateway's Go parser reads them).
 * What a valid line says it hands to a ScanHandler, which applies the gateway's rules.
 *
 * Built for a push of 100,000 series: a sample's labels stay positions in the text, in arrays
 * reused from line to line, and names and labels are hashed in the same pass that reads them,
 * so that the rules can look families and series up without making a string per label.
 */

/** What the scanner found on a valid line. Each returns a problem with the line, or undefined. */
export interface ScanHandler {
  /** The metric name of a HELP or TYPE line, read (the rest of the line not yet). */
  commentName(name: string): string | undefined;
  typeLine(name: string, nameHash: number, type: MetricType): string | undefined;
  /** `help` as written (escapes checked, not undone). */
  helpLine(name: string, nameHash: number, help: string): string | undefined;
  /** A timestamp after a sample's value (an optionally signed integer). */
  timestamp(sampleName: string, timestamp: string): string | undefined;
  /** A sample line, read whole; its labels are the scanner's current ones. */
  sample(name: string, nameHash: number, seriesStart: number): string | undefined;
}

const MAX_REPORTED_PROBLEMS = 10;
const INSTANCE_HASH = hashName("instance");
/** From this many labels on, a sample's label names are checked for duplicates by hash. */
const WIDE_SAMPLE_LABELS = 16;

class LineProblem extends Error {}

const IGNORE: ScanHandler = {
  commentName: () => undefined,
  typeLine: () => undefined,
  helpLine: () => undefined,
  timestamp: () => undefined,
  sample: () => undefined,
};

export class Scanner {
  /** The first problems found, each with its line; `problemCount` counts them all. */
  readonly problems: string[] = [];
  problemCount = 0;

  // The labels of the sample being read, as positions in the text, in arrays reused from
  // line to line: 100,000 samples would otherwise allocate a few hundred thousand strings.
  /** How many labels the current sample has. */
  labelCount = 0;
  private readonly labelNameStarts: number[] = [];
  private readonly labelNameEnds: number[] = [];
  private readonly labelValueStarts: number[] = [];
  private readonly labelValueEnds: number[] = [];
  /** Each label's hash over name, "=" and escaped value, mixed (see seriesHash). */
  private readonly labelHashes: number[] = [];
  /** Each label's name hash, for samples with many labels (see seenWideLabel). */
  private readonly labelNameHashes: number[] = [];
  /** Indexes of the current sample's labels that seriesHash and canonicalSeries leave out (see UniqueSeries). */
  readonly ignoredLabels: number[] = [];
  /** Label name hash → index, for samples with many labels. */
  private readonly wideLabels = new Map<number, number>();

  private valueStart = 0;
  private valueEnd = 0;
  private previousName = "";
  private previousNameHash = 0;
  /** hashName() of the name read last (a sample's, or a HELP or TYPE line's). */
  private nameHash = 0;
  /** hashName() of the quoted name read last (a metric's or a label's). */
  private quotedNameHash = 0;
  /** [start, end) pairs of trailing blanks to take out of the text sent, in order. */
  private readonly trims: number[] = [];
  /** A second scanner over the same text, to read an earlier line again (see seriesAt). */
  private rereader: Scanner | undefined;
  /**
   * What the input uses that the receiver's rules refused and another receiver takes (quoted
   * or UTF-8 names, `\"` in HELP; the rules add fractional counts): the app may learn that the
   * receiver takes them after all (app/input-rules.ts) and check again.
   */
  readonly needs = new Set<ReceiverFeature>();

  private pos = 0;
  private lineStart = 0;
  private lineEnd = 0;
  private lineNo = 0;

  constructor(
    readonly text: string,
    private readonly source: ExpositionSource,
    private readonly handler: ScanHandler = IGNORE,
    /** What the receiver takes where receivers differ (core/receiver-rules.ts). */
    readonly receiver: ReceiverRules = PUSHGATEWAY_STRICT_RULES,
  ) {}

  /** Reads every line; problems are collected, not thrown. */
  run(): void {
    const text = this.text;
    while (this.lineStart < text.length) {
      this.lineNo++;
      const end = text.indexOf("\n", this.lineStart);
      this.lineEnd = end < 0 ? text.length : end;
      this.pos = this.lineStart;
      try {
        this.readLine();
      } catch (error) {
        if (!(error instanceof LineProblem)) throw error;
        const problem = this.describe(error.message);
        // Lines generated from one METRIC argument can repeat the same complaint.
        if (problem !== this.problems[this.problems.length - 1]) {
          this.problemCount++;
          if (this.problems.length < MAX_REPORTED_PROBLEMS) this.problems.push(problem);
        }
      }
      this.lineStart = this.lineEnd + 1;
    }
  }

  /** The text with the trailing blanks trimLineEnd marked taken out. */
  repairedText(): string {
    const trims = this.trims;
    if (trims.length === 0) return this.text;
    const parts: string[] = [];
    let from = 0;
    for (let i = 0; i < trims.length; i += 2) {
      parts.push(this.text.slice(from, trims[i]));
      from = trims[i + 1] as number;
    }
    parts.push(this.text.slice(from));
    return parts.join("");
  }

  // --- The current sample's labels, for the rules. ---

  labelName(index: number): string {
    return this.text.slice(this.labelNameStarts[index], this.labelNameEnds[index]);
  }

  /** The value as written, escapes and all. */
  rawLabelValue(index: number): string {
    return this.text.slice(this.labelValueStarts[index], this.labelValueEnds[index]);
  }

  labelValueStart(index: number): number {
    return this.labelValueStarts[index] as number;
  }

  labelValueEnd(index: number): number {
    return this.labelValueEnds[index] as number;
  }

  /** Whether label `index`'s value is written exactly as `escaped`. */
  labelValueIs(index: number, escaped: string): boolean {
    const start = this.labelValueStarts[index] as number;
    return (this.labelValueEnds[index] as number) - start === escaped.length && this.text.startsWith(escaped, start);
  }

  /**
   * Marks in ignoredLabels the current sample's labels named in `names` (whose hashName()s are
   * `nameHashes`), and one named `instance` with an empty value when `emptyInstance` is given:
   * each label's name hash is compared first, so that most labels cost one comparison a name.
   */
  ignoreLabels(names: readonly string[], nameHashes: readonly number[], emptyInstance: boolean): void {
    const count = this.labelCount;
    const labelNameHashes = this.labelNameHashes;
    // A first pass that only compares hashes: nearly every sample has none of these labels.
    let found = false;
    for (let i = 0; i < count && !found; i++) {
      const hash = labelNameHashes[i] as number;
      if (hash === INSTANCE_HASH) found = true;
      for (let n = 0; n < nameHashes.length; n++) if (hash === nameHashes[n]) found = true;
    }
    if (!found) return;
    const ignored = this.ignoredLabels;
    for (let i = 0; i < count; i++) {
      const hash = labelNameHashes[i] as number;
      for (let n = 0; n < names.length; n++) {
        if (hash === nameHashes[n] && this.labelNameIs(i, names[n]!)) ignored.push(i);
      }
      if (emptyInstance && hash === INSTANCE_HASH && this.labelNameIs(i, "instance") && this.labelValueStarts[i] === this.labelValueEnds[i]) ignored.push(i);
    }
  }

  private labelNameIs(index: number, labelName: string): boolean {
    const start = this.labelNameStarts[index] as number;
    return (this.labelNameEnds[index] as number) - start === labelName.length && this.text.startsWith(labelName, start);
  }

  /** The index of the label named `labelName`, or -1. */
  labelIndex(labelName: string): number {
    for (let i = 0; i < this.labelCount; i++) {
      const start = this.labelNameStarts[i] as number;
      if ((this.labelNameEnds[i] as number) - start === labelName.length && this.text.startsWith(labelName, start)) return i;
    }
    return -1;
  }

  /** Whether the sample value is up to 19 digits, nothing else: a whole number from 0 below 2^64. */
  valueIsDigits(): boolean {
    if (this.valueEnd - this.valueStart > 19) return false;
    const text = this.text;
    for (let i = this.valueStart; i < this.valueEnd; i++) {
      const c = text.charCodeAt(i);
      if (c < 0x30 || c > 0x39) return false;
    }
    return this.valueEnd > this.valueStart;
  }

  /** The sample value's text. */
  valueText(): string {
    return this.text.slice(this.valueStart, this.valueEnd);
  }

  /**
   * A 32-bit hash of the current series (name and labels), the same whatever the labels'
   * order: the per-label hashes are summed. Each was mixed (mix32) first: raw FNV hashes of
   * structured values (`host-17`, `host-71`…) sum to the same total far more often than
   * chance, and every such collision costs an exact comparison (that made label-heavy input
   * several times slower).
   */
  seriesHash(nameHash: number): number {
    let sum = 0;
    for (let l = 0; l < this.labelCount; l++) sum = (sum + (this.labelHashes[l] as number)) | 0;
    const ignored = this.ignoredLabels;
    for (let i = 0; i < ignored.length; i++) sum = (sum - (this.labelHashes[ignored[i] as number] as number)) | 0;
    return mix32((nameHash ^ Math.imul(sum, 0x9e3779b1)) | 0);
  }

  /** The current series as `name{a="1",b="2"}`: labels sorted by name, values as escaped in the input. */
  canonicalSeries(sampleName: string): string {
    const kept = Array.from({ length: this.labelCount }, (_, i) => i).filter((i) => !this.ignoredLabels.includes(i));
    if (kept.length === 0) return sampleName;
    const labels = kept.map((i) => [this.labelName(i), this.rawLabelValue(i)] as const);
    labels.sort(([a], [b]) => (a < b ? -1 : 1));
    return `${sampleName}{${labels.map(([n, v]) => `${n}="${v}"`).join(",")}}`;
  }

  /**
   * canonicalSeries of the valid sample line whose series starts at `seriesStart`, read again;
   * `ignore` marks its ignoredLabels, as they were marked when it was read.
   */
  seriesAt(seriesStart: number, ignore?: (scanner: Scanner) => void): string {
    const again = (this.rereader ??= new Scanner(this.text, this.source, IGNORE, this.receiver));
    again.pos = seriesStart;
    const lineEnd = this.text.indexOf("\n", seriesStart);
    again.lineEnd = lineEnd < 0 ? this.text.length : lineEnd;
    const name = again.readSeries();
    again.ignoredLabels.length = 0;
    ignore?.(again);
    return again.canonicalSeries(name);
  }

  // --- Reading. ---

  private describe(message: string): string {
    let line = this.text.slice(this.lineStart, this.lineEnd);
    if (line.length > 120) line = `${line.slice(0, 117)}...`;
    // A message quotes the token it refuses, which may be a line of megabytes (a job that wrote
    // binary into its metrics file): shown whole, escaped four bytes to one, it made messages of
    // hundreds of MB, and V8 gave up (a fatal error, the wrapper's outcome lost).
    if (message.length > MAX_MESSAGE_CHARS) message = `${message.slice(0, MAX_MESSAGE_CHARS - 200)}... (${message.length - MAX_MESSAGE_CHARS} characters left out) ...${message.slice(-200)}`;
    const location = where(this.source, this.lineNo);
    return this.source.describeLine ? `${location}: ${message}` : `${location}: ${message}\n  ${this.lineNo} | ${line}`;
  }

  private fail(message: string): never {
    throw new LineProblem(message);
  }

  /** Fails for a feature the receiver refuses, noting that the input needs it. */
  private failNeeding(feature: ReceiverFeature, message: string): never {
    this.needs.add(feature);
    this.fail(`${message}: ${featureRefusal(this.receiver, feature)}`);
  }

  /** Fails with the handler's problem, if it has one. */
  private check(problem: string | undefined): void {
    if (problem !== undefined) this.fail(problem);
  }

  private skipBlanks(): void {
    const text = this.text;
    let c = text.charCodeAt(this.pos);
    while ((c === SPACE || c === TAB) && this.pos < this.lineEnd) c = text.charCodeAt(++this.pos);
  }

  private atLineEnd(): boolean {
    return this.pos >= this.lineEnd;
  }

  private readLine(): void {
    this.skipBlanks();
    if (this.atLineEnd()) return;
    if (this.text.charCodeAt(this.pos) === HASH) {
      this.readComment();
      return;
    }
    this.readSample();
  }

  /** A token up to the next blank or the end of the line. */
  private readToken(): string {
    const start = this.pos;
    const text = this.text;
    while (this.pos < this.lineEnd) {
      const c = text.charCodeAt(this.pos);
      if (c === SPACE || c === TAB) break;
      this.pos++;
    }
    return text.slice(start, this.pos);
  }

  private readComment(): void {
    this.pos++; // '#'
    this.skipBlanks();
    const keyword = this.readToken();
    if (keyword !== "HELP" && keyword !== "TYPE") return; // an ordinary comment
    this.skipBlanks();
    if (this.atLineEnd()) return; // "# HELP" alone: the Go parser takes it as a comment
    const name = this.readMetricName();
    const nameHash = this.nameHash;
    // readMetricName stops at "{", as a sample's name does; the gateway reads a HELP or TYPE
    // line's name up to a blank only, and refuses the push.
    if (this.text.charCodeAt(this.pos) === OPEN_BRACE && !this.atLineEnd()) {
      this.fail(`${keyword} line names a metric with labels ("${this.text.slice(this.pos - name.length, this.findTokenEnd(this.pos + 1))}"); name the metric alone`);
    }
    this.check(this.handler.commentName(name));
    if (keyword === "TYPE") {
      this.skipBlanks();
      const typeToken = this.readToken().toLowerCase();
      const typeEnd = this.pos;
      this.skipBlanks();
      if (!this.atLineEnd()) this.fail(`unexpected text after the type in a TYPE line`);
      if (!METRIC_TYPES.has(typeToken)) {
        const instead = OPENMETRICS_TYPES.get(typeToken);
        this.fail(
          typeToken === ""
            ? `TYPE line for "${name}" names no type`
            : instead !== undefined
              ? `"${typeToken}" is an OpenMetrics type, which the gateway's text format does not have: ${
                  // The gateway's protobuf knows this one name: it takes the push, drops the
                  // family's samples, and serves a /metrics Prometheus cannot parse.
                  typeToken === "gauge_histogram"
                    ? "the gateway would take it, lose its samples and serve a /metrics page Prometheus cannot parse"
                    : "the gateway would refuse the whole push (unknown metric type)"
                }; use ${instead}`
              : `unknown metric type "${typeToken}" (allowed: counter, gauge, histogram, summary, untyped)`,
        );
      }
      this.check(this.handler.typeLine(name, nameHash, typeToken as MetricType));
      // `# TYPE m gauge ` would reach the gateway as type "gauge ", which it refuses.
      this.trimLineEnd(typeEnd);
      return;
    }
    // HELP: the rest of the line, after one run of blanks, is the text (trailing blanks
    // included: the gateway keeps them). Unlike TYPE, HELP may come after the samples.
    this.skipBlanks();
    // A name and no text (blanks at most): the gateway takes the line for a comment and sets
    // no help, so a HELP line with text may still come, before or after it.
    if (this.atLineEnd()) return;
    this.check(this.handler.helpLine(name, nameHash, this.readHelpText()));
  }

  /**
   * Blanks from `from` to the line's end are dropped from the text sent (see
   * repairedText): the gateway's parser would read them as the start of a timestamp or as
   * part of a type. Repaired like CRLF, rather than refused: both are invisible line-end noise.
   */
  private trimLineEnd(from: number): void {
    if (from < this.lineEnd) this.trims.push(from, this.lineEnd);
  }

  private readHelpText(): string {
    const raw = this.text.slice(this.pos, this.lineEnd);
    if (!raw.includes("\\")) return raw;
    for (let i = 0; i < raw.length; i++) {
      if (raw.charCodeAt(i) !== BACKSLASH) continue;
      const next = raw[i + 1];
      if (next === '"') {
        if (!this.receiver.helpQuoteEscape) this.failNeeding("help-quote-escape", 'escape sequence "\\"" in HELP text');
      } else if (next !== "\\" && next !== "n") {
        this.fail(`invalid escape sequence "\\${next ?? ""}" in HELP text (only \\\\ and \\n are allowed${this.receiver.helpQuoteEscape ? ', and \\"' : ""})`);
      }
      i++;
    }
    return raw;
  }

  /**
   * A name in double quotes at `pos` (what the text format writes UTF-8 names as), leaving its
   * hashName() in `quotedNameHash` and `pos` after the closing quote; returns where the name inside
   * the quotes ends (it starts after the opening quote). Refused where the receiver takes no
   * quoted names, or no name beyond the legacy characters when it is one.
   */
  private readQuotedName(what: "metric" | "label"): number {
    const text = this.text;
    const lineEnd = this.lineEnd;
    const start = this.pos + 1;
    let pos = start;
    let hash = 0x811c9dc5; // FNV-1a, as hashName()
    for (; pos < lineEnd; pos++) {
      const c = text.charCodeAt(pos);
      if (c === QUOTE) break;
      if (c === BACKSLASH) this.fail(`quoted ${what} name "${text.slice(start, this.findTokenEnd(start))}" holds a backslash: pushgw takes no escapes in quoted names`);
      hash = Math.imul(hash ^ c, 0x01000193);
    }
    if (pos >= lineEnd) this.fail(`quoted ${what} name has no closing quote`);
    if (pos === start) this.fail(`empty ${what} name ""`);
    const name = text.slice(start, pos);
    if (!(what === "metric" ? METRIC_NAME_PATTERN : LABEL_NAME_PATTERN).test(name) && !this.receiver.utf8Names) {
      this.failNeeding("utf8-names", `${what} name "${name}" is a UTF-8 name (beyond ${what === "metric" ? "[a-zA-Z_:][a-zA-Z0-9_:]*" : "[a-zA-Z_][a-zA-Z0-9_]*"})`);
    }
    if (!this.receiver.quotedNames) this.failNeeding("quoted-names", `quoted ${what} name "${name}"`);
    this.pos = pos + 1;
    this.quotedNameHash = hash;
    return pos;
  }

  /** `"my.metric"` where a name starts (apart from readMetricName, which runs once per family: kept small). */
  private readQuotedMetricName(): string {
    const start = this.pos;
    const end = this.readQuotedName("metric");
    this.nameHash = this.quotedNameHash;
    const after = this.text.charCodeAt(this.pos);
    if (this.pos < this.lineEnd && after !== SPACE && after !== TAB && after !== OPEN_BRACE) this.fail(`unexpected text after the quoted metric name "${this.text.slice(start + 1, end)}"`);
    return this.text.slice(start + 1, end);
  }

  /** Reads a metric name, leaving its hashName() in `nameHash` (computed in the same pass). */
  private readMetricName(): string {
    const text = this.text;
    const start = this.pos;
    const lineEnd = this.lineEnd;
    if (text.charCodeAt(start) === QUOTE && start < lineEnd) return this.readQuotedMetricName();
    let pos = start;
    let hash = 0x811c9dc5; // FNV-1a, as hashName(): literals, not constants, in the innermost loops
    let c = text.charCodeAt(pos);
    if (pos < lineEnd && c < 128 && METRIC_NAME_CHAR[c] === 1) {
      do {
        hash = Math.imul(hash ^ c, 0x01000193);
        c = text.charCodeAt(++pos);
      } while (pos < lineEnd && c < 128 && METRIC_NAME_CHAR[c] !== 0);
    }
    this.pos = pos;
    this.nameHash = hash;
    const name = text.slice(start, pos);
    const after = text.charCodeAt(this.pos);
    if (name === "" || (this.pos < this.lineEnd && after !== SPACE && after !== TAB && after !== OPEN_BRACE)) {
      const bad = text.slice(start, this.pos + 1 < this.lineEnd ? this.findTokenEnd(start) : this.lineEnd);
      this.fail(`invalid metric name "${bad}" (allowed: [a-zA-Z_:][a-zA-Z0-9_:]*)`);
    }
    return name;
  }

  private findTokenEnd(from: number): number {
    const text = this.text;
    let i = from;
    while (i < this.lineEnd) {
      const c = text.charCodeAt(i);
      if (c === SPACE || c === TAB || c === OPEN_BRACE) break;
      i++;
    }
    return i;
  }

  private readSample(): void {
    const text = this.text;
    const seriesStart = this.pos;
    const name = this.readSeries();
    this.skipBlanks();
    if (this.atLineEnd()) this.fail(`sample "${name}" has no value`);
    const valueEnd = scanFloat(text, this.pos, this.lineEnd);
    const after = text.charCodeAt(valueEnd);
    if (valueEnd < 0 || (valueEnd < this.lineEnd && after !== SPACE && after !== TAB)) {
      const valueText = this.readToken();
      if (valueText.startsWith("#")) this.fail(`sample "${name}" has an exemplar or comment after it; exemplars are OpenMetrics, which the gateway does not take`);
      if (valueEnd === OUT_OF_RANGE) {
        this.fail(`value "${valueText}" of "${name}" is beyond what a 64-bit float holds (±1.8e308); the gateway refuses it`);
      }
      this.fail(`value "${valueText}" of "${name}" is not a number (use a float, NaN, +Inf or -Inf)`);
    }
    this.valueStart = this.pos;
    this.pos = valueEnd;
    this.valueEnd = valueEnd;
    let sampleEnd = valueEnd;
    this.skipBlanks();
    if (!this.atLineEnd()) {
      let rest = this.readToken();
      if (/^-?\d+$/.test(rest)) {
        this.check(this.handler.timestamp(name, rest));
        sampleEnd = this.pos;
        this.skipBlanks();
        rest = this.atLineEnd() ? "" : this.readToken();
      }
      if (rest.startsWith("#")) this.fail(`sample "${name}" has an exemplar or comment after it; exemplars are OpenMetrics, which the gateway does not take`);
      if (rest !== "") this.fail(`unexpected "${rest}" after the value of "${name}"`);
    }
    this.check(this.handler.sample(name, this.nameHash, seriesStart));
    // `m 1 ` would reach the gateway as a value and an empty timestamp, which it refuses.
    this.trimLineEnd(sampleEnd);
  }

  /**
   * A sample's name and labels: `name{…}`, or the name as the label set's first item,
   * quoted (`{"my.metric","a"="1"}`), as the text format writes UTF-8 names.
   */
  private readSeries(): string {
    const text = this.text;
    this.labelCount = 0;
    if (text.charCodeAt(this.pos) === OPEN_BRACE && this.nameInBraces()) {
      this.pos++;
      this.skipBlanks();
      const start = this.pos + 1;
      const name = text.slice(start, this.readQuotedName("metric"));
      this.nameHash = this.quotedNameHash;
      this.skipBlanks();
      // At the comma readLabels reads on as after "{"; at "}" the set is closed.
      if (text.charCodeAt(this.pos) === COMMA) this.readLabels();
      else this.pos++;
      this.previousName = "";
      return name;
    }
    const name = this.readSampleName();
    this.skipBlanks();
    if (text.charCodeAt(this.pos) === OPEN_BRACE && !this.atLineEnd()) this.readLabels();
    return name;
  }

  /** Whether the label set at `pos` starts with a quoted string that no "=" follows: the metric name. */
  private nameInBraces(): boolean {
    const text = this.text;
    let pos = this.pos + 1;
    while (pos < this.lineEnd && (text.charCodeAt(pos) === SPACE || text.charCodeAt(pos) === TAB)) pos++;
    if (text.charCodeAt(pos) !== QUOTE || pos >= this.lineEnd) return false;
    pos = text.indexOf('"', pos + 1);
    if (pos < 0 || pos >= this.lineEnd) return false;
    pos++;
    while (pos < this.lineEnd && (text.charCodeAt(pos) === SPACE || text.charCodeAt(pos) === TAB)) pos++;
    const c = text.charCodeAt(pos);
    return pos < this.lineEnd && (c === COMMA || c === CLOSE_BRACE);
  }

  /**
   * The sample's metric name. Samples of one family usually follow each other, so the
   * previous line's name (and its hash) is reused when the text matches, sparing a string.
   */
  private readSampleName(): string {
    const text = this.text;
    const start = this.pos;
    const previous = this.previousName;
    if (previous !== "" && text.startsWith(previous, start)) {
      const after = text.charCodeAt(start + previous.length);
      if (after === OPEN_BRACE || after === SPACE || after === TAB) {
        this.pos = start + previous.length;
        this.nameHash = this.previousNameHash;
        return previous;
      }
    }
    const quoted = text.charCodeAt(start) === QUOTE;
    const name = this.readMetricName();
    // A quoted name read again unquoted is not the same text: `my.metric 1` is no name.
    this.previousName = quoted ? "" : name;
    this.previousNameHash = this.nameHash;
    return name;
  }

  /**
   * Reads `{name="value",…}` into the reused buffers: names and values stay positions in the
   * text (values escaped), and each label's two hashes are computed in the same pass.
   */
  private readLabels(): void {
    const text = this.text;
    const lineEnd = this.lineEnd;
    // The position lives in a local while scanning: this is the innermost loop of a big push.
    let pos = this.pos + 1; // after '{'
    let c: number;
    for (;;) {
      for (c = text.charCodeAt(pos); (c === SPACE || c === TAB) && pos < lineEnd; c = text.charCodeAt(++pos));
      if (pos >= lineEnd) this.fail(`label set is not closed with "}"`);
      if (c === CLOSE_BRACE) {
        this.pos = pos + 1;
        return;
      }
      let nameStart = pos;
      let hash = 0x811c9dc5; // FNV-1a, as hashName(): literals, not constants, in the innermost loops
      let nameEnd: number;
      if (c === QUOTE) {
        // `"service.name"="x"`: the name is what is inside the quotes, hashed as if unquoted.
        this.pos = pos;
        nameEnd = this.readQuotedName("label");
        nameStart = pos + 1;
        hash = this.quotedNameHash;
        pos = this.pos;
        c = text.charCodeAt(pos);
      } else {
        if (isLabelNameStart(c)) {
          do {
            hash = Math.imul(hash ^ c, 0x01000193);
            c = text.charCodeAt(++pos);
          } while (pos < lineEnd && isLabelNameChar(c));
        }
        nameEnd = pos;
      }
      for (; (c === SPACE || c === TAB) && pos < lineEnd; c = text.charCodeAt(++pos));
      if (nameEnd === nameStart || c !== EQUALS || pos >= lineEnd) {
        let end = pos;
        while (end < lineEnd && !/[\s="{},]/.test(text[end] as string)) end++;
        const shown = text.slice(nameStart, Math.max(end, nameStart + 1));
        this.fail(`invalid label name "${shown}" (allowed: [a-zA-Z_][a-zA-Z0-9_]*, followed by =)`);
      }
      // The gateway takes no label name starting with "__" (Prometheus keeps those for itself).
      if (text.charCodeAt(nameStart) === UNDERSCORE && text.charCodeAt(nameStart + 1) === UNDERSCORE) {
        this.fail(`label name "${text.slice(nameStart, nameEnd)}" starts with "__", which Prometheus reserves`);
      }
      for (c = text.charCodeAt(++pos); (c === SPACE || c === TAB) && pos < lineEnd; c = text.charCodeAt(++pos));
      if (c !== QUOTE || pos >= lineEnd) {
        this.fail(`value of label "${text.slice(nameStart, nameEnd)}" must be in double quotes`);
      }
      // A label set is a set: the gateway's parser refuses a name given twice.
      const index = this.labelCount;
      if (index < WIDE_SAMPLE_LABELS) {
        for (let i = 0; i < index; i++) {
          if (this.sameRange(this.labelNameStarts[i] as number, this.labelNameEnds[i] as number, nameStart, nameEnd)) {
            this.fail(`label "${text.slice(nameStart, nameEnd)}" appears twice in one sample`);
          }
        }
      } else if (this.seenWideLabel(index, hash, nameStart, nameEnd)) {
        this.fail(`label "${text.slice(nameStart, nameEnd)}" appears twice in one sample`);
      }
      this.labelNameHashes[index] = hash;
      hash = Math.imul(hash ^ EQUALS, 0x01000193);
      const valueStart = ++pos;
      for (;;) {
        if (pos >= lineEnd) this.fail(`value of label "${text.slice(nameStart, nameEnd)}" has no closing quote`);
        c = text.charCodeAt(pos);
        if (c === QUOTE) break;
        if (c === BACKSLASH) {
          const next = text.charCodeAt(pos + 1);
          if (next !== BACKSLASH && next !== QUOTE && next !== 0x6e) {
            this.fail(`invalid escape sequence "\\${text[pos + 1] ?? ""}" in the value of label "${text.slice(nameStart, nameEnd)}" (allowed: \\\\, \\", \\n)`);
          }
          hash = Math.imul(hash ^ c, 0x01000193);
          c = next;
          pos++;
        }
        hash = Math.imul(hash ^ c, 0x01000193);
        pos++;
      }
      this.labelNameStarts[index] = nameStart;
      this.labelNameEnds[index] = nameEnd;
      this.labelValueStarts[index] = valueStart;
      this.labelValueEnds[index] = pos;
      this.labelHashes[index] = mix32(hash);
      this.labelCount = index + 1;
      for (c = text.charCodeAt(++pos); (c === SPACE || c === TAB) && pos < lineEnd; c = text.charCodeAt(++pos));
      if (c === COMMA && pos < lineEnd) {
        pos++;
        continue;
      }
      if (c === CLOSE_BRACE && pos < lineEnd) continue;
      this.fail(`expected "," or "}" after the value of label "${text.slice(nameStart, nameEnd)}"`);
    }
  }

  /**
   * Whether label `index`'s name (hashed `nameHash`) is one of the labels before it, for a
   * sample with many labels: a hash lookup each, where comparing with every earlier label
   * made 100,000 labels take 45 s. Remembers it for the labels after it.
   */
  private seenWideLabel(index: number, nameHash: number, nameStart: number, nameEnd: number): boolean {
    const wide = this.wideLabels;
    if (index === WIDE_SAMPLE_LABELS) {
      wide.clear();
      for (let i = 0; i < index; i++) wide.set(this.labelNameHashes[i] as number, i);
    }
    const earlier = wide.get(nameHash);
    if (earlier === undefined) {
      wide.set(nameHash, index);
      return false;
    }
    if (this.sameRange(this.labelNameStarts[earlier] as number, this.labelNameEnds[earlier] as number, nameStart, nameEnd)) return true;
    // Two names with one hash (rare): compare with every earlier label.
    for (let i = 0; i < index; i++) {
      if (this.sameRange(this.labelNameStarts[i] as number, this.labelNameEnds[i] as number, nameStart, nameEnd)) return true;
    }
    return false;
  }

  private sameRange(startA: number, endA: number, startB: number, endB: number): boolean {
    if (endA - startA !== endB - startB) return false;
    const text = this.text;
    for (let i = 0; i < endA - startA; i++) if (text.charCodeAt(startA + i) !== text.charCodeAt(startB + i)) return false;
    return true;
  }
}
