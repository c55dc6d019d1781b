import { createHash } from "node:crypto";
import type { GroupingKey } from "./grouping-key.js";

// Apart from core/lock.ts, which wrap loads at start-up: only the lock adapter, loaded by runs
// with --lock, needs a hash (and node:crypto, which the other commands never load).

/**
 * `pushgw-<uid>-<job and values>-<hash>.lock`: readable, unique per grouping key (the hash is of
 * the exact key, label order aside, as the gateway sees it), and per user, so that two users'
 * jobs of the same name never take the same lock.
 */
export function lockFileName(key: GroupingKey, uid: number | undefined): string {
  const labels = [...key.labels].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  const exact = JSON.stringify([key.job, labels]);
  const readable = [key.job, ...labels.map(([, value]) => value)]
    .join("-")
    .replace(/[^A-Za-z0-9._-]+/g, "_")
    .replace(/^[.]/, "_")
    .slice(0, 80);
  const hash = createHash("sha256").update(exact).digest("hex").slice(0, 12);
  return `pushgw-${uid ?? "u"}-${readable}-${hash}.lock`;
}
