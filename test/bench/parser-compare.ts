/**
 * npm run bench:parser [-- REF]: the parser in the working tree against the parser at REF
 * (default: main), side by side in one process, on the bench's file shapes. The two take
 * turns, run by run, so that other work on the machine hits both alike; each row is the
 * fastest run of each in CPU time (in process, other work only ever adds time), over several
 * passes.
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
// BENCH_SHAPE=histo: only the shapes whose name holds that text.
const inputs = SHAPES.filter((shape) => shape.name.includes(process.env["BENCH_SHAPE"] ?? "")).map((shape) => ({ name: shape.name, bytes: Buffer.from(shape.make(100_000)) }));

/**
 * The CPU time of one parse, in ms (all of the process's threads, the collector's included):
 * on a busy machine the wall clock also counts the time spent waiting for a core.
 */
function timeOnce(parser: ParserModule, bytes: Uint8Array): number {
  const started = process.cpuUsage();
  parser.parseExposition(parser.decodeUtf8(bytes, { name: "bench" }), { name: "bench" }, options);
  const used = process.cpuUsage(started);
  return (used.user + used.system) / 1000;
}

const mbs = (bytes: number, ms: number) => bytes / 1e6 / (ms / 1000);
for (let pass = 1; pass <= PASSES; pass++) {
  const lines = [`pass ${pass} of ${PASSES}`, `| shape (100,000 series) | size | ${refName} | working tree | tree / ${refName} |`, "| --- | --- | --- | --- | --- |"];
  for (const { name, bytes } of inputs) {
    const times = { ref: [] as number[], tree: [] as number[] };
    // Two warm-up runs each, then turns: ref, tree, tree, ref, … (neither always goes first).
    for (let i = 0; i < 2; i++) {
      timeOnce(ref, bytes);
      timeOnce(tree, bytes);
    }
    for (let i = 0; i < RUNS; i++) {
      if (i % 2 === 0) {
        times.ref.push(timeOnce(ref, bytes));
        times.tree.push(timeOnce(tree, bytes));
      } else {
        times.tree.push(timeOnce(tree, bytes));
        times.ref.push(timeOnce(ref, bytes));
      }
    }
    const a = Math.min(...times.ref);
    const b = Math.min(...times.tree);
    lines.push(`| ${name} | ${(bytes.length / 1e6).toFixed(1)} MB | ${a.toFixed(1)} ms, ${mbs(bytes.length, a).toFixed(0)} MB/s | ${b.toFixed(1)} ms, ${mbs(bytes.length, b).toFixed(0)} MB/s | ${(b / a).toFixed(3)} |`);
  }
  console.log(`${lines.join("\n")}\n`);
}
console.log(`Machine: ${cpus().length} × ${cpus()[0]?.model.trim() ?? "cpu"}, Node ${process.version}, CPU time, fastest of ${RUNS} alternating runs per side, load average ${loadAtStart.toFixed(1)} at the start and ${loadavg()[0]!.toFixed(1)} at the end.`);
