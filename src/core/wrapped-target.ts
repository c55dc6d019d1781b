/**
 * A wrapper names its own target in the job's environment (PUSHGW_TARGET), to go with its own
 * gateway (PUSHGW_GATEWAY), so that a pushgw inside the job writes the way the wrapper does.
 * A pushgw in the job that names its own --gateway pushes somewhere else: it takes the target
 * the environment named before the wrapper changed it, as it did when run outside the job.
 */

/** The target the wrapper set (so that a later change by the job itself is seen as the job's). */
export const WRAP_TARGET_ENV = "PUSHGW_WRAP_TARGET";
/** What PUSHGW_TARGET held before the wrapper set it; empty when it was not set. */
export const TARGET_BEFORE_WRAP_ENV = "PUSHGW_TARGET_BEFORE_WRAP";

/**
 * The variables a wrapper adds to the job's environment; none when its target is the one the
 * environment named already (`defaultTarget` when it named none).
 */
export function wrapTargetEnvironment(wrapperTarget: string, targetBefore: string | undefined, defaultTarget: string): Record<string, string> {
  if ((targetBefore || defaultTarget) === wrapperTarget) return {};
  return { [WRAP_TARGET_ENV]: wrapperTarget, [TARGET_BEFORE_WRAP_ENV]: targetBefore ?? "" };
}

/**
 * For a pushgw given its own --gateway: what PUSHGW_TARGET held before a wrapper set it ("" for
 * unset), or undefined when no wrapper changed it (or the job has set it again since).
 */
export function targetBeforeWrap(env: Readonly<Record<string, string | undefined>>): string | undefined {
  const wrapper = env[WRAP_TARGET_ENV];
  const before = env[TARGET_BEFORE_WRAP_ENV];
  if (wrapper === undefined || before === undefined || env["PUSHGW_TARGET"] !== wrapper) return undefined;
  return before;
}
