import { spawn } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startFaultProxy, type Fault } from "../helpers/fault-proxy.js";
import { mountTmpfs } from "../helpers/mounts.js";
import { family, findGroup, readGroups, startPushgateway, unusedPort, type RunningGateway } from "../helpers/pushgateway.js";
import { until } from "../helpers/poll.js";
import { BIN, NODE, runCli, testRuntimeDir } from "../helpers/run-cli.js";

/**
 * The first promise of a cron wrapper: the job runs as if unwrapped, whatever happens to
 * pushgw's own machinery. Each case breaks one part of that machinery and runs a job that
 * sleeps a second, prints a marker and exits 3; the marker must be printed, the status must
 * be the job's, and the wrapper must end within its bound.
 */
const node = process.execPath;
const job = (name: string) => fileURLToPath(new URL(`../fixtures/jobs/${name}`, import.meta.url));
const tmp = mkdtempSync(join(tmpdir(), "pushgw-survival-"));
let gw: RunningGateway;
const cleanups: Array<() => unknown> = [];

beforeAll(async () => {
  gw = await startPushgateway();
});
afterAll(async () => {
  for (const cleanup of cleanups.reverse()) await cleanup();
  await gw?.stop();
});

/** Every fault for many requests: a start push and a final push with retries. */
const always = (fault: Fault): Fault[] => Array.from({ length: 20 }, () => ({ ...fault }));
async function proxy(faults: Fault[]): Promise<string> {
  const p = await startFaultProxy(gw.url, faults);
  cleanups.push(() => p.stop());
  return p.url;
}
function mounted(options: Parameters<typeof mountTmpfs>[0]): string {
  const m = mountTmpfs(options);
  cleanups.push(() => m.unmount());
  return m.dir;
}
const deadGateway = async () => `http://127.0.0.1:${await unusedPort()}`;

interface Setup {
  readonly gateway: string;
  readonly flags?: string[];
  readonly env?: Record<string, string>;
  /** What stderr says about the fault (once). */
  readonly says: RegExp;
  /** What it must not say. */
  readonly saysNot?: RegExp;
}

const faults: Array<[string, () => Promise<Setup>]> = [
  ["the gateway is down", async () => ({ gateway: await deadGateway(), says: /could not connect/ })],
  ["the gateway refuses every push", async () => ({ gateway: await proxy(always({ kind: "status", status: 400, body: "refused by test" })), says: /400 Bad Request: refused by test/ })],
  ["the gateway answers 503 every time", async () => ({ gateway: await proxy(always({ kind: "status", status: 503, body: "busy" })), says: /503/ })],
  ["the gateway hangs", async () => ({ gateway: await proxy(always({ kind: "hang" })), says: /no answer in time/ })],
  ["the gateway streams an endless answer", async () => ({ gateway: await proxy(always({ kind: "stream", status: 200 })), says: /larger than 65536 bytes; pushgw stopped reading/ })],
  ["the gateway streams an endless error", async () => ({ gateway: await proxy(always({ kind: "stream", status: 500 })), says: /500 Internal Server Error/ })],
  // One cut: whether the start push's retry comes before the job ends depends on the machine's load, so more cuts could fall on the outcome push.
  ["the start push's connection is cut", async () => ({ gateway: await proxy([{ kind: "cut" }]), says: /the job failed with exit status 3/, saysNot: /outcome .* was not pushed/ })],
  ["HTTP_PROXY has no scheme and points nowhere", async () => ({ gateway: gw.url, env: { HTTP_PROXY: `127.0.0.1:${await unusedPort()}` }, says: /through the proxy http:\/\/127\.0\.0\.1:\d+\/.*could not connect/ })],
  ["HTTP_PROXY is not a URL", async () => ({ gateway: gw.url, env: { HTTP_PROXY: "http://[::zz" }, says: /HTTP_PROXY "http:\/\/\[::zz" is not a URL/ })],
  ["HTTPS_PROXY speaks socks", async () => ({ gateway: gw.url.replace("http:", "https:"), env: { HTTPS_PROXY: "socks5://127.0.0.1:1080" }, says: /http:\/\/ and https:\/\/ proxies only/ })],
  ["the spool is on a full disk", async () => ({ gateway: await deadGateway(), flags: ["--spool", join(mounted({ full: true }), "spool")], says: /spool .* cannot be used \(ENOSPC/ })],
  ["the spool is read-only", async () => ({ gateway: await deadGateway(), flags: ["--spool", join(mounted({ readOnly: true }), "spool")], says: /spool .* cannot be used \(EROFS/ })],
  [
    "the spool is a regular file",
    async () => {
      const file = join(tmp, "not-a-dir");
      writeFileSync(file, "x");
      return { gateway: await deadGateway(), flags: ["--spool", file], says: /spool .* cannot be used \((EEXIST|ENOTDIR)/ };
    },
  ],
  // The metrics file and the relay live in a private directory (XDG_RUNTIME_DIR here), never in TMPDIR.
  ["the runtime directory does not exist, and there is no HOME", async () => ({ gateway: gw.url, env: { XDG_RUNTIME_DIR: join(tmp, "missing", "dir") }, says: /runs without PUSHGW_METRICS_FILE and without the wrapper's relay .*: no directory only uid \d+ can write \(.*ENOENT/ })],
  ["the runtime directory is full", async () => ({ gateway: gw.url, env: { XDG_RUNTIME_DIR: mounted({ full: true }) }, says: /runs without PUSHGW_METRICS_FILE and without the wrapper's relay .*ENOSPC/ })],
  ["the runtime directory is read-only", async () => ({ gateway: gw.url, env: { XDG_RUNTIME_DIR: mounted({ readOnly: true }) }, says: /runs without PUSHGW_METRICS_FILE .*EROFS/ })],
  ["TMPDIR does not exist: nothing of the job's lives there", async () => ({ gateway: gw.url, env: { TMPDIR: join(tmp, "missing", "dir") }, says: /^pushgw: [^\n]*: the job failed with exit status 3 after [^\n]*\n$/ })],
];

describe("the job survives whatever happens to pushgw's machinery", () => {
  it.each(faults)("%s: the job runs, its output and status pass through, and the wrapper ends", async (name, setup) => {
    const { gateway, flags = [], env = {}, says, saysNot } = await setup();
    const label = name.replace(/\W+/g, "-");
    const run = await runCli(["wrap", "-g", gateway, "--timeout", "1s", "--retries", "1", "-j", `survive-${label}`, ...flags, "--", node, job("marker.mjs"), "1000", `marker-${label}`, "3"], {
      env,
      timeoutMs: 30_000,
    });
    expect(run.stdout).toBe(`marker-${label}\n`);
    expect(run.code, run.stderr).toBe(3);
    expect(run.stderr).toMatch(says);
    if (saysNot) expect(run.stderr).not.toMatch(saysNot);
    // Said once, as words: never a stack trace, never "a bug in pushgw".
    expect(run.stderr).not.toMatch(/\n\s+at |bug in pushgw|unexpected failure/);
  });

  it("with --strict, a push that fails after a successful job makes the exit 1; the job still ran", async () => {
    const run = await runCli(["wrap", "-g", await deadGateway(), "--retries", "0", "--strict", "-j", "survive-strict", "--", node, job("marker.mjs"), "100", "strict-marker", "0"]);
    expect(run.stdout).toBe("strict-marker\n");
    expect(run.code).toBe(1);
  });

  it("a proxy variable without a scheme is read as curl reads it: the push goes through the proxy", async () => {
    const seen: string[] = [];
    const { createServer, request } = await import("node:http");
    const forwarder = createServer((req, res) => {
      seen.push(`${req.method} ${req.url}`);
      const target = new URL(gw.url);
      const upstream = request({ host: target.hostname, port: target.port, method: req.method, path: new URL(req.url!, gw.url).pathname, headers: req.headers }, (answer) => {
        res.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(res);
      });
      req.pipe(upstream);
    });
    // A CONNECT tunnel, as undici's proxy agent opens one for every target.
    const { connect } = await import("node:net");
    forwarder.on("connect", (req, socket, head) => {
      seen.push(`CONNECT ${req.url}`);
      const [host, port] = (req.url ?? "").split(":");
      const upstream = connect(Number(port), host, () => {
        socket.write("HTTP/1.1 200 Connection Established\r\n\r\n");
        upstream.write(head);
        upstream.pipe(socket);
        socket.pipe(upstream);
      });
      upstream.on("error", () => socket.destroy());
      socket.on("error", () => upstream.destroy());
    });
    await new Promise<void>((resolve) => forwarder.listen(0, "127.0.0.1", resolve));
    cleanups.push(() => new Promise((resolve) => forwarder.close(resolve)));
    forwarder.unref();
    const port = (forwarder.address() as { port: number }).port;
    const run = await runCli(["add", "-g", gw.url, "-v", "-j", "via-bare-proxy", "--no-instance", "m=1"], { env: { HTTP_PROXY: `127.0.0.1:${port}` } });
    expect(run.code, run.stderr).toBe(0);
    expect(run.stderr).toContain(`requests to ${gw.url} go through the proxy http://127.0.0.1:${port}/`);
    expect(seen.some((line) => line.includes(new URL(gw.url).port))).toBe(true);
    expect(findGroup(await readGroups(gw.url), { job: "via-bare-proxy" })).toBeDefined();
  });
});

describe("--quiet-success never loses the job's output", () => {
  const bytes = 6 * 1024 * 1024;

  it.each([
    ["TMPDIR is full", () => ({ TMPDIR: mounted({ full: true }) }), /ENOSPC/],
    ["TMPDIR is read-only", () => ({ TMPDIR: mounted({ readOnly: true }) }), /EROFS/],
    ["TMPDIR does not exist", () => ({ TMPDIR: join(tmp, "gone") }), /ENOENT/],
  ])("%s and the job writes more than it keeps in memory: the output passes straight through, all of it", async (_, env, code) => {
    const run = await runCli(["wrap", "-g", gw.url, "-j", "quiet-spill", "--quiet-success", "--", node, job("noisy.mjs"), String(bytes), "4"], { env: env(), timeoutMs: 30_000 });
    expect(run.code).toBe(4);
    expect(run.stdout.length).toBe(bytes);
    expect(run.stderr).toMatch(/noisy: start\n/);
    expect(run.stderr).toMatch(/noisy: done\n/);
    expect(run.stderr).toMatch(new RegExp(`--quiet-success: the job's output could not be kept in a temporary file \\(${code.source}; check TMPDIR\\), so it was passed through as it came`));
  });

  it("TMPDIR is missing and the reader is slow: the output passed through waits for the reader, as unwrapped, instead of piling up in the wrapper's memory", async () => {
    const total = 400 * 1024 * 1024;
    const wrapper = spawn(NODE, [BIN, "wrap", "-g", gw.url, "-j", "quiet-slow-reader", "--quiet-success", "--", "sh", "-c", `head -c ${total} /dev/zero; exit 5`], {
      env: { PATH: process.env["PATH"] ?? "/usr/bin:/bin", TMPDIR: join(tmp, "gone"), XDG_RUNTIME_DIR: testRuntimeDir() },
      stdio: ["ignore", "pipe", "pipe"],
    });
    const exited = new Promise<number | null>((resolve) => wrapper.on("close", resolve));
    let stderr = "";
    wrapper.stderr!.setEncoding("utf8").on("data", (c: string) => (stderr += c));
    // Nobody reads stdout yet: a wrapper that kept what it could not write would grow past this.
    const limitKb = 150 * 1024;
    const peakKb = async () => Number(/VmHWM:\s+(\d+)/.exec(readFileSync(`/proc/${wrapper.pid}/status`, "utf8"))?.[1]);
    const peak = await until(peakKb, (kb) => kb > limitKb, 4_000);
    let received = 0;
    wrapper.stdout!.on("data", (c: Buffer) => (received += c.length));
    expect(await exited).toBe(5);
    expect(peak).toBeLessThan(limitKb);
    expect(received).toBe(total);
    expect(stderr).toMatch(/so it was passed through as it came/);
    expect(stderr).not.toMatch(/MaxListenersExceeded/);
  }, 60_000);

  it("a job that leaves a daemon holding its output: the wrapper stops reading soon after the job exits, and says so", async () => {
    const run = await runCli(["wrap", "-g", gw.url, "-j", "quiet-daemon", "--no-instance", "--quiet-success", "--max-runtime", "4s", "--", "sh", "-c", "sleep 20 & echo started; exit 0"], {
      timeoutMs: 30_000,
    });
    expect(run.code).toBe(0);
    expect(run.stdout).toBe("");
    expect(run.stderr).toMatch(/the job exited, but a process it started still holds its output open; pushgw stopped reading it after 2s/);
    // --max-runtime judged the job's own exit, not the pipe's closing.
    const g = findGroup(await readGroups(gw.url), { job: "quiet-daemon" });
    expect(family(g, "job_exit_code")?.metrics[0]?.value).toBe("0");
  });
});

describe("the relay never holds the wrapper past its job", () => {
  it("a process the job left behind, trickling a call with no end into PUSHGW_WRAP_SOCKET: the wrapper ends and pushes the outcome", async () => {
    // Sends a byte every 200 ms and never a newline; it gives up by itself after 40 s, and notes that it did.
    const straggler = join(tmp, "straggler.cjs");
    const gaveUp = join(tmp, "straggler-gave-up");
    writeFileSync(
      straggler,
      `const s = require("node:net").createConnection(process.env.PUSHGW_WRAP_SOCKET);
      s.on("connect", () => { s.write('{"method":"POST"'); setInterval(() => s.write(" "), 200); });
      s.on("close", () => process.exit(0));
      setTimeout(() => { require("node:fs").writeFileSync(${JSON.stringify(gaveUp)}, "x"); process.exit(0); }, 40_000);`,
    );
    const run = await runCli(["wrap", "-g", gw.url, "-j", "relay-straggler", "--no-instance", "--", "sh", "-c", `${node} ${straggler} >/dev/null 2>&1 & sleep 0.5; echo done`], {
      timeoutMs: 60_000,
    });
    expect(run.stdout).toBe("done\n");
    expect(run.code, run.stderr).toBe(0);
    // The wrapper ended while the straggler was still trickling, not when it gave up.
    expect(existsSync(gaveUp)).toBe(false);
    const g = findGroup(await readGroups(gw.url), { job: "relay-straggler" });
    expect(family(g, "job_success")?.metrics[0]?.value).toBe("1");
  });
});

describe("the relay holds a bounded number of calls and bytes for the job", () => {
  it("a job holding 200 connections to PUSHGW_WRAP_SOCKET open: a nested add past the 64th is refused saying so (exit 1), the job's status and outcome push stay", async () => {
    const holder = join(tmp, "holder.cjs");
    writeFileSync(
      holder,
      `const net = require("node:net");
      const { spawnSync } = require("node:child_process");
      const held = [];
      let connected = 0;
      for (let i = 0; i < 200; i += 1) {
        const s = net.createConnection(process.env.PUSHGW_WRAP_SOCKET);
        s.on("error", () => {});
        s.on("connect", () => { connected += 1; if (connected === 200) setTimeout(nested, 300); });
        held.push(s);
      }
      function nested() {
        const r = spawnSync(${JSON.stringify(NODE)}, [${JSON.stringify(BIN)}, "add", "nested_metric=1"], { encoding: "utf8" });
        process.stdout.write("nested exit " + r.status + "\\n");
        process.stderr.write(r.stderr);
        for (const s of held) s.destroy();
        process.exit(3);
      }`,
    );
    const run = await runCli(["wrap", "-g", gw.url, "-j", "relay-flood", "--no-instance", "--", node, holder], { timeoutMs: 60_000 });
    expect(run.stdout).toBe("nested exit 1\n");
    expect(run.stderr).toMatch(/the wrapper refused the call: 64 calls from this job are open at once, its limit/);
    expect(run.code).toBe(3);
    const g = findGroup(await readGroups(gw.url), { job: "relay-flood" });
    expect(family(g, "job_exit_code")?.metrics[0]?.value).toBe("3");
    expect(family(g, "nested_metric")).toBeUndefined();
  });

  it("six calls of 15 MiB sent at once without an end: the wrapper keeps at most 64 MiB of them and refuses the rest saying so", async () => {
    const sender = join(tmp, "sender.cjs");
    writeFileSync(
      sender,
      `const net = require("node:net");
      const body = Buffer.concat([Buffer.from('{"method":"POST","path":"/job/relay-bytes","body":"'), Buffer.alloc(15 * 1024 * 1024, 0x20)]);
      const answers = [];
      let settled = 0;
      const settle = () => { settled += 1; if (settled === 6) setTimeout(report, 500); };
      const sockets = Array.from({ length: 6 }, () => {
        const s = net.createConnection(process.env.PUSHGW_WRAP_SOCKET);
        let done = false;
        const once = () => { if (!done) { done = true; settle(); } };
        s.on("error", once);
        s.on("data", (d) => { answers.push(String(d)); once(); });
        s.on("connect", () => s.write(body, once));
        return s;
      });
      function report() {
        const refused = answers.filter((a) => a.includes('"refused"'));
        process.stdout.write("refused " + refused.length + "\\n" + (refused[0] ?? ""));
        for (const s of sockets) s.destroy();
        process.exit(0);
      }`,
    );
    const run = await runCli(["wrap", "-g", gw.url, "-j", "relay-bytes", "--no-instance", "--", node, sender], { timeoutMs: 60_000 });
    expect(run.code, run.stderr).toBe(0);
    const refused = Number(/^refused (\d+)$/m.exec(run.stdout)?.[1]);
    expect(refused).toBeGreaterThanOrEqual(2);
    expect(run.stdout).toMatch(/the wrapper refused the call: it holds 67108864 bytes \(64 MiB\) of calls from this job at once, its limit/);
    const g = findGroup(await readGroups(gw.url), { job: "relay-bytes" });
    expect(family(g, "job_success")?.metrics[0]?.value).toBe("1");
  });
});

describe("pushgw's own mistakes are found before the job starts", () => {
  const touch = () => {
    const marker = join(mkdtempSync(join(tmp, "ran-")), "ran");
    return { marker, argv: ["sh", "-c", `touch ${marker}`] };
  };

  it.each([
    ["--cert without --key", ["--cert", "/etc/hostname"], /--cert needs --key/],
    ["--key without --cert", ["--key", "/etc/hostname"], /--key needs --cert/],
    ["an unreadable --cacert", ["--cacert", "/nonexistent/ca.pem"], /--cacert \/nonexistent\/ca.pem: cannot read it \(ENOENT\)/],
    ["a --cacert that holds no certificate", ["--cacert", "/etc/hostname"], /--cacert \/etc\/hostname: holds no PEM certificate/],
    ["a --cert and --key that are not PEM", ["--cert", "/etc/hostname", "--key", "/etc/hostname"], /--cert, --key: not a usable certificate and key/],
    ["an empty --password-file", ["-u", "alice", "--password-file", "/dev/null"], /--password-file \/dev\/null: the file is empty/],
    ["a bad duration", ["--max-runtime", "10 minutes"], /--max-runtime: invalid duration/],
    ["a --timeout longer than a timer can hold", ["--timeout", "4w"], /--timeout 4w: at most 24d/],
    ["a duration too large to be a number", ["--kill-grace", `${"9".repeat(400)}w`], /--kill-grace: invalid duration/],
    ["a bad prefix", ["--prefix", "1bad"], /--prefix: "1bad" cannot start a metric name/],
    ["an empty grouping value", ["-l", "team="], /--label team=: an empty grouping value is refused/],
    ["a header value with a line break", ["-H", "X-Token: abc\r\nX-Other: 1"], /--header X-Token: the value holds a control character/],
    [
      "a --bearer-token-file with a blank line after the token",
      (() => {
        const file = join(tmp, "token-two-lines");
        writeFileSync(file, "tok-abc\n\n", { mode: 0o600 });
        return ["--bearer-token-file", file];
      })(),
      /--bearer-token-file .*token-two-lines: the token holds a control character/,
    ],
    ["a --gateway password that is not percent-encoding", ["-g", "http://alice:50%zz@127.0.0.1:9"], /--gateway: the user name or password in "http:\/\/alice:\*\*\*@127\.0\.0\.1:9" is not valid percent-encoding/],
  ])("%s: exit 2, and the job never runs", async (_, flags, message) => {
    const { marker, argv } = touch();
    const run = await runCli(["wrap", "-g", gw.url, "-j", "never-runs", ...flags, "--", ...argv]);
    expect(run.stderr).toMatch(message);
    expect(run.code).toBe(2);
    expect(existsSync(marker)).toBe(false);
  });

  it("durations past 24.8 days are held, not fired at once: --max-runtime 4w and --kill-grace 5w let a job finish", async () => {
    const run = await runCli(["wrap", "-g", gw.url, "-j", "long-limits", "--max-runtime", "4w", "--kill-grace", "5w", "--", node, job("marker.mjs"), "300", "long-marker", "0"]);
    expect(run.stdout).toBe("long-marker\n");
    expect(run.code).toBe(0);
  });
});

describe("a wrapper killed with SIGKILL", () => {
  it("leaves job_running at 1; list shows the run as stuck once it is past --max-runtime", async () => {
    // What a killed wrapper leaves behind: its start push, and nothing after it.
    const start = Math.floor(Date.now() / 1000) - 3600;
    const gauges = (running: number, since: number) =>
      ["job_running", "job_last_start_timestamp_seconds", "job_max_runtime_seconds"].map((name, i) => `# TYPE ${name} gauge\n${name} ${[running, since, 600][i]}\n`).join("");
    const body = gauges(1, start);
    expect((await fetch(`${gw.url}/metrics/job/killed-wrapper`, { method: "POST", body })).status).toBe(200);
    const fresh = Math.floor(Date.now() / 1000) - 60;
    const ok = gauges(1, fresh);
    expect((await fetch(`${gw.url}/metrics/job/running-fine`, { method: "POST", body: ok })).status).toBe(200);
    const run = await runCli(["list", "-g", gw.url, "--match", "job=~killed-wrapper|running-fine"]);
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/killed-wrapper .* stuck running since 1h ago \(wrapper killed, or the job hangs\)/);
    expect(run.stdout).toMatch(/running-fine .* running for 1m /);
  });
});

describe("the safety net", () => {
  it("an error thrown in pushgw while the job runs ends neither the wrapper nor the job; it is handed back afterwards", async () => {
    // The runner as wrap uses it, bundled on its own, in a process where pushgw's machinery
    // throws twice while the job runs: once from a timer, once from a promise nobody awaits.
    const { build } = await import("esbuild");
    const dir = mkdtempSync(join(tmp, "net-"));
    await build({
      entryPoints: [fileURLToPath(new URL("../../src/adapters/execa-runner.ts", import.meta.url))],
      outfile: join(dir, "runner.mjs"),
      bundle: true,
      format: "esm",
      platform: "node",
      logLevel: "silent",
      // Bundled CommonJS (cross-spawn) calls require() for Node's built-ins, as in scripts/build.mjs.
      banner: { js: 'import { createRequire } from "node:module"; const require = createRequire(import.meta.url);' },
    });
    writeFileSync(
      join(dir, "driver.mjs"),
      `import { createExecaRunner } from "./runner.mjs";
const running = createExecaRunner().run({ argv: ${JSON.stringify([node, job("marker.mjs"), "800", "net-marker", "5"])}, env: {}, captureOutput: false, maxRuntimeMs: undefined, killGraceMs: 1000 });
setTimeout(() => { throw new Error("thrown from a timer"); }, 100);
setTimeout(() => { Promise.reject(new Error("a rejection nobody handled")); }, 200);
const result = await running;
process.stderr.write(JSON.stringify({ outcome: result.outcome, errors: result.internalErrors.map((e) => e.message) }));
`,
    );
    const { spawnSync } = await import("node:child_process");
    const run = spawnSync(node, [join(dir, "driver.mjs")], { encoding: "utf8", timeout: 20_000 });
    expect(run.stdout).toBe("net-marker\n");
    expect(JSON.parse(run.stderr)).toEqual({ outcome: { kind: "exited", code: 5 }, errors: ["thrown from a timer", "a rejection nobody handled"] });
    expect(run.status).toBe(0);
  });
});
