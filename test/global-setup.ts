import { execFileSync } from "node:child_process";
import { ensurePushgatewayBinary } from "./helpers/pushgateway.js";
import { TODAYS_STACK_ENV, todaysStack } from "./helpers/todays-stack.js";

/**
 * Builds the bundle the behaviour tests run, and makes sure the real binaries are there: the
 * gateway, and the newest stack, whose first fetch (a download) must not be paid inside one
 * test's time limit.
 */
export default function setup(): void {
  execFileSync(process.execPath, ["scripts/build.mjs"], { stdio: "inherit" });
  ensurePushgatewayBinary();
  // Set before the workers start, which inherit it.
  process.env[TODAYS_STACK_ENV] = JSON.stringify(todaysStack());
}
