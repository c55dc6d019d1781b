import {
  describeRefusal,
  describeTransportFailure,
  isRetryableStatus,
  parseRetryAfter,
  retryDelayMs,
  type GatewayEndpoint,
  type RetryPolicy,
} from "../core/delivery.js";
import { GatewayError, UsageError } from "../core/errors.js";
import { toBase64 } from "../core/base64.js";
import type { Deps, HttpMethod, HttpRequest, TlsOptions } from "./ports.js";

/** A secret given on the command line or in the environment, or a file that holds it. */
export type SecretSource = { readonly value: string } | { readonly file: string };

export type Credentials =
  | { readonly kind: "basic"; readonly user: string; readonly password: SecretSource }
  | { readonly kind: "bearer"; readonly token: SecretSource };

/** How to reach the gateways; shared by every command that talks to one. */
export interface TransportOptions {
  readonly gateways: readonly GatewayEndpoint[];
  readonly timeoutMs: number;
  readonly retry: RetryPolicy;
  /** `-H` headers, sent as given. */
  readonly headers: Readonly<Record<string, string>>;
  /** --user / --bearer-token-file and their environment variables. */
  readonly credentials?: Credentials | undefined;
  /** Authorization, once the credentials are read: sent, never printed. */
  readonly secretHeaders: Readonly<Record<string, string>>;
  readonly tls?: TlsOptions | undefined;
  /** --gzip: send bodies with Content-Encoding: gzip (Pushgateway 1.5.0+). */
  readonly gzip?: boolean | undefined;
  /** --spool DIR: where undeliverable pushes wait (see spool.ts). */
  readonly spoolDir?: string | undefined;
  /** What --gateway points at (--target); a Pushgateway unless said otherwise. */
  readonly target?: Target | undefined;
}

export type Target = "pushgateway" | "remote-write" | "victoriametrics";

/** delete, list, prune and flush need a Pushgateway: time-series stores keep no groups. */
export function requirePushgateway(transport: TransportOptions, command: string): void {
  const target = transport.target ?? "pushgateway";
  if (target === "pushgateway") return;
  throw new UsageError(`${command} needs a Pushgateway; --target ${target} has no groups to ${command === "list" ? "list" : "delete"}`, {
    hint:
      target === "remote-write"
        ? "a remote-write receiver stores samples, not groups: series go stale by themselves once nothing pushes them"
        : "VictoriaMetrics keeps samples, not groups (a DELETE there is silently ignored); its admin API /api/v1/admin/tsdb/delete_series deletes series",
  });
}

/**
 * Reads the credentials (files included) into the Authorization header, once per command,
 * and warns when they would cross the network in clear text.
 */
export async function withSecrets(transport: TransportOptions, deps: Deps): Promise<TransportOptions> {
  const credentials = transport.credentials;
  const urlCredentials = transport.gateways.some((g) => g.urlCredentials !== undefined);
  const headerAuth = Object.keys(transport.headers).some((h) => h.toLowerCase() === "authorization");
  if (credentials !== undefined || urlCredentials || headerAuth) {
    for (const gateway of transport.gateways) {
      const url = new URL(gateway.baseUrl);
      if (url.protocol === "http:" && !isLoopback(url.hostname)) {
        deps.out.warn(`credentials go to ${gateway.baseUrl} over plain http, readable by anyone on the way; use https`);
      }
    }
  }
  if (transport.tls?.insecure) deps.out.warn("--insecure: the gateway's TLS certificate is not checked");
  // Checked now, so that a wrong path fails before anything runs (wrap starts its job first).
  const tlsFiles: Array<[string, string | undefined]> = [["--cacert", transport.tls?.caFile], ["--cert", transport.tls?.certFile], ["--key", transport.tls?.keyFile]];
  for (const [flag, file] of tlsFiles) if (file !== undefined) await readNamedFile(file, flag, deps);
  if (credentials === undefined) return transport;
  const secretHeaders = { ...transport.secretHeaders };
  if (credentials.kind === "basic") {
    const password = await readSecret(credentials.password, "--password-file", deps);
    secretHeaders["authorization"] = `Basic ${toBase64(`${credentials.user}:${password}`)}`;
  } else {
    secretHeaders["authorization"] = `Bearer ${await readSecret(credentials.token, "--bearer-token-file", deps)}`;
  }
  return { ...transport, secretHeaders };
}

async function readSecret(source: SecretSource, flag: string, deps: Deps): Promise<string> {
  if ("value" in source) return source.value;
  // Files written with `echo` end in a newline that is not part of the secret.
  return (await readNamedFile(source.file, flag, deps)).replace(/\r?\n$/, "");
}

/** A file a flag names, as text; unreadable or empty is a usage error naming the flag. */
async function readNamedFile(file: string, flag: string, deps: Deps): Promise<string> {
  let bytes: Uint8Array;
  try {
    bytes = await deps.input.readFile(file);
  } catch (error) {
    const code = (error as { code?: string }).code;
    throw new UsageError(`${flag} ${file}: cannot read it${code ? ` (${code})` : ""}`);
  }
  const text = new TextDecoder().decode(bytes);
  if (text.trim() === "") throw new UsageError(`${flag} ${file}: the file is empty`);
  return text;
}

function isLoopback(hostname: string): boolean {
  return hostname === "localhost" || hostname === "[::1]" || hostname === "::1" || /^127\./.test(hostname);
}

export const EXPOSITION_CONTENT_TYPE = "text/plain; version=0.0.4";

export interface GatewayCall {
  readonly method: HttpMethod;
  /** Below the gateway's base URL: `/metrics/job/…`, or empty for a remote-write endpoint. */
  readonly path: string;
  /** The text format, or for remote write the compressed protobuf. */
  readonly body?: string | Uint8Array;
  /** Headers this kind of body needs (remote write's content type and encoding). */
  readonly headers?: Readonly<Record<string, string>>;
}

export type DeliveryResult =
  | { readonly ok: true; readonly url: string; readonly status: number; readonly body: string }
  | { readonly ok: false; readonly url: string; readonly error: GatewayError; readonly retryable: boolean };

/** What became of one call to one gateway: delivered, failed, or (--spool) saved for later. */
export type GatewayOutcome = DeliveryResult | { readonly ok: "spooled"; readonly url: string; readonly where: string; readonly reason: GatewayError | undefined };

export function buildRequest(call: GatewayCall, gateway: GatewayEndpoint, transport: TransportOptions, deps: Deps): HttpRequest {
  const headers: Record<string, string> = {
    "user-agent": `pushgw/${deps.version}`,
    ...lowerCaseKeys(transport.headers),
    ...lowerCaseKeys(transport.secretHeaders),
  };
  if (gateway.urlCredentials !== undefined && headers["authorization"] === undefined) {
    const { user, password } = gateway.urlCredentials;
    headers["authorization"] = `Basic ${toBase64(`${user}:${password}`)}`;
  }
  if (call.body !== undefined) headers["content-type"] = EXPOSITION_CONTENT_TYPE;
  Object.assign(headers, call.headers ?? {});
  const gzip = typeof call.body === "string" && transport.gzip === true;
  if (gzip) headers["content-encoding"] = "gzip";
  return { method: call.method, url: gateway.baseUrl + call.path, headers, body: call.body, gzip, timeoutMs: transport.timeoutMs };
}

/** What --dry-run prints: the request as it would go out, secrets hidden. */
export function renderRequest(request: HttpRequest, secretHeaderNames: Iterable<string>): string {
  const secret = new Set(["authorization", ...[...secretHeaderNames].map((h) => h.toLowerCase())]);
  const lines = [`${request.method} ${request.url}`];
  for (const [name, value] of Object.entries(request.headers)) {
    lines.push(`${name}: ${secret.has(name) ? "<hidden>" : value}`);
  }
  let text = lines.join("\n");
  if (typeof request.body === "string" && request.body !== "") text += `\n\n${request.body.replace(/\n$/, "")}`;
  else if (request.body instanceof Uint8Array) text += `\n\n(${request.body.length} bytes: snappy-compressed protobuf)`;
  return text;
}

/** Bounds on one delivery beyond the retry policy. */
export interface DeliveryLimits {
  /** Monotonic time after which no attempt starts and no wait goes past. */
  readonly deadline?: number;
  /** Checked before each retry: true stops retrying (wrap's start push, once the job ended). */
  readonly stopRetrying?: () => boolean;
}

/** Sends one call to one gateway, retrying what is worth retrying. Never throws. */
export async function sendWithRetries(
  request: HttpRequest,
  transport: TransportOptions,
  deps: Deps,
  limits: DeliveryLimits = {},
): Promise<DeliveryResult> {
  const http = await deps.http(transport.tls);
  const policy = transport.retry;
  for (let attempt = 1; ; attempt++) {
    const started = deps.clock.monotonic();
    const remaining = limits.deadline === undefined ? Infinity : limits.deadline - started;
    const result = await http.send(remaining < request.timeoutMs ? { ...request, timeoutMs: Math.max(1, Math.floor(remaining)) } : request);
    const elapsed = Math.round(deps.clock.monotonic() - started);
    const lastAttempt = attempt > policy.retries || limits.stopRetrying?.() === true || !timeLeft(limits, deps);
    if (result.kind === "failure") {
      deps.out.verbose(`${request.method} ${request.url} -> ${result.timedOut ? "timed out" : "failed"} after ${elapsed} ms: ${result.message}`);
      if (lastAttempt) {
        return { ok: false, url: request.url, retryable: true, error: describeTransportFailure(request.method, request.url, result.message, attempt, result.timedOut) };
      }
      await pause(attempt, undefined, request, transport, deps, limits);
      continue;
    }
    deps.out.verbose(`${request.method} ${request.url} -> ${result.status} ${result.statusText} (${elapsed} ms)`);
    if (result.status >= 200 && result.status < 300) {
      return { ok: true, url: request.url, status: result.status, body: result.body };
    }
    if (!isRetryableStatus(result.status) || lastAttempt) {
      return {
        ok: false,
        url: request.url,
        retryable: isRetryableStatus(result.status),
        error: describeRefusal({
          method: request.method,
          url: request.url,
          status: result.status,
          statusText: result.statusText,
          body: result.body,
          location: result.headers["location"],
          attempts: attempt,
        }),
      };
    }
    await pause(attempt, parseRetryAfter(result.headers["retry-after"], deps.clock.now()), request, transport, deps, limits);
  }
}

const MIN_USEFUL_ATTEMPT_MS = 50;

function timeLeft(limits: DeliveryLimits, deps: Deps): boolean {
  return limits.deadline === undefined || limits.deadline - deps.clock.monotonic() > MIN_USEFUL_ATTEMPT_MS;
}

async function pause(
  attempt: number,
  retryAfterMs: number | undefined,
  request: HttpRequest,
  transport: TransportOptions,
  deps: Deps,
  limits: DeliveryLimits,
): Promise<void> {
  let delay = retryDelayMs(attempt, transport.retry, deps.random(), retryAfterMs);
  if (limits.deadline !== undefined) {
    delay = Math.max(0, Math.min(delay, limits.deadline - deps.clock.monotonic() - MIN_USEFUL_ATTEMPT_MS));
  }
  deps.out.verbose(`retry ${attempt} of ${transport.retry.retries} for ${request.method} ${request.url} in ${delay} ms`);
  await deps.clock.sleep(delay);
}

function lowerCaseKeys(headers: Readonly<Record<string, string>>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(headers)) out[name.toLowerCase()] = value;
  return out;
}
