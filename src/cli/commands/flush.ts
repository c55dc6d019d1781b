import type { CommandModule } from "yargs";
import type { FlushOptions } from "../../app/flush.js";
import type { App } from "../app.js";
import { toOutputSettings, toTransportOptions, withGlobalOptions, type CliEnvironment, type GlobalArgs } from "../options.js";

export function toFlushOptions(args: GlobalArgs & { retrySetAside?: boolean }, cli: CliEnvironment): FlushOptions {
  return { transport: toTransportOptions(args, cli), retrySetAside: args.retrySetAside === true };
}

export function flushCommand(app: App, cli: CliEnvironment): CommandModule {
  return {
    command: "flush",
    describe: "Deliver the pushes saved in the spool, oldest first",
    builder: (y) =>
      withGlobalOptions(y)
        .option("retry-set-aside", {
          type: "boolean",
          describe: "First put the calls set aside in DIR/set-aside back into their queues (checked again), then deliver",
        })
        .example("$0 flush --spool /var/spool/pushgw", "send what waits, with today's credentials")
        .example("PUSHGW_SPOOL=/var/spool/pushgw $0 flush -u pusher --password-file /etc/pushgw/pw", "the same, with basic auth"),
    handler: async (args) => app.flush(toFlushOptions(args as unknown as GlobalArgs & { retrySetAside?: boolean }, cli), toOutputSettings(args as unknown as GlobalArgs)),
  };
}
