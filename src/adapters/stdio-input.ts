import { readFile } from "node:fs/promises";
import type { Input } from "../app/ports.js";

export function createStdioInput(): Input {
  return {
    stdinIsTerminal: process.stdin.isTTY === true,
    readFile: async (path) => readFile(path),
    readStdin: async () => {
      const chunks: Buffer[] = [];
      for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
      return Buffer.concat(chunks);
    },
  };
}
