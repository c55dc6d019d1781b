import { describe, expect, it } from "vitest";
import { UsageError } from "../../src/core/errors.js";
import { formatGroupingKey } from "../../src/core/grouping-key.js";
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
    [{ labels: ["1a=x"] }, /invalid label name "1a"/],
    [{ labels: ["a-b=x"] }, /invalid label name "a-b"/],
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
});

