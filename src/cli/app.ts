import type { DeleteOptions } from "../app/delete.js";
import type { PushOptions } from "../app/push.js";
import type { WrapOptions } from "../app/wrap.js";
import type { OutputSettings } from "../app/ports.js";

/**
 * The use cases as the CLI sees them: typed options in, exit status out. `main.ts` wires
 * them to the real adapters; the argv tests use a recording one.
 */
export interface App {
  push(options: PushOptions, output: OutputSettings): Promise<void>;
  delete(options: DeleteOptions, output: OutputSettings): Promise<void>;
  wrap(options: WrapOptions, output: OutputSettings): Promise<void>;
}
