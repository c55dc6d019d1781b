import { Chalk, type ChalkInstance } from "chalk";
import type { Output, OutputSettings, Tone } from "../app/ports.js";
import type { ToolError } from "../core/errors.js";
import { printable } from "../core/printable.js";

/** Colour only on a terminal, and never when NO_COLOR is set (https://no-color.org). */
export function colorLevel(stream: NodeJS.WriteStream, env: NodeJS.ProcessEnv): 0 | 1 {
  if (env["NO_COLOR"] !== undefined && env["NO_COLOR"] !== "") return 0;
  if (env["FORCE_COLOR"] !== undefined && env["FORCE_COLOR"] !== "0") return 1;
  return stream.isTTY === true && env["TERM"] !== "dumb" ? 1 : 0;
}

// A reader that goes away (`pushgw list | head -1`) closes our stdout or stderr; a file on a
// full disk (a cron line's `>> /var/log/x 2>&1`) or a dead terminal fails with ENOSPC or EIO.
// None of that may crash pushgw, least of all wrap, which still has to push the job's outcome
// and exit with the job's status. The first failure other than EPIPE is kept for
// ownOutputFailure(): the other commands exit 1 for it.
let pipesGuarded = false;
let failure: NodeJS.ErrnoException | undefined;
function guardPipes(): void {
  if (pipesGuarded) return;
  pipesGuarded = true;
  for (const stream of [process.stdout, process.stderr]) {
    stream.on("error", (error: NodeJS.ErrnoException) => {
      if (error.code !== "EPIPE") failure ??= error;
    });
  }
}

/**
 * Settles once everything written to pushgw's own stdout and stderr is in the pipe or file: a
 * process that ends with process.exit (wrap) loses what Node still holds for a full pipe.
 */
export function ownOutputWritten(): Promise<void> {
  const pending = [process.stdout, process.stderr].filter((stream) => !stream.destroyed && stream.writable && stream.writableLength > 0);
  return Promise.all(pending.map((stream) => new Promise<void>((resolve) => stream.write(Buffer.alloc(0), () => resolve())))).then(() => undefined);
}

/** The first error writing to pushgw's own stdout or stderr, except a reader gone away (EPIPE). */
export function ownOutputFailure(): NodeJS.ErrnoException | undefined {
  return failure;
}

export function createTerminalOutput(settings: OutputSettings, env: NodeJS.ProcessEnv = process.env): Output {
  guardPipes();
  const err: ChalkInstance = new Chalk({ level: colorLevel(process.stderr, env) });
  const out: ChalkInstance = new Chalk({ level: colorLevel(process.stdout, env) });
  const paint: Record<Tone, (text: string) => string> = {
    plain: (t) => t,
    dim: (t) => out.dim(t),
    stale: (t) => out.yellow(t),
    failed: (t) => out.red(t),
  };
  const progressShown = process.stderr.isTTY === true && !settings.quiet;
  let progressWidth = 0;
  const writeErr = (text: string): void => {
    process.stderr.write(`${printable(text)}\n`);
  };
  // Every line pushgw prints has control characters escaped (core/printable.ts).
  return {
    result: (text, tone = "plain") => {
      process.stdout.write(`${paint[tone](printable(text))}\n`);
    },
    progress: (text) => {
      if (!progressShown) return;
      process.stderr.write(`\r${printable(text).padEnd(progressWidth)}`);
      progressWidth = text.length;
    },
    progressDone: () => {
      if (!progressShown || progressWidth === 0) return;
      process.stderr.write(`\r${" ".repeat(progressWidth)}\r`);
      progressWidth = 0;
    },
    info: (text) => {
      if (!settings.quiet) writeErr(text);
    },
    verbose: (text) => {
      if (settings.verbose) process.stderr.write(`${err.dim(printable(text))}\n`);
    },
    warn: (text) => {
      if (!settings.quiet) process.stderr.write(`${err.yellow("pushgw: warning:")} ${printable(text)}\n`);
    },
    error: (error: ToolError) => {
      process.stderr.write(`${err.red.bold("pushgw:")} ${printable(error.message)}\n`);
      if (error.hint) process.stderr.write(`${err.cyan("hint:")} ${printable(error.hint)}\n`);
    },
  };
}
