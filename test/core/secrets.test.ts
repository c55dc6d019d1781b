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
    [["wrap", "-u", "a:b", "--", "tool", "-u", "x:y"], ["wrap", "-u", "a:***", "--", "tool", "-u", "x:y"]],
  ])("%j → %j", (args, shown) => {
    expect(redactArgv(args)).toEqual(shown);
  });
});

describe("isSecretHeaderName", () => {
  it.each(["Authorization", "Proxy-Authorization", "Cookie", "X-Api-Key", "X-Auth-Token", "api_key", "X-Session", "X-Vault-Token", "X-Signature"])("%s is secret", (name) => {
    expect(isSecretHeaderName(name)).toBe(true);
  });
  it.each(["X-Scope-OrgID", "Content-Type", "User-Agent", "X-Tenant", "Accept"])("%s is not", (name) => {
    expect(isSecretHeaderName(name)).toBe(false);
  });
});
