import { InputError } from "./errors.js";
import { gatewayFamilyClash } from "./gateway-metrics.js";
import { RESERVED_METRIC_NAMES } from "./names.js";

/**
 * A checker for the Prometheus text exposition format 0.0.4, as the Pushgateway's Go parser
 * reads it, plus the gateway's own refusals (timestamps, duplicate series, reserved names).
 * Its job is to refuse, before anything is sent, whatever the gateway would refuse or would
 * store in a way that breaks it; the text itself is sent as given (only repaired), so what
 * the user wrote is exactly what the gateway receives.
 */

export type MetricType = "counter" | "gauge" | "histogram" | "summary" | "untyped";

export interface FamilyInfo {
  readonly name: string;
  type: MetricType;
  typeDeclared: boolean;
  help: string | undefined;
  sampleCount: number;
}

export interface Exposition {
  /** The text to send: CRLF repaired, a leading BOM dropped, always ending in a newline. */
  readonly text: string;
  readonly families: ReadonlyMap<string, FamilyInfo>;
  readonly sampleCount: number;
  /** Every sample, when asked for with `collectSamples` (remote write needs them). */
  readonly samples: readonly Sample[];
}

/** One sample line: its metric name, labels (unescaped, as written) and value. */
export interface Sample {
  readonly name: string;
  readonly labels: ReadonlyArray<readonly [string, string]>;
  readonly value: number;
}

export interface ExpositionSource {
  /** Shown before the line number: `stdin`, `metrics.prom`. */
  readonly name: string;
  /** Overrides `name:line` (used for METRIC arguments, which have no file lines). */
  readonly describeLine?: (line: number) => string;
}

export interface ParseExpositionOptions {
  /**
   * The grouping key's labels (job included). The gateway silently overwrites a body label
   * of the same name, so a sample carrying a different value is refused.
   */
  readonly groupingLabels?: ReadonlyMap<string, string>;
  /** Families someone else owns (wrap's own metrics); a sample of theirs is refused. */
  readonly reservedNames?: ReadonlyMap<string, string>;
  /** Also return every sample (costs memory; only remote write needs it). */
  readonly collectSamples?: boolean;
}

const MAX_REPORTED_PROBLEMS = 10;
const RESERVED_FIRST_LETTERS: ReadonlySet<number> = new Set([...RESERVED_METRIC_NAMES].map((name) => name.charCodeAt(0)));
/** From this many labels on, a sample's label names are checked for duplicates by hash. */
const WIDE_SAMPLE_LABELS = 16;
const METRIC_TYPES: ReadonlySet<string> = new Set(["counter", "gauge", "histogram", "summary", "untyped"]);
/** OpenMetrics' types the text format 0.0.4 lacks, and what to use there instead. */
const OPENMETRICS_TYPES: ReadonlyMap<string, string> = new Map([
  ["gaugehistogram", "histogram (or gauges)"],
  ["gauge_histogram", "histogram (or gauges)"],
  ["info", "gauge (an info metric is a gauge of 1 whose labels carry the information)"],
  ["stateset", "gauge (one series per state, 1 for the current one)"],
  ["unknown", "untyped"],
]);

/**
 * The most UTF-16 code units a decoded input may have: V8's largest string (about 512 MiB)
 * less the newline the repair may add. UTF-8 never decodes to more units than it has bytes.
 */
export const MAX_INPUT_BYTES = (1 << 29) - 24 - 1;

/** Parses and checks `input`; throws an InputError listing the first problems found. */
export function parseExposition(
  input: string,
  source: ExpositionSource,
  options: ParseExpositionOptions = {},
): Exposition {
  const text = repairExposition(input, source);
  const parser = new Parser(text, source, options);
  parser.run();
  if (parser.problems.length > 0) {
    const more = parser.problemCount - parser.problems.length;
    const lines = more > 0 ? [...parser.problems, `… and ${more} more problem(s)`] : parser.problems;
    throw new InputError(lines.join("\n"), {
      hint: "fix the input; nothing was sent",
    });
  }
  const { families, sampleCount, samples } = parser;
  const repaired = parser.repairedText();
  // Made on demand: a Map of 100,000 families costs more than the check that found them.
  let familyMap: Map<string, FamilyInfo> | undefined;
  return {
    text: repaired,
    get families() {
      return (familyMap ??= new Map(families.list.map((family) => [family.name, family])));
    },
    sampleCount,
    samples,
  };
}

/** What scanFloat returns for a float too large for 64 bits (the gateway refuses it). */
const OUT_OF_RANGE = -2;

/**
 * Scans a float at `start` as the gateway reads one (Go's strconv.ParseFloat): decimal forms
 * such as `1`, `-1.5`, `.5`, `5.`, `1e-3`; `Inf`, `Infinity` (any case, signed or not);
 * `NaN` (any case, never signed: Go refuses `-NaN`). Hex floats and underscores are left out:
 * the gateway's parser refuses them. Returns where the float ends, -1 when there is none,
 * OUT_OF_RANGE when it is beyond ±1.8e308 (Go's ErrRange; a value that small rounds to 0,
 * which Go accepts). Hand-written rather than a regular expression: it runs once per sample.
 */
function scanFloat(text: string, start: number, end: number): number {
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

function repairExposition(input: string, source: ExpositionSource): string {
  let text = input.charCodeAt(0) === 0xfeff ? input.slice(1) : input;
  if (text.includes("\r")) {
    text = text.replace(/\r\n/g, "\n");
    const lone = text.indexOf("\r");
    if (lone >= 0) {
      const line = countLines(text, lone);
      throw new InputError(`${where(source, line)}: a carriage return (\\r) in the middle of a line`, {
        hint: "the text format needs one sample per line ending in \\n",
      });
    }
  }
  if (text.length > 0 && !text.endsWith("\n")) text += "\n";
  return text;
}

function where(source: ExpositionSource, line: number): string {
  return source.describeLine ? source.describeLine(line) : `${source.name}:${line}`;
}

function countLines(text: string, end: number): number {
  let line = 1;
  for (let i = text.indexOf("\n"); i >= 0 && i < end; i = text.indexOf("\n", i + 1)) line++;
  return line;
}

const SPACE = 0x20;
const TAB = 0x09;
const NEWLINE = 0x0a;
const HASH = 0x23;
const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const OPEN_BRACE = 0x7b;
const CLOSE_BRACE = 0x7d;
const COMMA = 0x2c;
const EQUALS = 0x3d;

/** 1: may start a metric name ([a-zA-Z_:]); 2: may follow ([0-9]); 0: neither. */
const METRIC_NAME_CHAR = new Uint8Array(128);
for (let c = 0; c < 128; c++) {
  const ch = String.fromCharCode(c);
  METRIC_NAME_CHAR[c] = /[a-zA-Z_:]/.test(ch) ? 1 : /[0-9]/.test(ch) ? 2 : 0;
}

function isNameStart(c: number): boolean {
  return (c >= 0x61 && c <= 0x7a) || (c >= 0x41 && c <= 0x5a) || c === 0x5f;
}
function isNameChar(c: number): boolean {
  return isNameStart(c) || (c >= 0x30 && c <= 0x39);
}

class LineProblem extends Error {}

class Parser {
  readonly families = new FamilyIndex();
  readonly problems: string[] = [];
  readonly samples: Sample[] = [];
  private valueStart = 0;
  private valueEnd = 0;
  problemCount = 0;
  sampleCount = 0;
  private readonly seriesSeen: SeriesTable;
  /** The grouping labels (name, value escaped as in the text), to compare against raw text. */
  private readonly groupingEscaped: ReadonlyArray<readonly [string, string]>;
  // The labels of the sample being read, as positions in the text, in arrays reused from
  // line to line: 100,000 samples would otherwise allocate a few hundred thousand strings.
  private labelCount = 0;
  private readonly labelNameStarts: number[] = [];
  private readonly labelNameEnds: number[] = [];
  private readonly labelValueStarts: number[] = [];
  private readonly labelValueEnds: number[] = [];
  private readonly labelHashes: number[] = [];
  private previousName = "";
  /** hashName(previousName): nameHash holds the hash of the name read last, which may be a HELP or TYPE line's. */
  private previousNameHash = 0;
  private nameHash = 0;
  /** Series whose hash another series already had: kept by their exact text. */
  private readonly collided = new Set<string>();
  private previousFamily: FamilyInfo | undefined;
  /** [start, end) pairs of trailing blanks to take out of the text sent, in order. */
  private readonly trims: number[] = [];
  /** Label name hash → index, for samples with many labels (see readLabels). */
  private readonly wideLabels = new Map<number, number>();
  private readonly labelNameHashes: number[] = [];
  private previousFamilyFor = "";

  private pos = 0;
  private lineStart = 0;
  private lineEnd = 0;
  private lineNo = 0;

  constructor(
    private readonly text: string,
    private readonly source: ExpositionSource,
    private readonly options: ParseExpositionOptions,
  ) {
    // About one series per 40 bytes is typical; sizing the table for that spares regrowth.
    this.seriesSeen = new SeriesTable(text.length / 40);
    this.groupingEscaped = [...(options.groupingLabels ?? [])].map(([name, value]) => [name, escapeLabelValue(value)] as const);
  }

  run(): void {
    const text = this.text;
    while (this.lineStart < text.length) {
      this.lineNo++;
      const end = text.indexOf("\n", this.lineStart);
      this.lineEnd = end < 0 ? text.length : end;
      this.pos = this.lineStart;
      try {
        this.parseLine();
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

  private describe(message: string): string {
    let line = this.text.slice(this.lineStart, this.lineEnd);
    if (line.length > 120) line = `${line.slice(0, 117)}...`;
    const location = where(this.source, this.lineNo);
    return this.source.describeLine ? `${location}: ${message}` : `${location}: ${message}\n  ${this.lineNo} | ${line}`;
  }

  private fail(message: string): never {
    throw new LineProblem(message);
  }

  private skipBlanks(): void {
    const text = this.text;
    let c = text.charCodeAt(this.pos);
    while ((c === SPACE || c === TAB) && this.pos < this.lineEnd) c = text.charCodeAt(++this.pos);
  }

  private atLineEnd(): boolean {
    return this.pos >= this.lineEnd;
  }

  private parseLine(): void {
    this.skipBlanks();
    if (this.atLineEnd()) return;
    if (this.text.charCodeAt(this.pos) === HASH) {
      this.parseComment();
      return;
    }
    this.parseSample();
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

  private parseComment(): void {
    this.pos++; // '#'
    this.skipBlanks();
    const keyword = this.readToken();
    if (keyword !== "HELP" && keyword !== "TYPE") return; // an ordinary comment
    this.skipBlanks();
    if (this.atLineEnd()) return; // "# HELP" alone: the Go parser takes it as a comment
    const name = this.readMetricName();
    if (RESERVED_METRIC_NAMES.has(name)) this.fail(this.reservedMessage(name));
    // As in the gateway's parser, `h_count` after `# TYPE h histogram` names the family h.
    const family = this.existingFamily(name, this.nameHash);
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
      if (family?.typeDeclared) this.fail(`second TYPE line for "${family.name}"${family.name === name ? "" : ` (${name} is one of its series)`}`);
      if (family && family.sampleCount > 0) {
        this.fail(`TYPE line for "${name}" comes after its samples (it must come first)`);
      }
      if (family) {
        family.type = typeToken as MetricType;
        family.typeDeclared = true;
      } else {
        this.families.add({ name, type: typeToken as MetricType, typeDeclared: true, help: undefined, sampleCount: 0 }, hashName(name));
      }
      // `# TYPE m gauge ` would reach the gateway as type "gauge ", which it refuses.
      this.trimLineEnd(typeEnd);
      return;
    }
    // HELP: the rest of the line, after one run of blanks, is the text (trailing blanks
    // included: the gateway keeps them). Unlike TYPE, HELP may come after the samples.
    if (this.pos < this.lineEnd) this.skipBlanks();
    const help = this.readHelpText();
    if (family?.help !== undefined) this.fail(`second HELP line for "${family.name}"${family.name === name ? "" : ` (${name} is one of its series)`}`);
    if (family) family.help = help;
    else this.families.add({ name, type: "untyped", typeDeclared: false, help, sampleCount: 0 }, hashName(name));
  }

  /**
   * Blanks from `from` to the line's end are dropped from the text sent (see
   * repairedText): the gateway's parser would read them as the start of a timestamp or as
   * part of a type. Repaired like CRLF, rather than refused: both are invisible line-end noise.
   */
  private trimLineEnd(from: number): void {
    if (from < this.lineEnd) this.trims.push(from, this.lineEnd);
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

  private readHelpText(): string {
    const text = this.text;
    const raw = text.slice(this.pos, this.lineEnd);
    if (!raw.includes("\\")) return raw;
    for (let i = 0; i < raw.length; i++) {
      if (raw.charCodeAt(i) !== BACKSLASH) continue;
      const next = raw[i + 1];
      if (next !== "\\" && next !== "n") {
        this.fail(`invalid escape sequence "\\${next ?? ""}" in HELP text (only \\\\ and \\n are allowed)`);
      }
      i++;
    }
    return raw;
  }

  /** Reads a metric name, leaving its hashName() in `nameHash` (computed in the same pass). */
  private readMetricName(): string {
    const text = this.text;
    const start = this.pos;
    const lineEnd = this.lineEnd;
    let pos = start;
    let hash = 0x811c9dc5;
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
    const c2 = text.charCodeAt(this.pos);
    if (name === "" || (this.pos < this.lineEnd && c2 !== SPACE && c2 !== TAB && c2 !== OPEN_BRACE)) {
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

  private parseSample(): void {
    const text = this.text;
    const seriesStart = this.pos;
    const name = this.readSampleName();
    this.labelCount = 0;
    this.skipBlanks();
    if (text.charCodeAt(this.pos) === OPEN_BRACE && !this.atLineEnd()) {
      this.readLabels();
      this.skipBlanks();
    }
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
    this.skipBlanks();
    if (!this.atLineEnd()) {
      const rest = this.readToken();
      if (/^-?\d+$/.test(rest)) {
        this.fail(`sample "${name}" has a timestamp (${rest}); the gateway refuses timestamps: remove it`);
      }
      if (rest.startsWith("#")) this.fail(`sample "${name}" has an exemplar or comment after it; exemplars are OpenMetrics, which the gateway does not take`);
      this.fail(`unexpected "${rest}" after the value of "${name}"`);
    }
    this.recordSample(name, seriesStart);
    // `m 1 ` would reach the gateway as a value and an empty timestamp, which it refuses.
    this.trimLineEnd(valueEnd);
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
    const name = this.readMetricName();
    this.previousName = name;
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
      const nameStart = pos;
      let hash = 0x811c9dc5;
      if (isNameStart(c)) {
        do {
          hash = Math.imul(hash ^ c, 0x01000193);
          c = text.charCodeAt(++pos);
        } while (pos < lineEnd && isNameChar(c));
      }
      const nameEnd = pos;
      for (; (c === SPACE || c === TAB) && pos < lineEnd; c = text.charCodeAt(++pos));
      if (nameEnd === nameStart || c !== EQUALS || pos >= lineEnd) {
        let end = pos;
        while (end < lineEnd && !/[\s="{},]/.test(text[end] as string)) end++;
        const shown = text.slice(nameStart, Math.max(end, nameStart + 1));
        this.fail(`invalid label name "${shown}" (allowed: [a-zA-Z_][a-zA-Z0-9_]*, followed by =)`);
      }
      if (text.charCodeAt(nameStart) === 0x5f && text.charCodeAt(nameStart + 1) === 0x5f) {
        this.fail(`label name "${text.slice(nameStart, nameEnd)}" starts with "__", which Prometheus reserves`);
      }
      for (c = text.charCodeAt(++pos); (c === SPACE || c === TAB) && pos < lineEnd; c = text.charCodeAt(++pos));
      if (c !== QUOTE || pos >= lineEnd) {
        this.fail(`value of label "${text.slice(nameStart, nameEnd)}" must be in double quotes`);
      }
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

  private labelNameIs(index: number, name: string): boolean {
    const start = this.labelNameStarts[index] as number;
    return (this.labelNameEnds[index] as number) - start === name.length && this.text.startsWith(name, start);
  }

  private labelName(index: number): string {
    return this.text.slice(this.labelNameStarts[index], this.labelNameEnds[index]);
  }

  private rawLabelValue(index: number): string {
    return this.text.slice(this.labelValueStarts[index], this.labelValueEnds[index]);
  }

  private labelIndex(labelName: string): number {
    for (let i = 0; i < this.labelCount; i++) if (this.labelNameIs(i, labelName)) return i;
    return -1;
  }

  private recordSample(sampleName: string, seriesStart: number): void {
    let family = this.previousFamily;
    if (family === undefined || this.previousFamilyFor !== sampleName) {
      family = this.familyOf(sampleName);
      // Checked at a family's first sample only (a failing line leaves the count at 0).
      if (family.sampleCount === 0) {
        // (The first letter first: hashing every new name for a set of two costs on big input.)
        if (RESERVED_FIRST_LETTERS.has(family.name.charCodeAt(0)) && RESERVED_METRIC_NAMES.has(family.name)) this.fail(this.reservedMessage(family.name));
        const owner = this.options.reservedNames?.get(family.name);
        if (owner !== undefined) this.fail(`metric "${family.name}" is ${owner}`);
        const clash = gatewayFamilyClash(family.name, family.type);
        if (clash !== undefined) this.fail(this.gatewayClashMessage(family, clash.own, clash.ownType));
      }
      this.previousFamily = family;
      this.previousFamilyFor = sampleName;
    }
    if (family.type === "histogram" || family.type === "summary") this.checkTypedLabels(family, sampleName);
    const grouping = this.groupingEscaped;
    for (let g = 0; g < grouping.length; g++) {
      const [groupName, escaped] = grouping[g]!;
      const i = this.labelIndex(groupName);
      if (i < 0) continue;
      const start = this.labelValueStarts[i] as number;
      if ((this.labelValueEnds[i] as number) - start === escaped.length && this.text.startsWith(escaped, start)) continue;
      const value = unescapeLabelValue(this.rawLabelValue(i));
      const groupValue = this.options.groupingLabels?.get(groupName) ?? "";
      this.fail(
        `label ${groupName}=${JSON.stringify(value)} would be overwritten by the grouping key's ${groupName}=${JSON.stringify(groupValue)}; ` +
          `drop it from the sample or change the grouping key`,
      );
    }
    // Taken before the duplicate check, which may reread an earlier line's labels.
    const collected = this.options.collectSamples
      ? Array.from({ length: this.labelCount }, (_, i) => [this.labelName(i), unescapeLabelValue(this.rawLabelValue(i))] as const)
      : undefined;
    this.checkDuplicate(sampleName, seriesStart);
    family.sampleCount++;
    this.sampleCount++;
    if (collected !== undefined) {
      this.samples.push({ name: sampleName, labels: collected, value: parseSampleValue(this.text.slice(this.valueStart, this.valueEnd)) });
    }
  }

  /**
   * Refuses a series seen before. The series is hashed as it is read (order-independent over
   * its labels) and only the 64-bit hashes are kept, in typed arrays: several times faster
   * than a Set of key strings. On a hash hit the two series are compared exactly.
   */
  private checkDuplicate(sampleName: string, seriesStart: number): void {
    let sum = 0;
    // Summing per-label hashes makes the result independent of the labels' order. Each was
    // mixed (mix32) first: raw FNV hashes of structured values (`host-17`, `host-71`…) sum to
    // the same total far more often than chance, and every such collision costs an exact
    // comparison (that made label-heavy input several times slower).
    for (let l = 0; l < this.labelCount; l++) sum = (sum + (this.labelHashes[l] as number)) | 0;
    const hash = mix32((this.nameHash ^ Math.imul(sum, 0x9e3779b1)) | 0);
    const earlier = this.seriesSeen.insert(hash, seriesStart);
    if (earlier < 0) return;
    // Same hash: compare exactly. A different series with the same hash is remembered by its
    // text, so that a later copy of it is caught too.
    const current = this.canonicalSeries(sampleName);
    if (this.canonicalSeriesOfLine(earlier) === current || this.collided.has(current)) this.fail(`series ${current} is given twice`);
    this.collided.add(current);
  }

  private canonicalSeriesOfLine(seriesStart: number): string {
    const saved = [this.pos, this.lineEnd, this.previousName, this.previousNameHash, this.nameHash] as const;
    this.pos = seriesStart;
    this.lineEnd = this.text.indexOf("\n", seriesStart);
    this.previousName = "";
    const name = this.readSampleName();
    this.labelCount = 0;
    this.skipBlanks();
    if (this.text.charCodeAt(this.pos) === OPEN_BRACE) this.readLabels();
    const canonical = this.canonicalSeries(name);
    [this.pos, this.lineEnd, this.previousName, this.previousNameHash, this.nameHash] = saved;
    return canonical;
  }

  /** `name{a="1",b="2"}` with labels sorted by name and values as escaped in the input. */
  private canonicalSeries(sampleName: string): string {
    if (this.labelCount === 0) return sampleName;
    const labels = Array.from({ length: this.labelCount }, (_, i) => [this.labelName(i), this.rawLabelValue(i)] as const);
    labels.sort(([a], [b]) => (a < b ? -1 : 1));
    return `${sampleName}{${labels.map(([n, v]) => `${n}="${v}"`).join(",")}}`;
  }

  private gatewayClashMessage(family: FamilyInfo, own: string, ownType: MetricType): string {
    const byArguments = this.source.describeLine !== undefined;
    if (own !== family.name) {
      return `metric "${family.name}" collides with the gateway's own ${ownType} "${own}" (whose series it names); the gateway would refuse the whole push: choose another name`;
    }
    const fix = byArguments
      ? ownType === "counter" || ownType === "gauge"
        ? `give --type ${ownType} or choose another name`
        : "choose another name"
      : `declare it with "# TYPE ${own} ${ownType}" before its samples, or choose another name`;
    return `metric "${own}" is also one of the gateway's own metrics, a ${ownType}; pushed as ${family.type}, the gateway would refuse the whole push: ${fix}`;
  }

  private reservedMessage(name: string): string {
    return `"${name}" is reserved: the gateway sets it on every group and would overwrite it`;
  }

  /** Which family a sample belongs to, following the `_bucket`/`_sum`/`_count` rules. */
  private familyOf(sampleName: string): FamilyInfo {
    const existing = this.existingFamily(sampleName, this.nameHash);
    if (existing !== undefined) return existing;
    const created: FamilyInfo = { name: sampleName, type: "untyped", typeDeclared: false, help: undefined, sampleCount: 0 };
    this.families.add(created, this.nameHash);
    return created;
  }

  /** The family a name refers to, if there is one yet (the name itself, or a histogram's or summary's series). */
  private existingFamily(sampleName: string, nameHash: number): FamilyInfo | undefined {
    const families = this.families;
    const exact = families.get(sampleName, nameHash);
    if (exact !== undefined) return exact;
    // endsWith rather than slicing off the suffix: most names have none, and a slice is a string.
    const bucket = sampleName.endsWith("_bucket");
    const suffixLength = bucket ? 7 : sampleName.endsWith("_sum") ? 4 : sampleName.endsWith("_count") ? 6 : 0;
    if (suffixLength === 0 || sampleName.length === suffixLength) return undefined;
    const baseName = sampleName.slice(0, sampleName.length - suffixLength);
    const base = families.get(baseName, hashName(baseName));
    if (base !== undefined && (base.type === "histogram" || (base.type === "summary" && !bucket))) return base;
    return undefined;
  }

  private checkTypedLabels(family: FamilyInfo, sampleName: string): void {
    if (family.type === "histogram") {
      if (sampleName === family.name) {
        this.fail(`sample "${sampleName}" of histogram "${family.name}" must end in _bucket, _sum or _count`);
      }
      if (sampleName.endsWith("_bucket")) this.requireFloatLabel("le", sampleName);
    } else if (family.type === "summary" && sampleName === family.name) {
      this.requireFloatLabel("quantile", sampleName);
    }
  }

  private requireFloatLabel(labelName: string, sampleName: string): void {
    const index = this.labelIndex(labelName);
    if (index < 0) this.fail(`sample "${sampleName}" needs a "${labelName}" label`);
    // Scanned in place: a slice per histogram bucket is garbage the parser need not make.
    const end = this.labelValueEnds[index] as number;
    const scanned = scanFloat(this.text, this.labelValueStarts[index] as number, end);
    if (scanned !== end) {
      const why = scanned === OUT_OF_RANGE ? "is beyond what a 64-bit float holds (±1.8e308)" : "is not a number";
      this.fail(`label ${labelName}="${this.rawLabelValue(index)}" of "${sampleName}" ${why}`);
    }
  }
}

/**
 * An open-addressing table of 32-bit series hashes to the position of the series that first
 * gave them. Typed arrays keep 100,000 series out of the garbage collector's way, which a Set
 * of key strings does not; each slot's hash and position sit side by side, so a probe costs
 * one cache miss, not two.
 */
class SeriesTable {
  /** Slot i: [2i] the hash, [2i+1] the position + 1 (0 marks an empty slot). */
  private slots: Int32Array;
  private capacity: number;
  private size = 0;

  constructor(expectedSeries: number) {
    let capacity = 1024;
    while (capacity < expectedSeries * 2 && capacity < 1 << 24) capacity *= 2;
    this.capacity = capacity;
    this.slots = new Int32Array(capacity * 2);
  }

  /** Adds the hash; returns the position stored with it earlier, or -1 if it is new. */
  insert(hash: number, position: number): number {
    if ((this.size + 1) * 2 > this.capacity) this.grow();
    const slots = this.slots;
    const mask = this.capacity - 1;
    for (let slot = (hash ^ (hash >>> 15)) & mask; ; slot = (slot + 1) & mask) {
      const stored = slots[2 * slot + 1] as number;
      if (stored === 0) {
        slots[2 * slot] = hash;
        slots[2 * slot + 1] = position + 1;
        this.size++;
        return -1;
      }
      if (slots[2 * slot] === hash) return stored - 1;
    }
  }

  private grow(): void {
    const old = this.slots;
    this.capacity *= 2;
    this.slots = new Int32Array(this.capacity * 2);
    this.size = 0;
    for (let i = 0; i < old.length; i += 2) {
      if (old[i + 1] !== 0) this.insert(old[i] as number, (old[i + 1] as number) - 1);
    }
  }
}

/**
 * The families seen so far, by name. A table of name hashes over an array rather than a Map:
 * text with 100,000 unlabelled series has 100,000 families, and a Map hashing each new name
 * string again (the parser has hashed it already) was most of the time spent on such input.
 */
class FamilyIndex {
  /** In the order first seen. */
  readonly list: FamilyInfo[] = [];
  /** Slot i: [2i] the name's hash, [2i+1] its index in `list` + 1 (0 marks an empty slot). */
  private slots = new Int32Array(2048);
  private capacity = 1024;

  get(name: string, hash: number): FamilyInfo | undefined {
    const slots = this.slots;
    const mask = this.capacity - 1;
    for (let slot = mix32(hash) & mask; ; slot = (slot + 1) & mask) {
      const index = slots[2 * slot + 1] as number;
      if (index === 0) return undefined;
      if (slots[2 * slot] === hash) {
        const family = this.list[index - 1]!;
        if (family.name === name) return family;
      }
    }
  }

  /** Adds a family whose name is not in the index yet. */
  add(family: FamilyInfo, hash: number): void {
    if ((this.list.length + 1) * 2 > this.capacity) this.grow();
    this.list.push(family);
    this.place(hash, this.list.length);
  }

  private place(hash: number, indexPlusOne: number): void {
    const slots = this.slots;
    const mask = this.capacity - 1;
    let slot = mix32(hash) & mask;
    while (slots[2 * slot + 1] !== 0) slot = (slot + 1) & mask;
    slots[2 * slot] = hash;
    slots[2 * slot + 1] = indexPlusOne;
  }

  private grow(): void {
    const old = this.slots;
    this.capacity *= 2;
    this.slots = new Int32Array(this.capacity * 2);
    for (let i = 0; i < old.length; i += 2) if (old[i + 1] !== 0) this.place(old[i] as number, old[i + 1] as number);
  }
}

/** FNV-1a over a name's characters, as readSampleName hashes them. */
function hashName(name: string): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < name.length; i++) hash = Math.imul(hash ^ name.charCodeAt(i), 0x01000193);
  return hash;
}

/** MurmurHash3's finaliser: every input bit affects every output bit. */
function mix32(h: number): number {
  h = Math.imul(h ^ (h >>> 16), 0x85ebca6b);
  h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35);
  return h ^ (h >>> 16);
}

function unescapeLabelValue(raw: string): string {
  return raw.replace(/\\(.)/g, (_, c: string) => (c === "n" ? "\n" : c));
}

/** Escapes a label value for the text format. */
export function escapeLabelValue(value: string): string {
  return value.replace(/[\\"\n]/g, (c) => (c === "\n" ? "\\n" : `\\${c}`));
}

/** Escapes HELP text for the text format. */
export function escapeHelp(text: string): string {
  return text.replace(/[\\\n]/g, (c) => (c === "\n" ? "\\n" : "\\\\"));
}

/**
 * Decodes bytes as UTF-8, refusing invalid sequences with the line they are on: the gateway
 * refuses such a push, but its failure path still creates a group that breaks every scrape.
 */
export function decodeUtf8(bytes: Uint8Array, source: ExpositionSource): string {
  if (bytes.length > MAX_INPUT_BYTES) {
    throw new InputError(`${source.name}: more than ${MAX_INPUT_BYTES} bytes (512 MiB), the most pushgw can check in one push`, {
      hint: "split the metrics over several pushes (`pushgw add` adds to a group without replacing it); nothing was sent",
    });
  }
  try {
    return strictDecoder.decode(bytes);
  } catch (error) {
    const offset = firstInvalidUtf8Offset(bytes);
    if (offset >= bytes.length) throw error;
    let line = 1;
    for (let i = 0; i < offset; i++) if (bytes[i] === NEWLINE) line++;
    throw new InputError(`${where(source, line)}: invalid UTF-8 (byte 0x${(bytes[offset] ?? 0).toString(16)} at offset ${offset})`, {
      hint: "the gateway only takes UTF-8 text; convert the file (for example with iconv)",
    });
  }
}

const strictDecoder = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });

function firstInvalidUtf8Offset(bytes: Uint8Array): number {
  let i = 0;
  while (i < bytes.length) {
    const b = bytes[i] as number;
    let need: number;
    let min: number;
    if (b < 0x80) { i++; continue; }
    else if (b >= 0xc2 && b <= 0xdf) { need = 1; min = 0x80; }
    else if (b >= 0xe0 && b <= 0xef) { need = 2; min = 0x800; }
    else if (b >= 0xf0 && b <= 0xf4) { need = 3; min = 0x10000; }
    else return i;
    let cp = b & (0x3f >> need);
    for (let k = 1; k <= need; k++) {
      const cont = bytes[i + k];
      if (cont === undefined || (cont & 0xc0) !== 0x80) return i;
      cp = (cp << 6) | (cont & 0x3f);
    }
    if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) return i;
    i += need + 1;
  }
  return bytes.length;
}
