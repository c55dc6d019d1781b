import { describe, expect, it } from "vitest";
import { formatDuration, parseDuration } from "../../src/core/duration.js";

describe("parseDuration", () => {
  it.each([
    ["500ms", 500],
    ["10s", 10_000],
    ["5m", 300_000],
    ["2h", 7_200_000],
    ["1d", 86_400_000],
    ["1w", 604_800_000],
    ["1h30m", 5_400_000],
    ["1m30s500ms", 90_500],
    ["1.5s", 1_500],
    [" 3s ", 3_000],
  ])("%s is %d ms", (text, ms) => {
    expect(parseDuration(text, "--timeout")).toBe(ms);
  });

  it.each(["", "10", "s", "10x", "1h 30m", "-5s", "1h30", "ten s"])("refuses %j, naming the flag", (text) => {
    expect(() => parseDuration(text, "--timeout")).toThrow(/--timeout: invalid duration/);
  });
});

describe("formatDuration", () => {
  it.each([
    [850, "850ms"],
    [12_000, "12s"],
    [180_000, "3m"],
    [7_500_000, "2h5m"],
    [7_200_000, "2h"],
    [4 * 86_400_000, "4d"],
  ])("%d ms is %s", (ms, text) => {
    expect(formatDuration(ms)).toBe(text);
  });
});
