// npm run demo: build pushgw, start a throw-away Pushgateway on a free loopback port,
// push to it the way a user would, and show what the gateway now holds.
import { execFileSync, spawn, spawnSync } from "node:child_process";
import { accessSync, constants } from "node:fs";

const run = (args, input) => {
  console.log(`\n$ pushgw ${args.map((a) => (/[\s"{}]/.test(a) ? `'${a}'` : a)).join(" ")}`);
  const result = spawnSync(process.execPath, ["bin/pushgw", ...args], { input, stdio: [input ? "pipe" : "ignore", "inherit", "inherit"], env: process.env });
  console.log(`(exit ${result.status})`);
};

function findGateway() {
  for (const p of ["/usr/bin/prometheus-pushgateway", "/usr/local/bin/pushgateway", process.env.PUSHGATEWAY_BIN].filter(Boolean)) {
    try {
      accessSync(p, constants.X_OK);
      return p;
    } catch {
      // not there; try the next
    }
  }
  if (process.getuid?.() === 0) {
    console.log("Installing Debian's prometheus-pushgateway ...");
    execFileSync("sh", ["-c", "apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq prometheus-pushgateway"], { stdio: "inherit" });
    return "/usr/bin/prometheus-pushgateway";
  }
  throw new Error("No Pushgateway found: sudo apt-get install prometheus-pushgateway, or set PUSHGATEWAY_BIN");
}

execFileSync(process.execPath, ["scripts/build.mjs"], { stdio: "inherit" });
const gateway = spawn(findGateway(), ["--web.listen-address=127.0.0.1:0", "--persistence.file="], { stdio: ["ignore", "ignore", "pipe"] });
const port = await new Promise((resolve, reject) => {
  let log = "";
  gateway.stderr.on("data", (c) => {
    log += c;
    const m = /address=127\.0\.0\.1:(\d+)/.exec(log);
    if (m) resolve(m[1]);
  });
  gateway.on("exit", () => reject(new Error(log)));
});
process.env.PUSHGW_GATEWAY = `http://127.0.0.1:${port}`;
console.log(`Pushgateway running at ${process.env.PUSHGW_GATEWAY} (in memory; stopped at the end)`);
try {
  run(["add", "--job", "demo", "some_metric=3.14"]);
  run(["push", "--job", "demo_file", "--no-instance", "-l", "path=/var/tmp", "--file", "-"], "# HELP backup_size_bytes Size of the last backup.\n# TYPE backup_size_bytes gauge\nbackup_size_bytes 1.2e9\n");
  run(["add", "--job", "demo", "bad-name=1"]);
  run(["push", "--job", "demo", "--dry-run", "m=1"]);
  const metrics = await (await fetch(`${process.env.PUSHGW_GATEWAY}/metrics`)).text();
  console.log("\nWhat the gateway now exposes (its /metrics, pushed series only):");
  console.log(metrics.split("\n").filter((l) => /^(some_metric|backup_size_bytes|push_time_seconds)/.test(l)).join("\n"));
} finally {
  gateway.kill();
}
