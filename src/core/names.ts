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

/**
 * A UTF-8 name (Pushgateway 1.11 with --push.enable-utf8-names, remote write): any text beyond the
 * legacy characters, well-formed, with no line break (the text format has no escape for one in
 * a quoted name) and no quote or backslash (pushgw writes names quoted without escapes).
 */
export function isUtf8Name(name: string): boolean {
  return name !== "" && name.isWellFormed() && !/["\\\r\n]/.test(name);
}

/**
 * Why a grouping label name is refused, or undefined when it is fine: a legacy name, or a
 * UTF-8 name (`service.name`) for the receivers that take one (app/input-rules.ts asks).
 */
export function groupingLabelNameProblem(name: string): string | undefined {
  if (isValidLabelName(name)) return labelNameProblem(name);
  if (!isUtf8Name(name)) return `invalid label name ${JSON.stringify(name)} (a UTF-8 name may hold no quote, backslash or line break)`;
  if (name.startsWith("__")) return `label name "${name}" starts with "__", which Prometheus reserves`;
  return undefined;
}

/** Why a label name is refused, or undefined when it is fine. */
export function labelNameProblem(name: string): string | undefined {
  if (!isValidLabelName(name)) return `invalid label name "${name}" (allowed: [a-zA-Z_][a-zA-Z0-9_]*)`;
  if (name.startsWith("__")) return `label name "${name}" starts with "__", which Prometheus reserves`;
  return undefined;
}
