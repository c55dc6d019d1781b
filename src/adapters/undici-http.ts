import { STATUS_CODES } from "node:http";
import { Agent, request } from "undici";
import type { Http, HttpRequest, HttpResult } from "../app/ports.js";

/** The only HTTP client: undici, with redirects never followed and a timeout per attempt. */
export function createUndiciHttp(): Http {
  const agent = new Agent({ keepAliveTimeout: 4_000, connections: 32 });
  return {
    async send(req: HttpRequest): Promise<HttpResult> {
      const signal = AbortSignal.timeout(req.timeoutMs);
      try {
        const response = await request(req.url, {
          method: req.method,
          headers: req.headers,
          body: req.body,
          dispatcher: agent,
          signal,
          headersTimeout: req.timeoutMs,
          bodyTimeout: req.timeoutMs,
        });
        const body = await response.body.text();
        return {
          kind: "response",
          status: response.statusCode,
          statusText: STATUS_CODES[response.statusCode] ?? "",
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
