import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { describeRefusal, parseGatewayUrl, parseRetryAfter, redactUrlText, retryDelayMs, DEFAULT_RETRY_POLICY } from "../../src/core/delivery.js";

describe("parseGatewayUrl", () => {
  it.each([
    ["localhost:9091", "http://localhost:9091"],
    ["http://gw:9091/", "http://gw:9091"],
    ["https://gw/pgw", "https://gw/pgw"],
    ["https://gw/pgw///", "https://gw/pgw"],
    ["http://GW.example:80/a/b/", "http://gw.example/a/b"],
    ["127.0.0.1:9091", "http://127.0.0.1:9091"],
  ])("%s → %s", (text, base) => {
    expect(parseGatewayUrl(text)).toEqual({ baseUrl: base, urlCredentials: undefined });
  });

  it("moves credentials out of the URL", () => {
    expect(parseGatewayUrl("http://admin:s%3Acret@gw:9091")).toEqual({
      baseUrl: "http://gw:9091",
      urlCredentials: { user: "admin", password: "s:cret" },
    });
  });

  it.each([
    ["ftp://gw", /unsupported scheme "ftp:"/],
    ["http://gw:9091/?x=1", /query or fragment/],
    ["http://[::1", /is not a URL/],
    // The curl one-liner's whole URL pasted in: the base URL and the grouping flags are named.
    ["http://gw:9091/metrics/job/backup", /names a group \(\/metrics\/job\/backup\), not a gateway/],
    ["http://gw:9091/pgw/metrics/job/backup/instance/db-1", /names a group \(\/metrics\/job\/backup\/instance\/db-1\)/],
    ["http://gw:9091/metrics/job@base64/YS9i", /names a group/],
  ])("refuses %s", (text, message) => {
    expect(() => parseGatewayUrl(text)).toThrow(message);
  });

  it("a pasted group URL: the hint gives the base URL to use, with its path prefix", () => {
    expect(() => parseGatewayUrl("http://u:hunter2@gw:9091/pgw/metrics/job/backup")).toThrow(
      expect.objectContaining({ hint: "give the gateway's base URL (http://gw:9091/pgw) and the group with --job, --instance and --label", message: expect.not.stringContaining("hunter2") }),
    );
  });

  it.each([
    ["http:/u:hunter2@gw/metrics/job/x", /holds user:password@ in its path/],
    ["http://u:hunter2@gw/metrics/job@base64/x", /"http:\/\/gw\/metrics\/job@base64\/x" names a group/],
  ])("never shows the password of %s, whatever the mistake", (text, message) => {
    let error: { message: string; hint?: string } | undefined;
    try {
      parseGatewayUrl(text);
    } catch (e) {
      error = e as { message: string; hint?: string };
    }
    expect(error?.message).toMatch(message);
    expect(`${error?.message} ${error?.hint}`).not.toContain("hunter2");
  });

  it("a path that only holds 'metrics' elsewhere is a prefix like any other (OTLP's /v1/metrics, a /metrics-gw prefix)", () => {
    expect(parseGatewayUrl("http://vm:8428/opentelemetry/v1/metrics").baseUrl).toBe("http://vm:8428/opentelemetry/v1/metrics");
    expect(parseGatewayUrl("http://gw/metrics-gw/job").baseUrl).toBe("http://gw/metrics-gw/job");
  });

  it("never repeats a password it refuses", () => {
    expect(() => parseGatewayUrl("http://u:hunter2@[::1")).toThrow(/u:\*\*\*@/);
    expect(redactUrlText("https://u:hunter2@h/x")).toBe("https://u:***@h/x");
  });
});

describe("retryDelayMs", () => {
  it.each([
    [1, 0, 250],
    [1, 0.999, 500],
    [2, 0, 500],
    [3, 0.5, 1500],
    [10, 1, 8000],
  ])("retry %d with random %d waits %d ms", (retry, random, expected) => {
    expect(retryDelayMs(retry, DEFAULT_RETRY_POLICY, random)).toBeCloseTo(expected, -1);
  });
  it("takes Retry-After over backoff", () => {
    expect(retryDelayMs(1, DEFAULT_RETRY_POLICY, 0.3, 4000)).toBe(4000);
  });
});

describe("parseRetryAfter", () => {
  const now = Date.parse("2026-11-22T00:00:00Z");
  it.each([
    ["5", 5000],
    [" 0 ", 0],
    ["Sun, 22 Nov 2026 00:00:10 GMT", 10_000],
    ["Sat, 21 Nov 2026 00:00:10 GMT", 0],
    ["soon", undefined],
    [undefined, undefined],
  ])("%j → %j", (value, ms) => {
    expect(parseRetryAfter(value, now)).toBe(ms);
  });
});

describe("describeRefusal hints", () => {
  const refuse = (status: number, body: string) => describeRefusal({ method: "PUT", url: "http://gw/metrics/job/x", status, statusText: "", body, attempts: 1 });
  it.each([
    [400, "pushed metrics are invalid or inconsistent with existing metrics: pushed metrics must not have timestamps", /remove the timestamps/],
    [400, 'pushed metrics are invalid or inconsistent with existing metrics: collected metric "m1" { } is not a COUNTER', /another type/],
    [400, "... was collected before with the same name and label values", /already exposes the same series/],
    // Pushgateway 1.11 without --push.enable-utf8-names (and every gateway before it), in its words.
    [400, 'text format parsing error in line 1: invalid metric name "my.metric"', /^my\.metric is a UTF-8 name, which this gateway refuses: start the gateway with --push\.enable-utf8-names/],
    [400, 'text format parsing error in line 1: invalid label name "a.b"', /^a\.b is a UTF-8 name.*--push\.enable-utf8-names/],
    [400, 'improper label name "service.name"', /^service\.name is a UTF-8 name.*--push\.enable-utf8-names/],
    [401, "Unauthorized", /--user/],
    [404, "404 page not found", /path prefix/],
    [405, "Method Not Allowed", /does not take this method/],
  ])("%d %s", (status, body, hint) => {
    const error = refuse(status, body);
    expect(error.message).toContain(body);
    expect(error.hint).toMatch(hint);
  });
});

describe("the type-clash hint names the type to push with, whichever group the gateway met first", () => {
  const PREFIX = "pushed metrics are invalid or inconsistent with existing metrics: ";
  const hintFor = (url: string, body: string) => describeRefusal({ method: "POST", url, status: 400, statusText: "Bad Request", body: PREFIX + body, attempts: 1 }).hint;
  const theirs = 'collected metric "m" { label:<name:"instance" value:"" > label:<name:"job" value:"curl" > untyped:<value:1 > } is not a GAUGE';
  const ours = 'collected metric "m" { label:<name:"instance" value:"" > label:<name:"job" value:"x" > gauge:<value:1 > } is not a UNTYPED';
  const UNTYPED = /^another group holds m untyped \(as curl pushes it without a TYPE line\), .*: METRIC arguments without --type \(or with --type untyped\), a file without a TYPE line for m; or delete the other group$/;

  it.each([
    ["the other group's metric named", theirs],
    ["our metric named", ours],
  ])("%s", (_, body) => {
    expect(hintFor("http://gw:9091/metrics/job/x", body)).toMatch(UNTYPED);
  });

  it.each([
    // Pushed untyped into {job="x", instance="h"}; the other group holds a counter.
    ['collected metric "m" { label:<name:"instance" value:"h" > label:<name:"job" value:"x" > untyped:<value:1 > } is not a COUNTER', "counter"],
    ['collected metric "m" { label:<name:"instance" value:"" > label:<name:"job" value:"x" > counter:<value:1 > } is not a UNTYPED', "counter"],
    // The same job without an instance is another group.
    ['collected metric "m" { label:<name:"instance" value:"" > label:<name:"job" value:"x" > gauge:<value:1 > } is not a UNTYPED', "gauge"],
  ])("%s → --type %s", (body, type) => {
    expect(hintFor("http://gw:9091/metrics/job/x/instance/h", body)).toContain(`push it as a ${type}: --type ${type} for METRIC arguments, "# TYPE m ${type}" in a file`);
  });

  it("reads base64 segments and the gateway's octal escapes", () => {
    // job "Προ/x": base64 in the URL, octal-escaped UTF-8 in the gateway's message.
    const body = 'collected metric "m" { label:<name:"instance" value:"" > label:<name:"job" value:"\\316\\240\\317\\201\\316\\277/x" > counter:<value:1 > } is not a GAUGE';
    expect(hintFor("http://gw/pgw/metrics/job@base64/zqDPgc6_L3g", body)).toContain("as a gauge: --type gauge");
    expect(hintFor("http://gw/pgw/metrics/job/other", body)).toContain("as a counter: --type counter");
  });

  // The gateway's own words, as 1.5.1 and 1.11.2 wrote them (test/fixtures/type-clash/VERSION-CASE.txt):
  // 1.11's protobuf text has braces and doubled blanks where 1.5.1's has angle brackets.
  it.each(
    ["1.5.1", "1.11.2"].flatMap((version) =>
      [
        // {job="x"} pushed a gauge m; {job="curl"} holds it untyped.
        ["gauge-beside-untyped", "http://gw/metrics/job/x", "push it untyped: METRIC arguments without --type"],
        // {job="x"} pushed an untyped h; {job="other"} holds a histogram.
        ["untyped-beside-histogram", "http://gw/metrics/job/x", 'push it as a histogram, from a file with "# TYPE h histogram"'],
        // {job="other"} pushed a gauge c; {job="Προ/x"} holds a counter.
        ["gauge-beside-utf8-job-counter", "http://gw/metrics/job/other", 'push it as a counter: --type counter for METRIC arguments, "# TYPE c counter" in a file'],
      ].map(([clash, url, fix]) => [version, clash!, url!, fix!] as const),
    ),
  )("Pushgateway %s: %s", (version, clash, url, fix) => {
    const body = readFileSync(new URL(`../fixtures/type-clash/${version}-${clash}.txt`, import.meta.url), "utf8");
    const hint = describeRefusal({ method: "POST", url, status: 400, statusText: "Bad Request", body, attempts: 1 }).hint;
    expect(hint).toContain(fix);
  });

  it("a histogram elsewhere: a file, since arguments cannot carry one", () => {
    const body = 'collected metric "h" { label:<name:"instance" value:"" > label:<name:"job" value:"other" > histogram:<sample_count:1 sample_sum:1 bucket:<cumulative_count:1 upper_bound:1 > > } is not a UNTYPED';
    expect(hintFor("http://gw/metrics/job/x", body)).toContain('push it as a histogram, from a file with "# TYPE h histogram"');
  });
});
