import { redactUrlText } from "./delivery.js";

/**
 * Header names that carry a secret by their look: their values are never printed (--verbose,
 * --dry-run, errors, the command line `ps` shows). Better to hide a harmless header than to show
 * a token: any name holding one of these words, wherever it stands (Ocp-Apim-Subscription-Key,
 * Private-Key, X-Amz-Security-Token), and every Proxy- header. test/fixtures/secrets lists the
 * names it is held to.
 */
const SECRET_HEADER = /auth|token|secret|passw|pwd|key|cookie|session|credential|signature|jwt|bearer|csrf|xsrf|^proxy-/i;

export function isSecretHeaderName(name: string): boolean {
  return SECRET_HEADER.test(name);
}

/**
 * Why no HTTP request can carry this header value, or undefined when one can: a line break
 * or another control character, or a character beyond Latin-1 (header bytes are Latin-1).
 * Said without the value, which is often a secret.
 */
export function headerValueProblem(value: string): string | undefined {
  if (/[\u0000-\u0008\u000a-\u001f\u007f]/.test(value)) return "holds a control character (a line break, a NUL…), which no HTTP header may carry";
  if (/[^\u0000-\u00ff]/.test(value)) return "holds a character beyond Latin-1, which no HTTP header may carry";
  return undefined;
}

/**
 * The command line as `ps` may show it, secrets replaced by `***`: the password of
 * `-u NAME:PASSWORD` (and `--user`), credentials in a --gateway URL, and the value of a -H
 * header that looks secret. The wrapped command after `--` is the job's and is left alone.
 */
export function redactArgv(args: readonly string[]): string[] {
  const out: string[] = [];
  let next: "user" | "gateway" | "header" | undefined;
  for (let i = 0; i < args.length; i++) {
    const arg = args[i]!;
    if (arg === "--") {
      // One word at a time: an argument list can hold more words than a call can take arguments.
      for (let j = i; j < args.length; j++) out.push(args[j]!);
      break;
    }
    if (next !== undefined) {
      out.push(redactValue(next, arg));
      next = undefined;
      continue;
    }
    // --user=alice:pw and -ualice:pw carry the value in the same word.
    const inline = /^(--user=|--gateway=|--header=|-u|-g|-H)(.+)$/s.exec(arg);
    const inlineKind = inline ? kindOf(inline[1]!.replace(/=$/, "")) : undefined;
    if (inline && inlineKind !== undefined) {
      out.push(`${inline[1]}${redactValue(inlineKind, inline[2]!)}`);
      continue;
    }
    const flag = kindOf(arg);
    if (flag !== undefined) next = flag;
    out.push(arg);
  }
  return out;
}

function kindOf(flag: string): "user" | "gateway" | "header" | undefined {
  if (flag === "-u" || flag === "--user") return "user";
  if (flag === "-g" || flag === "--gateway") return "gateway";
  if (flag === "-H" || flag === "--header") return "header";
  return undefined;
}

function redactValue(kind: "user" | "gateway" | "header", value: string): string {
  if (kind === "user") {
    const colon = value.indexOf(":");
    return colon < 0 ? value : `${value.slice(0, colon)}:***`;
  }
  if (kind === "gateway") return value.includes("@") ? redactUrlText(value) : value;
  const colon = value.indexOf(":");
  return colon > 0 && isSecretHeaderName(value.slice(0, colon).trim()) ? `${value.slice(0, colon)}: ***` : value;
}
