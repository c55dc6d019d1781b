import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { isSecretHeaderName, redactArgv } from "../../src/core/secrets.js";

describe("redactArgv: what ps shows", () => {
  it.each([
    [["add", "-u", "alice:s3cret", "m=1"], ["add", "-u", "alice:***", "m=1"]],
    [["add", "--user", "alice:pa:ss/w@rd", "m=1"], ["add", "--user", "alice:***", "m=1"]],
    [["add", "--user=alice:s3cret"], ["add", "--user=alice:***"]],
    [["add", "-ualice:s3cret"], ["add", "-ualice:***"]],
    [["add", "-u", "alice"], ["add", "-u", "alice"]],
    [["add", "-g", "http://alice:pa/ss@gw:9091"], ["add", "-g", "http://alice:***@gw:9091"]],
    [["add", "--gateway=https://tok@gw"], ["add", "--gateway=https://***@gw"]],
    [["add", "-g", "http://gw:9091"], ["add", "-g", "http://gw:9091"]],
    [["add", "-H", "Authorization: Bearer abc"], ["add", "-H", "Authorization: ***"]],
    [["add", "-H", "X-Api-Key: k"], ["add", "-H", "X-Api-Key: ***"]],
    [["add", "-H", "X-Scope-OrgID: team-a"], ["add", "-H", "X-Scope-OrgID: team-a"]],
    [["wrap", "-H", "Ocp-Apim-Subscription-Key: k", "--", "job"], ["wrap", "-H", "Ocp-Apim-Subscription-Key: ***", "--", "job"]],
    [["add", "--header=Private-Key: k"], ["add", "--header=Private-Key: ***"]],
    [["wrap", "-u", "a:b", "--", "tool", "-u", "x:y"], ["wrap", "-u", "a:***", "--", "tool", "-u", "x:y"]],
  ])("%j → %j", (args, shown) => {
    expect(redactArgv(args)).toEqual(shown);
  });
});

describe("isSecretHeaderName: the names of headers whose values are never shown", () => {
  const table = readFileSync(new URL("../fixtures/secrets/header-names.txt", import.meta.url), "utf8")
    .split("\n")
    .filter((line) => line.trim() !== "" && !line.startsWith("#"))
    .map((line) => line.split(" ") as ["secret" | "shown", string]);
  it.each(table)("%s %s", (kind, name) => {
    expect(isSecretHeaderName(name)).toBe(kind === "secret");
    // Header names are case-insensitive.
    expect(isSecretHeaderName(name.toUpperCase())).toBe(kind === "secret");
    expect(isSecretHeaderName(name.toLowerCase())).toBe(kind === "secret");
  });
});
