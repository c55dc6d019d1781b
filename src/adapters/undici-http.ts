import { setFlagsFromString } from "node:v8";
import Agent from "undici/lib/dispatcher/agent.js";
import request from "undici/lib/api/api-request.js";
import type { Dispatcher } from "undici";
import type { Http, HttpRequest, HttpResult, TlsMaterial } from "../app/ports.js";
import { statusText, type TransportFailureReason } from "../core/delivery.js";
import { chooseProxy, type ProxyDecision } from "../core/proxy.js";

// undici parses HTTP with a WebAssembly module. By default V8 then recompiles its hot
// functions with TurboFan on background threads, and Node waits for those threads before it
// exits: about 160 ms added to every pushgw run, for an optimisation a handful of small
// responses never benefits from. Liftoff's baseline code is plenty. And the module is compiled
// whole when undici makes it, not function by function as each is first called: V8 then
// compiles on its worker threads beside the main one, where the first response's parse did it
// on the main thread alone (on Node 20 the parser is ready 1.3 ms sooner; on Node 24 it is
// even). Both are set just before undici compiles the module, at the first connection (a call
// scripts/esbuild-edits.mjs puts there), and stay on (on Node 24 a module compiled under them
// still tiers up once they are off). Not sooner: Node checks its code cache for its built-in
// modules against V8's flags, and every built-in loaded after they change (tls and crypto for
// https, zlib for --gzip, what a proxy needs) was compiled from its source, about 30 M
// instructions for an https push. The code cache's launcher sets them only while it reads or
// makes a cache, and leaves them on once this mark says so.
(globalThis as Record<symbol, unknown>)[Symbol.for("pushgw.before-llhttp")] = (): void => {
  setFlagsFromString("--liftoff-only");
  setFlagsFromString("--no-wasm-lazy-compilation");
  (globalThis as Record<symbol, unknown>)[Symbol.for("pushgw.liftoff-only")] = true;
};

type UndiciIndex = typeof import("undici");

/**
 * The only HTTP client: undici, with redirects never followed, one time limit for the whole
 * exchange, answers read only up to a bound, TLS from the material given, and the proxy that
 * HTTPS_PROXY / HTTP_PROXY / NO_PROXY choose. `send` never throws: every failure, even one in
 * setting up a connection, comes back as a result.
 */
export async function createUndiciHttp(tls: TlsMaterial = {}, env: NodeJS.ProcessEnv = process.env): Promise<Http> {
  if (tls.ca !== undefined || tls.cert !== undefined || tls.key !== undefined) await checkTlsMaterial(tls);
  const connect = {
    ca: bufferOf(tls.ca),
    cert: bufferOf(tls.cert),
    key: bufferOf(tls.key),
    rejectUnauthorized: tls.insecure !== true,
  };
  const options = { keepAliveTimeout: 4_000, connections: 32, connect };
  const direct = new Agent(options);
  const proxied = new Map<string, Promise<Dispatcher>>();
  const dispatcherFor = (decision: ProxyDecision, timeoutMs: number): Promise<Dispatcher> => {
    if (decision.kind !== "proxy") return Promise.resolve(direct);
    const key = `${timeoutMs} ${decision.url}`;
    let dispatcher = proxied.get(key);
    if (dispatcher === undefined) {
      // Only runs that go through a proxy pay for loading undici's whole index: the proxy
      // agent needs the connect API that the index installs on every dispatcher.
      // (Bundled, the CommonJS module's exports arrive as the namespace's default.)
      dispatcher = import("undici").then((loaded) => {
        const undici = (loaded as UndiciIndex & { default?: UndiciIndex }).default ?? loaded;
        // The request's own time limit does not reach the proxy's answer to CONNECT (undici
        // waits 300 s for it): the proxy's client gets the same limit.
        const clientFactory = (origin: URL, opts: object): Dispatcher => new undici.Pool(origin, { ...opts, headersTimeout: timeoutMs });
        return new undici.ProxyAgent({ ...options, uri: decision.url, clientFactory, requestTls: connect, proxyTls: { rejectUnauthorized: tls.insecure !== true, ca: connect.ca } });
      });
      proxied.set(key, dispatcher);
    }
    return dispatcher;
  };

  return {
    proxyFor(url) {
      const decision = chooseProxy(url, env);
      return decision.kind === "direct" ? undefined : decision.shown;
    },
    async send(req: HttpRequest): Promise<HttpResult> {
      const signal = AbortSignal.timeout(req.timeoutMs);
      const decision = chooseProxy(req.url, env);
      if (decision.kind === "invalid") return { kind: "failure", reason: "proxy", message: decision.why };
      try {
        const url = new URL(req.url);
        const body = req.body === undefined ? undefined : req.gzip ? await gzip(req.body) : req.body;
        const response = await request.call(await dispatcherFor(decision, req.timeoutMs), {
          origin: url.origin,
          path: url.pathname + url.search,
          method: req.method,
          headers: req.headers,
          body,
          signal,
          headersTimeout: req.timeoutMs,
          bodyTimeout: req.timeoutMs,
        });
        const { text, truncated } = await readBounded(response.body, req.maxBodyBytes);
        return {
          kind: "response",
          status: response.statusCode,
          statusText: statusText(response.statusCode),
          headers: {
            location: header(response.headers["location"]),
            "retry-after": header(response.headers["retry-after"]),
            date: header(response.headers["date"]),
            // What a remote-write 2.0 receiver says it wrote (app/targets/remote-write.ts).
            "x-prometheus-remote-write-samples-written": header(response.headers["x-prometheus-remote-write-samples-written"]),
            "x-prometheus-remote-write-histograms-written": header(response.headers["x-prometheus-remote-write-histograms-written"]),
            "x-prometheus-remote-write-exemplars-written": header(response.headers["x-prometheus-remote-write-exemplars-written"]),
          },
          body: text,
          truncated,
        };
      } catch (error) {
        if (signal.aborted) return { kind: "failure", reason: "timeout", message: `no answer within ${req.timeoutMs} ms` };
        return { kind: "failure", ...classify(error, req.timeoutMs) };
      }
    },
    async close() {
      const all = [direct, ...(await Promise.all([...proxied.values()].map((p) => p.catch(() => undefined))))];
      await withoutStacks(() => Promise.all(all.map((d) => d?.close().catch(() => undefined))));
    },
  };
}

let closing = 0;
let stackTraceLimit = 0;

/**
 * Runs `work` (closing clients) with no stacks captured. Closing a client destroys its idle
 * socket with an error undici makes for the purpose, whose stack Node's stream formats at once
 * (to keep it): V8 then counts the lines of the whole bundle, about 4 M instructions of every
 * run, for a stack nobody reads. Clients of several instances may close at once: the first to
 * start saves the limit, the last to end puts it back.
 */
async function withoutStacks<T>(work: () => Promise<T>): Promise<T> {
  if (closing++ === 0) {
    stackTraceLimit = Error.stackTraceLimit;
    Error.stackTraceLimit = 0;
  }
  try {
    return await work();
  } finally {
    if (--closing === 0) Error.stackTraceLimit = stackTraceLimit;
  }
}

/**
 * A certificate or key that is not PEM, or a key that does not match its certificate, would
 * otherwise fail only at the first connection, looking like a network problem: checked here,
 * it is the usage error it is (thrown with code PUSHGW_TLS_MATERIAL).
 */
async function checkTlsMaterial(tls: TlsMaterial): Promise<void> {
  const { createSecureContext } = await import("node:tls");
  try {
    createSecureContext({ ca: bufferOf(tls.ca), cert: bufferOf(tls.cert), key: bufferOf(tls.key) });
  } catch (error) {
    const reason = error instanceof Error ? error.message.replace(/^error:[0-9A-F]+:/i, "") : String(error);
    throw Object.assign(new Error(reason), { code: "PUSHGW_TLS_MATERIAL" });
  }
}

async function gzip(body: string | Uint8Array): Promise<Buffer> {
  // Loaded only for --gzip: zlib is one of the heavier built-ins.
  const { gzipSync } = await import("node:zlib");
  return gzipSync(body);
}

/**
 * Reads at most `limit` bytes of an answer and drops the connection after that: a server that
 * streams forever must cost neither memory nor time.
 */
async function readBounded(body: NodeJS.ReadableStream & { destroy(): void }, limit: number): Promise<{ text: string; truncated: boolean }> {
  const chunks: Buffer[] = [];
  let size = 0;
  let truncated = false;
  for await (const chunk of body as AsyncIterable<Buffer>) {
    const room = limit - size;
    if (chunk.length > room) {
      chunks.push(chunk.subarray(0, room));
      size = limit;
      truncated = true;
      break;
    }
    chunks.push(chunk);
    size += chunk.length;
  }
  if (truncated) body.destroy();
  return { text: Buffer.concat(chunks, size).toString("utf8"), truncated };
}

function bufferOf(bytes: Uint8Array | undefined): Buffer | undefined {
  return bytes === undefined ? undefined : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

function header(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value;
}

/** Sorts a failed exchange by what can be done about it, in words without library noise. */
function classify(error: unknown, timeoutMs: number): { reason: TransportFailureReason; message: string } {
  if (!(error instanceof Error)) return { reason: "other", message: String(error) };
  const cause = (error as { cause?: unknown }).cause;
  const code = (error as { code?: string }).code ?? (cause as { code?: string } | undefined)?.code ?? "";
  const base = error.message || error.name;
  const detail = cause instanceof Error && cause.message && !base.includes(cause.message) ? `${base}: ${cause.message}` : base;
  const text = `${code} ${detail}`;
  if (/UND_ERR_(CONNECT|HEADERS|BODY)_TIMEOUT/.test(code)) return { reason: "timeout", message: `no answer within ${timeoutMs} ms` };
  if (code === "ENOTFOUND") return { reason: "unresolved", message: `getaddrinfo ENOTFOUND ${(error as { hostname?: string }).hostname ?? ""}`.trim() };
  if (code === "EAI_AGAIN") return { reason: "dns-temporary", message: "getaddrinfo EAI_AGAIN (the resolver did not answer)" };
  if (/ECONNREFUSED|EHOSTUNREACH|ENETUNREACH|EADDRNOTAVAIL/.test(code)) return { reason: "refused", message: detail };
  if (/wrong version number|WRONG_VERSION_NUMBER|packet length too long|http request|unknown protocol/i.test(text)) {
    return { reason: "tls-protocol", message: "the server did not answer the TLS handshake with TLS (it speaks plain HTTP?)" };
  }
  if (/CERT|SELF_SIGNED|UNABLE_TO_VERIFY|ERR_TLS_CERT_ALTNAME_INVALID|UNABLE_TO_GET_ISSUER/.test(code)) {
    return { reason: "tls-certificate", message: `${code}: ${error.message}` };
  }
  if (/Proxy response|UND_ERR_PRX_TLS|proxy/i.test(detail) && !/ECONN/.test(code)) return { reason: "proxy", message: detail };
  // llhttp's codes (HPE_INVALID_CONSTANT: "Expected HTTP/", …) and undici's for a header block
  // that never ends or a body that contradicts its length.
  if (/^HPE_|UND_ERR_HEADERS_OVERFLOW|UND_ERR_RES_CONTENT_LENGTH_MISMATCH/.test(code) || error.name === "HTTPParserError") return { reason: "not-http", message: detail };
  if (/UND_ERR_SOCKET|ECONNRESET|EPIPE|UND_ERR_CLOSED|other side closed/i.test(text)) return { reason: "closed", message: detail };
  if (/^ERR_SSL|^ERR_TLS|EPROTO/.test(code)) return { reason: "tls-protocol", message: `${code}: the TLS handshake failed` };
  return { reason: "other", message: detail };
}
