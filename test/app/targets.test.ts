import { describe, expect, it } from "vitest";
import type { Gateway, GatewayCommand } from "../../src/app/ports.js";
import { TARGET_NAMES, type Target } from "../../src/app/targets/names.js";
import { keptGroups, refusalOf, TARGETS, targetSpec, targetsThat, writeInputOptions } from "../../src/app/targets/registry.js";
import { parseExposition } from "../../src/core/exposition.js";

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
