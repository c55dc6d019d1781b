import { ToolError } from "../core/errors.js";
import type { Deps } from "./ports.js";

/**
 * list, prune, delete --match and doctor with several gateways (a two-gateway PUSHGW_GATEWAY):
 * each in turn, its output under a line naming it, and a gateway that fails is reported with its
 * URL while the others are still done. With one gateway nothing changes: no header line, and its
 * failure ends the command as it always did. Returns the worst exit status.
 */
export async function eachGateway(
  baseUrls: readonly string[],
  deps: Deps,
  work: (baseUrl: string) => Promise<number>,
  announce?: (line: string) => void,
): Promise<number> {
  if (baseUrls.length === 1) return work(baseUrls[0]!);
  let status = 0;
  for (const baseUrl of baseUrls) {
    announce?.(gatewayHeader(baseUrl));
    try {
      status = Math.max(status, await work(baseUrl));
    } catch (error) {
      // A bug is no gateway's failure: it ends the command.
      if (!(error instanceof ToolError)) throw error;
      deps.out.error(relabel(error, baseUrl));
      status = Math.max(status, error.exitCode);
    }
  }
  return status;
}

/** The line above each gateway's part of the output when there are several. */
export function gatewayHeader(baseUrl: string): string {
  return `gateway ${baseUrl}:`;
}

/** The same failure, its message saying which gateway it came from. */
function relabel(error: ToolError, baseUrl: string): ToolError {
  if (error.message.includes(baseUrl)) return error;
  const Type = error.constructor as new (message: string, options: { hint?: string; cause?: unknown }) => ToolError;
  return new Type(`${baseUrl}: ${error.message}`, { ...(error.hint === undefined ? {} : { hint: error.hint }), cause: error });
}
