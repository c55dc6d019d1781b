// npm run bench: builds pushgw, bundles the benchmark (TypeScript) and runs it.
import { execFileSync } from "node:child_process";
import { build } from "esbuild";

execFileSync(process.execPath, ["scripts/build.mjs"], { stdio: "inherit" });
execFileSync(process.execPath, ["scripts/standalone.mjs", "x64"], { stdio: "inherit" });
await build({
  entryPoints: ["test/bench/bench.ts"],
  outfile: ".bench/bench.mjs",
  bundle: true,
  format: "esm",
  platform: "node",
  target: "node20",
  logLevel: "warning",
});
execFileSync(process.execPath, [".bench/bench.mjs"], { stdio: "inherit" });
