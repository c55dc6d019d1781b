import { toBase64 } from "../core/base64.js";
import {
  describeRefusal,
  describeTransportFailure,
  isRetryableFailure,
  isRetryableStatus,
  parseRetryAfter,
  retryDelayMs,
  type GatewayEndpoint,
  type RetryPolicy,
} from "../core/delivery.js";
import { GatewayError, InputError, SpooledError, UsageError } from "../core/errors.js";
import { formatGroupingKey, type GroupingKey } from "../core/grouping-key.js";
import { decodeGroups, deleteCommandFor, emptyValueTwins, formatGroupLabels, groupHasKey, type Group } from "../core/groups.js";
import { headerValueProblem, isSecretHeaderName } from "../core/secrets.js";
import type { Deps, Http, HttpMethod, HttpRequest, TlsMaterial } from "./ports.js";

/**
 * The one way pushgw talks to its gateways. Built once per run, before anything is sent (and
 * before wrap starts its job): secrets and TLS files are read and checked here, so that a
 * mistake in them is a usage error (exit 2) and never a surprise halfway. Every method that
 * sends returns what became of the call as a value and never throws: a gateway that is down,
 * a proxy variable that names nothing, a spool on a full disk are results, not exceptions.
 */

/** What pushgw writes to: a Pushgateway, a time-series store, or node_exporter's textfile directory. */
export type Target = "pushgateway" | "remote-write" | "victoriametrics" | "textfile";

/** A secret given on the command line or in the environment, or a file that holds it. */
export type SecretSource = { readonly value: string } | { readonly file: string };

export type Credentials =
  | { readonly kind: "basic"; readonly user: string; readonly password: SecretSource }
  | { readonly kind: "bearer"; readonly token: SecretSource };

/** --cacert, --cert, --key as paths, --insecure. */
export interface TlsFiles {
  readonly caFile?: string | undefined;
  readonly certFile?: string | undefined;
  readonly keyFile?: string | undefined;
  readonly insecure?: boolean | undefined;
}

/** How to reach the gateways, as the user said it. */
export interface TransportOptions {
  readonly gateways: readonly GatewayEndpoint[];
  readonly timeoutMs: number;
  readonly retry: RetryPolicy;
  /** `-H` headers, sent as given, and only to the gateways this run names. */
  readonly headers: Readonly<Record<string, string>>;
  /** --user / --bearer-token-file and their environment variables. */
  readonly credentials?: Credentials | undefined;
  readonly tls?: TlsFiles | undefined;
  /** --gzip: send bodies with Content-Encoding: gzip (Pushgateway 1.5.0+). */
  readonly gzip?: boolean | undefined;
  /** --spool DIR: where undeliverable pushes wait (see spool-queue.ts). */
  readonly spoolDir?: string | undefined;
  /** What --gateway points at (--target); a Pushgateway unless said otherwise. */
  readonly target?: Target | undefined;
  /** Inside a wrapped job: the wrapper's socket, through which push and add go (see relay.ts). */
  readonly relaySocket?: string | undefined;
  /** --textfile-dir: the directory node_exporter reads, for --target textfile (see textfile-gateway.ts). */
  readonly textfileDir?: string | undefined;
}

export const EXPOSITION_CONTENT_TYPE = "text/plain; version=0.0.4";

/** An answer to a write is a status line and at most a short message: read no more than this. */
export const WRITE_ANSWER_LIMIT = 64 * 1024;
/**
 * `/api/v1/metrics` of a gateway holding many groups is large (100,000 wrapped groups: about
 * 290 MB), but never this large; it also stays below the longest string V8 can hold (2^29 - 24).
 */
export const READ_ANSWER_LIMIT = 480 * 1024 * 1024;

export interface GatewayCall {
  readonly method: HttpMethod;
  /** Below the gateway's base URL: `/metrics/job/…`, or empty for a remote-write endpoint. */
  readonly path: string;
  /** The text format, or for remote write the compressed protobuf. */
  readonly body?: string | Uint8Array;
  /** Headers this kind of body needs (remote write's content type and encoding). */
  readonly headers?: Readonly<Record<string, string>>;
  /** The group a write goes to, so a refusal can be explained (and its debris cleared). */
  readonly key?: GroupingKey;
}

/** What became of one call to one gateway. */
export type CallOutcome =
  | { readonly kind: "delivered"; readonly url: string; readonly status: number; readonly body: string; readonly headers?: Readonly<Record<string, string | undefined>> }
  /** `input`: refused before anything was written, for what the target would drop (--target textfile): exit 2, as for bad input. */
  | { readonly kind: "failed"; readonly url: string; readonly error: GatewayError; readonly retryable: boolean; readonly status?: number | undefined; readonly input?: true }
  /** --spool: not delivered now, saved to be sent later in order. */
  | { readonly kind: "spooled"; readonly url: string; readonly where: string; readonly reason: GatewayError | undefined };

/** Bounds on one delivery beyond the retry policy. */
export interface DeliveryLimits {
  /** Monotonic time after which no attempt starts and no wait goes past. */
  readonly deadline?: number;
  /** Checked before each retry: true stops retrying (wrap's start push, once the job ended). */
  readonly stopRetrying?: () => boolean;
  /** Retries to use instead of --retries (delivering the spool at the start of a run). */
  readonly retries?: number;
}

export interface Gateway {
  readonly target: Target;
  /** The gateways this run names, as base URLs. */
  readonly baseUrls: readonly string[];
  readonly spoolDir: string | undefined;
  /** Sends one call to every gateway this run names (through the spool, with --spool). */
  write(call: GatewayCall, limits?: DeliveryLimits): Promise<CallOutcome[]>;
  /**
   * Sends one call to one gateway, retrying what is worth retrying, with no spool. A gateway
   * this run does not name (a spool entry's) gets no credentials, headers or client certificate.
   */
  sendTo(baseUrl: string, call: GatewayCall, limits?: DeliveryLimits): Promise<CallOutcome>;
  /** True when this run names the gateway, so its secrets go there. */
  names(baseUrl: string): boolean;
  /** The groups of `baseUrl` (the first gateway named when left out). */
  readGroups(baseUrl?: string): Promise<{ readonly kind: "read"; readonly groups: Group[] } | { readonly kind: "failed"; readonly error: GatewayError }>;
  /** What --dry-run prints: each request as it would go out, secrets hidden. */
  dryRun(call: GatewayCall): void;
}

/** Hooks the spool offers the gateway (spool-queue.ts), passed in to keep the layers apart. */
export type SpoolWriter = (call: GatewayCall, baseUrl: string, gateway: Gateway, deps: Deps, limits: DeliveryLimits) => Promise<CallOutcome>;

interface Endpoint {
  readonly baseUrl: string;
  /** Lower-case names: user agent, -H headers, Authorization. */
  readonly headers: Readonly<Record<string, string>>;
  /** Header names whose values are never printed. */
  readonly hidden: ReadonlySet<string>;
  readonly tls: TlsMaterial;
  readonly named: boolean;
  readonly clientCertificate: boolean;
}

export interface OpenGatewayOptions {
  /** The command, for refusals: delete, list and prune need groups; flush and doctor a Pushgateway. */
  readonly command: "push" | "add" | "delete" | "wrap" | "list" | "prune" | "delete --match" | "flush" | "doctor";
  /** The spool's writer, for runs with --spool (push, add, delete, wrap). */
  readonly spoolWriter?: SpoolWriter | undefined;
}

/** Checks and reads everything the run will need to reach its gateways. Throws UsageError only. */
export async function openGateway(transport: TransportOptions, deps: Deps, options: OpenGatewayOptions): Promise<Gateway> {
  const target = transport.target ?? "pushgateway";
  refuseCommandForTarget(options.command, target);
  // Loaded only for that target: a push to a gateway pays nothing for it (node:crypto included).
  if (target === "textfile") return (await import("./textfile-gateway.js")).openTextfileGateway(transport, deps);
  const tls = await readTlsMaterial(transport.tls ?? {}, deps);
  const authorization = await readAuthorization(transport.credentials, deps);
  warnAboutExposure(transport, authorization !== undefined, deps);

  const common: Record<string, string> = { "user-agent": `pushgw/${deps.version}` };
  const hidden = new Set(["authorization", "proxy-authorization"]);
  const userHeaders: Record<string, string> = {};
  for (const [name, value] of Object.entries(transport.headers)) {
    userHeaders[name.toLowerCase()] = value;
    if (isSecretHeaderName(name)) hidden.add(name.toLowerCase());
  }
  const named = new Map<string, Endpoint>();
  for (const gateway of transport.gateways) {
    const headers = { ...common, ...userHeaders };
    if (authorization !== undefined) headers["authorization"] = authorization;
    else if (gateway.urlCredentials !== undefined && headers["authorization"] === undefined) {
      headers["authorization"] = `Basic ${toBase64(`${gateway.urlCredentials.user}:${gateway.urlCredentials.password}`)}`;
    }
    named.set(gateway.baseUrl, { baseUrl: gateway.baseUrl, headers, hidden, tls, named: true, clientCertificate: tls.cert !== undefined });
  }
  // A gateway only the spool names gets what is no secret: the CA to check it by.
  const bareTls: TlsMaterial = { ca: tls.ca, insecure: tls.insecure };
  const bare = (baseUrl: string): Endpoint => ({ baseUrl, headers: common, hidden, tls: bareTls, named: false, clientCertificate: false });

  const clients = new Map<TlsMaterial, Promise<Http | Error>>();
  const clientFor = (endpoint: Endpoint): Promise<Http | Error> => {
    let client = clients.get(endpoint.tls);
    if (client === undefined) {
      client = deps.http(endpoint.tls).catch((error: unknown) => (error instanceof Error ? error : new Error(String(error))));
      clients.set(endpoint.tls, client);
    }
    return client;
  };
  const proxiesShown = new Set<string>();
  if (tls.ca !== undefined || tls.cert !== undefined) {
    // Made now, so that a file that is no certificate is a usage error before anything runs.
    const client = await clientFor(named.values().next().value!);
    if (client instanceof Error && (client as NodeJS.ErrnoException).code === "PUSHGW_TLS_MATERIAL") {
      const flags = [tls.ca && "--cacert", tls.cert && "--cert", tls.key && "--key"].filter(Boolean).join(", ");
      throw new UsageError(`${flags}: not a usable certificate${tls.key ? " and key" : ""}: ${client.message}`, {
        hint: "give PEM files (-----BEGIN CERTIFICATE----- …), and the private key that belongs to the certificate",
      });
    }
  }

  const exchange = async (endpoint: Endpoint, call: GatewayCall, limits: DeliveryLimits, maxBodyBytes: number): Promise<CallOutcome> => {
    const request = buildRequest(call, endpoint, transport, maxBodyBytes);
    const client = await clientFor(endpoint);
    if (client instanceof Error) {
      return { kind: "failed", url: request.url, retryable: false, error: new GatewayError(`${call.method} ${request.url}: cannot set up the HTTP client: ${client.message}`) };
    }
    const proxy = client.proxyFor(request.url);
    if (proxy !== undefined && !proxiesShown.has(proxy)) {
      proxiesShown.add(proxy);
      deps.out.verbose(`requests to ${endpoint.baseUrl} go through the proxy ${proxy}`);
    }
    return sendWithRetries(request, client, transport.retry, deps, limits, { clientCertificate: endpoint.clientCertificate, proxy });
  };

  // One clean-up at a time for each gateway: its read of the group list may be large (a gateway
  // of 100,000 groups, or a hostile one), and 64 relayed calls refused at once must not hold 64.
  const debrisLooked = new Map<string, Promise<unknown>>();
  const gateway: Gateway = {
    target,
    baseUrls: transport.gateways.map((g) => g.baseUrl),
    spoolDir: transport.spoolDir,
    names: (baseUrl) => named.has(baseUrl),
    sendTo: (baseUrl, call, limits = {}) => exchange(named.get(baseUrl) ?? bare(baseUrl), call, limits, WRITE_ANSWER_LIMIT),
    async write(call, limits = {}) {
      return Promise.all(
        transport.gateways.map(async ({ baseUrl }) => {
          const useSpool = options.spoolWriter !== undefined && transport.spoolDir !== undefined && call.method !== "GET";
          const outcome = useSpool ? await options.spoolWriter!(call, baseUrl, gateway, deps, limits) : await gateway.sendTo(baseUrl, call, limits);
          return target === "pushgateway" ? clearCollisionDebris(outcome, call, baseUrl, gateway, deps, debrisLooked) : outcome;
        }),
      );
    },
    async readGroups(baseUrl = transport.gateways[0]!.baseUrl) {
      const endpoint = named.get(baseUrl) ?? bare(baseUrl);
      const outcome = await exchange(endpoint, { method: "GET", path: "/api/v1/metrics" }, {}, READ_ANSWER_LIMIT);
      if (outcome.kind === "failed" && outcome.status !== undefined && outcome.status >= 200 && outcome.status < 300) {
        // Taken with a 2xx: only an answer past the limit fails so.
        return {
          kind: "failed",
          error: new GatewayError(`GET ${outcome.url}: the list of groups is larger than ${READ_ANSWER_LIMIT / 1024 / 1024} MiB, more than any real gateway's (100,000 wrapped groups are about 290 MB); pushgw stopped reading it`, {
            hint: "check that --gateway points at a Pushgateway; a gateway that really holds that much needs its groups deleted by other means (curl -X DELETE, or its admin API's wipe)",
          }),
        };
      }
      if (outcome.kind === "failed") return { kind: "failed", error: outcome.error };
      if (outcome.kind !== "delivered") return { kind: "failed", error: new GatewayError(`GET ${outcome.url}: not delivered`) };
      const decoded = decodeGroups(outcome.body, outcome.url);
      return decoded instanceof GatewayError ? { kind: "failed", error: decoded } : { kind: "read", groups: decoded };
    },
    dryRun(call) {
      for (const { baseUrl } of transport.gateways) {
        const endpoint = named.get(baseUrl)!;
        deps.out.result(renderRequest(buildRequest(call, endpoint, transport, WRITE_ANSWER_LIMIT), endpoint.hidden));
      }
    },
  };
  return gateway;
}

/**
 * delete, list and prune need groups (a Pushgateway's, or the textfile directory's files):
 * time-series stores keep none. flush needs the spool, which only a Pushgateway target has.
 */
function refuseCommandForTarget(command: OpenGatewayOptions["command"], target: Target): void {
  if (target === "pushgateway" || ["push", "add", "wrap"].includes(command)) return;
  if (target === "textfile") {
    if (command === "flush") {
      throw new UsageError("flush has nothing to do with --target textfile: files are written at once, and nothing is spooled", {
        hint: "a write that fails (a full disk, a lock held too long) says so at once; run it again",
      });
    }
    if (command === "doctor") {
      throw new UsageError("doctor examines a Pushgateway; --target textfile has none", {
        hint: "pushgw list --target textfile shows the directory's groups; node_exporter's node_textfile_scrape_error says whether it read them",
      });
    }
    return;
  }
  throw new UsageError(`${command} needs a Pushgateway; --target ${target} has no groups to ${command === "list" ? "list" : command === "flush" ? "flush to" : command === "doctor" ? "examine" : "delete"}`, {
    hint:
      target === "remote-write"
        ? "a remote-write receiver stores samples, not groups: series go stale by themselves once nothing pushes them"
        : "VictoriaMetrics keeps samples, not groups (a DELETE there is silently ignored); its admin API /api/v1/admin/tsdb/delete_series deletes series",
  });
}

async function readTlsMaterial(files: TlsFiles, deps: Deps): Promise<TlsMaterial> {
  if ((files.certFile === undefined) !== (files.keyFile === undefined)) {
    throw new UsageError(files.certFile === undefined ? "--key needs --cert: a private key is used with its certificate" : "--cert needs --key: a client certificate is used with its private key");
  }
  const ca = files.caFile === undefined ? undefined : await readNamedFile(files.caFile, "--cacert", deps);
  // Node ignores a CA file that holds no certificate, and every TLS connection would then fail.
  if (ca !== undefined && !new TextDecoder().decode(ca).includes("-----BEGIN CERTIFICATE-----")) {
    throw new UsageError(`--cacert ${files.caFile}: holds no PEM certificate (-----BEGIN CERTIFICATE-----)`);
  }
  return {
    ca,
    cert: files.certFile === undefined ? undefined : await readNamedFile(files.certFile, "--cert", deps),
    key: files.keyFile === undefined ? undefined : await readNamedFile(files.keyFile, "--key", deps).then(async (bytes) => (await warnIfLoose(files.keyFile!, "--key", deps), bytes)),
    insecure: files.insecure,
  };
}

async function readAuthorization(credentials: Credentials | undefined, deps: Deps): Promise<string | undefined> {
  if (credentials === undefined) return undefined;
  if (credentials.kind === "basic") {
    const password = await readSecret(credentials.password, "--password-file", deps);
    return `Basic ${toBase64(`${credentials.user}:${password}`)}`;
  }
  const token = await readSecret(credentials.token, "--bearer-token-file", deps);
  const problem = headerValueProblem(token);
  if (problem !== undefined) {
    const from = "file" in credentials.token ? `--bearer-token-file ${credentials.token.file}` : "PUSHGW_BEARER_TOKEN";
    throw new UsageError(`${from}: the token ${problem}`, { hint: "a token is one line: remove blank lines and spaces around it" });
  }
  return `Bearer ${token}`;
}

function warnAboutExposure(transport: TransportOptions, flagCredentials: boolean, deps: Deps): void {
  const headerAuth = Object.keys(transport.headers).some(isSecretHeaderName);
  for (const gateway of transport.gateways) {
    if (!flagCredentials && !headerAuth && gateway.urlCredentials === undefined) continue;
    const url = new URL(gateway.baseUrl);
    if (url.protocol === "http:" && !isLoopback(url.hostname)) {
      deps.out.warn(`credentials go to ${gateway.baseUrl} over plain http, readable by anyone on the way; use https`);
    }
  }
  if (transport.tls?.insecure) deps.out.warn("--insecure: the gateway's TLS certificate is not checked");
}

async function readSecret(source: SecretSource, flag: string, deps: Deps): Promise<string> {
  if ("value" in source) return source.value;
  const bytes = await readNamedFile(source.file, flag, deps);
  await warnIfLoose(source.file, flag, deps);
  // Files written with `echo` end in a newline that is not part of the secret.
  return new TextDecoder().decode(bytes).replace(/\r?\n$/, "");
}

/** As ssh does for a private key: a secret file others may read is worth a word. */
async function warnIfLoose(file: string, flag: string, deps: Deps): Promise<void> {
  const access = await deps.input.fileAccess(file);
  if (access === undefined || (access.mode & 0o077) === 0) return;
  const mode = access.mode.toString(8).padStart(4, "0");
  // Read or changed (0620: the group may replace the secret pushgw sends), by whom.
  const verb = access.mode & 0o044 ? "read" : "changed";
  const who = access.mode & 0o007 ? "every user" : "its group";
  deps.out.warn(`${flag} ${file} can be ${verb} by ${who} (mode ${mode}); keep a secret to yourself: chmod 600 ${file}`);
}

/** A file a flag names; unreadable or empty is a usage error naming the flag. */
async function readNamedFile(file: string, flag: string, deps: Deps): Promise<Uint8Array> {
  let bytes: Uint8Array;
  try {
    bytes = await deps.input.readFile(file);
  } catch (error) {
    const code = (error as { code?: string }).code;
    throw new UsageError(`${flag} ${file}: cannot read it${code ? ` (${code})` : ""}`);
  }
  if (new TextDecoder().decode(bytes).trim() === "") throw new UsageError(`${flag} ${file}: the file is empty`);
  return bytes;
}

function isLoopback(hostname: string): boolean {
  return hostname === "localhost" || hostname === "[::1]" || hostname === "::1" || /^127\./.test(hostname);
}

function buildRequest(call: GatewayCall, endpoint: Endpoint, transport: TransportOptions, maxBodyBytes: number): HttpRequest {
  const headers: Record<string, string> = { ...endpoint.headers };
  if (call.body !== undefined) headers["content-type"] = EXPOSITION_CONTENT_TYPE;
  Object.assign(headers, call.headers ?? {});
  const gzip = typeof call.body === "string" && transport.gzip === true;
  if (gzip) headers["content-encoding"] = "gzip";
  return { method: call.method, url: endpoint.baseUrl + call.path, headers, body: call.body, gzip, timeoutMs: transport.timeoutMs, maxBodyBytes };
}

/** The request as text, secret header values hidden. */
export function renderRequest(request: HttpRequest, hidden: ReadonlySet<string>): string {
  const lines = [`${request.method} ${request.url}`];
  for (const [name, value] of Object.entries(request.headers)) lines.push(`${name}: ${hidden.has(name) ? "<hidden>" : value}`);
  let text = lines.join("\n");
  if (typeof request.body === "string" && request.body !== "") text += `\n\n${request.body.replace(/\n$/, "")}`;
  else if (request.body instanceof Uint8Array) text += `\n\n(${request.body.length} bytes: snappy-compressed protobuf)`;
  return text;
}

/** Sends one request, retrying what is worth retrying. Never throws. */
export async function sendWithRetries(
  request: HttpRequest,
  http: Http,
  policy: RetryPolicy,
  deps: Deps,
  limits: DeliveryLimits = {},
  context: { clientCertificate: boolean; proxy?: string | undefined } = { clientCertificate: false },
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

const COLLISION_WORDS = "was collected before with the same name and label values";

/**
 * The gateway cannot tell {job=X} from {job=X, instance=""}: to Prometheus an empty label is no
 * label, so both groups expose the same series. A push refused for that reason still leaves a
 * group behind holding only its failure time, and that group's own timestamps clash with the
 * other group's: from then on the gateway refuses every push from every client and its
 * /metrics answers 500. When a refused write left exactly such a group (one that holds nothing
 * but the failed push) beside a twin, it is deleted at once, and the message names the twin.
 * One clean-up at a time for each gateway.
 */
async function clearCollisionDebris(outcome: CallOutcome, call: GatewayCall, baseUrl: string, gateway: Gateway, deps: Deps, inFlight: Map<string, Promise<unknown>>): Promise<CallOutcome> {
  if (outcome.kind !== "failed" || outcome.status !== 400 || call.key === undefined || !outcome.error.message.includes(COLLISION_WORDS)) return outcome;
  // One at a time for each gateway (see debrisLooked in openGateway).
  const key = call.key;
  const before = inFlight.get(baseUrl) ?? Promise.resolve();
  const mine = before.then(() => clearDebrisNow(outcome, call, key, baseUrl, gateway, deps));
  inFlight.set(baseUrl, mine.catch(() => undefined));
  return mine;
}

async function clearDebrisNow(outcome: Extract<CallOutcome, { kind: "failed" }>, call: GatewayCall, key: GroupingKey, baseUrl: string, gateway: Gateway, deps: Deps): Promise<CallOutcome> {
  // Read as list reads it: the list of a gateway with many groups is far larger than a write's answer.
  const listed = await gateway.readGroups(baseUrl);
  if (listed.kind !== "read") return outcome;
  const groups = listed.groups;
  const ours = groups.find((g) => groupHasKey(g, key));
  const twins = emptyValueTwins(groups, key);
  if (twins.length === 0) return outcome;
  const twinText = twins.map((t) => formatGroupLabels(t.labels)).join(", ");
  const deleteTwin = deleteCommandFor(twins[0]!);
  if (ours === undefined || ours.metrics.length > 0 || ours.lastPushTime !== null) {
    return withError(outcome, outcome.error.message, `the group ${twinText} exposes the same series (an empty label value is, to Prometheus, no label); until one of the two is deleted the gateway refuses every push. Delete it with: ${deleteTwin}`);
  }
  const removed = await gateway.sendTo(baseUrl, { method: "DELETE", path: call.path }, { retries: 2 });
  const cleared = removed.kind === "delivered";
  deps.out.verbose(cleared ? `deleted ${formatGroupingKey(key)}, left behind by the refused push` : `could not delete ${formatGroupingKey(key)}, left behind by the refused push`);
  const note = cleared
    ? `pushgw deleted the empty group ${formatGroupingKey(key)} that the refusal left behind, which would have broken the gateway for every client`
    : `the refusal left an empty group ${formatGroupingKey(key)} behind, which breaks the gateway for every client, and pushgw could not delete it: delete it now`;
  return withError(outcome, `${outcome.error.message}\n${note}`, `the group ${twinText} exposes the same series (an empty label value is, to Prometheus, no label). To push here instead, delete that group first: ${deleteTwin}`);
}

function withError(outcome: Extract<CallOutcome, { kind: "failed" }>, message: string, hint: string): CallOutcome {
  return { ...outcome, error: new GatewayError(message, { hint }) };
}

/**
 * The one error a write's outcomes add up to, or undefined when every gateway took it: a
 * GatewayError (exit 1) when any refused it or could not be reached, else a SpooledError
 * (exit 75) when some wait in the spool. With several gateways it says which took it.
 */
export function writeFailure(call: GatewayCall, outcomes: readonly CallOutcome[], spoolDir: string | undefined): GatewayError | InputError | SpooledError | undefined {
  const failures = outcomes.filter((o): o is Extract<CallOutcome, { kind: "failed" }> => o.kind === "failed");
  const spooled = outcomes.filter((o): o is Extract<CallOutcome, { kind: "spooled" }> => o.kind === "spooled");
  if (failures.length === 1 && outcomes.length === 1) {
    const only = failures[0]!;
    return only.input ? new InputError(only.error.message, { hint: only.error.hint }) : only.error;
  }
  if (failures.length > 0) {
    const lines = outcomes.map((o) =>
      o.kind === "delivered" ? `ok      ${call.method} ${o.url} (${o.status})` : o.kind === "spooled" ? `saved   ${call.method} ${o.url} (in the spool)` : `FAILED  ${o.error.message}`,
    );
    return new GatewayError(`${failures.length} of ${outcomes.length} gateways did not take it:\n${lines.join("\n")}`, { hint: failures[0]!.error.hint });
  }
  if (spooled.length === 0) return undefined;
  const lines = spooled.map((s) => `${call.method} ${s.url}: ${s.reason ? `not delivered (${s.reason.message})` : "queued behind earlier calls to this group"}`);
  return new SpooledError(`saved in the spool ${spoolDir ?? ""}, to be sent later:\n${lines.join("\n")}`, {
    hint: "`pushgw flush` sends it, and so does the next pushgw run to that gateway",
  });
}
