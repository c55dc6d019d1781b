import { describe, expect, it } from "vitest";
import { flockSeconds, lockDirectoryProblem, lockFileProblem, parseSkipCount, type FileFacts } from "../../src/core/lock.js";
import { lockFileName } from "../../src/core/lock-name.js";

describe("the default lock file", () => {
  it.each([
    ["job and values, readable", { job: "backup", labels: [["instance", "db-1"]] as const }, 1000, /^pushgw-1000-backup-db-1-[0-9a-f]{12}\.lock$/],
    ["odd characters replaced", { job: "a/b c", labels: [] }, 0, /^pushgw-0-a_b_c-[0-9a-f]{12}\.lock$/],
    ["no leading dot", { job: ".hidden", labels: [] }, 0, /^pushgw-0-_hidden-/],
    ["a long key is cut", { job: "x".repeat(500), labels: [] }, 0, /^pushgw-0-x{80}-[0-9a-f]{12}\.lock$/],
  ])("%s", (_, key, uid, name) => {
    expect(lockFileName(key, uid)).toMatch(name);
  });

  it("one name per group: label order does not matter, every value does", () => {
    const name = (job: string, labels: Array<[string, string]>) => lockFileName({ job, labels }, 0);
    expect(name("j", [["a", "1"], ["b", "2"]])).toBe(name("j", [["b", "2"], ["a", "1"]]));
    // Readable parts alike, groups different: the hash tells them apart.
    expect(name("a/b", [])).not.toBe(name("a_b", []));
    expect(name("j", [["a", "1"]])).not.toBe(name("j", [["b", "1"]]));
    expect(lockFileName({ job: "j", labels: [] }, 0)).not.toBe(lockFileName({ job: "j", labels: [] }, 1));
  });
});

const facts = (over: Partial<FileFacts>): FileFacts => ({ path: "/x", isDirectory: false, isFile: true, isSymbolicLink: false, uid: 1000, mode: 0o100600, links: 1, ...over });

describe("what a lock may live in", () => {
  const dir = (over: Partial<FileFacts>) => facts({ isDirectory: true, isFile: false, mode: 0o40755, ...over });
  it.each([
    ["the user's own directory", dir({}), undefined],
    ["root's", dir({ uid: 0 }), undefined],
    ["/tmp: others may write, sticky", dir({ uid: 0, mode: 0o41777 }), undefined],
    ["others may write, not sticky", dir({ uid: 0, mode: 0o40777 }), /writable by others without the sticky bit \(mode 0777\)/],
    ["another user's", dir({ uid: 1001 }), /belongs to uid 1001, neither root nor uid 1000/],
    ["a file", facts({}), /is not a directory/],
  ])("%s", (_, given, problem) => {
    const found = lockDirectoryProblem(given, 1000);
    if (problem === undefined) expect(found).toBeUndefined();
    else expect(found?.problem).toMatch(problem);
  });

  it.each([
    ["the user's regular file", facts({}), undefined],
    ["a symbolic link", facts({ isSymbolicLink: true, isFile: false }), /is a symbolic link/],
    ["a FIFO", facts({ isFile: false }), /is not a regular file/],
    ["another user's", facts({ uid: 0 }), /belongs to uid 0, not to uid 1000/],
    ["a second hard link", facts({ links: 2 }), /has 2 names/],
  ])("lock file: %s", (_, given, problem) => {
    const found = lockFileProblem(given, 1000);
    if (problem === undefined) expect(found).toBeUndefined();
    else expect(found?.problem).toMatch(problem);
  });
});

describe("the skip count and flock's -w", () => {
  it.each([
    ["", 0],
    ["12\n", 12],
    ["  7 ", 7],
    ["garbage", 0],
    ["-3", 0],
    ["1".repeat(20), 0],
  ])("parseSkipCount(%j) = %d", (text, count) => {
    expect(parseSkipCount(text)).toBe(count);
  });
  it.each([
    [500, "0.5"],
    [30_000, "30"],
    [1, "0.001"],
  ])("flockSeconds(%d) = %s", (ms, text) => {
    expect(flockSeconds(ms)).toBe(text);
  });
});
