import { parseGatewayStatus } from "../core/doctor.js";
import { UsageError } from "../core/errors.js";
import { utf8GroupingNames, type GroupingKey } from "../core/grouping-key.js";
import {
  featureRefusal,
  isFresh,
  needsFreshAnswer,
  parseReceiverMemory,
  updatedReceiverMemory,
  type PushgatewayFacts,
  type ReceiverFeature,
  type ReceiverRules,
} from "../core/receiver-rules.js";
import type { Deps, Gateway } from "./ports.js";

/**
 * What the checker's rules per receiver share: how a receiver is asked what it takes and the
 * answer remembered. Each target's module picks its rules (targets/*.ts inputRules); a
 * Pushgateway's depend on its version, asked here.
 */

/** How a target's inputRules may learn what a Pushgateway takes. */
export interface ReceiverQuestions {
  /** The gateway to ask (opened by the caller, only when asked for); none: ask nothing (--dry-run, inside a wrapped job). */
  readonly gateway?: (() => Promise<Gateway>) | undefined;
  /** Told when a gateway asked could not be reached (no answer at all, as against one that did not say its version). */
  readonly unreachable?: ((baseUrl: string) => void) | undefined;
}

/**
 * What the Pushgateway at `baseUrl` says of itself: recalled (receivers.json, for a few minutes)
 * or asked (/api/v1/status) and remembered; undefined when it cannot tell or may not be asked.
 * Input that a gateway other than the one remembered would store otherwise without a word
 * (needsFreshAnswer) is checked against the memory only where the gateway cannot be asked.
 */
export async function pushgatewayFacts(baseUrl: string, deps: Deps, questions: ReceiverQuestions, needs: ReadonlySet<ReceiverFeature>): Promise<PushgatewayFacts | undefined> {
  const memory = deps.receiverMemory;
  const now = deps.clock.now();
  // Where pushgw cannot ask (--dry-run; a pushgw inside a wrapped job, whose wrapper asked before the job ran), the memory still answers.
  const recall = !needsFreshAnswer(needs) || questions.gateway === undefined;
  const remembered = recall ? parseReceiverMemory(await memory?.read()).get(baseUrl)?.pushgateway : undefined;
  if (remembered !== undefined && isFresh(remembered.at, now)) {
    deps.out.verbose(`${baseUrl}: Pushgateway ${remembered.facts.version ?? "(version unknown)"}${remembered.facts.utf8Names ? " with UTF-8 names" : ""} (remembered)`);
    return remembered.facts;
  }
  if (questions.gateway === undefined) return undefined;
  const answer = await (await questions.gateway()).sendTo(baseUrl, { method: "GET", path: "/api/v1/status" }, { retries: 0 });
  if (answer.kind === "failed" && answer.status === undefined) questions.unreachable?.(baseUrl);
  const status = answer.kind === "delivered" ? parseGatewayStatus(answer.body) : undefined;
  if (status === undefined) {
    deps.out.verbose(`${baseUrl}: its /api/v1/status did not say its version: checking by the rules of Pushgateway 1.5.1`);
    return undefined;
  }
  const facts: PushgatewayFacts = { version: status.version, utf8Names: status.utf8Names === true };
  deps.out.verbose(`${baseUrl}: Pushgateway ${facts.version ?? "(version unknown)"}${facts.utf8Names ? " with UTF-8 names" : ""}`);
  if (memory !== undefined) await memory.write(updatedReceiverMemory(await memory.read(), baseUrl, { pushgateway: { at: now, facts } }, now));
  return facts;
}

/**
 * A grouping key with UTF-8 label names (`--label service.name=x`) goes only to a receiver that
 * takes them: for a Pushgateway, one started with --push.enable-utf8-names (asked, as for input).
 * Refused before anything is sent otherwise, saying how to make the gateway take them.
 */
export async function refuseGroupingNamesNotTaken(key: GroupingKey, rulesFor: (needs: ReadonlySet<ReceiverFeature>) => Promise<ReceiverRules>): Promise<void> {
  const names = utf8GroupingNames(key);
  if (names.length === 0) return;
  const rules = await rulesFor(new Set(["utf8-grouping-names"]));
  if (rules.utf8Names) return;
  const name = names[0]!;
  throw new UsageError(`--label ${name}=…: "${name}" is a UTF-8 label name: ${featureRefusal(rules, "utf8-grouping-names")}`, {
    hint: "use a name of letters, digits and _ (service_name), or send to a receiver that takes UTF-8 names; nothing was sent",
  });
}
