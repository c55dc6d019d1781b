import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { createServer, request as httpRequest, type Server } from "node:http";
import { homedir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { until } from "../helpers/poll.js";
import { startPrometheus, type RunningPrometheus } from "../helpers/prometheus.js";
import { decodeMessage, REMOTE_WRITE_V2_SCHEMA } from "../helpers/protobuf-wire.js";
import { runCli } from "../helpers/run-cli.js";
import { todaysStack } from "../helpers/todays-stack.js";
import { versionOf } from "../helpers/versions.js";
import { ensureTool } from "../helpers/prometheus.js";

/**
 * push and add with --target remote-write choose the protocol as the remote-write 2.0
 * specification has a sender choose: 2.0 first (with HELP and TYPE as metadata), 1.0 where the
 * receiver answers 415 or a 2xx without X-Prometheus-Remote-Write-*-Written. Against Prometheus 3
 * (takes 2.0; and a 2.0-only one) and Debian 12's Prometheus 2.42 (takes 1.0 only), each behind a
 * proxy that records what pushgw sent.
 */
interface Recorded {
  readonly headers: Record<string, string | string[] | undefined>;
  readonly body: Buffer;
  readonly status: number;
}
interface RecordingProxy {
  readonly url: string;
  readonly seen: Recorded[];
  stop(): Promise<void>;
}

/** Forwards every request to `target` (or answers `status` itself), keeping what came and what went back. */
async function startRecordingProxy(target: string | { status: number }): Promise<RecordingProxy> {
  const seen: Recorded[] = [];
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      const body = Buffer.concat(chunks);
      if (typeof target !== "string") {
        seen.push({ headers: req.headers, body, status: target.status });
        res.writeHead(target.status, { "content-type": "text/plain" }).end("unsupported media type\n");
        return;
      }
      const forward = httpRequest(`${target}${req.url}`, { method: req.method, headers: req.headers }, (answer) => {
        const back: Buffer[] = [];
        answer.on("data", (c: Buffer) => back.push(c));
        answer.on("end", () => {
          seen.push({ headers: req.headers, body, status: answer.statusCode ?? 0 });
          res.writeHead(answer.statusCode ?? 502, answer.headers).end(Buffer.concat(back));
        });
      });
      forward.end(body);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const address = server.address() as { port: number };
  return { url: `http://127.0.0.1:${address.port}`, seen, stop: () => new Promise((resolve) => server.close(() => resolve())) };
}

/** A Snappy block decoder for literals (what pushgw writes). */
function unsnappy(data: Uint8Array): Uint8Array {
  let pos = 0;
  while (data[pos++]! >= 0x80);
  const out: number[] = [];
  while (pos < data.length) {
    let n = data[pos++]! >> 2;
    if (n >= 60) {
      const bytes = n - 59;
      n = 0;
      for (let i = 0; i < bytes; i++) n |= data[pos++]! << (8 * i);
    }
    for (let i = 0; i <= n; i++) out.push(data[pos++]!);
  }
  return Uint8Array.from(out);
}


let both: RunningPrometheus;
let v2Only: RunningPrometheus;
let v1Only: RunningPrometheus;
let cacheHome: string;
beforeAll(async () => {
  [both, v2Only, v1Only] = await Promise.all([
    startPrometheus(undefined, [], [], { binary: todaysStack().prometheus }),
    startPrometheus(undefined, [], [], { binary: todaysStack().prometheus, extraArgs: ["--web.remote-write-receiver.accepted-protobuf-messages=io.prometheus.write.v2.Request"] }),
    startPrometheus(undefined, [], [], v1OnlyReceiver()),
  ]);
  cacheHome = mkdtempSync(join(homedir(), ".pushgw-test-cache-"));
}, 120_000);
afterAll(async () => {
  await Promise.all([both?.stop(), v2Only?.stop(), v1Only?.stop()]);
  if (cacheHome) rmSync(cacheHome, { recursive: true, force: true });
});

/**
 * The machine's own Prometheus (Debian 12's 2.42, which takes 1.0 only), whatever PROMETHEUS_BIN
 * names; where that is a Prometheus 3, one told to take 1.0 only (it then answers 2.0 with 415).
 */
function v1OnlyReceiver(): { binary: string; extraArgs: string[] } {
  const own = spawnSync("sh", ["-c", "command -v prometheus"], { encoding: "utf8" }).stdout.trim() || ensureTool("prometheus", "prometheus");
  return { binary: own, extraArgs: versionOf(own).atLeast("3.0.0") ? ["--web.remote-write-receiver.accepted-protobuf-messages=prometheus.WriteRequest"] : [] };
}

const INPUT = "# HELP rwc_rows_total Rows copied.\n# TYPE rwc_rows_total counter\nrwc_rows_total{table=\"a\"} 42\n";
const add = (url: string, job: string, env: Record<string, string> = {}) =>
  runCli(["push", "-v", "--target", "remote-write", "-g", `${url}/api/v1/write`, "-j", job, "--no-instance", "-f", "-"], { input: INPUT, env });

describe("remote write 2.0 where the receiver takes it", () => {
  it.each([
    ["Prometheus 3 (1.0 and 2.0)", () => both],
    ["Prometheus 3 taking 2.0 only", () => v2Only],
  ])("%s: one 2.0 request, with the family's HELP and TYPE as metadata; the series lands", async (_what, receiver) => {
    const proxy = await startRecordingProxy(receiver().url);
    try {
      const run = await add(proxy.url, "rwc2");
      expect(run.code, run.stderr).toBe(0);
      expect(proxy.seen).toHaveLength(1);
      const [sent] = proxy.seen;
      expect(sent!.headers).toMatchObject({ "content-type": "application/x-protobuf;proto=io.prometheus.write.v2.Request", "x-prometheus-remote-write-version": "2.0.0" });
      const request = decodeMessage(unsnappy(sent!.body), REMOTE_WRITE_V2_SCHEMA) as { symbols: string[]; timeseries: Array<{ labelsRefs: number[]; metadata: { type?: number; helpRef?: number } }> };
      const series = request.timeseries[0]!;
      const labels = Object.fromEntries(Array.from({ length: series.labelsRefs.length / 2 }, (_, i) => [request.symbols[series.labelsRefs[2 * i]!], request.symbols[series.labelsRefs[2 * i + 1]!]]));
      expect(labels).toEqual({ __name__: "rwc_rows_total", job: "rwc2", table: "a" });
      expect(series.metadata.type).toBe(1); // COUNTER
      expect(request.symbols[series.metadata.helpRef!]).toBe("Rows copied.");
      const result = await until(async () => (await receiver().query('rwc_rows_total{job="rwc2"}')).data.result, (r) => r.length > 0);
      expect(result[0]!.value[1]).toBe("42");
    } finally {
      await proxy.stop();
    }
  });
});

describe(`remote write 1.0 to a receiver that takes only 1.0 (the machine's own Prometheus: Debian 12's 2.42)`, () => {
  it("2.0 first; its answer shows a 1.0 receiver, so 1.0 follows and the series lands; remembered, the next push sends 1.0 alone", async () => {
    const proxy = await startRecordingProxy(v1Only.url);
    try {
      const env = { XDG_CACHE_HOME: cacheHome };
      const first = await add(proxy.url, "rwc1", env);
      expect(first.code, first.stderr).toBe(0);
      expect(first.stderr).toContain("sending remote write 1.0");
      expect(proxy.seen.map((r) => r.headers["content-type"])).toEqual(["application/x-protobuf;proto=io.prometheus.write.v2.Request", "application/x-protobuf"]);
      const result = await until(async () => (await v1Only.query('rwc_rows_total{job="rwc1"}')).data.result, (r) => r.length > 0);
      expect(result[0]!.value[1]).toBe("42");

      const second = await add(proxy.url, "rwc1", env);
      expect(second.code, second.stderr).toBe(0);
      expect(proxy.seen.slice(2).map((r) => r.headers["content-type"])).toEqual(["application/x-protobuf"]);
    } finally {
      await proxy.stop();
    }
  });
});

describe("a receiver that answers 415 to both", () => {
  it("fails (exit 1) with the receiver's words and a hint naming the endpoint and the accepted messages", async () => {
    const proxy = await startRecordingProxy({ status: 415 });
    try {
      const run = await add(proxy.url, "rwc415");
      expect(run.code).toBe(1);
      expect(proxy.seen).toHaveLength(2);
      expect(run.stderr).toContain("415");
      expect(run.stderr).toContain("the receiver took neither remote write 2.0 nor 1.0");
    } finally {
      await proxy.stop();
    }
  });
});
