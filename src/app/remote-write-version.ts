import type { Exposition } from "../core/exposition.js";
import type { GroupingKey } from "../core/grouping-key.js";
import { isFresh, parseReceiverMemory, REMOTE_WRITE_CHOICE_TTL_MS, updatedReceiverMemory } from "../core/receiver-rules.js";
import { encodeWriteRequestV2, receiverTakesOnlyV1, REMOTE_WRITE_V2_HEADERS, snappyBlock } from "../core/remote-write.js";
import type { CallOutcome, Gateway, GatewayCall } from "./gateway.js";
import type { Deps } from "./ports.js";
import { buildWriteCall } from "./write-call.js";

/**
 * push and add with --target remote-write: remote write 2.0 (io.prometheus.write.v2.Request, with
 * each family's HELP and TYPE as metadata), and 1.0 to a receiver that shows it takes only 1.0
 * (core/remote-write.ts receiverTakesOnlyV1), as the remote-write 2.0 specification has a sender
 * choose. The choice is remembered per URL for an hour (receivers.json): a 1.0 receiver is then
 * sent 1.0 at once, and asked with 2.0 again after that.
 */
export async function writeRemoteChoosingVersion(gateway: Gateway, key: GroupingKey, exposition: Exposition, deps: Deps, dryRun: boolean): Promise<CallOutcome[]> {
  const now = deps.clock.now();
  const v1 = buildWriteCall("POST", key, exposition, "remote-write", now);
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
