/**
 * The targets pushgw writes to, by the name `--target` takes. Each has its module in this
 * folder and its entry in registry.ts, which the compiler holds to this list.
 */
export const TARGET_NAMES = ["pushgateway", "remote-write", "victoriametrics", "otlp", "textfile"] as const;

/** What pushgw writes to: a Pushgateway, a time-series store, an OTLP receiver, or node_exporter's textfile directory. */
export type Target = (typeof TARGET_NAMES)[number];

export const DEFAULT_TARGET: Target = "pushgateway";
