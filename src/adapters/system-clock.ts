import { setTimeout as sleep } from "node:timers/promises";
import type { Clock } from "../app/ports.js";

export const systemClock: Clock = {
  now: () => Date.now(),
  monotonic: () => performance.now(),
  sleep: async (ms) => {
    await sleep(ms);
  },
};
