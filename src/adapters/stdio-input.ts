import { closeSync, fstatSync, openSync, readSync, statSync } from "node:fs";
import { isatty } from "node:tty";
import type { Input } from "../app/ports.js";
import { MAX_INPUT_BYTES } from "../core/exposition.js";

/**
 * Input is read up to one byte more than pushgw can check (MAX_INPUT_BYTES): enough for the
 * checker to refuse it with the real reason, without first reading gigabytes it will refuse.
 */
const READ_LIMIT = MAX_INPUT_BYTES + 1;

export function createStdioInput(): Input {
  return {
    // Not process.stdin.isTTY: creating process.stdin for a file (cron's /dev/null) loads fs
    // streams, and with them node:fs/promises and readline's interface.
    stdinIsTerminal: isatty(0),
    // node:fs/promises is not used here: loading it loads readline's interface (for
    // FileHandle.readLines), a dozen modules every push would pay for.
    readFile: async (path) => {
      const fd = openSync(path, "r");
      try {
        return readAll(fd);
      } finally {
        closeSync(fd);
      }
    },
    fileAccess: async (path) => {
      try {
        const info = statSync(path);
        return { mode: info.mode & 0o777, uid: info.uid, regular: info.isFile() };
      } catch {
        return undefined;
      }
    },
    readStdin: async () => {
      if (fstatSync(0).isFile()) return readAll(0);
      // A pipe: chunks as they come, then one copy into a buffer of the exact size.
      const chunks: Buffer[] = [];
      let total = 0;
      for await (const chunk of process.stdin) {
        chunks.push(chunk as Buffer);
        total += (chunk as Buffer).length;
        if (total >= READ_LIMIT) break;
      }
      return Buffer.concat(chunks, Math.min(total, READ_LIMIT));
    },
    confirm: async (question) => {
      // Only prompts need readline; loading it here spares every other run.
      const { createInterface } = await import("node:readline/promises");
      const prompt = createInterface({ input: process.stdin, output: process.stderr });
      // Ctrl-C stops pushgw here as anywhere else (readline would reject the question instead).
      prompt.once("SIGINT", () => {
        prompt.close();
        process.kill(process.pid, "SIGINT");
      });
      try {
        const answer = await prompt.question(`${question} [y/N] `);
        return /^y(es)?$/i.test(answer.trim());
      } catch (error) {
        // Ctrl-D: no answer, so not a yes.
        if ((error as Error).name === "AbortError") return false;
        throw error;
      } finally {
        prompt.close();
      }
    },
  };
}

/**
 * A regular file (or stdin redirected from one) in one buffer of its size, read in place:
 * no chunks to join afterwards, so the input costs its size once, not twice. Anything else
 * (a FIFO given as --file, /dev/stdin) is read in blocks.
 */
function readAll(fd: number): Buffer {
  const info = fstatSync(fd);
  if (info.isDirectory()) throw Object.assign(new Error("is a directory"), { code: "EISDIR" });
  if (info.isFile() && info.size > 0) {
    const size = Math.min(info.size, READ_LIMIT);
    const data = Buffer.allocUnsafe(size);
    let read = 0;
    while (read < size) {
      const n = readSync(fd, data, read, size - read, null);
      if (n === 0) break;
      read += n;
    }
    return read === size ? data : data.subarray(0, read);
  }
  const blocks: Buffer[] = [];
  let total = 0;
  for (;;) {
    const block = Buffer.allocUnsafe(1 << 16);
    const n = readSync(fd, block, 0, block.length, null);
    if (n === 0) break;
    blocks.push(n === block.length ? block : block.subarray(0, n));
    total += n;
    if (total >= READ_LIMIT) break;
  }
  return Buffer.concat(blocks, Math.min(total, READ_LIMIT));
}
