import { UsageError } from "./errors.js";
import { toBase64Url } from "./base64.js";
import { labelNameProblem } from "./names.js";

/**
 * A group's identity on the gateway: the job plus grouping labels, in the order the user
 * gave them (the gateway ignores order; a stable order keeps URLs predictable in logs).
 */
export interface GroupingKey {
  readonly job: string;
  readonly labels: ReadonlyArray<readonly [name: string, value: string]>;
}

export interface GroupingKeyInput {
  job: string | undefined;
  /** undefined: leave the label out (`--no-instance`). */
  instance: string | undefined;
  /** `--label` values as typed, `NAME=VALUE`. */
  labels: readonly string[];
}

/** Checks the grouping flags and turns them into a key. Every problem is a usage error. */
export function buildGroupingKey(input: GroupingKeyInput): GroupingKey {
  if (input.job === undefined || input.job === "") {
    throw new UsageError("no job given", {
      hint: "pass --job NAME (or set PUSHGW_JOB); the gateway needs a non-empty job name",
    });
  }
  assertWellFormed(input.job, "--job");
  const labels: Array<[string, string]> = [];
  const seen = new Map<string, string>();
  if (input.instance !== undefined) {
    assertWellFormed(input.instance, "--instance");
    labels.push(["instance", input.instance]);
    seen.set("instance", "--instance");
  }
  for (const raw of input.labels) {
    const eq = raw.indexOf("=");
    if (eq < 0) {
      throw new UsageError(`--label expects NAME=VALUE, got "${raw}" (no "=")`);
    }
    const name = raw.slice(0, eq);
    const value = raw.slice(eq + 1);
    const problem = labelNameProblem(name);
    if (problem !== undefined) throw new UsageError(`--label ${raw}: ${problem}`);
    if (name === "job") {
      throw new UsageError(`--label ${raw}: the job is set with --job, not as a label`);
    }
    const earlier = seen.get(name);
    if (earlier !== undefined) {
      throw new UsageError(`--label ${raw}: label "${name}" is already set by ${earlier}`, {
        hint:
          name === "instance"
            ? "use --instance to set the instance, or --no-instance to leave it out"
            : "give each grouping label once",
      });
    }
    assertWellFormed(value, `--label ${name}`);
    seen.set(name, `an earlier --label ${name}=…`);
    labels.push([name, value]);
  }
  return { job: input.job, labels };
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

/** The path below the gateway's base URL: `/metrics/job/<job>{/<name>/<value>}`. */
export function buildGroupingPath(key: GroupingKey): string {
  let path = `/metrics/${encodeSegment("job", key.job)}`;
  for (const [name, value] of key.labels) path += `/${encodeSegment(name, value)}`;
  return path;
}

/** One `name/value` pair of the path, switching to `name@base64/…` when the value needs it. */
export function encodeSegment(name: string, value: string): string {
  if (value === "") return `${name}@base64/=`;
  if (PATH_SAFE.test(value) && value !== "." && value !== "..") return `${name}/${value}`;
  return `${name}@base64/${toBase64Url(value)}`;
}

/** `{job="x", instance="h"}`: how a key is shown to people. */
export function formatGroupingKey(key: GroupingKey): string {
  const parts = [`job=${JSON.stringify(key.job)}`];
  for (const [name, value] of key.labels) parts.push(`${name}=${JSON.stringify(value)}`);
  return `{${parts.join(", ")}}`;
}

function assertWellFormed(value: string, where: string): void {
  // A lone surrogate cannot be encoded as UTF-8; the gateway would store a value that
  // breaks every later scrape of it.
  if (!value.isWellFormed()) {
    throw new UsageError(`${where}: the value is not valid Unicode (it holds a lone surrogate)`);
  }
}
