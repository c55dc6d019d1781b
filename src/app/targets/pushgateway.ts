import { PUSHGATEWAY_NOT_FOUND_HINT } from "../../core/delivery.js";
import { GatewayError } from "../../core/errors.js";
import { buildGroupingPath, formatGroupingKey, type GroupingKey } from "../../core/grouping-key.js";
import { deleteCommandFor, emptyValueTwins, formatGroupLabels, groupHasKey } from "../../core/groups.js";
import { pushgatewayRules, PUSHGATEWAY_STRICT_RULES, strictestOf } from "../../core/receiver-rules.js";
import { openHttpGateway, type AfterWrite } from "../http-gateway.js";
import { pushgatewayFacts } from "../input-rules.js";
import type { CallOutcome, Deps, Gateway, GatewayCall } from "../ports.js";
import { gatewayEnvironment, writeAsIs, type TargetSpec } from "./target.js";

/** The Prometheus Pushgateway (the default): groups, replaced with PUT and added to with POST. */
export const pushgateway: TargetSpec<"pushgateway"> = {
  name: "pushgateway",
  writesTo: "--gateway",
  open: (transport, deps, options) => openHttpGateway("pushgateway", transport, deps, options, { notFoundHint: PUSHGATEWAY_NOT_FOUND_HINT, afterWrite: collisionDebrisCleaner(deps) }),
  collectSamples: false,
  // Its version matters only when the input needs something beyond the strict rules of the 1.5.1
  // gateway (which also hold for a gateway that cannot tell); several gateways get what all take.
  inputRules: async (baseUrls, needs, deps, questions) => {
    if (needs.size === 0 || baseUrls.length === 0) return PUSHGATEWAY_STRICT_RULES;
    return strictestOf(await Promise.all(baseUrls.map(async (baseUrl) => pushgatewayRules(await pushgatewayFacts(baseUrl, deps, questions, needs)))));
  },
  writeCall: (method, key, exposition) => ({ method, path: buildGroupingPath(key), body: exposition.text, key }),
  write: writeAsIs,
  groups: { can: true, holder: "the gateway", noGroups: () => "the gateway holds no groups" },
  spool: { can: true },
  doctor: { can: true },
  jobEnvironment: gatewayEnvironment,
};

const COLLISION_WORDS = "was collected before with the same name and label values";

/**
 * The gateway cannot tell {job=X} from {job=X, instance=""}: to Prometheus an empty label is no
 * label, so both groups expose the same series. A push refused for that reason still leaves a
 * group behind holding only its failure time, and that group's own timestamps clash with the
 * other group's: from then on the gateway refuses every push from every client and its
 * /metrics answers 500. When a refused write left exactly such a group (one that holds nothing
 * but the failed push) beside a twin, it is deleted at once, and the message names the twin.
 * One clean-up at a time for each gateway.
 */
function collisionDebrisCleaner(deps: Deps): AfterWrite {
  // One clean-up at a time for each gateway: its read of the group list may be large (a gateway
  // of 100,000 groups, or a hostile one), and 64 relayed calls refused at once must not hold 64.
  const inFlight = new Map<string, Promise<unknown>>();
  return async (outcome, call, baseUrl, gateway) => {
    if (outcome.kind !== "failed" || outcome.status !== 400 || call.key === undefined || !outcome.error.message.includes(COLLISION_WORDS)) return outcome;
    const key = call.key;
    const before = inFlight.get(baseUrl) ?? Promise.resolve();
    const mine = before.then(() => clearDebrisNow(outcome, call, key, baseUrl, gateway, deps));
    inFlight.set(baseUrl, mine.catch(() => undefined));
    return mine;
  };
}

async function clearDebrisNow(outcome: Extract<CallOutcome, { kind: "failed" }>, call: GatewayCall, key: GroupingKey, baseUrl: string, gateway: Gateway, deps: Deps): Promise<CallOutcome> {
  // Read as list reads it: the list of a gateway with many groups is far larger than a write's answer.
  const listed = await gateway.readGroups(baseUrl);
  if (listed.kind !== "read") return outcome;
  const groups = listed.groups;
  const ours = groups.find((g) => groupHasKey(g, key));
  const twins = emptyValueTwins(groups, key);
  if (twins.length === 0) return outcome;
  const twinText = twins.map((t) => formatGroupLabels(t.labels)).join(", ");
  const deleteTwin = deleteCommandFor(twins[0]!);
  if (ours === undefined || ours.metrics.length > 0 || ours.lastPushTime !== null) {
    return withError(outcome, outcome.error.message, `the group ${twinText} exposes the same series (an empty label value is, to Prometheus, no label); until one of the two is deleted the gateway refuses every push. Delete it with: ${deleteTwin}`);
  }
  const removed = await gateway.sendTo(baseUrl, { method: "DELETE", path: call.path }, { retries: 2 });
  const cleared = removed.kind === "delivered";
  deps.out.verbose(cleared ? `deleted ${formatGroupingKey(key)}, left behind by the refused push` : `could not delete ${formatGroupingKey(key)}, left behind by the refused push`);
  const note = cleared
    ? `pushgw deleted the empty group ${formatGroupingKey(key)} that the refusal left behind, which would have broken the gateway for every client`
    : `the refusal left an empty group ${formatGroupingKey(key)} behind, which breaks the gateway for every client, and pushgw could not delete it: delete it now`;
  return withError(outcome, `${outcome.error.message}\n${note}`, `the group ${twinText} exposes the same series (an empty label value is, to Prometheus, no label). To push here instead, delete that group first: ${deleteTwin}`);
}

function withError(outcome: Extract<CallOutcome, { kind: "failed" }>, message: string, hint: string): CallOutcome {
  return { ...outcome, error: new GatewayError(message, { hint }) };
}
