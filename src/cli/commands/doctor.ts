import type { DoctorOptions } from "../../app/doctor.js";
import type { App } from "../app.js";
import { defineCommand, type PushgwCommand } from "../command.js";
import type { Flags } from "../flags.js";
import { toOutputSettings, toTransportOptions, type CliEnvironment } from "../options.js";

export function toDoctorOptions(flags: Flags, cli: CliEnvironment): DoctorOptions {
  return {
    transport: toTransportOptions(flags, cli),
    olderThanMs: flags.get("older-than"),
    json: flags.get("json"),
    fix: flags.get("fix"),
    yes: flags.get("yes"),
  };
}

export function doctorCommand(app: App, cli: CliEnvironment): PushgwCommand {
  return defineCommand(
    {
      name: "doctor",
      usage: "doctor",
      describe: "Examine a gateway and its groups; say what is wrong and the command that repairs it",
      helpGroups: ["Repairs:", "Selecting groups:", "Gateway:", "Auth and TLS:", "Output:"],
      examples: [
        ["$0 doctor", "report; exit 0 when healthy, 1 when something needs attention"],
        ["$0 doctor --older-than 30d --json", "also groups silent for a month, for a script"],
        ["$0 doctor --fix", "run the repairs it names, after asking"],
      ],
    },
    cli,
    (flags) => app.doctor(toDoctorOptions(flags, cli), toOutputSettings(flags)),
  );
}
