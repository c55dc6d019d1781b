import type { App } from "../app.js";
import { defineCommand, type PushgwCommand } from "../command.js";
import type { CliEnvironment } from "../options.js";

export function alertRulesCommand(app: App, cli: CliEnvironment): PushgwCommand {
  return defineCommand(
    {
      name: "alert-rules",
      usage: "alert-rules",
      describe: "Print Prometheus alert rules for wrapped jobs (--dashboard: a Grafana dashboard)",
      helpGroups: [],
      examples: [
        ["$0 alert-rules > /etc/prometheus/pushgw.rules.yml", "then add it to rule_files in prometheus.yml"],
        ["$0 alert-rules --dashboard > pushgw-dashboard.json", "import it in Grafana"],
      ],
    },
    cli,
    (flags) => app.alertRules({ prefix: flags.get("prefix"), dashboard: flags.get("dashboard") }, { quiet: false, verbose: false }),
  );
}
