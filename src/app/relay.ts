import { GatewayError, ToolError } from "../core/errors.js";
import { parseExposition } from "../core/exposition.js";
import { buildGroupingPath, formatGroupingKey, groupingLabelMap, type GroupingKey } from "../core/grouping-key.js";
import type { CallOutcome, Deps, Gateway, GatewayCall, RelayAnswer, RelayedCall } from "./ports.js";
import { pushgateway } from "./targets/pushgateway.js";
import { targetSpec, writeInputOptions } from "./targets/registry.js";
import type { WriteForm } from "./targets/target.js";

/**
 * The wrapper and the pushgw runs inside its job. A `pushgw add` in the job with no grouping
 * flags and no --gateway lands in the wrapper's group; it does so by handing its checked
 * metrics to the wrapper over a Unix socket in the wrapper's private directory, and the
 * wrapper sends them with its own credentials, TLS files, headers and spool. The job gets the
 * means to push into its own group, never the secrets: its environment holds no password,
 * token or credentialed URL.
 */
export const WRAP_SOCKET_ENV = "PUSHGW_WRAP_SOCKET";

/**
 * What the job's pushgw hands the wrapper, whatever the target: the Pushgateway's write (the
 * text, to the group's path). The wrapper checks it again and sends it through its own target.
 */
export const RELAYED_FORM: WriteForm = pushgateway;

/** Bytes a relayed body may have; the socket refuses more. */
const BODY_LIMIT = 16 * 1024 * 1024;

/** The wrapper's side: checks a relayed call and sends it to the wrapper's gateways. */
export function relayHandler(key: GroupingKey, gateway: Gateway, deps: Deps, dryRun: boolean, reservedNames: ReadonlyMap<string, string>): (request: unknown) => Promise<RelayAnswer> {
  const ownPath = buildGroupingPath(key);
  const groupingLabels = groupingLabelMap(key);
  const target = targetSpec(gateway.target);
  return async (request) => {
    const call = asRelayedCall(request);
    if (typeof call === "string") return { refused: { message: `the wrapper refused the call: ${call}`, exitCode: 1 } };
    if (call.path !== ownPath) {
      return {
        refused: {
          message: `the wrapper passes on pushes to its own group ${formatGroupingKey(key)} only`,
          hint: "to push elsewhere from inside the job, give --gateway (and its credentials) to that pushgw",
          exitCode: 1,
        },
      };
    }
    if (call.method === "PUT") {
      // A PUT replaces the whole group: wrap's start push, and with it the last success that a
      // failing run must leave standing for the alerts.
      return {
        refused: {
          message: `inside a wrapped job, pushgw push (PUT) would replace everything in the wrapper's group ${formatGroupingKey(key)}, its last success among them`,
          hint: "use pushgw add (POST), which adds to the group; or push into a group of your own with --job or --label",
          exitCode: 2,
        },
      };
    }
    let write: GatewayCall;
    try {
      // Checked again here: the socket is the job's, and what goes to the gateway is the wrapper's
      // to answer for. wrap's own families are the wrapper's to push, as for PUSHGW_METRICS_FILE.
      const exposition = parseExposition(call.body, { name: "the pushgw inside the job" }, writeInputOptions(target, { groupingLabels, reservedNames }));
      write = target.writeCall(call.method, key, exposition, deps.clock.now());
    } catch (error) {
      if (error instanceof ToolError) return { refused: { message: error.message, hint: error.hint, exitCode: error.exitCode } };
      throw error;
    }
    if (dryRun) {
      gateway.dryRun(write);
      return { outcomes: gateway.baseUrls.map((url) => ({ kind: "delivered" as const, url: url + write.path })) };
    }
    const outcomes = await gateway.write(write);
    return {
      outcomes: outcomes.map((o) =>
        o.kind === "failed" ? { kind: o.kind, url: o.url, message: o.error.message, hint: o.error.hint, ...(o.input ? { input: true as const } : {}) } : o.kind === "spooled" ? { kind: o.kind, url: o.url, message: o.where } : { kind: o.kind, url: o.url },
      ),
    };
  };
}

function asRelayedCall(request: unknown): RelayedCall | string {
  if (typeof request !== "object" || request === null) return "not an object";
  const { method, path, body, ...rest } = request as Record<string, unknown>;
  if (Object.keys(rest).length > 0) return `unknown fields ${Object.keys(rest).join(", ")}`;
  if (method !== "PUT" && method !== "POST") return "method must be PUT or POST";
  if (typeof path !== "string") return "path must be a string";
  if (typeof body !== "string" || body.length > BODY_LIMIT) return "body must be a string of at most 16 MiB";
  return { method, path, body };
}

/** The job's side: a Gateway whose writes go through the wrapper. */
export function openRelayGateway(socketPath: string, timeoutMs: number, deps: Deps): Gateway {
  const refuse = (): never => {
    throw new GatewayError("inside a wrapped job, only push and add go through the wrapper");
  };
  const send = async (call: GatewayCall): Promise<CallOutcome[]> => {
    const url = `the wrapper (${socketPath})`;
    if (typeof call.body !== "string" || (call.method !== "PUT" && call.method !== "POST")) refuse();
    const relay = await deps.relay();
    const answer = await relay.send(socketPath, { method: call.method as "PUT" | "POST", path: call.path, body: call.body as string }, timeoutMs);
    if ("unreachable" in answer) {
      const error = new GatewayError(`${call.method} ${call.path} through ${url}: the wrapper cannot be reached (${answer.unreachable})`, {
        hint: "the wrapper has ended, or this is not its job; to push yourself, give --gateway (and its credentials)",
      });
      return [{ kind: "failed", url, retryable: false, error }];
    }
    if ("refused" in answer) {
      // exitCode 2: the wrapper refused the call as bad input; nothing was sent.
      const input = answer.refused.exitCode === 2 ? { input: true as const } : {};
      return [{ kind: "failed", url, retryable: false, error: new GatewayError(answer.refused.message, { hint: answer.refused.hint }), ...input }];
    }
    return answer.outcomes.map((o): CallOutcome => {
      if (o.kind === "failed") return { kind: "failed", url: o.url, retryable: false, error: new GatewayError(o.message ?? "not delivered", { hint: o.hint }), ...(o.input ? { input: true as const } : {}) };
      if (o.kind === "spooled") return { kind: "spooled", url: o.url, where: o.message ?? "the wrapper's spool", reason: undefined };
      return { kind: "delivered", url: o.url, status: 200, body: "" };
    });
  };
  return {
    // The relay takes the Pushgateway's writes (RELAYED_FORM), whatever the wrapper's target.
    target: "pushgateway",
    baseUrls: [],
    spoolDir: undefined,
    names: () => false,
    write: send,
    sendTo: async (_, call) => (await send(call))[0]!,
    readGroups: async () => ({ kind: "failed", error: new GatewayError("inside a wrapped job, only push and add go through the wrapper") }),
    dryRun: (call) => deps.out.result(`${call.method} ${call.path} (handed to the wrapper, which sends it)\n\n${typeof call.body === "string" ? call.body.replace(/\n$/, "") : ""}`),
  };
}
