import { execFileSync } from "node:child_process";
import { ensurePushgatewayBinary } from "./helpers/pushgateway.js";

/** Builds the bundle the behaviour tests run, and makes sure the real gateway is there. */
export default function setup(): void {
  execFileSync(process.execPath, ["scripts/build.mjs"], { stdio: "inherit" });
  ensurePushgatewayBinary();
}
