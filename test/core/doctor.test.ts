import { describe, expect, it } from "vitest";
import {
  asGoShowsIt,
  chooseTwinToKeep,
  clockSkewMs,
  decodeGoString,
  diagnose,
  emptyValueTwinClusters,
  helpClashes,
  nonUtf8Labels,
  parseGatewayStatus,
  renderReport,
  typeClashes,
  type GatewayFacts,
} from "../../src/core/doctor.js";
import type { Group } from "../../src/core/groups.js";
import { aGroup } from "../helpers/group-fixture.js";

const NOW = 1_800_000_000_000;
const ago = (seconds: number) => NOW / 1000 - seconds;

function group(labels: Record<string, string>, rest: Partial<Group> = {}): Group {
  return aGroup(labels, { lastPushTime: ago(60), metrics: Object.keys(rest.families ?? {}), ...rest });
}
const gauge = { type: "GAUGE", help: undefined };
const healthy: GatewayFacts = {
  url: "http://gw:9091",
  healthy: { ok: true },
  ready: { ok: true },
  status: { version: "1.5.1", persistenceFile: "/var/lib/pgw", consistencyCheckDisabled: false, telemetryPath: "/metrics" },
  metricsEndpoint: { ok: true },
  clockSkewMs: 120,
};
const kinds = (groups: Group[], facts: Partial<GatewayFacts> = {}, olderThanMs?: number) => diagnose({ ...healthy, ...facts }, groups, NOW, { olderThanMs }).findings.map((f) => f.kind);

describe("emptyValueTwinClusters and the twin kept", () => {
  it.each([
    ["{job=x} beside {job=x, instance=''}", [group({ job: "x" }), group({ job: "x", instance: "" })], [["x", "x"]]],
    ["three of a kind", [group({ job: "x" }), group({ job: "x", instance: "" }), group({ job: "x", a: "", instance: "" })], [["x", "x", "x"]]],
    ["different values are no twins", [group({ job: "x", instance: "a" }), group({ job: "x", instance: "b" })], []],
    ["a value beside no label at all is no twin", [group({ job: "x" }), group({ job: "x", instance: "h" })], []],
  ])("%s", (_, groups, clusters) => {
    expect(emptyValueTwinClusters(groups).map((c) => c.map((g) => g.labels["job"]))).toEqual(clusters);
  });

  const debris = (labels: Record<string, string>) => group(labels, { metrics: [], lastPushTime: null, lastPushSuccessful: false, lastFailureTime: ago(1) });
  it.each([
    ["the one that holds metrics, not the debris of a refused push", debris({ job: "x", instance: "" }), group({ job: "x" }, { metrics: ["m"] }), { job: "x" }],
    ["the one with a successful push, though it holds no metrics, not the debris", debris({ job: "x" }), group({ job: "x", instance: "" }, { metrics: [], lastPushTime: ago(3600) }), { job: "x", instance: "" }],
  ])("keeps %s", (_, a, b, kept) => {
    expect(chooseTwinToKeep([a, b])).toEqual({ keep: b, drop: [a] });
    expect(chooseTwinToKeep([b, a])).toMatchObject({ keep: { labels: kept } });
  });

  it.each([
    // A gateway without its consistency check took a curl push of the twin after the real group: the newer push is no reason to keep it.
    ["two that hold metrics, the twin pushed later", group({ job: "x" }, { metrics: ["m"], lastPushTime: ago(86400) }), group({ job: "x", instance: "" }, { metrics: ["m"], lastPushTime: ago(5) }), "more than one of them had successful pushes"],
    ["two that hold metrics, pushed at the same time", group({ job: "x", instance: "" }, { metrics: ["m"] }), group({ job: "x" }, { metrics: ["m"] }), "more than one of them had successful pushes"],
    ["two that never had a successful push", debris({ job: "x" }), debris({ job: "x", instance: "" }), "none of them ever had a successful push"],
  ])("cannot tell for %s: keeps none", (_, a, b, why) => {
    expect(chooseTwinToKeep([a, b])).toEqual({ undecided: why });
  });

  it("undecided twins: --fix runs nothing, the report prints each repair", () => {
    const twins = [group({ job: "x" }, { metrics: ["m"], lastPushTime: ago(86400) }), group({ job: "x", instance: "" }, { metrics: ["m"], lastPushTime: ago(5) })];
    const [found] = diagnose(healthy, twins, NOW, { olderThanMs: undefined }).findings;
    expect(found).toMatchObject({ kind: "empty-value-twins", repairs: [] });
    expect(found!.advice).toBe(
      `to delete {job="x"}: pushgw delete --gateway http://gw:9091 --job x --no-instance\n  to delete {job="x", instance=""}: pushgw delete --gateway http://gw:9091 --job x --instance ''`,
    );
  });
});

describe("type and HELP clashes", () => {
  const holding = (job: string, type: string, pushed: number, help?: string) => group({ job }, { families: { m: { type, help } }, lastPushTime: ago(pushed) });
  it.each([
    ["one type everywhere: none", [holding("a", "GAUGE", 9), holding("b", "GAUGE", 5)], []],
    ["two types: the type held first is first", [holding("a", "COUNTER", 9), holding("b", "GAUGE", 5)], [["COUNTER", "GAUGE"]]],
    ["no vote: three long-standing groups come before four new ones", [holding("o1", "GAUGE", 900), holding("o2", "GAUGE", 800), holding("o3", "GAUGE", 700), holding("n1", "COUNTER", 40), holding("n2", "COUNTER", 30), holding("n3", "COUNTER", 20), holding("n4", "COUNTER", 10)], [["GAUGE", "COUNTER"]]],
    ["a family in one group only: none", [holding("a", "GAUGE", 1), group({ job: "b" }, { families: { other: { type: "COUNTER", help: undefined } } })], []],
  ])("%s", (_, groups, found) => {
    expect(typeClashes(groups).map((c) => c.byType.map((t) => t.type))).toEqual(found);
  });

  it.each([
    ["every newer group pushed after every older one", [holding("o1", "GAUGE", 900), holding("o2", "GAUGE", 800), holding("n1", "COUNTER", 40), holding("n2", "COUNTER", 30)], true],
    ["the times interleave (an old group pushed again after the newcomer)", [holding("o1", "GAUGE", 900), holding("o2", "GAUGE", 5), holding("n1", "COUNTER", 40)], false],
    ["a group without a successful push", [holding("o1", "GAUGE", 900), group({ job: "n" }, { families: { m: { type: "COUNTER", help: undefined } }, lastPushTime: null })], false],
    ["three types, the first before both others", [holding("a", "GAUGE", 900), holding("b", "COUNTER", 40), holding("c", "UNTYPED", 50)], true],
  ])("which type came first is known: %s", (_, groups, known) => {
    expect(typeClashes(groups).map((c) => c.firstKnown)).toEqual([known]);
  });

  it("the repair deletes the newer type's groups, however many; undecided, it only prints", () => {
    const clash = [holding("o1", "GAUGE", 900), holding("o2", "GAUGE", 800), holding("o3", "GAUGE", 700), holding("n1", "COUNTER", 40), holding("n2", "COUNTER", 30), holding("n3", "COUNTER", 20), holding("n4", "COUNTER", 10)];
    const [found] = diagnose(healthy, clash, NOW, { olderThanMs: undefined }).findings;
    expect(found!.repairs.map((r) => r.path)).toEqual(["/metrics/job/n1", "/metrics/job/n2", "/metrics/job/n3", "/metrics/job/n4"]);
    const interleaved = [holding("o1", "GAUGE", 900), holding("o2", "GAUGE", 5), holding("n1", "COUNTER", 40)];
    const [undecided] = diagnose(healthy, interleaved, NOW, { olderThanMs: undefined }).findings;
    expect(undecided!.repairs).toEqual([]);
    expect(undecided!.advice).toBe(
      "to keep GAUGE, delete: pushgw delete --gateway http://gw:9091 --job n1 --no-instance\n  to keep COUNTER, delete: pushgw delete --gateway http://gw:9091 --job o1 --no-instance; pushgw delete --gateway http://gw:9091 --job o2 --no-instance",
    );
  });

  it.each([
    ["different texts", [holding("a", "GAUGE", 1, "one"), holding("b", "GAUGE", 1, "two")], 1],
    ["the same text", [holding("a", "GAUGE", 1, "one"), holding("b", "GAUGE", 1, "one")], 0],
    ["a text beside none", [holding("a", "GAUGE", 1, "one"), holding("b", "GAUGE", 1)], 0],
  ])("HELP: %s", (_, groups, count) => {
    expect(helpClashes(groups)).toHaveLength(count);
  });
});

describe("labels that are not UTF-8", () => {
  it.each([
    ['\\xfb\\xff', [0xfb, 0xff]],
    ["plain", [...Buffer.from("plain")]],
    ['a\\"b\\\\c', [...Buffer.from('a"b\\c')]],
    ["\\n\\t\\a", [10, 9, 7]],
    ["\\373\\377", [0xfb, 0xff]],
    ["\\u00e9\\U0001F600", [...Buffer.from("é😀")]],
    ["é", [...Buffer.from("é")]],
  ])("decodeGoString(%s)", (text, bytes) => {
    expect([...decodeGoString(text)!]).toEqual(bytes);
  });
  it.each([["\\q"], ["\\x4"], ["trailing\\"]])("decodeGoString(%s) is no Go string", (text) => {
    expect(decodeGoString(text)).toBeUndefined();
  });

  it.each([
    [[0xfb, 0xff], "\uFFFD\uFFFD"],
    // Go replaces each byte of a cut-short sequence; WHATWG decoders would give one U+FFFD.
    [[0x61, 0xe2, 0x82], "a\uFFFD\uFFFD"],
    [[0xed, 0xa0, 0x80], "\uFFFD\uFFFD\uFFFD"],
    [[0xc3, 0xa9, 0xff], "é\uFFFD"],
    [[0xf0, 0x9f, 0x98, 0x80], "😀"],
  ])("asGoShowsIt(%j)", (bytes, shown) => {
    expect(asGoShowsIt(Uint8Array.from(bytes))).toBe(shown);
  });

  it("reads them from the gateway's /metrics error, each once", () => {
    const answer =
      '* collected metric "push_time_seconds" { label:<name:"a" value:"\\373\\377" > } has a label named "a" whose value is not utf8: "\\xfb\\xff"\n' +
      '* collected metric "m" { } has a label named "a" whose value is not utf8: "\\xfb\\xff"\n' +
      '* collected metric "m" { } has a label named "b" whose value is not utf8: "x\\xc3"\n';
    expect(nonUtf8Labels(answer).map((l) => [l.name, [...l.bytes]])).toEqual([
      ["a", [0xfb, 0xff]],
      ["b", [0x78, 0xc3]],
    ]);
  });

  it("the group is deleted by its exact bytes when the error names them, and only said otherwise", () => {
    const bad = group({ job: "u", a: "\uFFFD\uFFFD", team: "x y" }, { lastPushSuccessful: false, lastPushTime: null });
    const named = diagnose({ ...healthy, metricsEndpoint: { ok: false, why: "it answers 500", answer: 'has a label named "a" whose value is not utf8: "\\xfb\\xff"' } }, [bad], NOW, { olderThanMs: undefined });
    const finding = named.findings.find((f) => f.kind === "label-not-utf8")!;
    expect(finding.repairs).toEqual([{ labels: bad.labels, method: "DELETE", path: "/metrics/job/u/team@base64/eCB5/a@base64/-_8", command: "curl -X DELETE http://gw:9091/metrics/job/u/team@base64/eCB5/a@base64/-_8" }]);
    // Not reported again as a failed push.
    expect(named.findings.map((f) => f.kind)).toEqual(["metrics-endpoint-fails", "label-not-utf8"]);
    const unnamed = diagnose({ ...healthy, metricsEndpoint: { ok: false, why: "it answers 500", answer: "" } }, [bad], NOW, { olderThanMs: undefined });
    expect(unnamed.findings.find((f) => f.kind === "label-not-utf8")!.repairs).toEqual([]);
  });
});

describe("diagnose", () => {
  const wrapped = (rest: Partial<Group>) =>
    group({ job: "backup", instance: "db-1" }, { families: { job_running: gauge, job_last_start_timestamp_seconds: gauge }, ...rest });
  it.each<[string, Group[], Partial<GatewayFacts>, number | undefined, string[]]>([
    ["a healthy gateway", [group({ job: "a" })], {}, undefined, []],
    ["persistence off, consistency check off: notes", [], { status: { ...healthy.status!, persistenceFile: "", consistencyCheckDisabled: true } }, undefined, ["persistence-off", "consistency-check-off"]],
    ["a failed last push", [group({ job: "a" }, { lastPushSuccessful: false, lastFailureTime: ago(5) })], {}, undefined, ["push-failed"]],
    ["stale only with --older-than", [group({ job: "a" }, { lastPushTime: ago(7200) })], {}, undefined, []],
    ["stale with --older-than 1h", [group({ job: "a" }, { lastPushTime: ago(7200) })], {}, 3_600_000, ["stale"]],
    ["a stale group whose last push failed is deleted once", [group({ job: "a" }, { lastPushTime: null, lastFailureTime: ago(7200), lastPushSuccessful: false })], {}, 3_600_000, ["stale"]],
    ["overdue", [wrapped({ expectedWithinSeconds: 3600, lastJobSuccessTime: ago(7200) })], {}, undefined, ["overdue"]],
    // Every run fails: list measures overdue from the last start, doctor says it at once.
    ["never succeeded, its last run (a minute ago) failed", [wrapped({ expectedWithinSeconds: 3600, lastJobStartTime: ago(60), lastExitCode: 3 })], {}, undefined, ["overdue"]],
    ["never succeeded, but never ran to the end yet", [wrapped({ expectedWithinSeconds: 3600, lastJobStartTime: ago(60), running: true })], {}, undefined, []],
    ["stuck past --max-runtime plus a minute", [wrapped({ running: true, lastJobStartTime: ago(200), maxRuntimeSeconds: 60 })], {}, undefined, ["stuck"]],
    ["running, within --max-runtime plus a minute", [wrapped({ running: true, lastJobStartTime: ago(100), maxRuntimeSeconds: 60 })], {}, undefined, []],
    ["stuck and overdue: said once, as stuck", [wrapped({ running: true, lastJobStartTime: ago(7200), expectedWithinSeconds: 3600, lastJobSuccessTime: ago(90000) })], {}, undefined, ["stuck"]],
    ["the clock 11s ahead", [], { clockSkewMs: 11_000 }, undefined, ["clock-skew"]],
    ["the clock 9s behind: within the limit", [], { clockSkewMs: -9_000 }, undefined, []],
    ["not healthy, not ready", [], { healthy: { ok: false, why: "500" }, ready: { ok: false, why: "500" } }, undefined, ["unhealthy", "not-ready"]],
    ["groups unreadable", [], { groupsProblem: "not the JSON API" }, undefined, ["groups-unreadable"]],
  ])("%s", (_, groups, facts, olderThanMs, found) => {
    expect(kinds(groups, facts, olderThanMs)).toEqual(found);
  });

  it("an unreachable gateway is the only finding", () => {
    expect(diagnose({ ...healthy, unreachable: "connect ECONNREFUSED" }, undefined, NOW, { olderThanMs: undefined }).findings.map((f) => f.kind)).toEqual(["unreachable"]);
  });

  it("a stuck run is marked ended with wrap's own TYPE and HELP, whatever its prefix; a group pushgw add cannot name gets no repair", () => {
    const stuck = (labels: Record<string, string>) =>
      group(labels, { families: { backup_running: gauge, backup_last_start_timestamp_seconds: gauge }, running: true, lastJobStartTime: ago(7200), expectedWithinSeconds: 60 });
    const [finding] = diagnose(healthy, [stuck({ job: "nightly", instance: "db 1" })], NOW, { olderThanMs: undefined }).findings;
    expect(finding!.repairs).toEqual([
      {
        labels: { job: "nightly", instance: "db 1" },
        method: "POST",
        path: "/metrics/job/nightly/instance@base64/ZGIgMQ",
        body: "# HELP backup_running 1 while the wrapped job runs, 0 once it has ended.\n# TYPE backup_running gauge\nbackup_running 0\n",
        command: "pushgw add --gateway http://gw:9091 --job nightly --instance 'db 1' --type gauge --help-text '1 while the wrapped job runs, 0 once it has ended.' backup_running=0",
      },
    ]);
    expect(diagnose(healthy, [stuck({ job: "nightly", team: "" })], NOW, { olderThanMs: undefined }).findings[0]!.repairs).toEqual([]);
  });
});

describe("what the gateway says about itself", () => {
  it("parseGatewayStatus reads the version and the flags doctor needs", () => {
    const body = JSON.stringify({
      status: "success",
      data: { build_information: { version: "1.5.1" }, flags: { "persistence.file": "", "push.disable-consistency-check": "true", "web.telemetry-path": "/m" } },
    });
    expect(parseGatewayStatus(body)).toEqual({ version: "1.5.1", persistenceFile: "", consistencyCheckDisabled: true, telemetryPath: "/m", utf8Names: false });
    expect(parseGatewayStatus(JSON.stringify({ data: { flags: { "push.enable-utf8-names": "true" } } }))).toMatchObject({ utf8Names: true });
    expect(parseGatewayStatus("<html>")).toBeUndefined();
    expect(parseGatewayStatus('{"data":{}}')).toBeUndefined();
    expect(parseGatewayStatus('{"data":{"flags":{"web.telemetry-path":"x"}}}')).toMatchObject({ version: undefined, telemetryPath: "/metrics" });
  });

  it.each([
    ["in step", "Thu, 15 Jan 2027 08:00:00 GMT", Date.parse("2027-01-15T08:00:00.400Z"), 100, 50],
    ["a minute ahead", "Thu, 15 Jan 2027 08:01:00 GMT", Date.parse("2027-01-15T08:00:00.000Z"), 0, 60_500],
    ["no Date header", undefined, 0, 0, undefined],
    ["an answer too slow to tell", "Thu, 15 Jan 2027 08:00:00 GMT", Date.parse("2027-01-15T08:00:00.000Z"), 5000, undefined],
    ["garbage", "yesterday", 0, 0, undefined],
  ])("clockSkewMs: %s", (_, header, sentAt, took, skew) => {
    expect(clockSkewMs(header, sentAt, sentAt + took)).toBe(skew);
  });
});

describe("the report", () => {
  it("renders findings, repairs and the summary", () => {
    const groups = [
      group({ job: "x" }, { families: { m: gauge } }),
      group({ job: "x", instance: "" }, { lastPushTime: null, lastFailureTime: ago(30), lastPushSuccessful: false }),
      group({ job: "late" }, { expectedWithinSeconds: 3600, lastJobSuccessTime: ago(86400) }),
    ];
    const diagnosis = diagnose({ ...healthy, metricsEndpoint: { ok: false, why: "it answers 500", answer: "GET http://gw:9091/metrics: 500: An error has occurred\n* collected metric ..." } }, groups, NOW, {
      olderThanMs: undefined,
    });
    expect(renderReport(diagnosis, { fixing: false }).map((l) => `${l.tone.padEnd(6)}|${l.text}`).join("\n")).toMatchSnapshot();
  });
});
