import { GatewayError, UsageError } from "./errors.js";

/**
 * Decisions about talking to a gateway that need no I/O: where it is, when to retry, how
 * long to wait, and how to explain a refusal.
 */

export interface GatewayEndpoint {
  /** Scheme, host, port and path prefix, no trailing slash, never credentials. */
  readonly baseUrl: string;
  /** Credentials that were written into the URL (`http://user:pass@host`), moved out of it. */
  readonly urlCredentials: { readonly user: string; readonly password: string } | undefined;
}

/** Accepts `host:9091`, `http://host:9091`, `https://host/pgw/`; keeps a path prefix. */
export function parseGatewayUrl(text: string): GatewayEndpoint {
  const trimmed = text.trim();
  const withScheme = /^[a-zA-Z][a-zA-Z0-9+.-]*:\/\//.test(trimmed) ? trimmed : `http://${trimmed}`;
  let url: URL;
  try {
    url = new URL(withScheme);
  } catch {
    throw new UsageError(`--gateway: "${redactUrlText(text)}" is not a URL`, {
      hint: "give the gateway's base URL, for example http://pushgateway:9091",
    });
  }
  if (url.protocol !== "http:" && url.protocol !== "https:") {
    throw new UsageError(`--gateway: unsupported scheme "${url.protocol}" (use http or https)`);
  }
  if (url.search !== "" || url.hash !== "") {
    throw new UsageError(`--gateway: the URL must not have a query or fragment`);
  }
  const urlCredentials =
    url.username !== "" || url.password !== ""
      ? { user: decodeURIComponent(url.username), password: decodeURIComponent(url.password) }
      : undefined;
  url.username = "";
  url.password = "";
  const path = url.pathname.replace(/\/+$/, "");
  return { baseUrl: `${url.origin}${path}`, urlCredentials };
}

/** Hides the password in a URL someone typed, for messages. */
export function redactUrlText(text: string): string {
  return text.replace(/(\/\/[^/@:]*):[^/@]*@/, "$1:***@");
}

export interface RetryPolicy {
  readonly retries: number;
  readonly baseDelayMs: number;
  readonly maxDelayMs: number;
  /** A Retry-After longer than this is cut to it, so a cron slot is never held for long. */
  readonly maxRetryAfterMs: number;
}

export const DEFAULT_RETRY_POLICY: RetryPolicy = {
  retries: 3,
  baseDelayMs: 500,
  maxDelayMs: 8_000,
  maxRetryAfterMs: 30_000,
};

/** Statuses worth another try: the request may succeed unchanged a moment later. */
export function isRetryableStatus(status: number): boolean {
  return status === 408 || status === 429 || (status >= 500 && status <= 599);
}

/**
 * Delay before retry number `retry` (1 for the first): exponential with "equal jitter"
 * (half fixed, half random) so that many cron jobs failing together don't retry together.
 * A Retry-After from the server wins, within `maxRetryAfterMs`.
 */
export function retryDelayMs(retry: number, policy: RetryPolicy, random: number, retryAfterMs?: number): number {
  if (retryAfterMs !== undefined) return Math.min(Math.max(retryAfterMs, 0), policy.maxRetryAfterMs);
  const ceiling = Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** (retry - 1));
  return Math.round(ceiling / 2 + (ceiling / 2) * random);
}

/** Retry-After is either delay-seconds or an HTTP date. */
export function parseRetryAfter(value: string | undefined, nowMs: number): number | undefined {
  if (value === undefined) return undefined;
  const trimmed = value.trim();
  if (/^\d+$/.test(trimmed)) return Number(trimmed) * 1000;
  const date = Date.parse(trimmed);
  return Number.isNaN(date) ? undefined : Math.max(0, date - nowMs);
}

export interface RefusalDetails {
  readonly method: string;
  readonly url: string;
  readonly status: number;
  readonly statusText: string;
  readonly body: string;
  readonly location?: string | undefined;
  readonly attempts: number;
}

/** Turns a non-2xx answer into an error with the gateway's own words and a hint. */
export function describeRefusal(details: RefusalDetails): GatewayError {
  const { method, url, status, statusText, location } = details;
  const words = details.body.trim();
  const shown = words.length > 2000 ? `${words.slice(0, 2000)}…` : words;
  const head = `${method} ${url}: ${status}${statusText ? ` ${statusText}` : ""}`;
  const tries = details.attempts > 1 ? ` (after ${details.attempts} attempts)` : "";
  if (status >= 300 && status < 400) {
    return new GatewayError(`${head}: the gateway answered with a redirect${location ? ` to ${location}` : ""}; pushgw does not follow redirects`, {
      hint:
        "following it would send this request to another URL, and so to another group; " +
        "check --gateway (scheme, host, path prefix) and that no value became an empty or '.' path segment",
    });
  }
  return new GatewayError(`${head}${tries}${shown ? `: ${shown}` : ""}`, { hint: hintForRefusal(status, words) });
}

function hintForRefusal(status: number, words: string): string | undefined {
  if (status === 400) {
    if (words.includes("must not have timestamps")) return "remove the timestamps from the samples";
    if (/is not a (COUNTER|GAUGE|SUMMARY|HISTOGRAM|UNTYPED)|has type .* but should have/.test(words)) {
      return "another group (or the gateway itself) holds a metric of this name with another type; use the same type everywhere, or delete the other group";
    }
    if (words.includes("was collected before with the same name and label values")) {
      return (
        "another group already exposes the same series (for example {job=X} beside {job=X,instance=\"\"}, " +
        "or a body label equal to another group's grouping label); find it with the gateway's /api/v1/metrics and delete one of them"
      );
    }
    return undefined;
  }
  if (status === 401) return "the gateway wants credentials: use --user NAME (password from PUSHGW_PASSWORD or --password-file) or --bearer-token-file";
  if (status === 403) return "the credentials were refused; check the user, password or token";
  if (status === 404) return "no Pushgateway answers at this path; check the path prefix in --gateway (for example http://host/pgw)";
  if (status === 405) return "this URL does not take this method; check that --gateway points at a Pushgateway";
  if (status === 413) return "something between pushgw and the gateway refuses bodies this large; push fewer series at once";
  if (status === 429 || status >= 500) return "the gateway kept failing; try again later, or raise --retries";
  return undefined;
}

export function describeTransportFailure(method: string, url: string, message: string, attempts: number, timedOut: boolean): GatewayError {
  const tries = attempts > 1 ? ` (after ${attempts} attempts)` : "";
  return new GatewayError(`${method} ${url}: ${timedOut ? "no answer in time" : "could not connect"}${tries}: ${message}`, {
    hint: timedOut
      ? "the gateway is slow or unreachable; raise --timeout or check the network"
      : "check that the gateway is running and that --gateway names the right host and port",
  });
}

// The reason phrases a Pushgateway, a proxy or a load balancer in front of one may answer
// with (node:http has the full table, but loading it costs every run a few milliseconds).
const REASON_PHRASES: Readonly<Record<number, string>> = {
  200: "OK", 201: "Created", 202: "Accepted", 204: "No Content",
  301: "Moved Permanently", 302: "Found", 303: "See Other", 307: "Temporary Redirect", 308: "Permanent Redirect",
  400: "Bad Request", 401: "Unauthorized", 403: "Forbidden", 404: "Not Found", 405: "Method Not Allowed",
  407: "Proxy Authentication Required", 408: "Request Timeout", 409: "Conflict", 411: "Length Required",
  413: "Payload Too Large", 414: "URI Too Long", 415: "Unsupported Media Type", 429: "Too Many Requests",
  431: "Request Header Fields Too Large",
  500: "Internal Server Error", 501: "Not Implemented", 502: "Bad Gateway", 503: "Service Unavailable", 504: "Gateway Timeout",
};

export function statusText(status: number): string {
  return REASON_PHRASES[status] ?? "";
}
