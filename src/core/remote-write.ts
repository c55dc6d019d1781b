import { familyOfSample, unescapeHelp, type FamilyInfo, type Sample } from "./exposition.js";
import { groupingLabelMap, groupingLabelPairs, type GroupingKey } from "./grouping-key.js";
import { ProtoWriter } from "./protobuf.js";

/**
 * Prometheus remote write 1.0 (docs/specs/prw/remote_write_spec.md): a protobuf WriteRequest,
 * compressed with Snappy's block format, POSTed with four required headers. Written by hand
 * (core/protobuf.ts): the message has four small types.
 */

export const REMOTE_WRITE_HEADERS: Readonly<Record<string, string>> = {
  "content-type": "application/x-protobuf",
  "content-encoding": "snappy",
  "x-prometheus-remote-write-version": "0.1.0",
};

export interface TimeSeries {
  /** Sorted by name, `__name__` included, no empty values (the spec requires all three). */
  readonly labels: ReadonlyArray<readonly [string, string]>;
  readonly value: number;
}

/**
 * One series per sample. The grouping key's labels win over body labels of the same name,
 * as on the Pushgateway; an empty value is no label at all, to Prometheus and to the spec.
 */
export function toTimeSeries(samples: readonly Sample[], key: GroupingKey): TimeSeries[] {
  const grouping = groupingLabelMap(key);
  return samples.map((sample) => {
    const labels = new Map<string, string>(sample.labels);
    for (const [name, value] of grouping) labels.set(name, value);
    labels.set("__name__", sample.name);
    const sorted = [...labels].filter(([, value]) => value !== "").sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return { labels: sorted, value: sample.value };
  });
}


/** The WriteRequest message: every series with one sample at `timestampMs`. */
export function encodeWriteRequest(series: readonly TimeSeries[], timestampMs: number): Uint8Array {
  const request = new ProtoWriter();
  for (const one of series) {
    request.message(1, (ts) => {
      for (const [name, value] of one.labels) ts.message(1, (label) => label.string(1, name).string(2, value));
      ts.message(2, (sample) => sample.double(1, one.value).tag(2, 0).varint(timestampMs));
    });
  }
  return request.toBytes();
}

/**
 * Remote write 2.0 (io.prometheus.write.v2.Request): the same series, their strings once in a
 * symbol table, each with its family's TYPE and HELP as metadata, which 1.0 cannot carry.
 * Compressed and sent like 1.0, with these headers.
 */
export const REMOTE_WRITE_V2_HEADERS: Readonly<Record<string, string>> = {
  "content-type": "application/x-protobuf;proto=io.prometheus.write.v2.Request",
  "content-encoding": "snappy",
  "x-prometheus-remote-write-version": "2.0.0",
};

/** Metadata.MetricType of the 2.0 specification. */
const V2_TYPES: Readonly<Record<string, number>> = { counter: 1, gauge: 2, histogram: 3, summary: 5 };

export function encodeWriteRequestV2(samples: readonly Sample[], families: ReadonlyMap<string, FamilyInfo>, key: GroupingKey, timestampMs: number): Uint8Array {
  // The specification: symbols start with "", so that 0 is an empty help or unit.
  const symbols = [""];
  const refs = new Map<string, number>([["", 0]]);
  const ref = (text: string) => {
    let at = refs.get(text);
    if (at === undefined) {
      at = symbols.length;
      symbols.push(text);
      refs.set(text, at);
    }
    return at;
  };
  const series = toTimeSeries(samples, key);
  const bodies = series.map((one, i) => {
    const ts = new ProtoWriter();
    const labelRefs = new ProtoWriter();
    for (const [name, value] of one.labels) labelRefs.varint(ref(name)).varint(ref(value));
    ts.bytes(1, labelRefs.toBytes());
    ts.message(2, (sample) => sample.double(1, one.value).tag(2, 0).varint(timestampMs));
    const family = familyOfSample(samples[i]!.name, families);
    const type = family === undefined ? 0 : (V2_TYPES[family.type] ?? 0);
    const help = family?.help === undefined ? 0 : ref(unescapeHelp(family.help));
    ts.message(5, (metadata) => {
      if (type !== 0) metadata.tag(1, 0).varint(type);
      if (help !== 0) metadata.tag(3, 0).varint(help);
    });
    return ts.toBytes();
  });
  const request = new ProtoWriter();
  for (const symbol of symbols) request.string(4, symbol);
  for (const body of bodies) request.bytes(5, body);
  return request.toBytes();
}

/**
 * What the answer to a 2.0 request says of the receiver, as the remote-write 2.0 specification
 * has a sender read it: 415 Unsupported Media Type, or a 2xx without any
 * X-Prometheus-Remote-Write-*-Written header (a 1.0 receiver that ignored the content type and
 * decoded nothing: "Senders SHOULD assume 415"), mean it takes only 1.0, which may be sent
 * instead ("Senders MAY retry on the 415 HTTP status code with a different content type").
 */
export function receiverTakesOnlyV1(status: number | undefined, headers: Readonly<Record<string, string | undefined>> | undefined): boolean {
  if (status === 415) return true;
  if (status === undefined || status < 200 || status >= 300) return false;
  return !Object.entries(headers ?? {}).some(([name, value]) => value !== undefined && /^x-prometheus-remote-write-[a-z]+-written$/i.test(name));
}

/**
 * Snappy block format with literals only: valid input for every Snappy decoder, just not
 * smaller. Pushes from a CLI are small; this spares a compression library.
 */
export function snappyBlock(data: Uint8Array): Uint8Array {
  const out: number[] = [];
  let length = data.length;
  while (length >= 0x80) {
    out.push((length % 0x80) | 0x80);
    length = Math.floor(length / 0x80);
  }
  out.push(length);
  for (let offset = 0; offset < data.length; offset += 0x10000) {
    const chunk = data.subarray(offset, Math.min(offset + 0x10000, data.length));
    const n = chunk.length - 1;
    if (n < 60) out.push(n << 2);
    else out.push(61 << 2, n & 0xff, n >> 8); // tag 61: the length - 1 follows in two bytes
    for (const b of chunk) out.push(b);
  }
  return Uint8Array.from(out);
}

/** VictoriaMetrics' import path: the grouping key as `extra_label` parameters (every version takes these). */
export function victoriaMetricsImportPath(key: GroupingKey): string {
  const params = groupingLabelPairs(key).map(([name, value]) => `extra_label=${encodeURIComponent(`${name}=${value}`)}`);
  return `/api/v1/import/prometheus?${params.join("&")}`;
}
