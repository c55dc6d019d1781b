import { toBase64 } from "../core/base64.js";
import { GatewayError, UsageError } from "../core/errors.js";
import { decodeGroups } from "../core/groups.js";
import { isSecretHeaderName } from "../core/secrets.js";
import { readAuthorization, readTlsMaterial, warnAboutExposure } from "./credentials.js";
import type { CallOutcome, DeliveryLimits, Deps, Gateway, GatewayCall, Http, HttpRequest, OpenGatewayOptions, TlsMaterial, TransportOptions } from "./ports.js";
import { sendWithRetries } from "./retry.js";
import type { Target } from "./targets/names.js";

/** The Gateway of the targets reached over HTTP: the Pushgateway, remote write, VictoriaMetrics, OTLP. */

export const EXPOSITION_CONTENT_TYPE = "text/plain; version=0.0.4";

/** An answer to a write is a status line and at most a short message: read no more than this. */
export const WRITE_ANSWER_LIMIT = 64 * 1024;
/**
 * `/api/v1/metrics` of a gateway holding many groups is large (100,000 wrapped groups: about
 * 290 MB), but never this large; it also stays below the longest string V8 can hold (2^29 - 24).
 */
export const READ_ANSWER_LIMIT = 480 * 1024 * 1024;

/** What a target does with a write's outcome before it is reported (the Pushgateway clears collision debris). */
export type AfterWrite = (outcome: CallOutcome, call: GatewayCall, baseUrl: string, gateway: Gateway) => Promise<CallOutcome>;

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

/** Checks and reads everything the run will need to reach its gateways. Throws UsageError only. */
/** What a target reached over HTTP adds to the shared HTTP gateway. */
export interface HttpTargetParts {
  /** The hint for a 404: what answers at the right URL, and how --gateway names it. */
  readonly notFoundHint: string;
  readonly afterWrite?: AfterWrite;
}

export async function openHttpGateway(target: Target, transport: TransportOptions, deps: Deps, options: OpenGatewayOptions, parts: HttpTargetParts): Promise<Gateway> {
  const { afterWrite, notFoundHint } = parts;
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
    return sendWithRetries(request, client, transport.retry, deps, limits, { clientCertificate: endpoint.clientCertificate, proxy, notFoundHint });
  };

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
          return afterWrite === undefined ? outcome : afterWrite(outcome, call, baseUrl, gateway);
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
  else if (request.body instanceof Uint8Array) text += `\n\n(${request.body.length} bytes: ${request.headers["content-encoding"] === "snappy" ? "snappy-compressed " : ""}protobuf)`;
  return text;
}
