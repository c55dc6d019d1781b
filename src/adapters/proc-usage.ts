import { readdirSync, readFileSync } from "node:fs";
import { parseChildCpuTicks, parseMemoryStatus, parseSessionId, peakOfSample, type ChildCpuTicks } from "../core/run-cost.js";

/**
 * Milliseconds on a monotonic clock, for the job runner. Not performance.now(), whose first use
 * loads perf_hooks (nine modules), and not adapters/system-clock.ts: a module that both the main
 * bundle and the runner's chunk import becomes a chunk of its own, one more file every run reads.
 */
export function monotonicMs(): number {
  return Number(process.hrtime.bigint()) / 1e6;
}

/** How often the job's process tree is sampled for its resident memory, at most. */
export const RSS_SAMPLE_INTERVAL_MS = 1_000;
/** The pause after a sample is at least this many times as long as the sample took. */
const SLOWDOWN = 50;

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
  stop(): number | undefined;
}

/**
 * Samples the resident memory of the job at once, and of every process in its session (the job
 * leads its own, so its session id is its pid) every RSS_SAMPLE_INTERVAL_MS after, reading only
 * /proc: the job is never touched. The timer keeps no process alive. The reads are synchronous:
 * about 17 µs of CPU a process (1.5 ms a sample with 92 processes), seven times less than
 * fs/promises, and short enough not to hold up the output passing through.
 *
 * The first sample, taken as the job has just been started, reads the job's own process only:
 * its session can hardly hold more yet, and a scan of all of /proc there would hold up the
 * start push (1.5–2.7 ms here, far more on a machine with thousands of processes).
 */
export function startRssSampler(sessionId: number): RssSampler {
  let peak: number | undefined;
  let stopped = false;
  let timer: NodeJS.Timeout | undefined;
  const tick = (wholeSession: boolean): void => {
    const began = monotonicMs();
    try {
      const measured = peakOfSample(wholeSession ? sessionMemory(sessionId) : processMemory(sessionId));
      if (measured !== undefined) peak = Math.max(peak ?? 0, measured);
    } catch {
      // No /proc to read: nothing measured.
    }
    if (stopped) return;
    // A machine with many processes (another user may start 50,000) makes a scan slow: wait
    // 50 times as long as it took, so that sampling never takes more than 2% of the wrapper's time.
    timer = setTimeout(() => tick(true), Math.max(RSS_SAMPLE_INTERVAL_MS, (monotonicMs() - began) * SLOWDOWN));
    timer.unref();
  };
  tick(false);
  return {
    stop: () => {
      stopped = true;
      clearTimeout(timer);
      return peak;
    },
  };
}

/**
 * VmRSS and VmHWM of one process, as a sample of its own. The job cannot have been reaped yet
 * (Node reaps it in a later turn of the event loop), so its pid is still its own.
 */
function processMemory(pid: number): Array<{ rssBytes: number; hwmBytes: number }> {
  try {
    const memory = parseMemoryStatus(readFileSync(`/proc/${pid}/status`, "utf8"));
    return memory ? [memory] : [];
  } catch {
    return [];
  }
}

/** VmRSS and VmHWM of each live process in the session; a process gone meanwhile is left out. */
function sessionMemory(sessionId: number): Array<{ rssBytes: number; hwmBytes: number }> {
  const found: Array<{ rssBytes: number; hwmBytes: number }> = [];
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      if (parseSessionId(readFileSync(`/proc/${entry}/stat`, "utf8")) !== sessionId) continue;
      const memory = parseMemoryStatus(readFileSync(`/proc/${entry}/status`, "utf8"));
      if (memory) found.push(memory);
    } catch {
      // The process ended between the listing and the read.
    }
  }
  return found;
}
