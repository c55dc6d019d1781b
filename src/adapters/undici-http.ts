import { setFlagsFromString } from "node:v8";
import Agent from "undici/lib/dispatcher/agent.js";
import request from "undici/lib/api/api-request.js";
import type { Http, HttpRequest, HttpResult } from "../app/ports.js";
import { statusText } from "../core/delivery.js";

// undici parses HTTP with a WebAssembly module. By default V8 then recompiles its hot
// functions with TurboFan on background threads, and Node waits for those threads before it
// exits: about 160 ms added to every pushgw run, for an optimisation a handful of small
// responses never benefits from. Liftoff's baseline code is plenty. (Set before undici
// compiles the module, which it does at the first connection.)
setFlagsFromString("--liftoff-only");

/** The only HTTP client: undici, with redirects never followed and a timeout per attempt. */
export function createUndiciHttp(): Http {
  const agent = new Agent({ keepAliveTimeout: 4_000, connections: 32 });
  return {
    async send(req: HttpRequest): Promise<HttpResult> {
      const signal = AbortSignal.timeout(req.timeoutMs);
      try {
        const url = new URL(req.url);
        const response = await request.call(agent, {
          origin: url.origin,
          path: url.pathname + url.search,
          method: req.method,
          headers: req.headers,
          body: req.body,
          signal,
          headersTimeout: req.timeoutMs,
          bodyTimeout: req.timeoutMs,
        });
        const body = await response.body.text();
        return {
          kind: "response",
          status: response.statusCode,
          statusText: statusText(response.statusCode),
          headers: {
            location: header(response.headers["location"]),
            "retry-after": header(response.headers["retry-after"]),
          },
          body,
        };
      } catch (error) {
        const code = (error as { code?: string }).code;
        const timedOut = signal.aborted || code === "UND_ERR_HEADERS_TIMEOUT" || code === "UND_ERR_BODY_TIMEOUT" || code === "UND_ERR_CONNECT_TIMEOUT";
        return { kind: "failure", timedOut, message: timedOut ? `no answer within ${req.timeoutMs} ms` : describeError(error) };
      }
    },
    close: () => agent.close(),
  };
}

function header(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value;
}

function describeError(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  const cause = (error as { cause?: unknown }).cause;
  const base = error.message || error.name;
  return cause instanceof Error && cause.message && !base.includes(cause.message) ? `${base}: ${cause.message}` : base;
}
