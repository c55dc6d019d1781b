import { toBase64 } from "../core/base64.js";
import { UsageError } from "../core/errors.js";
import { headerValueProblem, isSecretHeaderName } from "../core/secrets.js";
import type { Credentials, Deps, SecretSource, TlsFiles, TlsMaterial, TransportOptions } from "./ports.js";

/**
 * Credentials and TLS material: read and checked once, when the gateway is opened, so that a
 * mistake in them is a usage error (exit 2) before anything runs. A secret file others may
 * read is worth a warning.
 */

export async function readTlsMaterial(files: TlsFiles, deps: Deps): Promise<TlsMaterial> {
  if ((files.certFile === undefined) !== (files.keyFile === undefined)) {
    throw new UsageError(files.certFile === undefined ? "--key needs --cert: a private key is used with its certificate" : "--cert needs --key: a client certificate is used with its private key");
  }
  const ca = files.caFile === undefined ? undefined : await readNamedFile(files.caFile, "--cacert", deps);
  // Node ignores a CA file that holds no certificate, and every TLS connection would then fail.
  if (ca !== undefined && !new TextDecoder().decode(ca).includes("-----BEGIN CERTIFICATE-----")) {
    throw new UsageError(`--cacert ${files.caFile}: holds no PEM certificate (-----BEGIN CERTIFICATE-----)`);
  }
  return {
    ca,
    cert: files.certFile === undefined ? undefined : await readNamedFile(files.certFile, "--cert", deps),
    key: files.keyFile === undefined ? undefined : await readNamedFile(files.keyFile, "--key", deps).then(async (bytes) => (await warnIfLoose(files.keyFile!, "--key", deps), bytes)),
    insecure: files.insecure,
  };
}

export async function readAuthorization(credentials: Credentials | undefined, deps: Deps): Promise<string | undefined> {
  if (credentials === undefined) return undefined;
  if (credentials.kind === "basic") {
    const password = await readSecret(credentials.password, "--password-file", deps);
    return `Basic ${toBase64(`${credentials.user}:${password}`)}`;
  }
  const token = await readSecret(credentials.token, "--bearer-token-file", deps);
  const problem = headerValueProblem(token);
  if (problem !== undefined) {
    const from = "file" in credentials.token ? `--bearer-token-file ${credentials.token.file}` : "PUSHGW_BEARER_TOKEN";
    throw new UsageError(`${from}: the token ${problem}`, { hint: "a token is one line: remove blank lines and spaces around it" });
  }
  return `Bearer ${token}`;
}

export function warnAboutExposure(transport: TransportOptions, flagCredentials: boolean, deps: Deps): void {
  const headerAuth = Object.keys(transport.headers).some(isSecretHeaderName);
  for (const gateway of transport.gateways) {
    if (!flagCredentials && !headerAuth && gateway.urlCredentials === undefined) continue;
    const url = new URL(gateway.baseUrl);
    if (url.protocol === "http:" && !isLoopback(url.hostname)) {
      deps.out.warn(`credentials go to ${gateway.baseUrl} over plain http, readable by anyone on the way; use https`);
    }
  }
  if (transport.tls?.insecure) deps.out.warn("--insecure: the gateway's TLS certificate is not checked");
}

async function readSecret(source: SecretSource, flag: string, deps: Deps): Promise<string> {
  if ("value" in source) return source.value;
  const bytes = await readNamedFile(source.file, flag, deps);
  await warnIfLoose(source.file, flag, deps);
  // Files written with `echo` end in a newline that is not part of the secret.
  return new TextDecoder().decode(bytes).replace(/\r?\n$/, "");
}

/** As ssh does for a private key: a secret file others may read is worth a word. */
async function warnIfLoose(file: string, flag: string, deps: Deps): Promise<void> {
  const access = await deps.input.fileAccess(file);
  if (access === undefined || (access.mode & 0o077) === 0) return;
  const mode = access.mode.toString(8).padStart(4, "0");
  // Read or changed (0620: the group may replace the secret pushgw sends), by whom.
  const verb = access.mode & 0o044 ? "read" : "changed";
  const who = access.mode & 0o007 ? "every user" : "its group";
  deps.out.warn(`${flag} ${file} can be ${verb} by ${who} (mode ${mode}); keep a secret to yourself: chmod 600 ${file}`);
}

/** A file a flag names; unreadable or empty is a usage error naming the flag. */
async function readNamedFile(file: string, flag: string, deps: Deps): Promise<Uint8Array> {
  let bytes: Uint8Array;
  try {
    bytes = await deps.input.readFile(file);
  } catch (error) {
    const code = (error as { code?: string }).code;
    throw new UsageError(`${flag} ${file}: cannot read it${code ? ` (${code})` : ""}`);
  }
  if (new TextDecoder().decode(bytes).trim() === "") throw new UsageError(`${flag} ${file}: the file is empty`);
  return bytes;
}

function isLoopback(hostname: string): boolean {
  return hostname === "localhost" || hostname === "[::1]" || hostname === "::1" || /^127\./.test(hostname);
}
