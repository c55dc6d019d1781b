import { createHash } from "node:crypto";
import { InputError } from "./errors.js";
import { decodeUtf8, escapeLabelValue, parseExposition, type Exposition, type MetricType } from "./exposition.js";
import { formatGroupingKey, groupingLabelPairs, type GroupingKey } from "./grouping-key.js";
import { decodeGroup, type Group } from "./groups.js";
import { labelNameProblem, RESERVED_METRIC_NAMES } from "./names.js";

/**
 * `--target textfile`: node_exporter's textfile collector reads every `*.prom` file of one
 * directory at each scrape. pushgw keeps one file per grouping key there, written as the
 * Pushgateway would keep the group: the grouping labels on every series, the families of a POST
 * replacing theirs and keeping the rest, and `push_time_seconds` saying when it was written.
 *
 * node_exporter (1.5, checked against Debian's) never fails a scrape over a conflict between
 * files: it drops the series that conflict, silently but for a log line, and
 * `node_textfile_scrape_error` stays 0. The series dropped are those of whichever file it read
 * later (by name), so a job could lose its metrics to another job's file without a trace. What
 * it drops: a series another file already exposes (after filling absent labels with "" inside
 * one family of one file, and Prometheus then dropping empty labels, so compared here without
 * empty values); a family whose TYPE or HELP differs from another file's (no HELP in both is
 * the same: node_exporter gives both "Metric read from …"); a family named like another file's
 * histogram or summary series (`x_sum` beside a summary `x`). pushgw refuses a write that would
 * make any of these, naming the other file.
 */

/** The HELP of the push time each file carries; the same in every file, as node_exporter needs. */
export const PUSH_TIME_HELP = "Last Unix time when pushgw wrote this group's file.";
const PUSH_TIME = "push_time_seconds";
/** How many characters of the grouping key the file name shows (the hash keeps it unique). */
const READABLE_LENGTH = 100;
const NAME_PATTERN = /^pushgw-.*-[0-9a-f]{16}\.prom$/;

/**
 * The file of a group: `pushgw-job=backup,instance=db1-<hash>.prom`. The readable part shows
 * the key with unsafe characters as `_` (and is cut when long); the hash of the exact key, its
 * labels sorted (the gateway ignores their order too), tells keys apart that read the same.
 */
export function textfileName(key: GroupingKey): string {
  const pairs = sortedPairs(key);
  const readable = pairs
    .map(([name, value]) => `${name}=${value}`)
    .join(",")
    .replace(/[^A-Za-z0-9._=,-]/g, "_")
    .slice(0, READABLE_LENGTH);
  const hash = createHash("sha256").update(JSON.stringify(pairs)).digest("hex").slice(0, 16);
  return `pushgw-${readable}-${hash}.prom`;
}

/** A name pushgw gives its files (what list and prune look at; everything else is left alone). */
export function isTextfileName(name: string): boolean {
  return NAME_PATTERN.test(name);
}

function sortedPairs(key: GroupingKey): Array<readonly [string, string]> {
  return [["job", key.job] as const, ...[...key.labels].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))];
}

// --- families -------------------------------------------------------------------------------

export interface TextfileSeries {
  /** The sample's own name (`x_bucket` for a histogram `x`). */
  readonly name: string;
  /** Its labels without the grouping labels, which every series of the file gets. */
  readonly labels: ReadonlyArray<readonly [string, string]>;
  readonly value: number;
}

export interface TextfileFamily {
  readonly name: string;
  readonly type: MetricType;
  readonly typeDeclared: boolean;
  /** As written in the text (escaped), or undefined for none. */
  readonly help: string | undefined;
  readonly series: readonly TextfileSeries[];
}

/**
 * The families of a checked exposition (parsed with `collectSamples`), each with its series,
 * in the order they came. A family with HELP or TYPE but no sample is no family: the
 * Pushgateway's parser drops it too.
 */
export function familiesOf(exposition: Exposition, key: GroupingKey): TextfileFamily[] {
  const grouping = new Set(["job", ...key.labels.map(([name]) => name)]);
  const series = new Map<string, TextfileSeries[]>();
  for (const sample of exposition.samples) {
    const family = familyNameOf(sample.name, exposition);
    let list = series.get(family);
    if (list === undefined) series.set(family, (list = []));
    list.push({ name: sample.name, labels: sample.labels.filter(([name]) => !grouping.has(name)), value: sample.value });
  }
  const families: TextfileFamily[] = [];
  for (const info of exposition.families.values()) {
    const list = series.get(info.name);
    if (list !== undefined && list.length > 0) families.push({ name: info.name, type: info.type, typeDeclared: info.typeDeclared, help: info.help, series: list });
  }
  return families;
}

/** The family a sample belongs to, by the text format's rules (`x_count` of a summary `x`). */
function familyNameOf(sampleName: string, exposition: Exposition): string {
  if (exposition.families.has(sampleName)) return sampleName;
  const at = sampleName.lastIndexOf("_");
  if (at > 0) {
    const suffix = sampleName.slice(at);
    const base = exposition.families.get(sampleName.slice(0, at));
    if (base !== undefined && (base.type === "histogram" || (base.type === "summary" && (suffix === "_sum" || suffix === "_count")))) return base.name;
  }
  return sampleName;
}

/**
 * The group's families after a write: PUT keeps only what it sends; POST replaces the families
 * it sends, in place, and keeps the others (the job's last success survives a failed run).
 */
export function mergeFamilies(current: readonly TextfileFamily[], incoming: readonly TextfileFamily[], method: "PUT" | "POST"): TextfileFamily[] {
  if (method === "PUT") return [...incoming];
  const byName = new Map(incoming.map((f) => [f.name, f]));
  const merged = current.map((f) => byName.get(f.name) ?? f);
  const kept = new Set(current.map((f) => f.name));
  return [...merged, ...incoming.filter((f) => !kept.has(f.name))];
}

/** The file's text: a comment naming the group, its push time, then every family. */
export function renderTextfile(key: GroupingKey, families: readonly TextfileFamily[], nowMs: number): string {
  const grouping = groupingLabelPairs(key).map(([name, value]) => `${name}="${escapeLabelValue(value)}"`);
  const lines = [
    `# Written by pushgw for the group ${formatGroupingKey(key).replace(/\n/g, "\\n")}. Each write replaces this file whole: change it with pushgw, not by hand.`,
    `# HELP ${PUSH_TIME} ${PUSH_TIME_HELP}`,
    `# TYPE ${PUSH_TIME} gauge`,
    `${PUSH_TIME}{${grouping.join(",")}} ${formatValue(nowMs / 1000)}`,
  ];
  for (const family of families) {
    if (family.help !== undefined) lines.push(`# HELP ${family.name} ${family.help}`);
    if (family.typeDeclared) lines.push(`# TYPE ${family.name} ${family.type}`);
    for (const series of family.series) {
      const labels = [...grouping, ...series.labels.map(([name, value]) => `${name}="${escapeLabelValue(value)}"`)];
      lines.push(`${series.name}{${labels.join(",")}} ${formatValue(series.value)}`);
    }
  }
  return `${lines.join("\n")}\n`;
}

/** A sample value as the text format writes it (Go's spellings of the special values). */
export function formatValue(value: number): string {
  if (Number.isNaN(value)) return "NaN";
  if (value === Infinity) return "+Inf";
  if (value === -Infinity) return "-Inf";
  return String(value);
}

// --- reading files back ------------------------------------------------------------------------

/** A `*.prom` file as node_exporter will see it: its families and every series. */
export interface PromFile {
  readonly exposition: Exposition;
}

// The reserved names are refused in what users push, but they are in pushgw's own files (and
// may be in files others write): read under a stand-in name, then named back.
const STAND_IN = "__pushgw_reserved_";
const RESERVED_LINE = new RegExp(`^([ \\t]*(?:#[ \\t]*(?:HELP|TYPE)[ \\t]+)?)(${[...RESERVED_METRIC_NAMES].join("|")})(?=[ \\t{]|$)`, "gm");

/** Reads any `*.prom` file; a file that does not parse comes back as why. */
export function readPromFile(bytes: Uint8Array | string, name: string): PromFile | { readonly problem: string } {
  try {
    const text = typeof bytes === "string" ? bytes : decodeUtf8(bytes, { name });
    const exposition = parseExposition(text.replace(RESERVED_LINE, `$1${STAND_IN}$2`), { name }, { collectSamples: true, textfile: true });
    return { exposition: withReservedNames(exposition) };
  } catch (error) {
    return { problem: error instanceof Error ? (error.message.split("\n")[0] ?? error.message) : String(error) };
  }
}

function withReservedNames(exposition: Exposition): Exposition {
  const rename = (name: string) => (name.startsWith(STAND_IN) && RESERVED_METRIC_NAMES.has(name.slice(STAND_IN.length)) ? name.slice(STAND_IN.length) : name);
  const families = new Map([...exposition.families].map(([name, info]) => [rename(name), { ...info, name: rename(info.name) }]));
  return { ...exposition, families, samples: exposition.samples.map((s) => ({ ...s, name: rename(s.name) })) };
}

/** A file pushgw wrote: its group, when, and its families. */
export interface PushgwFile {
  readonly key: GroupingKey;
  readonly pushTimeSeconds: number;
  readonly families: TextfileFamily[];
  readonly file: PromFile;
}

/**
 * One of pushgw's files read back, when it is exactly that: a file of that name holding one
 * push time whose labels are the key the name was made from, and the grouping labels on every
 * series. Anything else is not a group pushgw may merge into, list or prune.
 */
export function readPushgwFile(bytes: Uint8Array | string, name: string): PushgwFile | { readonly problem: string } {
  const file = readPromFile(bytes, name);
  if ("problem" in file) return file;
  const { exposition } = file;
  const stamps = exposition.samples.filter((s) => s.name === PUSH_TIME);
  if (stamps.length !== 1) return { problem: `it holds ${stamps.length === 0 ? "no" : stamps.length} ${PUSH_TIME} series, where pushgw writes one` };
  const stamp = stamps[0]!;
  const job = stamp.labels.find(([n]) => n === "job")?.[1];
  if (job === undefined || job === "") return { problem: `its ${PUSH_TIME} has no job label` };
  const key: GroupingKey = { job, labels: stamp.labels.filter(([n]) => n !== "job") };
  if (key.labels.some(([n]) => labelNameProblem(n) !== undefined)) return { problem: `its ${PUSH_TIME} has labels no grouping key has` };
  if (textfileName(key) !== name) return { problem: `its ${PUSH_TIME} names the group ${formatGroupingKey(key)}, whose file is ${textfileName(key)}` };
  const grouping = groupingLabelPairs(key);
  const lacking = exposition.samples.find((s) => grouping.some(([n, v]) => !s.labels.some(([ln, lv]) => ln === n && lv === v)));
  if (lacking !== undefined) return { problem: `its series ${lacking.name} lacks the grouping labels ${formatGroupingKey(key)}` };
  const families = familiesOf({ ...exposition, samples: exposition.samples.filter((s) => s.name !== PUSH_TIME) }, key);
  return { key, pushTimeSeconds: stamp.value, families, file };
}

/** The group a file holds, as `list` and `prune` show and judge it. */
export function textfileGroup(file: PushgwFile): Group {
  const labels: Record<string, string> = Object.fromEntries(groupingLabelPairs(file.key));
  const raw: Record<string, unknown> = {
    labels,
    [PUSH_TIME]: { metrics: [{ labels, value: formatValue(file.pushTimeSeconds) }] },
    last_push_successful: true,
  };
  for (const family of file.families) {
    // As the gateway's JSON API shows a family: its type in capitals, its HELP unescaped.
    const help = family.help?.replace(/\\(.)/g, (_, c: string) => (c === "n" ? "\n" : c));
    raw[family.name] = { type: family.type.toUpperCase(), ...(help === undefined ? {} : { help }), metrics: family.series.map((s) => ({ value: formatValue(s.value) })) };
  }
  const group = decodeGroup(raw);
  if (typeof group === "string") throw new Error(`a textfile group did not decode: ${group}`);
  return group;
}

// --- what node_exporter would drop ----------------------------------------------------------------

/** A family's TYPE and HELP as node_exporter compares them across files. */
interface FamilyFacts {
  readonly type: MetricType;
  readonly help: string | undefined;
}

/**
 * Why node_exporter would drop some of `ours` because of `other` (another `*.prom` file in the
 * directory, named `otherName`), or undefined when the two live side by side.
 */
export function findConflict(ours: PromFile, other: PromFile, otherName: string): string | undefined {
  const theirs = other.exposition.families;
  for (const family of ours.exposition.families.values()) {
    if (family.sampleCount === 0) continue;
    const twin = theirs.get(family.name);
    if (twin !== undefined && twin.sampleCount > 0) {
      const problem = factsDiffer(family.name, family, twin, otherName);
      if (problem !== undefined) return problem;
    }
    const collision = suffixCollision(family.name, family, theirs) ?? reverseSuffixCollision(family.name, theirs);
    if (collision !== undefined) return `${collision} in ${otherName}: node_exporter would drop one of the two families`;
  }
  const exposed = new Set(other.exposition.samples.map(seriesIdentity));
  const clash = ours.exposition.samples.find((s) => exposed.has(seriesIdentity(s)));
  if (clash !== undefined) {
    return `the series ${seriesIdentity(clash)} is already in ${otherName}: node_exporter would drop it from one of the two files`;
  }
  return undefined;
}

/**
 * Why the group's own file would not expose the families meant for it (`intended`), or
 * undefined: a family named like a histogram's or summary's series (`x_sum`, from another POST)
 * is read as part of it when it comes after it, and dropped by node_exporter when before.
 */
export function findSelfConflict(file: PromFile, intended: readonly TextfileFamily[]): string | undefined {
  const families = file.exposition.families;
  for (const family of intended) {
    const read = families.get(family.name);
    if (read !== undefined && read.sampleCount === family.series.length) continue;
    const base = intended.find((f) => f !== family && (family.name.startsWith(`${f.name}_`) || f.name.startsWith(`${family.name}_`)) && (f.type === "histogram" || f.type === "summary" || family.type === "histogram" || family.type === "summary"));
    if (base === undefined) return `the family ${family.name} would not read back as written`;
    const [whole, part] = base.type === "histogram" || base.type === "summary" ? [base, family] : [family, base];
    return `the family ${part.name} would mix with the ${whole.type} ${whole.name} in the same group (a series of ${whole.name} has that name)`;
  }
  for (const family of families.values()) {
    if (family.sampleCount === 0) continue;
    const collision = suffixCollision(family.name, family, families);
    if (collision !== undefined) return `${collision} in the same group: node_exporter would drop one of the two families`;
  }
  return undefined;
}

/**
 * A quick look at another file: false when it cannot conflict with `ours`, for it names none of our families
 * (nor the histogram or summary one of ours is named like a series of): such a file need not be
 * parsed at all, which keeps a write into a directory of hundreds of files fast.
 */
export function conflictFilter(ours: PromFile): (otherName: string, otherText: string) => boolean {
  // Every file of pushgw's has a push time, the same family with its own key's labels.
  const [any, ofPushgw] = [conflictPattern(ours, false), conflictPattern(ours, true)];
  return (otherName, otherText) => (isTextfileName(otherName) ? ofPushgw : any)?.test(otherText) ?? false;
}

/** The names as a sample line starts with one, or as a HELP or TYPE line names one. */
function conflictPattern(ours: PromFile, skipPushTime: boolean): RegExp | undefined {
  const words = conflictWords(ours, skipPushTime);
  return words.length === 0 ? undefined : new RegExp(`^[ \\t]*(?:#[ \\t]*(?:HELP|TYPE)[ \\t]+)?(?:${words.join("|")})(?=[ \\t{]|$)`, "m");
}

function conflictWords(ours: PromFile, skipPushTime: boolean): string[] {
  const words = new Set<string>();
  for (const family of ours.exposition.families.values()) {
    if (family.sampleCount === 0 || (family.name === PUSH_TIME && skipPushTime)) continue;
    words.add(family.name);
    for (const suffix of SUFFIXES[family.type] ?? []) words.add(family.name + suffix);
    const at = family.name.lastIndexOf("_");
    if (at > 0 && ["_bucket", "_sum", "_count"].includes(family.name.slice(at))) words.add(family.name.slice(0, at));
  }
  // Series of ours named otherwise than their family (a histogram's, a summary's).
  for (const sample of ours.exposition.samples) if (!(sample.name === PUSH_TIME && skipPushTime)) words.add(sample.name);
  return [...words];
}

function factsDiffer(name: string, ours: FamilyFacts, theirs: FamilyFacts, otherName: string): string | undefined {
  if (ours.type !== theirs.type) return `metric ${name} is ${article(ours.type)} here but ${article(theirs.type)} in ${otherName}: node_exporter would drop one of the two`;
  if (ours.help !== theirs.help) {
    const show = (help: string | undefined) => (help === undefined ? "none" : JSON.stringify(help));
    return `metric ${name} has the HELP ${show(ours.help)} here but ${show(theirs.help)} in ${otherName}: node_exporter would drop one of the two`;
  }
  return undefined;
}

function article(type: MetricType): string {
  return `${type === "untyped" ? "an" : "a"} ${type}`;
}

const SUFFIXES: Readonly<Record<string, readonly string[]>> = { histogram: ["_bucket", "_sum", "_count"], summary: ["_sum", "_count"] };

/** Our histogram or summary `x` against a family `x_sum` (…) among `families`. */
function suffixCollision(name: string, family: FamilyFacts, families: Exposition["families"]): string | undefined {
  for (const suffix of SUFFIXES[family.type] ?? []) {
    const clash = families.get(name + suffix);
    if (clash !== undefined && clash.sampleCount > 0) return `the ${family.type} ${name} meets a family named ${name + suffix}`;
  }
  return undefined;
}

/** Our family `x_sum` (…) against a histogram or summary `x` among `families`. */
function reverseSuffixCollision(name: string, families: Exposition["families"]): string | undefined {
  const at = name.lastIndexOf("_");
  if (at <= 0) return undefined;
  const base = families.get(name.slice(0, at));
  if (base === undefined || base.sampleCount === 0 || !(SUFFIXES[base.type] ?? []).includes(name.slice(at))) return undefined;
  return `the family ${name} meets the ${base.type} ${base.name}`;
}

/** A series as Prometheus stores it: an empty label is no label. */
function seriesIdentity(sample: { readonly name: string; readonly labels: ReadonlyArray<readonly [string, string]> }): string {
  const labels = sample.labels.filter(([, v]) => v !== "").sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return `${sample.name}{${labels.map(([n, v]) => `${n}="${escapeLabelValue(v)}"`).join(",")}}`;
}

/** A write refused because of the directory's other files: nothing was written. */
export function conflictError(problem: string, file: string): InputError {
  return new InputError(`${file}: not written: ${problem}`, {
    hint: "rename the metric, give it the same TYPE and HELP as there, or change the grouping key (each group's series carry its grouping labels)",
  });
}
