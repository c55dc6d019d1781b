import { renderCompletion, type CompletionSpec, type Shell } from "../core/completion-scripts.js";
import type { Deps } from "./ports.js";

export interface CompletionOptions {
  readonly shell: Shell;
  readonly spec: CompletionSpec;
}

/** `completion`: prints the completion script for a shell. */
export async function printCompletion(options: CompletionOptions, deps: Deps): Promise<number> {
  deps.out.result(renderCompletion(options.shell, options.spec).replace(/\n$/, ""));
  return 0;
}
