import type { GatewayError, ToolError } from "../core/errors.js";
import type { GatewayEndpoint, RetryPolicy, TransportFailureReason } from "../core/delivery.js";
import type { JobOutcome } from "../core/wrap-metrics.js";
import type { RunCost } from "../core/run-cost.js";
import type { SpooledCall } from "../core/spool.js";
import type { GroupingKey } from "../core/grouping-key.js";
import type { Group } from "../core/groups.js";
import type { Target } from "./targets/names.js";

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
  readonly body?: string | Uint8Array | undefined;
  /** Compress the body (the content-encoding header is already set). */
  readonly gzip?: boolean | undefined;
  /** The whole exchange, answer included, ends within this. */
  readonly timeoutMs: number;
  /** Read at most this much of the answer; the rest is never read (a server may stream forever). */
  readonly maxBodyBytes: number;
}

/** --cacert, --cert, --key (their contents, already read and checked), --insecure. */
export interface TlsMaterial {
  readonly ca?: Uint8Array | undefined;
  readonly cert?: Uint8Array | undefined;
  readonly key?: Uint8Array | undefined;
  readonly insecure?: boolean | undefined;
}

export type HttpResult =
  | {
      readonly kind: "response";
      readonly status: number;
      readonly statusText: string;
      readonly headers: Readonly<Record<string, string | undefined>>;
      readonly body: string;
      /** The answer was longer than maxBodyBytes: `body` holds only its start. */
      readonly truncated: boolean;
    }
  | { readonly kind: "failure"; readonly reason: TransportFailureReason; readonly message: string };

/** One attempt at one HTTP exchange. Retrying is the use case's decision. Never throws. */
export interface Http {
  send(request: HttpRequest): Promise<HttpResult>;
  /** The proxy this URL goes through (credentials hidden), or undefined for a direct connection. */
  proxyFor(url: string): string | undefined;
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
  /** Asks a yes/no question on the terminal; only called when stdin is one. */
  confirm(question: string): Promise<boolean>;
  readFile(path: string): Promise<Uint8Array>;
  /** Who may read a file: its permission bits and owner (for secret files), or undefined if it cannot be told. */
  fileAccess(path: string): Promise<{ readonly mode: number; readonly uid: number; readonly regular: boolean } | undefined>;
  readStdin(): Promise<Uint8Array>;
}

export interface Output {
  /** The command's product, on stdout: dry-run requests, listings. A tone colours it on a terminal. */
  result(text: string, tone?: Tone): void;
  /** Progress and confirmations on stderr; silenced by --quiet. */
  info(text: string): void;
  /** Only with --verbose, on stderr. */
  verbose(text: string): void;
  /** Something went wrong but the command goes on; stderr, silenced by --quiet. */
  warn(text: string): void;
  /** The failure that ends the command; always shown. */
  error(error: ToolError): void;
  /** A line that rewrites itself on a terminal (`deleting 340/1000`); nothing elsewhere. */
  progress(text: string): void;
  /** Clears the progress line. */
  progressDone(): void;
}

export type Tone = "plain" | "dim" | "stale" | "failed";

export interface JobSpec {
  readonly argv: readonly string[];
  /** Added to the wrapper's own environment. */
  readonly env: Readonly<Record<string, string>>;
  /** Removed from the environment the job inherits (secrets given to pushgw, not to the job). */
  readonly unsetEnv?: readonly string[];
  /** Keep the job's output (--quiet-success) instead of letting it through. */
  readonly captureOutput: boolean;
  readonly maxRuntimeMs: number | undefined;
  readonly killGraceMs: number;
  /** The job's private directory (the scratch file's), where the standalone executable puts its `pushgw`; none: nowhere. */
  readonly privateDir?: string | undefined;
}

/** Output kept by --quiet-success, in the order it came. */
export interface CapturedOutput {
  /** Writes it to the wrapper's stdout and stderr, each stream to its own. */
  replay(): Promise<void>;
  discard(): Promise<void>;
}

export interface JobResult {
  readonly outcome: JobOutcome;
  readonly output: CapturedOutput | undefined;
  /**
   * What pushgw's own machinery could not do while the job ran (keep its output, stop reading
   * a pipe a daemon held open), each said once after the job ended. The job was not touched.
   */
  readonly notes: readonly string[];
  /** Errors in pushgw itself caught while the job ran, instead of ending the wrapper. */
  readonly internalErrors: readonly unknown[];
  /** What the run cost (CPU, peak memory); undefined when the job never started or /proc could not be read. */
  readonly cost?: RunCost | undefined;
}

/**
 * A file the job may write its own metrics into, in a fresh directory of its own (mode 0700)
 * inside one no other user can write to (core/private-dir.ts), so that its name cannot be made
 * again by someone else once it is removed.
 */
export interface ScratchFile {
  readonly path: string;
  /** The private directory it lives in (the relay's socket and the standalone's `pushgw` go there too). */
  readonly dir: string;
  read(): Promise<Uint8Array>;
  remove(): Promise<void>;
}

export interface JobRunner {
  /** Starts the job at once (before the promise settles) and resolves when it has ended. */
  run(spec: JobSpec): Promise<JobResult>;
  createScratchFile(): Promise<ScratchFile>;
}

export type { SpooledCall } from "../core/spool.js";

export interface SpoolEntry {
  readonly id: string;
  readonly call: SpooledCall;
}

/** A file moved out of a queue into DIR/set-aside, never to be sent unless a person says so. */
export interface SetAsideNote {
  readonly where: string;
  readonly why: string;
}

/**
 * The spool directory (--spool). Safe to share between concurrent pushgw runs. Everything it
 * hands out was checked to be exactly what pushgw writes, in a directory only this user can
 * write (see core/spool.ts); anything else found is set aside on the way and reported.
 * A directory that fails the checks makes every method throw a UsageError saying why.
 */
export interface Spool {
  readonly dir: string;
  /** Writes atomically (a half-written entry is never seen); returns the file's path. */
  save(call: SpooledCall): Promise<string>;
  /** Pending entries for one gateway, oldest first. */
  list(baseUrl: string): Promise<{ readonly entries: SpoolEntry[]; readonly setAside: SetAsideNote[] }>;
  /** Every gateway with pending entries. */
  gateways(): Promise<{ readonly baseUrls: string[]; readonly setAside: SetAsideNote[] }>;
  remove(entry: SpoolEntry): Promise<void>;
  /** Moves an entry the gateway refused for good out of the queue, keeping it for a person. */
  setAside(entry: SpoolEntry): Promise<string>;
  /** Puts set-aside entries back into their queues, checked again; says which stay and why. */
  restoreSetAside(): Promise<{ readonly restored: number; readonly kept: SetAsideNote[] }>;
  /** Takes the gateway's delivery lock; undefined while another live pushgw holds it. */
  lock(baseUrl: string): Promise<(() => Promise<void>) | undefined>;
}

/** A `*.prom` file of the textfile directory, as read. */
export interface PromFileBytes {
  readonly name: string;
  readonly bytes: Uint8Array;
}

/** What becomes of a file under its lock: new text, removed (null), or left as it is (undefined). */
export interface TextfileDecision<R> {
  readonly write: string | null | undefined;
  readonly result: R;
}

/**
 * The directory node_exporter's textfile collector reads (--textfile-dir). Checked when opened
 * as the spool is (a real directory of this user's that nobody else may write, below
 * directories nobody else may rename things in): otherwise opening throws a UsageError.
 */
export interface TextfileDirectory {
  /** The directory's absolute path, for messages. */
  readonly dir: string;
  /**
   * The `*.prom` files node_exporter reads there (but `except`), never through a link; those
   * that are no regular file or cannot be read are said in `skipped`.
   */
  readAll(except?: string): Promise<{ readonly files: PromFileBytes[]; readonly skipped: ReadonlyArray<{ readonly name: string; readonly why: string }> }>;
  /**
   * Holds the lock of one file while `decide` looks at its current text (undefined when there is
   * none) and says what it becomes; a new text is written whole (temporary file, fsync, rename),
   * mode 0644. Waits at most `waitMs` for the lock. Throws a GatewayError when the file there is
   * not pushgw's own (a link, another user's) or the lock stays taken, and what the file system
   * throws; `decide`'s own errors pass through.
   */
  update<R>(name: string, waitMs: number, decide: (current: string | undefined) => Promise<TextfileDecision<R>>): Promise<R>;
}

/**
 * A write a `pushgw add` inside a wrapped job hands to its wrapper, which holds the
 * credentials: the job gets the means to push into its own group, never the secrets.
 */
export interface RelayedCall {
  readonly method: "PUT" | "POST";
  readonly path: string;
  readonly body: string;
}

export type RelayAnswer =
  /** `input`: a failure the target refused as bad input before writing (exit 2 in the job). */
  | { readonly outcomes: ReadonlyArray<{ readonly kind: "delivered" | "failed" | "spooled"; readonly url: string; readonly message?: string; readonly hint?: string; readonly input?: true }> }
  /** Not passed on: why (exit 2 for bad input, 1 otherwise). */
  | { readonly refused: { readonly message: string; readonly hint?: string; readonly exitCode: number } };

export interface RelayServer {
  close(): Promise<void>;
}

/** A Unix socket between the wrapper and the pushgw runs inside its job. */
export interface Relay {
  /** Listens at `path` (in a private directory) until closed; `handle` gets what a client sent, unchecked. */
  serve(path: string, handle: (request: unknown) => Promise<RelayAnswer>): Promise<RelayServer>;
  /** Hands one call to the wrapper listening at `path`; a failure to reach it comes back as `unreachable`. */
  send(path: string, call: RelayedCall, timeoutMs: number): Promise<RelayAnswer | { readonly unreachable: string }>;
}

/** An flock(2) held on an open file; the kernel drops it when the wrapper ends, however it ends. */
export interface HeldLock {
  readonly path: string;
  /** The whole number kept in the file (0 when there is none); only the skip count file holds one. */
  readCount(): Promise<number>;
  writeCount(count: number): Promise<void>;
  release(): Promise<void>;
}

/** wrap --lock's files (adapters/flock-lock.ts). */
export interface Locks {
  /** The group's lock file when --lock names none, in a directory only this user can write (core/private-dir.ts); a UsageError when there is none. */
  defaultFile(key: GroupingKey): Promise<string>;
  /**
   * Opens `path` (creating it, never through a link) and locks it: at once, or waiting up to
   * `waitMs`. "busy" when another process holds it. A file or directory that cannot be trusted,
   * or no flock(1) to lock with, is a UsageError.
   */
  take(path: string, waitMs: number | undefined): Promise<HeldLock | "busy">;
}

/** How chatty the command may be, from -q / -v. */
export interface OutputSettings {
  readonly quiet: boolean;
  readonly verbose: boolean;
}

export interface Deps {
  /** A new HTTP client with this TLS material; undici loads only at the first one. */
  readonly http: (tls?: TlsMaterial) => Promise<Http>;
  /** Loaded only by wrap: process spawning costs start-up time the other commands need not pay. */
  readonly jobs: () => Promise<JobRunner>;
  readonly clock: Clock;
  readonly input: Input;
  readonly out: Output;
  /** The wrapper's relay; loaded only by wrap and by a pushgw inside a wrapped job. */
  readonly relay: () => Promise<Relay>;
  /** wrap --lock's locks; loaded only by runs that use it. */
  readonly locks: () => Promise<Locks>;
  /** The spool in a directory; loaded only by runs that use --spool. */
  readonly spool: (dir: string) => Promise<Spool>;
  /** The textfile directory (--target textfile); loaded only by runs that use it. */
  readonly textfiles: (dir: string) => Promise<TextfileDirectory>;
  /** A number in [0, 1) for retry jitter. */
  readonly random: () => number;
  readonly version: string;
  /** What receivers said of themselves, kept between runs; none in tests and where there is no private cache directory. */
  readonly receiverMemory?: ReceiverMemoryFile | undefined;
}

/**
 * A small file of what receivers said of themselves (core/receiver-rules.ts decides what it
 * holds), in pushgw's cache directory when that is private (adapters/receiver-memory.ts).
 */
export interface ReceiverMemoryFile {
  /** Its text; undefined when there is none or it cannot be read. */
  read(): Promise<string | undefined>;
  /** Replaces it whole; a failure is ignored (the memory only spares requests). */
  write(text: string): Promise<void>;
}

/**
 * The crontabs `pushgw cron` reads and rewrites (adapters/crontabs.ts). Files are read and
 * written only when safe for root: a regular file, never through a link, that no other user can
 * write, in a directory no other user can write into; otherwise a UsageError says why.
 */
export interface Crontabs {
  /** `crontab -l` (with `-u USER`); "" when there is none. */
  readUserCrontab(user: string | undefined): Promise<string>;
  /** `crontab -` (with `-u USER`), so cron reloads it; a refusal is a WriteError with crontab's words. */
  writeUserCrontab(user: string | undefined, text: string): Promise<void>;
  readFile(path: string): Promise<string>;
  /** Replaces the file whole (temporary file beside it, same mode and owner, fsync, rename), never through a link. */
  replaceFile(path: string, text: string): Promise<void>;
  /** Saves each text under its name in a new directory only this user can read (under `dir`, else the default); returns its path. */
  saveBackup(dir: string | undefined, files: ReadonlyArray<{ readonly name: string; readonly text: string }>): Promise<string>;
  /** The absolute path of the pushgw running now, as cron should call it. */
  readonly pushgwPath: string;
  /** That path is a script run by `#!/usr/bin/env node`, and cron's default PATH (/usr/bin:/bin) holds no node. */
  readonly nodeMissingFromCronPath: boolean;
  /** Why root's crontabs must not name pushgwPath (a directory above it another user can write), if so. */
  readonly pushgwPathProblem?: string | undefined;
  /** The zone cron's entries run in when no CRON_TZ or TZ says otherwise. */
  readonly localZone: string;
}

/**
 * The one way pushgw talks to its gateways (app/gateway.ts opens it, through the target's module
 * in app/targets/). Built once per run, before anything is sent (and before wrap starts its
 * job): secrets and TLS files are read and checked then, so that a mistake in them is a usage
 * error (exit 2) and never a surprise halfway. Every method that sends returns what became of
 * the call as a value and never throws: a gateway that is down, a proxy variable that names
 * nothing, a spool on a full disk are results, not exceptions.
 */
export interface Gateway {
  readonly target: Target;
  /** The gateways this run names, as base URLs (the textfile target: its directory). */
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

export interface GatewayCall {
  readonly method: HttpMethod;
  /** Below the gateway's base URL: `/metrics/job/…`, or empty for a remote-write endpoint. */
  readonly path: string;
  /** The text format, or for remote write and OTLP the protobuf. */
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

/** The commands that open a Gateway, for refusals: delete, list and prune need groups; flush a spool; doctor a Pushgateway. */
export type GatewayCommand = "push" | "add" | "delete" | "wrap" | "list" | "prune" | "delete --match" | "flush" | "doctor";

/** Hooks the spool offers the gateway (spool-queue.ts), passed in to keep the layers apart. */
export type SpoolWriter = (call: GatewayCall, baseUrl: string, gateway: Gateway, deps: Deps, limits: DeliveryLimits) => Promise<CallOutcome>;

export interface OpenGatewayOptions {
  /** The command, for refusals. */
  readonly command: GatewayCommand;
  /** The spool's writer, for runs with --spool (push, add, delete, wrap). */
  readonly spoolWriter?: SpoolWriter | undefined;
}
