import type { ReceiverRules } from "../receiver-rules.js";

/** How a text is checked: what the command knows beside it. Its own module, so that the checker and its rules both import it. */
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
  /**
   * The text is a node_exporter textfile read back (pushgw's or another's), not a push: what
   * only the gateway does (adding `instance=""`, making some of its own families late) is not
   * held against it, and clashes between its families are left to the textfile's own checks,
   * which word them for node_exporter.
   */
  readonly textfile?: boolean;
  /** What the receiver takes where receivers differ; a Pushgateway before 1.11 when absent. */
  readonly receiver?: ReceiverRules;
}
