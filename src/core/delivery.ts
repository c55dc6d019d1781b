import { GatewayError, UsageError } from "./errors.js";
import { groupingLabelMap, parseGroupingPath } from "./grouping-key.js";
import { singleLine } from "./printable.js";

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
  let urlCredentials: { user: string; password: string } | undefined;
  try {
    urlCredentials = url.username !== "" || url.password !== "" ? { user: decodeURIComponent(url.username), password: decodeURIComponent(url.password) } : undefined;
  } catch {
    throw new UsageError(`--gateway: the user name or password in "${redactUrlText(text)}" is not valid percent-encoding`, {
      hint: "in a URL a % must start %XX: write a % of the password as %25, or give the password with --user or --password-file",
    });
  }
  url.username = "";
  url.password = "";
  // `http:/u:pw@gw` (one slash short) parses as host "http" with the credentials in the path.
  if (/[^/]*:[^/]*@/.test(decodeURIComponentSafe(url.pathname))) {
    throw new UsageError(`--gateway: "${redactUrlText(redactPathCredentials(text))}" holds user:password@ in its path, not before its host`, {
      hint: "write the URL as http://user@host:port (two slashes), with the password in PUSHGW_PASSWORD or --password-file",
    });
  }
  // The whole URL of a curl one-liner pasted in: pushgw would push below it, to
  // …/metrics/job/x/metrics/job/y, a group nobody scrapes for.
  const group = /\/metrics\/job(@base64)?\/.*$/.exec(url.pathname);
  if (group) {
    const base = `${url.origin}${url.pathname.slice(0, group.index)}`;
    throw new UsageError(`--gateway: "${url.origin}${url.pathname}" names a group (${group[0]}), not a gateway`, {
      hint: `give the gateway's base URL (${base}) and the group with --job, --instance and --label`,
    });
  }
  const path = url.pathname.replace(/\/+$/, "");
  return { baseUrl: `${url.origin}${path}`, urlCredentials };
}

/** `u:secret@` anywhere in a text, as `u:***@`. */
function redactPathCredentials(text: string): string {
  return text.replace(/([^/:@\s]+):[^/@\s]*@/g, "$1:***@");
}

function decodeURIComponentSafe(text: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    return text;
  }
}

/**
 * Hides what stands between the scheme and the last `@` of a URL someone typed (a password may
 * hold `/`, `:` or `@`), keeping the user name: `http://alice:***@gw:9091`.
 */
export function redactUrlText(text: string): string {
  const schemeEnd = text.indexOf("://");
  const start = schemeEnd < 0 ? 0 : schemeEnd + 3;
  const at = text.lastIndexOf("@");
  if (at < start) return text;
  const auth = text.slice(start, at);
  const colon = auth.indexOf(":");
  return `${text.slice(0, start)}${colon < 0 ? "***" : `${auth.slice(0, colon)}:***`}${text.slice(at)}`;
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
  /** An Authorization header went with the request (so a 401 means it was refused). */
  readonly credentialsSent?: boolean;
  /** The target's hint for a 404 (what answers at the right URL); the Pushgateway's otherwise. */
  readonly notFoundHint?: string | undefined;
}

/** A 404 from a Pushgateway's URL. */
export const PUSHGATEWAY_NOT_FOUND_HINT = "no Pushgateway answers at this path; check the path prefix in --gateway (for example http://host/pgw)";

/** Turns a non-2xx answer into an error with the gateway's own words and a hint. */
export function describeRefusal(details: RefusalDetails): GatewayError {
  const { method, url, status, statusText, location } = details;
  const words = details.body.trim();
  // The gateway's words stay on pushgw's line: a line break in them could fake one of pushgw's own.
  const shown = singleLine(words.length > 2000 ? `${words.slice(0, 2000)}…` : words);
  const head = `${method} ${url}: ${status}${statusText ? ` ${statusText}` : ""}`;
  const tries = details.attempts > 1 ? ` (after ${details.attempts} attempts)` : "";
  if (status >= 300 && status < 400) {
    return new GatewayError(`${head}: the gateway answered with a redirect${location ? ` to ${location}` : ""}; pushgw does not follow redirects`, {
      hint:
        "following it would send this request to another URL, and so to another group; " +
        "check --gateway (scheme, host, path prefix) and that no value became an empty or '.' path segment",
    });
  }
  return new GatewayError(`${head}${tries}${shown ? `: ${shown}` : ""}`, { hint: (status === 404 ? details.notFoundHint : undefined) ?? hintForRefusal(status, words, url, details.credentialsSent === true) });
}

function hintForRefusal(status: number, words: string, url: string, credentialsSent: boolean): string | undefined {
  if (status === 400) {
    if (words.includes("must not have timestamps")) return "remove the timestamps from the samples";
    const utf8Name = utf8NameHint(words);
    if (utf8Name !== undefined) return utf8Name;
    const typeClash = typeClashHint(words, url);
    if (typeClash !== undefined) return typeClash;
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
  if (status === 401) {
    return credentialsSent
      ? "the gateway refused the credentials sent: check the user name and password (or the token)"
      : "the gateway wants credentials: use --user NAME (password from PUSHGW_PASSWORD or --password-file) or --bearer-token-file";
  }
  if (status === 403) return "the credentials were refused; check the user, password or token";
  if (status === 404) return PUSHGATEWAY_NOT_FOUND_HINT;
  if (status === 405) return "this URL does not take this method; check that --gateway points at a Pushgateway";
  if (status === 415) {
    return (
      "the receiver took neither remote write 2.0 nor 1.0: check that --gateway names its remote-write endpoint " +
      "(Prometheus: /api/v1/write, started with --web.enable-remote-write-receiver) and which messages it accepts " +
      "(Prometheus 3: --web.remote-write-receiver.accepted-protobuf-messages)"
    );
  }
  if (status === 413) return "something between pushgw and the gateway refuses bodies this large; push fewer series at once";
  if (status === 429 || status >= 500) return "the gateway kept failing; try again later, or raise --retries";
  return undefined;
}

/**
 * A gateway started without --push.enable-utf8-names (every one before 1.11) refuses a UTF-8
 * name in the text (`invalid metric name "my.metric"`, `invalid label name "a.b"`) and in the
 * path (`improper label name "service.name"`): say how to make it take them.
 */
function utf8NameHint(words: string): string | undefined {
  const refused = /(?:invalid metric name|invalid label name|improper label name) "((?:[^"\\]|\\.)+)"/.exec(words);
  if (refused === null || /^[a-zA-Z_:][a-zA-Z0-9_:]*$/.test(refused[1]!)) return undefined;
  return `${refused[1]} is a UTF-8 name, which this gateway refuses: start the gateway with --push.enable-utf8-names (Pushgateway 1.11 or newer), or use names of [a-zA-Z0-9_:] only`;
}

/**
 * The gateway keeps one type per metric name across all groups. Its refusal names two types:
 * the family's ("is not a COUNTER") and the type of one metric it met ("… gauge:<…> }"),
 * in whichever order it gathered the groups. The metric whose labels hold this request's
 * grouping key is ours, so the other type is the one to push with.
 * The metric is in protobuf's text format, which changed with the gateway's Go protobuf library:
 * 1.5.1 writes `label:<name:"job" value:"x" > gauge:<value:2 >`, 1.11 writes
 * `label:{name:"job"  value:"x"}  gauge:{value:2}` (with one or two blanks at random, on purpose).
 */
function typeClashHint(words: string, url: string): string | undefined {
  const clash = /collected metric "([^"]+)" \{(.*)\} is not a (COUNTER|GAUGE|SUMMARY|HISTOGRAM|UNTYPED)\b/s.exec(words);
  if (!clash) return undefined;
  const name = clash[1]!;
  const LABEL = /label:\s*[<{]\s*name:\s*"(\w+)"\s+value:\s*"((?:[^"\\]|\\.)*)"\s*[>}]/g;
  const labels = new Map([...clash[2]!.matchAll(LABEL)].map((m) => [m[1]!, unquoteProtoText(m[2]!)]));
  const collectedType = /\b(counter|gauge|summary|histogram|untyped):\s*[<{]/.exec(clash[2]!.replace(LABEL, ""))?.[1];
  if (collectedType === undefined) return undefined;
  const key = groupingLabelsOfUrl(url);
  const collectedIsOurs = key !== undefined && [...key].every(([n, v]) => (labels.get(n) ?? "") === v) && (key.has("instance") || (labels.get("instance") ?? "") === "");
  const existing = (collectedIsOurs ? clash[3]! : collectedType).toLowerCase();
  const fix =
    existing === "untyped"
      ? `push it untyped: METRIC arguments without --type (or with --type untyped), a file without a TYPE line for ${name}`
      : existing === "gauge" || existing === "counter"
        ? `push it as a ${existing}: --type ${existing} for METRIC arguments, "# TYPE ${name} ${existing}" in a file`
        : `push it as a ${existing}, from a file with "# TYPE ${name} ${existing}"`;
  const holds = existing === "untyped" ? `${name} untyped (as curl pushes it without a TYPE line)` : `${name} as a ${existing}`;
  return `another group holds ${holds}, and the gateway keeps one type per metric name; ${fix}; or delete the other group`;
}

/** The grouping labels (job included) of a push URL, as the gateway reads its path. */
function groupingLabelsOfUrl(url: string): Map<string, string> | undefined {
  const at = url.lastIndexOf("/metrics/job");
  const parsed = at < 0 ? undefined : parseGroupingPath(url.slice(at));
  return parsed !== undefined && "key" in parsed ? groupingLabelMap(parsed.key) : undefined;
}

/** A protobuf text-format string body: octal byte escapes (\316\240) and C escapes. */
function unquoteProtoText(text: string): string {
  const bytes: number[] = [];
  const simple: Record<string, number> = { n: 10, r: 13, t: 9, '"': 34, "'": 39, "\\": 92 };
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (c !== "\\") {
      bytes.push(...new TextEncoder().encode(c));
      continue;
    }
    const octal = /^[0-7]{3}/.exec(text.slice(i + 1));
    if (octal) {
      bytes.push(parseInt(octal[0], 8));
      i += 3;
    } else {
      bytes.push(simple[text[i + 1] ?? ""] ?? 92);
      i += 1;
    }
  }
  return new TextDecoder().decode(Uint8Array.from(bytes));
}

/** Why an exchange got no answer; decides whether another attempt can help and what to say. */
export type TransportFailureReason =
  /** No answer within the request's timeout. */
  | "timeout"
  /** Nothing listens there (ECONNREFUSED), or the host is unreachable. */
  | "refused"
  /** The name does not exist (NXDOMAIN): asking again gives the same answer. */
  | "unresolved"
  /** The resolver could not answer for now (EAI_AGAIN). */
  | "dns-temporary"
  /** The other side does not speak TLS (https:// to an http port). */
  | "tls-protocol"
  /** The gateway's certificate is not trusted, or does not name the host. */
  | "tls-certificate"
  /** The connection was closed or reset before a whole answer came. */
  | "closed"
  /** A proxy variable that is not a usable URL, or a proxy that refused the tunnel. */
  | "proxy"
  /** Something answered, but not in HTTP (another service on the port), or in broken HTTP. */
  | "not-http"
  | "other";

/** Whether another attempt can help after a failure of this kind. */
export function isRetryableFailure(reason: TransportFailureReason): boolean {
  switch (reason) {
    case "timeout":
    case "refused":
    case "dns-temporary":
    case "closed":
    case "not-http":
    case "other":
      return true;
    // The same question gets the same answer: retrying only delays the message.
    case "unresolved":
    case "tls-protocol":
    case "tls-certificate":
    case "proxy":
      return false;
  }
}

/** What was known about the exchange when it failed, to word the hint. */
export interface FailureContext {
  readonly method: string;
  readonly url: string;
  readonly message: string;
  readonly reason: TransportFailureReason;
  readonly attempts: number;
  /** --cert was given. */
  readonly clientCertificate: boolean;
  /** The proxy the request went through, if any (credentials hidden). */
  readonly proxy?: string | undefined;
}

export function describeTransportFailure(failure: FailureContext): GatewayError {
  const { method, url, message, reason, attempts } = failure;
  const tries = attempts > 1 ? ` (after ${attempts} attempts)` : "";
  const host = hostOf(url);
  const what: Record<TransportFailureReason, [summary: string, hint: string]> = {
    timeout: ["no answer in time", "the gateway is slow or unreachable; raise --timeout or check the network"],
    refused: ["could not connect", `nothing answers at ${host}: check that the gateway is running and that --gateway names the right host and port`],
    unresolved: ["unknown host", `the name ${hostnameOf(url)} does not resolve; check the host in --gateway (a typo, or a name only another network knows)`],
    "dns-temporary": ["could not resolve the host", "the DNS resolver did not answer; check the machine's resolver (/etc/resolv.conf) and network"],
    "tls-protocol": [
      "TLS failed",
      url.startsWith("https:") ? `the gateway does not speak TLS on this port; use http://${url.slice("https://".length).split("/")[0]}` : "the TLS handshake failed; check the scheme and port in --gateway",
    ],
    "tls-certificate": ["the gateway's certificate was not accepted", "give the CA that signed it with --cacert (or, only for a test, --insecure); check that the certificate names this host"],
    closed: [
      "the connection was closed",
      url.startsWith("https:") && !failure.clientCertificate
        ? "the gateway closed the connection during or after the TLS handshake: it may want a client certificate (--cert and --key), or be restarting"
        : "the gateway (or something in between) closed the connection; check that it is running and healthy",
    ],
    proxy: ["the proxy failed", "check HTTPS_PROXY / HTTP_PROXY (a URL such as http://proxy:3128) and NO_PROXY"],
    "not-http": [
      "the answer was not HTTP",
      `something other than a Pushgateway answers at ${host}${failure.proxy === undefined ? "" : " or at the proxy"} (another service on that port?); check the host and port in --gateway`,
    ],
    other: ["could not connect", "check that the gateway is running and that --gateway names the right host and port"],
  };
  const [summary, hint] = what[reason];
  const via = failure.proxy === undefined ? "" : ` (through the proxy ${failure.proxy})`;
  return new GatewayError(`${method} ${url}${via}: ${summary}${tries}: ${message}`, { hint });
}

function hostOf(url: string): string {
  try {
    return new URL(url).host;
  } catch {
    return url;
  }
}

function hostnameOf(url: string): string {
  try {
    return new URL(url).hostname;
  } catch {
    return url;
  }
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
