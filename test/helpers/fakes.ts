import type { Clock, Deps, Http, HttpRequest, HttpResult, Input, Output } from "../../src/app/ports.js";
import type { ToolError } from "../../src/core/errors.js";

/** In-memory ports for use-case tests: a scripted HTTP peer, a clock that only pretends to sleep. */
export interface FakeWorld {
  readonly deps: Deps;
  readonly requests: HttpRequest[];
  readonly sleeps: number[];
  readonly printed: { result: string[]; info: string[]; verbose: string[]; warn: string[]; error: ToolError[] };
}

export function fakeWorld(replies: HttpResult[], input: Partial<Input> = {}): FakeWorld {
  const requests: HttpRequest[] = [];
  const sleeps: number[] = [];
  let now = 1_800_000_000_000;
  const clock: Clock = {
    now: () => now,
    monotonic: () => now,
    sleep: async (ms) => {
      sleeps.push(ms);
      now += ms;
    },
  };
  const http: Http = {
    send: async (request) => {
      requests.push(request);
      const reply = replies.shift();
      if (!reply) throw new Error(`no scripted reply for request ${requests.length}`);
      return reply;
    },
    proxyFor: () => undefined,
    close: async () => {},
  };
  const printed: FakeWorld["printed"] = { result: [], info: [], verbose: [], warn: [], error: [] };
  const out: Output = {
    result: (t) => printed.result.push(t),
    info: (t) => printed.info.push(t),
    verbose: (t) => printed.verbose.push(t),
    warn: (t) => printed.warn.push(t),
    error: (e) => printed.error.push(e),
    progress: () => {},
    progressDone: () => {},
  };
  const deps: Deps = {
    http: async () => http,
    jobs: async () => {
      throw new Error("this test runs no jobs");
    },
    spool: async () => {
      throw new Error("this test uses no spool");
    },
    relay: async () => {
      throw new Error("this test uses no relay");
    },
    clock,
    input: {
      stdinIsTerminal: true,
      readFile: async () => {
        throw Object.assign(new Error("no such file"), { code: "ENOENT" });
      },
      readStdin: async () => new Uint8Array(),
      fileAccess: async () => undefined,
      confirm: async () => false,
      ...input,
    },
    out,
    random: () => 0.5,
    version: "9.9.9",
  };
  return { deps, requests, sleeps, printed };
}

export const reply = (status: number, body = "", headers: Record<string, string> = {}): HttpResult => ({
  kind: "response",
  status,
  statusText: "",
  headers,
  body,
  truncated: false,
});

export const connectionRefused: HttpResult = { kind: "failure", reason: "refused", message: "connect ECONNREFUSED 127.0.0.1:9" };
export const timedOut: HttpResult = { kind: "failure", reason: "timeout", message: "no answer within 100 ms" };
