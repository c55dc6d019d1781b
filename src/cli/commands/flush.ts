import type { CommandModule } from "yargs";
import type { FlushOptions } from "../../app/flush.js";
import type { App } from "../app.js";
import { toOutputSettings, toTransportOptions, withGlobalOptions, type CliEnvironment, type GlobalArgs } from "../options.js";

export function toFlushOptions(args: GlobalArgs, cli: CliEnvironment): FlushOptions {
  return { transport: toTransportOptions(args, cli) };
}

export function flushCommand(app: App, cli: CliEnvironment): CommandModule {
  return {
    command: "flush",
    describe: "Deliver the pushes saved in the spool, oldest first",
    builder: (y) =>
      withGlobalOptions(y)
        .example("$0 flush --spool /var/spool/pushgw", "send what waits, with today's credentials")
        .example("PUSHGW_SPOOL=/var/spool/pushgw $0 flush -u pusher --password-file /etc/pushgw/pw", "the same, with basic auth"),
    handler: async (args) => app.flush(toFlushOptions(args as unknown as GlobalArgs, cli), toOutputSettings(args as unknown as GlobalArgs)),
  };
}
