import { dirname, join } from "node:path";
import { cacheHome } from "../core/private-dir.js";
import { currentUid, ensurePrivateDirectory } from "./private-dir.js";

// Bundled into the launcher (v8-code-cache.ts), which asks it before anything else is loaded,
// and a small file compiles fast.

/**
 * `$XDG_CACHE_HOME/pushgw`, else `$HOME/.cache/pushgw`; none when neither is an absolute path
 * (cron on some systems runs without HOME: then there is simply no cache).
 */
export function cacheDirectory(env: NodeJS.ProcessEnv): string | undefined {
  const home = cacheHome(env);
  return home === undefined ? undefined : join(home, "pushgw");
}

/**
 * The code cache's directory, made if need be (mode 0700), when code may be read from it: it and
 * every directory above it, up to /, are the user's or root's and writable by nobody else (a
 * world-writable one only with the sticky bit), as core/private-dir.ts judges. Anyone who could
 * replace it, or anything above it, could plant compiled code that this user (often root) would
 * run. Undefined when it may not: then there is no cache. Nothing is made in a directory that
 * fails the check. The launcher (v8-code-cache.ts) asks it for its code caches.
 */
export function privateCacheDirectory(env: NodeJS.ProcessEnv): string | undefined {
  const directory = cacheDirectory(env);
  if (directory === undefined) return undefined;
  // Made below the cache home's parent (HOME for ~/.cache), which must exist.
  const found = ensurePrivateDirectory(directory, dirname(dirname(directory)), currentUid());
  return "dir" in found ? found.dir : undefined;
}
