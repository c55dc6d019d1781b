import { renderAlertRules, renderDashboard } from "../core/alerting.js";
import type { Deps } from "./ports.js";

export interface AlertRulesOptions {
  /** Checked by the CLI: it starts a metric name. */
  readonly prefix: string;
  readonly dashboard: boolean;
}

/** `alert-rules`: prints the rules file, or with --dashboard the Grafana dashboard. */
export async function printAlertRules(options: AlertRulesOptions, deps: Deps): Promise<number> {
  const text = options.dashboard ? renderDashboard(options.prefix) : renderAlertRules(options.prefix);
  deps.out.result(text.replace(/\n$/, ""));
  return 0;
}
