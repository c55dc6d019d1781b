import { UsageError } from "../../core/errors.js";
import type { Exposition } from "../../core/exposition.js";
import type { GroupingKey } from "../../core/grouping-key.js";
import type { ReceiverFeature, ReceiverRules } from "../../core/receiver-rules.js";
import type { ReceiverQuestions } from "../input-rules.js";
import type { CallOutcome, Deps, Gateway, GatewayCall, GatewayCommand, OpenGatewayOptions, TransportOptions } from "../ports.js";
import type { Target } from "./names.js";

/**
 * What a target is and can do. One module per target in this folder builds one of these, and
 * registry.ts lists them: every command asks the registry instead of comparing names, so that a
 * capability a target lacks is a type error or one clear refusal, never a wrong request.
 */
export interface TargetSpec<T extends Target = Target> {
  readonly name: T;
  /** Where its writes go: the URLs of --gateway, or the directory of --textfile-dir. */
  readonly writesTo: "--gateway" | "--textfile-dir";
  /** Opens the Gateway the commands write through (checks and reads everything first). */
  open(transport: TransportOptions, deps: Deps, options: OpenGatewayOptions): Promise<Gateway>;
  /** The body is built from every sample (remote write, OTLP), not sent as the text itself. */
  readonly collectSamples: boolean;
  /**
   * The checker's rules for input to this target at `baseUrls` (core/receiver-rules.ts), given
   * what the input `needs` beyond what every receiver takes. A receiver whose rules depend on
   * its version is recalled or asked (app/input-rules.ts, by `questions`) only when it needs
   * something, so an ordinary push costs no request.
   */
  inputRules(baseUrls: readonly string[], needs: ReadonlySet<ReceiverFeature>, deps: Deps, questions: ReceiverQuestions): Promise<ReceiverRules>;
  /** The write that puts these metrics (checked with inputRules) there at `nowMs`. */
  writeCall(method: "PUT" | "POST", key: GroupingKey, exposition: Exposition, nowMs: number): GatewayCall;
  /**
   * push's and add's write: `call` (writeCall's) sent through `gateway`, or printed with dryRun
   * (no outcomes then). A target may send another form of the same metrics instead (remote
   * write 2.0).
   */
  write(gateway: Gateway, call: GatewayCall, metrics: WrittenMetrics, deps: Deps, dryRun: boolean): Promise<CallOutcome[]>;
  /** list, delete, prune, delete --match, add --heartbeat: the groups it keeps, or why it keeps none. */
  readonly groups: KeepsGroups | Lacks;
  /** --spool and flush. */
  readonly spool: { readonly can: true } | (Lacks & { readonly spoolHint: string });
  /** doctor. */
  readonly doctor: { readonly can: true } | Lacks;
  /** What a pushgw inside a wrapped job needs in its environment to write here too; never a secret. */
  jobEnvironment(gateway: Gateway): Readonly<Record<string, string>>;
}

/** How a write of metrics is checked and made: what the relay hands on as well as every target. */
export type WriteForm = Pick<TargetSpec, "collectSamples" | "inputRules" | "writeCall" | "write">;

/** The metrics of a write (the call's own form): what a target's `write` may send in another. */
export interface WrittenMetrics {
  readonly key: GroupingKey;
  readonly exposition: Exposition;
  readonly nowMs: number;
}

export interface KeepsGroups {
  readonly can: true;
  /** Where the groups are, in a sentence: "the gateway", "the directory". */
  readonly holder: string;
  /** list's line for a target holding no group at all. */
  noGroups(where: string): string;
}

/** A capability the target lacks: the refusal (exit 2, nothing sent) for the command that asked. */
export interface Lacks {
  readonly can: false;
  refusal(command: GatewayCommand): UsageError;
}

/** The environment every target gives the job: what the target is, so the job's pushgw writes the same way. */
export function gatewayEnvironment(gateway: Gateway): Record<string, string> {
  return { PUSHGW_TARGET: gateway.target, PUSHGW_GATEWAY: gateway.baseUrls.join(" ") };
}

/** The inputRules of a receiver whose rules are always `rules`: nothing to ask. */
export function fixedRules(rules: ReceiverRules): TargetSpec["inputRules"] {
  return () => Promise.resolve(rules);
}

/** The write of most targets: the call as it is. */
export function writeAsIs(gateway: Gateway, call: GatewayCall, _metrics: WrittenMetrics, _deps: Deps, dryRun: boolean): Promise<CallOutcome[]> {
  if (!dryRun) return gateway.write(call);
  gateway.dryRun(call);
  return Promise.resolve([]);
}

/**
 * A time-series store keeps samples, not groups: delete, list, prune (and flush, doctor) refuse,
 * saying why with `hint`, and --spool with `spoolHint`.
 */
export function keepsSamplesOnly(target: Target, hint: string): Pick<TargetSpec, "groups" | "spool" | "doctor"> {
  const lacks: Lacks = {
    can: false,
    refusal: (command) =>
      new UsageError(`${command} needs a Pushgateway; --target ${target} has no groups to ${command === "list" ? "list" : command === "flush" ? "flush to" : command === "doctor" ? "examine" : "delete"}`, { hint }),
  };
  return { groups: lacks, spool: { ...lacks, spoolHint: "a time-series store takes samples late only within its out-of-order window; push again instead" }, doctor: lacks };
}
