import { execFileSync } from "node:child_process";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ensureTool } from "./prometheus.js";

/** A throw-away CA, a server certificate for 127.0.0.1, and a client certificate, made with openssl. */
export interface TestCertificates {
  readonly dir: string;
  readonly caCert: string;
  readonly serverCert: string;
  readonly serverKey: string;
  readonly clientCert: string;
  readonly clientKey: string;
}

export function makeCertificates(): TestCertificates {
  ensureTool("openssl", "openssl");
  const dir = mkdtempSync(join(tmpdir(), "pushgw-tls-"));
  const at = (name: string) => join(dir, name);
  const openssl = (...args: string[]) => execFileSync("openssl", args, { stdio: ["ignore", "ignore", "pipe"] });
  openssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj", "/CN=pushgw test CA", "-keyout", at("ca.key"), "-out", at("ca.crt"));
  writeFileSync(at("server.ext"), "subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth\n");
  writeFileSync(at("client.ext"), "extendedKeyUsage=clientAuth\n");
  for (const [who, ext] of [["server", "server.ext"], ["client", "client.ext"]] as const) {
    openssl("req", "-newkey", "rsa:2048", "-nodes", "-subj", `/CN=pushgw test ${who}`, "-keyout", at(`${who}.key`), "-out", at(`${who}.csr`));
    openssl("x509", "-req", "-in", at(`${who}.csr`), "-CA", at("ca.crt"), "-CAkey", at("ca.key"), "-CAcreateserial", "-days", "2", "-extfile", at(ext), "-out", at(`${who}.crt`));
  }
  return { dir, caCert: at("ca.crt"), serverCert: at("server.crt"), serverKey: at("server.key"), clientCert: at("client.crt"), clientKey: at("client.key") };
}
