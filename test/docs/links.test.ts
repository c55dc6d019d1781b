import { existsSync, readdirSync, readFileSync } from "node:fs";
import { dirname, join, relative } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";

/**
 * Every relative link and anchor in README.md and docs/*.md resolves: the README was cut into
 * pages under docs/, and a section moved again must not leave a link pointing at nothing.
 * Reads files only; starts no process.
 */
const root = fileURLToPath(new URL("../../", import.meta.url));
const fixture = fileURLToPath(new URL("../fixtures/docs-links/", import.meta.url));

/** Markdown without fenced code blocks and code spans, whose text is never a heading or a link. */
function prose(markdown: string): string {
  const lines: string[] = [];
  let fence: string | undefined;
  for (const line of markdown.split("\n")) {
    const marker = /^\s*(`{3,}|~{3,})/.exec(line)?.[1];
    if (fence !== undefined) {
      if (marker !== undefined && marker[0] === fence[0] && marker.length >= fence.length) fence = undefined;
      lines.push("");
    } else if (marker !== undefined) {
      fence = marker;
      lines.push("");
    } else {
      lines.push(line.replace(/(`+)(?:(?!\1)[\s\S])*?\1/g, ""));
    }
  }
  return lines.join("\n");
}

/** The anchors GitHub gives a file's headings: lower case, punctuation dropped, blanks to '-', repeats numbered. */
function anchorsOf(markdown: string): Set<string> {
  const anchors = new Set<string>();
  const seen = new Map<string, number>();
  // Code spans count as heading text here (their words are in the anchor), so read the raw lines outside fences.
  let inFence = false;
  for (const line of markdown.split("\n")) {
    if (/^\s*(`{3,}|~{3,})/.test(line)) inFence = !inFence;
    if (inFence) continue;
    const heading = /^#{1,6}\s+(.*?)\s*#*\s*$/.exec(line)?.[1];
    if (heading === undefined) continue;
    const text = heading.replace(/!?\[([^\]]*)\]\([^)]*\)/g, "$1");
    const base = text.toLowerCase().replace(/[^\p{L}\p{M}\p{N}\p{Pc} -]/gu, "").replace(/ /g, "-");
    const count = seen.get(base) ?? 0;
    seen.set(base, count + 1);
    anchors.add(count === 0 ? base : `${base}-${count}`);
  }
  return anchors;
}

/** The relative link targets in a file's prose: `[text](target)`, images too; no scheme, no `//`. */
function relativeLinks(markdown: string): string[] {
  const targets = [...prose(markdown).matchAll(/\]\(\s*<?([^)\s>]+)>?(?:\s+"[^"]*")?\s*\)/g)].map((m) => m[1]!);
  return targets.filter((target) => !/^[a-z][a-z0-9+.-]*:/i.test(target) && !target.startsWith("//"));
}

/** Each link in `files` (relative to `base`) that names a missing file or a heading its file lacks, as "file: target". */
function brokenLinks(base: string, files: readonly string[]): string[] {
  const broken: string[] = [];
  for (const file of files) {
    const path = join(base, file);
    for (const target of relativeLinks(readFileSync(path, "utf8"))) {
      const [pathPart = "", anchor] = target.split("#", 2);
      const linked = pathPart === "" ? path : join(dirname(path), decodeURIComponent(pathPart));
      if (!existsSync(linked)) {
        broken.push(`${file}: ${target}`);
      } else if (anchor !== undefined && (!linked.endsWith(".md") || !anchorsOf(readFileSync(linked, "utf8")).has(decodeURIComponent(anchor)))) {
        broken.push(`${file}: ${target}`);
      }
    }
  }
  return broken;
}

const markdownFiles = (base: string): string[] => [
  "README.md",
  ...readdirSync(join(base, "docs"))
    .filter((name) => name.endsWith(".md"))
    .sort()
    .map((name) => relative(base, join(base, "docs", name))),
];

describe("anchorsOf", () => {
  it.each([
    ["## `pushgw wrap [options] -- CMD [ARG..]`", "pushgw-wrap-options----cmd-arg"],
    ["### One run at a time: `--lock`", "one-run-at-a-time---lock"],
    ["## The spool: no push is lost", "the-spool-no-push-is-lost"],
    ["## Who may write the spool (threat model)", "who-may-write-the-spool-threat-model"],
    ["## Cron jobs on one machine: the textfile collector", "cron-jobs-on-one-machine-the-textfile-collector"],
    ["# Groups: `list`, `delete`, `delete --match`, `prune`", "groups-list-delete-delete---match-prune"],
    ["## snake_case and Ünïcode", "snake_case-and-ünïcode"],
    ["## [linked](https://example.com) words", "linked-words"],
  ])("%s → #%s", (heading, anchor) => {
    expect([...anchorsOf(`${heading}\n`)]).toEqual([anchor]);
  });

  it("numbers repeated headings and ignores '#' lines in code fences", () => {
    expect([...anchorsOf("# A\n\n```sh\n# A comment\n```\n\n## A\n\n## A\n")]).toEqual(["a", "a-1", "a-2"]);
  });
});

describe("brokenLinks", () => {
  it("finds exactly the broken links of the fixture, outside code, in tables too", () => {
    expect(brokenLinks(fixture, markdownFiles(fixture))).toEqual([
      "README.md: #no-such-heading",
      "README.md: docs/missing.md",
      "README.md: docs/page.md#nope",
      "README.md: #twice-2",
      "README.md: #not-a-heading",
      "README.md: docs/missing-in-table.md",
      "docs/page.md: ../README.md#gone",
      "docs/page.md: #page-1",
    ]);
  });
});

describe("README.md and docs/*.md", () => {
  it("have no broken relative link or anchor", () => {
    const files = markdownFiles(root);
    expect(files.length).toBeGreaterThan(1);
    expect(brokenLinks(root, files)).toEqual([]);
  });
});
