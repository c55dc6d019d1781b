import { spawn } from "node:child_process";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { createConnection, createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ensureTool } from "./prometheus.js";

/** Debian's tinyproxy on a free loopback port, logging every request it carries. */
export interface RunningProxy {
  readonly url: string;
  log(): string;
  stop(): Promise<void>;
}

export async function startTinyproxy(): Promise<RunningProxy> {
  const binary = ensureTool("tinyproxy", "tinyproxy");
  const dir = mkdtempSync(join(tmpdir(), "pushgw-tinyproxy-"));
  const port = await new Promise<number>((resolve) => {
    const server = createServer().listen(0, "127.0.0.1", () => {
      const { port: p } = server.address() as { port: number };
      server.close(() => resolve(p));
    });
  });
  const logFile = join(dir, "tinyproxy.log");
  // No ConnectPort line: CONNECT (for https) is allowed to any port, as the test gateway needs.
  writeFileSync(
    join(dir, "tinyproxy.conf"),
    [`Port ${port}`, "Listen 127.0.0.1", "Timeout 30", `LogFile "${logFile}"`, "LogLevel Info", "MaxClients 20", "Allow 127.0.0.1", ""].join("\n"),
  );
  const child = spawn(binary, ["-d", "-c", join(dir, "tinyproxy.conf")], { stdio: "ignore" });
  for (let i = 0; i < 100; i++) {
    const listening = await new Promise<boolean>((resolve) => {
      const socket = createConnection(port);
      socket.once("connect", () => (socket.destroy(), resolve(true)));
      socket.once("error", () => resolve(false));
    });
    if (listening) break;
    await new Promise((r) => setTimeout(r, 50));
  }
  return {
    url: `http://127.0.0.1:${port}`,
    log: () => {
      try {
        return readFileSync(logFile, "utf8");
      } catch {
        return "";
      }
    },
    stop: () =>
      new Promise<void>((resolve) => {
        if (child.exitCode !== null) return resolve();
        child.once("exit", () => resolve());
        child.kill("SIGTERM");
      }),
  };
}
