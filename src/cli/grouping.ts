import { UsageError } from "../core/errors.js";
import { decodeWrapGrouping, isWellFormedValue, WRAP_GROUPING_ENV, type GroupingKey } from "../core/grouping-key.js";
import { groupingLabelNameProblem } from "../core/names.js";
import type { Flags } from "./flags.js";

/** The grouping flags as given, before they are checked. */
export interface GroupingFlags {
  readonly job: string | undefined;
  /** undefined: leave the label out (`--no-instance`). */
  readonly instance: string | undefined;
  /** `--label` values as typed, `NAME=VALUE`. */
  readonly labels: readonly string[];
}

/**
 * The grouping key of a push, add, delete or wrap: --job (or PUSHGW_JOB), --instance (this
 * host's name unless --no-instance), --label. Inside a wrapped job, a command given none of
 * them lands in the wrapper's group.
 */
export function toGroupingKey(flags: Flags, env: Readonly<Record<string, string | undefined>>, hostname: string): GroupingKey {
  if (!flags.given("job") && !flags.given("instance") && !flags.given("label")) {
    const fromWrap = decodeWrapGrouping(env[WRAP_GROUPING_ENV]);
    if (fromWrap) return fromWrap;
  }
  const instance = flags.get("instance");
  return buildGroupingKey({ job: flags.get("job"), instance: instance === false ? undefined : (instance ?? hostname), labels: flags.get("label") });
}

/** Checks the grouping flags and turns them into a key. Every problem is a usage error. */
export function buildGroupingKey(input: GroupingFlags): GroupingKey {
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
      throw new UsageError(`--label expects NAME=VALUE, got "${raw}" (no "=")`, { hint: "for example --label env=prod; --label env= gives the label an empty value" });
    }
    const name = raw.slice(0, eq);
    const value = raw.slice(eq + 1);
    const problem = groupingLabelNameProblem(name);
    if (problem !== undefined) throw new UsageError(`--label ${raw}: ${problem}`, { hint: "a label name is letters, digits and _, and starts with neither a digit nor __ (or, for a gateway started with --push.enable-utf8-names, any text without quotes)" });
    if (name === "job") {
      throw new UsageError(`--label ${raw}: the job is set with --job, not as a label`, { hint: `use --job ${value === "" ? "NAME" : value}` });
    }
    const earlier = seen.get(name);
    if (earlier !== undefined) {
      throw new UsageError(`--label ${raw}: label "${name}" is already set by ${earlier}`, {
        hint: name === "instance" ? "use --instance to set the instance, or --no-instance to leave it out" : "give each grouping label once",
      });
    }
    assertWellFormed(value, `--label ${name}`);
    seen.set(name, `an earlier --label ${name}=…`);
    labels.push([name, value]);
  }
  return { job: input.job, labels };
}

function assertWellFormed(value: string, where: string): void {
  if (!isWellFormedValue(value)) {
    throw new UsageError(`${where}: the value is not valid Unicode (it holds a lone surrogate)`, { hint: "check how the value was made: it cannot be written as UTF-8" });
  }
}
