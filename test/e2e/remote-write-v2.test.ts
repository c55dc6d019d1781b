import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parseExposition } from "../../src/core/exposition.js";
import { encodeWriteRequest, encodeWriteRequestV2, REMOTE_WRITE_HEADERS, REMOTE_WRITE_V2_HEADERS, snappyBlock, toTimeSeries } from "../../src/core/remote-write.js";
import { until } from "../helpers/poll.js";
import { startPrometheus, type RunningPrometheus } from "../helpers/prometheus.js";
import { todaysStack } from "../helpers/todays-stack.js";

/**
 * pushgw's remote write 2.0 encoding read by a real receiver that takes nothing else: Prometheus
 * 3.5 (the newest Debian ships) with only io.prometheus.write.v2.Request accepted. Prometheus 3.5.3
 * stores a 1.0 request it refuses with 415 anyway, so the test of the refusal looks at the status.
 */
let prometheus: RunningPrometheus;
beforeAll(async () => {
  prometheus = await startPrometheus(undefined, [], [], {
    binary: todaysStack().prometheus,
    extraArgs: ["--web.remote-write-receiver.accepted-protobuf-messages=io.prometheus.write.v2.Request"],
  });
}, 120_000);
afterAll(async () => {
  await prometheus?.stop();
});

const key = { job: "rw2", labels: [["instance", "h1"]] as Array<[string, string]> };
const exposition = parseExposition("# HELP rw2_rows_total Rows.\n# TYPE rw2_rows_total counter\nrw2_rows_total{table=\"a\"} 42\n", { name: "t" }, { collectSamples: true });

describe("remote write 2.0 into Prometheus 3 (2.0 only)", () => {
  it("takes the 2.0 request, and the series is there with the grouping key's labels", async () => {
    const body = snappyBlock(encodeWriteRequestV2(exposition.samples, exposition.families, key, Date.now()));
    const answer = await fetch(`${prometheus.url}/api/v1/write`, { method: "POST", headers: REMOTE_WRITE_V2_HEADERS, body });
    expect(answer.status).toBe(204);
    expect(answer.headers.get("x-prometheus-remote-write-samples-written")).toBe("1");
    const result = await until(async () => (await prometheus.query("rw2_rows_total")).data.result, (r) => r.length > 0);
    expect(result.map((r) => [r.metric, r.value[1]])).toEqual([[{ __name__: "rw2_rows_total", job: "rw2", instance: "h1", table: "a" }, "42"]]);
  });

  it("refuses a 1.0 request with 415, naming the message it takes: what pushgw falls back from", async () => {
    const body = snappyBlock(encodeWriteRequest(toTimeSeries(exposition.samples, key), Date.now()));
    const answer = await fetch(`${prometheus.url}/api/v1/write`, { method: "POST", headers: REMOTE_WRITE_HEADERS, body });
    expect(answer.status).toBe(415);
    expect(await answer.text()).toMatch(/not accepted by this server; accepted \[io\.prometheus\.write\.v2\.Request\]/);
  });
});
