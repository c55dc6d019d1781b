import { createServer, request as forward, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";

/**
 * A proxy in front of the real gateway, for the faults a real one cannot be made to show.
 * Each request takes the next scripted fault; when none is left, it goes to the gateway.
 */
export type Fault =
  | { kind: "status"; status: number; body?: string; headers?: Record<string, string> }
  | { kind: "hang" }
  | { kind: "cut" }
  /** Answers with this status and a body that never ends. */
  | { kind: "stream"; status: number }
  /** Writes these bytes onto the socket as the answer, then closes it (not HTTP, or broken HTTP). */
  | { kind: "raw"; bytes: string };

export interface FaultProxy {
  readonly url: string;
  readonly seen: Array<{ method: string; url: string; headers: IncomingMessage["headers"]; fault: string }>;
  stop(): Promise<void>;
}

/**
 * Runs before a request without a fault is forwarded; may wait, or change the gateway first.
 * It may return a function that runs once the gateway has answered, before the answer is
 * passed on (to change the gateway behind a client's back).
 */
export type BeforeForward = (request: { method: string; url: string; index: number }) => Promise<void | (() => Promise<void>)>;

export async function startFaultProxy(target: string, faults: Fault[], beforeForward?: BeforeForward): Promise<FaultProxy> {
  const seen: FaultProxy["seen"] = [];
  const targetUrl = new URL(target);
  const hanging = new Set<ServerResponse>();
  const server = createServer((req, res) => {
    const fault = faults.shift();
    seen.push({ method: req.method ?? "", url: req.url ?? "", headers: req.headers, fault: fault?.kind ?? "none" });
    if (fault?.kind === "status") {
      req.resume();
      res.writeHead(fault.status, { "content-type": "text/plain", ...fault.headers }).end(fault.body ?? "");
      return;
    }
    if (fault?.kind === "hang") {
      req.resume();
      hanging.add(res);
      return;
    }
    if (fault?.kind === "stream") {
      req.resume();
      hanging.add(res);
      res.writeHead(fault.status, { "content-type": "text/plain" });
      const chunk = Buffer.alloc(64 * 1024, "x");
      const more = (): void => {
        while (!res.destroyed && res.write(chunk));
        if (!res.destroyed) res.once("drain", more);
      };
      more();
      return;
    }
    if (fault?.kind === "raw") {
      req.resume();
      req.socket.end(fault.bytes);
      return;
    }
    if (fault?.kind === "cut") {
      req.socket.destroy();
      return;
    }
    const index = seen.length - 1;
    const go = (afterAnswer?: void | (() => Promise<void>)) => {
    const upstream = forward(
      { host: targetUrl.hostname, port: targetUrl.port, method: req.method, path: req.url, headers: req.headers },
      (answer) => {
        void (afterAnswer ? afterAnswer() : Promise.resolve()).then(() => {
          res.writeHead(answer.statusCode ?? 502, answer.headers);
          answer.pipe(res);
        });
      },
    );
    upstream.on("error", () => res.writeHead(502).end("proxy: upstream failed"));
    req.pipe(upstream);
    };
    if (beforeForward) {
      req.pause();
      void beforeForward({ method: req.method ?? "", url: req.url ?? "", index }).then(go);
    } else go();
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    seen,
    stop: async () => {
      for (const res of hanging) res.socket?.destroy();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
