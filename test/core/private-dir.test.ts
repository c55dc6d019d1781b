import { describe, expect, it } from "vitest";
import { cacheHome, privateChainProblem, privateDirectoryCandidates, socketOwnerProblem } from "../../src/core/private-dir.js";
import type { DirectoryFacts } from "../../src/core/spool.js";

describe("where pushgw keeps what no other user may touch", () => {
  const dirs = (env: Record<string, string>, uid: number, purpose: "locks" | "run") => privateDirectoryCandidates(env, uid, purpose).map(({ dir, madeBelow }) => (madeBelow === undefined ? dir : `${dir} (made below ${madeBelow})`));
  it.each([
    ["XDG_RUNTIME_DIR first", { XDG_RUNTIME_DIR: "/run/user/1000", HOME: "/home/al" }, 1000, "locks", ["/run/user/1000", "/home/al/.cache/pushgw/locks (made below /home/al)"]],
    ["root, as under cron: /run/pushgw", { HOME: "/root" }, 0, "run", ["/run/pushgw (made below /run)", "/root/.cache/pushgw/run (made below /root)"]],
    ["root with a runtime directory: that one, /run/pushgw does not stand in for it", { XDG_RUNTIME_DIR: "/run/user/0", HOME: "/root" }, 0, "run", ["/run/user/0", "/root/.cache/pushgw/run (made below /root)"]],
    ["another user under cron: the cache directory", { HOME: "/home/al" }, 1000, "run", ["/home/al/.cache/pushgw/run (made below /home/al)"]],
    ["XDG_CACHE_HOME before HOME", { HOME: "/home/al", XDG_CACHE_HOME: "/var/cache/al" }, 1000, "locks", ["/var/cache/al/pushgw/locks (made below /var/cache)"]],
    ["a service account with HOME=/nonexistent: made only if /nonexistent exists", { HOME: "/nonexistent" }, 998, "locks", ["/nonexistent/.cache/pushgw/locks (made below /nonexistent)"]],
    ["relative variables are ignored: nothing at all, never the temp dir", { XDG_RUNTIME_DIR: "run", HOME: "home", XDG_CACHE_HOME: "c" }, 1000, "locks", []],
    ["nothing set: nothing", {}, 1000, "run", []],
  ] as const)("%s", (_, env, uid, purpose, expected) => {
    expect(dirs(env, uid, purpose)).toEqual(expected);
  });

  it("never a shared directory, for any user", () => {
    for (const uid of [0, 1000]) {
      for (const purpose of ["locks", "run"] as const) {
        const found = dirs({ HOME: "/home/al", XDG_RUNTIME_DIR: "/run/user/1000" }, uid, purpose);
        expect(found.filter((dir) => /^\/(tmp|var\/tmp|run\/lock|dev\/shm)\b/.test(dir))).toEqual([]);
      }
    }
  });

  it.each([
    ["XDG_CACHE_HOME", { XDG_CACHE_HOME: "/c", HOME: "/h" }, "/c"],
    ["HOME's .cache", { HOME: "/h/" }, "/h/.cache"],
    ["none", { HOME: "relative" }, undefined],
  ] as const)("the cache home: %s", (_, env, expected) => {
    expect(cacheHome(env)).toBe(expected);
  });
});

describe("a directory chain is private as ssh judges it (the directory first, then each parent up to /)", () => {
  const dir = (path: string, uid: number, mode: number, kind: "dir" | "link" | "file" = "dir"): DirectoryFacts => ({ path, isDirectory: kind === "dir", isSymbolicLink: kind === "link", uid, mode });
  const root = dir("/", 0, 0o755);
  it.each([
    ["root's /run/pushgw", [dir("/run/pushgw", 0, 0o700), dir("/run", 0, 0o755), root], 0, undefined],
    ["a user's runtime directory", [dir("/run/user/1000", 1000, 0o700), dir("/run/user", 0, 0o755), dir("/run", 0, 0o755), root], 1000, undefined],
    ["a user's cache, readable by all", [dir("/home/al/.cache/pushgw", 1000, 0o755), dir("/home/al/.cache", 1000, 0o755), dir("/home/al", 1000, 0o750), dir("/home", 0, 0o755), root], 1000, undefined],
    ["a private directory of root's below /tmp (sticky): nobody can rename it", [dir("/tmp/t", 0, 0o700), dir("/tmp", 0, 0o1777), root], 0, undefined],
    ["a root-owned directory used by another user (root is trusted)", [dir("/srv/x", 0, 0o755), root], 1000, undefined],
    ["/tmp itself: anyone can create a name", [dir("/tmp", 0, 0o1777), root], 0, "/tmp is writable by others (mode 1777)"],
    ["group-writable", [dir("/srv/x", 0, 0o770), root], 0, "/srv/x is writable by its group (mode 0770)"],
    ["another user's", [dir("/tmp/a", 64001, 0o700), dir("/tmp", 0, 0o1777), root], 0, "/tmp/a belongs to uid 64001, neither root nor uid 0"],
    ["below another user's directory", [dir("/tmp/a/cache", 0, 0o700), dir("/tmp/a", 64001, 0o755), dir("/tmp", 0, 0o1777), root], 0, "its parent /tmp/a belongs to uid 64001, neither root nor uid 0"],
    ["below a directory others may write without the sticky bit", [dir("/srv/drop/x", 0, 0o700), dir("/srv/drop", 0, 0o777), root], 0, "its parent /srv/drop is writable by others without the sticky bit (mode 0777)"],
    ["below a group-writable directory without the sticky bit", [dir("/srv/g/x", 0, 0o700), dir("/srv/g", 0, 0o775), root], 0, "its parent /srv/g is writable by its group without the sticky bit (mode 0775)"],
    ["a symbolic link", [dir("/run/x", 0, 0o777, "link"), root], 0, "/run/x is a symbolic link"],
    ["a file", [dir("/run/x", 0, 0o600, "file"), root], 0, "/run/x is not a directory"],
  ] as const)("%s", (_, chain, uid, expected) => {
    expect(privateChainProblem(chain, uid)).toBe(expected);
  });

  it.each([
    ["its own", { path: "/r/s", isSocket: true, uid: 1000 }, 1000, undefined],
    ["root's", { path: "/r/s", isSocket: true, uid: 0 }, 1000, undefined],
    ["another user's", { path: "/r/s", isSocket: true, uid: 64001 }, 0, "/r/s belongs to uid 64001, neither root nor uid 0"],
    ["not a socket", { path: "/r/s", isSocket: false, uid: 0 }, 0, "/r/s is not a socket"],
  ] as const)("a wrapper's socket: %s", (_, facts, uid, expected) => {
    expect(socketOwnerProblem(facts, uid)).toBe(expected);
  });
});
