import { victoriaMetricsImportPath } from "../../core/remote-write.js";
import { openHttpGateway } from "../http-gateway.js";
import { gatewayEnvironment, keepsSamplesOnly, pushgatewayInputRules, type TargetSpec } from "./target.js";

/** VictoriaMetrics' import endpoint: the text, with the grouping key as extra labels; it appends samples (PUT and POST alike). */
export const victoriaMetrics: TargetSpec<"victoriametrics"> = {
  name: "victoriametrics",
  writesTo: "--gateway",
  open: (transport, deps, options) => openHttpGateway("victoriametrics", transport, deps, options),
  collectSamples: false,
  inputRules: pushgatewayInputRules,
  writeCall: (_method, key, exposition) => ({ method: "POST", path: victoriaMetricsImportPath(key), body: exposition.text }),
  ...keepsSamplesOnly(
    "victoriametrics",
    "VictoriaMetrics keeps samples, not groups (a DELETE there is silently ignored); its admin API /api/v1/admin/tsdb/delete_series deletes series",
  ),
  jobEnvironment: gatewayEnvironment,
};
