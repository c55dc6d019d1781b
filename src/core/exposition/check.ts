import { InputError } from "../errors.js";
import { PUSHGATEWAY_STRICT_RULES, type ReceiverFeature } from "../receiver-rules.js";
import { hashName, NameIndex } from "./hash-tables.js";
import { GATEWAY_RULES, type FamilyInfo, type Rule, type RuleChecks } from "./rules.js";
import { Scanner, type ScanHandler } from "./scanner.js";
import type { ParseExpositionOptions } from "./options.js";
import type { ExpositionSource } from "./source.js";
import { METRIC_TYPES, parseSampleValue, repairLineEnds, unescapeLabelValue, type MetricType } from "./text-format.js";

/** One sample line: its metric name, labels (unescaped, as written) and value. */
export interface Sample {
  readonly name: string;
  readonly labels: ReadonlyArray<readonly [string, string]>;
  readonly value: number;
}

export interface CheckedExposition {
  /** The text to send: CRLF repaired, a leading BOM dropped, always ending in a newline. */
  readonly text: string;
  readonly sampleCount: number;
  /** Every sample, when asked for with `collectSamples` (remote write needs them). */
  readonly samples: readonly Sample[];
  /** Every family, in the order first seen. */
  readonly families: readonly FamilyInfo[];
}

/**
 * Checks `input` against the text format and the gateway's rules (all of them unless told
 * otherwise); throws an InputError listing the first problems found.
 */
export function checkExposition(input: string, source: ExpositionSource, options: ParseExpositionOptions = {}, rules: readonly Rule[] = GATEWAY_RULES): CheckedExposition {
  const result = checkExpositionForReceiver(input, source, options, rules);
  if ("refused" in result) throw result.refused;
  return result.checked;
}

/** What checkExposition found: the checked text, or the refusal and the receiver features the input needs. */
export type ReceiverCheck =
  | { readonly checked: CheckedExposition }
  | {
      readonly refused: InputError;
      /** Features the receiver's rules refused that another receiver takes (empty: refused everywhere). */
      readonly needs: ReadonlySet<ReceiverFeature>;
    };

/** As checkExposition, returning a refusal with the features the input needs rather than throwing it. */
export function checkExpositionForReceiver(input: string, source: ExpositionSource, options: ParseExpositionOptions = {}, rules: readonly Rule[] = GATEWAY_RULES): ReceiverCheck {
  const checker = new Checker(repairLineEnds(input, source), source, options, rules);
  const { scanner } = checker;
  scanner.run();
  if (scanner.problems.length > 0) {
    const more = scanner.problemCount - scanner.problems.length;
    const lines = more > 0 ? [...scanner.problems, `… and ${more} more problem(s)`] : scanner.problems;
    return { refused: new InputError(lines.join("\n"), { hint: "fix the input; nothing was sent" }), needs: scanner.needs };
  }
  return { checked: { text: scanner.repairedText(), sampleCount: checker.sampleCount, samples: checker.samples, families: checker.families.list } };
}

/** Keeps the families, counts and samples, and runs the rules' checks on what the scanner reports. */
class Checker implements ScanHandler {
  readonly scanner: Scanner;
  readonly families = new NameIndex<FamilyInfo>();
  readonly samples: Sample[] = [];
  sampleCount = 0;
  private readonly collectSamples: boolean;
  private previousFamily: FamilyInfo | undefined;
  private previousFamilyFor = "";
  /** The rules with a sample check for previousFamily's type. */
  private previousSampleChecks: readonly RuleChecks[] = [];
  private previousType = "";
  // The rules that have each kind of check, in the order of the rules.
  private readonly commentNameChecks: readonly RuleChecks[];
  private readonly typeLineChecks: readonly RuleChecks[];
  private readonly helpLineChecks: readonly RuleChecks[];
  private readonly timestampChecks: readonly RuleChecks[];
  private readonly firstSampleChecks: readonly RuleChecks[];
  /** By family type. */
  private readonly sampleChecks = new Map<string, readonly RuleChecks[]>();

  constructor(text: string, source: ExpositionSource, options: ParseExpositionOptions, rules: readonly Rule[]) {
    const receiver = options.receiver ?? PUSHGATEWAY_STRICT_RULES;
    this.scanner = new Scanner(text, source, this, receiver);
    const context = {
      text,
      scanner: this.scanner,
      options,
      receiver,
      fromArguments: source.describeLine !== undefined,
      familyNamed: (name: string) => this.families.get(name, hashName(name)),
    };
    const all = rules.filter((Rule) => Rule.appliesTo?.(context) ?? true).map((Rule) => new Rule(context));
    this.commentNameChecks = all.filter((rule) => rule.commentName !== undefined);
    this.typeLineChecks = all.filter((rule) => rule.typeLine !== undefined);
    this.helpLineChecks = all.filter((rule) => rule.helpLine !== undefined);
    this.timestampChecks = all.filter((rule) => rule.timestamp !== undefined);
    this.firstSampleChecks = all.filter((rule) => rule.firstSample !== undefined);
    for (const type of METRIC_TYPES) {
      this.sampleChecks.set(type, all.filter((rule) => rule.sample !== undefined && (rule.samplesOf?.includes(type as MetricType) ?? true)));
    }
    this.collectSamples = options.collectSamples === true;
  }

  commentName(name: string): string | undefined {
    for (const rule of this.commentNameChecks) {
      const problem = rule.commentName!(name);
      if (problem !== undefined) return problem;
    }
    return undefined;
  }

  typeLine(name: string, nameHash: number, type: MetricType): string | undefined {
    // As in the gateway's parser, `h_count` after `# TYPE h histogram` names the family h.
    const family = this.existingFamily(name, nameHash);
    for (const rule of this.typeLineChecks) {
      const problem = rule.typeLine!(name, type, family);
      if (problem !== undefined) return problem;
    }
    if (family) {
      family.type = type;
      family.typeDeclared = true;
      this.previousFamily = undefined; // its sample checks may change with its type
    } else {
      this.families.add({ name, type, typeDeclared: true, help: undefined, sampleCount: 0 }, nameHash);
    }
    return undefined;
  }

  helpLine(name: string, nameHash: number, help: string): string | undefined {
    const family = this.existingFamily(name, nameHash);
    for (const rule of this.helpLineChecks) {
      const problem = rule.helpLine!(name, family);
      if (problem !== undefined) return problem;
    }
    if (family) family.help = help;
    else this.families.add({ name, type: "untyped", typeDeclared: false, help, sampleCount: 0 }, nameHash);
    return undefined;
  }

  timestamp(sampleName: string, timestamp: string): string | undefined {
    for (const rule of this.timestampChecks) {
      const problem = rule.timestamp!(sampleName, timestamp);
      if (problem !== undefined) return problem;
    }
    return undefined;
  }

  sample(sampleName: string, nameHash: number, seriesStart: number): string | undefined {
    // Kept small, so that the compiler inlines it into the scanner's loop; what happens once
    // per family (or per run of samples of one family) is in enterFamily.
    if (this.previousFamilyFor !== sampleName || this.previousFamily === undefined) {
      const problem = this.enterFamily(sampleName, nameHash);
      if (problem !== undefined) return problem;
    }
    const family = this.previousFamily!;
    const checks = this.previousSampleChecks;
    for (let i = 0; i < checks.length; i++) {
      const problem = checks[i]!.sample!(family, sampleName, nameHash, seriesStart);
      if (problem !== undefined) return problem;
    }
    family.sampleCount++;
    this.sampleCount++;
    if (this.collectSamples) this.collect(sampleName);
    return undefined;
  }

  /** Finds the family of a sample whose name is not the previous sample's, and checks it if it is new. */
  private enterFamily(sampleName: string, nameHash: number): string | undefined {
    const family = this.familyOf(sampleName, nameHash);
    // A family's first sample (a failing line leaves the count at 0, so its next is checked too).
    if (family.sampleCount === 0) {
      const checks = this.firstSampleChecks;
      for (let i = 0; i < checks.length; i++) {
        const problem = checks[i]!.firstSample!(family);
        if (problem !== undefined) return problem;
      }
    }
    this.previousFamily = family;
    this.previousFamilyFor = sampleName;
    if (family.type !== this.previousType) {
      this.previousType = family.type;
      this.previousSampleChecks = this.sampleChecks.get(family.type)!;
    }
    return undefined;
  }

  private collect(sampleName: string): void {
    const scanner = this.scanner;
    const labels = Array.from({ length: scanner.labelCount }, (_, i) => [scanner.labelName(i), unescapeLabelValue(scanner.rawLabelValue(i))] as const);
    this.samples.push({ name: sampleName, labels, value: parseSampleValue(scanner.valueText()) });
  }

  /** Which family a sample belongs to, following the `_bucket`/`_sum`/`_count` rules. */
  private familyOf(sampleName: string, nameHash: number): FamilyInfo {
    const existing = this.existingFamily(sampleName, nameHash);
    if (existing !== undefined) return existing;
    const created: FamilyInfo = { name: sampleName, type: "untyped", typeDeclared: false, help: undefined, sampleCount: 0 };
    this.families.add(created, nameHash);
    return created;
  }

  /** The family a name refers to, if there is one yet (the name itself, or a histogram's or summary's series). */
  private existingFamily(name: string, nameHash: number): FamilyInfo | undefined {
    const families = this.families;
    const exact = families.get(name, nameHash);
    if (exact !== undefined) return exact;
    // endsWith rather than slicing off the suffix: most names have none, and a slice is a string.
    const bucket = name.endsWith("_bucket");
    const suffixLength = bucket ? 7 : name.endsWith("_sum") ? 4 : name.endsWith("_count") ? 6 : 0;
    if (suffixLength === 0 || name.length === suffixLength) return undefined;
    const baseName = name.slice(0, name.length - suffixLength);
    const base = families.get(baseName, hashName(baseName));
    if (base !== undefined && (base.type === "histogram" || (base.type === "summary" && !bucket))) return base;
    return undefined;
  }
}
