import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startPushgateway, type RunningGateway } from "../helpers/pushgateway.js";
import { BIN, NODE, runCli } from "../helpers/run-cli.js";
import { startTinyproxy, type RunningProxy } from "../helpers/tinyproxy.js";
import { makeCertificates, type TestCertificates } from "../helpers/tls.js";

/**
 * Start-up stays lean: every built-in module Node loads costs start-up time, and a plain
 * http:// push needs none of these. A future import that drags one back fails here (the
 * benchmark says how much they cost: about 10 ms for http2, which brings tls and crypto).
 */
const FORBIDDEN: ReadonlyArray<readonly [RegExp, string]> = [
  [/^(internal\/)?http2\b/, "http2 (undici's HTTP/2 client, loaded with its HTTP/1 one)"],
  [/^(_?tls|internal\/tls)\b/, "tls (brought by http2; a plain http:// push has no TLS)"],
  [/^(crypto$|internal\/crypto\/(pbkdf2|scrypt|hkdf|keygen|keys|diffiehellman|x509|cipher|sig)$)/, "crypto's key derivation and keys"],
  [/^zlib$/, "zlib (only --gzip needs it)"],
  [/^(internal\/)?readline\b/, "readline (only prompts need it; node:fs/promises and fs streams load it too)"],
  [/^(internal\/)?fs\/promises$/, "node:fs/promises (loads readline's interface)"],
  [/^perf_hooks$/, "perf_hooks (loaded by the first performance.now())"],
  [/^sea$/, "node:sea (only the standalone executable asks it)"],
  [/^(_?http$|_http_)/, "node:http (undici has an HTTP client of its own; scripts/esbuild-edits.mjs keeps it from loading Node's)"],
];

const work = mkdtempSync(join(tmpdir(), "pushgw-startup-"));
const preload = join(work, "record-modules.cjs");
const latePreload = join(work, "record-late-modules.cjs");
let gw: RunningGateway;
let tlsGateway: RunningGateway;
let certs: TestCertificates;
let proxy: RunningProxy;

beforeAll(async () => {
  gw = await startPushgateway();
  // Written at exit, so that it sees everything the run loaded, lazily or not.
  writeFileSync(
    preload,
    `process.on("exit", () => require("node:fs").writeFileSync(process.env.PUSHGW_MODULE_LIST, process.moduleLoadList.filter((m) => m.startsWith("NativeModule ")).map((m) => m.slice(13)).join("\\n")));\n`,
  );
  // The built-in modules first required while V8's flags differ from those Node started with
  // (V8's tag for code caches covers the flags): Node's code cache for them is then rejected.
  writeFileSync(
    latePreload,
    [
      'const Module = require("node:module"), v8 = require("node:v8"), tag = v8.cachedDataVersionTag(), late = [], load = Module._load;',
      "Module._load = function (request, ...rest) {",
      '  const name = String(request).replace(/^node:/, "");',
      '  if (Module.isBuiltin(request) && !process.moduleLoadList.includes(`NativeModule ${name}`) && v8.cachedDataVersionTag() !== tag) late.push(name);',
      "  return load.call(this, request, ...rest);",
      "};",
      'process.on("exit", () => require("node:fs").writeFileSync(process.env.PUSHGW_MODULE_LIST, late.join("\\n")));',
      "",
    ].join("\n"),
  );
  certs = makeCertificates();
  const tlsConfig = join(work, "tls.yml");
  writeFileSync(tlsConfig, `tls_server_config:\n  cert_file: ${certs.serverCert}\n  key_file: ${certs.serverKey}\n`);
  tlsGateway = await startPushgateway([`--web.config.file=${tlsConfig}`]);
  proxy = await startTinyproxy();
});
afterAll(async () => {
  await gw?.stop();
  await tlsGateway?.stop();
  await proxy?.stop();
  rmSync(work, { recursive: true, force: true });
});

async function modulesLoadedBy(args: readonly string[], name: string, input?: string, env: Record<string, string> = {}, recorder = preload): Promise<string[]> {
  const list = join(work, `${name}.txt`);
  const run = await runCli(args, { env: { NODE_OPTIONS: `--require ${recorder}`, PUSHGW_MODULE_LIST: list, ...env }, ...(input === undefined ? {} : { input }) });
  expect(run.stderr).toBe("");
  expect(run.code).toBe(0);
  return readFileSync(list, "utf8").split("\n");
}

function forbiddenIn(modules: readonly string[]): string[] {
  return modules.flatMap((m) => FORBIDDEN.filter(([pattern]) => pattern.test(m)).map(([, why]) => `${m}: ${why}`));
}

describe("start-up stays lean", () => {
  it("`pushgw add` to a plain http gateway loads no http2, tls, crypto keys, zlib, readline, perf_hooks or node:http", async () => {
    const modules = await modulesLoadedBy(["add", "-g", gw.url, "-j", "lean", "lean_m=1"], "add");
    // The list is real: the push did open a connection.
    expect(modules).toContain("net");
    expect(forbiddenIn(modules)).toEqual([]);
  });

  it("so does `pushgw push` of a file piped in", async () => {
    const modules = await modulesLoadedBy(["push", "-g", gw.url, "-j", "lean", "-f", "-"], "push", "lean_piped 1\n");
    expect(forbiddenIn(modules)).toEqual([]);
  });

  it("`pushgw wrap -- true` loads none of them either (its files are few and tiny: synchronous calls, no thread pool)", async () => {
    const modules = await modulesLoadedBy(["wrap", "-g", gw.url, "-j", "lean-wrap", "--", "true"], "wrap");
    // The list is real: the job was started and the relay listened.
    expect(modules).toEqual(expect.arrayContaining(["child_process", "cluster"]));
    expect(forbiddenIn(modules)).toEqual([]);
  });

  it("nor does `wrap --quiet-success`, which passes the job's output through FIFOs it makes and removes", async () => {
    const modules = await modulesLoadedBy(["wrap", "-g", gw.url, "-j", "lean-wrap", "--quiet-success", "--", "sh", "-c", "echo quiet; exit 0"], "wrap-quiet");
    expect(forbiddenIn(modules)).toEqual([]);
  });

  it("Node's --max-http-header-size still bounds the gateway's answer, as it did while undici read it from node:http", async () => {
    // The gateway's answer has a Date and a Content-Length header: more than 20 bytes, far less than 16 KiB.
    const tooSmall = await runCli(["add", "-g", gw.url, "-j", "lean", "--retries", "0", "lean_m=3"], { env: { NODE_OPTIONS: "--max-http-header-size=20" } });
    expect(tooSmall.stderr).toContain("Headers Overflow");
    expect(tooSmall.code).toBe(1);
    const onCommandLine = spawnSync(NODE, ["--max-http-header-size=20", BIN, "add", "-g", gw.url, "-j", "lean", "--retries", "0", "lean_m=3"], { encoding: "utf8", env: { PATH: process.env["PATH"] } });
    expect(onCommandLine.stderr).toContain("Headers Overflow");
    const enough = await runCli(["add", "-g", gw.url, "-j", "lean", "--retries", "0", "lean_m=3"], { env: { NODE_OPTIONS: "--max-http-header-size=400" } });
    expect(enough.stderr).toBe("");
    expect(enough.code).toBe(0);
    // Node takes the option's name with underscores as well, in any mix.
    const underscored = await runCli(["add", "-g", gw.url, "-j", "lean", "--retries", "0", "lean_m=3"], { env: { NODE_OPTIONS: "--max_http_header-size=20" } });
    expect(underscored.stderr).toContain("Headers Overflow");
    expect(underscored.code).toBe(1);
  });

  // Node 22 and later also read options from a configuration file, which neither the command line nor NODE_OPTIONS shows.
  it("--max-http-header-size from Node's configuration file still bounds the gateway's answer (Node 22 and later; Node 20 has no such file)", () => {
    const config = join(work, "node.config.json");
    writeFileSync(config, JSON.stringify({ nodeOptions: { "max-http-header-size": 20 } }));
    const fromConfig = spawnSync(NODE, [`--experimental-config-file=${config}`, "--no-warnings", BIN, "add", "-g", gw.url, "-j", "lean", "--retries", "0", "lean_m=3"], { encoding: "utf8", env: { PATH: process.env["PATH"] } });
    const nodeMajor = Number(spawnSync(NODE, ["-p", "process.versions.node"], { encoding: "utf8" }).stdout.split(".")[0]);
    if (nodeMajor >= 22) {
      expect(fromConfig.stderr).toContain("Headers Overflow");
      expect(fromConfig.status).toBe(1);
    } else {
      // Node 20 refuses the option itself: no configuration file can set the limit there.
      expect(fromConfig.stderr).toContain("bad option: --experimental-config-file");
      expect(fromConfig.status).toBe(9);
    }
  });

  it("--gzip does load zlib (the check above can see it)", async () => {
    const modules = await modulesLoadedBy(["add", "-g", gw.url, "-j", "lean", "--gzip", "lean_m=2"], "gzip");
    expect(modules).toContain("zlib");
  });
});

describe("built-in modules a run loads late still come from Node's code cache", () => {
  // Node checks its code cache for its built-in modules against V8's flags: one loaded after
  // pushgw has changed them is compiled from its source (tls and crypto: about 30 M instructions).
  const lateIn = (args: readonly string[], name: string, env: Record<string, string> = {}) => modulesLoadedBy(args, name, undefined, env, latePreload);

  it("an https push with --cacert (tls, crypto)", async () => {
    const tlsUrl = `https://127.0.0.1:${tlsGateway.port}`;
    expect(await lateIn(["add", "-g", tlsUrl, "--cacert", certs.caCert, "-j", "late", "late_m=1"], "late-tls")).toEqual([""]);
  });

  it("a push with --gzip (zlib)", async () => {
    expect(await lateIn(["add", "-g", gw.url, "-j", "late", "--gzip", "late_m=2"], "late-gzip")).toEqual([""]);
  });

  it("an https push through HTTPS_PROXY", async () => {
    const tlsUrl = `https://127.0.0.1:${tlsGateway.port}`;
    expect(await lateIn(["add", "-g", tlsUrl, "--cacert", certs.caCert, "-j", "late", "late_m=3"], "late-proxy", { HTTPS_PROXY: proxy.url })).toEqual([""]);
  });

  it("the check can see one: a module required after a V8 flag has changed", () => {
    const list = join(work, "late-self.txt");
    const run = spawnSync(NODE, ["--require", latePreload, "-e", 'require("node:v8").setFlagsFromString("--liftoff-only"); require("node:zlib")'], { env: { ...process.env, PUSHGW_MODULE_LIST: list } });
    expect(run.status).toBe(0);
    expect(readFileSync(list, "utf8").split("\n")).toContain("zlib");
  });
});
