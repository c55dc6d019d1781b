import { setTimeout as sleep } from "node:timers/promises";
import type { Clock } from "../app/ports.js";

export const systemClock: Clock = {
  now: () => Date.now(),
  // Not performance.now(): its first use loads perf_hooks (nine modules) into every run.
  monotonic: () => Number(process.hrtime.bigint()) / 1e6,
  sleep: async (ms) => {
    await sleep(ms);
  },
};
