import { describe, expect, it } from "vitest";
import type { Gateway, GatewayCommand } from "../../src/app/ports.js";
import { TARGET_NAMES, type Target } from "../../src/app/targets/names.js";
import { keptGroups, refusalOf, TARGETS, targetSpec, targetsThat, writeInputOptions } from "../../src/app/targets/registry.js";
import { parseExposition } from "../../src/core/exposition.js";
import {
  OTLP_RULES,
  PUSHGATEWAY_1_11_RULES,
  PUSHGATEWAY_1_11_UTF8_RULES,
  PUSHGATEWAY_STRICT_RULES,
  REMOTE_WRITE_RULES,
  TEXTFILE_RULES,
  VICTORIAMETRICS_RULES,
  type ReceiverFeature,
} from "../../src/core/receiver-rules.js";
import { fakeWorld } from "../helpers/fakes.js";

const COMMANDS: readonly GatewayCommand[] = ["push", "add", "wrap", "delete", "list", "prune", "delete --match", "flush", "doctor"];

describe("the registry", () => {
  it("holds every target --target names, each under its own name", () => {
    expect(Object.keys(TARGETS).sort()).toEqual([...TARGET_NAMES].sort());
    for (const name of TARGET_NAMES) expect(TARGETS[name].name).toBe(name);
    expect(targetSpec(undefined).name).toBe("pushgateway");
  });

  // What each target serves: "ok", or the start of its refusal (exit 2).
  const served: Record<Target, Partial<Record<GatewayCommand, string>>> = {
    pushgateway: {},
    textfile: { flush: "flush has nothing to do with --target textfile", doctor: "doctor examines a Pushgateway; --target textfile has none" },
    "remote-write": {
      delete: "delete needs a Pushgateway; --target remote-write has no groups to delete",
      list: "list needs a Pushgateway; --target remote-write has no groups to list",
      prune: "prune needs a Pushgateway; --target remote-write has no groups to delete",
      "delete --match": "delete --match needs a Pushgateway; --target remote-write has no groups to delete",
      flush: "flush needs a Pushgateway; --target remote-write has no groups to flush to",
      doctor: "doctor needs a Pushgateway; --target remote-write has no groups to examine",
    },
    victoriametrics: { delete: "", list: "", prune: "", "delete --match": "", flush: "", doctor: "" },
    otlp: { delete: "", list: "", prune: "", "delete --match": "", flush: "", doctor: "doctor needs a Pushgateway; --target otlp has no groups to examine" },
  };
  it.each(TARGET_NAMES.flatMap((target) => COMMANDS.map((command) => [target, command] as const)))("%s serves %s, or refuses it (exit 2) saying why", (target, command) => {
    const refusal = refusalOf(TARGETS[target], command);
    const expected = served[target][command];
    if (expected === undefined) return expect(refusal).toBeUndefined();
    expect(refusal?.exitCode).toBe(2);
    expect(refusal?.message.startsWith(expected)).toBe(true);
    expect(refusal?.hint).toBeTruthy();
  });

  it("groups are kept by the Pushgateway and the textfile directory, and said so in their words", () => {
    expect(keptGroups("pushgateway", "list").noGroups("http://gw:9091")).toBe("the gateway holds no groups");
    expect(keptGroups(undefined, "delete").holder).toBe("the gateway");
    expect(keptGroups("textfile", "list").noGroups("/var/lib/tf")).toBe("/var/lib/tf holds no group pushgw wrote");
    expect(keptGroups("textfile", "delete").holder).toBe("the directory");
    expect(() => keptGroups("otlp", "list")).toThrow(/^list needs a Pushgateway; --target otlp has no groups to list$/);
  });

  it("only the Pushgateway keeps a spool", () => {
    expect(targetsThat((t) => t.spool.can)).toEqual(["pushgateway"]);
  });
});

describe("each target's write", () => {
  const exposition = (target: Target) => parseExposition("# TYPE rows counter\nrows 42\n", { name: "t" }, writeInputOptions(TARGETS[target]));
  const key = { job: "backup", labels: [["instance", "db-1"]] as Array<[string, string]> };
  it.each([
    ["pushgateway", "PUT", "/metrics/job/backup/instance/db-1", "string", undefined],
    ["textfile", "PUT", "/metrics/job/backup/instance/db-1", "string", undefined],
    ["victoriametrics", "POST", "/api/v1/import/prometheus?extra_label=job%3Dbackup&extra_label=instance%3Ddb-1", "string", undefined],
    ["remote-write", "POST", "", "bytes", "snappy"],
    ["otlp", "POST", "/v1/metrics", "bytes", undefined],
  ] as const)("%s: %s %s", (target, method, path, body, encoding) => {
    const call = TARGETS[target].writeCall("PUT", key, exposition(target), 1_700_000_000_000);
    expect(call.method).toBe(method);
    expect(call.path).toBe(path);
    expect(typeof call.body === "string" ? "string" : "bytes").toBe(body);
    expect(call.headers?.["content-encoding"]).toBe(encoding);
    // Targets that build from samples need them collected; the text targets send the text.
    expect(exposition(target).samples.length > 0).toBe(TARGETS[target].collectSamples);
  });
});

describe("each target's input rules", () => {
  const UTF8: ReadonlySet<ReceiverFeature> = new Set(["utf8-names"]);
  const NONE: ReadonlySet<ReceiverFeature> = new Set();
  // A gateway that answers /api/v1/status as a Pushgateway of `version` does; `asked` counts the questions.
  const answering = (version: string, utf8Names: boolean) => {
    const asked: string[] = [];
    const body = JSON.stringify({ status: "success", data: { build_information: { version }, flags: { "push.enable-utf8-names": String(utf8Names) } } });
    const gateway = {
      sendTo: async (baseUrl: string, call: { path: string }) => {
        asked.push(baseUrl + call.path);
        return { kind: "delivered" as const, url: baseUrl + call.path, status: 200, body };
      },
    } as unknown as Gateway;
    return { asked, questions: { gateway: async () => gateway } };
  };

  it.each([
    ["remote-write", REMOTE_WRITE_RULES],
    ["victoriametrics", VICTORIAMETRICS_RULES],
    ["textfile", TEXTFILE_RULES],
    ["otlp", OTLP_RULES],
  ] as const)("%s: its own rules, whatever the input needs, asking nothing", async (target, rules) => {
    const { asked, questions } = answering("1.11.2", true);
    expect(await TARGETS[target].inputRules(["http://r:1"], UTF8, fakeWorld([]).deps, questions)).toBe(rules);
    expect(asked).toEqual([]);
  });

  it("pushgateway: the strict rules for input that needs nothing more, without asking", async () => {
    const { asked, questions } = answering("1.11.2", true);
    expect(await TARGETS.pushgateway.inputRules(["http://gw:9091"], NONE, fakeWorld([]).deps, questions)).toBe(PUSHGATEWAY_STRICT_RULES);
    expect(asked).toEqual([]);
  });

  it.each([
    ["1.11.2", true, PUSHGATEWAY_1_11_UTF8_RULES],
    ["1.11.2", false, PUSHGATEWAY_1_11_RULES],
    ["1.5.1", false, PUSHGATEWAY_STRICT_RULES],
  ] as const)("pushgateway %s (UTF-8 names %s): asked for input that needs more, its rules", async (version, utf8Names, rules) => {
    const { asked, questions } = answering(version, utf8Names);
    expect(await TARGETS.pushgateway.inputRules(["http://gw:9091"], UTF8, fakeWorld([]).deps, questions)).toBe(rules);
    expect(asked).toEqual(["http://gw:9091/api/v1/status"]);
  });

  // A gateway remembered as 1.11 with UTF-8 names, now a 1.5.1 behind the same URL (rolled back, restarted
  // without the flag, another one behind a load balancer): 1.5.1 casts a fractional count to 0 and takes
  // U__service_2e_name in a path as a name of its own, both silently, so those are asked every time; what
  // it refuses with its own words (a quoted or UTF-8 name in the text, \" in HELP) may follow the memory.
  it.each([
    [["fractional-counts"], "asked: the strict rules", PUSHGATEWAY_STRICT_RULES, ["http://gw:9091/api/v1/status"]],
    [["utf8-grouping-names"], "asked: the strict rules", PUSHGATEWAY_STRICT_RULES, ["http://gw:9091/api/v1/status"]],
    [["utf8-names"], "remembered: 1.11's", PUSHGATEWAY_1_11_UTF8_RULES, []],
    [["quoted-names"], "remembered: 1.11's", PUSHGATEWAY_1_11_UTF8_RULES, []],
    [["help-quote-escape"], "remembered: 1.11's", PUSHGATEWAY_1_11_UTF8_RULES, []],
  ] as const)("pushgateway remembered as 1.11 with UTF-8 names, now 1.5.1: input needing %j, %s", async (needs, _label, rules, expectedAsks) => {
    const world = fakeWorld([]);
    const remembered = JSON.stringify({ "http://gw:9091": { pushgateway: { at: world.now(), facts: { version: "1.11.2", utf8Names: true } } } });
    const deps = { ...world.deps, receiverMemory: { read: async () => remembered, write: async () => undefined } };
    const { asked, questions } = answering("1.5.1", false);
    expect(await TARGETS.pushgateway.inputRules(["http://gw:9091"], new Set<ReceiverFeature>(needs), deps, questions)).toBe(rules);
    expect(asked).toEqual(expectedAsks);
  });

  // --dry-run sends nothing; a pushgw inside a wrapped job hands its write to the wrapper, which asked
  // before the job ran (a --label service.name of the wrapper's key is the job's too).
  it.each([["fractional-counts"], ["utf8-grouping-names"]] as const)("pushgateway: %s with nothing to ask follows the memory", async (need) => {
    const world = fakeWorld([]);
    const remembered = JSON.stringify({ "http://gw:9091": { pushgateway: { at: world.now(), facts: { version: "1.11.2", utf8Names: true } } } });
    const deps = { ...world.deps, receiverMemory: { read: async () => remembered, write: async () => undefined } };
    expect(await TARGETS.pushgateway.inputRules(["http://gw:9091"], new Set<ReceiverFeature>([need]), deps, {})).toBe(PUSHGATEWAY_1_11_UTF8_RULES);
  });

  it("pushgateway: nothing to ask (--dry-run, a wrapped job) and nothing remembered: the strict rules", async () => {
    expect(await TARGETS.pushgateway.inputRules(["http://gw:9091"], UTF8, fakeWorld([]).deps, {})).toBe(PUSHGATEWAY_STRICT_RULES);
  });
});

describe("what the wrapped job's environment gets", () => {
  const gateway = (target: Target, baseUrls: string[]) => ({ target, baseUrls }) as unknown as Gateway;
  it.each([
    ["pushgateway", ["http://a:9091", "http://b:9091"], { PUSHGW_TARGET: "pushgateway", PUSHGW_GATEWAY: "http://a:9091 http://b:9091" }],
    ["remote-write", ["http://p:9090/api/v1/write"], { PUSHGW_TARGET: "remote-write", PUSHGW_GATEWAY: "http://p:9090/api/v1/write" }],
    ["otlp", ["http://c:4318"], { PUSHGW_TARGET: "otlp", PUSHGW_GATEWAY: "http://c:4318" }],
    ["textfile", ["/var/lib/node_exporter"], { PUSHGW_TARGET: "textfile", PUSHGW_TEXTFILE_DIR: "/var/lib/node_exporter" }],
  ] as const)("%s: its target and where it writes", (target, baseUrls, env) => {
    expect(TARGETS[target].jobEnvironment(gateway(target, [...baseUrls]))).toEqual(env);
  });
});
