import { readFileSync } from "node:fs";
import { readdir, readFile } from "node:fs/promises";
import { parseChildCpuTicks, parseMemoryStatus, parseSessionId, peakOfSample, type ChildCpuTicks } from "../core/run-cost.js";

/** How often the job's process tree is sampled for its resident memory. */
export const RSS_SAMPLE_INTERVAL_MS = 1_000;

/**
 * cutime and cstime of the wrapper itself: the CPU of every child it has reaped and of the
 * descendants those waited for. Undefined without /proc.
 */
export function readChildCpuTicks(): ChildCpuTicks | undefined {
  try {
    return parseChildCpuTicks(readFileSync("/proc/self/stat", "utf8"));
  } catch {
    return undefined;
  }
}

export interface RssSampler {
  /** Stops sampling; the highest peak seen, undefined when no process was ever measured. */
  stop(): Promise<number | undefined>;
}

/**
 * Samples the resident memory of every process in the job's session (the job leads its own,
 * so its session id is its pid) at once and then every RSS_SAMPLE_INTERVAL_MS, reading only
 * /proc: the job is never touched. One sample at a time; the timer keeps no process alive.
 */
export function startRssSampler(sessionId: number): RssSampler {
  let peak: number | undefined;
  let stopped = false;
  let timer: NodeJS.Timeout | undefined;
  let running: Promise<void> = Promise.resolve();
  const sampleOnce = async (): Promise<void> => {
    const measured = peakOfSample(await sessionMemory(sessionId));
    if (measured !== undefined) peak = Math.max(peak ?? 0, measured);
  };
  const tick = (): void => {
    running = sampleOnce()
      .catch(() => undefined)
      .finally(() => {
        if (stopped) return;
        timer = setTimeout(tick, RSS_SAMPLE_INTERVAL_MS);
        timer.unref();
      });
  };
  tick();
  return {
    stop: async () => {
      stopped = true;
      clearTimeout(timer);
      await running;
      return peak;
    },
  };
}

/** VmRSS and VmHWM of each live process in the session; a process gone meanwhile is left out. */
async function sessionMemory(sessionId: number): Promise<Array<{ rssBytes: number; hwmBytes: number }>> {
  const found: Array<{ rssBytes: number; hwmBytes: number }> = [];
  for (const entry of await readdir("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      if (parseSessionId(await readFile(`/proc/${entry}/stat`, "utf8")) !== sessionId) continue;
      const memory = parseMemoryStatus(await readFile(`/proc/${entry}/status`, "utf8"));
      if (memory) found.push(memory);
    } catch {
      // The process ended between the listing and the read.
    }
  }
  return found;
}
