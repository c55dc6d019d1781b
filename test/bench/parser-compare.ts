/**
 * npm run bench:parser [-- REF]: the parser in the working tree against the parser at REF
 * (default: main), side by side in one process, on the bench's file shapes. The two take
 * turns, run by run, so that other work on the machine hits both alike; each row is the
 * fastest run of each (in process, other work only ever adds time), over several passes.
 */
import { cpus, loadavg } from "node:os";
import { SHAPES } from "./shapes.js";

interface ParserModule {
  readonly parseExposition: (input: string, source: { name: string }, options?: { groupingLabels?: ReadonlyMap<string, string> }) => unknown;
  readonly decodeUtf8: (bytes: Uint8Array, source: { name: string }) => string;
}

const [refPath, treePath, refName = "REF"] = process.argv.slice(2);
if (refPath === undefined || treePath === undefined) throw new Error("usage: parser-compare REF_MODULE TREE_MODULE [REF_NAME]");
const ref = (await import(refPath)) as ParserModule;
const tree = (await import(treePath)) as ParserModule;
const RUNS = Number(process.env["BENCH_RUNS"] ?? 12);
const PASSES = Number(process.env["BENCH_PASSES"] ?? 3);
const options = { groupingLabels: new Map([["job", "bench-big"]]) };

const loadAtStart = loadavg()[0]!;
const inputs = SHAPES.map((shape) => ({ name: shape.name, bytes: Buffer.from(shape.make(100_000)) }));

function timeOnce(parser: ParserModule, bytes: Uint8Array): number {
  const started = performance.now();
  parser.parseExposition(parser.decodeUtf8(bytes, { name: "bench" }), { name: "bench" }, options);
  return performance.now() - started;
}

const mbs = (bytes: number, ms: number) => bytes / 1e6 / (ms / 1000);
for (let pass = 1; pass <= PASSES; pass++) {
  const lines = [`pass ${pass} of ${PASSES}`, `| shape (100,000 series) | size | ${refName} | working tree | tree / ${refName} |`, "| --- | --- | --- | --- | --- |"];
  for (const { name, bytes } of inputs) {
    const times = { ref: [] as number[], tree: [] as number[] };
    // Two warm-up runs each, then turns: ref, tree, tree, ref, … (neither always goes first).
    for (let i = 0; i < 2; i++) (timeOnce(ref, bytes), timeOnce(tree, bytes));
    for (let i = 0; i < RUNS; i++) {
      if (i % 2 === 0) (times.ref.push(timeOnce(ref, bytes)), times.tree.push(timeOnce(tree, bytes)));
      else (times.tree.push(timeOnce(tree, bytes)), times.ref.push(timeOnce(ref, bytes)));
    }
    const a = Math.min(...times.ref);
    const b = Math.min(...times.tree);
    lines.push(`| ${name} | ${(bytes.length / 1e6).toFixed(1)} MB | ${a.toFixed(1)} ms, ${mbs(bytes.length, a).toFixed(0)} MB/s | ${b.toFixed(1)} ms, ${mbs(bytes.length, b).toFixed(0)} MB/s | ${(b / a).toFixed(3)} |`);
  }
  console.log(`${lines.join("\n")}\n`);
}
console.log(`Machine: ${cpus().length} × ${cpus()[0]?.model.trim() ?? "cpu"}, Node ${process.version}, fastest of ${RUNS} alternating runs per side, load average ${loadAtStart.toFixed(1)} at the start and ${loadavg()[0]!.toFixed(1)} at the end.`);
