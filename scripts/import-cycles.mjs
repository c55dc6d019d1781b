// The lint rule `pushgw/no-import-cycle` (eslint.config.js): no module of src/ may reach itself
// through its imports, type-only ones included (eslint-plugin-import-x's no-cycle skips those,
// and every cycle src/ had was one). A cycle means two modules that are really one, or a type
// that lives in the wrong one: move it where both can import it.
import { readdirSync, readFileSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";

/** The relative modules a file's text imports: `import … from`, `export … from`, `import("…")`, type-only ones too. */
export function importsOf(text) {
  const found = [];
  const pattern = /(?:^|[\s;])(?:import|export)\s[^;]*?\sfrom\s+["'](\.[^"']+)["']|(?:^|[\s;])import\s+["'](\.[^"']+)["']|\bimport\(\s*["'](\.[^"']+)["']\s*\)/gm;
  for (const match of text.matchAll(pattern)) found.push(match[1] ?? match[2] ?? match[3]);
  return found;
}

/** Every cycle of `graph` (file → files it imports), as its strongly connected components of more than one file, or a file importing itself. */
export function findCycles(graph) {
  let index = 0;
  const indexOf = new Map();
  const low = new Map();
  const stack = [];
  const onStack = new Set();
  const cycles = [];
  const visit = (file) => {
    indexOf.set(file, index);
    low.set(file, index++);
    stack.push(file);
    onStack.add(file);
    for (const next of graph.get(file) ?? []) {
      if (!graph.has(next)) continue;
      if (!indexOf.has(next)) {
        visit(next);
        low.set(file, Math.min(low.get(file), low.get(next)));
      } else if (onStack.has(next)) low.set(file, Math.min(low.get(file), indexOf.get(next)));
    }
    if (low.get(file) !== indexOf.get(file)) return;
    const component = [];
    let member;
    do {
      member = stack.pop();
      onStack.delete(member);
      component.push(member);
    } while (member !== file);
    if (component.length > 1 || (graph.get(file) ?? []).includes(file)) cycles.push(component.reverse());
  };
  for (const file of graph.keys()) if (!indexOf.has(file)) visit(file);
  return cycles;
}

/** One way round the cycle `component` from `file` back to it: [file, …, file]. */
export function pathRound(graph, component, file) {
  const members = new Set(component);
  const cameFrom = new Map([[file, undefined]]);
  const queue = [file];
  while (queue.length > 0) {
    const at = queue.shift();
    for (const next of graph.get(at) ?? []) {
      if (!members.has(next)) continue;
      if (next === file) {
        const path = [file];
        for (let step = at; step !== undefined && step !== file; step = cameFrom.get(step)) path.splice(1, 0, step);
        return [...path, file];
      }
      if (!cameFrom.has(next)) {
        cameFrom.set(next, at);
        queue.push(next);
      }
    }
  }
  return [file, file];
}

/** The import graph of the .ts files below `dir`: `./x.js` is `./x.ts`, as TypeScript resolves it. */
export function importGraph(dir) {
  const files = readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((entry) => entry.isFile() && entry.name.endsWith(".ts") && !entry.name.endsWith(".d.ts"))
    .map((entry) => join(entry.parentPath, entry.name));
  const graph = new Map();
  for (const file of files) {
    const targets = importsOf(readFileSync(file, "utf8")).map((spec) => resolve(dirname(file), spec.replace(/\.js$/, ".ts")));
    graph.set(file, targets);
  }
  return graph;
}

let cached;
/** Built once per lint run (a run sees one state of the tree). */
function cyclesBelow(dir) {
  if (cached?.dir !== dir) {
    const graph = importGraph(dir);
    cached = { dir, graph, cycles: findCycles(graph) };
  }
  return cached;
}

export const noImportCycle = {
  meta: {
    type: "problem",
    docs: { description: "no import cycles in src/, type-only imports included" },
    schema: [{ type: "object", properties: { root: { type: "string" } }, additionalProperties: false }],
  },
  create(context) {
    const root = resolve(context.cwd, context.options[0]?.root ?? "src");
    return {
      Program(node) {
        const file = context.filename;
        const { graph, cycles } = cyclesBelow(root);
        const component = cycles.find((c) => c.includes(file));
        if (component === undefined) return;
        const path = pathRound(graph, component, file);
        const next = path[1];
        // Reported at the import that starts the way round, where the fix usually is.
        const declaration = node.body.find(
          (statement) => (statement.type === "ImportDeclaration" || statement.type === "ExportNamedDeclaration" || statement.type === "ExportAllDeclaration") && statement.source && resolve(dirname(file), String(statement.source.value).replace(/\.js$/, ".ts")) === next,
        );
        context.report({
          node: declaration ?? node,
          message: `import cycle: ${path.map((f) => relative(root, f)).join(" -> ")}; move what both need (a type, most often) where both can import it`,
        });
      },
    };
  },
};
