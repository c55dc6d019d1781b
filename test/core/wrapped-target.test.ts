import { describe, expect, it } from "vitest";
import { targetBeforeWrap, wrapTargetEnvironment } from "../../src/core/wrapped-target.js";

describe("wrapTargetEnvironment: what a wrapper adds beside its PUSHGW_TARGET", () => {
  it.each([
    ["otlp", undefined, { PUSHGW_WRAP_TARGET: "otlp", PUSHGW_TARGET_BEFORE_WRAP: "" }],
    ["otlp", "remote-write", { PUSHGW_WRAP_TARGET: "otlp", PUSHGW_TARGET_BEFORE_WRAP: "remote-write" }],
    ["remote-write", "remote-write", {}],
    ["pushgateway", undefined, {}],
    ["pushgateway", "", {}],
    ["pushgateway", "otlp", { PUSHGW_WRAP_TARGET: "pushgateway", PUSHGW_TARGET_BEFORE_WRAP: "otlp" }],
  ] as const)("wrapper %s, before %s", (wrapper, before, expected) => {
    expect(wrapTargetEnvironment(wrapper, before, "pushgateway")).toEqual(expected);
  });
});

describe("targetBeforeWrap: the target a pushgw with its own --gateway takes inside a job", () => {
  it.each([
    ["no wrapper", { PUSHGW_TARGET: "otlp" }, undefined],
    ["the wrapper changed nothing", { PUSHGW_TARGET: "remote-write" }, undefined],
    ["the wrapper set it; none before", { PUSHGW_TARGET: "otlp", PUSHGW_WRAP_TARGET: "otlp", PUSHGW_TARGET_BEFORE_WRAP: "" }, ""],
    ["the wrapper set it over another", { PUSHGW_TARGET: "otlp", PUSHGW_WRAP_TARGET: "otlp", PUSHGW_TARGET_BEFORE_WRAP: "remote-write" }, "remote-write"],
    ["the job set it again since", { PUSHGW_TARGET: "victoriametrics", PUSHGW_WRAP_TARGET: "otlp", PUSHGW_TARGET_BEFORE_WRAP: "" }, undefined],
    ["half a marker", { PUSHGW_TARGET: "otlp", PUSHGW_WRAP_TARGET: "otlp" }, undefined],
  ] as const)("%s", (_, env, expected) => {
    expect(targetBeforeWrap(env)).toBe(expected);
  });
});
