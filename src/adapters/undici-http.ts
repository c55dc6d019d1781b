import { readFileSync } from "node:fs";
import { setFlagsFromString } from "node:v8";
import Agent from "undici/lib/dispatcher/agent.js";
import request from "undici/lib/api/api-request.js";
import type { Dispatcher } from "undici";
import type { Http, HttpRequest, HttpResult, TlsOptions } from "../app/ports.js";
import { statusText } from "../core/delivery.js";
import { UsageError } from "../core/errors.js";

// undici parses HTTP with a WebAssembly module. By default V8 then recompiles its hot
// functions with TurboFan on background threads, and Node waits for those threads before it
// exits: about 160 ms added to every pushgw run, for an optimisation a handful of small
// responses never benefits from. Liftoff's baseline code is plenty. (Set before undici
// compiles the module, which it does at the first connection.)
setFlagsFromString("--liftoff-only");

const PROXY_VARIABLES = ["HTTPS_PROXY", "https_proxy", "HTTP_PROXY", "http_proxy"];

/**
 * The only HTTP client: undici, with redirects never followed, a timeout per attempt, TLS
 * from --cacert/--cert/--key/--insecure, and HTTP(S)_PROXY/NO_PROXY honoured.
 */
export async function createUndiciHttp(tls: TlsOptions = {}, env: NodeJS.ProcessEnv = process.env): Promise<Http> {
  const connect = {
    ca: readTlsFile(tls.caFile, "--cacert"),
    cert: readTlsFile(tls.certFile, "--cert"),
    key: readTlsFile(tls.keyFile, "--key"),
    rejectUnauthorized: tls.insecure !== true,
  };
  if ((connect.cert === undefined) !== (connect.key === undefined)) {
    throw new UsageError("--cert and --key go together: a client certificate needs its key");
  }
  const options = { keepAliveTimeout: 4_000, connections: 32, connect };
  let dispatcher: Dispatcher;
  if (PROXY_VARIABLES.some((name) => (env[name] ?? "") !== "")) {
    // Only runs that have a proxy pay for loading undici's whole index: the proxy agent
    // needs the connect API that the index installs on every dispatcher.
    // (Bundled, the CommonJS module's exports arrive as the namespace's default.)
    const undici = (await import("undici")) as typeof import("undici") & { default?: typeof import("undici") };
    const { EnvHttpProxyAgent } = undici.default ?? undici;
    dispatcher = new EnvHttpProxyAgent({ ...options, requestTls: connect });
  } else {
    dispatcher = new Agent(options);
  }
  return {
    async send(req: HttpRequest): Promise<HttpResult> {
      const signal = AbortSignal.timeout(req.timeoutMs);
      try {
        const url = new URL(req.url);
        // zlib is loaded only for --gzip: a plain push spares its start-up.
        const body = req.body === undefined ? undefined : req.gzip ? (await import("node:zlib")).gzipSync(req.body) : req.body;
        const response = await request.call(dispatcher, {
          origin: url.origin,
          path: url.pathname + url.search,
          method: req.method,
          headers: req.headers,
          body,
          signal,
          headersTimeout: req.timeoutMs,
          bodyTimeout: req.timeoutMs,
        });
        const text = await response.body.text();
        return {
          kind: "response",
          status: response.statusCode,
          statusText: statusText(response.statusCode),
          headers: {
            location: header(response.headers["location"]),
            "retry-after": header(response.headers["retry-after"]),
          },
          body: text,
        };
      } catch (error) {
        const code = (error as { code?: string }).code;
        const timedOut = signal.aborted || code === "UND_ERR_HEADERS_TIMEOUT" || code === "UND_ERR_BODY_TIMEOUT" || code === "UND_ERR_CONNECT_TIMEOUT";
        return { kind: "failure", timedOut, message: timedOut ? `no answer within ${req.timeoutMs} ms` : describeError(error) };
      }
    },
    close: () => dispatcher.close(),
  };
}

function readTlsFile(path: string | undefined, flag: string): Buffer | undefined {
  if (path === undefined) return undefined;
  try {
    return readFileSync(path);
  } catch (error) {
    throw new UsageError(`${flag} ${path}: cannot read it (${(error as NodeJS.ErrnoException).code ?? "error"})`);
  }
}

function header(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value;
}

function describeError(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  const cause = (error as { cause?: unknown }).cause;
  const base = error.message || error.name;
  const detail = cause instanceof Error && cause.message && !base.includes(cause.message) ? `${base}: ${cause.message}` : base;
  const code = (error as { code?: string }).code ?? (cause as { code?: string } | undefined)?.code;
  // TLS failures deserve a word on what to do.
  if (code && /CERT|SELF_SIGNED|UNABLE_TO_VERIFY|ERR_TLS/.test(code)) return `${detail} (${code}; give the CA with --cacert)`;
  return detail;
}
