import { describe, expect, it } from "vitest";
import { bypassesProxy, chooseProxy } from "../../src/core/proxy.js";

/** NO_PROXY as curl reads it: a name matches itself and its subdomains, never a longer name that merely ends the same. */
describe("bypassesProxy", () => {
  it.each<[string, string, boolean]>([
    ["http://example.com:9091", "example.com", true],
    ["http://gw.example.com:9091", "example.com", true],
    ["http://gw.example.com:9091", ".example.com", true],
    ["http://gw.example.com:9091", "*.example.com", true],
    ["http://evilexample.com:9091", "example.com", false],
    ["http://evilexample.com:9091", ".example.com", false],
    ["http://example.com.evil.net:9091", "example.com", false],
    ["http://EXAMPLE.com:9091", "example.COM", true],
    ["http://example.com:9091", "example.com:9091", true],
    ["http://example.com:9091", "example.com:9092", false],
    ["http://example.com", "example.com:80", true],
    ["https://example.com", "example.com:80", false],
    ["http://10.1.2.3:9091", "10.0.0.0/8", true],
    ["http://11.1.2.3:9091", "10.0.0.0/8", false],
    ["http://10.1.2.3:9091", "10.1.2.3", true],
    ["http://10.1.2.30:9091", "10.1.2.3", false],
    ["http://[::1]:9091", "::1", true],
    ["http://[::1]:9091", "[::1]:9091", true],
    ["http://anything:9091", "*", true],
    ["http://gw:9091", "other, gw", true],
    ["http://gw:9091", "other  gw", true],
    ["http://gw:9091", "", false],
    ["http://gw:9091", " , ,", false],
  ])("%s with NO_PROXY=%j: bypass %s", (url, noProxy, expected) => {
    expect(bypassesProxy(new URL(url), noProxy)).toBe(expected);
  });

  it("no_proxy wins over NO_PROXY, and a bypassed host goes direct even with a proxy set", () => {
    const env = { HTTP_PROXY: "proxy:3128", no_proxy: "example.com", NO_PROXY: "" };
    expect(chooseProxy("http://gw.example.com:9091", env)).toEqual({ kind: "direct" });
    expect(chooseProxy("http://evilexample.com:9091", env)).toMatchObject({ kind: "proxy", url: "http://proxy:3128/" });
  });
});
