import { describe, expect, it } from "vitest";
import { buildGroupingPath, decodeWrapGrouping, encodeWrapGrouping, escapeLabelName, existingGroupPath, parseGroupingPath, unescapeLabelName, type GroupingKey } from "../../src/core/grouping-key.js";
import { fromBase64Url, toBase64 } from "../../src/core/base64.js";

/** The gateway's decoder (handler/push.go splitLabels + decodeBase64), for round-trip checks. */
function decodeLikeGateway(path: string): Record<string, string> {
  const parts = path.replace(/^\/metrics\//, "").split("/").map(decodeURIComponent);
  const out: Record<string, string> = {};
  for (let i = 0; i < parts.length; i += 2) {
    const name = parts[i]!;
    const value = parts[i + 1]!;
    if (name.endsWith("@base64")) {
      out[name.slice(0, -7)] = Buffer.from(value.replace(/=+$/, ""), "base64url").toString("utf8");
    } else out[name] = value;
  }
  return out;
}

const key = (job: string, labels: Array<[string, string]> = []): GroupingKey => ({ job, labels });

describe("buildGroupingPath: vectors from the official clients (research/peers.md §3)", () => {
  // Only vectors where every correct encoder must agree byte for byte: the rest are
  // checked by decoding below, since clients differ in padding and in %-encoding.
  it.each([
    ["Go: plain job", key("testjob"), "/metrics/job/testjob"],
    ["Go: slash in job, unpadded", key("test/job"), "/metrics/job@base64/dGVzdC9qb2I"],
    ["Go: slash in value", key("testjob", [["foobar", "bu/ms"]]), "/metrics/job/testjob/foobar@base64/YnUvbXM"],
    ["Go/Python/Ruby: empty value", key("testjob", [["empty", ""]]), "/metrics/job/testjob/empty@base64/=" ],
    ["Java: order kept", key("j", [["l", "v"], ["l2", "v2"]]), "/metrics/job/j/l/v/l2/v2"],
    ["Java: empty second label", key("j", [["l", "v"], ["l2", ""]]), "/metrics/job/j/l/v/l2@base64/="],
    ["Ruby: dash kept", key("test-job"), "/metrics/job/test-job"],
    ["Python: number value", key("my_job", [["a", "9"]]), "/metrics/job/my_job/a/9"],
    ["Python: my/job", key("my/job"), "/metrics/job@base64/bXkvam9i"],
    ["README: /var/tmp", key("directory_cleaner", [["path", "/var/tmp"]]), "/metrics/job/directory_cleaner/path@base64/L3Zhci90bXA"],
    ["README: empty then plain", key("example", [["first_label", ""], ["second_label", "foobar"]]), "/metrics/job/example/first_label@base64/=/second_label/foobar"],
    ["C++/README: Unicode", key("titan", [["name", "Προμηθεύς"]]), "/metrics/job/titan/name@base64/zqDPgc6_zrzOt864zrXPjc-C"],
  ])("%s", (_, k, expected) => {
    expect(buildGroupingPath(k)).toBe(expected);
  });

  it.each([
    ["Python: spaces", "value with spaces", "label@base64/dmFsdWUgd2l0aCBzcGFjZXM=" ],
    ["Python: a/ z", "a/ z", "b@base64/YS8geg=="],
    ["Ruby: bar/baz", "bar/baz", "foo@base64/YmFyL2Jheg=="],
    ["Java: private-use char and slash", "\uF7FF/", "l2@base64/75-_Lw=="],
    ["Go: titan percent-encoded", "Προμηθεύς", "titan/%CE%A0%CF%81%CE%BF%CE%BC%CE%B7%CE%B8%CE%B5%CF%8D%CF%82"],
    ["prom-client: ampersand", "va&lue", "key/va%26lue"],
  ])("%s decodes to the same value as the client's form", (_, value, theirs) => {
    const ours = buildGroupingPath(key("j", [["x", value]]));
    const [theirName] = theirs.split(/[@/]/);
    expect(decodeLikeGateway(ours)["x"]).toBe(value);
    expect(decodeLikeGateway(`/metrics/job/j/${theirs}`)[theirName!]).toBe(value);
  });
});

describe("buildGroupingPath: values that must not reach the gateway raw", () => {
  it.each([
    ["empty", ""],
    ["dot", "."],
    ["dot dot", ".."],
    ["slash", "a/b"],
    ["space", "a b"],
    ["plus", "a+b"],
    ["percent", "100%"],
    ["percent-escape lookalike", "%2F"],
    ["at", "user@host"],
    ["equals", "a=b"],
    ["question mark", "a?b"],
    ["hash", "a#b"],
    ["newline", "a\nb"],
    ["emoji", "🚀"],
    ["trailing =", "YQ=="],
    ["backslash", "C:\\tmp"],
  ])("%s round-trips exactly and never as a raw path segment", (_, value) => {
    const path = buildGroupingPath(key("j", [["v", value]]));
    expect(decodeLikeGateway(path)["v"]).toBe(value);
    expect(path.startsWith("/metrics/job/j/v@base64/")).toBe(true);
  });

  it.each(["plain", "a.b", "a_b", "a-b", "~x", "127.0.0.1", "..a"])("%s stays readable", (value) => {
    expect(buildGroupingPath(key("j", [["v", value]]))).toBe(`/metrics/job/j/v/${value}`);
  });

  it("base64-encodes a job of '..'", () => {
    expect(buildGroupingPath(key(".."))).toBe("/metrics/job@base64/Li4");
  });
});

describe("PUSHGW_WRAP_GROUPING: what wrap writes, every command reads back", () => {
  it.each([
    { job: "backup", labels: [] },
    { job: "j/2 Προ", labels: [["instance", ""], ["env", "prod"], ["path", "/var/tmp"]] },
  ] as GroupingKey[])("%j round-trips", (key) => {
    expect(decodeWrapGrouping(encodeWrapGrouping(key))).toEqual(key);
  });

  it.each([
    undefined,
    "",
    "not json",
    "null",
    '{"job":"","labels":[]}',
    '{"job":"x"}',
    '{"job":"x","labels":[["a\\"b","v"]]}',
    '{"job":"x","labels":[["job","y"]]}',
    '{"job":"x","labels":[["a","1"],["a","2"]]}',
    '{"job":"x","labels":[["a"]]}',
    '{"job":"x","labels":[["a",1]]}',
    '{"job":"x","labels":[["a","\\ud800"]]}',
    // What wrap wrote before the key was checked by the CLI: read as nothing, not half.
    '{"job":"x","instance":"h","labels":["env=prod"]}',
  ])("ignores %j", (text) => {
    expect(decodeWrapGrouping(text)).toBeUndefined();
  });
});

describe("toBase64", () => {
  it.each([
    ["foo:bar", "Zm9vOmJhcg=="],
    ["a", "YQ=="],
    ["ab", "YWI="],
    ["abc", "YWJj"],
    ["üser:pä", Buffer.from("üser:pä").toString("base64")],
  ])("%s", (text, expected) => {
    expect(toBase64(text)).toBe(expected);
  });
});

describe("parseGroupingPath: reads back what buildGroupingPath builds, and nothing else", () => {
  it.each([
    ["plain", key("backup", [["instance", "db-1"]])],
    ["slash in job", key("a/b")],
    ["empty value (delete accepts it)", key("j", [["team", ""]])],
    ["dot dot", key("..", [["v", "."]])],
    ["Unicode", key("titan", [["name", "Προμηθεύς"], ["emoji", "🚀"]])],
    ["percent and at", key("j", [["v", "user@host%2F"]])],
    ["order kept", key("j", [["z", "1"], ["a", "2"]])],
  ])("%s round-trips", (_, k) => {
    const path = buildGroupingPath(k);
    const parsed = parseGroupingPath(path);
    expect(parsed).toEqual({ key: { job: k.job, labels: k.labels } });
  });

  it.each([
    ["the issue's theft path", "@127.0.0.1:52051/steal", /does not start with \/metrics\//],
    ["another API", "/api/v1/metrics", /does not start with \/metrics\//],
    ["no job", "/metrics/instance/x", /does not start with the job/],
    ["a name without a value", "/metrics/job/j/instance", /no value after it/],
    ["job twice", "/metrics/job/j/job/k", /"job" appears twice/],
    ["a label twice", "/metrics/job/j/a/1/a/2", /"a" appears twice/],
    ["bad label name", "/metrics/job/j/a-b/1", /invalid label name "a-b"/],
    ["reserved label name", "/metrics/job/j/__name__/1", /starts with "__"/],
    ["empty job", "/metrics/job@base64/=", /the job is empty/],
    ["empty plain job", "/metrics/job/", /the job is empty|holds characters/],
    ["not base64url", "/metrics/job@base64/a+b", /not base64url/],
    ["not UTF-8", "/metrics/job@base64/_w", /not base64url of UTF-8/],
    ["percent-escape", "/metrics/job/a%2Fb", /always sends base64-encoded/],
    ["dot segment", "/metrics/job/j/v/..", /always sends base64-encoded/],
    ["query", "/metrics/job/j?x=1", /always sends base64-encoded/],
    ["URL authority", "/metrics/job/j/v/@evil:80", /always sends base64-encoded/],
  ])("%s is refused", (_, path, problem) => {
    const parsed = parseGroupingPath(path);
    expect("problem" in parsed && parsed.problem).toMatch(problem);
  });

  it.each([
    ["padded base64", "/metrics/job@base64/YQ=="],
    ["base64 where plain would do", "/metrics/job@base64/YQ"],
    ["plain label order kept but base64 for the empty value spelled differently", "/metrics/job/j/a@base64/"],
  ])("%s parses, but is not what pushgw builds", (_, path) => {
    const parsed = parseGroupingPath(path);
    expect("key" in parsed ? buildGroupingPath(parsed.key) : path + "?").not.toBe(path);
  });
});

describe("fromBase64Url", () => {
  it.each([
    ["", []],
    ["YQ", [0x61]],
    ["YWI", [0x61, 0x62]],
    ["YWJj", [0x61, 0x62, 0x63]],
    ["YQ==", [0x61]],
    ["_-8", [0xff, 0xef]],
  ])("%s", (text, bytes) => {
    expect(Array.from(fromBase64Url(text) ?? [-1])).toEqual(bytes);
  });

  it.each(["Y", "YQ=", "YR", "a+b", "a/b", "YQ===", "Y Q"])("refuses %s", (text) => {
    expect(fromBase64Url(text)).toBeUndefined();
  });
});

describe("existingGroupPath: a group that exists, named exactly", () => {
  it.each([
    // Legacy names keep their bytes and URLs, on either kind of gateway.
    ["legacy", { job: "x", instance: "h" }, "/metrics/job/x/instance/h"],
    ["utf8", { job: "x", instance: "h", team: "a/b" }, "/metrics/job/x/instance/h/team@base64/YS9i"],
    ["utf8", { job: "x", "a/b": "c" }, "/metrics/job/x/U__a_2f_b/c"],
    ["utf8", { job: "x", "instance/h1/y": "v" }, "/metrics/job/x/U__instance_2f_h1_2f_y/v"],
    ["utf8", { job: "x", "foo.bar": "" }, "/metrics/job/x/U__foo_2e_bar@base64/="],
    ["utf8", { job: "x", "1a": "v" }, "/metrics/job/x/U___31_a/v"],
    ["utf8", { job: "x", "é_ü": "v" }, "/metrics/job/x/U___e9____fc_/v"],
    // A legacy name that begins with U__ would be unescaped by a UTF-8 gateway: escaped itself.
    ["utf8", { job: "x", U__foo: "z" }, "/metrics/job/x/U__U____foo/z"],
    ["legacy", { job: "x", U__foo: "z" }, "/metrics/job/x/U__foo/z"],
  ] as const)("%s %j -> %s", (naming, labels, path) => {
    expect(existingGroupPath(labels, naming)).toEqual({ path });
  });

  it.each([
    ["legacy", { job: "x", "a/b": "c" }, 'the label name "a/b" is not one this gateway reads in a path'],
    ["utf8", { job: "x", "bad\uD800": "c" }, 'cannot be written so that the gateway reads it back as itself'],
    ["utf8", { instance: "h" }, "it has no job"],
  ] as const)("%s %j: refused (%s)", (naming, labels, problem) => {
    expect(existingGroupPath(labels, naming)).toEqual({ problem: expect.stringContaining(problem) });
  });

  it.each(["a/b", "foo.bar", "U__foo", "U__a_zz_", "_", "__x", "a:b", "Προμηθεύς", "😀", "x_2f_y"])("%s reads back as itself", (name) => {
    expect(unescapeLabelName(escapeLabelName(name))).toBe(name);
  });

  it.each([
    ["U__a_2f_b", "a/b"],
    ["U__a_2F_b", "a/b"],
    ["U__a_zz_", "U__a_zz_"],
    ["U__a_2f", "U__a_2f"],
    ["U__a_1234567_", "U__a_1234567_"],
    ["U__a_110000_", "U__a_110000_"],
    ["plain", "plain"],
  ])("the gateway reads %s as %s", (sent, read) => {
    expect(unescapeLabelName(sent)).toBe(read);
  });
});
