import { encodeWriteRequest, REMOTE_WRITE_HEADERS, snappyBlock, toTimeSeries } from "../../core/remote-write.js";
import { openHttpGateway } from "../http-gateway.js";
import { gatewayEnvironment, keepsSamplesOnly, pushgatewayInputRules, type TargetSpec } from "./target.js";

/** Prometheus remote write: the samples, stamped now, POSTed to the receiver's endpoint (the URL given). */
export const remoteWrite: TargetSpec<"remote-write"> = {
  name: "remote-write",
  writesTo: "--gateway",
  open: (transport, deps, options) => openHttpGateway("remote-write", transport, deps, options),
  collectSamples: true,
  inputRules: pushgatewayInputRules,
  writeCall: (_method, key, exposition, nowMs) => ({
    method: "POST",
    path: "",
    body: snappyBlock(encodeWriteRequest(toTimeSeries(exposition.samples, key), nowMs)),
    headers: REMOTE_WRITE_HEADERS,
  }),
  ...keepsSamplesOnly("remote-write", "a remote-write receiver stores samples, not groups: series go stale by themselves once nothing pushes them"),
  jobEnvironment: gatewayEnvironment,
};
