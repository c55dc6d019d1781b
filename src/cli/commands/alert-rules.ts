import type { CommandModule } from "yargs";
import type { App } from "../app.js";

export function alertRulesCommand(app: App): CommandModule {
  return {
    command: "alert-rules",
    describe: "Print Prometheus alert rules for wrapped jobs (--dashboard: a Grafana dashboard)",
    builder: (y) =>
      y
        .option("prefix", { type: "string", default: "job", requiresArg: true, describe: "the metric prefix the jobs were wrapped with (wrap --prefix)" })
        .option("dashboard", { type: "boolean", default: false, describe: "print a Grafana dashboard (JSON) instead of the rules" })
        .example("$0 alert-rules > /etc/prometheus/pushgw.rules.yml", "then add it to rule_files in prometheus.yml")
        .example("$0 alert-rules --dashboard > pushgw-dashboard.json", "import it in Grafana"),
    handler: async (args) =>
      app.alertRules({ prefix: String(args["prefix"]), dashboard: args["dashboard"] === true }, { quiet: false, verbose: false }),
  };
}
