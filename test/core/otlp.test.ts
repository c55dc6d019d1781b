import { describe, expect, it } from "vitest";
import { parseExposition } from "../../src/core/exposition.js";
import type { GroupingKey } from "../../src/core/grouping-key.js";
import { encodeOtlpRequest, familiesWithoutCount } from "../../src/core/otlp.js";
import { decodeMessage, type Schema } from "../helpers/protobuf-wire.js";

/** opentelemetry/proto/metrics/v1/metrics.proto and common.proto, the fields pushgw writes. */
const KEY_VALUE: Schema = { 1: { name: "key", type: "string" }, 2: { name: "value", type: { 1: { name: "string", type: "string" } } } };
const attrs = { name: "attributes", type: KEY_VALUE, repeated: true } as const;
const NUMBER_POINT: Schema = { 7: attrs, 2: { name: "start", type: "fixed64" }, 3: { name: "time", type: "fixed64" }, 4: { name: "double", type: "double" } };
const HISTOGRAM_POINT: Schema = {
  9: attrs,
  3: { name: "time", type: "fixed64" },
  4: { name: "count", type: "fixed64" },
  5: { name: "sum", type: "double" },
  6: { name: "bucketCounts", type: "fixed64", repeated: true },
  7: { name: "explicitBounds", type: "double", repeated: true },
};
const SUMMARY_POINT: Schema = {
  7: attrs,
  3: { name: "time", type: "fixed64" },
  4: { name: "count", type: "fixed64" },
  5: { name: "sum", type: "double" },
  6: { name: "quantiles", type: { 1: { name: "quantile", type: "double" }, 2: { name: "value", type: "double" } }, repeated: true },
};
const METRIC: Schema = {
  1: { name: "name", type: "string" },
  2: { name: "description", type: "string" },
  5: { name: "gauge", type: { 1: { name: "points", type: NUMBER_POINT, repeated: true } } },
  7: { name: "sum", type: { 1: { name: "points", type: NUMBER_POINT, repeated: true }, 2: { name: "temporality", type: "varint" }, 3: { name: "monotonic", type: "bool" } } },
  9: { name: "histogram", type: { 1: { name: "points", type: HISTOGRAM_POINT, repeated: true }, 2: { name: "temporality", type: "varint" } } },
  11: { name: "summary", type: { 1: { name: "points", type: SUMMARY_POINT, repeated: true } } },
  12: { name: "metadata", type: KEY_VALUE, repeated: true },
};
const REQUEST: Schema = {
  1: {
    name: "resourceMetrics",
    repeated: true,
    type: {
      1: { name: "resource", type: { 1: { name: "attributes", type: KEY_VALUE, repeated: true } } },
      2: {
        name: "scopeMetrics",
        repeated: true,
        type: { 1: { name: "scope", type: { 1: { name: "name", type: "string" }, 2: { name: "version", type: "string" } } }, 2: { name: "metrics", type: METRIC, repeated: true } },
      },
    },
  },
};

const kv = (key: string, value: string) => ({ key, value: { string: value } });
const TIME_MS = 1_795_316_837_029;
const TIME = 1_795_316_837_029_000_000n;
const SCOPE = { name: "pushgw", version: "1.2.3" };

function encode(text: string, key: GroupingKey) {
  const exposition = parseExposition(text, { name: "t" }, { collectSamples: true });
  return decodeMessage(encodeOtlpRequest(exposition, key, TIME_MS, SCOPE), REQUEST) as {
    resourceMetrics: Array<{ resource: { attributes: unknown[] }; scopeMetrics: Array<{ scope: unknown; metrics: Array<Record<string, unknown>> }> }>;
  };
}

describe("encodeOtlpRequest: Prometheus data as OpenTelemetry's specification maps it", () => {
  const key: GroupingKey = { job: "backup", labels: [["instance", "db-1"], ["env", "prod"], ["tier", ""]] };
  const text = [
    "# HELP rows_total Rows done.\\nSecond line \\\\ end.",
    "# TYPE rows_total counter",
    'rows_total{table="a"} 3',
    'rows_total{table="b"} 4',
    "# TYPE size_bytes gauge",
    "size_bytes 1.5e9",
    "plain NaN",
    "# TYPE d histogram",
    'd_bucket{le="0.5"} 2',
    'd_bucket{le="1"} 5',
    'd_bucket{le="+Inf"} 7',
    "d_sum 4.25",
    "d_count 7",
    "# TYPE q summary",
    'q{quantile="0.9"} 0.8',
    'q{quantile="0.5"} 0.3',
    "q_sum 12",
    "q_count 30",
    "",
  ].join("\n");
  const request = encode(text, key);

  it("the grouping key is the resource: service.name from the job, service.instance.id from the instance; one scope, pushgw's", () => {
    expect(request.resourceMetrics).toHaveLength(1);
    expect(request.resourceMetrics[0]!.resource.attributes).toEqual([kv("service.name", "backup"), kv("service.instance.id", "db-1")]);
    expect(request.resourceMetrics[0]!.scopeMetrics.map((s) => s.scope)).toEqual([{ name: "pushgw", version: "1.2.3" }]);
  });

  const metrics = request.resourceMetrics[0]!.scopeMetrics[0]!.metrics;
  const metric = (name: string) => metrics.find((m) => m.name === name)!;

  it("names unaltered, in the order given; HELP as the description; TYPE as prometheus.type", () => {
    expect(metrics.map((m) => m.name)).toEqual(["rows_total", "size_bytes", "plain", "d", "q"]);
    expect(metric("rows_total").description).toBe("Rows done.\nSecond line \\ end.");
    expect(metrics.map((m) => (m.metadata as unknown[])[0])).toEqual(["counter", "gauge", "unknown", "histogram", "summary"].map((t) => kv("prometheus.type", t)));
  });

  it("a counter is a monotonic cumulative sum; the other grouping labels are on every point; an empty label is none", () => {
    expect(metric("rows_total").sum).toEqual({
      points: [
        { attributes: [kv("env", "prod"), kv("table", "a")], time: TIME, double: 3 },
        { attributes: [kv("env", "prod"), kv("table", "b")], time: TIME, double: 4 },
      ],
      temporality: 2,
      monotonic: true,
    });
  });

  it("gauges and untyped are gauges", () => {
    expect(metric("size_bytes").gauge).toEqual({ points: [{ attributes: [kv("env", "prod")], time: TIME, double: 1.5e9 }] });
    expect((metric("plain").gauge as { points: Array<{ double: number }> }).points[0]!.double).toBeNaN();
  });

  it("a histogram: cumulative le buckets become per-bucket counts, +Inf as the last, bounds without it", () => {
    expect(metric("d").histogram).toEqual({
      points: [{ attributes: [kv("env", "prod")], time: TIME, count: 7n, sum: 4.25, bucketCounts: [2n, 3n, 2n], explicitBounds: [0.5, 1] }],
      temporality: 2,
    });
  });

  it("a summary: quantiles in order, count and sum", () => {
    expect(metric("q").summary).toEqual({
      points: [{ attributes: [kv("env", "prod")], time: TIME, count: 30n, sum: 12, quantiles: [{ quantile: 0.5, value: 0.3 }, { quantile: 0.9, value: 0.8 }] }],
    });
  });

  it("without an instance there is no service.instance.id; a body label the key also has takes the key's value", () => {
    const noInstance = encode('m{env="dev",x="1"} 1\n', { job: "j", labels: [["env", "prod"]] });
    expect(noInstance.resourceMetrics[0]!.resource.attributes).toEqual([kv("service.name", "j")]);
    const m = noInstance.resourceMetrics[0]!.scopeMetrics[0]!.metrics[0]!;
    expect(m.gauge).toEqual({ points: [{ attributes: [kv("env", "prod"), kv("x", "1")], time: TIME, double: 1 }] });
  });

  it("with --no-instance a body's instance label is the series' own: two series stay two points", () => {
    const two = encode('m{instance="a"} 1\nm{instance="b"} 2\n', { job: "j", labels: [] });
    const m = two.resourceMetrics[0]!.scopeMetrics[0]!.metrics[0]!;
    expect(m.gauge).toEqual({ points: [{ attributes: [kv("instance", "a")], time: TIME, double: 1 }, { attributes: [kv("instance", "b")], time: TIME, double: 2 }] });
  });

  it("a histogram series with its own labels is its own point; one without a count is dropped, as the specification says", () => {
    const two = encode('# TYPE h histogram\nh_bucket{a="1",le="+Inf"} 1\nh_count{a="1"} 1\nh_bucket{a="2",le="+Inf"} 2\n', { job: "j", labels: [] });
    const h = two.resourceMetrics[0]!.scopeMetrics[0]!.metrics[0]!.histogram as { points: Array<{ attributes: unknown; count: bigint; bucketCounts: bigint[] }> };
    expect(h.points).toEqual([{ attributes: [kv("a", "1")], time: TIME, count: 1n, bucketCounts: [1n] }]);
  });
});

describe("familiesWithoutCount: what OTLP would drop", () => {
  it.each([
    ["a summary of quantiles alone", '# TYPE rpc summary\nrpc{quantile="0.5"} 0.2\n', ["rpc"]],
    ["a histogram of buckets alone", '# TYPE h histogram\nh_bucket{le="+Inf"} 5\n', ["h"]],
    ["one of two label sets without", '# TYPE h histogram\nh_bucket{a="1",le="+Inf"} 5\nh_count{a="1"} 5\nh_bucket{a="2",le="+Inf"} 5\n', ["h"]],
    ["whole histograms and summaries", '# TYPE h histogram\nh_bucket{le="+Inf"} 5\nh_sum 1\nh_count 5\n# TYPE s summary\ns_count 2\ns_sum 1\n', []],
    ["gauges, counters, untyped", "# TYPE g gauge\ng 1\n# TYPE c counter\nc 2\nu 3\n", []],
  ])("%s", (_, text, expected) => {
    expect(familiesWithoutCount(parseExposition(text, { name: "t" }, { collectSamples: true }))).toEqual(expected);
  });
});
