/**
 * The closed set of failures pushgw reports. Each carries the exit status the
 * contract gives it and, where one is known, a hint saying what to do next.
 * Commands throw these; only `cli/main.ts` prints them.
 */
export abstract class ToolError extends Error {
  abstract readonly exitCode: number;
  readonly hint: string | undefined;

  constructor(message: string, options: { hint?: string; cause?: unknown } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.hint = options.hint;
  }
}

/** Bad flags, arguments or grouping labels. Nothing was sent. */
export class UsageError extends ToolError {
  override readonly name = "UsageError";
  readonly exitCode = 2;
}

/** Metrics that fail the exposition-format checks. Nothing was sent. */
export class InputError extends ToolError {
  override readonly name = "InputError";
  readonly exitCode = 2;
}

/** The gateway refused, answered with a redirect, or could not be reached after the retries. */
export class GatewayError extends ToolError {
  override readonly name = "GatewayError";
  readonly exitCode = 1;
}

/** Not delivered, but saved in the spool to be sent later (exit 75, EX_TEMPFAIL). */
export class SpooledError extends ToolError {
  override readonly name = "SpooledError";
  readonly exitCode = 75;
}

/** A bug in pushgw itself: printed in full, with a request to report it. */
export class InternalError extends ToolError {
  override readonly name = "InternalError";
  readonly exitCode = 70;
}

export function toToolError(error: unknown): ToolError {
  if (error instanceof ToolError) return error;
  const detail = error instanceof Error ? (error.stack ?? error.message) : String(error);
  return new InternalError(`unexpected failure: ${detail}`, {
    hint: "this is a bug in pushgw; please report it with the command you ran",
    cause: error,
  });
}

/** A local file or crontab could not be written; the message says what was written and what was not. */
export class WriteError extends ToolError {
  override readonly name = "WriteError";
  readonly exitCode = 1;
}
