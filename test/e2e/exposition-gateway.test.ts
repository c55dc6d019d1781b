import { readdirSync, readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parseExposition, parseSampleValue, type Sample } from "../../src/core/exposition.js";
import { findGroup, readGroups, startPushgateway, type GatewayGroup, type RunningGateway } from "../helpers/pushgateway.js";
import { runCli } from "../helpers/run-cli.js";
import { gatewayTakesUtf8Names, pushgatewayVersion } from "../helpers/versions.js";

/**
 * The exposition fixtures, each pushed by pushgw and as they are (with curl's bytes) to the
 * real gateway: pushgw and the gateway agree. What pushgw accepts lands exactly as parsed;
 * what pushgw refuses (exit 2, nothing sent) the gateway refuses too, except the few inputs
 * the gateway takes but stores wrongly or silently changes, which pushgw refuses on purpose
 * for the reason given here (each is in the list of what is checked, docs/push-and-add.md). The
 * inputs Pushgateway 1.11 stores exactly and 1.5.1 does not (fractional counts, quoted names,
 * \" in HELP, UTF-8 names with --push.enable-utf8-names) pushgw sends where the gateway it asked
 * takes them, and refuses elsewhere (src/core/receiver-rules.ts).
 * The gateway running decides (CI runs 1.5.1, 1.11.2, and 1.11.2 with --push.enable-utf8-names).
 */
const gateway = pushgatewayVersion();
const since111 = gateway.atLeast("1.11.0");

const GATEWAY_TAKES_BUT_PUSHGW_REFUSES: Readonly<Record<string, string | undefined>> = {
  "bucket-without-le.prom": "a histogram bucket without le (the gateway stores a bucket with no bound)",
  "duplicate-bucket.prom": "a series given twice (the gateway keeps one of the two values)",
  "histogram-plain-sample.prom": "a histogram sample without _bucket, _sum or _count",
  "push-failure-time.prom": "a name the gateway reserves and overwrites",
  "push-time-seconds.prom": "a name the gateway reserves and overwrites",
  "type-of-reserved.prom": "a name the gateway reserves and overwrites",
  "summary-without-quantile.prom": "a summary sample without quantile",
  "type-without-type.prom": "a TYPE line naming no type (the gateway takes it for a comment)",
  "bucket-nan-le.prom": "a NaN bound (the gateway drops the bucket)",
  "summary-nan-quantile.prom": "a NaN quantile (the gateway drops the sample)",
  "summary-count-with-quantile.prom": "a quantile label on _count (the gateway drops it and keeps one of the two counts)",
  "openmetrics-gauge-histogram.prom": "OpenMetrics' gauge_histogram (the gateway loses the samples and serves a /metrics Prometheus cannot parse)",
  // 1.5.1 casts counts to unsigned integers; 1.11.2 keeps them as floats (pushgw sends them
  // there: PUSHGW_TAKES_FROM_1_11), and refuses negative ones.
  "histogram-fractional-bucket.prom": since111 ? undefined : "a bucket count that is not a whole number (1.5.1 stores 1.5 as 1)",
  "histogram-count-beyond-uint64.prom": since111 ? undefined : "a count beyond 64 bits (1.5.1 stores another number)",
  "summary-nan-count.prom": since111 ? undefined : "a NaN count (1.5.1 stores it as a huge unsigned number)",
  // 1.11.2 refuses it itself ("negative count").
  "histogram-negative-count.prom": since111 ? undefined : "a negative count (1.5.1 stores it as a huge unsigned number)",
  // 1.5.1 refuses an unknown TYPE; 1.11.2 takes "gaugehistogram" as an empty histogram, the sample lost.
  "openmetrics-type.prom": since111 ? "an OpenMetrics type (1.11 takes gaugehistogram and loses the sample)" : undefined,
  // 1.11.2 takes quoted names and \" in HELP (legacy names quoted, any name with
  // --push.enable-utf8-names); 1.5.1 refuses them, and so does pushgw there.
  // The gateway's own metrics differ by version; pushgw refuses a clash with either's (src/core/gateway-metrics.ts).
  ...Object.fromEntries(
    ["go-gc-gogc-percent", "go-gc-gomemlimit-bytes", "go-sched-gomaxprocs-threads", "process-network-receive-bytes-total", "process-network-transmit-bytes-total"].map((n) => [
      `gateway-own-${n}.prom`,
      since111 ? undefined : "one of 1.11's own metrics, which 1.5.1 has not (a push that clashes fails on 1.11)",
    ]),
  ),
  "gateway-own-go-memstats-lookups-total.prom": since111 ? "one of 1.5.1's own metrics, gone in 1.11 (a push that clashes fails on 1.5.1)" : undefined,
};

/**
 * What 1.5.1 refuses or stores otherwise and 1.11 stores as written: pushgw asks the gateway
 * (its /api/v1/status) and sends these where it runs 1.11 (UTF-8 names only with the flag).
 */
const PUSHGW_TAKES_FROM_1_11: ReadonlySet<string> = new Set(
  since111
    ? [
        "histogram-fractional-bucket.prom",
        "histogram-count-beyond-uint64.prom",
        "summary-nan-count.prom",
        "quoted-name.prom",
        "help-escaped-quote.prom",
        ...(gatewayTakesUtf8Names() ? ["quoted-utf8-name.prom"] : []),
      ]
    : [],
);

const dir = fileURLToPath(new URL("../fixtures/exposition/", import.meta.url));
const fixtures = (sub: string) => readdirSync(`${dir}/${sub}`).filter((f) => f.endsWith(".prom")).sort();
const groupLabel = (name: string) => name.replace(/\.prom$/, "");

let gw: RunningGateway;
beforeAll(async () => {
  gw = await startPushgateway();
});
afterAll(async () => {
  await gw?.stop();
});

interface Landed {
  readonly type: string;
  readonly help?: string;
  readonly metrics: ReadonlyArray<{ labels: Record<string, string>; value?: string }>;
}

/** The samples of plain families (not histograms or summaries) as the gateway stores them. */
function landedSamples(group: GatewayGroup): string[] {
  const out: string[] = [];
  for (const [name, family] of Object.entries(group)) {
    if (name === "labels" || name === "last_push_successful" || name === "push_time_seconds" || name === "push_failure_time_seconds") continue;
    const { type, metrics } = family as Landed;
    if (type === "HISTOGRAM" || type === "SUMMARY") continue;
    for (const metric of metrics) {
      out.push(sampleKey(name, Object.entries(metric.labels), parseSampleValue(metric.value ?? "")));
    }
  }
  return out.sort();
}

const GROUPING = ["job", "instance", "f"];

function sampleKey(name: string, allLabels: ReadonlyArray<readonly [string, string]>, value: number): string {
  // The grouping key's labels are the gateway's to set, and an empty label is no label.
  const labels = allLabels.filter(([k, v]) => v !== "" && !GROUPING.includes(k));
  const shown = Number.isNaN(value) ? "NaN" : Object.is(value, -0) ? "0" : String(value);
  return `${name}{${[...labels].sort(([a], [b]) => (a < b ? -1 : 1)).map(([k, v]) => `${k}=${JSON.stringify(v)}`).join(",")}} ${shown}`;
}

function parsedSamples(samples: readonly Sample[], plainFamilies: ReadonlySet<string>): string[] {
  return samples.filter((s) => plainFamilies.has(s.name)).map((s) => sampleKey(s.name, s.labels, s.value)).sort();
}

describe("valid fixtures: pushgw sends them, the gateway stores exactly what pushgw parsed", () => {
  it.each(fixtures("valid"))("%s", async (name) => {
    const file = `${dir}/valid/${name}`;
    const run = await runCli(["add", "-g", gw.url, "-j", "fixtures", "--no-instance", "-l", `f=${groupLabel(name)}`, "-f", file]);
    expect(run.stderr).toBe("");
    expect(run.code).toBe(0);
    const parsed = parseExposition(readFileSync(file, "utf8"), { name }, { collectSamples: true });
    const group = findGroup(await readGroups(gw.url), { job: "fixtures", f: groupLabel(name) });
    expect(group, "the group landed").toBeDefined();
    const plain = new Set<string>();
    for (const [familyName, family] of parsed.families) {
      const landed = group![familyName] as Landed | undefined;
      if (family.sampleCount === 0) continue;
      expect(landed?.type, familyName).toBe(family.type.toUpperCase());
      if (family.help !== undefined) expect(landed?.help, `HELP of ${familyName}`).toBe(family.help.replace(/\\(.)/g, (_, c: string) => (c === "n" ? "\n" : c)));
      if (family.type !== "histogram" && family.type !== "summary") plain.add(familyName);
    }
    expect(landedSamples(group!)).toEqual(parsedSamples(parsed.samples, plain));
    // Each fixture alone: metric names repeat across fixtures, with other types.
    await fetch(`${gw.url}/metrics/job/fixtures/f/${groupLabel(name)}`, { method: "DELETE" });
  });

  it("the gateway still answers /metrics after all of them", async () => {
    expect((await fetch(`${gw.url}/metrics`)).status).toBe(200);
  });

  it("values land as the gateway reads them (1e-400 is 0, -0 and NaN as given)", () => {
    expect([parseSampleValue("1e-400"), parseSampleValue("-Infinity"), parseSampleValue("nan")]).toEqual([0, -Infinity, NaN]);
  });
});

describe("invalid fixtures: pushgw refuses them (exit 2, nothing sent), and so does the gateway", () => {
  it.each(fixtures("invalid"))("%s", async (name) => {
    const file = `${dir}/invalid/${name}`;
    const bytes = readFileSync(file);
    const expected = /^# expect: (\d+): (.*)$/m.exec(bytes.toString("utf8"))!;
    const label = groupLabel(name);
    const run = await runCli(["add", "-g", gw.url, "-j", "refused", "--no-instance", "-l", `f=${label}`, "-f", file]);
    if (PUSHGW_TAKES_FROM_1_11.has(name)) {
      // Refused by the rules of 1.5.1 (the fixture's first line says how), sent to this 1.11.
      expect(run.code, `Pushgateway ${gateway.text} takes it, and so does pushgw after asking it: ${run.stderr}`).toBe(0);
      expect(findGroup(await readGroups(gw.url), { job: "refused", f: label }), "it landed").toBeDefined();
      await fetch(`${gw.url}/metrics/job/refused/f/${label}`, { method: "DELETE" });
    } else {
      expect(run.code, run.stderr).toBe(2);
      expect(run.stderr).toContain(`${file}:${expected[1]}: `);
      expect(run.stderr).toContain(expected[2]);
      expect(findGroup(await readGroups(gw.url), { job: "refused", f: label }), "nothing was sent").toBeUndefined();
    }

    // The same bytes, as curl --data-binary would send them.
    const url = `${gw.url}/metrics/job/curl/f/${label}`;
    const response = await fetch(url, { method: "PUT", body: bytes });
    const answer = await response.text();
    await fetch(url, { method: "DELETE" });
    const takenBecause = GATEWAY_TAKES_BUT_PUSHGW_REFUSES[name];
    if (PUSHGW_TAKES_FROM_1_11.has(name)) expect(`${response.status} ${answer}`).toMatch(/^200 /);
    else if (takenBecause === undefined) expect(`${response.status} ${answer}`).toMatch(/^400 /);
    else expect(response.status, `Pushgateway ${gateway.text} takes it, and pushgw refuses it for ${takenBecause}`).toBe(200);
  });

  it("the gateway still answers /metrics after all of them", async () => {
    expect((await fetch(`${gw.url}/metrics`)).status).toBe(200);
  });
});

describe("the gateway's own metrics", () => {
  it("an argument that clashes with one is refused before sending, naming the argument and the fix", async () => {
    const run = await runCli(["add", "-g", gw.url, "-j", "own", "process_cpu_seconds_total=5"]);
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(/argument 1 \(process_cpu_seconds_total=5\): metric "process_cpu_seconds_total" is also one of the gateway's own metrics, a counter; pushed as \w+, the gateway would refuse the whole push/);
    expect(findGroup(await readGroups(gw.url), { job: "own" })).toBeUndefined();
  });

  it("one it creates late (pushgateway_http_requests_total) needs its HELP: without it, refused before sending, naming the flag", async () => {
    const run = await runCli(["add", "-g", gw.url, "-j", "own", "--type", "counter", "pushgateway_http_requests_total=5"]);
    expect(run.code).toBe(2);
    expect(run.stderr).toContain('pushed with no HELP, the gateway would take it and then fail to serve /metrics: give --help-text "Total HTTP requests processed by the Pushgateway, excluding scrapes."');
    expect(findGroup(await readGroups(gw.url), { job: "own" })).toBeUndefined();
  });

  it("the same name with the gateway's type lands", async () => {
    const run = await runCli(["push", "-g", gw.url, "-j", "own", "--no-instance", "-f", "-"], { input: "# TYPE process_cpu_seconds_total counter\nprocess_cpu_seconds_total 5\n" });
    expect(run.stderr).toBe("");
    expect(run.code).toBe(0);
  });
});

describe("series as the gateway stores them", () => {
  it("a sample that differs from another only by a grouping-key label is refused (exit 2), as the gateway refuses it", async () => {
    const text = 'dup_series{job="dup"} 1\ndup_series 2\n';
    const run = await runCli(["push", "-g", gw.url, "-j", "dup", "--no-instance", "-f", "-"], { input: text });
    expect(run.code, run.stderr).toBe(2);
    expect(run.stderr).toContain("stdin:2: series dup_series is given twice (as the gateway stores it");
    expect(findGroup(await readGroups(gw.url), { job: "dup" }), "nothing was sent").toBeUndefined();
    const response = await fetch(`${gw.url}/metrics/job/dup`, { method: "PUT", body: text });
    expect(`${response.status} ${await response.text()}`).toMatch(/^400 .*was collected before with the same name and label values/);
    // (A refused push still leaves the group, with push_failure_time_seconds set.)
    await fetch(`${gw.url}/metrics/job/dup`, { method: "DELETE" });
  });
});

describe("values outside float64", () => {
  it.each(["1e400", "-1e309"])("`pushgw add -j x ok=%s`: exit 2, naming the argument, nothing sent", async (value) => {
    const run = await runCli(["add", "-g", gw.url, "-j", "range", `ok=${value}`]);
    expect(run.code).toBe(2);
    expect(run.stderr).toContain(`argument 1 (ok=${value}): value "${value}" of "ok" is beyond what a 64-bit float holds`);
    expect(findGroup(await readGroups(gw.url), { job: "range" })).toBeUndefined();
  });
});
