// npm run bench:parser [-- REF]: bundles the parser at REF (default: main) and the working tree's,
// then times both side by side in one process (test/bench/parser-compare.ts).
import { execFileSync } from "node:child_process";
import { mkdirSync, rmSync } from "node:fs";
import { build } from "esbuild";

const ref = process.argv[2] ?? "main";
const work = ".bench/parser";
rmSync(work, { recursive: true, force: true });
mkdirSync(`${work}/ref`, { recursive: true });
// The whole src/ of REF, so that the parser's own imports resolve as they did there.
execFileSync("sh", ["-c", `git archive "$1" src | tar -x -C "$2"`, "sh", ref, `${work}/ref`], { stdio: "inherit" });
const bundle = (entry, outfile) =>
  build({ entryPoints: [entry], outfile, bundle: true, format: "esm", platform: "node", target: "node20", logLevel: "warning" });
await bundle(`${work}/ref/src/core/exposition.ts`, `${work}/ref.mjs`);
await bundle("src/core/exposition.ts", `${work}/tree.mjs`);
await bundle("test/bench/parser-compare.ts", `${work}/compare.mjs`);
const env = { ...process.env };
delete env.NODE_EXTRA_CA_CERTS;
execFileSync(process.execPath, [`${work}/compare.mjs`, `${process.cwd()}/${work}/ref.mjs`, `${process.cwd()}/${work}/tree.mjs`, ref], { stdio: "inherit", env });
