import { GATEWAY_LATE_FAMILY_HELP, GATEWAY_OWN_FAMILY_VERSIONS, gatewayFamilyClash } from "../gateway-metrics.js";
import { RESERVED_METRIC_NAMES } from "../names.js";
import { featureRefusal, type ReceiverRules } from "../receiver-rules.js";
import type { ParseExpositionOptions } from "./options.js";
import { hashName, SeriesTable } from "./hash-tables.js";
import type { Scanner } from "./scanner.js";
import { escapeHelp, escapeLabelValue, OUT_OF_RANGE, parseSampleValue, scanFloat, unescapeLabelValue, type MetricType } from "./text-format.js";

/**
 * What the gateway refuses, or would take and store in a way that breaks it, in text the
 * scanner found to be the text format: one rule each. Most are judged against what came
 * before (families, series) or against the push (its grouping key, who owns which names).
 *
 * A rule is a class: one instance checks one parse (and may keep state for it). Its methods
 * are called where the scanner reaches what they look at, each returning the problem with the
 * line or undefined; where several rules look at the same thing, they run in the order of
 * GATEWAY_RULES. A new gateway quirk is a new class here, added to GATEWAY_RULES, with
 * fixtures in test/fixtures/exposition/invalid/ whose `# rule:` line names it (the tests check
 * that each such fixture is refused by its rule alone, and every other fixture by the scanner).
 *
 * (Classes rather than closures: the checker calls each kind of check from one place, and a
 * method call on a few classes is inlined by V8 where a call to a few closures is not; a
 * closure per check cost a tenth of the time of a push of unlabelled series.)
 */

/** A metric family as the checker has seen it so far. */
export interface FamilyInfo {
  readonly name: string;
  type: MetricType;
  typeDeclared: boolean;
  /** As written (escaped), from its HELP line. */
  help: string | undefined;
  sampleCount: number;
}

/** What a rule may look at, for one parse. */
export interface RuleContext {
  readonly text: string;
  /** The sample being checked: its labels (as positions in the text) and its series. */
  readonly scanner: Scanner;
  readonly options: ParseExpositionOptions;
  /** What the receiver takes where receivers differ (the scanner notes what the input needs). */
  readonly receiver: ReceiverRules;
  /** The text was made from METRIC arguments: fixes are worded as flags, not as lines to edit. */
  readonly fromArguments: boolean;
  /** The family of exactly this name seen so far (not a histogram's or summary's series). */
  familyNamed(name: string): FamilyInfo | undefined;
}

/** The checks of one rule for one parse; a rule defines those it needs. */
export interface RuleChecks {
  /** The metric name of a HELP or TYPE line, before the rest of the line is read. */
  commentName?(name: string): string | undefined;
  /** A TYPE line, before the family takes its type; `family` is undefined for a name not seen yet. */
  typeLine?(name: string, type: MetricType, family: FamilyInfo | undefined): string | undefined;
  /** A HELP line, before the family takes its text. */
  helpLine?(name: string, family: FamilyInfo | undefined): string | undefined;
  /** A sample's timestamp (the text format allows one). */
  timestamp?(sampleName: string, timestamp: string): string | undefined;
  /** The first sample of a family (checked again at the next one if this one was refused). */
  firstSample?(family: FamilyInfo): string | undefined;
  /** Every sample (of the families `samplesOf` names), after firstSample; the scanner holds its labels. */
  sample?(family: FamilyInfo, sampleName: string, nameHash: number, seriesStart: number): string | undefined;
  /**
   * The types of the families whose samples `sample` checks; all when absent. A check that is
   * not called costs nothing, and most samples belong to neither histograms nor summaries.
   */
  readonly samplesOf?: readonly MetricType[];
}

export interface Rule {
  /** Also what the `# rule:` line of its fixtures says. */
  readonly ruleName: string;
  /** False when the rule has nothing to check in this parse (no grouping key, say); true when absent. */
  appliesTo?(context: RuleContext): boolean;
  new (context: RuleContext): RuleChecks;
}

const reservedMessage = (name: string) => `"${name}" is reserved: the gateway sets it on every group and would overwrite it`;
const RESERVED_FIRST_LETTERS: ReadonlySet<number> = new Set([...RESERVED_METRIC_NAMES].map((name) => name.charCodeAt(0)));

/** push_time_seconds and push_failure_time_seconds: the gateway sets them on every group. */
export class ReservedMetricNames implements RuleChecks {
  static readonly ruleName = "reserved-metric-names";

  commentName(name: string): string | undefined {
    return RESERVED_METRIC_NAMES.has(name) ? reservedMessage(name) : undefined;
  }

  firstSample(family: FamilyInfo): string | undefined {
    // (The first letter first: hashing every new name for a set of two costs on big input.)
    const reserved = RESERVED_FIRST_LETTERS.has(family.name.charCodeAt(0)) && RESERVED_METRIC_NAMES.has(family.name);
    return reserved ? reservedMessage(family.name) : undefined;
  }
}

/** Families someone else owns (wrap's own metrics), given by the caller: a sample of theirs is refused. */
export class OwnedMetricNames implements RuleChecks {
  static readonly ruleName = "owned-metric-names";
  private readonly owners: ReadonlyMap<string, string>;

  static appliesTo({ options }: RuleContext): boolean {
    return (options.reservedNames?.size ?? 0) > 0;
  }

  constructor({ options }: RuleContext) {
    this.owners = options.reservedNames ?? new Map();
  }

  firstSample(family: FamilyInfo): string | undefined {
    const owner = this.owners.get(family.name);
    return owner === undefined ? undefined : `metric "${family.name}" is ${owner}`;
  }
}

/**
 * The gateway gathers its own metrics and every pushed family together, and refuses the whole
 * push when two clash there: a family named like one of its own but of another type
 * (`process_cpu_seconds_total` untyped), or a family named like one of the series of a
 * histogram or summary, its own (`go_gc_duration_seconds_count`) or pushed beside it (`h_sum`
 * given before `# TYPE h histogram`: "collides with previously collected histogram").
 *
 * (One rule for both: one more class called at every family's first sample cost a twentieth
 * of a push of unlabelled series, each its own family.)
 */
export class FamilyClashes implements RuleChecks {
  static readonly ruleName = "family-clashes";
  private readonly fromArguments: boolean;
  private readonly familyNamed: (name: string) => FamilyInfo | undefined;
  /** A textfile read back: the textfile's own checks look for clashes between its families. */
  private readonly textfile: boolean;

  constructor({ fromArguments, familyNamed, options }: RuleContext) {
    this.fromArguments = fromArguments;
    this.familyNamed = familyNamed;
    this.textfile = options.textfile === true;
  }

  firstSample(family: FamilyInfo): string | undefined {
    return this.gatewayOwnClash(family) ?? (this.textfile ? undefined : this.pushedSeriesClash(family));
  }

  private gatewayOwnClash(family: FamilyInfo): string | undefined {
    const clash = gatewayFamilyClash(family.name, family.type);
    if (clash === undefined) return this.textfile ? undefined : this.gatewayLateHelpClash(family);
    const { own, ownType } = clash;
    if (own !== family.name) {
      return `metric "${family.name}" collides with the gateway's own ${ownType} "${own}" (whose series it names); the gateway would refuse the whole push: choose another name`;
    }
    const fix = this.fromArguments
      ? ownType === "counter" || ownType === "gauge"
        ? `give --type ${ownType} or choose another name`
        : "choose another name"
      : `declare it with "# TYPE ${own} ${ownType}" before its samples, or choose another name`;
    const versions = GATEWAY_OWN_FAMILY_VERSIONS.get(own);
    const whose = versions === undefined ? "" : ` (${versions})`;
    return `metric "${own}" is also one of the gateway's own metrics${whose}, a ${ownType}; pushed as ${family.type}, the gateway would refuse the whole push: ${fix}`;
  }

  /** One of the gateway's own families it creates late, pushed without its HELP (see GATEWAY_LATE_FAMILY_HELP). */
  private gatewayLateHelpClash(family: FamilyInfo): string | undefined {
    if (family.name.charCodeAt(0) !== 0x70) return undefined; // all are pushgateway_*
    const help = GATEWAY_LATE_FAMILY_HELP.get(family.name);
    if (help === undefined || family.help === escapeHelp(help)) return undefined;
    const fix = this.fromArguments ? `give --help-text "${help}"` : `give it the gateway's own "# HELP ${family.name} ${escapeHelp(help)}" before its samples`;
    return `metric "${family.name}" is one of the gateway's own, which it creates only once it serves requests; pushed with ${
      family.help === undefined ? "no HELP" : "another HELP"
    }, the gateway would take it and then fail to serve /metrics: ${fix}, or choose another name`;
  }

  /** Whichever of the two comes first: the second's first sample is refused. */
  private pushedSeriesClash(family: FamilyInfo): string | undefined {
    const { name, type } = family;
    if (type === "histogram" || type === "summary") {
      for (const suffix of type === "histogram" ? HISTOGRAM_SUFFIXES : SUMMARY_SUFFIXES) {
        const other = this.familyNamed(name + suffix);
        if (other !== undefined && other.sampleCount > 0) return seriesNameTaken(family, other.name);
      }
    }
    // Each suffix ends in "t" or "m": most names are ruled out by their last letter. endsWith
    // rather than slicing off the suffix: most names have none, and a slice is a string.
    const last = name.charCodeAt(name.length - 1);
    if (last !== 0x74 && last !== 0x6d) return undefined;
    const suffixLength = name.endsWith("_count") ? 6 : name.endsWith("_sum") ? 4 : name.endsWith("_bucket") ? 7 : 0;
    if (suffixLength === 0 || name.length === suffixLength) return undefined;
    const base = this.familyNamed(name.slice(0, name.length - suffixLength));
    if (base === undefined || base.sampleCount === 0) return undefined;
    return base.type === "histogram" || (base.type === "summary" && suffixLength !== 7) ? seriesNameTaken(base, name) : undefined;
  }
}

const HISTOGRAM_SUFFIXES = ["_bucket", "_sum", "_count"];
const SUMMARY_SUFFIXES = ["_sum", "_count"];

function seriesNameTaken(family: FamilyInfo, otherName: string): string {
  return `metric "${otherName}" and ${family.type} "${family.name}" collide: ${otherName} is the name of one of ${family.name}'s series, and the gateway would refuse the whole push; rename one of them`;
}

/** The gateway's parser keeps one type per family: a second TYPE line (or one for a histogram's series) is refused. */
export class OneTypePerFamily implements RuleChecks {
  static readonly ruleName = "one-type-per-family";

  typeLine(name: string, _type: MetricType, family: FamilyInfo | undefined): string | undefined {
    if (!family?.typeDeclared) return undefined;
    return `second TYPE line for "${family.name}"${family.name === name ? "" : ` (${name} is one of its series)`}`;
  }
}

/** A family's samples take the type declared before them: the gateway's parser refuses a TYPE line after them. */
export class TypeBeforeSamples implements RuleChecks {
  static readonly ruleName = "type-before-samples";

  typeLine(name: string, _type: MetricType, family: FamilyInfo | undefined): string | undefined {
    return family !== undefined && family.sampleCount > 0 ? `TYPE line for "${name}" comes after its samples (it must come first)` : undefined;
  }
}

/** One HELP line per family (it may come after the samples). */
export class OneHelpPerFamily implements RuleChecks {
  static readonly ruleName = "one-help-per-family";

  helpLine(name: string, family: FamilyInfo | undefined): string | undefined {
    if (family?.help === undefined) return undefined;
    return `second HELP line for "${family.name}"${family.name === name ? "" : ` (${name} is one of its series)`}`;
  }
}

/** The text format allows a timestamp after the value; the gateway refuses any pushed sample that has one. */
export class NoTimestamps implements RuleChecks {
  static readonly ruleName = "no-timestamps";

  timestamp(sampleName: string, timestamp: string): string | undefined {
    return `sample "${sampleName}" has a timestamp (${timestamp}); the gateway refuses timestamps: remove it`;
  }
}

/** Why label `labelName` of the current sample is not a float, or undefined when it is one. */
function floatLabelProblem(scanner: Scanner, labelName: string, sampleName: string): string | undefined {
  const index = scanner.labelIndex(labelName);
  if (index < 0) return `sample "${sampleName}" needs a "${labelName}" label`;
  // Scanned in place: a slice per histogram bucket is garbage the parser need not make.
  const end = scanner.labelValueEnd(index);
  const start = scanner.labelValueStart(index);
  const scanned = scanFloat(scanner.text, start, end);
  if (scanned === end) {
    // A float that starts with "n" is NaN: the gateway's parser takes it, then drops the sample.
    const first = scanner.text.charCodeAt(start);
    if (first !== 0x6e && first !== 0x4e) return undefined;
    return `label ${labelName}="${scanner.rawLabelValue(index)}" of "${sampleName}" is NaN: the gateway would drop the sample without a word`;
  }
  const why = scanned === OUT_OF_RANGE ? "is beyond what a 64-bit float holds (±1.8e308)" : "is not a number";
  return `label ${labelName}="${scanner.rawLabelValue(index)}" of "${sampleName}" ${why}`;
}

/**
 * A histogram's `le` on its _sum or _count (a summary's `quantile` likewise): the gateway's
 * parser reads it as a bound, refuses the push when it is not a number, and else drops it,
 * so that `s_count{quantile="0.5"}` silently overwrites `s_count`.
 */
function unexpectedLabel(scanner: Scanner, labelName: string, sampleName: string): string | undefined {
  if (scanner.labelCount === 0 || scanner.labelIndex(labelName) < 0) return undefined;
  return `sample "${sampleName}" has a "${labelName}" label, which only the ${labelName === "le" ? "_bucket series" : "quantile samples"} may have: the gateway would drop it (or refuse the push)`;
}

/**
 * Why the current sample's value, a count (a histogram's bucket or _count, a summary's _count),
 * is not one the gateway stores as given: it keeps counts as unsigned 64-bit integers,
 * converting what it reads (2.5 lands as 2, -1 and NaN as huge numbers).
 */
function countProblem(scanner: Scanner, family: FamilyInfo, sampleName: string): string | undefined {
  if (scanner.valueIsDigits()) return undefined;
  const text = scanner.valueText();
  const value = parseSampleValue(text);
  if (Number.isInteger(value) && value >= 0 && value < 2 ** 64) return undefined;
  const what = sampleName.endsWith("_count") ? `the count of ${family.type} "${family.name}"` : `a bucket count of histogram "${family.name}"`;
  // A receiver that keeps counts as floats stores 0.5 and NaN as written; a negative count or an infinite one is refused everywhere.
  const asFloat = Number.isNaN(value) || (Number.isFinite(value) && value >= 0);
  if (asFloat && scanner.receiver.fractionalCounts) return undefined;
  if (!asFloat && scanner.receiver.fractionalCounts) return `value "${text}" of "${sampleName}" is ${what}, which must be a number from 0 up (${scanner.receiver.receiver} refuses it)`;
  const landing = value > 0 && value < 2 ** 64 ? `${text} would land as ${Math.trunc(value)}` : "it would land as a huge number";
  const problem = `value "${text}" of "${sampleName}" is ${what}, which must be a whole number from 0 up (${countKeeper(scanner.receiver)}: ${landing})`;
  if (!asFloat) return problem;
  scanner.needs.add("fractional-counts");
  return `${problem}; ${featureRefusal(scanner.receiver, "fractional-counts")}`;
}

function countKeeper(receiver: ReceiverRules): string {
  return receiver.receiver.includes("Pushgateway") ? "the gateway stores it as an unsigned 64-bit integer" : `${receiver.receiver} keeps counts as whole numbers`;
}

/**
 * A histogram's samples are its _bucket series (each with a float "le" bound, not NaN), _sum
 * and _count (without "le"); bucket counts and _count are whole numbers from 0 (countProblem).
 * The gateway takes a bucket without a bound, and stores a bucket with no bound.
 *
 * (The counts are checked here rather than by a rule of their own: one more class called on
 * every histogram sample cost a twentieth of a push of histograms.)
 */
export class HistogramSeries implements RuleChecks {
  static readonly ruleName = "histogram-series";
  readonly samplesOf: readonly MetricType[] = ["histogram"];
  private readonly scanner: Scanner;

  constructor({ scanner }: RuleContext) {
    this.scanner = scanner;
  }

  sample(family: FamilyInfo, sampleName: string): string | undefined {
    if (sampleName === family.name) return `sample "${sampleName}" of histogram "${family.name}" must end in _bucket, _sum or _count`;
    const scanner = this.scanner;
    if (sampleName.endsWith("_bucket")) return floatLabelProblem(scanner, "le", sampleName) ?? countProblem(scanner, family, sampleName);
    const problem = unexpectedLabel(scanner, "le", sampleName);
    return problem === undefined && sampleName.endsWith("_count") ? countProblem(scanner, family, sampleName) : problem;
  }
}

/**
 * A summary's own samples are its quantiles, each with a float "quantile" label (not NaN);
 * its _sum and _count have none, and its _count is a whole number from 0 (countProblem).
 */
export class SummaryQuantiles implements RuleChecks {
  static readonly ruleName = "summary-quantiles";
  readonly samplesOf: readonly MetricType[] = ["summary"];
  private readonly scanner: Scanner;

  constructor({ scanner }: RuleContext) {
    this.scanner = scanner;
  }

  sample(family: FamilyInfo, sampleName: string): string | undefined {
    const scanner = this.scanner;
    if (sampleName === family.name) return floatLabelProblem(scanner, "quantile", sampleName);
    const problem = unexpectedLabel(scanner, "quantile", sampleName);
    return problem === undefined && sampleName.endsWith("_count") ? countProblem(scanner, family, sampleName) : problem;
  }
}

/** The gateway silently overwrites a body label named like a grouping-key label: a different value is refused. */
export class GroupingLabelsKept implements RuleChecks {
  static readonly ruleName = "grouping-labels-kept";
  private readonly scanner: Scanner;
  private readonly groupingLabels: ReadonlyMap<string, string>;
  /** Each grouping label with its value escaped as in the text, to compare without unescaping. */
  private readonly escaped: ReadonlyArray<readonly [string, string]>;

  static appliesTo({ options }: RuleContext): boolean {
    return (options.groupingLabels?.size ?? 0) > 0;
  }

  constructor({ scanner, options }: RuleContext) {
    this.scanner = scanner;
    this.groupingLabels = options.groupingLabels ?? new Map();
    this.escaped = [...this.groupingLabels].map(([name, value]) => [name, escapeLabelValue(value)] as const);
  }

  sample(): string | undefined {
    const { scanner, escaped } = this;
    for (let g = 0; g < escaped.length; g++) {
      const [groupName, value] = escaped[g]!;
      const i = scanner.labelIndex(groupName);
      if (i < 0 || scanner.labelValueIs(i, value)) continue;
      const given = JSON.stringify(unescapeLabelValue(scanner.rawLabelValue(i)));
      const key = JSON.stringify(this.groupingLabels.get(groupName) ?? "");
      return `label ${groupName}=${given} would be overwritten by the grouping key's ${groupName}=${key}; drop it from the sample or change the grouping key`;
    }
    return undefined;
  }
}

/**
 * The gateway refuses a series given twice (and across groups keeps one of two values).
 * Only each series' 32-bit hash is kept, in a table over typed arrays (several times faster
 * than a Set of key strings); on a hash hit the two series are compared exactly.
 *
 * Series are compared as the gateway stores them: it sets the grouping key's labels on every
 * sample (GroupingLabelsKept refuses a different value) and adds `instance=""` where the key
 * has no instance, so `m{job="x"}` pushed to job x is `m`, and so is `m{instance=""}`.
 */
export class UniqueSeries implements RuleChecks {
  static readonly ruleName = "unique-series";
  private readonly scanner: Scanner;
  private readonly seen: SeriesTable;
  /** Series whose hash another series already had: kept by their exact text. */
  private readonly collided = new Set<string>();
  /** Labels the gateway sets on every sample, whatever a sample says: left out of the series. */
  private readonly groupingNames: readonly string[];
  private readonly groupingNameHashes: readonly number[];
  /** The key has no instance: the gateway adds `instance=""`, so a sample's `instance=""` is left out. */
  private readonly emptyInstanceAdded: boolean;
  /** How many labels of the series read again by seriesAt were left out. */
  private earlierIgnored = 0;
  private readonly ignore = (scanner: Scanner) => {
    this.markIgnored(scanner);
    this.earlierIgnored = scanner.ignoredLabels.length;
  };

  constructor({ scanner, text, options }: RuleContext) {
    this.scanner = scanner;
    // About one series per 40 bytes is typical; sizing the table for that spares regrowth.
    this.seen = new SeriesTable(text.length / 40);
    this.groupingNames = [...(options.groupingLabels?.keys() ?? [])];
    this.groupingNameHashes = this.groupingNames.map(hashName);
    this.emptyInstanceAdded = options.textfile !== true && !this.groupingNames.includes("instance");
  }

  sample(_family: FamilyInfo, sampleName: string, nameHash: number, seriesStart: number): string | undefined {
    const scanner = this.scanner;
    if (scanner.labelCount > 0) this.markIgnored(scanner);
    const earlier = this.seen.insert(scanner.seriesHash(nameHash), seriesStart);
    if (earlier < 0) {
      if (scanner.ignoredLabels.length !== 0) scanner.ignoredLabels.length = 0;
      return undefined;
    }
    const problem = this.compare(sampleName, earlier);
    scanner.ignoredLabels.length = 0;
    return problem;
  }

  private compare(sampleName: string, earlier: number): string | undefined {
    const scanner = this.scanner;
    // Same hash: compare exactly. A different series with the same hash is remembered by its
    // text, so that a later copy of it is caught too.
    const current = scanner.canonicalSeries(sampleName);
    const earlierSeries = scanner.seriesAt(earlier, this.ignore);
    if (earlierSeries === current || this.collided.has(current)) {
      const asStored = scanner.ignoredLabels.length > 0 || this.earlierIgnored > 0;
      return `series ${current} is given twice${asStored ? " (as the gateway stores it: it sets the grouping key's labels on every sample, and an empty instance where the key has none)" : ""}`;
    }
    this.collided.add(current);
    return undefined;
  }

  /** ignoredLabels is empty between samples (sample() and seriesAt() empty it). */
  private markIgnored(scanner: Scanner): void {
    scanner.ignoreLabels(this.groupingNames, this.groupingNameHashes, this.emptyInstanceAdded);
  }
}

/** Every rule, in the order their checks run where several look at the same thing. */
export const GATEWAY_RULES: readonly Rule[] = [
  ReservedMetricNames,
  OwnedMetricNames,
  FamilyClashes,
  OneTypePerFamily,
  TypeBeforeSamples,
  OneHelpPerFamily,
  NoTimestamps,
  HistogramSeries,
  SummaryQuantiles,
  GroupingLabelsKept,
  UniqueSeries,
];
