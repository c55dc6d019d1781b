import { UsageError } from "./errors.js";
import { fromBase64Url, toBase64Url } from "./base64.js";
import { groupingLabelNameProblem, isValidLabelName, labelNameProblem } from "./names.js";

/**
 * A group's identity on the gateway: the job plus grouping labels, in the order the user
 * gave them (the gateway ignores order; a stable order keeps URLs predictable in logs).
 */
export interface GroupingKey {
  readonly job: string;
  readonly labels: ReadonlyArray<readonly [name: string, value: string]>;
}

/** The key as labels, `job` first, then the grouping labels in the order given. */
export function groupingLabelPairs(key: GroupingKey): Array<readonly [name: string, value: string]> {
  return [["job", key.job], ...key.labels];
}

/** The key as a map from label name to value: what a sample's labels are checked against. */
export function groupingLabelMap(key: GroupingKey): Map<string, string> {
  return new Map(groupingLabelPairs(key));
}

/**
 * push, add and wrap refuse empty grouping values: to Prometheus an empty label is no label,
 * so {job="x", team=""} and {job="x"} expose the same series, and the gateway, which keeps
 * them apart, breaks for every client once both exist. (delete accepts them, so that such
 * groups made by other clients can be removed.)
 */
export function refuseEmptyGroupingValues(key: GroupingKey): void {
  for (const [name, value] of key.labels) {
    if (value !== "") continue;
    const flag = name === "instance" ? "--instance ''" : `--label ${name}=`;
    throw new UsageError(`${flag}: an empty grouping value is refused: to Prometheus an empty label is no label, so this group would clash with ${formatGroupingKey({ job: key.job, labels: key.labels.filter(([, v]) => v !== "") })}`, {
      hint: name === "instance" ? "leave the instance out with --no-instance" : `leave out --label ${name}=, or give it a value`,
    });
  }
}

// The characters RFC 3986 leaves unreserved. Anything else goes base64: percent-encoding
// would be decoded by the gateway's Go router before it splits the path (so `%2F` becomes a
// separator), `+` would be stored literally by some decoders and as a space by others, and
// `.`/`..` segments are collapsed by URL cleaning (a 301 to another group).
const PATH_SAFE = /^[A-Za-z0-9._~-]+$/;

/**
 * The path below the gateway's base URL: `/metrics/job/<job>{/<name>/<value>}`. A UTF-8 label
 * name (`service.name`) goes escaped (`U__service_2e_name`), as a gateway started with
 * --push.enable-utf8-names reads it; a legacy name goes exactly as it is.
 */
export function buildGroupingPath(key: GroupingKey): string {
  let path = `/metrics/${encodeSegment("job", key.job)}`;
  for (const [name, value] of key.labels) path += `/${encodeSegment(isValidLabelName(name) ? name : escapeLabelName(name), value)}`;
  return path;
}

/** The UTF-8 label names of a key (only a gateway started with --push.enable-utf8-names takes them). */
export function utf8GroupingNames(key: GroupingKey): string[] {
  return key.labels.map(([name]) => name).filter((name) => !isValidLabelName(name));
}

/**
 * The grouping key a path names, read the way the gateway reads it, or why it names none.
 * Used on paths pushgw did not just build (the spool's files): a caller that needs the path
 * to be exactly what pushgw would send compares `buildGroupingPath` of the key with it.
 */
export function parseGroupingPath(path: string): { readonly key: GroupingKey } | { readonly problem: string } {
  if (!path.startsWith("/metrics/")) return { problem: "it does not start with /metrics/" };
  const parts = path.slice("/metrics/".length).split("/");
  if (parts.length % 2 !== 0) return { problem: "a label name has no value after it" };
  let job: string | undefined;
  const labels: Array<[string, string]> = [];
  const seen = new Set<string>();
  for (let i = 0; i < parts.length; i += 2) {
    const field = parts[i]!;
    const encoded = parts[i + 1]!;
    const base64 = field.endsWith("@base64");
    const name = base64 ? field.slice(0, -"@base64".length) : field;
    if (i === 0 && name !== "job") return { problem: "it does not start with the job" };
    if (i > 0) {
      const problem = name === "job" ? 'the label name "job" appears twice' : labelNameProblem(name);
      if (problem !== undefined) return { problem };
    }
    if (seen.has(name)) return { problem: `the label name "${name}" appears twice` };
    seen.add(name);
    const value = base64 ? decodeBase64Value(encoded) : encoded;
    if (value === undefined) return { problem: `the value of "${name}" is not base64url of UTF-8 text` };
    if (!base64 && (!PATH_SAFE.test(value) || value === "." || value === "..")) return { problem: `the value of "${name}" holds characters pushgw always sends base64-encoded` };
    if (i === 0) job = value;
    else labels.push([name, value]);
  }
  if (job === undefined || job === "") return { problem: "the job is empty" };
  return { key: { job, labels } };
}

function decodeBase64Value(encoded: string): string | undefined {
  if (encoded === "=") return "";
  const bytes = fromBase64Url(encoded);
  if (bytes === undefined) return undefined;
  try {
    return new TextDecoder("utf-8", { fatal: true, ignoreBOM: true }).decode(bytes);
  } catch {
    return undefined;
  }
}

/** One `name/value` pair of the path, switching to `name@base64/…` when the value needs it. */
export function encodeSegment(name: string, value: string): string {
  if (value === "") return `${name}@base64/=`;
  if (PATH_SAFE.test(value) && value !== "." && value !== "..") return `${name}/${value}`;
  return `${name}@base64/${toBase64Url(value)}`;
}

/** `{job="x", instance="h", "service.name"="a"}`: how a key is shown to people (UTF-8 names quoted, as the text format writes them). */
export function formatGroupingKey(key: GroupingKey): string {
  const parts = [`job=${JSON.stringify(key.job)}`];
  for (const [name, value] of key.labels) parts.push(`${shownLabelName(name)}=${JSON.stringify(value)}`);
  return `{${parts.join(", ")}}`;
}

/** A label name as the text format writes it: quoted when it is no legacy name. */
export function shownLabelName(name: string): string {
  return isValidLabelName(name) ? name : JSON.stringify(name);
}

/**
 * What a grouping value may hold besides anything the URL encoding carries: no lone surrogate,
 * which cannot be encoded as UTF-8 (the gateway would store a value that breaks every later
 * scrape of it).
 */
export function isWellFormedValue(value: string): boolean {
  return value.isWellFormed();
}

/**
 * A wrapped job sees its wrapper's grouping key in this variable, so that a `pushgw` command
 * inside the job with no grouping flags pushes to the same group. Written by wrap and read by
 * every command through the two functions below, and nowhere else.
 */
export const WRAP_GROUPING_ENV = "PUSHGW_WRAP_GROUPING";

export function encodeWrapGrouping(key: GroupingKey): string {
  return JSON.stringify({ job: key.job, labels: key.labels });
}

/** The key a wrapper wrote; undefined for anything else, which is then ignored. */
export function decodeWrapGrouping(text: string | undefined): GroupingKey | undefined {
  if (text === undefined || text === "") return undefined;
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return undefined;
  }
  const { job, labels } = (value ?? {}) as { job?: unknown; labels?: unknown };
  if (typeof job !== "string" || job === "" || !isWellFormedValue(job) || !Array.isArray(labels)) return undefined;
  const pairs: Array<readonly [string, string]> = [];
  for (const pair of labels as unknown[]) {
    if (!Array.isArray(pair) || pair.length !== 2) return undefined;
    const [name, labelValue] = pair as unknown[];
    if (typeof name !== "string" || typeof labelValue !== "string") return undefined;
    if (groupingLabelNameProblem(name) !== undefined || name === "job" || pairs.some(([seen]) => seen === name) || !isWellFormedValue(labelValue)) return undefined;
    pairs.push([name, labelValue]);
  }
  return { job, labels: pairs };
}

// --- addressing a group that exists -------------------------------------------------------

/**
 * How a gateway reads the label names in a path. `legacy`: as they are (every gateway before
 * 1.11, and 1.11 without --push.enable-utf8-names). `utf8`: a name that starts with `U__` is
 * unescaped first (prometheus/common model.UnescapeName, ValueEncodingEscaping), so a name that
 * is not a legacy one, or that begins with `U__` itself, must be sent escaped.
 */
export type LabelNaming = "legacy" | "utf8";

/**
 * True when `pushgw delete --label NAME=…` (or add) names this label of an existing group: a
 * legacy name that reads the same on every gateway, or a UTF-8 name, which pushgw sends escaped
 * (buildGroupingPath) as a gateway that holds such names reads it. Not a legacy name beginning
 * with `U__`, which pushgw sends as it is and a gateway with UTF-8 names would unescape.
 */
export function pushgwCanName(name: string): boolean {
  return isPlainLabelName(name) || (!isValidLabelName(name) && groupingLabelNameProblem(name) === undefined);
}

/** True when a label name goes into a path as it is, whatever the gateway's naming. */
export function isPlainLabelName(name: string): boolean {
  return isValidLabelName(name) && !name.startsWith("U__");
}

/**
 * The path that names exactly the group with these labels (`job` among them) on a gateway that
 * reads names as `naming` says (undefined: not known, so only names that read the same either
 * way), or why no path does. Never a guess: each name is checked to read back as itself, the way
 * the gateway reads it.
 */
export function existingGroupPath(labels: Readonly<Record<string, string>>, naming: LabelNaming | undefined): { readonly path: string } | { readonly problem: string } {
  if (naming === undefined) {
    const odd = Object.keys(labels).find((name) => !isPlainLabelName(name));
    if (odd !== undefined) return { problem: `the gateway did not say how it reads the label name ${JSON.stringify(odd)} (its /api/v1/status did not answer)` };
  }
  const { job, ...rest } = labels;
  if (job === undefined || job === "") return { problem: "it has no job" };
  let path = `/metrics/${encodeSegment("job", job)}`;
  for (const [name, value] of Object.entries(rest)) {
    let sent = name;
    if (naming === "legacy" ? !isValidLabelName(name) : !isPlainLabelName(name)) {
      if (naming === "legacy") return { problem: `the label name ${JSON.stringify(name)} is not one this gateway reads in a path (it takes only [a-zA-Z_][a-zA-Z0-9_]*)` };
      sent = escapeLabelName(name);
      if (unescapeLabelName(sent) !== name) return { problem: `the label name ${JSON.stringify(name)} cannot be written so that the gateway reads it back as itself` };
    }
    if (!isWellFormedValue(value)) return { problem: `the value of ${JSON.stringify(name)} is not well-formed text` };
    path += `/${encodeSegment(sent, value)}`;
  }
  return { path };
}

/** `U__` + each character: `_` as `__`, [A-Za-z0-9:] as itself (no digit first), others as `_<hex code point>_` (model.EscapeName). */
export function escapeLabelName(name: string): string {
  let escaped = "U__";
  let index = 0;
  for (const char of name) {
    const code = char.codePointAt(0)!;
    if (char === "_") escaped += "__";
    else if (/^[A-Za-z:]$/.test(char) || (/^[0-9]$/.test(char) && index > 0)) escaped += char;
    else if (code >= 0xd800 && code <= 0xdfff) escaped += "_FFFD_";
    else escaped += `_${code.toString(16)}_`;
    index += char.length;
  }
  return escaped;
}

/** What the gateway makes of a name in a path under `utf8` naming (model.UnescapeName); the name itself when it does not decode. */
export function unescapeLabelName(name: string): string {
  if (!name.startsWith("U__")) return name;
  const escaped = name.slice(3);
  let out = "";
  for (let i = 0; i < escaped.length; i++) {
    if (escaped[i] !== "_") {
      out += escaped[i];
      continue;
    }
    i++;
    if (i >= escaped.length) return name;
    if (escaped[i] === "_") {
      out += "_";
      continue;
    }
    let value = 0;
    let digits = 0;
    for (; i < escaped.length && escaped[i] !== "_"; i++, digits++) {
      const hex = escaped[i]!.toLowerCase();
      if (digits >= 6 || !/^[0-9a-f]$/.test(hex)) return name;
      value = value * 16 + parseInt(hex, 16);
    }
    if (i >= escaped.length || value > 0x10ffff || (value >= 0xd800 && value <= 0xdfff)) return name;
    out += String.fromCodePoint(value);
  }
  return out;
}
