import { readFile } from "node:fs";
import { isatty } from "node:tty";
import type { Input } from "../app/ports.js";

export function createStdioInput(): Input {
  return {
    // Not process.stdin.isTTY: creating process.stdin for a file (cron's /dev/null) loads fs
    // streams, and with them node:fs/promises and readline's interface.
    stdinIsTerminal: isatty(0),
    // node:fs/promises is not used here: loading it loads readline's interface (for
    // FileHandle.readLines), a dozen modules every push would pay for.
    readFile: (path) => new Promise((resolve, reject) => readFile(path, (error, data) => (error ? reject(error) : resolve(data)))),
    readStdin: async () => {
      const chunks: Buffer[] = [];
      for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
      return Buffer.concat(chunks);
    },
    confirm: async (question) => {
      // Only prompts need readline; loading it here spares every other run.
      const { createInterface } = await import("node:readline/promises");
      const prompt = createInterface({ input: process.stdin, output: process.stderr });
      try {
        const answer = await prompt.question(`${question} [y/N] `);
        return /^y(es)?$/i.test(answer.trim());
      } finally {
        prompt.close();
      }
    },
  };
}
