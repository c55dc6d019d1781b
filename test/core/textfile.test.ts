import { describe, expect, it } from "vitest";
import { parseExposition } from "../../src/core/exposition.js";
import type { GroupingKey } from "../../src/core/grouping-key.js";
import {
  familiesOf,
  findConflict,
  findSelfConflict,
  formatValue,
  isTextfileName,
  conflictFilter,
  mergeFamilies,
  readPromFile,
  readPushgwFile,
  renderTextfile,
  textfileGroup,
  textfileName,
  type PromFile,
  type TextfileFamily,
} from "../../src/core/textfile.js";

const key = (job: string, ...labels: Array<[string, string]>): GroupingKey => ({ job, labels });
const NOW = 1_800_000_000_000;

/** The families of some text, as a push of them to `k` carries them. */
function families(text: string, k: GroupingKey): TextfileFamily[] {
  const groupingLabels = new Map<string, string>([["job", k.job], ...k.labels]);
  return familiesOf(parseExposition(text, { name: "test" }, { groupingLabels, collectSamples: true }), k);
}

function prom(text: string, name = "other.prom"): PromFile {
  const file = readPromFile(text, name);
  if ("problem" in file) throw new Error(file.problem);
  return file;
}

/** The file pushgw writes for `text` pushed (PUT) to `k`. */
function written(text: string, k: GroupingKey): PromFile {
  return prom(renderTextfile(k, families(text, k), NOW), textfileName(k));
}

describe("textfileName", () => {
  it.each<[GroupingKey, string]>([
    [key("backup"), "pushgw-job=backup-"],
    [key("backup", ["instance", "db1"]), "pushgw-job=backup,instance=db1-"],
    [key("a/b", ["path", "../x y"]), "pushgw-job=a_b,path=.._x_y-"],
    [key("ü"), "pushgw-job=_-"],
  ])("%j starts %j, ends in a hash and .prom, and is one of pushgw's names", (k, start) => {
    const name = textfileName(k);
    expect(name.startsWith(start)).toBe(true);
    expect(name).toMatch(/^[A-Za-z0-9._=,-]+-[0-9a-f]{16}\.prom$/);
    expect(isTextfileName(name)).toBe(true);
  });

  it("is the same whatever the order of the grouping labels (as the gateway's groups)", () => {
    expect(textfileName(key("j", ["a", "1"], ["b", "2"]))).toBe(textfileName(key("j", ["b", "2"], ["a", "1"])));
  });

  it.each<[GroupingKey, GroupingKey]>([
    [key("a/b"), key("a_b")],
    [key("x", ["instance", "h"]), key("x")],
    [key("x", ["a", "1,b=2"]), key("x", ["a", "1"], ["b", "2"])],
    [key("x", ["instance", ""]), key("x")],
    [key("x".repeat(200)), key(`${"x".repeat(199)}y`)],
  ])("tells %j from %j, which read alike", (a, b) => {
    expect(textfileName(a)).not.toBe(textfileName(b));
  });

  it("stays short with a long key", () => {
    expect(textfileName(key("x".repeat(1000), ["l", "y".repeat(1000)])).length).toBeLessThan(140);
  });

  it.each([["backup.prom"], ["pushgw-job=x.prom"], [".pushgw-tmp-1-2-3"], ["pushgw-job=x-0123456789abcdef.prom.lock"]])("%s is none of pushgw's names", (name) => {
    expect(isTextfileName(name)).toBe(false);
  });
});

describe("formatValue", () => {
  it.each<[number, string]>([
    [1.2e9, "1200000000"],
    [0.1, "0.1"],
    [-3, "-3"],
    [NaN, "NaN"],
    [Infinity, "+Inf"],
    [-Infinity, "-Inf"],
    [1e-7, "1e-7"],
  ])("%d → %s", (value, text) => {
    expect(formatValue(value)).toBe(text);
    expect(Number(text.replace("+Inf", "Infinity").replace("-Inf", "-Infinity"))).toBe(value);
  });
});

describe("familiesOf", () => {
  it("gathers a histogram's and a summary's series under their family, and drops the grouping labels", () => {
    const k = key("j", ["instance", "h"]);
    const found = families('# TYPE h histogram\nh_bucket{le="1"} 1\nh_bucket{le="+Inf"} 2\nh_sum 3\nh_count 2\n# TYPE s summary\ns{quantile="0.5"} 1\ns_sum 1\ns_count 1\nu{job="j",instance="h",x="y"} 5\n', k);
    expect(found.map((f) => [f.name, f.type, f.series.length])).toEqual([
      ["h", "histogram", 4],
      ["s", "summary", 3],
      ["u", "untyped", 1],
    ]);
    expect(found[2]!.series[0]!.labels).toEqual([["x", "y"]]);
  });

  it("leaves out a family with HELP or TYPE and no sample (the gateway's parser drops it too)", () => {
    expect(families("# TYPE empty gauge\n# HELP empty Nothing.\nm 1\n", key("j")).map((f) => f.name)).toEqual(["m"]);
  });
});

describe("mergeFamilies", () => {
  const k = key("j");
  const current = families("a 1\nb 2\nc 3\n", k);
  const incoming = families("b 20\nd 40\n", k);
  it.each<["PUT" | "POST", Array<[string, number]>]>([
    ["PUT", [["b", 20], ["d", 40]]],
    ["POST", [["a", 1], ["b", 20], ["c", 3], ["d", 40]]],
  ])("%s → %j", (method, expected) => {
    expect(mergeFamilies(current, incoming, method).map((f) => [f.name, f.series[0]!.value])).toEqual(expected);
  });

  it("POST replaces a family whole: a series it no longer sends is gone", () => {
    const merged = mergeFamilies(families('r{t="a"} 1\nr{t="b"} 2\n', k), families('r{t="c"} 3\n', k), "POST");
    expect(merged[0]!.series.map((s) => s.labels)).toEqual([[["t", "c"]]]);
  });
});

describe("renderTextfile and readPushgwFile", () => {
  const k = key("backup", ["instance", "db\"1\n"], ["env", "prod"]);
  const text = renderTextfile(k, families('# HELP size Bytes, \\\\ and \\n.\n# TYPE size gauge\nsize 1.5e9\nrows{table="a"} 3\nodd +Inf\n', k), NOW);

  it("writes the push time, then each family with the grouping labels on every series", () => {
    expect(text).toBe(
      [
        '# Written by pushgw for the group {job="backup", instance="db\\"1\\n", env="prod"}. Each write replaces this file whole: change it with pushgw, not by hand.',
        "# HELP push_time_seconds Last Unix time when pushgw wrote this group's file.",
        "# TYPE push_time_seconds gauge",
        'push_time_seconds{job="backup",instance="db\\"1\\n",env="prod"} 1800000000',
        "# HELP size Bytes, \\\\ and \\n.",
        "# TYPE size gauge",
        'size{job="backup",instance="db\\"1\\n",env="prod"} 1500000000',
        'rows{job="backup",instance="db\\"1\\n",env="prod",table="a"} 3',
        'odd{job="backup",instance="db\\"1\\n",env="prod"} +Inf',
        "",
      ].join("\n"),
    );
  });

  it("reads back the key, the push time and the families it wrote", () => {
    const read = readPushgwFile(text, textfileName(k));
    if ("problem" in read) throw new Error(read.problem);
    expect(read.key).toEqual({ job: "backup", labels: [["instance", 'db"1\n'], ["env", "prod"]] });
    expect(read.pushTimeSeconds).toBe(NOW / 1000);
    expect(read.families).toEqual(families('# HELP size Bytes, \\\\ and \\n.\n# TYPE size gauge\nsize 1.5e9\nrows{table="a"} 3\nodd +Inf\n', k));
  });

  it.each<[string, string, RegExp]>([
    ["another name", "pushgw-job=x-0123456789abcdef.prom", /names the group .* whose file is/],
    ["no push time", "", /holds no push_time_seconds series/],
    ["two push times", "dup", /holds 2 push_time_seconds series/],
    ["a series without the grouping labels", "stray", /series stray lacks the grouping labels/],
    ["text that does not parse", "garbage", /not a number/],
  ])("is no file of pushgw's with %s", (_, change, problem) => {
    let bytes = text;
    let name = textfileName(k);
    if (change.endsWith(".prom")) name = change;
    else if (change === "") bytes = text.split("\n").filter((l) => !l.includes("push_time_seconds")).join("\n");
    else if (change === "dup") bytes = `${text}push_time_seconds{job="x"} 1\n`;
    else if (change === "stray") bytes = `${text}stray 1\n`;
    else bytes = `${text}bad value\n`;
    const read = readPushgwFile(bytes, name);
    expect("problem" in read && read.problem).toMatch(problem);
  });

  it("gives list and prune the group: its key, its push time, its families, wrap's outcome", () => {
    const wrapped = renderTextfile(key("nightly"), families("# HELP job_running 1 while \\\\ runs,\\n0 after.\n# TYPE job_running gauge\njob_running 0\njob_last_start_timestamp_seconds 1699999990\njob_last_success_timestamp_seconds 1700000000\njob_expected_interval_seconds 86400\njob_expected_grace_seconds 3600\n", key("nightly")), NOW);
    const read = readPushgwFile(wrapped, textfileName(key("nightly")));
    if ("problem" in read) throw new Error(read.problem);
    expect(textfileGroup(read)).toEqual({
      labels: { job: "nightly" },
      lastPushTime: NOW / 1000,
      lastFailureTime: null,
      lastPushSuccessful: true,
      metrics: ["job_expected_grace_seconds", "job_expected_interval_seconds", "job_last_start_timestamp_seconds", "job_last_success_timestamp_seconds", "job_running"],
      expectedWithinSeconds: 90000,
      lastJobSuccessTime: 1700000000,
      running: false,
      lastJobStartTime: 1699999990,
      maxRuntimeSeconds: null,
      lastExitCode: null,
      lastCompletionTime: null,
      lastSkippedTime: null,
      lastCpuUserSeconds: null,
      lastCpuSystemSeconds: null,
      lastMaxRssBytes: null,
      families: {
        job_expected_grace_seconds: { type: "UNTYPED", help: undefined },
        job_expected_interval_seconds: { type: "UNTYPED", help: undefined },
        job_last_start_timestamp_seconds: { type: "UNTYPED", help: undefined },
        job_last_success_timestamp_seconds: { type: "UNTYPED", help: undefined },
        job_running: { type: "GAUGE", help: "1 while \\ runs,\n0 after." },
      },
    });
  });
});

describe("readPromFile", () => {
  it("reads a file that holds the names the gateway reserves (pushgw's own, or another tool's)", () => {
    const file = prom("# TYPE push_time_seconds gauge\npush_time_seconds{job=\"x\"} 5\npush_failure_time_seconds 0\n");
    expect([...file.exposition.families.keys()]).toEqual(["push_time_seconds", "push_failure_time_seconds"]);
    expect(file.exposition.samples.map((s) => s.name)).toEqual(["push_time_seconds", "push_failure_time_seconds"]);
  });

  it("says why a file does not parse, on one line", () => {
    const read = readPromFile("m 1 1700000000000\n", "ts.prom");
    expect("problem" in read && read.problem).toMatch(/^ts\.prom:1: sample "m" has a timestamp/);
  });
});

describe("findConflict: what node_exporter would drop", () => {
  const ours = (text: string) => written(text, key("backup", ["instance", "h"]));
  it.each<[string, string, string, RegExp]>([
    ["a series the other file has", 'rows{table="a"} 1\n', 'rows{job="backup",instance="h",table="a"} 2\n', /the series rows\{instance="h",job="backup",table="a"\} is already in other\.prom/],
    ["the same series but for an empty label (Prometheus drops it)", "rows 1\n", 'rows{job="backup",instance="h",table=""} 2\n', /the series rows\{instance="h",job="backup"\} is already in other\.prom/],
    ["another TYPE", "# TYPE up_total counter\nup_total 1\n", "# TYPE up_total gauge\nup_total 2\n", /metric up_total is a counter here but a gauge in other\.prom/],
    ["a TYPE where the other file has none", "# TYPE u gauge\nu 1\n", "u 2\n", /metric u is a gauge here but an untyped in other\.prom/],
    ["another HELP", "# HELP m One.\nm 1\n", "# HELP m Two.\nm 2\n", /metric m has the HELP "One\." here but "Two\." in other\.prom/],
    ["a HELP where the other file has none", "# HELP m One.\nm 1\n", "m 2\n", /has the HELP "One\." here but none in other\.prom/],
    ["our histogram against their x_sum", "# TYPE x histogram\nx_bucket{le=\"+Inf\"} 1\nx_sum 1\nx_count 1\n", "x_sum 5\n", /the histogram x meets a family named x_sum in other\.prom/],
    ["our x_count against their summary", "x_count 5\n", "# TYPE x summary\nx_sum 1\nx_count 1\n", /the family x_count meets the summary x in other\.prom/],
  ])("%s", (_, mine, theirs, problem) => {
    expect(findConflict(ours(mine), prom(theirs), "other.prom")).toMatch(problem);
    // The quick look that spares parsing most files never hides a conflict.
    expect(conflictFilter(ours(mine))("other.prom", theirs)).toBe(true);
  });

  it.each<[string, string, string, boolean]>([
    ["a file naming none of our families", "m 1\n", "mm 1\nam{x=\"m\"} 2\n# HELP other m is here\n", false],
    ["a sample of the family", "m 1\n", 'x 1\nm{job="x"} 2\n', true],
    ["a HELP line of it", "m 1\n", "# HELP m Text.\n", true],
    ["the summary x our x_count is named like", "x_count 1\n", "# TYPE x summary\nx{quantile=\"0.5\"} 1\n", true],
    ["a family x_sum of our histogram x", '# TYPE x histogram\nx_bucket{le="+Inf"} 1\nx_count 1\n', "x_sum 1\n", true],
    ["a file of another tool with a push time", "m 1\n", "push_time_seconds 1\n", true],
  ])("conflictFilter: %s → %s", (_, mine, theirs, expected) => {
    expect(conflictFilter(ours(mine))("other.prom", theirs)).toBe(expected);
  });

  it("conflictFilter: another pushgw file's push time alone is no reason to look (it has its own key)", () => {
    const other = renderTextfile(key("backup"), families("n 1\n", key("backup")), NOW);
    expect(conflictFilter(ours("m 1\n"))(textfileName(key("backup")), other)).toBe(false);
    expect(conflictFilter(ours("m 1\n"))("copied.prom", other)).toBe(true);
  });

  it.each<[string, string, string]>([
    ["another group's series of the same family", 'rows{table="a"} 1\n', 'rows{job="other",table="a"} 2\n'],
    ["the same family, same TYPE and HELP", "# HELP m One.\n# TYPE m gauge\nm 1\n", '# HELP m One.\n# TYPE m gauge\nm{job="x"} 2\n'],
    ["the same family with no HELP anywhere (node_exporter gives both the same)", "m 1\n", 'm{job="x"} 2\n'],
    ["a summary's x_bucket (only histograms have buckets)", "# TYPE x summary\nx_sum 1\nx_count 1\n", "x_bucket 1\n"],
    ["another pushgw file (its own push time)", "m 1\n", renderTextfile(key("backup"), families("m 1\n", key("backup")), NOW)],
  ])("lets be: %s", (_, mine, theirs) => {
    expect(findConflict(ours(mine), prom(theirs), "other.prom")).toBeUndefined();
  });
});

describe("findSelfConflict: a POST's family beside a histogram's series of the same name", () => {
  const k = key("j");
  const histogram = '# TYPE h histogram\nh_bucket{le="+Inf"} 1\nh_count 1\nh_sum 1\n';
  const check = (first: string, then: string) => {
    const merged = mergeFamilies(families(first, k), families(then, k), "POST");
    return findSelfConflict(prom(renderTextfile(k, merged, NOW)), merged);
  };
  it.each<[string, string, string, RegExp]>([
    ["the family first", 'h_sum{x="1"} 1\n', histogram, /the family h_sum would mix with the histogram h in the same group/],
    ["the histogram first", histogram, 'h_sum{x="1"} 1\n', /the family h_sum would mix with the histogram h in the same group/],
  ])("%s", (_, first, then, problem) => {
    expect(check(first, then)).toMatch(problem);
  });
  it("lets be families that are not alike", () => {
    expect(check(histogram, "hx_sum 1\n")).toBeUndefined();
  });
});
