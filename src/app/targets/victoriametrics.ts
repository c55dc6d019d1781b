import { VICTORIAMETRICS_RULES } from "../../core/receiver-rules.js";
import { victoriaMetricsImportPath } from "../../core/remote-write.js";
import { openHttpGateway } from "../http-gateway.js";
import { fixedRules, gatewayEnvironment, keepsSamplesOnly, writeAsIs, type TargetSpec } from "./target.js";

/** VictoriaMetrics' import endpoint: the text, with the grouping key as extra labels; it appends samples (PUT and POST alike). */
export const victoriaMetrics: TargetSpec<"victoriametrics"> = {
  name: "victoriametrics",
  writesTo: "--gateway",
  open: (transport, deps, options) => openHttpGateway("victoriametrics", transport, deps, options, {
      notFoundHint: "VictoriaMetrics' import API does not answer at this path: --gateway is its base URL, to which pushgw adds /api/v1/import/prometheus (http://vm:8428)",
    }),
  collectSamples: false,
  inputRules: fixedRules(VICTORIAMETRICS_RULES),
  writeCall: (_method, key, exposition) => ({ method: "POST", path: victoriaMetricsImportPath(key), body: exposition.text }),
  write: writeAsIs,
  ...keepsSamplesOnly(
    "victoriametrics",
    "VictoriaMetrics keeps samples, not groups (a DELETE there is silently ignored); its admin API /api/v1/admin/tsdb/delete_series deletes series",
  ),
  jobEnvironment: gatewayEnvironment,
};
