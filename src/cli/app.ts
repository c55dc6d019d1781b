import type { AlertRulesOptions } from "../app/alert-rules.js";
import type { CompletionOptions } from "../app/completion.js";
import type { DeleteOptions } from "../app/delete.js";
import type { ListOptions } from "../app/list.js";
import type { RemoveGroupsOptions } from "../app/remove-groups.js";
import type { PushOptions } from "../app/push.js";
import type { WrapOptions } from "../app/wrap-job.js";
import type { FlushOptions } from "../app/flush.js";
import type { DoctorOptions } from "../app/doctor.js";
import type { OutputSettings } from "../app/ports.js";
import type { CronOptions } from "../app/cron.js";

/**
 * The use cases as the CLI sees them: typed options in, exit status out. `main.ts` wires
 * them to the real adapters; the argv tests use a recording one.
 */
export interface App {
  push(options: PushOptions, output: OutputSettings): Promise<void>;
  delete(options: DeleteOptions, output: OutputSettings): Promise<void>;
  wrap(options: WrapOptions, output: OutputSettings): Promise<void>;
  list(options: ListOptions, output: OutputSettings): Promise<void>;
  /** prune, and delete --match. */
  removeGroups(options: RemoveGroupsOptions, output: OutputSettings): Promise<void>;
  completion(options: CompletionOptions, output: OutputSettings): Promise<void>;
  alertRules(options: AlertRulesOptions, output: OutputSettings): Promise<void>;
  flush(options: FlushOptions, output: OutputSettings): Promise<void>;
  doctor(options: DoctorOptions, output: OutputSettings): Promise<void>;
  cron(options: CronOptions, output: OutputSettings): Promise<void>;
}
