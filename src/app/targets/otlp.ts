import { InputError } from "../../core/errors.js";
import { encodeOtlpRequest, familiesWithoutCount, OTLP_HEADERS, OTLP_METRICS_PATH } from "../../core/otlp.js";
import { OTLP_RULES } from "../../core/receiver-rules.js";
import { openHttpGateway } from "../http-gateway.js";
import { fixedRules, gatewayEnvironment, keepsSamplesOnly, writeAsIs, type TargetSpec } from "./target.js";

/**
 * OpenTelemetry's OTLP/HTTP metrics protocol: the samples as an ExportMetricsServiceRequest,
 * POSTed to the base URL + /v1/metrics (core/otlp.ts maps them, the grouping key as the resource).
 * The scope names pushgw without its version: receivers make it labels, and an upgrade of pushgw
 * must not start new series.
 */
export const otlp: TargetSpec<"otlp"> = {
  name: "otlp",
  writesTo: "--gateway",
  open: (transport, deps, options) => openHttpGateway("otlp", transport, deps, options, {
      notFoundHint: `no OTLP receiver answers at this path: --gateway is the receiver's base URL, to which pushgw adds ${OTLP_METRICS_PATH} (a Collector: http://host:4318; VictoriaMetrics: http://vm:8428/opentelemetry)`,
    }),
  collectSamples: true,
  inputRules: fixedRules(OTLP_RULES),
  writeCall: (_method, key, exposition, nowMs) => ({
    method: "POST",
    path: OTLP_METRICS_PATH,
    body: encodeOtlpRequest(exposition, key, nowMs, { name: "pushgw" }),
    headers: OTLP_HEADERS,
  }),
  write: (gateway, call, metrics, deps, dryRun) => {
    // Only push and add come here; wrap's own pushes and the relay's go by writeCall, where the encoder drops such points and the outcome still goes out.
    const [family] = familiesWithoutCount(metrics.exposition);
    if (family !== undefined) {
      throw new InputError(`${family}: a histogram or summary without ${family}_count cannot be sent over OTLP (the OpenTelemetry specification drops such points); nothing was sent`, {
        hint: `add its ${family}_count line, or send it to a Pushgateway`,
      });
    }
    return writeAsIs(gateway, call, metrics, deps, dryRun);
  },
  ...keepsSamplesOnly("otlp", "an OTLP receiver stores samples, not groups: series go stale by themselves once nothing pushes them"),
  jobEnvironment: gatewayEnvironment,
};
