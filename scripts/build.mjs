// Bundles the CLI into dist/ so that a run loads a few files instead of hundreds of modules.
//
// esbuild splits the bundle at pushgw's dynamic import()s, so the code only some commands need
// (undici, execa, the spool) sits in chunks of its own that other runs never read or parse.
// Each output file is then turned into CommonJS, inside the function wrapper Node would put around
// it: bin/pushgw runs them through vm.Script with a V8 code cache of pushgw's own
// (src/adapters/v8-code-cache.ts). Run so, dist/pushgw.cjs exports main(argv); dist/launch.cjs
// is the launcher.
//
//   node scripts/build.mjs [DIRECTORY]   into DIRECTORY instead of dist/ (scripts/standalone.mjs)
import { build, transform } from "esbuild";
import { editPackages } from "./esbuild-edits.mjs";
import { createHash } from "node:crypto";
import { readFile, readdir, rm, writeFile } from "node:fs/promises";
import { resolve } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";

const dist = process.argv[2] ? pathToFileURL(`${resolve(process.argv[2])}/`) : new URL("../dist/", import.meta.url);
// The function Node puts around a CommonJS module, on the first line so that line numbers in
// stack traces stay those of the file. The launcher is told it, to tell a file of an older
// build (which it wraps itself) from one of this build.
const COMMONJS_WRAPPER = "(function (exports, require, module, __filename, __dirname) {";
const pkg = JSON.parse(await readFile(new URL("../package.json", import.meta.url), "utf8"));
await rm(dist, { recursive: true, force: true });

const { metafile } = await build({
  entryPoints: { pushgw: "src/cli/main.ts" },
  outdir: fileURLToPath(dist),
  outExtension: { ".js": ".cjs" },
  bundle: true,
  splitting: true,
  format: "esm",
  platform: "node",
  target: "node20",
  // Smaller text parses faster, and parsing is most of a run's start-up.
  minifyWhitespace: true,
  minifySyntax: true,
  keepNames: false,
  // yargs, chalk, undici and execa are bundled, so the package installs with no dependencies;
  // their licence notices go beside the bundle.
  legalComments: "external",
  logLevel: "warning",
  define: { __PUSHGW_VERSION__: JSON.stringify(pkg.version) },
  alias: { "string-width": fileURLToPath(new URL("./shims/string-width.mjs", import.meta.url)) },
  plugins: [editPackages],
  metafile: true,
});

// For each file, the files it requires as it is evaluated (its static imports, all the way
// down, in the order they run): the launcher compiles them together (src/adapters/v8-code-cache.ts).
const outputName = (path) => path.slice(path.lastIndexOf("/") + 1);
const staticImports = {};
for (const [path, output] of Object.entries(metafile.outputs)) {
  if (!path.endsWith(".cjs")) continue;
  const closure = [];
  const visit = (file) => {
    for (const imported of metafile.outputs[file].imports) {
      if (imported.kind !== "import-statement" || imported.external) continue;
      const name = outputName(imported.path);
      if (closure.includes(name) || name === outputName(path)) continue;
      closure.push(name);
      visit(imported.path);
    }
  };
  visit(path);
  if (output.imports.length > 0 && closure.length > 0) staticImports[outputName(path)] = closure;
}

// To CommonJS, file by file: imports between chunks become require()s, dynamic import()s
// become lazy require()s, and import.meta.url (yargs reads it for createRequire) is the file's
// own URL, as it was in ES module form.
const outputs = (await readdir(dist)).filter((name) => name.endsWith(".cjs")).sort();
const contents = new Map();
for (const name of outputs) {
  const esm = await readFile(new URL(name, dist), "utf8");
  const { code } = await transform(esm, {
    format: "cjs",
    target: "node20",
    minifyWhitespace: true,
    minifySyntax: true,
    define: { "import.meta.url": "__pushgwFileUrl" },
    // import("./chunk.cjs") becomes a lazy require(), so chunks load through the same loader.
    supported: { "dynamic-import": false },
    banner: esm.includes("import.meta.url") ? 'var __pushgwFileUrl = require("node:url").pathToFileURL(__filename).href;' : "",
    logLevel: "warning",
  });
  // Written inside the wrapper Node puts around a CommonJS module: the launcher hands the text to
  // V8 as it is read, where wrapping it at every start copied the whole bundle once more.
  contents.set(name, `${COMMONJS_WRAPPER}${code}\n})`);
}
for (const [name, code] of contents) await writeFile(new URL(name, dist), code);

// The launcher keys its caches by the build, hashed here once rather than at every start.
const buildHash = createHash("sha256");
for (const [name, code] of contents) buildHash.update(name).update("\0").update(code).update("\0");
await build({
  // The launcher, small, since it is compiled afresh at every start.
  entryPoints: { launch: "src/adapters/v8-code-cache.ts" },
  outdir: fileURLToPath(dist),
  outExtension: { ".js": ".cjs" },
  bundle: true,
  format: "cjs",
  platform: "node",
  target: "node20",
  minifyWhitespace: true,
  minifySyntax: true,
  logLevel: "warning",
  define: { __PUSHGW_BUILD_HASH__: JSON.stringify(buildHash.digest("hex").slice(0, 16)), __PUSHGW_STATIC_IMPORTS__: JSON.stringify(staticImports), __PUSHGW_COMMONJS_WRAPPER__: JSON.stringify(COMMONJS_WRAPPER) },
});
