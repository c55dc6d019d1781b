/** Legacy Prometheus metric names: what every Pushgateway version accepts. */
export const METRIC_NAME_PATTERN = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;

/** Legacy Prometheus label names (the gateway checks the same rule on the URL path). */
export const LABEL_NAME_PATTERN = /^[a-zA-Z_][a-zA-Z0-9_]*$/;

/** The gateway owns these families in every group and overwrites a pushed one silently. */
export const RESERVED_METRIC_NAMES: ReadonlySet<string> = new Set([
  "push_time_seconds",
  "push_failure_time_seconds",
]);

export function isValidMetricName(name: string): boolean {
  return METRIC_NAME_PATTERN.test(name);
}

export function isValidLabelName(name: string): boolean {
  return LABEL_NAME_PATTERN.test(name);
}

/** Why a label name is refused, or undefined when it is fine. */
export function labelNameProblem(name: string): string | undefined {
  if (!isValidLabelName(name)) return `invalid label name "${name}" (allowed: [a-zA-Z_][a-zA-Z0-9_]*)`;
  if (name.startsWith("__")) return `label name "${name}" starts with "__", which Prometheus reserves`;
  return undefined;
}
