/**
 * Which proxy a request goes through, decided from HTTPS_PROXY, HTTP_PROXY and NO_PROXY the
 * way curl reads them. Decided here (rather than inside undici's EnvHttpProxyAgent) so that
 * --verbose can say exactly which proxy a request used, and so that a variable curl accepts
 * (`HTTP_PROXY=proxy:3128`, no scheme) works here too instead of failing the run.
 */
import { redactUrlText } from "./delivery.js";

export type ProxyDecision =
  | { readonly kind: "direct" }
  | { readonly kind: "proxy"; readonly url: string; readonly shown: string; readonly variable: string }
  /** The variable is set but names no usable proxy: the request fails with this reason. */
  | { readonly kind: "invalid"; readonly variable: string; readonly shown: string; readonly why: string };

type Env = Readonly<Record<string, string | undefined>>;

export function chooseProxy(target: string, env: Env): ProxyDecision {
  let url: URL;
  try {
    url = new URL(target);
  } catch {
    return { kind: "direct" };
  }
  const names = url.protocol === "https:" ? ["https_proxy", "HTTPS_PROXY"] : ["http_proxy", "HTTP_PROXY"];
  const variable = names.find((name) => (env[name] ?? "").trim() !== "");
  if (variable === undefined) return { kind: "direct" };
  const noProxy = env["no_proxy"] ?? env["NO_PROXY"] ?? "";
  if (bypassesProxy(url, noProxy)) return { kind: "direct" };
  return parseProxyUrl(env[variable]!.trim(), variable);
}

/** `proxy:3128` → `http://proxy:3128`, as curl reads it; only http and https proxies are spoken. */
export function parseProxyUrl(text: string, variable: string): ProxyDecision {
  const withScheme = /^[a-zA-Z][a-zA-Z0-9+.-]*:\/\//.test(text) ? text : `http://${text}`;
  const shown = redactUrlText(withScheme);
  let url: URL;
  try {
    url = new URL(withScheme);
  } catch {
    return { kind: "invalid", variable, shown, why: `${variable} "${shown}" is not a URL` };
  }
  if (url.protocol !== "http:" && url.protocol !== "https:") {
    return { kind: "invalid", variable, shown, why: `${variable} "${shown}": pushgw speaks to http:// and https:// proxies only, not ${url.protocol}//` };
  }
  if (url.hostname === "") return { kind: "invalid", variable, shown, why: `${variable} "${shown}" names no host` };
  return { kind: "proxy", url: url.href, shown: redactUrlText(url.href), variable };
}

/**
 * NO_PROXY: `*`, host names (matching the name and its subdomains, with or without a leading
 * dot), `host:port`, IP addresses and IPv4 CIDR blocks, separated by commas or spaces.
 */
export function bypassesProxy(url: URL, noProxy: string): boolean {
  const host = url.hostname.replace(/^\[|\]$/g, "").toLowerCase();
  const port = url.port || (url.protocol === "https:" ? "443" : "80");
  for (const raw of noProxy.split(/[\s,]+/)) {
    const entry = raw.trim().toLowerCase();
    if (entry === "") continue;
    if (entry === "*") return true;
    let name = entry;
    let entryPort: string | undefined;
    const portMatch = /^(.*[^:]):(\d+)$/.exec(entry);
    if (portMatch && !entry.startsWith("[") && entry.split(":").length === 2) {
      name = portMatch[1]!;
      entryPort = portMatch[2];
    } else if (/^\[.*\]:\d+$/.test(entry)) {
      const at = entry.lastIndexOf(":");
      name = entry.slice(1, at - 1);
      entryPort = entry.slice(at + 1);
    }
    if (entryPort !== undefined && entryPort !== port) continue;
    name = name.replace(/^\[|\]$/g, "");
    if (name.includes("/")) {
      if (inCidr(host, name)) return true;
      continue;
    }
    const bare = name.replace(/^\*?\./, "");
    if (host === bare || host.endsWith(`.${bare}`)) return true;
  }
  return false;
}

function inCidr(host: string, cidr: string): boolean {
  const [base, bitsText] = cidr.split("/");
  const bits = Number(bitsText);
  const a = ipv4(host);
  const b = ipv4(base ?? "");
  if (a === undefined || b === undefined || !Number.isInteger(bits) || bits < 0 || bits > 32) return false;
  const mask = bits === 0 ? 0 : (~0 << (32 - bits)) >>> 0;
  return ((a & mask) >>> 0) === ((b & mask) >>> 0);
}

function ipv4(text: string): number | undefined {
  const parts = text.split(".");
  if (parts.length !== 4 || parts.some((p) => !/^\d{1,3}$/.test(p) || Number(p) > 255)) return undefined;
  return parts.reduce((n, p) => ((n << 8) | Number(p)) >>> 0, 0);
}
