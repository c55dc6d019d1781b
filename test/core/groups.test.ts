import { describe, expect, it } from "vitest";
import { GatewayError } from "../../src/core/errors.js";
import { buildGroupingPath } from "../../src/core/grouping-key.js";
import { aGroup } from "../helpers/group-fixture.js";
import { decodeGroups, describeLastRun, formatAge, groupingKeyOf, isOverdue, lastRunOf, MAX_GROUPS, matchesAll, parseSelector, selectStaleGroups, sortGroups, type Group } from "../../src/core/groups.js";

/** A group as the gateway's JSON API (/api/v1/metrics) shows it, trimmed to what matters. */
function apiGroup(labels: Record<string, string>, pushTime: string, failureTime = "0", extra: Record<string, unknown> = {}) {
  const sampleLabels = { instance: "", ...labels };
  return {
    labels,
    last_push_successful: Number(failureTime) <= Number(pushTime),
    push_time_seconds: { type: "GAUGE", metrics: [{ labels: sampleLabels, value: pushTime }] },
    push_failure_time_seconds: { type: "GAUGE", metrics: [{ labels: sampleLabels, value: failureTime }] },
    ...extra,
  };
}
const decode = (...groups: unknown[]): Group[] => {
  const decoded = decodeGroups(JSON.stringify({ status: "success", data: groups }), "http://gw/api/v1/metrics");
  if (!Array.isArray(decoded)) throw decoded;
  return decoded;
};

describe("decodeGroups", () => {
  it("reads the key, push times and family names", () => {
    const [g] = decode(apiGroup({ job: "backup", db: "pg1" }, "1.7953115493680406e+09", "0", { backup_size: { type: "GAUGE", metrics: [] } }));
    expect(g).toEqual({
      labels: { job: "backup", db: "pg1" },
      lastPushTime: 1795311549.3680406,
      lastFailureTime: null,
      lastPushSuccessful: true,
      metrics: ["backup_size"],
      expectedWithinSeconds: null,
      lastJobSuccessTime: null,
      running: false,
      lastJobStartTime: null,
      maxRuntimeSeconds: null,
      lastExitCode: null,
      lastCompletionTime: null,
      lastSkippedTime: null,
      lastCpuUserSeconds: null,
      lastCpuSystemSeconds: null,
      lastMaxRssBytes: null,
      families: { backup_size: { type: "GAUGE", help: undefined } },
    });
  });

  it("a group whose pushes all failed has no last push time", () => {
    const [g] = decode(apiGroup({ job: "x" }, "0", "1795311549"));
    expect(g).toMatchObject({ lastPushTime: null, lastFailureTime: 1795311549, lastPushSuccessful: false });
  });

  it("recovers the key when a pushed family named `labels` hides it", () => {
    const raw = apiGroup({ job: "x", instance: "h" }, "100", "0", {
      labels: { type: "UNTYPED", metrics: [{ labels: { job: "x", instance: "h" }, value: "1" }] },
      last_push_successful: { type: "UNTYPED", metrics: [] },
    });
    const [g] = decode(raw);
    expect(g).toMatchObject({ labels: { job: "x", instance: "h" }, lastPushSuccessful: true, metrics: ["labels", "last_push_successful"] });
  });

  it("reads wrap's expectation and last success, whatever the prefix", () => {
    const gauge = (v: string) => ({ type: "GAUGE", metrics: [{ labels: {}, value: v }] });
    const [g] = decode(apiGroup({ job: "x" }, "100", "0", {
      backup_expected_interval_seconds: gauge("86400"),
      backup_expected_grace_seconds: gauge("3600"),
      backup_last_success_timestamp_seconds: gauge("50"),
      backup_running: gauge("0"),
      backup_last_start_timestamp_seconds: gauge("40"),
    }));
    expect(g).toMatchObject({ expectedWithinSeconds: 90000, lastJobSuccessTime: 50, lastJobStartTime: 40 });
  });

  it("keeps a label a hostile gateway names __proto__: a DELETE by the key without it would name another group", () => {
    const body = '{"status":"success","data":[{"labels":{"job":"x","__proto__":"y"},"last_push_successful":true,"push_time_seconds":{"type":"GAUGE","metrics":[{"labels":{"job":"x"},"value":"100"}]}}]}';
    const groups = decodeGroups(body, "http://gw/api/v1/metrics") as Group[];
    expect(Object.entries(groups[0]!.labels)).toEqual([["job", "x"], ["__proto__", "y"]]);
    expect(groupingKeyOf(groups[0]!)).toEqual({ job: "x", labels: [["__proto__", "y"]] });
  });

  it("never reads a family the job pushed itself as wrap's, though its name ends the same way", () => {
    const gauge = (v: string) => ({ type: "GAUGE", metrics: [{ labels: {}, value: v }] });
    const [g] = decode(apiGroup({ job: "x" }, "100", "0", {
      aaa_exit_code: gauge("0"),
      db_dump_exit_code: gauge("2"),
      apache_workers_running: gauge("1"),
      job_exit_code: gauge("3"),
      job_running: gauge("0"),
      job_last_start_timestamp_seconds: gauge("40"),
    }));
    expect(g).toMatchObject({ lastExitCode: 3, running: false, lastJobStartTime: 40 });
    const [curl] = decode(apiGroup({ job: "rsync" }, "100", "0", { rsync_exit_code: gauge("23"), apache_workers_running: gauge("1") }));
    expect(curl).toMatchObject({ lastExitCode: null, running: false });
  });

  it.each([
    ["not JSON", "<html>", /not JSON/],
    ["no data", '{"status":"success"}', /no "data" array/],
    ["a JSON null", "null", /no "data" array/],
    ["a null group", '{"data":[null]}', /group 1 is null/],
    ["a group that is a number", '{"data":[7]}', /group 1 is a number/],
    ["labels: null", '{"data":[{"labels":null}]}', /group 1: it has no grouping labels/],
    ["a label that is not a string", '{"data":[{"labels":{"job":3}}]}', /label job is not a string/],
    ["a group without a job", '{"data":[{"labels":{"a":"b"}}]}', /no job label/],
    ["cut short", '{"data":[{"labels":{"job":"x"}}', /not JSON/],
    ["cut inside a string", '{"data":[{"labels":{"job":"x\\"}}]}', /not JSON/],
    ["followed by more", '{"data":[]} {"data":[]}', /not JSON/],
    ["data that is no array", '{"data":{"labels":{"job":"x"}}}', /no "data" array/],
    ["an array at the top", '[{"labels":{"job":"x"}}]', /no "data" array/],
    ["a broken group", '{"data":[{"labels":{"job":"x"},}]}', /not JSON/],
  ])("gives a gateway error, never an exception, for an answer that is %s", (_, body, message) => {
    const decoded = decodeGroups(body, "http://gw/api/v1/metrics");
    expect(decoded).toBeInstanceOf(GatewayError);
    expect((decoded as GatewayError).message).toMatch(message);
  });

  it("reads the answer group by group, however it is laid out, with quotes, braces and escapes inside strings", () => {
    const groups = [apiGroup({ job: 'a"}]{[', instance: "\\" }, "1"), apiGroup({ job: "b\\\"x" }, "2")];
    const spaced = `\n { "status" : "success" ,\r\n\t"data" : [ ${groups.map((g) => JSON.stringify(g, null, 2)).join(" ,\n")} ] , "more": [1, {"x": "]"}] } \n`;
    const decoded = decodeGroups(spaced, "http://gw/api/v1/metrics") as Group[];
    expect(decoded.map((g) => g.labels)).toEqual([{ job: 'a"}]{[', instance: "\\" }, { job: "b\\\"x" }]);
    expect(decodeGroups('{"data":[]}', "u")).toEqual([]);
  });

  it(`refuses an answer listing more than ${MAX_GROUPS} groups, saying so`, () => {
    const one = JSON.stringify({ labels: { job: "x" } });
    const body = `{"data":[${Array.from({ length: MAX_GROUPS + 1 }, () => one).join(",")}]}`;
    const decoded = decodeGroups(body, "http://gw/api/v1/metrics");
    expect((decoded as GatewayError).message).toContain("it lists more than 500,000 groups, more than any real gateway holds");
  });

  it("gives the exact key to delete by, empty values and slashes included", () => {
    const [g] = decode(apiGroup({ job: "a/b", instance: "", path: "/var/tmp" }, "1"));
    expect(buildGroupingPath(groupingKeyOf(g!))).toBe("/metrics/job@base64/YS9i/instance@base64/=/path@base64/L3Zhci90bXA");
  });
});

describe("selectors", () => {
  const labels = { job: "backup", instance: "db-1", env: "", "service.name": "api" };
  it.each([
    ["job=backup", true],
    // UTF-8 label names (Pushgateway 1.11 with --push.enable-utf8-names), bare or quoted.
    ["service.name=api", true],
    ['"service.name"=~a.*', true],
    ["service.name!=api", false],
    ["job!=backup", false],
    ["job=~back.*", true],
    ["job=~back", false],
    ["job!~ba.*", false],
    ["instance=~db-[0-9]+", true],
    ["env=", true],
    ["missing=", true],
    ["missing!=", false],
    ['job="backup"', true],
    ["job = backup", true],
    ["job=~Back|backup", true],
  ])("%s → %s", (selector, expected) => {
    expect(matchesAll(labels, [parseSelector(selector, "--match")])).toBe(expected);
  });

  // A PromQL selector's braces and commas are no part of a bare name: `{job!="keep"}` would be a
  // matcher on a label "{job" that no group has, so != matched every group (delete --match --yes).
  it.each(["job", "=x", "a\"b=x", "\"a\\q\"=x", "job=~(", "job~x", '{job!="keep"}', '{job="x"}', "{job=x", "job}=x"])("refuses %j", (selector) => {
    expect(() => parseSelector(selector, "--match")).toThrow(/--match/);
  });

  it("says in one line what is wrong with a regular expression", () => {
    expect(() => parseSelector("job=~(", "--match")).toThrow(/^--match "job=~\(": "\(" is not a valid regular expression \(unterminated group\)$/);
  });

  it("needs every matcher to hold", () => {
    expect(matchesAll(labels, [parseSelector("job=backup", "--match"), parseSelector("instance=db-2", "--match")])).toBe(false);
    expect(matchesAll(labels, [])).toBe(true);
  });
});

describe("selectStaleGroups", () => {
  const now = 1_000_000_000;
  const group = (lastPushTime: number | null, lastFailureTime: number | null): Group => aGroup({ job: `j${lastPushTime}-${lastFailureTime}` }, { lastPushTime, lastFailureTime });
  it.each([
    ["pushed 2 h ago, older than 1 h", group(now / 1000 - 7200, null), true],
    ["pushed 30 min ago", group(now / 1000 - 1800, null), false],
    ["old success, recent failure: counts by the success", group(now / 1000 - 7200, now / 1000 - 60), true],
    ["only failures, the last 2 h ago", group(null, now / 1000 - 7200), true],
    ["only failures, the last a minute ago", group(null, now / 1000 - 60), false],
    ["no time at all", group(null, null), true],
  ])("%s → %s", (_, g, stale) => {
    expect(selectStaleGroups([g], now, 3_600_000)).toEqual(stale ? [g] : []);
  });

  it("overdue: a wrapped job past its interval plus grace", () => {
    const g = { ...group(now / 1000, null), expectedWithinSeconds: 3600, lastJobSuccessTime: now / 1000 - 3601 };
    expect(isOverdue(g, now)).toBe(true);
    expect(isOverdue({ ...g, lastJobSuccessTime: now / 1000 - 10 }, now)).toBe(false);
    expect(isOverdue({ ...g, expectedWithinSeconds: null }, now)).toBe(false);
  });

  it.each([
    ["its first run failed a second ago", now / 1000 - 1, false],
    ["it started an hour and a second ago and never succeeded", now / 1000 - 3601, true],
  ])("never succeeded: overdue only once interval plus grace has passed since its start: %s", (_, startedAt, overdue) => {
    const g = { ...group(now / 1000, null), expectedWithinSeconds: 3600, lastJobStartTime: startedAt, lastExitCode: 3 };
    expect(isOverdue(g, now)).toBe(overdue);
  });
});

describe("lastRunOf and describeLastRun: the job's story in list", () => {
  const now = 1_800_000_000_000;
  const s = now / 1000;
  const wrapped = (rest: Partial<Group>): Group =>
    aGroup({ job: "j" }, { lastPushTime: s - 5, metrics: ["job_exit_code"], lastJobStartTime: s - 65, lastExitCode: 0, lastCompletionTime: s - 60, ...rest });
  it.each<[string, Partial<Group>, string, string]>([
    ["a success", { lastJobSuccessTime: s - 60 }, "succeeded", "succeeded 1m ago"],
    ["exit 3 after an earlier success", { lastExitCode: 3, lastJobSuccessTime: s - 3600 }, "failed", "failed with exit status 3 1m ago"],
    ["exit 3, never a success", { lastExitCode: 3 }, "failed", "failed with exit status 3 1m ago; never succeeded"],
    ["SIGKILL", { lastExitCode: 137, lastJobSuccessTime: s - 3600 }, "killed", "killed by SIGKILL (exit status 137) 1m ago"],
    ["SIGTERM", { lastExitCode: 143, lastJobSuccessTime: s - 3600 }, "killed", "killed by SIGTERM (exit status 143) 1m ago"],
    ["SIGXCPU", { lastExitCode: 152, lastJobSuccessTime: s - 3600 }, "killed", "killed by SIGXCPU (exit status 152) 1m ago"],
    ["--max-runtime", { lastExitCode: 124, maxRuntimeSeconds: 600, lastJobSuccessTime: s - 3600 }, "timed-out", "stopped by --max-runtime (exit status 124) 1m ago"],
    ["the job's own 124, no --max-runtime", { lastExitCode: 124, lastJobSuccessTime: s - 3600 }, "failed", "failed with exit status 124 1m ago"],
    ["not found", { lastExitCode: 127, lastJobSuccessTime: s - 3600 }, "not-found", "failed with exit status 127 (command not found) 1m ago"],
    ["not executable", { lastExitCode: 126, lastJobSuccessTime: s - 3600 }, "not-executable", "failed with exit status 126 (not executable) 1m ago"],
    ["no exit status pushed", { lastExitCode: null }, "unknown", "ended 1m ago, its exit status not known"],
    ["a fractional exit status", { lastExitCode: 1.5 }, "unknown", "ended 1m ago, its exit status not known"],
    ["running for 2h", { running: true, lastJobStartTime: s - 7200 }, "running", "running for 2h"],
    ["stuck", { running: true, lastJobStartTime: s - 7200, maxRuntimeSeconds: 600 }, "stuck", "stuck running since 2h ago (wrapper killed, or the job hangs)"],
    ["skipped after a success", { lastJobSuccessTime: s - 60, lastSkippedTime: s - 30 }, "succeeded", "succeeded 1m ago; a later run skipped (lock held) 30s ago"],
    ["overdue", { lastJobSuccessTime: s - 60, expectedWithinSeconds: 30 }, "succeeded", "succeeded 1m ago; overdue (no success within --expect-every)"],
  ])("%s", (_, rest, state, text) => {
    const run = lastRunOf(wrapped(rest), now)!;
    expect(run.state).toBe(state);
    expect(describeLastRun(run, now)).toBe(text);
  });

  it("a group wrap did not push has no story", () => {
    expect(lastRunOf(wrapped({ lastExitCode: null, lastJobStartTime: null }), now)).toBeNull();
  });
});

describe("sortGroups and formatAge", () => {
  it("sorts by job, then by the other labels", () => {
    const g = (labels: Record<string, string>) => ({ labels }) as Group;
    const sorted = sortGroups([g({ job: "b" }), g({ job: "a", instance: "z" }), g({ job: "a", instance: "b" }), g({ job: "a" })]);
    expect(sorted.map((x) => x.labels)).toEqual([{ job: "a" }, { job: "a", instance: "b" }, { job: "a", instance: "z" }, { job: "b" }]);
  });
  it.each([
    [null, "never"],
    [999_999.5, "just now"],
    [999_990, "10s ago"],
    [1_000_000 - 3 * 86_400, "3d ago"],
  ])("%s → %s", (time, text) => {
    expect(formatAge(time, 1_000_000_000)).toBe(text);
  });
});
