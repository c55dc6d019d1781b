import { describe, expect, it } from "vitest";
import { UsageError } from "../../src/core/errors.js";
import { buildGroupingPath, formatGroupingKey } from "../../src/core/grouping-key.js";
import { buildGroupingKey } from "../../src/cli/grouping.js";

describe("buildGroupingKey", () => {
  it("puts the instance first, then labels in the order given", () => {
    const k = buildGroupingKey({ job: "backup", instance: "db1", labels: ["env=prod", "tier=a=b"] });
    expect(k.labels).toEqual([["instance", "db1"], ["env", "prod"], ["tier", "a=b"]]);
    expect(formatGroupingKey(k)).toBe('{job="backup", instance="db1", env="prod", tier="a=b"}');
  });

  it.each([
    [{ job: undefined }, /no job given/],
    [{ job: "" }, /no job given/],
    [{ labels: ["env"] }, /expects NAME=VALUE/],
    // UTF-8 names are taken here (the receiver decides: app/input-rules.ts); quotes and line breaks never.
    [{ labels: ['a"b=x'] }, /invalid label name "a\\"b"/],
    [{ labels: ["a\nb=x"] }, /invalid label name "a\\nb"/],
    [{ labels: ["__x.y=1"] }, /starts with "__"/],
    [{ labels: ["__x=1"] }, /starts with "__"/],
    [{ labels: ["job=x"] }, /set with --job/],
    [{ labels: ["a=1", "a=2"] }, /already set/],
    [{ instance: "h", labels: ["instance=x"] }, /already set by --instance/],
    [{ labels: ["a=\ud800"] }, /lone surrogate/],
    [{ job: "j\udfff" }, /lone surrogate/],
  ])("refuses %j", (input, message) => {
    const full = { job: "j", instance: undefined, labels: [], ...input };
    expect(() => buildGroupingKey(full)).toThrow(UsageError);
    expect(() => buildGroupingKey(full)).toThrow(message);
  });

  it("takes UTF-8 label names, which go into the path escaped (U__), and shows them quoted", () => {
    const key = buildGroupingKey({ job: "j", instance: undefined, labels: ["service.name=api", "1a=x", "plain=y"] });
    expect(key.labels).toEqual([["service.name", "api"], ["1a", "x"], ["plain", "y"]]);
    expect(buildGroupingPath(key)).toBe("/metrics/job/j/U__service_2e_name/api/U___31_a/x/plain/y");
    expect(formatGroupingKey(key)).toBe('{job="j", "service.name"="api", "1a"="x", plain="y"}');
  });
});

