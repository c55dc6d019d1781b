import { describeRefusal, describeTransportFailure, isRetryableFailure, isRetryableStatus, parseRetryAfter, retryDelayMs, type RetryPolicy } from "../core/delivery.js";
import { GatewayError } from "../core/errors.js";
import type { CallOutcome, DeliveryLimits, Deps, Http, HttpRequest } from "./ports.js";

/** Sends one request, retrying what is worth retrying. Never throws. */
export async function sendWithRetries(
  request: HttpRequest,
  http: Http,
  policy: RetryPolicy,
  deps: Deps,
  limits: DeliveryLimits = {},
  context: { clientCertificate: boolean; proxy?: string | undefined; notFoundHint?: string | undefined } = { clientCertificate: false },
): Promise<CallOutcome> {
  const retries = limits.retries ?? policy.retries;
  for (let attempt = 1; ; attempt++) {
    const started = deps.clock.monotonic();
    const remaining = limits.deadline === undefined ? Infinity : limits.deadline - started;
    let result;
    try {
      result = await http.send(remaining < request.timeoutMs ? { ...request, timeoutMs: Math.max(1, Math.floor(remaining)) } : request);
    } catch (error) {
      // The port promises never to throw; should an adapter break that promise, the caller
      // still gets a result, never an exception in the middle of a wrapped job.
      result = { kind: "failure" as const, reason: "other" as const, message: error instanceof Error ? error.message : String(error) };
    }
    const elapsed = Math.round(deps.clock.monotonic() - started);
    const lastAttempt = attempt > retries || limits.stopRetrying?.() === true || !timeLeft(limits, deps);
    if (result.kind === "failure") {
      deps.out.verbose(`${request.method} ${request.url} -> ${result.reason === "timeout" ? "timed out" : "failed"} after ${elapsed} ms: ${result.message}`);
      const retryable = isRetryableFailure(result.reason);
      if (lastAttempt || !retryable) {
        const error = describeTransportFailure({ method: request.method, url: request.url, message: result.message, reason: result.reason, attempts: attempt, ...context });
        return { kind: "failed", url: request.url, retryable, error };
      }
      await pause(attempt, undefined, request, retries, policy, deps, limits);
      continue;
    }
    deps.out.verbose(`${request.method} ${request.url} -> ${result.status} ${result.statusText} (${elapsed} ms)`);
    if (result.status >= 200 && result.status < 300) {
      if (result.truncated) {
        return {
          kind: "failed",
          url: request.url,
          retryable: false,
          status: result.status,
          error: new GatewayError(`${request.method} ${request.url}: the answer is larger than ${request.maxBodyBytes} bytes; pushgw stopped reading it`, {
            hint: "check that --gateway points at a Pushgateway",
          }),
        };
      }
      return { kind: "delivered", url: request.url, status: result.status, body: result.body, headers: result.headers };
    }
    if (!isRetryableStatus(result.status) || lastAttempt) {
      return {
        kind: "failed",
        url: request.url,
        retryable: isRetryableStatus(result.status),
        status: result.status,
        error: describeRefusal({
          method: request.method,
          url: request.url,
          status: result.status,
          statusText: result.statusText,
          body: result.body,
          location: result.headers["location"],
          attempts: attempt,
          credentialsSent: request.headers["authorization"] !== undefined,
          notFoundHint: context.notFoundHint,
        }),
      };
    }
    await pause(attempt, parseRetryAfter(result.headers["retry-after"], deps.clock.now()), request, retries, policy, deps, limits);
  }
}

const MIN_USEFUL_ATTEMPT_MS = 50;

function timeLeft(limits: DeliveryLimits, deps: Deps): boolean {
  return limits.deadline === undefined || limits.deadline - deps.clock.monotonic() > MIN_USEFUL_ATTEMPT_MS;
}

async function pause(attempt: number, retryAfterMs: number | undefined, request: HttpRequest, retries: number, policy: RetryPolicy, deps: Deps, limits: DeliveryLimits): Promise<void> {
  let delay = retryDelayMs(attempt, policy, deps.random(), retryAfterMs);
  if (limits.deadline !== undefined) {
    delay = Math.max(0, Math.min(delay, limits.deadline - deps.clock.monotonic() - MIN_USEFUL_ATTEMPT_MS));
  }
  deps.out.verbose(`retry ${attempt} of ${retries} for ${request.method} ${request.url} in ${delay} ms`);
  await deps.clock.sleep(delay);
}
