import { lstatSync } from "node:fs";
import { createConnection, createServer, type Socket } from "node:net";
import { dirname } from "node:path";
import type { Relay, RelayAnswer, RelayedCall } from "../app/ports.js";
import { socketOwnerProblem } from "../core/private-dir.js";
import { currentUid, privateDirectory } from "./private-dir.js";

/** A nested push is a few metrics; a job that sends more is not a nested push. */
const MAX_REQUEST_BYTES = 16 * 1024 * 1024;
/**
 * Calls open at once, and the bytes of calls the wrapper holds at once: a job's runaway children
 * opening 1,000 connections must not make the wrapper hold 16 GB (and lose the job's outcome).
 * A job pushes a few calls at a time; one call of the full 16 MiB still fits.
 */
const MAX_OPEN_CALLS = 64;
const MAX_HELD_BYTES = 64 * 1024 * 1024;
const BUSY_HINT = "a process in the job has very many calls to the wrapper open at once: push fewer at a time, or give --gateway (and its credentials) to push by yourself";
/** The wrapper's answer: outcomes and messages, never large. */
const MAX_ANSWER_BYTES = 1024 * 1024;

/**
 * One JSON line each way over a Unix socket: the call, then the answer. The socket lives in
 * the job's private directory (mode 0700, in one only this user can write: core/private-dir.ts),
 * so only this user's processes, the job among them, can reach it, and nobody else can put a
 * socket of their own at its name. The pushgw in the job checks that before it sends anything.
 */
export function createSocketRelay(): Relay {
  return {
    async serve(path, handle) {
      // Closing must not wait on clients: a process the job left behind may hold a connection
      // open, or trickle a call that never ends, for as long as it likes. Calls still being
      // read when the relay closes are dropped; calls already being sent are waited for (the
      // gateway's own --timeout and --retries bound them).
      const sockets = new Set<Socket>();
      const reading = new Set<Socket>();
      const sending = new Set<Promise<void>>();
      let heldBytes = 0;
      const server = createServer((socket) => {
        sockets.add(socket);
        socket.once("close", () => sockets.delete(socket));
        socket.on("error", () => socket.destroy());
        if (reading.size + sending.size >= MAX_OPEN_CALLS) {
          refuseBusy(socket, `the wrapper refused the call: ${MAX_OPEN_CALLS} calls from this job are open at once, its limit`);
          return;
        }
        reading.add(socket);
        let held = 0;
        const release = (): void => {
          heldBytes -= held;
          held = 0;
        };
        socket.once("close", () => {
          reading.delete(socket);
          release();
        });
        socket.setTimeout(60_000, () => socket.destroy());
        const take = (bytes: number): boolean => {
          if (heldBytes + bytes > MAX_HELD_BYTES) return false;
          heldBytes += bytes;
          held += bytes;
          return true;
        };
        readLine(socket, MAX_REQUEST_BYTES, take).then(
          (line) => {
            reading.delete(socket);
            const answered = (async () => {
              let answer: RelayAnswer;
              try {
                answer = await handle(JSON.parse(line) as unknown);
              } catch (error) {
                answer = { refused: { message: `the wrapper could not read the call: ${error instanceof Error ? error.message : String(error)}`, exitCode: 1 } };
              }
              socket.end(`${JSON.stringify(answer)}\n`);
            })();
            sending.add(answered);
            void answered.finally(() => {
              sending.delete(answered);
              release();
            });
          },
          (error: Error) => {
            reading.delete(socket);
            release();
            if (error instanceof HeldTooMuch) refuseBusy(socket, `the wrapper refused the call: it holds ${MAX_HELD_BYTES} bytes (64 MiB) of calls from this job at once, its limit`);
            else socket.destroy();
          },
        );
      });
      // Out of file descriptors (a job opening thousands of connections): that connection is
      // lost, the relay keeps listening and the wrapper keeps running.
      server.on("error", () => undefined);
      await new Promise<void>((resolve, reject) => {
        server.once("error", reject);
        server.listen(path, () => {
          server.off("error", reject);
          resolve();
        });
      });
      // The wrapper must not stay alive for the relay's sake.
      server.unref();
      return {
        close: async () => {
          server.close();
          for (const socket of reading) socket.destroy();
          await Promise.all(sending);
          // Answered; a client that has not hung up yet is not waited for.
          for (const socket of sockets) socket.destroy();
        },
      };
    },

    send(path: string, call: RelayedCall, timeoutMs: number) {
      const untrusted = socketProblem(path);
      // Gone (the wrapper has ended) is said as connect would say it; never connected to either.
      if (untrusted === "ENOENT") return Promise.resolve({ unreachable: "ENOENT" });
      if (untrusted !== undefined) return Promise.resolve({ unreachable: `its socket is not to be trusted: ${untrusted}` });
      return new Promise((resolve) => {
        const socket = createConnection(path);
        const fail = (why: string): void => {
          socket.destroy();
          resolve({ unreachable: why });
        };
        socket.setTimeout(timeoutMs, () => fail(`no answer within ${timeoutMs} ms`));
        socket.once("error", (error: NodeJS.ErrnoException) => fail(error.code ?? error.message));
        socket.once("connect", () => socket.write(`${JSON.stringify(call)}\n`));
        readLine(socket, MAX_ANSWER_BYTES).then((line) => {
          socket.destroy();
          try {
            resolve(JSON.parse(line) as RelayAnswer);
          } catch {
            resolve({ unreachable: "the wrapper's answer is not JSON" });
          }
        }, (error: Error) => fail(error.message));
      });
    },
  };
}

/**
 * Why the socket named by PUSHGW_WRAP_SOCKET must not be talked to ("ENOENT": there is none), or
 * undefined: it must be a socket of this user's or root's, in a directory chain no other user
 * can write to. A process a job left behind may run pushgw long after the wrapper has gone, when
 * anyone else could have put a socket of their own at a name in a shared directory.
 */
function socketProblem(path: string): string | undefined {
  let info;
  try {
    info = lstatSync(path);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    return code === "ENOENT" || code === "ENOTDIR" ? "ENOENT" : `${path} cannot be used (${code ?? String(error)})`;
  }
  const uid = currentUid();
  const dir = privateDirectory(dirname(path), uid);
  if ("why" in dir) return dir.why;
  return socketOwnerProblem({ path, isSocket: info.isSocket(), uid: info.uid }, uid);
}

/** Past the bytes the wrapper may hold for all calls at once. */
class HeldTooMuch extends Error {}

/** Answers a call it will not read with a refusal, drops what the client still sends, and hangs up. */
function refuseBusy(socket: Socket, message: string): void {
  const answer: RelayAnswer = { refused: { message, hint: BUSY_HINT, exitCode: 1 } };
  socket.end(`${JSON.stringify(answer)}\n`);
  socket.resume();
  setTimeout(() => socket.destroy(), 1_000).unref();
}

/**
 * The first line a socket sends, at most `limit` bytes; `take`, when given, must grant each
 * chunk's bytes before they are kept (HeldTooMuch when it does not).
 */
function readLine(socket: Socket, limit: number, take: (bytes: number) => boolean = () => true): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const onData = (chunk: Buffer): void => {
      const newline = chunk.indexOf(10);
      const part = newline < 0 ? chunk : chunk.subarray(0, newline);
      size += part.length;
      if (size > limit) {
        cleanup();
        reject(new Error(`more than ${limit} bytes`));
        return;
      }
      if (!take(part.length)) {
        cleanup();
        reject(new HeldTooMuch());
        return;
      }
      chunks.push(part);
      if (newline >= 0) {
        cleanup();
        resolve(Buffer.concat(chunks).toString("utf8"));
      }
    };
    const onEnd = (): void => {
      cleanup();
      reject(new Error("the connection closed before a whole line"));
    };
    const cleanup = (): void => {
      socket.off("data", onData);
      socket.off("end", onEnd);
      socket.off("close", onEnd);
    };
    socket.on("data", onData);
    socket.on("end", onEnd);
    socket.on("close", onEnd);
  });
}
