import { readFileSync, writeFileSync } from "node:fs";
import { createServer, type AddressInfo } from "node:net";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startPushgateway, type RunningGateway } from "../helpers/pushgateway.js";
import { runCli } from "../helpers/run-cli.js";
import { startTinyproxy, type RunningProxy } from "../helpers/tinyproxy.js";
import { makeCertificates, type TestCertificates } from "../helpers/tls.js";

const fixtures = fileURLToPath(new URL("../fixtures/transport/", import.meta.url));
const [USER, PASSWORD] = readFileSync(join(fixtures, "users.txt"), "utf8").trim().split("\n") as [string, string];
const BCRYPT = "$2b$04$yQIS/gVFHTI950w0nF4M9eu0qOsPVUn773lBmeq883DYLuYrSQCD2";

let certs: TestCertificates;
let tlsGateway: RunningGateway; // TLS + basic auth
let mtlsGateway: RunningGateway; // TLS + client certificates required
let plainGateway: RunningGateway;
let proxy: RunningProxy;
let tlsUrl: string;
let mtlsUrl: string;

/** Reads a group back over the gateway's own TLS and auth, as a scraper would. */
async function groupsOf(url: string, extra: string[] = []): Promise<Array<{ labels: Record<string, string> }>> {
  const run = await runCli(["list", "--json", "-g", url, "--cacert", certs.caCert, ...extra]);
  expect(run.stderr).toBe("");
  return JSON.parse(run.stdout) as Array<{ labels: Record<string, string> }>;
}

beforeAll(async () => {
  certs = makeCertificates();
  const authConfig = join(certs.dir, "web-auth.yml");
  writeFileSync(authConfig, `tls_server_config:\n  cert_file: ${certs.serverCert}\n  key_file: ${certs.serverKey}\nbasic_auth_users:\n  ${USER}: ${BCRYPT}\n`);
  const mtlsConfig = join(certs.dir, "web-mtls.yml");
  writeFileSync(mtlsConfig, `tls_server_config:\n  cert_file: ${certs.serverCert}\n  key_file: ${certs.serverKey}\n  client_auth_type: RequireAndVerifyClientCert\n  client_ca_file: ${certs.caCert}\n`);
  tlsGateway = await startPushgateway([`--web.config.file=${authConfig}`]);
  mtlsGateway = await startPushgateway([`--web.config.file=${mtlsConfig}`]);
  plainGateway = await startPushgateway();
  proxy = await startTinyproxy();
  tlsUrl = `https://127.0.0.1:${tlsGateway.port}`;
  mtlsUrl = `https://127.0.0.1:${mtlsGateway.port}`;
}, 60_000);
afterAll(async () => {
  await Promise.all([tlsGateway?.stop(), mtlsGateway?.stop(), plainGateway?.stop(), proxy?.stop()]);
});

describe("TLS and basic auth, against the gateway's own --web.config.file", () => {
  it("pushes with --user NAME:PASSWORD and --cacert", async () => {
    const run = await runCli(["add", "-g", tlsUrl, "--cacert", certs.caCert, "-u", `${USER}:${PASSWORD}`, "-j", "tls-inline", "m=1"]);
    expect(run).toMatchObject({ code: 0, stderr: "" });
    expect((await groupsOf(tlsUrl, ["-u", `${USER}:${PASSWORD}`])).some((g) => g.labels["job"] === "tls-inline")).toBe(true);
  });

  it("takes the password from PUSHGW_PASSWORD or --password-file, the user from PUSHGW_USER", async () => {
    const fromEnv = await runCli(["add", "-g", tlsUrl, "--cacert", certs.caCert, "-j", "tls-env", "m=1"], { env: { PUSHGW_USER: USER, PUSHGW_PASSWORD: PASSWORD } });
    expect(fromEnv).toMatchObject({ code: 0, stderr: "" });
    const file = join(certs.dir, "password");
    writeFileSync(file, `${PASSWORD}\n`, { mode: 0o600 });
    const fromFile = await runCli(["add", "-g", tlsUrl, "--cacert", certs.caCert, "-u", USER, "--password-file", file, "-j", "tls-file", "m=1"]);
    expect(fromFile).toMatchObject({ code: 0, stderr: "" });
  });

  it("a wrong password is the gateway's 401, with a hint, and never printed", async () => {
    const run = await runCli(["add", "-g", tlsUrl, "--cacert", certs.caCert, "-u", `${USER}:wrong-Pa55word`, "-v", "-j", "x", "m=1"]);
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(/401 Unauthorized: Unauthorized[\s\S]*hint: the gateway refused the credentials sent/);
    expect(run.stderr + run.stdout).not.toContain("wrong-Pa55word");
  });

  it("without --cacert the certificate is refused, saying what to do; --insecure goes through with a warning", async () => {
    const refused = await runCli(["add", "-g", tlsUrl, "-u", `${USER}:${PASSWORD}`, "--retries", "0", "-j", "x", "m=1"]);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(/the gateway's certificate was not accepted.*(SELF_SIGNED|UNABLE_TO)[\s\S]*--cacert/);
    const insecure = await runCli(["add", "-g", tlsUrl, "-u", `${USER}:${PASSWORD}`, "--insecure", "-j", "tls-insecure", "m=1"]);
    expect(insecure.code).toBe(0);
    expect(insecure.stderr).toMatch(/warning: --insecure: the gateway's TLS certificate is not checked/);
  });

  it("https:// to a plain-http port fails at once, saying to use http://, without an OpenSSL dump", async () => {
    const port = new URL(plainGateway.url).port;
    const run = await runCli(["add", "-g", `https://127.0.0.1:${port}`, "-v", "-j", "x", "m=1"]);
    expect(run.code).toBe(1);
    expect(run.stderr).toContain(`hint: the gateway does not speak TLS on this port; use http://127.0.0.1:${port}`);
    expect(run.stderr).not.toMatch(/ssl3_get_record|deps\/openssl|retry 1/);
  });

  it("client certificates: refused without, accepted with --cert and --key", async () => {
    const without = await runCli(["add", "-g", mtlsUrl, "--cacert", certs.caCert, "--retries", "0", "-j", "mtls", "m=1"]);
    expect(without.code).toBe(1);
    expect(without.stderr).toMatch(/hint: .*it may want a client certificate \(--cert and --key\)/);
    const withCert = await runCli(["add", "-g", mtlsUrl, "--cacert", certs.caCert, "--cert", certs.clientCert, "--key", certs.clientKey, "-j", "mtls", "m=1"]);
    expect(withCert).toMatchObject({ code: 0, stderr: "" });
    const listed = await runCli(["list", "--json", "-g", mtlsUrl, "--cacert", certs.caCert, "--cert", certs.clientCert, "--key", certs.clientKey]);
    expect(JSON.parse(listed.stdout).some((g: { labels: Record<string, string> }) => g.labels["job"] === "mtls")).toBe(true);
  });

  it("a missing certificate file is a usage error before anything is sent", async () => {
    const run = await runCli(["add", "-g", mtlsUrl, "--cacert", join(certs.dir, "absent.pem"), "-j", "x", "m=1"]);
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(/--cacert .*absent\.pem: cannot read it/);
  });
});

describe("through a real HTTP proxy (tinyproxy)", () => {
  it("HTTP_PROXY carries a plain push, HTTPS_PROXY tunnels a TLS one", async () => {
    const plain = await runCli(["add", "-g", plainGateway.url, "-j", "proxied", "m=1"], { env: { HTTP_PROXY: proxy.url } });
    expect(plain).toMatchObject({ code: 0, stderr: "" });
    // undici tunnels through the proxy with CONNECT, for http targets too.
    expect(proxy.log()).toMatch(new RegExp(`CONNECT 127\\.0\\.0\\.1:${plainGateway.port}`));
    const tls = await runCli(["add", "-g", tlsUrl, "--cacert", certs.caCert, "-u", `${USER}:${PASSWORD}`, "-j", "proxied-tls", "m=1"], { env: { HTTPS_PROXY: proxy.url } });
    expect(tls).toMatchObject({ code: 0, stderr: "" });
    expect(proxy.log()).toMatch(new RegExp(`CONNECT 127\\.0\\.0\\.1:${tlsGateway.port}`));
    expect((await groupsOf(tlsUrl, ["-u", `${USER}:${PASSWORD}`])).some((g) => g.labels["job"] === "proxied-tls")).toBe(true);
  });

  it("NO_PROXY goes around it", async () => {
    // tinyproxy logs each tunnel as CONNECT host:port: what it really sees is the gateway's port.
    const port = new URL(plainGateway.url).port;
    const through = proxy.log().length;
    expect((await runCli(["add", "-g", plainGateway.url, "-j", "proxied", "m=1"], { env: { HTTP_PROXY: proxy.url } })).code).toBe(0);
    expect(proxy.log().slice(through)).toContain(`127.0.0.1:${port}`);
    const around = proxy.log().length;
    const run = await runCli(["add", "-g", plainGateway.url, "-v", "-j", "not-proxied", "m=1"], { env: { HTTP_PROXY: proxy.url, NO_PROXY: "localhost,127.0.0.1" } });
    expect(run.code).toBe(0);
    expect(run.stderr).not.toMatch(/through the proxy/);
    expect(proxy.log().slice(around)).not.toContain(`127.0.0.1:${port}`);
  });

  it("a proxy that is down is a connection error, retried", async () => {
    const run = await runCli(["add", "-g", plainGateway.url, "-j", "x", "--retries", "1", "m=1"], { env: { HTTP_PROXY: "http://127.0.0.1:9" } });
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(/after 2 attempts/);
  });

  it("a proxy that takes the connection and never answers CONNECT is held to --timeout, not undici's 5 minutes", async () => {
    const silent = createServer((socket) => socket.on("error", () => undefined));
    await new Promise<void>((resolve) => silent.listen(0, "127.0.0.1", resolve));
    try {
      const { port } = silent.address() as AddressInfo;
      // runCli kills a run after 30 s: before the fix, the run waited for undici's own 300 s limit on the proxy's answer.
      const run = await runCli(["add", "-g", plainGateway.url, "-j", "x", "--timeout", "1s", "--retries", "0", "m=1"], { env: { HTTP_PROXY: `http://127.0.0.1:${port}` } });
      expect(run.signal).toBeNull();
      expect(run.code).toBe(1);
      expect(run.stderr).toContain("no answer within 1000 ms");
    } finally {
      silent.close();
    }
  });
});

describe("bearer tokens, headers and gzip", () => {
  it("--bearer-token-file sends Authorization: Bearer, never printed", async () => {
    const file = join(certs.dir, "token");
    writeFileSync(file, "tok-3141592653\n");
    const run = await runCli(["add", "-g", plainGateway.url, "-j", "bearer", "--bearer-token-file", file, "--dry-run", "-v", "m=1"]);
    expect(run.code).toBe(0);
    expect(run.stdout).toContain("authorization: <hidden>");
    expect(run.stdout + run.stderr).not.toContain("tok-3141592653");
    const sent = await runCli(["add", "-g", plainGateway.url, "-j", "bearer", "--bearer-token-file", file, "m=1"]);
    expect(sent.code).toBe(0);
  });

  it("--gzip compresses the body, and the gateway takes it", async () => {
    const run = await runCli(["push", "-g", plainGateway.url, "-j", "zipped", "--no-instance", "--gzip", "-v", "zipped_metric=42"]);
    expect(run.code).toBe(0);
    const metrics = await (await fetch(`${plainGateway.url}/metrics`)).text();
    expect(metrics).toMatch(/zipped_metric\{instance="",job="zipped"\} 42/);
  });

  it("warns when credentials would cross the network in clear text, not on loopback", async () => {
    const loopback = await runCli(["add", "-g", plainGateway.url, "-u", "a:b", "--dry-run", "-j", "x", "m=1"]);
    expect(loopback.stderr).toBe("");
    const remote = await runCli(["add", "-g", "http://pushgateway.example:9091", "-u", "a:b", "--dry-run", "-j", "x", "m=1"]);
    expect(remote.stderr).toMatch(/warning: credentials go to http:\/\/pushgateway\.example:9091 over plain http/);
  });
});

describe("several gateways", () => {
  it("pushes to all, quietly; exit 0 only if every one took it, else a line per gateway", async () => {
    const both = await runCli(["add", "-g", plainGateway.url, "-g", `${tlsUrl}`, "--cacert", certs.caCert, "-u", `${USER}:${PASSWORD}`, "-j", "fanout", "m=1"]);
    expect(both.code).toBe(0);
    expect(both.stderr).toBe("");
    const oneDown = await runCli(["add", "-g", plainGateway.url, "-g", "http://127.0.0.1:9", "--retries", "0", "-j", "fanout", "m=2"]);
    expect(oneDown.code).toBe(1);
    expect(oneDown.stderr).toMatch(/1 of 2 gateways did not take it:\nok +POST http:\/\/127\.0\.0\.1:\d+\/metrics\/job\/fanout[^\n]*\(200\)\nFAILED +POST http:\/\/127\.0\.0\.1:9\//);
    const metrics = await (await fetch(`${plainGateway.url}/metrics`)).text();
    expect(metrics).toMatch(/\bm\{instance="[^"]*",job="fanout"\} 2/);
  });
});

describe("closing the HTTP client", () => {
  it("puts Error.stackTraceLimit back when clients of two instances close at once (the first to start ends first)", async () => {
    const { createUndiciHttp } = await import("../../src/adapters/undici-http.js");
    const before = Error.stackTraceLimit;
    const unused = await createUndiciHttp();
    const used = await createUndiciHttp();
    const answer = await used.send({ method: "GET", url: `${plainGateway.url}/api/v1/status`, headers: {}, timeoutMs: 10_000, maxBodyBytes: 1 << 20 });
    expect(answer.kind).toBe("response");
    // The unused one has no socket to destroy and ends first; the used one destroys its socket.
    await Promise.all([unused.close(), used.close()]);
    expect(Error.stackTraceLimit).toBe(before);
  });
});
