import { familyOfSample, unescapeHelp, type Exposition, type FamilyInfo, type Sample } from "./exposition.js";
import { groupingLabelMap, type GroupingKey } from "./grouping-key.js";
import { ProtoWriter } from "./protobuf.js";

/**
 * OpenTelemetry's OTLP/HTTP metrics protocol: an ExportMetricsServiceRequest (protobuf),
 * POSTed to `<endpoint>/v1/metrics`. Prometheus data maps as OpenTelemetry's specification
 * says (compatibility/prometheus_and_openmetrics.md, "Prometheus Metric points to OTLP"):
 * names unaltered, HELP as the description, TYPE as `prometheus.type` metadata, counters as
 * monotonic cumulative sums, gauges and untyped as gauges, histograms (bucket counts made
 * per-bucket, as OTLP counts them) and summaries merged from their series.
 *
 * The grouping key becomes the resource: `job` is `service.name`, `instance`
 * `service.instance.id`; the other grouping labels go on every data point, where every OTLP
 * backend keeps them as labels (a resource attribute reaches Prometheus only in target_info).
 */

export const OTLP_METRICS_PATH = "/v1/metrics";
export const OTLP_HEADERS: Readonly<Record<string, string>> = { "content-type": "application/x-protobuf" };

/**
 * Who translated the data, as the specification asks for data without an instrumentation
 * scope. Receivers may make it labels (VictoriaMetrics adds scope.name and scope.version), so
 * a version would start new series at every upgrade of pushgw: leave it out there.
 */
export interface OtlpScope {
  readonly name: string;
  readonly version?: string;
}

const CUMULATIVE = 2;

interface Point {
  readonly attributes: ReadonlyArray<readonly [string, string]>;
  value?: number;
  sum?: number;
  count?: number;
  /** Histogram: upper bound → cumulative count; summary: quantile → value. */
  readonly bounds: Map<number, number>;
}

interface OtlpMetric {
  readonly family: FamilyInfo;
  readonly points: Map<string, Point>;
}

/** The request body for `exposition` (parsed with collectSamples) pushed under `key` at `timeMs`. */
export function encodeOtlpRequest(exposition: Pick<Exposition, "families" | "samples">, key: GroupingKey, timeMs: number, scope: OtlpScope): Uint8Array {
  const grouping = groupingLabelMap(key);
  const resource: Array<[string, string]> = [["service.name", key.job]];
  const instance = grouping.get("instance");
  if (instance !== undefined && instance !== "") resource.push(["service.instance.id", instance]);
  const pointLabels = [...grouping].filter(([name, value]) => name !== "job" && name !== "instance" && value !== "");
  // The body labels the resource stands for: job always; instance when the key has one (with
  // --no-instance a body's instance label is the series' own and stays).
  const resourceNames = new Set(instance !== undefined && instance !== "" ? ["job", "instance"] : ["job"]);
  const metrics = collect(exposition, pointLabels, resourceNames);
  const time = BigInt(Math.round(timeMs)) * 1_000_000n;

  const request = new ProtoWriter();
  request.message(1, (resourceMetrics) => {
    resourceMetrics.message(1, (r) => {
      for (const [name, value] of resource) r.message(1, (kv) => keyValue(kv, name, value));
    });
    resourceMetrics.message(2, (scopeMetrics) => {
      scopeMetrics.message(1, (s) => {
        s.string(1, scope.name);
        if (scope.version !== undefined) s.string(2, scope.version);
      });
      for (const metric of metrics) scopeMetrics.message(2, (m) => writeMetric(m, metric, time));
    });
  });
  return request.toBytes();
}

function keyValue(kv: ProtoWriter, key: string, value: string): void {
  kv.string(1, key).message(2, (any) => any.string(1, value));
}

/**
 * The histograms and summaries with a data point that has no `_count`: the OpenTelemetry
 * specification has such points dropped, so push and add refuse them rather than lose them
 * without a word. The names of those families, in the input's order.
 */
export function familiesWithoutCount(exposition: Pick<Exposition, "families" | "samples">): string[] {
  return collect(exposition, [], new Set())
    .filter((metric) => (metric.family.type === "histogram" || metric.family.type === "summary") && [...metric.points.values()].some((p) => p.count === undefined))
    .map((metric) => metric.family.name);
}

/** Each family's samples merged into data points, one per label set (le and quantile aside). */
function collect(exposition: Pick<Exposition, "families" | "samples">, pointLabels: ReadonlyArray<readonly [string, string]>, resourceNames: ReadonlySet<string>): OtlpMetric[] {
  const families = exposition.families;
  const metrics = new Map<string, OtlpMetric>();
  for (const sample of exposition.samples) {
    const family = familyOfSample(sample.name, families);
    if (family === undefined) continue;
    let metric = metrics.get(family.name);
    if (metric === undefined) metrics.set(family.name, (metric = { family, points: new Map() }));
    const bound = family.type === "histogram" ? "le" : family.type === "summary" ? "quantile" : undefined;
    const attributes = pointAttributes(sample, bound, pointLabels, resourceNames);
    const id = JSON.stringify(attributes);
    let point = metric.points.get(id);
    if (point === undefined) metric.points.set(id, (point = { attributes, bounds: new Map() }));
    const suffix = sample.name.slice(family.name.length);
    if (suffix === "_sum" && bound !== undefined) point.sum = sample.value;
    else if (suffix === "_count" && bound !== undefined) point.count = sample.value;
    else if (bound !== undefined) {
      const at = sample.labels.find(([name]) => name === bound)?.[1];
      if (at !== undefined) point.bounds.set(Number(at === "+Inf" ? Infinity : at), sample.value);
    } else point.value = sample.value;
  }
  return [...metrics.values()];
}

/** The sample's labels without its bound, the grouping labels winning (as on the gateway), sorted; empty values are no label. */
function pointAttributes(sample: Sample, bound: string | undefined, pointLabels: ReadonlyArray<readonly [string, string]>, resourceNames: ReadonlySet<string>): Array<readonly [string, string]> {
  const labels = new Map<string, string>();
  for (const [name, value] of sample.labels) if (name !== bound && !resourceNames.has(name)) labels.set(name, value);
  for (const [name, value] of pointLabels) labels.set(name, value);
  return [...labels].filter(([, value]) => value !== "").sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
}

function writeMetric(m: ProtoWriter, metric: OtlpMetric, time: bigint): void {
  const { family } = metric;
  m.string(1, family.name);
  if (family.help !== undefined) m.string(2, unescapeHelp(family.help));
  const points = [...metric.points.values()];
  switch (family.type) {
    case "counter":
      m.message(7, (sum) => {
        for (const p of points) sum.message(1, (dp) => numberPoint(dp, p, time));
        sum.tag(2, 0).varint(CUMULATIVE).bool(3, true);
      });
      break;
    case "histogram":
      m.message(9, (histogram) => {
        for (const p of points) if (p.count !== undefined) histogram.message(1, (dp) => histogramPoint(dp, p, time));
        histogram.tag(2, 0).varint(CUMULATIVE);
      });
      break;
    case "summary":
      m.message(11, (summary) => {
        for (const p of points) if (p.count !== undefined) summary.message(1, (dp) => summaryPoint(dp, p, time));
      });
      break;
    default:
      m.message(5, (gauge) => {
        for (const p of points) gauge.message(1, (dp) => numberPoint(dp, p, time));
      });
  }
  m.message(12, (kv) => keyValue(kv, "prometheus.type", family.type === "untyped" ? "unknown" : family.type));
}

function attributes(dp: ProtoWriter, field: number, point: Point): void {
  for (const [name, value] of point.attributes) dp.message(field, (kv) => keyValue(kv, name, value));
}

function numberPoint(dp: ProtoWriter, p: Point, time: bigint): void {
  attributes(dp, 7, p);
  dp.fixed64(3, time).double(4, p.value ?? 0);
}

/** A count the text format gave as a float: OTLP counts are whole (a fractional one is rounded). */
function count(value: number): bigint {
  return Number.isFinite(value) && value > 0 ? BigInt(Math.round(value)) : 0n;
}

/** Prometheus buckets are cumulative (`le`); OTLP's bucket_counts count each bucket alone. */
function histogramPoint(dp: ProtoWriter, p: Point, time: bigint): void {
  attributes(dp, 9, p);
  const total = p.count ?? 0;
  dp.fixed64(3, time).fixed64(4, count(total));
  if (p.sum !== undefined) dp.double(5, p.sum);
  const finite = [...p.bounds.keys()].filter((le) => Number.isFinite(le)).sort((a, b) => a - b);
  let below = 0;
  for (const le of finite) {
    const cumulative = p.bounds.get(le)!;
    dp.fixed64(6, count(cumulative - below));
    below = cumulative;
  }
  dp.fixed64(6, count((p.bounds.get(Infinity) ?? total) - below));
  for (const le of finite) dp.double(7, le);
}

function summaryPoint(dp: ProtoWriter, p: Point, time: bigint): void {
  attributes(dp, 7, p);
  dp.fixed64(3, time).fixed64(4, count(p.count ?? 0)).double(5, p.sum ?? 0);
  for (const quantile of [...p.bounds.keys()].sort((a, b) => a - b)) dp.message(6, (q) => q.double(1, quantile).double(2, p.bounds.get(quantile)!));
}
