import type { ToolError } from "../core/errors.js";

/**
 * What the use cases need from the outside world. `cli/main.ts` builds the real ones from
 * `adapters/`; tests build small literal ones.
 */

export type HttpMethod = "GET" | "PUT" | "POST" | "DELETE";

export interface HttpRequest {
  readonly method: HttpMethod;
  /** Full URL, never with credentials in it. */
  readonly url: string;
  readonly headers: Readonly<Record<string, string>>;
  readonly body?: string | undefined;
  readonly timeoutMs: number;
}

export type HttpResult =
  | {
      readonly kind: "response";
      readonly status: number;
      readonly statusText: string;
      readonly headers: Readonly<Record<string, string | undefined>>;
      readonly body: string;
    }
  | { readonly kind: "failure"; readonly timedOut: boolean; readonly message: string };

/** One attempt at one HTTP exchange. Retrying is the use case's decision. */
export interface Http {
  send(request: HttpRequest): Promise<HttpResult>;
  close(): Promise<void>;
}

export interface Clock {
  /** Unix epoch milliseconds. */
  now(): number;
  /** Milliseconds from an arbitrary start, never going back. */
  monotonic(): number;
  sleep(ms: number): Promise<void>;
}

export interface Input {
  readonly stdinIsTerminal: boolean;
  readFile(path: string): Promise<Uint8Array>;
  readStdin(): Promise<Uint8Array>;
}

export interface Output {
  /** The command's product, on stdout: dry-run requests, listings. */
  result(text: string): void;
  /** Progress and confirmations on stderr; silenced by --quiet. */
  info(text: string): void;
  /** Only with --verbose, on stderr. */
  verbose(text: string): void;
  /** Something went wrong but the command goes on; stderr, silenced by --quiet. */
  warn(text: string): void;
  /** The failure that ends the command; always shown. */
  error(error: ToolError): void;
}

/** How chatty the command may be, from -q / -v. */
export interface OutputSettings {
  readonly quiet: boolean;
  readonly verbose: boolean;
}

export interface Deps {
  readonly http: () => Promise<Http>;
  readonly clock: Clock;
  readonly input: Input;
  readonly out: Output;
  /** A number in [0, 1) for retry jitter. */
  readonly random: () => number;
  readonly version: string;
}
