import type { FlushOptions } from "../../app/flush.js";
import type { App } from "../app.js";
import { defineCommand, type PushgwCommand } from "../command.js";
import type { Flags } from "../flags.js";
import { toOutputSettings, toTransportOptions, type CliEnvironment } from "../options.js";

export function toFlushOptions(flags: Flags, cli: CliEnvironment): FlushOptions {
  return { transport: toTransportOptions(flags, cli), retrySetAside: flags.get("retry-set-aside") };
}

export function flushCommand(app: App, cli: CliEnvironment): PushgwCommand {
  return defineCommand(
    {
      name: "flush",
      usage: "flush",
      describe: "Deliver the pushes saved in the spool, oldest first",
      helpGroups: ["Spool:", "Gateway:", "Auth and TLS:", "Output:"],
      examples: [
        ["$0 flush --spool /var/spool/pushgw", "send what waits, with today's credentials"],
        ["PUSHGW_SPOOL=/var/spool/pushgw $0 flush -u pusher --password-file /etc/pw", "the same, with basic auth"],
      ],
    },
    cli,
    (flags) => app.flush(toFlushOptions(flags, cli), toOutputSettings(flags)),
  );
}
