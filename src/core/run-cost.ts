/**
 * What a wrapped run cost, from what Linux offers in /proc (Node has no getrusage of children):
 * the arithmetic only; src/adapters/proc-usage.ts reads the files.
 */

/** Clock ticks per second of the times in /proc/PID/stat: USER_HZ, 100 on every Linux. */
export const USER_HZ = 100;

export interface ChildCpuTicks {
  /** cutime: user time of reaped children and the descendants they waited for, in clock ticks. */
  readonly userTicks: number;
  /** cstime: the same, system time. */
  readonly systemTicks: number;
}

export interface RunCost {
  readonly cpuUserSeconds: number;
  readonly cpuSystemSeconds: number;
  /** Peak resident memory of the job's process tree; undefined when nothing was measured. */
  readonly maxRssBytes: number | undefined;
}

/**
 * The fields of a /proc/PID/stat line after the process name, which sits in parentheses and may
 * itself hold spaces and parentheses: everything after the last `)` is the rest, field 3 first.
 */
function fieldsAfterName(statLine: string): string[] | undefined {
  const close = statLine.lastIndexOf(")");
  if (close < 0) return undefined;
  return statLine.slice(close + 1).trim().split(/\s+/);
}

/** Field N (1-based, as proc(5) numbers them) of a stat line; N ≥ 3. */
function statField(statLine: string, n: number): number | undefined {
  const value = fieldsAfterName(statLine)?.[n - 3];
  if (value === undefined || !/^-?\d+$/.test(value)) return undefined;
  return Number(value);
}

/** cutime and cstime (fields 16 and 17) of a /proc/self/stat line. */
export function parseChildCpuTicks(statLine: string): ChildCpuTicks | undefined {
  const userTicks = statField(statLine, 16);
  const systemTicks = statField(statLine, 17);
  if (userTicks === undefined || systemTicks === undefined) return undefined;
  return { userTicks, systemTicks };
}

/** The session id (field 6) of a /proc/PID/stat line. */
export function parseSessionId(statLine: string): number | undefined {
  return statField(statLine, 6);
}

/** The job's CPU: what the kernel added to the wrapper's children's times between the readings. */
export function cpuBetween(before: ChildCpuTicks, after: ChildCpuTicks, hz: number = USER_HZ): { user: number; system: number } {
  return {
    user: Math.max(0, after.userTicks - before.userTicks) / hz,
    system: Math.max(0, after.systemTicks - before.systemTicks) / hz,
  };
}

/** The run's cost; undefined when either CPU reading is missing (no /proc). */
export function runCost(before: ChildCpuTicks | undefined, after: ChildCpuTicks | undefined, maxRssBytes: number | undefined, hz: number = USER_HZ): RunCost | undefined {
  if (before === undefined || after === undefined) return undefined;
  const cpu = cpuBetween(before, after, hz);
  return { cpuUserSeconds: cpu.user, cpuSystemSeconds: cpu.system, maxRssBytes };
}

/** VmRSS and VmHWM of a /proc/PID/status text, in bytes (a kernel thread has neither). */
export function parseMemoryStatus(statusText: string): { rssBytes: number; hwmBytes: number } | undefined {
  const kb = (field: string): number | undefined => {
    const match = new RegExp(`^${field}:\\s+(\\d+)\\s+kB$`, "m").exec(statusText);
    return match ? Number(match[1]) * 1024 : undefined;
  };
  const rssBytes = kb("VmRSS");
  const hwmBytes = kb("VmHWM");
  if (rssBytes === undefined || hwmBytes === undefined) return undefined;
  return { rssBytes, hwmBytes };
}

/**
 * The peak resident memory of a process tree in one sample: the larger of the sum of the tree's
 * VmRSS and the highest VmHWM (its own peak) of any one process. The run's peak is the highest
 * over its samples. A sample of no process measured nothing (undefined).
 */
export function peakOfSample(sample: ReadonlyArray<{ rssBytes: number; hwmBytes: number }>): number | undefined {
  if (sample.length === 0) return undefined;
  let sum = 0;
  let hwm = 0;
  for (const process of sample) {
    sum += process.rssBytes;
    hwm = Math.max(hwm, process.hwmBytes);
  }
  return Math.max(sum, hwm);
}
