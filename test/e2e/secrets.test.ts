import { chmodSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startFaultProxy, type FaultProxy } from "../helpers/fault-proxy.js";
import { family, findGroup, readGroups, startPushgateway, type RunningGateway } from "../helpers/pushgateway.js";
import { BIN, NODE, runCli } from "../helpers/run-cli.js";

/**
 * A secret goes only where it was given: to the gateways the run names, never to the wrapped
 * job, never to a gateway only the spool names, never onto the screen or into ps.
 */
const tmp = mkdtempSync(join(tmpdir(), "pushgw-secrets-"));
const PASSWORD = "s3cret/pa:ss@word";
const TOKEN = "tok-5e7a9b1c";
let gw: RunningGateway;
const proxies: FaultProxy[] = [];

beforeAll(async () => {
  gw = await startPushgateway();
});
afterAll(async () => {
  await Promise.all(proxies.map((p) => p.stop()));
  await gw?.stop();
});

/** A proxy in front of the real gateway that records every request's headers. */
async function recorder(faults: Parameters<typeof startFaultProxy>[1] = []): Promise<FaultProxy> {
  const p = await startFaultProxy(gw.url, faults);
  proxies.push(p);
  return p;
}
const authorizations = (p: FaultProxy) => p.seen.map((s) => s.headers["authorization"]);
const basic = (user: string, password: string) => `Basic ${Buffer.from(`${user}:${password}`).toString("base64")}`;

describe("the wrapped job gets no secret, and a pushgw inside it still lands in the wrapper's group", () => {
  it.each([
    ["credentials in the --gateway URL", (url: string) => ({ args: ["-g", url.replace("http://", `http://alice:${encodeURIComponent(PASSWORD)}@`)], env: {} })],
    ["-u NAME:PASSWORD", (url: string) => ({ args: ["-g", url, "-u", `alice:${PASSWORD}`], env: {} })],
    ["PUSHGW_USER and PUSHGW_PASSWORD", (url: string) => ({ args: ["-g", url], env: { PUSHGW_USER: "alice", PUSHGW_PASSWORD: PASSWORD } })],
  ])("%s", async (how, given) => {
    const proxy = await recorder();
    const { args, env } = given(proxy.url);
    const job = `nested-${how.replace(/\W+/g, "-")}`;
    const seen = join(mkdtempSync(join(tmp, "job-")), "seen");
    // The job writes down everything it can see of the wrapper: its environment, and the
    // wrapper's command line as ps shows it. Then it pushes through a pushgw of its own.
    const script = `env > ${seen}.env; tr '\\0' ' ' < /proc/$PPID/cmdline > ${seen}.ps; exec ${NODE} ${BIN} add nested_value=42`;
    const run = await runCli(["wrap", ...args, "-j", job, "--no-instance", "--", "sh", "-c", script], { env });
    expect(run.stderr).toBe("");
    expect(run.code).toBe(0);
    const jobEnv = readFileSync(`${seen}.env`, "utf8");
    const ps = readFileSync(`${seen}.ps`, "utf8");
    for (const text of [jobEnv, ps]) {
      expect(text).not.toContain(PASSWORD);
      expect(text).not.toContain(encodeURIComponent(PASSWORD));
    }
    expect(jobEnv).not.toMatch(/^PUSHGW_(PASSWORD|BEARER_TOKEN|USER)=/m);
    expect(jobEnv).toMatch(new RegExp(`^PUSHGW_GATEWAY=${proxy.url}$`, "m"));
    expect(ps).toMatch(/^pushgw wrap /);
    // Every request, the nested one included, went out with the credentials: sent by the wrapper.
    expect(proxy.seen.map((s) => s.method)).toEqual(["POST", "POST", "POST"]);
    expect(new Set(authorizations(proxy))).toEqual(new Set([basic("alice", PASSWORD)]));
    const g = findGroup(await readGroups(gw.url), { job });
    expect(family(g, "nested_value")?.metrics[0]?.value).toBe("42");
    expect(family(g, "job_success")?.metrics[0]?.value).toBe("1");
  });

  it("a pushgw inside the job that names its own grouping pushes by itself, without the wrapper's credentials", async () => {
    const proxy = await recorder();
    const run = await runCli(["wrap", "-g", proxy.url, "-u", `alice:${PASSWORD}`, "-j", "outer", "--no-instance", "--", NODE, BIN, "add", "-j", "elsewhere", "--no-instance", "other_value=1"]);
    expect(run.code).toBe(0);
    const nested = proxy.seen.find((s) => s.url.includes("/elsewhere"));
    expect(nested).toBeDefined();
    expect(nested!.headers["authorization"]).toBeUndefined();
  });

  it("the relay passes on pushes to the wrapper's own group only, and checks what it passes on", async () => {
    const proxy = await recorder();
    const client = `
      import { createConnection } from "node:net";
      const ask = (call) => new Promise((resolve) => {
        const s = createConnection(process.env.PUSHGW_WRAP_SOCKET, () => s.write(JSON.stringify(call) + "\\n"));
        let answer = ""; s.on("data", (d) => (answer += d)); s.on("end", () => resolve(answer));
      });
      console.log(await ask({ method: "POST", path: "/metrics/job/victim", body: "stolen 1\\n" }));
      console.log(await ask({ method: "POST", path: "/metrics/job/relayed", body: "m{job=\\"other\\"} 1\\n" }));
      console.log(await ask({ method: "DELETE", path: "/metrics/job/relayed", body: "" }));
    `;
    const run = await runCli(["wrap", "-g", proxy.url, "-u", `alice:${PASSWORD}`, "-j", "relayed", "--no-instance", "--", NODE, "--input-type=module", "-e", client]);
    expect(run.code).toBe(0);
    const [other, overwrite, method] = run.stdout.split("\n").filter((l) => l !== "").map((l) => JSON.parse(l) as { refused?: { message: string } });
    expect(other?.refused?.message).toMatch(/passes on pushes to its own group \{job="relayed"\} only/);
    expect(overwrite?.refused?.message).toMatch(/the pushgw inside the job:1: .*job/);
    expect(method?.refused?.message).toMatch(/method must be PUT or POST/);
    expect(proxy.seen.filter((s) => !s.url.endsWith("/metrics/job/relayed"))).toEqual([]);
  });
});

describe("flush sends a secret only to the gateway it was given for", () => {
  it("the token given with -g A goes to A; B, which only the spool names, gets its calls without it", async () => {
    const spool = mkdtempSync(join(tmp, "spool-"));
    const tokenFile = join(tmp, "token");
    writeFileSync(tokenFile, `${TOKEN}\n`, { mode: 0o600 });
    const down = (): Array<{ kind: "status"; status: number }> => [{ kind: "status", status: 503 }];
    const a = await recorder(down());
    const b = await recorder(down());
    const saved = await runCli(["add", "-g", a.url, "-g", b.url, "--spool", spool, "--retries", "0", "--bearer-token-file", tokenFile, "-H", "X-Api-Key: key-for-a-and-b", "-j", "two-gateways", "m=1"]);
    expect(saved.code).toBe(75);
    a.seen.length = 0;
    b.seen.length = 0;
    const flushed = await runCli(["flush", "--spool", spool, "-g", a.url, "--bearer-token-file", tokenFile, "-H", "X-Api-Key: key-for-a"]);
    expect(flushed.code, flushed.stderr).toBe(0);
    expect(a.seen).toHaveLength(1);
    expect(a.seen[0]!.headers["authorization"]).toBe(`Bearer ${TOKEN}`);
    expect(a.seen[0]!.headers["x-api-key"]).toBe("key-for-a");
    expect(b.seen).toHaveLength(1);
    expect(b.seen[0]!.headers["authorization"]).toBeUndefined();
    expect(b.seen[0]!.headers["x-api-key"]).toBeUndefined();
  });

  it("a gateway that wants credentials this run did not give keeps its calls queued, and says which", async () => {
    const spool = mkdtempSync(join(tmp, "spool-"));
    const b = await recorder([{ kind: "status", status: 503 }, { kind: "status", status: 401, body: "Unauthorized" }]);
    expect((await runCli(["add", "-g", b.url, "--spool", spool, "--retries", "0", "-u", `alice:${PASSWORD}`, "-j", "needs-auth", "m=1"])).code).toBe(75);
    const flushed = await runCli(["flush", "--spool", spool]);
    expect(flushed.code).toBe(75);
    expect(flushed.stderr).toContain(`${b.url} wants credentials; its calls stay in the spool until a run names it: pushgw flush -g ${b.url}`);
    const again = await runCli(["flush", "--spool", spool, "-g", b.url, "-u", `alice:${PASSWORD}`]);
    expect(again.code).toBe(0);
    expect(b.seen.at(-1)!.headers["authorization"]).toBe(basic("alice", PASSWORD));
  });
});

describe("no secret is printed", () => {
  it.each([
    ["a header without its colon", ["-H", `Authorization Bearer ${TOKEN}`], /--header: 'Name: value' expected, and what was given has no colon \(not shown: it may hold a secret\)/],
    ["a header whose name has a space", ["-H", `X Token: ${TOKEN}`], /--header: 'Name: value' expected, and "X Token" is no header name/],
    ["a header value with a control character", ["-H", `X-Token: ${TOKEN}\u0001`], /--header X-Token: the value holds a control character/],
    ["a header value beyond Latin-1", ["-H", `X-Token: ${TOKEN}\u65e5`], /--header X-Token: the value holds a character beyond Latin-1/],
  ])("%s: exit 2, the message names the flag and holds nothing of the value", async (_, flags, message) => {
    const run = await runCli(["add", "-g", gw.url, "-j", "no-secret", ...flags, "m=1"]);
    expect(run.stderr).toMatch(message);
    expect(run.stderr).not.toContain(TOKEN);
    expect(run.code).toBe(2);
  });

  it("a password with a slash in a --gateway that is no URL", async () => {
    const run = await runCli(["add", "-g", `http://alice:${PASSWORD}@[bad`, "-j", "x", "m=1"]);
    expect(run.code).toBe(2);
    expect(run.stderr).toContain("http://alice:***@[bad");
    expect(run.stderr).not.toContain("s3cret");
  });

  it("--dry-run and --verbose hide secret-looking headers and credentials", async () => {
    const headers = ["-H", "Proxy-Authorization: Basic cHJveHk6cHc=", "-H", "Cookie: session=c00k1e", "-H", "X-Api-Key: k3y-v4lue", "-H", "X-Scope-OrgID: team-a"];
    const dry = await runCli(["add", "--dry-run", "-g", gw.url, ...headers, "-u", `alice:${PASSWORD}`, "-j", "x", "m=1"]);
    expect(dry.code).toBe(0);
    const verbose = await runCli(["add", "-v", "-g", gw.url, ...headers, "-u", `alice:${PASSWORD}`, "-j", "x", "m=1"]);
    for (const run of [dry, verbose]) {
      const text = run.stdout + run.stderr;
      for (const secret of ["cHJveHk6cHc=", "c00k1e", "k3y-v4lue", "s3cret", Buffer.from(`alice:${PASSWORD}`).toString("base64")]) expect(text).not.toContain(secret);
    }
    expect(dry.stdout).toContain("x-scope-orgid: team-a");
  });

  it.each([
    ["--password-file", (f: string) => ["-u", "alice", "--password-file", f]],
    ["--bearer-token-file", (f: string) => ["--bearer-token-file", f]],
  ])("a %s others can read is used, with a warning as ssh gives", async (flag, args) => {
    const file = join(tmp, `loose-${flag.slice(2)}`);
    writeFileSync(file, `${PASSWORD}\n`);
    chmodSync(file, 0o644);
    const loose = await runCli(["add", "-g", gw.url, ...args(file), "-j", "loose", "m=1"]);
    expect(loose.code).toBe(0);
    expect(loose.stderr).toContain(`warning: ${flag} ${file} can be read by every user (mode 0644); keep a secret to yourself: chmod 600 ${file}`);
    chmodSync(file, 0o600);
    const tight = await runCli(["add", "-g", gw.url, ...args(file), "-j", "loose", "m=1"]);
    expect(tight.stderr).toBe("");
  });

  it.each<[number, string | undefined]>([
    [0o640, "read by its group"],
    [0o604, "read by every user"],
    [0o620, "changed by its group"],
    [0o400, undefined],
  ])("a password file of mode %o: warned as can be %s", async (mode, who) => {
    const file = join(tmp, `mode-${mode.toString(8)}`);
    writeFileSync(file, `${PASSWORD}\n`);
    chmodSync(file, mode);
    const run = await runCli(["add", "-g", gw.url, "-u", "alice", "--password-file", file, "-j", "loose", "m=1"]);
    expect(run.code).toBe(0);
    expect(run.stderr).toEqual(who === undefined ? "" : expect.stringContaining(`warning: --password-file ${file} can be ${who} (mode 0${mode.toString(8)})`));
  });
});
