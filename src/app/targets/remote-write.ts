import { isFresh, parseReceiverMemory, REMOTE_WRITE_CHOICE_TTL_MS, REMOTE_WRITE_RULES, updatedReceiverMemory } from "../../core/receiver-rules.js";
import {
  encodeWriteRequest,
  encodeWriteRequestV2,
  receiverTakesOnlyV1,
  REMOTE_WRITE_HEADERS,
  REMOTE_WRITE_V2_HEADERS,
  snappyBlock,
  toTimeSeries,
} from "../../core/remote-write.js";
import { openHttpGateway } from "../http-gateway.js";
import type { CallOutcome, Deps, Gateway, GatewayCall } from "../ports.js";
import { fixedRules, gatewayEnvironment, keepsSamplesOnly, type TargetSpec, type WrittenMetrics } from "./target.js";

/** Prometheus remote write: the samples, stamped now, POSTed to the receiver's endpoint (the URL given). */
export const remoteWrite: TargetSpec<"remote-write"> = {
  name: "remote-write",
  writesTo: "--gateway",
  open: (transport, deps, options) => openHttpGateway("remote-write", transport, deps, options, {
      notFoundHint: "no remote-write receiver answers at this path: --gateway is the whole write URL (Prometheus: http://host:9090/api/v1/write, started with --web.enable-remote-write-receiver)",
    }),
  collectSamples: true,
  inputRules: fixedRules(REMOTE_WRITE_RULES),
  // Remote write 1.0: what wrap and a wrapped job's relayed writes send; push and add choose (below).
  writeCall: (_method, key, exposition, nowMs) => ({
    method: "POST",
    path: "",
    body: snappyBlock(encodeWriteRequest(toTimeSeries(exposition.samples, key), nowMs)),
    headers: REMOTE_WRITE_HEADERS,
  }),
  write: writeChoosingVersion,
  ...keepsSamplesOnly("remote-write", "a remote-write receiver stores samples, not groups: series go stale by themselves once nothing pushes them"),
  jobEnvironment: gatewayEnvironment,
};

/**
 * push and add: remote write 2.0 (io.prometheus.write.v2.Request, with each family's HELP and
 * TYPE as metadata), and 1.0 (`v1`, writeCall's) to a receiver that shows it takes only 1.0
 * (core/remote-write.ts receiverTakesOnlyV1), as the remote-write 2.0 specification has a sender
 * choose. The choice is remembered per URL for an hour (receivers.json): a 1.0 receiver is then
 * sent 1.0 at once, and asked with 2.0 again after that.
 */
async function writeChoosingVersion(gateway: Gateway, v1: GatewayCall, { key, exposition, nowMs: now }: WrittenMetrics, deps: Deps, dryRun: boolean): Promise<CallOutcome[]> {
  const v2: GatewayCall = { method: "POST", path: "", body: snappyBlock(encodeWriteRequestV2(exposition.samples, exposition.families, key, now)), headers: REMOTE_WRITE_V2_HEADERS };
  const memoryText = await deps.receiverMemory?.read();
  const memory = parseReceiverMemory(memoryText);
  const rememberedV1 = (baseUrl: string) => {
    const choice = memory.get(baseUrl)?.remoteWrite;
    return choice !== undefined && choice.version === "1.0" && isFresh(choice.at, now, REMOTE_WRITE_CHOICE_TTL_MS);
  };
  const allV1 = gateway.baseUrls.every(rememberedV1);
  if (dryRun) {
    gateway.dryRun(allV1 ? v1 : v2);
    return [];
  }
  if (allV1) {
    deps.out.verbose(`remote write 1.0: the receiver took only 1.0 within the last hour`);
    return gateway.write(v1);
  }
  const learnt: Array<[string, "2.0" | "1.0"]> = [];
  const outcomes = await gateway.write(v2);
  const final: CallOutcome[] = [];
  for (const [i, outcome] of outcomes.entries()) {
    const baseUrl = gateway.baseUrls[i] ?? gateway.baseUrls[0]!;
    const status = outcome.kind === "spooled" ? undefined : outcome.status;
    if (outcome.kind !== "spooled" && receiverTakesOnlyV1(status, outcome.kind === "delivered" ? outcome.headers : undefined)) {
      deps.out.verbose(`${outcome.url}: ${status === 415 ? "415 to remote write 2.0" : "no X-Prometheus-Remote-Write-*-Written header in the answer to 2.0 (a 1.0 receiver)"}: sending remote write 1.0`);
      const again = await gateway.sendTo(baseUrl, v1);
      if (again.kind === "delivered") learnt.push([baseUrl, "1.0"]);
      final.push(again);
    } else {
      if (outcome.kind === "delivered") learnt.push([baseUrl, "2.0"]);
      final.push(outcome);
    }
  }
  const memoryFile = deps.receiverMemory;
  if (memoryFile !== undefined && learnt.length > 0) {
    let text = memoryText;
    for (const [baseUrl, version] of learnt) text = updatedReceiverMemory(text, baseUrl, { remoteWrite: { at: now, version } }, now);
    await memoryFile.write(text!);
  }
  return final;
}
