import type { UsageError } from "../../core/errors.js";
import type { ParseExpositionOptions } from "../../core/exposition.js";
import type { GatewayCommand } from "../ports.js";
import { DEFAULT_TARGET, type Target } from "./names.js";
import { otlp } from "./otlp.js";
import { pushgateway } from "./pushgateway.js";
import { remoteWrite } from "./remote-write.js";
import type { KeepsGroups, TargetSpec, WriteForm } from "./target.js";
import { textfile } from "./textfile.js";
import { victoriaMetrics } from "./victoriametrics.js";

/**
 * Every target, by the name --target takes (names.ts). Adding a target is its module in this
 * folder, its entry here and its name there; the compiler asks for every capability.
 */
export const TARGETS: { readonly [T in Target]: TargetSpec<T> } = {
  pushgateway,
  "remote-write": remoteWrite,
  victoriametrics: victoriaMetrics,
  otlp,
  textfile,
};

/** The target --target names (a Pushgateway when it names none). */
export function targetSpec(target: Target | undefined): TargetSpec {
  return TARGETS[target ?? DEFAULT_TARGET];
}

/**
 * The parse options a write's input to `target` is checked with, given the command's own; the
 * receiver's rules (inputRules) are added where they are asked for, else the strict ones hold.
 */
export function writeInputOptions(target: Pick<WriteForm, "collectSamples">, options: ParseExpositionOptions = {}): ParseExpositionOptions {
  return { ...options, collectSamples: target.collectSamples };
}

const NEEDS_GROUPS: ReadonlySet<GatewayCommand> = new Set(["delete", "list", "prune", "delete --match"]);

/** The refusal of `command` by a target that lacks what it needs, or undefined when it can. */
export function refusalOf(target: TargetSpec, command: GatewayCommand): UsageError | undefined {
  const need = NEEDS_GROUPS.has(command) ? target.groups : command === "flush" ? target.spool : command === "doctor" ? target.doctor : undefined;
  return need === undefined || need.can ? undefined : need.refusal(command);
}

/** The groups `target` keeps, for `command`; the target's refusal when it keeps none. */
export function keptGroups(target: Target | undefined, command: GatewayCommand): KeepsGroups {
  const groups = targetSpec(target).groups;
  if (!groups.can) throw groups.refusal(command);
  return groups;
}

/** The targets that can do what `has` asks, by name: for messages ("--spool works with --target pushgateway only"). */
export function targetsThat(has: (target: TargetSpec) => boolean): Target[] {
  return Object.values(TARGETS)
    .filter(has)
    .map((t) => t.name);
}
