import { GatewayError, InputError, SpooledError } from "../core/errors.js";
import type { CallOutcome, GatewayCall } from "./ports.js";

/**
 * The one error a write's outcomes add up to, or undefined when every gateway took it: a
 * GatewayError (exit 1) when any refused it or could not be reached, else a SpooledError
 * (exit 75) when some wait in the spool. With several gateways it says which took it.
 */
export function writeFailure(call: GatewayCall, outcomes: readonly CallOutcome[], spoolDir: string | undefined): GatewayError | InputError | SpooledError | undefined {
  const failures = outcomes.filter((o): o is Extract<CallOutcome, { kind: "failed" }> => o.kind === "failed");
  const spooled = outcomes.filter((o): o is Extract<CallOutcome, { kind: "spooled" }> => o.kind === "spooled");
  if (failures.length === 1 && outcomes.length === 1) {
    const only = failures[0]!;
    return only.input ? new InputError(only.error.message, { hint: only.error.hint }) : only.error;
  }
  if (failures.length > 0) {
    const lines = outcomes.map((o) =>
      o.kind === "delivered" ? `ok      ${call.method} ${o.url} (${o.status})` : o.kind === "spooled" ? `saved   ${call.method} ${o.url} (in the spool)` : `FAILED  ${o.error.message}`,
    );
    return new GatewayError(`${failures.length} of ${outcomes.length} gateways did not take it:\n${lines.join("\n")}`, { hint: failures[0]!.error.hint });
  }
  if (spooled.length === 0) return undefined;
  const lines = spooled.map((s) => `${call.method} ${s.url}: ${s.reason ? `not delivered (${s.reason.message})` : "queued behind earlier calls to this group"}`);
  return new SpooledError(`saved in the spool ${spoolDir ?? ""}, to be sent later:\n${lines.join("\n")}`, {
    hint: "`pushgw flush` sends it, and so does the next pushgw run to that gateway",
  });
}
