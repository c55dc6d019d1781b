import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
// @ts-expect-error: a plain .mjs script, used by eslint.config.js, with no type declarations
import { findCycles, importGraph, importsOf, pathRound } from "../../scripts/import-cycles.mjs";

// The lint rule pushgw/no-import-cycle (scripts/import-cycles.mjs): what it reads, and what it finds.
describe("importsOf", () => {
  it.each([
    ['import { a } from "./a.js";', ["./a.js"]],
    ['import type { A } from "../a.js";', ["../a.js"]],
    ['import {\n  a,\n  type B,\n} from "./multi.js";', ["./multi.js"]],
    ['export type { A } from "./a.js";\nexport { b } from "./b.js";\nexport * from "./c.js";', ["./a.js", "./b.js", "./c.js"]],
    ['const m = await import("./lazy.js");', ["./lazy.js"]],
    ['import "./side-effect.js";', ["./side-effect.js"]],
    ['import { z } from "zod";\nimport fs from "node:fs";', []],
    ['const text = "this came from somewhere";', []],
  ])("%j", (text, expected) => {
    expect(importsOf(text)).toEqual(expected);
  });
});

describe("findCycles", () => {
  const graph = (edges: Record<string, string[]>) => new Map(Object.entries(edges));
  it.each([
    ["none", { a: ["b"], b: ["c"], c: [] }, []],
    ["two modules", { a: ["b"], b: ["a"], c: ["a"] }, [["a", "b"]]],
    ["a module importing itself", { a: ["a"] }, [["a"]]],
    ["three, with a way in", { x: ["a"], a: ["b"], b: ["c"], c: ["a"] }, [["a", "b", "c"]]],
    ["two apart", { a: ["b"], b: ["a"], c: ["d"], d: ["c"] }, [["a", "b"], ["c", "d"]]],
    ["an import of a file outside the graph", { a: ["elsewhere"] }, []],
  ])("%s", (_, edges, expected) => {
    const found = findCycles(graph(edges)).map((c: string[]) => [...c].sort());
    expect(found.sort()).toEqual(expected);
  });

  it("names a way round from the file it reports", () => {
    const edges = graph({ a: ["b", "x"], b: ["c"], c: ["a"], x: [] });
    expect(pathRound(edges, ["a", "b", "c"], "b")).toEqual(["b", "c", "a", "b"]);
  });

  it("src/ has none", () => {
    const cycles = findCycles(importGraph(fileURLToPath(new URL("../../src", import.meta.url))));
    expect(cycles).toEqual([]);
  });
});
