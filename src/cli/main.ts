import { hostname } from "node:os";
import { deleteGroup } from "../app/delete.js";
import type { Deps, Http, OutputSettings, ReceiverMemoryFile, Spool } from "../app/ports.js";
import { pushMetrics } from "../app/push.js";
import { wrapJob, type WrapOptions } from "../app/wrap-job.js";
import { listGroups } from "../app/list.js";
import { removeGroups } from "../app/remove-groups.js";
import { printCompletion } from "../app/completion.js";
import { printAlertRules } from "../app/alert-rules.js";
import { flushSpool } from "../app/flush.js";
import { createStdioInput } from "../adapters/stdio-input.js";
import { systemClock } from "../adapters/system-clock.js";
import { createTerminalOutput, ownOutputFailure, ownOutputWritten } from "../adapters/terminal-output.js";
import { InternalError, toToolError } from "../core/errors.js";
import { redactArgv } from "../core/secrets.js";
import type { App } from "./app.js";
import { buildCli } from "./build-cli.js";
import { splitAttachedValues } from "./short-flags.js";
import type { CliEnvironment } from "./options.js";

declare const __PUSHGW_VERSION__: string | undefined;
export const VERSION = typeof __PUSHGW_VERSION__ === "string" ? __PUSHGW_VERSION__ : "0.0.0-dev";

type UseCase<O> = (options: O, deps: Deps) => Promise<number>;

/** Runs pushgw with `argv` (without node and script); sets process.exitCode. */
export async function main(typed: readonly string[]): Promise<void> {
  const argv = splitAttachedValues(typed);
  // `-u alice:secret` would stay visible in ps for the whole run (a wrapped job's hours):
  // the process title, which is what ps shows, is rewritten at once without it.
  process.title = ["pushgw", ...redactArgv(argv)].join(" ");
  const cli: CliEnvironment = { env: process.env, hostname: hostname(), argv, columns: process.stdout.columns };
  let exitCode = 0;
  let wrapped = false;
  /** wrap's status, once its job has ended. */
  let jobStatus: number | undefined;
  const run =
    <O>(useCase: UseCase<O>, statusIsTheJobs = false) =>
    async (options: O, output: OutputSettings): Promise<void> => {
      exitCode = await runUseCase(useCase, options, output);
      wrapped = statusIsTheJobs;
      // What a command printed is its result: output that could not be written is a failure.
      // Not for wrap: its status is the job's, whatever became of pushgw's own lines.
      if (!statusIsTheJobs && exitCode === 0 && ownOutputFailure() !== undefined) exitCode = 1;
    };
  const app: App = {
    push: run(pushMetrics),
    delete: run(deleteGroup),
    wrap: run<WrapOptions>((options, deps) => wrapJob(options, deps, (status) => (jobStatus = status)), true),
    list: run(listGroups),
    removeGroups: run(removeGroups),
    completion: run(printCompletion),
    alertRules: run(printAlertRules),
    flush: run(flushSpool),
    // Loaded when asked for: the other commands need not parse it at start-up.
    doctor: async (options, output) => run((await import("../app/doctor.js")).runDoctor)(options, output),
    cron: async (options, output) => {
      const [{ runCron }, { createCrontabs }] = await Promise.all([import("../app/cron.js"), import("../adapters/crontabs.js")]);
      const crontabs = createCrontabs(process.env);
      await run<typeof options>((o, deps) => runCron(o, deps, crontabs))(options, output);
    },
  };
  // A wait that nothing can end any more (a bug) lets Node's event loop run dry, and Node then
  // ends with status 0 as if all had gone well: said, and a failure, instead; after a wrapped
  // job's end, its status, which nothing pushgw meets may change.
  const stalled = (): void => {
    const after = jobStatus === undefined ? "" : `, after the job had ended (its exit status, ${jobStatus}, is kept; its outcome may not have been pushed)`;
    const failure = new InternalError(`pushgw stopped before it had finished${after}: it was left waiting for something that can no longer happen`, {
      hint: "this is a bug in pushgw; please report it with the command you ran",
    });
    createTerminalOutput({ quiet: false, verbose: false }).error(failure);
    process.exitCode = jobStatus ?? failure.exitCode;
  };
  process.once("beforeExit", stalled);
  try {
    await buildCli(app, cli, VERSION).parseAsync([...argv]);
  } catch (error) {
    const failure = toToolError(error);
    createTerminalOutput({ quiet: false, verbose: false }).error(failure);
    exitCode = failure.exitCode;
  }
  process.off("beforeExit", stalled);
  process.exitCode = exitCode;
  // A wrapper ends at once, as soon as its own output is in the pipe (process.exit drops what
  // Node still holds for a full one). Left to wind down by itself, Node takes down the listeners that
  // keep signals from ending it (src/adapters/job-signals.ts) before the process is gone, and a
  // SIGUSR2 then ended it with 140 instead of the job's status (8 runs in 10 under a storm).
  if (wrapped) {
    await ownOutputWritten();
    process.exit(exitCode);
  }
}

async function runUseCase<O>(useCase: UseCase<O>, options: O, output: OutputSettings): Promise<number> {
  const out = createTerminalOutput(output);
  const clients: Array<Promise<Http>> = [];
  let spool: Promise<Spool> | undefined;
  let receivers: Promise<ReceiverMemoryFile> | undefined;
  // Loaded only when an input needs to know its receiver (app/input-rules.ts).
  const receiverMemory = () => (receivers ??= import("../adapters/receiver-memory.js").then((m) => m.createReceiverMemory(process.env)));
  const deps: Deps = {
    // undici is loaded only when a request is really sent: --help, --dry-run and bad input never pay for it.
    http: (tls) => {
      const client = import("../adapters/undici-http.js").then((m) => m.createUndiciHttp(tls));
      clients.push(client);
      return client;
    },
    jobs: () => import("../adapters/execa-runner.js").then((m) => m.createExecaRunner()),
    relay: () => import("../adapters/relay-socket.js").then((m) => m.createSocketRelay()),
    locks: () => import("../adapters/flock-lock.js").then((m) => m.createFlockLocks()),
    spool: (dir) => (spool ??= import("../adapters/file-spool.js").then((m) => m.createFileSpool(dir))),
    textfiles: (dir) => import("../adapters/textfile-dir.js").then((m) => m.createTextfileDir(dir)),
    clock: systemClock,
    input: createStdioInput(),
    out,
    random: Math.random,
    version: VERSION,
    receiverMemory: { read: () => receiverMemory().then((m) => m.read()), write: (text) => receiverMemory().then((m) => m.write(text)) },
  };
  try {
    return await useCase(options, deps);
  } catch (error) {
    const failure = toToolError(error);
    out.error(failure);
    return failure.exitCode;
  } finally {
    await Promise.all(clients.map((client) => client.then((c) => c.close()).catch(() => undefined)));
  }
}
