import type { Group } from "../../src/core/groups.js";

/** A group as core/groups.ts decodes one, every field empty unless `rest` sets it: for table tests of list, prune and doctor. */
export function aGroup(labels: Record<string, string>, rest: Partial<Group> = {}): Group {
  return {
    labels,
    lastPushTime: null,
    lastFailureTime: null,
    lastPushSuccessful: true,
    metrics: [],
    expectedWithinSeconds: null,
    lastJobSuccessTime: null,
    running: false,
    lastJobStartTime: null,
    maxRuntimeSeconds: null,
    lastExitCode: null,
    lastCompletionTime: null,
    lastSkippedTime: null,
    lastCpuUserSeconds: null,
    lastCpuSystemSeconds: null,
    lastMaxRssBytes: null,
    families: {},
    ...rest,
  };
}
