import { readFile, stat } from "node:fs/promises";
import { createInterface } from "node:readline/promises";
import type { Input } from "../app/ports.js";

export function createStdioInput(): Input {
  return {
    stdinIsTerminal: process.stdin.isTTY === true,
    readFile: async (path) => readFile(path),
    fileAccess: async (path) => {
      try {
        const info = await stat(path);
        return { mode: info.mode & 0o777, uid: info.uid };
      } catch {
        return undefined;
      }
    },
    readStdin: async () => {
      const chunks: Buffer[] = [];
      for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
      return Buffer.concat(chunks);
    },
    confirm: async (question) => {
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
