import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { family, familyNames, findGroup, readGroups, readGroupsSorted, startPushgateway, type RunningGateway } from "../helpers/pushgateway.js";
import { runCli } from "../helpers/run-cli.js";

let gw: RunningGateway;
let env: Record<string, string>;
const tmp = mkdtempSync(join(tmpdir(), "pushgw-e2e-"));

beforeAll(async () => {
  gw = await startPushgateway();
  env = { PUSHGW_GATEWAY: gw.url };
});
afterAll(async () => {
  await gw?.stop();
});

const pushgw = (args: string[], input?: string | Buffer) => runCli(args, { env, input });

describe("grouping keys reach the gateway exactly", () => {
  const values: Array<[string, string]> = [
    ["Unicode", "Προμηθεύς"],
    ["emoji", "🚀 launch"],
    ["spaces", "value with spaces"],
    ["plus", "a+b"],
    ["percent", "100%"],
    ["percent escape", "x%2Fy"],
    ["at", "user@host"],
    ["equals", "a=b=="],
    ["dot", "."],
    ["dot dot", ".."],
    ["slashes", "/var/tmp//x/"],
    ["empty", ""],
    ["backslash and quote", 'C:\\dir "q"'],
    ["newline", "two\nlines"],
    ["base64 lookalike", "YQ=="],
    ["question and hash", "?a#b"],
  ];

  it("an empty label value is refused: exit 2, nothing sent", async () => {
    const run = await pushgw(["push", "--job", "label-empty", "--no-instance", "-l", "v=", "-l", "after=ok", "m=1"]);
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(/--label v=: an empty grouping value is refused/);
    expect(findGroup(await readGroups(gw.url), { job: "label-empty", v: "", after: "ok" })).toBeUndefined();
  });

  it.each(values.filter(([, v]) => v !== ""))("label value: %s", async (name, value) => {
    const job = `label-${name.replace(/\W/g, "_")}`;
    const run = await pushgw(["push", "--job", job, "--no-instance", "-l", `v=${value}`, "-l", "after=ok", "m=1"]);
    expect(run.stderr).toBe("");
    expect(run.code).toBe(0);
    const group = findGroup(await readGroups(gw.url), { job, v: value, after: "ok" });
    expect(group, `group for ${JSON.stringify(value)}`).toBeDefined();
    expect(family(group, "m")?.metrics[0]?.labels).toEqual({ job, v: value, after: "ok", instance: "" });
  });

  it.each(values.filter(([, v]) => v !== ""))("job name: %s", async (_, job) => {
    const run = await pushgw(["add", "--job", job, "-i", "i-1", "jm=2"]);
    expect(run.stderr).toBe("");
    expect(run.code).toBe(0);
    expect(findGroup(await readGroups(gw.url), { job, instance: "i-1" })).toBeDefined();
  });

  it("defaults the instance to this host's name", async () => {
    const { hostname } = await import("node:os");
    const run = await pushgw(["add", "--job", "host-default", "m=1"]);
    expect(run.code).toBe(0);
    expect(findGroup(await readGroups(gw.url), { job: "host-default", instance: hostname() })).toBeDefined();
  });

  it("an empty --instance is refused (to Prometheus it is no instance): exit 2, nothing sent", async () => {
    const run = await pushgw(["add", "-j", "inst-empty", "-i", "", "only_in_empty=1"]);
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(/hint: leave the instance out with --no-instance/);
    expect((await readGroups(gw.url)).filter((g) => g.labels["job"] === "inst-empty")).toEqual([]);
  });
});

describe("PUT, POST and DELETE do what the gateway documents", () => {
  const key = { job: "semantics", instance: "h1" };
  const group = async () => findGroup(await readGroups(gw.url), key);

  it("add replaces only the families sent; push replaces the whole group; delete removes it", async () => {
    expect((await pushgw(["add", "-j", "semantics", "-i", "h1", "a=1", "b=2"])).code).toBe(0);
    expect((await pushgw(["add", "-j", "semantics", "-i", "h1", "a=3"])).code).toBe(0);
    let g = await group();
    expect(familyNames(g!)).toEqual(["a", "b"]);
    expect(family(g, "a")?.metrics[0]?.value).toBe("3");
    expect(family(g, "b")?.metrics[0]?.value).toBe("2");

    expect((await pushgw(["push", "-j", "semantics", "-i", "h1", "c=5"])).code).toBe(0);
    g = await group();
    expect(familyNames(g!)).toEqual(["c"]);

    const del = await pushgw(["delete", "-j", "semantics", "-i", "h1"]);
    expect(del).toMatchObject({ code: 0, stdout: "", stderr: "" });
    expect(await group()).toBeUndefined();
  });

  it("delete matches the whole key: {job=x} is not {job=x, instance=h}", async () => {
    await pushgw(["add", "-j", "exact", "--no-instance", "m=1"]);
    await pushgw(["add", "-j", "exact", "-i", "h", "n=1"]);
    expect((await pushgw(["delete", "-j", "exact", "--no-instance"])).code).toBe(0);
    const groups = await readGroups(gw.url);
    expect(findGroup(groups, { job: "exact" })).toBeUndefined();
    expect(findGroup(groups, { job: "exact", instance: "h" })).toBeDefined();
  });

  it("deleting a group that does not exist is not an error", async () => {
    expect((await pushgw(["delete", "-j", "never-pushed"])).code).toBe(0);
  });

  it("types and HELP from --type and --help-text arrive", async () => {
    expect((await pushgw(["add", "-j", "typed", "-t", "counter", "--help-text", "Rows done.", "rows_total=42"])).code).toBe(0);
    const g = findGroup(await readGroups(gw.url), { job: "typed", instance: (await import("node:os")).hostname() });
    expect(family(g, "rows_total")).toMatchObject({ type: "COUNTER", help: "Rows done." });
  });
});

describe("metrics from files and stdin", () => {
  it("pipes the text format in on stdin, as the curl one-liner does", async () => {
    const run = await pushgw(["add", "-j", "stdin", "--no-instance"], "some_metric 3.14\n");
    expect(run.code).toBe(0);
    expect(family(findGroup(await readGroups(gw.url), { job: "stdin" }), "some_metric")?.metrics[0]?.value).toBe("3.14");
  });

  it("reads --file, repairing CRLF and a missing final newline", async () => {
    const file = join(tmp, "windows.prom");
    writeFileSync(file, "# HELP w Written on Windows.\r\n# TYPE w gauge\r\nw{os=\"win\"} 7");
    const run = await pushgw(["push", "-j", "file", "--no-instance", "--file", file]);
    expect(run.stderr).toBe("");
    expect(run.code).toBe(0);
    expect(family(findGroup(await readGroups(gw.url), { job: "file" }), "w")).toMatchObject({ type: "GAUGE", help: "Written on Windows." });
  });

  it("reads --file - from stdin", async () => {
    const run = await pushgw(["push", "-j", "dash", "--no-instance", "-f", "-"], "# TYPE h histogram\nh_bucket{le=\"1\"} 1\nh_bucket{le=\"+Inf\"} 2\nh_sum 3\nh_count 2\n");
    expect(run.code).toBe(0);
    expect(family(findGroup(await readGroups(gw.url), { job: "dash" }), "h")?.type).toBe("HISTOGRAM");
  });

  it("add --heartbeat only refreshes push_time_seconds; push with empty input is refused", async () => {
    await pushgw(["add", "-j", "heartbeat", "--no-instance", "kept=1"]);
    const pushedAt = async () => Number(family(findGroup(await readGroups(gw.url), { job: "heartbeat" }), "push_time_seconds")?.metrics[0]?.value);
    const before = await pushedAt();
    await new Promise((r) => setTimeout(r, 20));
    // Stdin is not read with --heartbeat: what cron hands the job there is not a metric.
    expect(await pushgw(["add", "-j", "heartbeat", "--no-instance", "--heartbeat"], "ignored=1\n")).toMatchObject({ code: 0, stderr: "" });
    expect(await pushedAt()).toBeGreaterThan(before);
    expect(familyNames(findGroup(await readGroups(gw.url), { job: "heartbeat" })!)).toEqual(["kept"]);
    const refused = await pushgw(["push", "-j", "heartbeat", "--no-instance"], "");
    expect(refused.code).toBe(2);
    expect(refused.stderr).toMatch(/no samples; a PUT of nothing would empty the whole group/);
    expect(familyNames(findGroup(await readGroups(gw.url), { job: "heartbeat" })!)).toEqual(["kept"]);
  });

  it.each<[string, string[], string | undefined, RegExp]>([
    // `pushgw add -j x $METRIC` with $METRIC unset, under cron: no argument, stdin /dev/null.
    ["no argument, stdin empty (an unset variable under cron)", [], undefined, /add: nothing to push: stdin was empty and no METRIC argument was given \(an unset variable\?\)/],
    ["--file - with empty stdin", ["--file", "-"], "", /add: nothing to push: stdin was empty\n/],
    // A device or stream named as a file is no file: /dev/null, <(cmd) or /dev/stdin empty is the same mistake.
    ["--file /dev/null", ["--file", "/dev/null"], undefined, /add: nothing to push: --file \/dev\/null was empty \(a pipe or stream, not a file\)/],
    ["only comments on stdin", [], "# HELP m Something.\n", /add: nothing to push/],
    ["--heartbeat with a METRIC argument", ["--heartbeat", "m=1"], undefined, /--heartbeat sends an empty body, so it takes no METRIC arguments/],
  ])("add with %s: exit 2, the hint names --heartbeat, nothing sent", async (_what, extra, input, message) => {
    const run = await pushgw(["add", "-j", "silent-heartbeat", ...extra], input);
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(message);
    expect(run.stderr).toMatch(/--heartbeat/);
    expect(findGroup(await readGroups(gw.url), { job: "silent-heartbeat" })).toBeUndefined();
  });

  it("add --file naming an empty file is a heartbeat on purpose", async () => {
    const file = join(tmp, "empty.prom");
    writeFileSync(file, "");
    expect((await pushgw(["add", "-j", "empty-file", "--no-instance", "--file", file])).code).toBe(0);
    expect(familyNames(findGroup(await readGroups(gw.url), { job: "empty-file" })!)).toEqual([]);
  });

  it("a --file that is missing says so", async () => {
    const missing = await pushgw(["push", "-j", "nothing", "--file", join(tmp, "absent.prom")]);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toMatch(/--file .*absent\.prom: cannot read it: no such file/);
  });
});

describe("bad input: exit 2, a message naming where and what, and nothing sent", () => {
  const cases: Array<[string, string[], string | undefined, RegExp]> = [
    ["timestamp", ["push", "-j", "bad"], "m 1 1700000000000\n", /stdin:1: .*timestamp/],
    // Invalid on every gateway (a dotted or dashed name is a UTF-8 name: test/e2e/receiver-rules.test.ts).
    ["invalid metric name", ["push", "-j", "bad", "my metric=1"], undefined, /argument 1 \(my metric=1\): invalid metric name/],
    ["value not a number", ["add", "-j", "bad", "m=fast"], undefined, /not a number/],
    ["label starting with __", ["add", "-j", "bad"], 'm{__x="1"} 1\n', /stdin:1: .*"__x"/],
    ["duplicate series", ["add", "-j", "bad"], 'm{a="1"} 1\nm{a="1"} 2\n', /stdin:2: .*given twice/],
    ["TYPE after samples", ["add", "-j", "bad"], "m 1\n# TYPE m gauge\n", /stdin:2: .*after its samples/],
    ["reserved name", ["add", "-j", "bad", "push_time_seconds=1"], undefined, /reserved/],
    ["body label overwritten by the key", ["add", "-j", "bad"], 'm{job="other"} 1\n', /would be overwritten by the grouping key/],
    ["invalid UTF-8", ["add", "-j", "bad"], undefined, /stdin:1: invalid UTF-8/],
    ["bad --label", ["add", "-j", "bad", "-l", 'a"b=1', "m=1"], undefined, /--label a"b=1: invalid label name/],
    ["__ --label", ["add", "-j", "bad", "-l", "__a=1", "m=1"], undefined, /starts with "__"/],
    ["duplicate --label", ["add", "-j", "bad", "-l", "a=1", "-l", "a=2", "m=1"], undefined, /already set/],
    ["no job", ["add", "m=1"], undefined, /no job given/],
    ["bad duration", ["add", "-j", "bad", "--timeout", "soon", "m=1"], undefined, /--timeout: invalid duration "soon"/],
    ["unknown flag", ["add", "-j", "bad", "--nope", "m=1"], undefined, /^pushgw: add: unknown flag --nope\nhint: see pushgw add --help\n$/],
  ];

  it.each(cases)("%s", async (_, args, input, message) => {
    const before = await readGroupsSorted(gw.url);
    const bytes = _ === "invalid UTF-8" ? Buffer.from([0x6d, 0x7b, 0x61, 0x3d, 0x22, 0xff, 0x22, 0x7d, 0x20, 0x31, 0x0a]) : input;
    const run = await pushgw(args, bytes);
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(message);
    expect(run.stdout).toBe("");
    expect(await readGroupsSorted(gw.url)).toEqual(before);
  });
});

describe("the gateway's refusals and failures", () => {
  it("shows a refusal in the gateway's own words, with a hint, exit 1", async () => {
    await pushgw(["add", "-j", "type-a", "--no-instance", "-t", "counter", "clash=1"]);
    const run = await pushgw(["add", "-j", "type-b", "--no-instance", "-t", "gauge", "clash=1"]);
    expect(run.code).toBe(1);
    expect(run.stderr).toContain(`POST ${gw.url}/metrics/job/type-b: 400 Bad Request: pushed metrics are invalid or inconsistent with existing metrics`);
    // The gateway names the two types in the order it met the groups, which varies: the hint
    // must name the other group's type either way.
    expect(run.stderr).toMatch(/hint: another group holds clash as a counter, .*--type counter for METRIC arguments/);
  });

  it("a path prefix that does not exist: 404 and a hint about the prefix", async () => {
    const run = await runCli(["add", "-j", "x", "-g", `${gw.url}/pgw`, "m=1"], { env: {} });
    expect(run.code).toBe(1);
    expect(run.stderr).toContain(`POST ${gw.url}/pgw/metrics/job/x/instance/`);
    expect(run.stderr).toMatch(/404 Not Found: 404 page not found[\s\S]*path prefix/);
  });

  it("never follows a redirect", async () => {
    const run = await runCli(["add", "-j", "redirected", "--no-instance", "-g", `${gw.url}/a//b`, "m=1"], { env: {} });
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(/301 Moved Permanently: the gateway answered with a redirect to .*; pushgw does not follow redirects/);
    expect(findGroup(await readGroups(gw.url), { job: "redirected" })).toBeUndefined();
  });

  it("nothing listening: exit 1 after the retries, saying so", async () => {
    const run = await runCli(["add", "-j", "x", "-g", "http://127.0.0.1:9", "--retries", "1", "m=1"], { env: {} });
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(/POST http:\/\/127\.0\.0\.1:9\/metrics\/job\/x\/instance\/\S+: could not connect \(after 2 attempts\): .*ECONNREFUSED/);
  });

  it("a metric argument without --type fits beside the same metric pushed by curl; with another --type, the hint names the one that fits", async () => {
    // What `echo 'curl_metric 1' | curl --data-binary @- …/job/curl-host` leaves on the gateway.
    expect((await fetch(`${gw.url}/metrics/job/curl-host`, { method: "POST", body: "curl_metric 1\n" })).status).toBe(200);
    expect(await pushgw(["add", "-j", "pushgw-host", "--no-instance", "curl_metric=2"])).toMatchObject({ code: 0, stderr: "" });
    const refused = await pushgw(["add", "-j", "pushgw-host", "--no-instance", "-t", "gauge", "curl_metric=3"]);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(/hint: another group holds curl_metric untyped .*: METRIC arguments without --type/);
  });
});

describe("output", () => {
  it("is silent on success, and -v shows the request and status on stderr", async () => {
    const quiet = await pushgw(["add", "-j", "out", "m=1"]);
    expect(quiet).toMatchObject({ code: 0, stdout: "", stderr: "" });
    const loud = await pushgw(["add", "-j", "out", "-v", "m=1"]);
    expect(loud.stdout).toBe("");
    expect(loud.stderr).toMatch(new RegExp(`^POST ${gw.url}/metrics/job/out/instance/\\S+ -> 200 OK \\(\\d+ ms\\)\\n$`));
  });

  it("--dry-run prints method, URL, headers and body, sends nothing, and hides credentials", async () => {
    const before = await readGroupsSorted(gw.url);
    const url = gw.url.replace("http://", "http://admin:hunter2@");
    const run = await runCli(["push", "-j", "dry", "-l", "path=/tmp", "--no-instance", "-g", url, "--dry-run", "m=1"], { env: {} });
    expect(run.code).toBe(0);
    expect(run.stdout).toBe(
      `PUT ${gw.url}/metrics/job/dry/path@base64/L3RtcA\nuser-agent: pushgw/0.1.0\nauthorization: <hidden>\ncontent-type: text/plain; version=0.0.4\n\nm 1\n`,
    );
    expect(await readGroupsSorted(gw.url)).toEqual(before);
  });

  it("never prints a password from the URL, in -v or in errors", async () => {
    const secretUrl = "http://admin:hunter2@127.0.0.1:9";
    const run = await runCli(["add", "-j", "x", "-g", secretUrl, "--retries", "0", "-v", "m=1"], { env: {} });
    expect(run.code).toBe(1);
    expect(run.stderr + run.stdout).not.toContain("hunter2");
    expect(run.stderr).toContain("http://127.0.0.1:9/metrics/job/x");
  });

  it("colours nothing when not on a terminal", async () => {
    const run = await pushgw(["add", "-j", "bad", "m=x"]);
    expect(run.stderr).not.toMatch(/\u001b\[/);
    const forced = await runCli(["add", "-j", "bad", "m=x"], { env: { ...env, FORCE_COLOR: "1", NO_COLOR: "1" } });
    expect(forced.stderr).not.toMatch(/\u001b\[/);
  });
});
