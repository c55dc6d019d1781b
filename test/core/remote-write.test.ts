import { describe, expect, it } from "vitest";
import { parseExposition } from "../../src/core/exposition.js";
import type { GroupingKey } from "../../src/core/grouping-key.js";
import { encodeWriteRequest, encodeWriteRequestV2, snappyBlock, toTimeSeries, victoriaMetricsImportPath } from "../../src/core/remote-write.js";
import { decodeMessage, REMOTE_WRITE_V2_SCHEMA, type Schema } from "../helpers/protobuf-wire.js";

/** A Snappy block decoder for literals and copies (the reference format), to check ours. */
function unsnappy(data: Uint8Array): Uint8Array {
  let pos = 0;
  let length = 0;
  for (let shift = 0; ; shift += 7) {
    const b = data[pos++]!;
    length += (b & 0x7f) * 2 ** shift;
    if (b < 0x80) break;
  }
  const out: number[] = [];
  while (pos < data.length) {
    const tag = data[pos++]!;
    expect(tag & 3).toBe(0); // literals only
    let n = tag >> 2;
    if (n >= 60) {
      const bytes = n - 59;
      n = 0;
      for (let i = 0; i < bytes; i++) n |= data[pos++]! << (8 * i);
    }
    for (let i = 0; i <= n; i++) out.push(data[pos++]!);
  }
  expect(out.length).toBe(length);
  return Uint8Array.from(out);
}

/** Reads protobuf fields (wire types 0, 1, 2) into [field, value] pairs. */

describe("snappyBlock", () => {
  it.each([0, 1, 59, 60, 61, 255, 256, 65536, 65537, 200_000])("round-trips %d bytes", (size) => {
    const data = Uint8Array.from({ length: size }, (_, i) => (i * 31) & 0xff);
    expect(unsnappy(snappyBlock(data))).toEqual(data);
  });
});

describe("remote write", () => {
  const key: GroupingKey = { job: "backup", labels: [["instance", "db-1"], ["env", "prod"], ["tier", ""]] };
  const samples = parseExposition('# TYPE h histogram\nh_bucket{le="1"} 3\nh_bucket{le="+Inf"} 5\nh_sum 4.5\nh_count 5\nm{z="1",a="2"} NaN\nn -Inf\n', { name: "t" }, { collectSamples: true }).samples;

  it("one series per sample, the key's labels added, sorted, empty values left out", () => {
    const series = toTimeSeries(samples, key);
    expect(series.map((s) => s.labels.map(([n, v]) => `${n}=${v}`).join(","))).toEqual([
      "__name__=h_bucket,env=prod,instance=db-1,job=backup,le=1",
      "__name__=h_bucket,env=prod,instance=db-1,job=backup,le=+Inf",
      "__name__=h_sum,env=prod,instance=db-1,job=backup",
      "__name__=h_count,env=prod,instance=db-1,job=backup",
      "__name__=m,a=2,env=prod,instance=db-1,job=backup,z=1",
      "__name__=n,env=prod,instance=db-1,job=backup",
    ]);
    expect(series.map((s) => s.value)).toEqual([3, 5, 4.5, 5, NaN, -Infinity]);
  });

  it("encodes WriteRequest{timeseries{labels, samples{value, timestamp}}}", () => {
    const timestamp = 1_795_316_837_029;
    const SCHEMA: Schema = {
      1: {
        name: "timeseries",
        repeated: true,
        type: {
          1: { name: "labels", repeated: true, type: { 1: { name: "name", type: "string" }, 2: { name: "value", type: "string" } } },
          2: { name: "samples", repeated: true, type: { 1: { name: "value", type: "double" }, 2: { name: "timestamp", type: "varint" } } },
        },
      },
    };
    const request = decodeMessage(encodeWriteRequest(toTimeSeries(samples.slice(2, 3), key), timestamp), SCHEMA);
    expect(request).toEqual({
      timeseries: [
        {
          labels: [
            { name: "__name__", value: "h_sum" },
            { name: "env", value: "prod" },
            { name: "instance", value: "db-1" },
            { name: "job", value: "backup" },
          ],
          samples: [{ value: 4.5, timestamp }],
        },
      ],
    });
  });
});

describe("remote write 2.0", () => {
  const key: GroupingKey = { job: "backup", labels: [["instance", "db-1"]] };
  const text = '# HELP h Latency.\\nIn seconds.\n# TYPE h histogram\nh_bucket{le="+Inf"} 5\nh_sum 4.5\nh_count 5\n# TYPE c counter\nc 3\nu 1\n';
  const exposition = parseExposition(text, { name: "t" }, { collectSamples: true });
  const timestamp = 1_795_316_837_029;
  const request = decodeMessage(encodeWriteRequestV2(exposition.samples, exposition.families, key, timestamp), REMOTE_WRITE_V2_SCHEMA) as {
    symbols: string[];
    timeseries: Array<{ labelsRefs: number[]; samples: Array<{ value: number; timestamp: number }>; metadata: { type?: number; helpRef?: number } }>;
  };
  const resolve = (refs: number[]) => refs.map((r) => request.symbols[r]!);

  it("symbols start with the empty string and hold each string once", () => {
    expect(request.symbols[0]).toBe("");
    expect(new Set(request.symbols).size).toBe(request.symbols.length);
  });

  it("each series: its labels by reference, sorted, the key's added; one sample at the push time", () => {
    expect(request.timeseries.map((ts) => resolve(ts.labelsRefs).join(","))).toEqual([
      "__name__,h_bucket,instance,db-1,job,backup,le,+Inf",
      "__name__,h_sum,instance,db-1,job,backup",
      "__name__,h_count,instance,db-1,job,backup",
      "__name__,c,instance,db-1,job,backup",
      "__name__,u,instance,db-1,job,backup",
    ]);
    expect(request.timeseries.map((ts) => ts.samples)).toEqual([5, 4.5, 5, 3, 1].map((value) => [{ value, timestamp }]));
  });

  it("metadata: the family's TYPE (histogram 3, counter 1, none for untyped) and HELP, unescaped, which 1.0 cannot carry", () => {
    expect(request.timeseries.map((ts) => ts.metadata.type)).toEqual([3, 3, 3, 1, undefined]);
    expect(request.timeseries.map((ts) => (ts.metadata.helpRef === undefined ? undefined : request.symbols[ts.metadata.helpRef]))).toEqual([
      "Latency.\nIn seconds.",
      "Latency.\nIn seconds.",
      "Latency.\nIn seconds.",
      undefined,
      undefined,
    ]);
  });
});

describe("victoriaMetricsImportPath", () => {
  it("puts every grouping label in an extra_label parameter, encoded", () => {
    const path = victoriaMetricsImportPath({ job: "a b", labels: [["instance", "h"], ["path", "/var/tmp"], ["q", "x&y=z"]] });
    expect(path).toBe("/api/v1/import/prometheus?extra_label=job%3Da%20b&extra_label=instance%3Dh&extra_label=path%3D%2Fvar%2Ftmp&extra_label=q%3Dx%26y%3Dz");
  });
});

describe("the test's own wire reader is strict, so that it can catch an encoder's wire bugs", () => {
  it.each<[string, number[], RegExp]>([
    ["a double sent length-delimited", [0x0a, 0x01, 0x00], /wire type 2, not 1/],
    ["a string sent as fixed64", [0x11, 0x61, 0x62, 0x63, 0x64, 0x65, 0x66, 0x67, 0x68], /wire type 1, not 2/],
    ["a length past the end", [0x12, 0x7f, 0x61], /runs past the end/],
    ["a varint cut off", [0x18, 0x80], /varint runs past the end/],
  ])("%s is refused", (_, bytes, message) => {
    expect(() => decodeMessage(Uint8Array.from(bytes), { 1: { name: "d", type: "double" }, 2: { name: "s", type: "string" }, 3: { name: "n", type: "varint" } })).toThrow(message);
  });
});
