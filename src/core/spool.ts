import { createHash } from "node:crypto";
import { parseGatewayUrl } from "./delivery.js";
import { buildGroupingPath, parseGroupingPath } from "./grouping-key.js";

/**
 * What pushgw accepts from its spool directory. The spool is read by runs that hold secrets
 * (credentials, -H headers, client certificates) and sends what it finds: a file pushgw did not
 * write must never steer where those go. So every entry read back is held to exactly what pushgw
 * itself writes, and directories are used only when nobody else could have written into them.
 */

/** A write the gateway did not take in time, kept to be sent later, in order. */
export interface SpooledCall {
  readonly version: 1;
  readonly method: "PUT" | "POST" | "DELETE";
  /** The gateway's base URL, never with credentials (they are applied again when sent). */
  readonly baseUrl: string;
  /** The grouping-key path, exactly as `buildGroupingPath` makes it. */
  readonly path: string;
  /** The text-format body; absent for DELETE. */
  readonly body?: string | undefined;
  readonly savedAt: number;
}

/** A larger push is not spooled (and a larger file in the spool was not written by pushgw). */
export const MAX_SPOOLED_BODY_BYTES = 64 * 1024 * 1024;
/** The body, JSON-escaped (at most 6 bytes per byte of text), and the other fields. */
export const MAX_SPOOL_FILE_BYTES = 6 * MAX_SPOOLED_BODY_BYTES + 64 * 1024;

const FIELDS: ReadonlySet<string> = new Set(["version", "method", "baseUrl", "path", "body", "savedAt"]);
const METHODS: ReadonlySet<unknown> = new Set(["PUT", "POST", "DELETE"]);

/** The folder below the spool directory that holds one gateway's queue: readable, and unique per URL. */
export function spoolFolderName(baseUrl: string): string {
  let readable: string;
  try {
    const url = new URL(baseUrl);
    readable = `${url.hostname}_${url.port || (url.protocol === "https:" ? "443" : "80")}`;
  } catch {
    readable = "invalid";
  }
  return `${readable.replace(/[^A-Za-z0-9._-]/g, "_")}-${createHash("sha256").update(baseUrl).digest("hex").slice(0, 12)}`;
}

/**
 * The call a parsed spool file holds, when it is exactly what pushgw writes into the folder
 * `folder`; otherwise why it is not (shown to people, so it quotes little and escapes all).
 */
export function checkSpooledCall(value: unknown, folder: string): { readonly call: SpooledCall } | { readonly problem: string } {
  if (typeof value !== "object" || value === null || Array.isArray(value)) return { problem: "it is not a JSON object" };
  const fields = value as Record<string, unknown>;
  const unknown = Object.keys(fields).find((name) => !FIELDS.has(name));
  if (unknown !== undefined) return { problem: `it has a field pushgw never writes: ${quote(unknown)}` };
  const { version, method, baseUrl, path, body, savedAt } = fields;
  if (version !== 1) return { problem: `its version is ${quote(version)}, not 1` };
  if (!METHODS.has(method)) return { problem: `its method ${quote(method)} is not PUT, POST or DELETE` };
  if (typeof baseUrl !== "string") return { problem: `its gateway (baseUrl) is ${baseUrl === undefined ? "missing" : `not text: ${quote(baseUrl)}`}` };
  if (!isBaseUrl(baseUrl)) return { problem: `its gateway ${quote(baseUrl)} is not a base URL pushgw writes (http or https, no credentials, query or trailing slash)` };
  if (spoolFolderName(baseUrl) !== folder) return { problem: `it names the gateway ${quote(baseUrl)}, but lies in another gateway's folder (${quote(folder)})` };
  if (typeof path !== "string") return { problem: `its path is ${path === undefined ? "missing" : `not text: ${quote(path)}`}` };
  const parsed = parseGroupingPath(path);
  if ("problem" in parsed) return { problem: `its path ${quote(path)} is not a grouping-key path: ${parsed.problem}` };
  if (buildGroupingPath(parsed.key) !== path) return { problem: `its path ${quote(path)} is not the path pushgw builds for that group (${quote(buildGroupingPath(parsed.key))})` };
  if (method === "DELETE") {
    if (body !== undefined) return { problem: "it is a DELETE with a body" };
  } else {
    if (typeof body !== "string") return { problem: `its body is ${body === undefined ? "missing" : `not text: ${quote(body)}`}` };
    if (utf8Length(body) > MAX_SPOOLED_BODY_BYTES) return { problem: `its body is larger than ${MAX_SPOOLED_BODY_BYTES} bytes` };
  }
  if (typeof savedAt !== "number" || !Number.isFinite(savedAt)) return { problem: `the time it was saved (savedAt) is ${savedAt === undefined ? "missing" : `not a number: ${quote(savedAt)}`}` };
  return { call: { version: 1, method: method as SpooledCall["method"], baseUrl, path, ...(body === undefined ? {} : { body: body as string }), savedAt } };
}

/** What `--gateway` turns into: a URL parseGatewayUrl gives back unchanged, without credentials. */
function isBaseUrl(text: string): boolean {
  try {
    const endpoint = parseGatewayUrl(text);
    return endpoint.baseUrl === text && endpoint.urlCredentials === undefined;
  } catch {
    return false;
  }
}

export function utf8Length(text: string): number {
  let bytes = text.length;
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i);
    const next = text.charCodeAt(i + 1);
    if (code >= 0xd800 && code <= 0xdbff && next >= 0xdc00 && next <= 0xdfff) {
      bytes += 2; // a surrogate pair: 2 units, 4 bytes
      i++;
    } else if (code >= 0x800) bytes += 2; // a lone surrogate is written as U+FFFD: 3 bytes
    else if (code >= 0x80) bytes += 1;
  }
  return bytes;
}

/** A short JSON rendering of a value from a file: control characters escaped, long values cut. */
function quote(value: unknown): string {
  let text: string;
  try {
    text = JSON.stringify(value) ?? String(value);
  } catch {
    text = String(value);
  }
  return text.length > 80 ? `${text.slice(0, 77)}...` : text;
}

/** What `lstat` says about a directory pushgw is about to trust. */
export interface DirectoryFacts {
  readonly path: string;
  readonly isDirectory: boolean;
  readonly isSymbolicLink: boolean;
  readonly uid: number;
  readonly mode: number;
}

export interface DirectoryProblem {
  readonly problem: string;
  readonly hint: string;
}

/**
 * Why a directory must not be used, as ssh judges ~/.ssh, or undefined when it may be.
 * `spool`: the spool directory and its folders, which pushgw reads and sends from: a real
 * directory (not a symbolic link), owned by the user running pushgw, writable by nobody else.
 * `parent`: a directory above it: owned by root or the user, and, when others may write to it,
 * with the sticky bit (/tmp), so that nobody else can rename or replace what lies below.
 */
export function directoryProblem(facts: DirectoryFacts, uid: number, role: "spool" | "parent"): DirectoryProblem | undefined {
  const mode = `mode ${(facts.mode & 0o7777).toString(8).padStart(4, "0")}`;
  if (role === "spool") {
    if (facts.isSymbolicLink) return { problem: `${facts.path} is a symbolic link`, hint: "pushgw reads and writes only real directories there: remove the link, or give --spool the directory it points to" };
    if (!facts.isDirectory) return { problem: `${facts.path} is not a directory`, hint: "give a directory for --spool (pushgw makes it when it is missing)" };
    if (facts.uid !== uid) return { problem: `${facts.path} belongs to uid ${facts.uid}, not to uid ${uid} running pushgw`, hint: `anyone owning it could plant calls that pushgw would send: chown ${uid} ${facts.path}, or give a spool of your own` };
    if ((facts.mode & 0o022) !== 0) return { problem: `${facts.path} is writable by ${(facts.mode & 0o002) !== 0 ? "others" : "its group"} (${mode})`, hint: `anyone who can write there could plant calls that pushgw would send: chmod 700 ${facts.path}` };
    return undefined;
  }
  if (facts.uid !== 0 && facts.uid !== uid) return { problem: `its parent ${facts.path} belongs to uid ${facts.uid}, neither root nor uid ${uid} running pushgw`, hint: `its owner could replace the spool: use a spool below directories owned by root or by you` };
  if ((facts.mode & 0o002) !== 0 && (facts.mode & 0o1000) === 0) return { problem: `its parent ${facts.path} is writable by others without the sticky bit (${mode})`, hint: `anyone could replace the spool: chmod o-w ${facts.path} (or chmod +t, as /tmp), or use another directory` };
  return undefined;
}
